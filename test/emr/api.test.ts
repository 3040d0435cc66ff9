// The EMR viewer API in the running application (engine + HIS module + EMR module over a demo HIS):
// login and roles, patient search by name/CCCD/BHYT/MA_BN, timeline, a document rendered with its
// signature status (INVALID after tampering), lab trends, vitals with NEWS2, imaging studies with the
// thumbnail a real DICOM node rendered, CDA download and print view, corrections, audit rows.
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { hisModule } from '../../connectors/his-db';
import type { HisDatabase } from '../../connectors/his-db/his-database';
import { storeFiles } from '../../connectors/dicom/scu';
import { dicomNodes } from '../../connectors/dicom/source';
import { emrModule, type EmrModule } from '../../emr/module';
import type { Result } from '../../model';
import { startTestApp, type TestApp } from '../helpers/app';
import { nextEvent, startNode, studyForOrder, writeStudy, type TestNode } from '../dicom/helpers';
import { smallDemoHis } from './helpers';

describe('emr: viewer API in the application', function () {
  this.timeout(300_000);
  let his: Awaited<ReturnType<typeof smallDemoHis>>;
  let app: TestApp;
  let emr: EmrModule;
  let clinician: string;
  let demoPatient: string;

  before(async () => {
    his = await smallDemoHis();
    emr = emrModule({ firstStartBuild: true, firstStartVisits: 40, waitForFirstStartBuild: true });
    app = await startTestApp({ modules: [hisModule({ connection: { type: 'sqlite', file: his.file } }), emr] });
    clinician = await app.tokenFor('clinician');
    demoPatient = emr.build.demoPatient!;
  });
  after(async () => {
    await app?.cleanup();
    his?.cleanup();
  });

  const get = (url: string, token = clinician) => app.api('GET', `/api/emr${url}`, token);

  it('documents the demo HIS at first start and reports it', async () => {
    const status = await get('/status');
    assert.equal(status.status, 200);
    assert.equal(status.body.firstStartBuild.state, 'done');
    assert.ok(status.body.firstStartBuild.visitsDone >= 40);
    assert.deepEqual(status.body.firstStartBuild.errors, []);
    assert.equal(status.body.documents, status.body.firstStartBuild.created);
    assert.ok(status.body.documents >= 60, `${status.body.documents} documents`);
    assert.equal(status.body.facility.code, '01999');
    assert.match(status.body.signer.subject, /hisbridge document signing/);
    assert.ok(demoPatient);
  });

  it('needs a login and the emr:read permission (clinician, admin), not other roles', async () => {
    assert.equal((await app.api('GET', '/api/emr/status')).status, 401);
    assert.equal((await get('/status', await app.tokenFor('viewer'))).status, 403);
    assert.equal((await get('/status', await app.tokenFor('operator'))).status, 403);
    assert.equal((await get('/status', await app.tokenFor('admin'))).status, 200);
  });

  it('finds the demo patient by name with or without diacritics, CCCD, BHYT card and MA_BN', async () => {
    const patient = (await app.engine.lookup<HisDatabase>('his')!.patientById(demoPatient))!;
    const cccd = patient.identifiers.find((i) => i.system === 'CCCD')?.value;
    const bhyt = patient.identifiers.find((i) => i.system === 'BHYT')?.value;
    const queries = [patient.name.full, patient.name.full.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toLowerCase(), demoPatient, cccd, bhyt].filter((q): q is string => !!q);
    assert.ok(queries.length >= 4);
    for (const q of queries) {
      const res = await get(`/patients?q=${encodeURIComponent(q)}`);
      assert.equal(res.status, 200, q);
      assert.ok(
        res.body.patients.some((p: any) => p.id === demoPatient && p.inEmr),
        `${q} → ${JSON.stringify(res.body.patients.map((p: any) => p.id))}`,
      );
    }
    assert.equal((await get('/patients?q=x')).status, 400);
  });

  it('finds a patient the EMR has no documents for through the HIS', async () => {
    const hisDb = app.engine.lookup<HisDatabase>('his')!;
    const visits = await hisDb.visitsForClaims({ from: '2000-01-01T00:00:00+07:00', to: '2100-01-01T00:00:00+07:00', insuredOnly: false, limit: 1000 });
    const known = new Set((await Promise.all(visits.map((v) => v.patientId))).filter((id) => emr.service!.store.patient(id)));
    const other = visits.find((v) => !known.has(v.patientId))!;
    const res = await get(`/patients?q=${other.patientId}`);
    assert.equal(res.status, 200);
    assert.deepEqual(res.body.patients.map((p: any) => [p.id, p.inEmr, p.documents]), [[other.patientId, false, 0]]);
  });

  it('shows the timeline and a document rendered from the signed CDA with its signature status', async () => {
    const timeline = await get(`/patients/${demoPatient}/timeline`);
    assert.equal(timeline.status, 200);
    const docs = timeline.body.documents as any[];
    assert.ok(docs.length >= 3);
    assert.ok(docs.every((d, i) => i === 0 || Date.parse(docs[i - 1].serviceAt) >= Date.parse(d.serviceAt)), 'newest first');
    const lab = docs.find((d) => d.type === 'lab-report');
    const res = await get(`/documents/${lab.id}`);
    assert.equal(res.status, 200);
    assert.equal(res.body.signature.status, 'valid');
    assert.match(res.body.html, /data-signature="valid"/);
    assert.match(res.body.html, /Chữ ký số HỢP LỆ/);
    assert.match(res.body.html, /Phiếu kết quả xét nghiệm/);
    assert.match(res.body.html, /<table>|<table class/);
    assert.ok(!/<script/i.test(res.body.html));
    const en = await get(`/documents/${lab.id}?lang=en`);
    assert.match(en.body.html, /Digital signature VALID/);
    assert.equal((await get('/documents/does-not-exist')).status, 404);
    assert.equal((await get(`/patients/${demoPatient}/timeline?types=nonsense`)).status, 400);
  });

  it('serves the signed CDA and a print page', async () => {
    const doc = (await get(`/patients/${demoPatient}/timeline?types=discharge-summary`)).body.documents[0];
    const res = await fetch(`${app.apiUrl}/api/emr/documents/${doc.id}/cda`, { headers: { authorization: `Bearer ${clinician}` } });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type')!, /application\/xml/);
    assert.equal(res.headers.get('x-signature-status'), 'valid');
    const xml = await res.text();
    assert.ok(xml.startsWith('<?xml version="1.0" encoding="UTF-8"?>\n<ClinicalDocument xmlns="urn:hl7-org:v3">'));
    assert.ok(xml.includes('<ds:Signature'));
    const print = await fetch(`${app.apiUrl}/api/emr/documents/${doc.id}/print`, { headers: { authorization: `Bearer ${clinician}` } });
    const html = await print.text();
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /Tóm tắt hồ sơ bệnh án ra viện/);
    assert.match(print.headers.get('content-security-policy')!, /default-src 'none'/);
  });

  it('gives lab trends, vitals with NEWS2 and the score bands', async () => {
    const labs = await get(`/patients/${demoPatient}/labs`);
    assert.equal(labs.status, 200);
    assert.ok(labs.body.series.length > 0);
    const longest = [...labs.body.series].sort((a: any, b: any) => b.points.length - a.points.length)[0];
    assert.ok(longest.points.length >= 2, `the demo patient has a trend (${longest.name}: ${longest.points.length} points)`);
    assert.ok(longest.points.every((p: any, i: number, all: any[]) => i === 0 || Date.parse(all[i - 1].at) <= Date.parse(p.at)));
    const one = await get(`/patients/${demoPatient}/labs?code=${encodeURIComponent(longest.code)}`);
    assert.deepEqual(one.body.series.map((s: any) => s.code), [longest.code]);
    const vitals = await get(`/patients/${demoPatient}/vitals`);
    assert.equal(vitals.status, 200);
    assert.ok(Object.keys(vitals.body.series).includes('8867-4'));
    assert.ok(vitals.body.news2.length > 0);
    // The demo HIS records no respiratory rate or ACVPU: NEWS2 is reported incomplete, not guessed.
    assert.ok(vitals.body.news2.every((n: any) => n.complete === false && n.missing.includes('respiratoryRate')));
    assert.deepEqual(Object.keys(vitals.body.bands).sort(), ['pulse', 'respiratoryRate', 'spo2', 'systolic', 'temperature']);
    assert.equal(vitals.body.bands.pulse.bands[0].from, null);
  });

  it('lists imaging studies, with the thumbnail a DICOM node rendered for the study', async () => {
    const hisDb = app.engine.lookup<HisDatabase>('his')!;
    // A patient with an imaging report in the EMR.
    const imagingDoc = emr.service!.store.db.prepare(`SELECT id, patient_id FROM documents WHERE type = 'imaging-report' LIMIT 1`).get() as any;
    assert.ok(imagingDoc, 'the demo has imaging reports');
    const before = await get(`/patients/${imagingDoc.patient_id}/imaging`);
    assert.equal(before.status, 200);
    const study = before.body.studies[0];
    assert.ok(study.studyInstanceUid && study.accessionNumber && study.conclusion);
    assert.equal(study.thumbnail, null, 'no DICOM node holds it yet: metadata only');
    assert.equal(study.inPacs, false);

    // The modality sends the study to our DICOM node; when it completes, a thumbnail is rendered.
    let node: TestNode | undefined;
    try {
      node = await startNode({ remotes: [{ aeTitle: 'EMR_TEST_SCU' }], reconciliation: { quietPeriodSeconds: 1 } }, () => hisDb);
      dicomNodes.set('emr-test-dicom', node.node);
      const order = (await hisDb.orderByAccession(study.accessionNumber))!;
      const patient = await hisDb.patientById(order.patientId);
      const files = writeStudy(path.join(node.dir, 'out'), studyForOrder(order, patient, study.studyInstanceUid), 3);
      const completed = nextEvent(node.node, 'study-complete', (c: any) => c.study.study_uid === study.studyInstanceUid, 60_000);
      const results = await storeFiles({ host: '127.0.0.1', port: node.port, callingAeTitle: 'EMR_TEST_SCU', calledAeTitle: 'HISBRIDGE' }, files.map((f) => f.file));
      assert.ok(results.every((r) => r.status === 0), JSON.stringify(results));
      await completed;
      const after = await get(`/patients/${imagingDoc.patient_id}/imaging`);
      const withThumb = after.body.studies.find((s: any) => s.studyInstanceUid === study.studyInstanceUid);
      assert.equal(withThumb.inPacs, true);
      assert.equal(withThumb.instanceCount, 3);
      assert.ok(withThumb.thumbnail, JSON.stringify(withThumb));
      const png = await fetch(`${app.apiUrl}/api/emr/${withThumb.thumbnail}`, { headers: { authorization: `Bearer ${clinician}` } });
      assert.equal(png.status, 200);
      assert.equal(png.headers.get('content-type'), 'image/png');
      const bytes = Buffer.from(await png.arrayBuffer());
      assert.deepEqual([...bytes.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
    } finally {
      dicomNodes.delete('emr-test-dicom');
      await node?.stop();
    }
    assert.equal((await get('/imaging/1.2.3.4/thumbnail')).status, 404);
  });

  it('a corrected result becomes version 2 of the lab report; the viewer shows the current one and the history', async () => {
    const hisDb = app.engine.lookup<HisDatabase>('his')!;
    const labDoc = (await get(`/patients/${demoPatient}/timeline?types=lab-report`)).body.documents[0];
    const order = labDoc.sourceKey.replace('lab-report:', '');
    const { results } = await hisDb.resultsForVisit(labDoc.maLk);
    const first = results.find((r) => r.orderId === order && r.valueType === 'numeric')!;
    const corrected: Result = { ...first, value: String(Number(first.value) + 1), status: 'corrected', comment: 'Hiệu chỉnh sau khi chạy lại mẫu' };
    await hisDb.writeResults({ orderId: order, results: [corrected] }, { idempotencyKey: 'emr-test-correction' });
    const outcomes = await emr.service!.buildForVisit(hisDb, labDoc.maLk);
    const outcome = outcomes.find((o) => o.sourceKey === labDoc.sourceKey)!;
    assert.equal(outcome.status, 'corrected');
    // The vitals did not change; the discharge summary (if the visit has one) lists the results, so it is corrected too.
    for (const o of outcomes) {
      const expected = o.sourceKey === labDoc.sourceKey || o.type === 'discharge-summary' ? 'corrected' : 'unchanged';
      assert.equal(o.status, expected, JSON.stringify(outcomes.map((x) => [x.sourceKey, x.status])));
    }
    const view = await get(`/documents/${outcome.document!.id}`);
    assert.deepEqual(view.body.versions.map((v: any) => [v.version, v.status]), [
      [1, 'superseded'],
      [2, 'current'],
    ]);
    assert.match(view.body.html, /Thay thế văn bản/);
    const old = await get(`/documents/${labDoc.id}`);
    assert.equal(old.body.document.status, 'superseded');
    assert.equal(old.body.signature.status, 'valid');
    const timeline = (await get(`/patients/${demoPatient}/timeline?types=lab-report`)).body.documents;
    assert.ok(!timeline.some((d: any) => d.id === labDoc.id));
    assert.ok(timeline.some((d: any) => d.id === outcome.document!.id));
  });

  it('shows a tampered document as INVALID, never silently', async () => {
    const doc = (await get(`/patients/${demoPatient}/timeline?types=vital-signs`)).body.documents[0];
    const db = new Database(path.join(app.config.dataDir, 'emr', 'emr.db'));
    try {
      db.exec('DROP TRIGGER IF EXISTS document_content_immutable');
      const row = db.prepare('SELECT c.doc_no, c.xml FROM document_content c JOIN documents d ON d.doc_no = c.doc_no WHERE d.id = ?').get(doc.id) as any;
      const changed = Buffer.from(row.xml.toString('utf8').replace(/<td>(\d+)<\/td>/, (_m: string, n: string) => `<td>${Number(n) + 10}</td>`));
      db.prepare('UPDATE document_content SET xml = ? WHERE doc_no = ?').run(changed, row.doc_no);
    } finally {
      db.close();
    }
    const res = await get(`/documents/${doc.id}`);
    assert.equal(res.body.signature.status, 'invalid');
    assert.match(res.body.html, /data-signature="invalid"/);
    assert.match(res.body.html, /CHỮ KÝ SỐ KHÔNG HỢP LỆ \(INVALID\)/);
    assert.match(res.body.html, /changed after signing/);
    const cda = await fetch(`${app.apiUrl}/api/emr/documents/${doc.id}/cda`, { headers: { authorization: `Bearer ${clinician}` } });
    assert.equal(cda.headers.get('x-signature-status'), 'invalid');
  });

  it('writes an audit row for each read the clinician made', async () => {
    const admin = await app.tokenFor('admin');
    const me = await app.api('GET', '/api/me', clinician);
    const log = await app.api('GET', `/api/audit?username=${me.body.username}&limit=1000`, admin);
    const actions = new Set((log.body.entries as any[]).map((e) => e.action));
    for (const action of ['emr-search-patients', 'emr-timeline', 'emr-read-document', 'emr-export-cda', 'emr-print-document', 'emr-lab-trends', 'emr-vitals', 'emr-imaging', 'emr-imaging-thumbnail']) {
      assert.ok(actions.has(action), `no ${action} in ${[...actions].join(', ')}`);
    }
    const invalidRead = (log.body.entries as any[]).find((e) => e.action === 'emr-read-document' && /signature invalid/.test(e.detail));
    assert.ok(invalidRead, 'the read of the tampered document is audited with its status');
    assert.ok((log.body.entries as any[]).filter((e) => e.action === 'emr-read-document').every((e) => e.patientId && e.target.startsWith('document:')));
    assert.ok(fs.existsSync(path.join(app.config.dataDir, 'emr', 'emr.db')));
  });
});

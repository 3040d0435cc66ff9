// The document store: index and timeline, patient search, an audit row for every read (the engine's
// SecurityStore), idempotent rebuilds, corrections as new versions (RPLC) that never overwrite, the
// database refusing changes, and tampering with the stored bytes or the index shown as INVALID.
import Database from 'better-sqlite3';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SecurityStore } from '../../engine/auth/security-store';
import { EmrService } from '../../emr/service';
import { verifyDocument } from '../../emr/sign/signer';
import { DocumentStore } from '../../emr/store/document-store';
import { assessments, context, facility, imagingOrder, imagingReport, labOrder, labResults, medications, oids, patient, radiologist, tempDir, testCerts, visit, vitals } from './helpers';

describe('emr: document store', function () {
  this.timeout(120_000);
  let dir: string;
  let certs: ReturnType<typeof testCerts>;
  let security: SecurityStore;
  let store: DocumentStore;
  let service: EmrService;
  const reader = { username: 'bs.huong', remote: '10.0.0.7' };

  beforeEach(() => {
    dir = tempDir('hisbridge-emr-store-');
    certs = testCerts();
    security = new SecurityStore(path.join(dir, 'security.db'));
    const trust = certs.trust();
    store = new DocumentStore(path.join(dir, 'emr.db'), security, (xml) => verifyDocument(xml, trust));
    service = new EmrService({ store, oids, identity: certs.identity, facility });
  });
  afterEach(() => {
    store.close();
    security.close();
    certs.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  function publishAll() {
    return [
      service.publish('lab-report', context({ authoredAt: '2026-11-16T09:00:00+07:00' }), { order: labOrder, results: labResults() }, `lab-report:${labOrder.id}`),
      service.publish('imaging-report', context({ author: radiologist }), { report: imagingReport, order: imagingOrder }, `imaging-report:${imagingReport.accessionNumber}`),
      service.publish('vital-signs', context(), { observations: vitals(), assessments }, `vital-signs:${visit.maLk}`),
      service.publish('discharge-summary', context(), { visit, results: labResults(), reports: [imagingReport], medications }, `discharge-summary:${visit.maLk}`),
    ];
  }

  it('indexes documents by patient, visit, type and date; the timeline is newest first with a cursor', () => {
    const outcomes = publishAll();
    assert.deepEqual(
      outcomes.map((o) => o.status),
      ['created', 'created', 'created', 'created'],
    );
    const all = store.timeline(patient.id);
    assert.deepEqual(
      all.documents.map((d) => d.type),
      ['discharge-summary', 'vital-signs', 'lab-report', 'imaging-report'],
    );
    assert.ok(all.documents.every((d) => d.maLk === visit.maLk && d.status === 'current' && d.version === 1));
    const page1 = store.timeline(patient.id, { limit: 2 });
    const page2 = store.timeline(patient.id, { limit: 2, before: page1.next! });
    assert.deepEqual([...page1.documents, ...page2.documents].map((d) => d.id), all.documents.map((d) => d.id));
    assert.deepEqual(store.timeline(patient.id, { types: ['lab-report', 'imaging-report'] }).documents.map((d) => d.type), ['lab-report', 'imaging-report']);
    assert.deepEqual(store.timeline(patient.id, { from: new Date('2026-11-16T00:00:00+07:00'), to: new Date('2026-11-17T00:00:00+07:00') }).documents.map((d) => d.type), ['lab-report']);
    assert.throws(() => store.timeline(patient.id, { before: 'garbage' }), /not a timeline cursor/);
    assert.equal(store.timeline('nobody').documents.length, 0);
  });

  it('finds patients by name (without diacritics too), CCCD, BHYT card and MA_BN', () => {
    publishAll();
    for (const q of ['Nguyễn Thị Thu Hương', 'nguyen thi thu huong', 'THU HUONG', 'hương', '001085012345', 'DN4010123456789', 'dn4010123456789', 'BN-TEST-001']) {
      const found = store.searchPatients(q);
      assert.deepEqual(
        found.map((p) => p.id),
        ['BN-TEST-001'],
        q,
      );
    }
    assert.equal(store.searchPatients('Trần')[0]?.id, undefined);
    assert.equal(store.searchPatients('%')[0]?.id, undefined, 'LIKE wildcards are taken literally');
    const p = store.patient('BN-TEST-001')!;
    assert.equal(p.documents, 4);
    assert.equal(p.cccd, '001085012345');
  });

  it('writes an audit row for every document read, with who, which document, patient and signature status', () => {
    const [lab, imaging] = publishAll();
    const before = security.auditLog({ limit: 1000 }).length;
    const first = store.read(lab.document!.id, reader);
    store.read(lab.document!.id, { username: 'dd.lan' });
    store.read(imaging.document!.id, reader);
    assert.throws(() => store.read('no-such-document', reader), /not found/);
    const entries = security.auditLog({ limit: 1000 }).slice(0, security.auditLog({ limit: 1000 }).length - before);
    assert.equal(entries.length, 4);
    const [missing, third, second, firstEntry] = entries;
    assert.deepEqual([firstEntry.username, firstEntry.action, firstEntry.target, firstEntry.patientId, firstEntry.remote], ['bs.huong', 'emr-read-document', `document:${lab.document!.id}`, 'BN-TEST-001', '10.0.0.7']);
    assert.match(firstEntry.detail!, /^lab-report v1; signature valid$/);
    assert.equal(second.username, 'dd.lan');
    assert.equal(third.target, `document:${imaging.document!.id}`);
    assert.equal(missing.action, 'emr-read-document-missing');
    assert.equal(first.verification.status, 'valid');
  });

  it('republishing the same data keeps the document; corrected data makes version 2 replacing version 1 (RPLC)', () => {
    const [created] = publishAll();
    const again = service.publish('lab-report', context({ authoredAt: '2026-11-16T09:00:00+07:00' }), { order: labOrder, results: labResults() }, `lab-report:${labOrder.id}`);
    assert.equal(again.status, 'unchanged');
    assert.equal(again.document!.id, created.document!.id);

    // The analyser's glucose was wrong: the corrected result arrives.
    const corrected = labResults({ GLU: '6.10' }).map((r) => (r.code === 'GLU' ? { ...r, status: 'corrected' as const, abnormalFlag: 'N' as const } : r));
    const v2 = service.publish('lab-report', context({ authoredAt: '2026-11-16T10:00:00+07:00' }), { order: labOrder, results: corrected }, `lab-report:${labOrder.id}`);
    assert.equal(v2.status, 'corrected');
    assert.equal(v2.document!.version, 2);
    assert.equal(v2.document!.setId, created.document!.setId);
    assert.equal(v2.document!.replaces, created.document!.id);

    const old = store.read(created.document!.id, reader);
    assert.equal(old.meta.status, 'superseded');
    assert.equal(old.meta.supersededBy, v2.document!.id);
    assert.equal(old.verification.status, 'valid', 'the replaced version is kept, byte for byte, and still verifies');
    assert.ok(old.xml.includes('value="7.80"'));
    const fresh = store.read(v2.document!.id, reader);
    assert.ok(fresh.xml.includes('<relatedDocument typeCode="RPLC"><parentDocument>'));
    assert.ok(fresh.xml.includes(`extension="${created.document!.id}"`));
    assert.ok(fresh.xml.includes('value="6.10"'));

    assert.deepEqual(store.versions(created.document!.setId).map((d) => [d.version, d.status]), [
      [1, 'superseded'],
      [2, 'current'],
    ]);
    assert.deepEqual(store.timeline(patient.id, { types: ['lab-report'] }).documents.map((d) => d.version), [2]);
    assert.deepEqual(store.timeline(patient.id, { types: ['lab-report'], includeSuperseded: true }).documents.map((d) => d.version).sort(), [1, 2]);
    const glucose = store.labSeries(patient.id, '2345-7');
    assert.deepEqual(glucose[0].points.map((p) => p.value), [6.1], 'trends show the corrected value only');
    assert.equal((store.fhirRead('DocumentReference', created.document!.id) as any).status, 'superseded');
    assert.equal((store.fhirRead('DocumentReference', v2.document!.id) as any).relatesTo[0].target.reference, `DocumentReference/${created.document!.id}`);
    assert.equal(store.fhirSearch('Observation', { patientId: patient.id, limit: 100 }).resources.filter((o: any) => o.code.text?.includes('Glucose')).length, 1);
  });

  it('the database refuses to change or delete a stored document', () => {
    const [lab] = publishAll();
    const db = store.db;
    const docNo = (db.prepare('SELECT doc_no FROM documents WHERE id = ?').get(lab.document!.id) as any).doc_no;
    assert.throws(() => db.prepare('UPDATE document_content SET xml = ? WHERE doc_no = ?').run(Buffer.from('x'), docNo), /never changed/);
    assert.throws(() => db.prepare('DELETE FROM document_content WHERE doc_no = ?').run(docNo), /never deleted/);
    assert.throws(() => db.prepare('UPDATE documents SET patient_id = ? WHERE doc_no = ?').run('BN-OTHER', docNo), /never changed/);
    assert.throws(() => db.prepare('DELETE FROM documents WHERE doc_no = ?').run(docNo), /never deleted/);
    db.prepare('UPDATE documents SET superseded_by = ? WHERE doc_no = ?').run('x', docNo);
    assert.throws(() => db.prepare('UPDATE documents SET superseded_by = ? WHERE doc_no = ?').run('y', docNo), /superseded only once/);
  });

  describe('tampering behind the store’s back is shown as INVALID', () => {
    /** Opens the database file as an attacker would, drops the guard triggers, runs the change. */
    function tamper(sql: string, ...params: unknown[]) {
      const db = new Database(path.join(dir, 'emr.db'));
      try {
        db.exec('DROP TRIGGER IF EXISTS document_content_immutable; DROP TRIGGER IF EXISTS documents_immutable;');
        db.prepare(sql).run(...params);
      } finally {
        db.close();
      }
    }

    it('a changed result value', () => {
      const [lab] = publishAll();
      const { xml } = store.read(lab.document!.id, reader);
      tamper('UPDATE document_content SET xml = ? WHERE doc_no = (SELECT doc_no FROM documents WHERE id = ?)', Buffer.from(xml.replace('value="7.80"', 'value="5.80"')), lab.document!.id);
      const read = store.read(lab.document!.id, reader);
      assert.equal(read.verification.status, 'invalid');
      assert.match(read.verification.reason!, /changed after signing/);
      assert.match(security.auditLog({ limit: 1 })[0].detail!, /signature invalid: .*changed after signing/);
    });

    it('any one-byte change of the stored bytes, including ones XML canonicalization ignores (about 120 positions)', () => {
      const [, imaging] = publishAll();
      const { xml } = store.read(imaging.document!.id, reader);
      const bytes = Buffer.from(xml, 'utf8');
      // Evenly spread positions plus the ones XML-DSig alone cannot see: the declaration, a space
      // between attributes, an attribute's quote.
      const positions = new Set<number>([0, 10, bytes.indexOf(' root='), bytes.indexOf('"urn:hl7-org:v3"')]);
      for (let k = 1; k <= 116; k++) positions.add(Math.floor((k * (bytes.length - 1)) / 117));
      for (const index of positions) {
        const copy = Buffer.from(bytes);
        copy[index] = copy[index] === 0x20 ? 0x09 : copy[index] === 0x22 ? 0x27 : copy[index] === 0x78 ? 0x79 : 0x78;
        tamper('UPDATE document_content SET xml = ? WHERE doc_no = (SELECT doc_no FROM documents WHERE id = ?)', copy, imaging.document!.id);
        const read = store.read(imaging.document!.id, reader);
        assert.equal(read.verification.status, 'invalid', `byte ${index} changed (${JSON.stringify(xml.slice(Math.max(0, index - 15), index + 15))}) but the read says valid`);
      }
    });

    it('an index row pointing a document at another patient', () => {
      const [lab] = publishAll();
      tamper('UPDATE documents SET patient_id = ? WHERE id = ?', 'BN-OTHER', lab.document!.id);
      const read = store.read(lab.document!.id, reader);
      assert.equal(read.verification.status, 'invalid');
      assert.match(read.verification.reason!, /names another patient/);
    });
  });
});

// Conformance with DCMTK (echoscu, findscu -W, storescu) against our SCP, with the demo HIS behind it.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { requirePeers } from '../helpers/peers';
import { dcmtk, nextEvent, openDemoHis, startNode, studyForOrder, tempDir, worklistQueryFile, worklistWindowOrders, writeStudy, OUR_AE, type DemoHis, type TestNode } from './helpers';
import { personName } from '../../connectors/dicom/worklist/items';
import { readPart10Layout } from '../../connectors/dicom/dataset/part10';
import type { ImagingOrder } from '../../model';

const remotes = [
  { aeTitle: 'ECHOSCU' },
  { aeTitle: 'FINDSCU' },
  { aeTitle: 'STORESCU' },
  { aeTitle: 'OLD_CR', asciiNames: true },
  { aeTitle: 'LOCKED', addresses: ['10.9.9.9'] },
];

describe('dicom: conformance with DCMTK', function () {
  this.timeout(60_000);
  let demo: DemoHis;
  let t: TestNode;
  let work: string;

  before(async function () {
    requirePeers(this, 'echoscu', 'findscu', 'storescu', 'dump2dcm', 'dcmdump');
    demo = await openDemoHis();
    work = tempDir();
  });
  after(async () => {
    await demo?.close();
    if (work) fs.rmSync(work, { recursive: true, force: true });
  });
  beforeEach(async () => {
    t = await startNode({ remotes, worklist: { cacheSeconds: 0 }, reconciliation: { quietPeriodSeconds: 0.5 } }, () => demo.his);
  });
  afterEach(async () => t && (await t.stop()));

  it('echoscu: success for a known AE; unknown calling AE, wrong address and wrong called AE are rejected with the right reason', async () => {
    const ok = await dcmtk('echoscu', ['-aet', 'ECHOSCU', '-aec', OUR_AE, '127.0.0.1', String(t.port)]);
    assert.equal(ok.code, 0, ok.stderr);
    const unknown = await dcmtk('echoscu', ['-aet', 'STRANGER', '-aec', OUR_AE, '127.0.0.1', String(t.port)]);
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /Rejected Permanent.*Service User.*Calling AE Title Not Recognized/s);
    const locked = await dcmtk('echoscu', ['-aet', 'LOCKED', '-aec', OUR_AE, '127.0.0.1', String(t.port)]);
    assert.match(locked.stderr, /Calling AE Title Not Recognized/);
    const called = await dcmtk('echoscu', ['-aet', 'ECHOSCU', '-aec', 'SOMEONE_ELSE', '127.0.0.1', String(t.port)]);
    assert.match(called.stderr, /Called AE Title Not Recognized/);
    assert.equal(t.node.counters.rejectedAssociations, 3);
  });

  it('findscu -W returns the demo HIS scheduled imaging orders with Vietnamese names intact', async () => {
    const orders = await worklistWindowOrders(demo.his);
    assert.ok(orders.length > 0, 'the demo HIS has orders scheduled today');
    const query = await worklistQueryFile(
      work,
      'all-today',
      `(0008,0005) CS [ISO_IR 192]
(0008,0050) SH []
(0010,0010) PN []
(0010,0020) LO []
(0010,0030) DA []
(0010,0040) CS []
(0020,000d) UI []
(0040,1001) SH []
(0040,0100) SQ
(fffe,e000) -
(0008,0060) CS []
(0040,0001) AE []
(0040,0002) DA []
(0040,0003) TM []
(0040,0007) LO []
(0040,0009) SH []
(fffe,e00d) -
(fffe,e0dd) -
`,
    );
    const out = path.join(work, 'responses');
    fs.mkdirSync(out, { recursive: true });
    const r = await dcmtk('findscu', ['-W', '-aet', 'FINDSCU', '-aec', OUR_AE, '-X', '-od', out, '127.0.0.1', String(t.port), query]);
    assert.equal(r.code, 0, r.stderr);
    const files = fs.readdirSync(out).filter((f) => f.endsWith('.dcm'));
    assert.equal(files.length, orders.length, 'one response per scheduled order');
    // Read the responses back with dcmdump (DCMTK decodes ISO_IR 192 to UTF-8 text).
    const names = new Set<string>();
    const accessions = new Set<string>();
    for (const f of files) {
      const dump = await dcmtk('dcmdump', ['+U8', path.join(out, f)]);
      const name = /\(0010,0010\) PN \[([^\]]*)\]/.exec(dump.stdout)?.[1];
      const acc = /\(0008,0050\) SH \[([^\]]*)\]/.exec(dump.stdout)?.[1];
      assert.match(dump.stdout, /\(0008,0005\) CS \[ISO_IR 192\]/);
      if (name) names.add(name.trim());
      if (acc) accessions.add(acc.trim());
    }
    for (const order of orders) {
      const patient = await demo.his.patientById(order.patientId);
      assert.ok(names.has(personName(patient?.name)), `name of ${order.accessionNumber} (${personName(patient?.name)}) intact`);
      assert.ok(accessions.has(order.accessionNumber));
    }
    assert.ok([...names].some((n) => /[ăâđêôơưạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ]/i.test(n)), 'diacritics survived');
  });

  it('findscu -W with matching keys: modality and station AE, patient name wildcard, accession', async () => {
    const orders = await worklistWindowOrders(demo.his);
    const target = orders[0];
    const patient = await demo.his.patientById(target.patientId);
    const family = patient!.name.family!;
    const run = async (name: string, dump: string) => {
      const query = await worklistQueryFile(work, name, dump);
      const dir = path.join(work, `r-${name}`);
      fs.mkdirSync(dir, { recursive: true });
      const r = await dcmtk('findscu', ['-W', '-aet', 'FINDSCU', '-aec', OUR_AE, '-X', '-od', dir, '127.0.0.1', String(t.port), query]);
      assert.equal(r.code, 0, r.stderr);
      return fs.readdirSync(dir).length;
    };
    const byStation = await run(
      'station',
      `(0010,0010) PN []\n(0040,0100) SQ\n(fffe,e000) -\n(0008,0060) CS [${target.modality}]\n(0040,0001) AE [${target.scheduledStationAeTitle}]\n(fffe,e00d) -\n(fffe,e0dd) -\n`,
    );
    assert.equal(byStation, orders.filter((o) => o.modality === target.modality && o.scheduledStationAeTitle === target.scheduledStationAeTitle).length);
    const byAccession = await run('accession', `(0008,0050) SH [${target.accessionNumber}]\n(0010,0010) PN []\n`);
    assert.equal(byAccession, 1);
    // An ASCII-only query ("NGUYEN*") finds "Nguyễn…": names match without diacritics.
    const folded = family.normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D').toUpperCase();
    const expected: ImagingOrder[] = [];
    for (const o of orders) if ((await demo.his.patientById(o.patientId))?.name.family === family) expected.push(o);
    const byName = await run('name', `(0010,0010) PN [${folded}*]\n(0010,0020) LO []\n`);
    assert.equal(byName, expected.length);
  });

  it('an AE configured for ASCII gets folded names and no ISO_IR 192', async () => {
    const query = await worklistQueryFile(work, 'ascii', `(0010,0010) PN []\n(0008,0050) SH []\n`);
    const dir = path.join(work, 'r-ascii');
    fs.mkdirSync(dir, { recursive: true });
    const r = await dcmtk('findscu', ['-W', '-aet', 'OLD_CR', '-aec', OUR_AE, '-X', '-od', dir, '127.0.0.1', String(t.port), query]);
    assert.equal(r.code, 0, r.stderr);
    const files = fs.readdirSync(dir);
    assert.ok(files.length > 0);
    const folded = new Set<string>();
    for (const f of files) {
      const bytes = fs.readFileSync(path.join(dir, f));
      assert.ok(!bytes.includes(Buffer.from('ISO_IR 192')), 'no Specific Character Set: default repertoire');
      const name = /\(0010,0010\) PN \[([^\]]*)\]/.exec((await dcmtk('dcmdump', [path.join(dir, f)])).stdout)?.[1] ?? '';
      assert.match(name, /^[\x20-\x7e]+$/, `ASCII name: ${name}`);
      folded.add(name.trim());
    }
    const [order] = await demo.his.scheduledImagingOrders({});
    const patient = await demo.his.patientById(order.patientId);
    const expected = personName(patient?.name).normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D');
    assert.ok(folded.has(expected), `${expected} among the folded names`);
  });

  it('storescu sends a study: stored, indexed, reconciled to its order, HIS order updated', async () => {
    const [order] = await demo.his.scheduledImagingOrders({ modality: 'CT' }).then((o) => (o.length ? o : demo.his.scheduledImagingOrders({})));
    const patient = await demo.his.patientById(order.patientId);
    const study = studyForOrder(order, patient);
    const images = writeStudy(path.join(work, 'study1'), study, 5, 'ct');
    const complete = nextEvent(t.node, 'study-complete', (c) => c.study.study_uid === study.studyInstanceUid);
    const hisUpdated = nextEvent(t.node, 'his-update', (e) => e.key === `study:${study.studyInstanceUid}:completed`);
    const r = await dcmtk('storescu', ['-aet', 'STORESCU', '-aec', OUR_AE, '127.0.0.1', String(t.port), ...images.map((i) => i.file)]);
    assert.equal(r.code, 0, r.stderr);
    for (const image of images) {
      const row = t.node.index.instance(image.sopInstanceUid);
      assert.ok(row, `indexed ${image.sopInstanceUid}`);
      assert.equal(row.path, path.join('studies', study.studyInstanceUid, row.series_uid, `${image.sopInstanceUid}.dcm`));
      // storescu re-encodes sequences (explicit lengths), so compare content, not bytes (our own SCU test checks bytes).
      const dump = await dcmtk('dcmdump', ['+U8', t.node.store.absolute(row.path)]);
      assert.equal(dump.code, 0, dump.stderr);
      assert.match(dump.stdout, new RegExp(`\\(0008,0018\\) UI \\[${image.sopInstanceUid.replace(/\./g, '\\.')}\\]`));
      assert.match(dump.stdout, /\(0002,0016\) AE \[STORESCU\]/);
      assert.ok(dump.stdout.includes(`[${personName(patient?.name)}]`), 'patient name intact in the stored file');
      assert.equal(readPart10Layout(fs.readFileSync(t.node.store.absolute(row.path))).meta.sourceAeTitle, 'STORESCU');
    }
    const done = await complete;
    assert.equal(done.instances, 5);
    assert.equal(done.study.reconciliation, 'matched');
    assert.equal(done.study.order_id, order.id);
    assert.equal(done.study.match_method, 'accession');
    assert.equal(done.study.patient_name, personName(patient?.name));
    assert.ok(done.study.thumbnail && fs.existsSync(t.node.store.absolute(done.study.thumbnail)), 'thumbnail written');
    const update = await hisUpdated;
    assert.equal(update.state, 'done');
    const after = await demo.his.orderByAccession(order.accessionNumber);
    assert.equal(after?.status, 'completed');
    assert.equal(after?.studyInstanceUid, study.studyInstanceUid);
  });

  it('storescu: a study whose accession the HIS does not know goes to the exception list with the reason', async () => {
    const study = { patientId: 'BN_NOBODY', patientName: 'Không^Có Ai', studyInstanceUid: '1.2.826.0.1.3680043.10.99.1', accessionNumber: 'NOSUCHACC', modality: 'CT', studyDate: '20261122' };
    const images = writeStudy(path.join(work, 'orphan'), study, 2);
    const reconciled = nextEvent(t.node, 'reconciled', (e) => e.study.study_uid === study.studyInstanceUid);
    const r = await dcmtk('storescu', ['-aet', 'STORESCU', '-aec', OUR_AE, '127.0.0.1', String(t.port), ...images.map((i) => i.file)]);
    assert.equal(r.code, 0, r.stderr);
    const event = await reconciled;
    assert.match(event.exception, /accession number NOSUCHACC is not known to the HIS; no scheduled order for patient BN_NOBODY, modality CT, date 20261122/);
    const [exception] = t.node.index.openExceptions();
    assert.equal(exception.study_uid, study.studyInstanceUid);
    assert.equal(exception.reason, event.exception);
    assert.equal(t.node.index.study(study.studyInstanceUid)?.reconciliation, 'unmatched');
  });

  it('storescu: without an accession number the study is matched by patient + modality + scheduled date', async () => {
    const orders = await demo.his.scheduledImagingOrders({});
    // A patient with exactly one order of that modality today, so the fallback is unambiguous.
    const target = orders.find((o) => orders.filter((x) => x.patientId === o.patientId && x.modality === o.modality).length === 1)!;
    const patient = await demo.his.patientById(target.patientId);
    const study = { ...studyForOrder(target, patient), accessionNumber: undefined };
    const images = writeStudy(path.join(work, 'noacc'), study, 1);
    const reconciled = nextEvent(t.node, 'reconciled', (e) => e.study.study_uid === study.studyInstanceUid);
    const r = await dcmtk('storescu', ['-aet', 'STORESCU', '-aec', OUR_AE, '127.0.0.1', String(t.port), images[0].file]);
    assert.equal(r.code, 0, r.stderr);
    const event = await reconciled;
    assert.equal(event.exception, undefined);
    assert.equal(event.method, 'patient+modality+date');
    assert.equal(event.order.id, target.id);
  });

  it('storescu: an unsupported SOP class is refused at negotiation', async () => {
    const image = writeStudy(path.join(work, 'unsup'), { patientId: 'P', patientName: 'A^B', studyInstanceUid: '1.2.3.4.5', modality: 'OT' }, 1)[0];
    // storescu proposes the file's SOP class; restrict what we accept to CT only.
    await t.stop();
    t = await startNode({ remotes, storage: { sopClasses: ['1.2.840.10008.5.1.4.1.1.2'] } }, () => demo.his);
    const r = await dcmtk('storescu', ['-aet', 'STORESCU', '-aec', OUR_AE, '127.0.0.1', String(t.port), image.file]);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /no presentation context|No presentation context|not supported|Association Rejected/i);
    assert.equal(t.node.counters.instancesStored, 0);
  });
});

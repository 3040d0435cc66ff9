// End to end through the engine: a channel with the `dicom` source and a `dicom-forward`
// destination, the demo HIS registered as service 'his', Orthanc (Debian) as the PACS and DCMTK
// storescp as a stand-in PACS that comes up late (the queue retries).
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { requirePeers } from '../helpers/peers';
import { startTestEngine, type TestEngine } from '../helpers/engine';
import { defineChannel } from '../../engine/channel/definition';
import { dicomNodes, DICOM_INSTANCE_CONTENT_TYPE } from '../../connectors/dicom';
import { dcmtk, nextEvent, openDemoHis, studyForOrder, tempDir, waitUntil, writeStudy, type DemoHis } from './helpers';
import { freePort, orthancBinary, startOrthanc, type OrthancInstance } from './orthanc';
import { AssociationRequestor } from '../../connectors/dicom/dimse/requestor';
import { requestCommitment } from '../../connectors/dicom/commitment/commitment';
import { SopClass, TransferSyntax } from '../../connectors/dicom/dimse/uids';

interface DeliveryEvent {
  kind: 'sent' | 'retry' | 'dead';
  error?: string;
}

/** Collects the engine's delivery events until `done` says enough arrived. */
function deliveryEvents(t: TestEngine, done: (events: DeliveryEvent[]) => boolean, timeoutMs = 60_000): Promise<DeliveryEvent[]> {
  return new Promise((resolve, reject) => {
    const events: DeliveryEvent[] = [];
    const timer = setTimeout(() => {
      t.engine.off('delivery', listener);
      reject(new Error(`delivery events so far: ${events.map((e) => e.kind).join(', ') || 'none'}`));
    }, timeoutMs);
    const listener = (event: DeliveryEvent) => {
      events.push(event);
      if (!done(events)) return;
      clearTimeout(timer);
      t.engine.off('delivery', listener);
      resolve(events);
    };
    t.engine.on('delivery', listener);
  });
}

describe('dicom: through the engine to the PACS', function () {
  this.timeout(120_000);
  let demo: DemoHis;
  let t: TestEngine | undefined;
  let orthanc: OrthancInstance | undefined;
  let work: string;

  before(async () => {
    demo = await openDemoHis();
    work = tempDir();
  });
  after(async () => {
    await demo?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });
  afterEach(async () => {
    await t?.cleanup();
    await orthanc?.stop();
    t = undefined;
    orthanc = undefined;
  });

  it('storescu sends a study: indexed, reconciled to its order, forwarded to Orthanc, HIS order updated; Orthanc commits it', async function () {
    requirePeers(this, 'storescu', orthancBinary());
    const nodePort = await freePort();
    orthanc = await startOrthanc({ modalities: { hisbridge: ['HISBRIDGE', '127.0.0.1', nodePort] } });
    t = await startTestEngine();
    t.engine.registerService('his', demo.his);
    await t.engine.deployChannel(
      defineChannel({
        id: 'imaging',
        name: 'Imaging: modalities → PACS',
        source: {
          connector: 'dicom',
          config: { aeTitle: 'HISBRIDGE', port: nodePort, remotes: [{ aeTitle: 'STORESCU' }, { aeTitle: orthanc.aeTitle }], reconciliation: { quietPeriodSeconds: 0.5, viewerUrlTemplate: 'http://pacs.local/viewer?study={studyUid}' } },
        },
        destinations: [
          {
            name: 'pacs',
            connector: 'dicom-forward',
            config: { host: '127.0.0.1', port: orthanc.dicomPort, calledAeTitle: orthanc.aeTitle, callingAeTitle: 'HISBRIDGE' },
            queue: { orderBy: 'accession', initialBackoffMs: 50, maxBackoffMs: 500 },
          },
        ],
      }),
    );
    const node = dicomNodes.get('imaging')!;
    assert.ok(node, 'the channel runs a DICOM node');
    const [order] = await demo.his.scheduledImagingOrders({});
    const patient = await demo.his.patientById(order.patientId);
    const study = studyForOrder(order, patient);
    const images = writeStudy(path.join(work, 'e2e'), study, 6, 'ct');
    const hisUpdated = nextEvent(node, 'his-update', (e) => e.key === `study:${study.studyInstanceUid}:completed`);
    const delivered = deliveryEvents(t, (events) => events.filter((e) => e.kind === 'sent').length === images.length);

    const sent = await dcmtk('storescu', ['-aet', 'STORESCU', '-aec', 'HISBRIDGE', '127.0.0.1', String(nodePort), ...images.map((i) => i.file)]);
    assert.equal(sent.code, 0, sent.stderr);

    // Indexed and reconciled.
    for (const image of images) assert.ok(node.index.instance(image.sopInstanceUid), 'indexed');
    // Forwarded: Orthanc's REST API shows the study with every instance.
    const orthancStudy = await waitUntil(
      async () => {
        const studies = await orthanc!.post<string[]>('/tools/lookup', study.studyInstanceUid);
        const id = (studies as unknown as Array<{ ID: string; Type: string }>).find((s) => s.Type === 'Study')?.ID;
        if (!id) return undefined;
        const instances = await orthanc!.get<unknown[]>(`/studies/${id}/instances`);
        return instances.length === images.length ? id : undefined;
      },
      30_000,
      'the study in Orthanc',
    );
    const tags = await orthanc.get<{ MainDicomTags: { AccessionNumber: string }; PatientMainDicomTags: { PatientName: string } }>(`/studies/${orthancStudy}`);
    assert.equal(tags.MainDicomTags.AccessionNumber, order.accessionNumber);
    assert.equal(tags.PatientMainDicomTags.PatientName, study.patientName, 'Vietnamese name intact in the PACS');

    // The engine stored one message per instance and delivered each.
    await delivered;
    const messages = await t.engine.store.search({ accession: order.accessionNumber });
    assert.equal(messages.length, images.length);
    for (const m of messages) {
      const detail = await t.engine.store.get(m.id);
      assert.equal(detail?.status, 'SENT');
      assert.equal(detail?.contentType, DICOM_INSTANCE_CONTENT_TYPE);
    }

    // HIS order updated with status and Study Instance UID.
    const applied = await hisUpdated;
    assert.equal(applied.state, 'done');
    assert.equal(applied.update.viewerUrl, `http://pacs.local/viewer?study=${encodeURIComponent(study.studyInstanceUid)}`);
    const after = await demo.his.orderByAccession(order.accessionNumber);
    assert.equal(after?.status, 'completed');
    assert.equal(after?.studyInstanceUid, study.studyInstanceUid);

    // Storage commitment as SCU: Orthanc answers on a new association to our listener.
    const association = await AssociationRequestor.connect({
      host: '127.0.0.1',
      port: orthanc.dicomPort,
      callingAeTitle: 'HISBRIDGE',
      calledAeTitle: orthanc.aeTitle,
      contexts: [{ abstractSyntax: SopClass.StorageCommitmentPushModel, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian] }],
    });
    try {
      const report = await requestCommitment(association, [...images.map((i) => ({ sopClassUid: SopClass.CtImageStorage, sopInstanceUid: i.sopInstanceUid })), { sopClassUid: SopClass.CtImageStorage, sopInstanceUid: '1.2.3.999' }], 30_000);
      assert.deepEqual(report.committed.map((r) => r.sopInstanceUid).sort(), images.map((i) => i.sopInstanceUid).sort());
      assert.deepEqual(report.failed.map((r) => r.sopInstanceUid), ['1.2.3.999']);
    } finally {
      await association.release();
    }
  });

  it('the PACS is down: deliveries retry through the queue and go through when it comes up (storescp as stand-in PACS)', async function () {
    requirePeers(this, 'storescp', 'storescu', 'dcmdump');
    const nodePort = await freePort();
    const pacsPort = await freePort();
    t = await startTestEngine();
    t.engine.registerService('his', demo.his);
    await t.engine.deployChannel(
      defineChannel({
        id: 'imaging2',
        name: 'Imaging with a late PACS',
        source: { connector: 'dicom', config: { aeTitle: 'HISBRIDGE', port: nodePort, allowUnknownAes: true } },
        destinations: [
          { name: 'pacs', connector: 'dicom-forward', config: { host: '127.0.0.1', port: pacsPort, calledAeTitle: 'STORESCP', callingAeTitle: 'HISBRIDGE', connectTimeoutMs: 1000 }, queue: { orderBy: 'none', initialBackoffMs: 100, maxBackoffMs: 300, maxAttempts: 100 } },
        ],
      }),
    );
    const study = { patientId: 'BN_LATE', patientName: 'Đinh^Thị Lan', studyInstanceUid: '1.2.826.0.1.3680043.10.77.1', modality: 'CR' };
    const images = writeStudy(path.join(work, 'late'), study, 3);
    const retriesSeen = deliveryEvents(t, (events) => events.filter((e) => e.kind === 'retry').length >= 6);
    const sent = await dcmtk('storescu', ['-aet', 'CR1', '-aec', 'HISBRIDGE', '127.0.0.1', String(nodePort), ...images.map((i) => i.file)]);
    assert.equal(sent.code, 0, 'the modality is acknowledged while the PACS is down');
    const messages = await t.engine.store.search({ patientId: 'BN_LATE' });
    assert.equal(messages.length, 3);
    const retries = await retriesSeen;
    assert.match(retries[0].error ?? '', /could not connect to 127\.0\.0\.1:\d+/);

    const out = path.join(work, 'storescp-out');
    fs.mkdirSync(out, { recursive: true });
    const storescp = spawn('storescp', ['-aet', 'STORESCP', '-od', out, String(pacsPort)], { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
    const sentEvents = deliveryEvents(t, (events) => events.filter((e) => e.kind === 'sent').length === 3);
    try {
      await sentEvents;
      assert.equal(fs.readdirSync(out).length, 3, 'three files at the stand-in PACS');
      for (const m of messages) assert.equal((await t.engine.store.get(m.id))?.status, 'SENT');
      const dump = await dcmtk('dcmdump', ['+U8', path.join(out, fs.readdirSync(out)[0])]);
      assert.ok(dump.stdout.includes('[Đinh^Thị Lan]'), 'name intact at the PACS');
    } finally {
      storescp.kill('SIGTERM');
    }
  });
});

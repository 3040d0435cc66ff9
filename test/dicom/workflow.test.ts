// MPPS and Storage Commitment: the modality simulator against our SCP with the demo HIS behind it,
// the MPPS state rules with their PS3.4 statuses, and commitment reports on both association paths.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { nextEvent, openDemoHis, startNode, studyForOrder, tempDir, writeStudy, OUR_AE, type DemoHis, type TestNode } from './helpers';
import { simulateModality } from '../../devices/simulators/modality';
import { AssociationRequestor } from '../../connectors/dicom/dimse/requestor';
import { createMpps, setMpps, storeFiles } from '../../connectors/dicom/scu';
import { requestCommitment } from '../../connectors/dicom/commitment/commitment';
import { SopClass, Status, TransferSyntax } from '../../connectors/dicom/dimse/uids';
import { readPart10Layout } from '../../connectors/dicom/dataset/part10';
import { newUid } from '../../connectors/dicom/dataset/uid';

const native = [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian];

describe('dicom: MPPS and storage commitment', function () {
  this.timeout(60_000);
  let demo: DemoHis;
  let t: TestNode;
  let work: string;
  const stations = ['CT_SIEMENS', 'DR_ROOM1', 'US_ROOM2', 'MR_15T'];

  before(async () => {
    demo = await openDemoHis();
    work = tempDir();
  });
  after(async () => {
    await demo?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });
  beforeEach(async () => {
    t = await startNode({ remotes: [...stations.map((aeTitle) => ({ aeTitle })), { aeTitle: 'MPPS_SCU' }, { aeTitle: 'STORE_SCU' }], worklist: { cacheSeconds: 0 }, reconciliation: { quietPeriodSeconds: 30 } }, () => demo.his);
  });
  afterEach(async () => t && (await t.stop()));

  async function stationWithWork(): Promise<{ station: string; count: number }> {
    for (const station of stations) {
      const count = (await demo.his.scheduledImagingOrders({ stationAeTitle: station })).length;
      if (count > 0) return { station, count };
    }
    throw new Error('the demo HIS has no scheduled imaging order today');
  }

  it('the simulator: worklist, MPPS IN PROGRESS → COMPLETED moves the HIS order; the study completes on the MPPS', async () => {
    const { station, count } = await stationWithWork();
    const updates: Array<{ key: string; status: string }> = [];
    t.node.on('his-update', (e) => updates.push({ key: e.key, status: e.update.status }));
    const complete = nextEvent(t.node, 'study-complete');
    const hisCompleted = nextEvent(t.node, 'his-update', (e) => e.key.startsWith('study:'));
    const result = await simulateModality({ host: '127.0.0.1', port: t.port, calledAeTitle: OUR_AE, stationAeTitle: station, imagesPerOrder: 3, imageKind: 'small' });
    assert.equal(result.worklistItems, count, 'the whole station worklist came back');
    const [done] = result.orders;
    assert.equal(done.mppsCreateStatus, Status.Success);
    assert.equal(done.mppsSetStatus, Status.Success);
    assert.equal(done.stored, 3);
    const completion = await complete;
    assert.equal(completion.study.study_uid, done.studyInstanceUid);
    assert.match(completion.reason, /MPPS .* completed and all its instances arrived/);
    assert.equal(completion.instances, 3);
    assert.equal(completion.study.reconciliation, 'matched');
    await hisCompleted;
    const order = await demo.his.orderByAccession(done.accessionNumber);
    assert.equal(order?.status, 'completed');
    assert.equal(order?.studyInstanceUid, done.studyInstanceUid);
    const mppsUpdates = updates.filter((u) => u.key.startsWith(`mpps:${done.mppsUid}`));
    assert.deepEqual(mppsUpdates.map((u) => u.status), ['in-progress', 'completed'], 'the order went through in-progress');
    // The worklist no longer offers a performed order.
    const again = await simulateModality({ host: '127.0.0.1', port: t.port, calledAeTitle: OUR_AE, stationAeTitle: station, orders: 0 });
    assert.equal(again.worklistItems, count - 1);
  });

  it('the simulator: a DISCONTINUED MPPS marks the order discontinued', async () => {
    const { station } = await stationWithWork();
    const applied = nextEvent(t.node, 'his-update', (e) => /:DISCONTINUED:/.test(e.key));
    const result = await simulateModality({ host: '127.0.0.1', port: t.port, calledAeTitle: OUR_AE, stationAeTitle: station, imagesPerOrder: 1, imageKind: 'small', outcome: 'discontinued' });
    const [done] = result.orders;
    assert.equal((await applied).key, `mpps:${done.mppsUid}:DISCONTINUED:${done.accessionNumber}`);
    assert.equal((await demo.his.orderByAccession(done.accessionNumber))?.status, 'discontinued');
  });

  it('MPPS state rules: each invalid operation gets its PS3.4 status and changes nothing', async () => {
    const association = await AssociationRequestor.connect({
      host: '127.0.0.1',
      port: t.port,
      callingAeTitle: 'MPPS_SCU',
      calledAeTitle: OUR_AE,
      contexts: [{ abstractSyntax: SopClass.ModalityPerformedProcedureStep, transferSyntaxes: native }],
    });
    try {
      const attrs = (status: string) => ({ PerformedProcedureStepStatus: status, Modality: 'CT', ScheduledStepAttributesSequence: [{ AccessionNumber: 'NOT_IN_HIS', StudyInstanceUID: newUid() }] });
      const completedAtCreate = await createMpps(association, newUid(), attrs('COMPLETED'));
      assert.equal(completedAtCreate.status, Status.InvalidAttributeValue, 'N-CREATE must start IN PROGRESS (0106)');
      const noStatus = await createMpps(association, newUid(), { Modality: 'CT' });
      assert.equal(noStatus.status, Status.MissingAttribute, 'missing status (0120)');
      const uid = newUid();
      assert.equal((await createMpps(association, uid, attrs('IN PROGRESS'))).status, Status.Success);
      assert.equal((await createMpps(association, uid, attrs('IN PROGRESS'))).status, Status.DuplicateSopInstance, 'duplicate (0111)');
      assert.equal((await setMpps(association, newUid(), { PerformedProcedureStepStatus: 'COMPLETED' })).status, Status.NoSuchObjectInstance, 'unknown instance (0112)');
      assert.equal((await setMpps(association, uid, { PerformedProcedureStepStatus: 'FINISHED' })).status, Status.InvalidAttributeValue, 'unknown status value (0106)');
      assert.equal((await setMpps(association, uid, { PerformedProcedureStepDescription: 'still going' })).status, Status.Success, 'IN PROGRESS may be updated');
      assert.equal((await setMpps(association, uid, { PerformedProcedureStepStatus: 'COMPLETED' })).status, Status.Success);
      const late = await setMpps(association, uid, { PerformedProcedureStepStatus: 'DISCONTINUED' });
      assert.equal(late.status, Status.ProcessingFailure, 'after COMPLETED: 0110');
      assert.equal(late.errorId, 0xa710, 'Error ID A710: may no longer be updated');
      assert.match(late.errorComment ?? '', /may no longer be updated/);
      assert.equal(t.node.mppsStore.get(uid)?.status, 'COMPLETED', 'the refused N-SET changed nothing');
      assert.equal(t.node.mppsStore.get(uid)?.attributes.PerformedProcedureStepDescription, 'still going');
    } finally {
      await association.release();
    }
  });

  it('our SCU stores files byte for byte; storage commitment reports committed and failed instances on the same association', async () => {
    const study = { patientId: 'BN9', patientName: 'Phạm^Thị Hoa', studyInstanceUid: newUid(), modality: 'CT' };
    const images = writeStudy(path.join(work, 'commit'), study, 2, 'ct');
    const results = await storeFiles({ host: '127.0.0.1', port: t.port, callingAeTitle: 'STORE_SCU', calledAeTitle: OUR_AE }, images.map((i) => i.file));
    assert.deepEqual(results.map((r) => r.status), [0, 0]);
    for (const image of images) {
      const stored = fs.readFileSync(t.node.store.absolute(t.node.index.instance(image.sopInstanceUid)!.path));
      assert.deepEqual(stored.subarray(readPart10Layout(stored).datasetOffset), image.bytes.subarray(readPart10Layout(image.bytes).datasetOffset));
    }
    const association = await AssociationRequestor.connect({
      host: '127.0.0.1',
      port: t.port,
      callingAeTitle: 'STORE_SCU',
      calledAeTitle: OUR_AE,
      contexts: [{ abstractSyntax: SopClass.StorageCommitmentPushModel, transferSyntaxes: native }],
    });
    try {
      const missing = { sopClassUid: SopClass.CtImageStorage, sopInstanceUid: newUid() };
      const wrongClass = { sopClassUid: SopClass.SecondaryCaptureImageStorage, sopInstanceUid: images[1].sopInstanceUid };
      const report = await requestCommitment(association, [{ sopClassUid: SopClass.CtImageStorage, sopInstanceUid: images[0].sopInstanceUid }, missing, wrongClass], 10_000);
      assert.deepEqual(report.committed.map((r) => r.sopInstanceUid), [images[0].sopInstanceUid]);
      assert.deepEqual(
        report.failed.map((f) => [f.sopInstanceUid, f.reason]),
        [
          [missing.sopInstanceUid, 0x0112],
          [wrongClass.sopInstanceUid, 0x0119],
        ],
      );
      // Requests that are not valid N-ACTIONs get their status, and no report.
      const ctx = association.findContext(SopClass.StorageCommitmentPushModel)!;
      const action = async (command: Record<string, unknown>, dataset: Record<string, unknown>) =>
        (await association.request(ctx.id, { CommandField: 0x0130, RequestedSOPClassUID: SopClass.StorageCommitmentPushModel, ...command }, association.encodeDataset(ctx.id, dataset))).slice(-1)[0].command;
      const refs = { ReferencedSOPSequence: [{ ReferencedSOPClassUID: SopClass.CtImageStorage, ReferencedSOPInstanceUID: images[0].sopInstanceUid }] };
      assert.equal((await action({ RequestedSOPInstanceUID: '1.2.840.10008.1.20.1.1', ActionTypeID: 1 }, refs)).Status, Status.MissingAttribute, 'no Transaction UID: 0120');
      assert.equal((await action({ RequestedSOPInstanceUID: '1.2.840.10008.1.20.1.1', ActionTypeID: 2 }, { TransactionUID: newUid(), ...refs })).Status, Status.NoSuchActionType, 'action type 2: 0123');
      assert.equal((await action({ RequestedSOPInstanceUID: '1.2.3', ActionTypeID: 1 }, { TransactionUID: newUid(), ...refs })).Status, Status.NoSuchObjectInstance, 'not the well-known instance: 0112');
    } finally {
      await association.release();
    }
  });

  it('storage commitment: the report can come back on a new association to the requester', async () => {
    // The requester is a second node listening for the report (its SCP accepts N-EVENT-REPORT).
    const requester = await startNode({ aeTitle: 'REQUESTER', remotes: [{ aeTitle: OUR_AE }] }, () => demo.his);
    await t.stop();
    t = await startNode({ remotes: [{ aeTitle: 'REQUESTER', host: '127.0.0.1', port: requester.port }], commitment: { report: 'new-association' } }, () => demo.his);
    try {
      const study = { patientId: 'BN8', patientName: 'Lý^Văn Bình', studyInstanceUid: newUid(), modality: 'CT' };
      const images = writeStudy(path.join(work, 'commit2'), study, 1);
      const association = await AssociationRequestor.connect({
        host: '127.0.0.1',
        port: t.port,
        callingAeTitle: 'REQUESTER',
        calledAeTitle: OUR_AE,
        contexts: [
          { abstractSyntax: SopClass.StorageCommitmentPushModel, transferSyntaxes: native },
          { abstractSyntax: SopClass.SecondaryCaptureImageStorage, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] },
        ],
      });
      const layout = readPart10Layout(images[0].bytes);
      const ctx = association.findContext(SopClass.SecondaryCaptureImageStorage)!;
      await association.request(ctx.id, { CommandField: 1, AffectedSOPClassUID: SopClass.SecondaryCaptureImageStorage, AffectedSOPInstanceUID: images[0].sopInstanceUid, Priority: 0 }, images[0].bytes.subarray(layout.datasetOffset));
      const reportArrived = nextEvent(requester.node, 'commitment-report');
      const result = requestCommitment(association, [{ sopClassUid: SopClass.SecondaryCaptureImageStorage, sopInstanceUid: images[0].sopInstanceUid }], 10_000);
      const report = await result;
      assert.equal((await reportArrived).known, true, 'delivered through the requester listener');
      assert.deepEqual(report.committed.map((r) => r.sopInstanceUid), [images[0].sopInstanceUid]);
      assert.equal(report.failed.length, 0);
      await association.release();
    } finally {
      await requester.stop();
    }
  });
});

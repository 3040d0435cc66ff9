// Bad input on the wire: malformed datasets, wrong UIDs, unsupported classes and syntaxes, PDUs
// above the negotiated size, garbage, silence, peers vanishing mid-transfer, broken identifiers,
// and fuzzing of the C-STORE and C-FIND paths (10,000 mutated datasets each).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { nextEvent, openDemoHis, startNode, OUR_AE, type DemoHis, type TestNode } from './helpers';
import { AssociationRejectedError, AssociationRequestor } from '../../connectors/dicom/dimse/requestor';
import { CommandField, ContextResult, SopClass, Status, TransferSyntax } from '../../connectors/dicom/dimse/uids';
import { readPart10Layout } from '../../connectors/dicom/dataset/part10';
import { syntheticImage } from '../../connectors/dicom/dataset/synthetic';
import { newUid } from '../../connectors/dicom/dataset/uid';
import { encodeNaturalized } from '../../connectors/dicom/dataset/naturalize';
import { echo, worklistIdentifier } from '../../connectors/dicom/scu';
import { encodeCommand } from '../../connectors/dicom/dimse/command-codec';
import { writePDataTf } from '../../connectors/dicom/dimse/pdu-framer';

const ELE = TransferSyntax.ExplicitVRLittleEndian;
const SC = SopClass.SecondaryCaptureImageStorage;

/** Deterministic PRNG (mulberry32): a failing fuzz case can be replayed from its seed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function mutate(base: Buffer, random: () => number): Buffer {
  const int = (n: number) => Math.floor(random() * n);
  let b = Buffer.from(base);
  const rounds = 1 + int(4);
  for (let r = 0; r < rounds; r++) {
    switch (int(7)) {
      case 0: // flip bits
        b[int(b.length)] ^= 1 << int(8);
        break;
      case 1: // random byte
        b[int(b.length)] = int(256);
        break;
      case 2: // truncate
        b = b.subarray(0, int(b.length));
        break;
      case 3: {
        // insert random bytes
        const at = int(b.length + 1);
        const junk = Buffer.from(Array.from({ length: 1 + int(16) }, () => int(256)));
        b = Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
        break;
      }
      case 4: {
        // corrupt a plausible 16- or 32-bit length field near a random position
        if (b.length < 4) break;
        const at = int(b.length - 3);
        if (random() < 0.5) b.writeUInt16LE(int(65536), at);
        else b.writeUInt32LE([0xffffffff, 0x7fffffff, int(1 << 20), 0].at(int(4))!, at);
        break;
      }
      case 5: {
        // duplicate a slice
        const from = int(b.length);
        const len = int(64);
        b = Buffer.concat([b.subarray(0, from), b.subarray(from, from + len), b.subarray(from)]);
        break;
      }
      default: {
        // swap two bytes far apart
        const i = int(b.length);
        const j = int(b.length);
        const x = b[i];
        b[i] = b[j];
        b[j] = x;
      }
    }
    if (b.length === 0) b = Buffer.from([0]);
  }
  return b;
}

describe('dicom: bad input', function () {
  this.timeout(120_000);
  let demo: DemoHis;
  let t: TestNode;

  before(async () => {
    demo = await openDemoHis(200);
  });
  after(async () => demo?.close());
  afterEach(async () => t && (await t.stop()));

  const connect = (contexts: Array<{ abstractSyntax: string; transferSyntaxes: string[] }>, calling = 'MODALITY') =>
    AssociationRequestor.connect({ host: '127.0.0.1', port: t.port, callingAeTitle: calling, calledAeTitle: OUR_AE, contexts });

  const image = (patch: Record<string, unknown> = {}) => {
    const img = syntheticImage({ patientId: 'BN1', patientName: 'Võ^Thị Sáu', studyInstanceUid: newUid(), modality: 'OT', ...patch }, { seriesInstanceUid: newUid(), instanceNumber: 1, kind: 'small' });
    return { ...img, dataset: img.bytes.subarray(readPart10Layout(img.bytes).datasetOffset) };
  };

  const store = (association: AssociationRequestor, sopClass: string, sopInstanceUid: string, dataset: Buffer, contextId?: number) =>
    association
      .request(contextId ?? association.findContext(sopClass)!.id, { CommandField: CommandField.CStoreRequest, AffectedSOPClassUID: sopClass, AffectedSOPInstanceUID: sopInstanceUid, Priority: 0 }, dataset)
      .then((r) => r[r.length - 1].command);

  it('a malformed dataset gets C000 and is kept as errored; a wrong or missing UID gets A900; the association carries on', async () => {
    t = await startNode({ allowUnknownAes: true }, () => demo.his);
    const association = await connect([{ abstractSyntax: SC, transferSyntaxes: [ELE] }]);
    const good = image();
    const broken = Buffer.from(good.dataset);
    broken.writeUInt16LE(0x7000, 6); // first element's length runs past the end
    const r1 = await store(association, SC, good.sopInstanceUid, broken);
    assert.equal(r1.Status, Status.StoreCannotUnderstand);
    assert.match(String(r1.ErrorComment), /malformed dataset near byte/);
    const [errored] = t.node.index.erroredInstances();
    assert.equal(errored.status, Status.StoreCannotUnderstand);
    assert.ok(errored.path && fs.existsSync(t.node.store.absolute(errored.path)), 'kept under errored/');
    assert.equal(t.node.index.instance(good.sopInstanceUid), undefined, 'not indexed');

    const other = image();
    const r2 = await store(association, SC, newUid(), other.dataset);
    assert.equal(r2.Status, Status.StoreDataSetDoesNotMatchSopClass);
    assert.match(String(r2.ErrorComment), /^SOP Instance UID differs from the command's/);

    const noStudy = syntheticImage({ patientId: 'P', patientName: 'X', studyInstanceUid: '', modality: 'OT' }, { seriesInstanceUid: newUid(), instanceNumber: 1, kind: 'small' });
    const r3 = await store(association, SC, noStudy.sopInstanceUid, noStudy.bytes.subarray(readPart10Layout(noStudy.bytes).datasetOffset));
    assert.equal(r3.Status, Status.StoreDataSetDoesNotMatchSopClass);
    assert.match(String(r3.ErrorComment), /missing Study Instance UID \(0020,000D\)/);

    const r4 = await store(association, SC, good.sopInstanceUid, good.dataset);
    assert.equal(r4.Status, Status.Success, 'the same association still works');
    await association.release();
  });

  it('unsupported SOP class and transfer syntax: contexts rejected (3, 4); nothing acceptable: association rejected; a C-STORE on a context of another class: 0122', async () => {
    t = await startNode({ allowUnknownAes: true }, () => demo.his);
    const association = await connect([
      { abstractSyntax: SC, transferSyntaxes: [TransferSyntax.ExplicitVRBigEndian] },
      { abstractSyntax: '1.2.3.4.5.6.7', transferSyntaxes: [ELE] },
      { abstractSyntax: SopClass.CtImageStorage, transferSyntaxes: [ELE] },
    ]);
    const results = association.contexts().map((c) => [c.getAbstractSyntaxUid(), c.getResult()]);
    assert.deepEqual(results, [
      [SC, ContextResult.TransferSyntaxesNotSupported],
      ['1.2.3.4.5.6.7', ContextResult.AbstractSyntaxNotSupported],
      [SopClass.CtImageStorage, ContextResult.Accept],
    ]);
    const sc = image();
    const r = await store(association, SC, sc.sopInstanceUid, sc.dataset, association.findContext(SopClass.CtImageStorage)!.id);
    assert.equal(r.Status, Status.SopClassNotSupported);
    await association.release();
    await assert.rejects(connect([{ abstractSyntax: '1.2.3.4.5.6.7', transferSyntaxes: [ELE] }]), (e: AssociationRejectedError) => e instanceof AssociationRejectedError && e.permanent);
  });

  it('a PDU above the negotiated maximum aborts that association only', async () => {
    t = await startNode({ allowUnknownAes: true, maxPduLength: 16384 }, () => demo.his);
    const association = await connect([{ abstractSyntax: SC, transferSyntaxes: [ELE] }]);
    const header = Buffer.from([0x04, 0, 0, 0, 0, 0]);
    header.writeUInt32BE(10 * 1024 * 1024, 2);
    association.socket.write(header);
    const reason = await association.closed();
    assert.match(reason, /aborted by peer \(source 2, reason 6\)/);
    assert.ok((await echo({ host: '127.0.0.1', port: t.port, callingAeTitle: 'X', calledAeTitle: OUR_AE })) >= 0, 'the node still answers');
  });

  it('garbage instead of an A-ASSOCIATE-RQ, and silence, close the connection', async () => {
    t = await startNode({ allowUnknownAes: true, associationTimeoutMs: 300 }, () => demo.his);
    const garbage = net.connect(t.port, '127.0.0.1');
    const got: Buffer[] = [];
    garbage.on('data', (d) => got.push(d));
    garbage.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((r) => garbage.on('close', r));
    assert.equal(Buffer.concat(got)[0], 0x07, 'answered with an A-ABORT PDU');
    const silent = net.connect(t.port, '127.0.0.1');
    silent.resume(); // read (and drop) what comes, so the close is seen
    const started = Date.now();
    await new Promise((r) => silent.on('close', r));
    assert.ok(Date.now() - started >= 250, 'closed by the association timeout');
  });

  for (const mode of ['streamed to disk', 'in memory'] as const) {
    it(`a peer vanishing mid-C-STORE (${mode}): partial data discarded, nothing indexed, others unaffected`, async () => {
      t = await startNode({ allowUnknownAes: true, storage: { memoryThresholdBytes: mode === 'in memory' ? 4 * 1024 * 1024 : 1024 } }, () => demo.his);
      const big = syntheticImage({ patientId: 'P', patientName: 'A^B', studyInstanceUid: newUid(), modality: 'CT' }, { seriesInstanceUid: newUid(), instanceNumber: 1 });
      const dataset = big.bytes.subarray(readPart10Layout(big.bytes).datasetOffset);
      const association = await connect([{ abstractSyntax: SopClass.CtImageStorage, transferSyntaxes: [ELE] }]);
      const ctx = association.findContext(SopClass.CtImageStorage)!;
      const aborted = nextEvent(t.node, 'transfer-aborted');
      const command = encodeCommand({ CommandField: 1, MessageID: 1, AffectedSOPClassUID: SopClass.CtImageStorage, AffectedSOPInstanceUID: big.sopInstanceUid, Priority: 0, CommandDataSetType: 0 });
      for (const b of writePDataTf(ctx.id, true, command, 16384)) association.socket.write(b);
      for (const b of writePDataTf(ctx.id, false, dataset.subarray(0, 200_000), 16384, false)) association.socket.write(b);
      await new Promise((r) => association.socket.write(Buffer.alloc(0), r));
      // Wait until the node has taken in some of it, then vanish.
      await new Promise((r) => setTimeout(r, 50));
      association.socket.destroy();
      const info = await aborted;
      assert.ok(info.bytes > 0 && info.bytes <= 200_000, `partial bytes counted (${info.bytes})`);
      assert.match(info.reason, /peer closed the connection|socket/);
      assert.deepEqual(fs.readdirSync(t.node.store.absolute('incoming')), [], 'no .part file left');
      assert.equal(t.node.index.instance(big.sopInstanceUid), undefined);
      assert.match(t.node.index.erroredInstances()[0].reason, /transfer aborted after \d+ bytes, partial data discarded/);
      assert.ok((await echo({ host: '127.0.0.1', port: t.port, callingAeTitle: 'X', calledAeTitle: OUR_AE })) >= 0);
    });
  }

  it('C-FIND: a malformed identifier gets C000, one that does not fit the SOP class A900', async () => {
    t = await startNode({ allowUnknownAes: true }, () => demo.his);
    const association = await connect([{ abstractSyntax: SopClass.ModalityWorklistFind, transferSyntaxes: [ELE] }]);
    const ctx = association.findContext(SopClass.ModalityWorklistFind)!;
    const find = async (dataset: Buffer) => {
      const r = await association.request(ctx.id, { CommandField: CommandField.CFindRequest, AffectedSOPClassUID: SopClass.ModalityWorklistFind, Priority: 0 }, dataset);
      return r[r.length - 1].command;
    };
    const good = encodeNaturalized(worklistIdentifier({ modality: 'CT' }), ELE);
    const broken = Buffer.from(good);
    broken.writeUInt16LE(0x4000, 6);
    assert.equal((await find(broken)).Status, Status.FindUnableToProcess);
    const twoItems = encodeNaturalized({ PatientName: '', ScheduledProcedureStepSequence: [{ Modality: 'CT' }, { Modality: 'MR' }] }, ELE);
    const r = await find(twoItems);
    assert.equal(r.Status, Status.FindIdentifierDoesNotMatchSopClass);
    assert.match(String(r.ErrorComment), /exactly one/);
    const badDate = encodeNaturalized({ ScheduledProcedureStepSequence: [{ ScheduledProcedureStepStartDate: 'tomorrow' }] }, ELE);
    assert.equal((await find(badDate)).Status, Status.FindIdentifierDoesNotMatchSopClass);
    assert.equal((await find(good)).Status, Status.Success);
    await association.release();
  });

  it('fuzz: 10,000 mutated C-STORE datasets get a valid status each, no crash, no hang', async () => {
    t = await startNode({ allowUnknownAes: true, reconciliation: { quietPeriodSeconds: 3600 } }, () => undefined);
    const association = await connect([{ abstractSyntax: SC, transferSyntaxes: [ELE] }]);
    const base = image();
    const random = prng(20261122);
    const allowed = new Set<number>([Status.Success, Status.StoreCannotUnderstand, Status.StoreDataSetDoesNotMatchSopClass, Status.StoreOutOfResources]);
    const seen = new Map<number, number>();
    const started = Date.now();
    for (let i = 0; i < 10_000; i++) {
      const dataset = mutate(base.dataset, random);
      const status = Number((await store(association, SC, base.sopInstanceUid, dataset)).Status);
      assert.ok(allowed.has(status), `case ${i}: unexpected status 0x${status.toString(16)}`);
      seen.set(status, (seen.get(status) ?? 0) + 1);
    }
    await association.release();
    assert.ok((seen.get(Status.StoreCannotUnderstand) ?? 0) > 100, 'mutations reach the parser');
    assert.ok((seen.get(Status.Success) ?? 0) > 100, 'harmless mutations are stored');
    assert.equal(t.node.counters.instancesStored + t.node.counters.instancesErrored, 10_000);
    assert.ok((await echo({ host: '127.0.0.1', port: t.port, callingAeTitle: 'X', calledAeTitle: OUR_AE })) >= 0);
    console.log(`      C-STORE fuzz: ${[...seen].map(([s, n]) => `0x${s.toString(16)}×${n}`).join(', ')} in ${Date.now() - started} ms`);
  });

  it('fuzz: 10,000 mutated C-FIND identifiers get pendings and a valid final status, no crash, no hang', async () => {
    t = await startNode({ allowUnknownAes: true, worklist: { cacheSeconds: 3600 } }, () => demo.his);
    const association = await connect([{ abstractSyntax: SopClass.ModalityWorklistFind, transferSyntaxes: [ELE] }]);
    const ctx = association.findContext(SopClass.ModalityWorklistFind)!;
    const base = encodeNaturalized(worklistIdentifier({ modality: 'CT', patientName: 'N*' }), ELE);
    const random = prng(84);
    const allowed = new Set<number>([Status.Success, Status.FindUnableToProcess, Status.FindIdentifierDoesNotMatchSopClass, Status.FindOutOfResources]);
    const seen = new Map<number, number>();
    const started = Date.now();
    for (let i = 0; i < 10_000; i++) {
      const responses = await association.request(ctx.id, { CommandField: CommandField.CFindRequest, AffectedSOPClassUID: SopClass.ModalityWorklistFind, Priority: 0 }, mutate(base, random));
      const final = Number(responses[responses.length - 1].command.Status);
      assert.ok(allowed.has(final), `case ${i}: unexpected final status 0x${final.toString(16)}`);
      assert.ok(responses.slice(0, -1).every((r) => r.command.Status === Status.Pending && r.dataset), `case ${i}: pendings carry identifiers`);
      seen.set(final, (seen.get(final) ?? 0) + 1);
    }
    await association.release();
    assert.ok((seen.get(Status.FindUnableToProcess) ?? 0) > 100);
    assert.ok((seen.get(Status.Success) ?? 0) > 100);
    console.log(`      C-FIND fuzz: ${[...seen].map(([s, n]) => `0x${s.toString(16)}×${n}`).join(', ')} in ${Date.now() - started} ms`);
  });
});

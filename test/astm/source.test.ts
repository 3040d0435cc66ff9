// The `astm` source through a real engine over loopback TCP: results stored and routed (patient
// results to the HIS destination, controls to the QC output), host queries answered, bad input kept
// as errored, and the stored-before-acknowledged rule checked byte by byte from a raw socket.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { astmResultsTransformer, hasPatientResults, hasQcResults, toHisResultBatch, toQcRecord } from '../../connectors/astm/channel';
import { InMemoryOrderLookup } from '../../connectors/astm/hostQuery';
import { AstmSource } from '../../connectors/astm/source';
import { astmSourceConfigSchema } from '../../connectors/astm/config';
import { loadProfile } from '../../devices/analyzers/profile';
import { AnalyzerSimulator, buildResults } from '../../devices/simulators/analyzer';
import type { InboundMessage, ReceiptResult, SourceContext } from '../../engine/connectors/types';
import { freePort, startTestEngine, tempDir, waitFor, type TestEngine } from '../helpers/engine';
import { ACK, ENQ, EOT, NAK, demoPatient, frame, labOrder } from './helpers';

const fixtures = path.join(__dirname, '..', 'fixtures', 'astm');
const c311Records = () => {
  const raw = fs.readFileSync(path.join(fixtures, 'roche-c311.astm')).toString('latin1');
  return raw.slice(2, raw.indexOf('\x03'));
};

function readJsonFiles(dir: string): any[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')));
}

describe('astm source through the engine (TCP)', function () {
  let t: TestEngine;
  let port: number;
  let out: string;
  let sim: AnalyzerSimulator | undefined;

  async function deploy(profile: string, extra: Record<string, unknown> = {}) {
    port = await freePort();
    out = tempDir('astm-out-');
    await t.engine.deployChannel({
      id: 'lab',
      name: 'Lab analyser',
      source: { connector: 'astm', config: { profile, transport: { kind: 'tcp-server', host: '127.0.0.1', port }, ...extra } },
      transformer: astmResultsTransformer(),
      destinations: [
        { name: 'his', connector: 'file', config: { directory: path.join(out, 'his'), extension: '.json' }, filter: hasPatientResults, transformer: toHisResultBatch },
        { name: 'qc', connector: 'file', config: { directory: path.join(out, 'qc'), extension: '.json' }, filter: hasQcResults, transformer: toQcRecord },
      ],
    });
  }

  beforeEach(async () => {
    t = await startTestEngine();
  });

  afterEach(async () => {
    sim?.close();
    sim = undefined;
    await t.cleanup();
    fs.rmSync(out, { recursive: true, force: true });
  });

  it('stores the real c311 upload and files the mapped results under their HIS codes; unmapped codes are listed', async () => {
    await deploy('roche-cobas-c311');
    sim = new AnalyzerSimulator({ profile: loadProfile('roche-cobas-c311') });
    await sim.connectTcp('127.0.0.1', port);
    await sim.send(c311Records());
    const [stored] = await t.engine.store.search({ channelId: 'lab', specimenId: 'CL-PL-24-0370' });
    assert.ok(stored, 'stored by the time the last frame was acknowledged');
    await t.engine.whenIdle('lab');
    const batches = readJsonFiles(path.join(out, 'his'));
    assert.equal(batches.length, 1);
    assert.equal(batches[0].specimenId, 'CL-PL-24-0370');
    assert.deepEqual(
      batches[0].results.map((r: any) => [r.code, r.hisServiceCode, r.loinc, r.value, r.unit, r.abnormalFlag ?? '', r.status]),
      [
        ['685', 'XN_ALT', '1742-6', '22.4', 'U/l', 'A', 'final'],
        ['687', 'XN_AST', '1920-8', '15.0', 'U/l', 'N', 'final'],
        ['717', 'XN_GLU', '2345-7', '5.85', 'mmol/l', 'N', 'final'],
        ['690', 'XN_CRE', '2160-0', '34', 'umol/l', 'A', 'final'],
      ],
    );
    assert.equal(batches[0].results[0].device.id, 'roche-cobas-c311');
    const detail = await t.engine.store.get(stored.id);
    assert.match(detail!.meta.unfiled, /712: analyser code "712" is not in the lab code map/);
    assert.deepEqual(readJsonFiles(path.join(out, 'qc')), []);
  });

  it('sends QC results to the QC output, never to the HIS destination', async () => {
    await deploy('sysmex-xn');
    sim = new AnalyzerSimulator({ profile: loadProfile('sysmex-xn') });
    await sim.connectTcp('127.0.0.1', port);
    await sim.send(buildResults(sim.profile, [{ specimenId: 'QC-L1-2611', results: [{ code: 'WBC', value: '7.02', units: '10*3/uL' }] }]));
    await sim.send(buildResults(sim.profile, [{ specimenId: 'S0001', patientId: 'BN0001', results: [{ code: 'WBC', value: '6.10', units: '10*3/uL' }] }]));
    await waitFor(async () => (await t.engine.store.search({ channelId: 'lab' })).length === 2, 5000, 'two messages');
    await t.engine.whenIdle('lab');
    const his = readJsonFiles(path.join(out, 'his'));
    const qc = readJsonFiles(path.join(out, 'qc'));
    assert.deepEqual(his.map((b) => b.specimenId), ['S0001']);
    assert.equal(qc.length, 1);
    assert.equal(qc[0].controls[0].controlId, 'QC-L1-2611');
    assert.match(qc[0].controls[0].reason, /matches QC pattern/);
    assert.equal(qc[0].controls[0].results[0].value, '7.02');
    assert.ok(!JSON.stringify(qc).includes('BN0001'));
  });

  it('answers a host query with the orders of the specimen in the analyser test codes, Vietnamese folded', async () => {
    const lookup = new InMemoryOrderLookup().add({ specimenId: 'SID0001', patient: demoPatient, orders: [labOrder('CD1', 'SID0001', ['XN_CTM'])] });
    t.engine.registerService('orders', lookup);
    await deploy('sysmex-xn', { hostQuery: { lookupService: 'orders' } });
    sim = new AnalyzerSimulator({ profile: loadProfile('sysmex-xn') });
    await sim.connectTcp('127.0.0.1', port);
    const reply = await sim.query(['SID0001']);
    const types = reply.message.records.map((r) => r.type).join('');
    assert.equal(types, 'HPOL');
    const [, p, o, l] = reply.message.records;
    assert.equal(p.value(3), 'BN0001');
    assert.deepEqual(p.components(6), ['Nguyen', 'Thi Minh Khai']);
    assert.equal(p.value(8), '19850315');
    assert.equal(p.value(9), 'F');
    assert.equal(o.value(3, 3), 'SID0001', 'Sysmex: sample number in O-3 component 3');
    assert.deepEqual(o.repeats(5).map((rep) => rep[4]), ['WBC', 'RBC', 'HGB', 'HCT', 'PLT', 'MCV', 'EO%']);
    assert.equal(o.value(5, 6), '1', 'Sysmex dilution component');
    assert.equal(o.value(26), 'Q');
    assert.equal(l.value(3), 'N');
    // The query itself is stored too (audit), as kind "query".
    const [stored] = await t.engine.store.search({ channelId: 'lab', specimenId: 'SID0001' });
    assert.ok(stored);
    // An unknown specimen gets O-26 Y per the Sysmex profile.
    const unknown = await sim.query(['NOPE']);
    assert.equal(unknown.message.records[2].value(26), 'Y');
  });

  it('keeps garbage, an interrupted message and a wrong record terminator as errored messages with the reason', async () => {
    await deploy('roche-cobas-c311');
    sim = new AnalyzerSimulator({ profile: loadProfile('roche-cobas-c311'), faults: { garbage: 'H|junk without link layer\r' } });
    await sim.connectTcp('127.0.0.1', port);
    // Records separated by LF instead of CR (a wrong terminator) inside an otherwise good session.
    await sim.send('H|\\^&|||c311^1\nP|1\nL|1|N\n');
    await waitFor(async () => (await t.engine.store.search({ channelId: 'lab', status: 'ERROR' })).length >= 2, 5000, 'errored messages');
    const errored = await Promise.all((await t.engine.store.search({ channelId: 'lab', status: 'ERROR' })).map((m) => t.engine.store.get(m.id)));
    const errors = errored.map((m) => m!.error ?? '').sort();
    assert.ok(errors.some((e) => /byte\(s\) received outside an ASTM frame .*set link\.mode: raw/.test(e)), errors.join('\n'));
    assert.ok(errors.some((e) => /terminated by LF \(0x0A\) instead of CR/.test(e)), errors.join('\n'));
    // A connection dropped mid-message: what arrived is kept as errored; the analyser will resend.
    const dropper = new AnalyzerSimulator({ profile: loadProfile('roche-cobas-c311'), faults: { dropAfterFrames: 2 } });
    await dropper.connectTcp('127.0.0.1', port);
    await dropper.send(c311Records()).catch(() => undefined);
    await waitFor(async () => (await t.engine.store.search({ channelId: 'lab', status: 'ERROR' })).length >= 3, 5000, 'third errored message');
    const third = await Promise.all((await t.engine.store.search({ channelId: 'lab', status: 'ERROR' })).map((m) => t.engine.store.get(m.id)));
    assert.ok(third.some((m) => /connection closed before the L record/.test(m!.error ?? '')));
    dropper.close();
  });

  it('NAKs a corrupted frame; the retransmission is stored once', async () => {
    await deploy('roche-cobas-c311');
    sim = new AnalyzerSimulator({ profile: loadProfile('roche-cobas-c311'), faults: { badChecksum: 3 } });
    await sim.connectTcp('127.0.0.1', port);
    await sim.send(c311Records());
    const stored = await t.engine.store.search({ channelId: 'lab' });
    assert.equal(stored.length, 1);
    assert.equal(stored[0].status !== 'ERROR', true);
  });
});

describe('astm source: stored before acknowledged (raw socket, no engine)', () => {
  it('holds the ACK of the frame completing a message until ctx.receive resolves; unavailable → NAK → resend', async () => {
    const received: InboundMessage[] = [];
    const answers: Array<(r: ReceiptResult) => void> = [];
    const ctx: SourceContext = {
      channelId: 'raw',
      log: { info() {}, warn() {}, error() {}, debug() {} } as any,
      dataDir: '',
      certsDir: '',
      lookup: () => undefined,
      reportConnection() {},
      receive: (m) => {
        received.push(m);
        return new Promise((resolve) => answers.push(resolve));
      },
    };
    const port = await freePort();
    const source = new AstmSource(astmSourceConfigSchema.parse({ profile: 'abbott-afinion2', transport: { kind: 'tcp-server', host: '127.0.0.1', port } }));
    await source.start(ctx);
    const socket = net.connect({ host: '127.0.0.1', port });
    const replies: string[] = [];
    let wake: () => void = () => undefined;
    socket.on('data', (b) => {
      replies.push(...b.toString('latin1'));
      wake();
    });
    const reply = () => (replies.length ? Promise.resolve(replies.shift()!) : new Promise<string>((r) => (wake = () => r(replies.shift()!))));
    const send = async (bytes: Buffer | string) => {
      socket.write(bytes);
      return reply();
    };
    try {
      await new Promise((r) => socket.once('connect', r));
      assert.equal(await send(ENQ), ACK);
      assert.equal(await send(frame(1, 'H|\\^&|||Afinion 2 Analyzer^^AF1\r')), ACK);
      assert.equal(await send(frame(2, 'P|1||3643\r')), ACK);
      assert.equal(await send(frame(3, 'O|1||5|^^^HbA1c\r')), ACK);
      assert.equal(await send(frame(4, 'R|1|^^^HbA1c|5.9|%||||F\r')), ACK);
      socket.write(frame(5, 'L|1|N\r'));
      await waitFor(() => received.length === 1, 2000, 'receive called');
      await new Promise((r) => setTimeout(r, 100));
      assert.deepEqual(replies, [], 'no reply while the message is not stored');
      answers.shift()!({ status: 'unavailable', error: 'disk full' });
      assert.equal(await reply(), NAK);
      socket.write(frame(5, 'L|1|N\r')); // the analyser resends the same frame
      await waitFor(() => received.length === 2, 2000, 'second receive');
      answers.shift()!({ status: 'accepted', messageId: 7 });
      assert.equal(await reply(), ACK);
      socket.write(EOT);
      assert.equal(received[1].raw.toString(), 'H|\\^&|||Afinion 2 Analyzer^^AF1\rP|1||3643\rO|1||5|^^^HbA1c\rR|1|^^^HbA1c|5.9|%||||F\rL|1|N\r');
      assert.equal(received[1].correlation?.specimenId, '3643');
      assert.equal(received[1].contentType, 'application/astm');
    } finally {
      socket.destroy();
      await source.stop();
    }
  });
});

// Serial lines for real: socat pseudo-terminal pairs with serialport at both ends (engine source on
// one side, the simulator on the other). Plus raw mode and order download chosen by a profile file.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { astmResultsTransformer } from '../../connectors/astm/channel';
import { AstmOrderDownload } from '../../connectors/astm/destination';
import { InMemoryOrderLookup } from '../../connectors/astm/hostQuery';
import { loadProfile } from '../../devices/analyzers/profile';
import { AnalyzerSimulator } from '../../devices/simulators/analyzer';
import { freePort, startTestEngine, tempDir, waitFor, type TestEngine } from '../helpers/engine';
import { requirePeers } from '../helpers/peers';
import { ptyPair, type PtyPair } from './peers';
import { demoPatient, labOrder } from './helpers';

const fixtures = path.join(__dirname, '..', 'fixtures', 'astm');

describe('astm over serial (socat PTY pair, serialport at both ends)', function () {
  this.timeout(30_000);
  let t: TestEngine;
  let pty: PtyPair;
  let sim: AnalyzerSimulator | undefined;

  beforeEach(async function () {
    requirePeers(this, 'socat');
    pty = await ptyPair();
    t = await startTestEngine();
  });

  afterEach(async () => {
    sim?.close();
    sim = undefined;
    await t?.cleanup();
    await pty?.close();
  });

  it('receives the real c111 upload (seven ETB-chained frames) over the tty', async () => {
    await t.engine.deployChannel({ id: 'c111', name: 'c111', source: { connector: 'astm', config: { profile: 'roche-cobas-c111', transport: { kind: 'serial', path: pty.a } } }, transformer: astmResultsTransformer() });
    sim = new AnalyzerSimulator({ profile: loadProfile('roche-cobas-c111'), link: { frameUnit: 'message', maxSendFrameText: 64 } });
    await sim.openSerial(pty.b);
    const raw = fs.readFileSync(path.join(fixtures, 'roche-c111.astm')).toString('latin1');
    const text = [...raw.matchAll(/\x02[0-7]([^\x03\x17]*)[\x03\x17]/g)].map((m) => m[1]).join('');
    await sim.send(text);
    const [stored] = await t.engine.store.search({ channelId: 'c111', specimenId: 'T20 10134GA D28' });
    assert.ok(stored);
    assert.equal(stored.status === 'ERROR', false);
    const detail = await t.engine.store.get(stored.id);
    assert.equal(detail!.origin.transport, 'serial');
    assert.equal(detail!.origin.remote, pty.a);
    assert.equal(t.engine.describeChannel('c111').connections.find((c) => c.id.startsWith('serial'))?.state, 'connected');
  });

  it('answers a host query over the tty', async () => {
    t.engine.registerService('orders', new InMemoryOrderLookup().add({ specimenId: 'B0042', patient: demoPatient, orders: [labOrder('CD42', 'B0042', ['XN_CTM'])] }));
    await t.engine.deployChannel({ id: 'xn', name: 'xn', source: { connector: 'astm', config: { profile: 'sysmex-xn', hostQuery: { lookupService: 'orders' }, transport: { kind: 'serial', path: pty.a } } }, transformer: astmResultsTransformer() });
    sim = new AnalyzerSimulator({ profile: loadProfile('sysmex-xn') });
    await sim.openSerial(pty.b);
    const reply = await sim.query(['B0042']);
    assert.equal(reply.message.records.map((r) => r.type).join(''), 'HPOL');
    assert.equal(reply.message.records[2].value(3, 3), 'B0042');
  });
});

describe('astm profile quirks from a profile file: raw mode and order download', () => {
  let t: TestEngine;
  let dir: string;

  before(() => {
    dir = tempDir('astm-profiles-');
    // A new analyser is a new file: this one sends bare records (no ENQ/frames) and takes downloads.
    fs.writeFileSync(
      path.join(dir, 'raw-chem.yaml'),
      [
        'id: raw-chem',
        'name: Raw chemistry analyser',
        'vendor: Example',
        'link: { mode: raw }',
        'identifiers:',
        '  specimenId: [{ record: O, field: 3 }]',
        'hostQuery: { enabled: true }',
        'orderDownload: true',
      ].join('\n'),
    );
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  beforeEach(async () => (t = await startTestEngine()));
  afterEach(async () => t.cleanup());

  it('raw mode: bare CR-terminated records without a link layer are stored per message (split across reads)', async () => {
    const port = await freePort();
    await t.engine.deployChannel({ id: 'raw', name: 'raw', source: { connector: 'astm', config: { profile: 'raw-chem', profileDir: dir, transport: { kind: 'tcp-server', host: '127.0.0.1', port } } }, transformer: astmResultsTransformer({ profileDir: dir }) });
    const socket = net.connect({ host: '127.0.0.1', port });
    await new Promise((r) => socket.once('connect', r));
    const text = 'H|\\^&|||RAW\rP|1\rO|1|R-001||^^^GLU\rR|1|^^^GLU|5.6|mmol/L||N||F\rL|1|N\rH|\\^&|||RAW\rP|1\rO|1|R-002||^^^GLU\rR|1|^^^GLU|6.1|mmol/L||N||F\rL|1|N\r';
    for (let i = 0; i < text.length; i += 7) socket.write(text.slice(i, i + 7));
    await waitFor(async () => (await t.engine.store.search({ channelId: 'raw' })).length === 2, 5000, 'two raw messages');
    assert.equal((await t.engine.store.search({ channelId: 'raw', specimenId: 'R-002' })).length, 1);
    assert.equal(socket.bytesRead, 0, 'raw mode never answers');
    socket.destroy();
  });

  it('order download: the astm destination sends H, P, O, L to the connected analyser and waits for its ACKs', async () => {
    const port = await freePort();
    await t.engine.deployChannel({ id: 'dl', name: 'dl', source: { connector: 'astm', config: { profile: 'raw-chem', profileDir: dir, analyzerId: 'CHEM-1', link: { mode: 'lis1a' }, transport: { kind: 'tcp-server', host: '127.0.0.1', port } } } });
    const profile = { ...loadProfile('raw-chem', dir), link: { ...loadProfile('raw-chem', dir).link, mode: 'lis1a' as const } };
    const sim = new AnalyzerSimulator({ profile });
    await sim.connectTcp('127.0.0.1', port);
    await waitFor(() => t.engine.describeChannel('dl').connections.some((c) => c.state === 'connected'), 5000, 'analyser connected');
    const destination = new AstmOrderDownload({ analyzerId: 'CHEM-1', lookupService: 'his' });
    await destination.start(t.engine.connectorServices());
    const incoming = sim.nextMessage();
    const body = { specimenId: 'DL-9', patient: demoPatient, orders: [{ ...labOrder('CD9', 'DL-9', ['XN_GLU', 'XN_CRE']), priority: 'stat' }] };
    const result = await destination.send(
      { content: Buffer.from(JSON.stringify(body)), contentType: 'application/json', messageId: 1, channelId: 'x', correlation: {} },
      { idempotencyKey: 'k', attempt: 1, destination: 'astm', signal: new AbortController().signal },
    );
    assert.match(result.response!, /orders for specimen DL-9 acknowledged by CHEM-1/);
    const got = await incoming;
    const [h, p, o, l] = got.message.records;
    assert.equal(h.type + p.type + o.type + l.type, 'HPOL');
    assert.equal(o.value(3), 'DL-9');
    assert.deepEqual(o.repeats(5).map((rep) => rep[3]), ['GLU', 'CREA']);
    assert.equal(o.value(6), 'S');
    assert.equal(o.value(12), 'N');
    assert.equal(o.value(26), 'O');
    assert.equal(p.value(6, 1), 'Nguyen');
    sim.close();
    await assert.rejects(
      new AstmOrderDownload({ analyzerId: 'nobody', lookupService: 'his' }).send({ content: Buffer.from('{}'), contentType: 'application/json', messageId: 2, channelId: 'x', correlation: {} }, { idempotencyKey: 'k2', attempt: 1, destination: 'astm', signal: new AbortController().signal }),
      /no astm source for analyser nobody is running/,
    );
  });
});

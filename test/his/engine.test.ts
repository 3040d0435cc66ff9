// The his-db connector inside a real engine: orders polled from the demo HIS go through a channel
// whose transformer plays the analyser, results are written back by the his-db destination, and an
// engine restart neither repeats an order nor duplicates a result. Plus the failure paths.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { hisDbConnector, hisModule } from '../../connectors/his-db';
import { hisDbConfigSchema } from '../../connectors/his-db/config';
import { HisResultDestination } from '../../connectors/his-db/destination';
import { HisDatabase } from '../../connectors/his-db/his-database';
import { HisOrderSource } from '../../connectors/his-db/source';
import { defineChannel } from '../../engine/channel/definition';
import { ConnectorRegistry } from '../../engine/connectors/registry';
import { PermanentDeliveryError, type ConnectionStatus } from '../../engine/connectors/types';
import { Engine } from '../../engine/engine';
import { createDemoHis } from '../../his/demo';
import { HIS_SERVICE, type HisLookups } from '../../his/lookups';
import { LabCodeMap } from '../../his/mapping/code-maps';
import { loadMapping } from '../../his/mapping/load';
import { RESULT_CONTENT_TYPE } from '../../his/messages';
import type { LabOrder, ResultBatch } from '../../model';
import { waitFor } from '../helpers/engine';
import { countRows, insertLabOrder } from './helpers';

const labCodes = LabCodeMap.load();

/** The channel: open lab orders → (analyser stand-in) → results back into the HIS. */
function roundTripChannel(file: string) {
  return defineChannel<LabOrder>({
    id: 'lab-roundtrip',
    name: 'Lab orders → results',
    source: { connector: 'his-db', config: { connection: { type: 'sqlite', file }, orderKinds: ['lab'], filter: { statuses: ['ordered', 'collected'] }, startFrom: 'beginning', pollIntervalMs: 100 } },
    transformer: (m): ResultBatch => ({
      orderId: m.parsed.id,
      results: m.parsed.tests.flatMap((t) =>
        labCodes.forHisService(t.hisServiceCode).map((e) => ({ code: e.analyserCode, value: '5.0', valueType: 'numeric' as const, status: 'final' as const, observedAt: new Date().toISOString(), device: { id: m.parsed.analyserId ?? 'AU480' } })),
      ),
    }),
    contentType: RESULT_CONTENT_TYPE,
    destinations: [{ name: 'his', connector: 'his-db', config: { connection: { type: 'sqlite', file } }, queue: { orderBy: 'specimenId' } }],
  });
}

function engineAt(dataDir: string): Engine {
  return new Engine({ dataDir, certsDir: path.join(dataDir, 'certs'), registry: new ConnectorRegistry().register(hisDbConnector), retentionIntervalMs: 0, alertIntervalMs: 0 });
}

async function freeClosedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('his-db connector in the engine', function () {
  this.timeout(120_000);
  let root: string;
  let file: string;
  let his: HisDatabase;

  before(async () => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-his-engine-'));
    file = path.join(root, 'his.sqlite');
    await createDemoHis({ file, seed: 11, visits: 200 });
    his = await HisDatabase.open({ type: 'sqlite', file }, loadMapping('demo-his'));
  });

  after(async () => {
    await his?.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  const openLabOrders = async () => (await his.pollOrders('lab', { since: '0001-01-01 00:00:00.000' }, { statuses: ['ordered', 'collected'] }, 100_000)).length;

  it('delivers open lab orders once, writes their results back once, and a restart repeats nothing', async () => {
    const dataDir = path.join(root, 'engine-data');
    const resultsBefore = await countRows(his, 'XN_KETQUA');
    const open = await his.pollOrders('lab', { since: '0001-01-01 00:00:00.000' }, { statuses: ['ordered', 'collected'] }, 100_000);
    assert.ok(open.length > 5, 'the demo HIS has open lab orders today');
    const expectedResults = open.reduce((n, r) => n + (r.order as LabOrder).tests.reduce((m, t) => m + labCodes.forHisService(t.hisServiceCode).length, 0), 0);

    let engine = engineAt(dataDir);
    await engine.start();
    await engine.deployChannel(roundTripChannel(file));
    await waitFor(async () => (await openLabOrders()) === 0, 30_000, 'every open order completed');
    await engine.whenIdle('lab-roundtrip');
    assert.equal(await countRows(his, 'XN_KETQUA'), resultsBefore + expectedResults);
    const messages = await engine.store.search({ channelId: 'lab-roundtrip', limit: 100_000 });
    assert.equal(messages.length, open.length, 'one message per order');
    await engine.stop();

    // A new order arrives while the engine is down; after the restart only it is processed.
    const template = open[0].order as LabOrder;
    await insertLabOrder(his, { id: 'XN91000001', maLk: template.maLk, patientId: template.patientId, specimenId: '2691000001', updatedAt: new Date(), tests: ['XN_GLU', 'XN_CTM'] });
    engine = engineAt(dataDir);
    await engine.start();
    await engine.deployChannel(roundTripChannel(file));
    await waitFor(async () => (await his.orderById('XN91000001'))?.status === 'completed', 30_000, 'the new order completed');
    await engine.whenIdle('lab-roundtrip');
    const source = engine.describeChannel('lab-roundtrip').connections.find((c) => c.id === 'his-db');
    assert.ok(source && ['polling', 'idle'].includes(source.state));
    assert.equal(await countRows(his, 'XN_KETQUA'), resultsBefore + expectedResults + 1 + 5);
    assert.equal((await engine.store.search({ channelId: 'lab-roundtrip', limit: 100_000 })).length, open.length + 1, 'no order was delivered twice');
    await engine.stop();
  });

  it('a redelivered result message (same idempotency key) updates instead of duplicating', async () => {
    const destination = new HisResultDestination(hisDbConfigSchema.parse({ connection: { type: 'sqlite', file } }));
    await destination.start({ log: winston.createLogger({ silent: true }), dataDir: root, certsDir: root, lookup: () => undefined });
    const order = (await his.pollOrders('lab', { since: '0001-01-01 00:00:00.000' }, {}, 1))[0].order as LabOrder;
    const batch: ResultBatch = { specimenId: order.specimen.id, results: [{ code: 'GLU', value: '6.1', valueType: 'numeric', status: 'corrected', observedAt: '2026-11-22T09:00:00+07:00', device: { id: 'AU480' } }] };
    const message = { content: Buffer.from(JSON.stringify(batch)), contentType: RESULT_CONTENT_TYPE, messageId: 1, channelId: 'c', correlation: {} };
    const ctx = { idempotencyKey: '1.0.his', attempt: 1, destination: 'his', signal: new AbortController().signal };
    const first = JSON.parse((await destination.send(message, ctx)).response!);
    const again = JSON.parse((await destination.send(message, { ...ctx, attempt: 2 })).response!);
    assert.equal(first.inserted, 1);
    assert.deepEqual([again.inserted, again.updated], [0, 1]);
    await assert.rejects(destination.send({ ...message, content: Buffer.from('{"orderId": 5') }, ctx), (e: unknown) => e instanceof PermanentDeliveryError && /not JSON/.test((e as Error).message));
    await assert.rejects(destination.send({ ...message, content: Buffer.from(JSON.stringify({ orderId: 'X', results: [{ code: 'GLU', value: '1', status: 'final' }] })) }, ctx), (e: unknown) => e instanceof PermanentDeliveryError && /results\.0\.observedAt/.test((e as Error).message));
    await assert.rejects(destination.send({ ...message, content: Buffer.from(JSON.stringify({ ...batch, specimenId: 'NO-TUBE' })) }, ctx), (e: unknown) => e instanceof PermanentDeliveryError && /no order found/.test((e as Error).message));
    await destination.stop();
  });

  it('an unreachable database: the source backs off and reports unhealthy, the destination asks for a retry', async () => {
    const port = await freeClosedPort();
    const connection = { type: 'postgres' as const, host: '127.0.0.1', port, database: 'nowhere', username: 'postgres' };
    const states: ConnectionStatus[] = [];
    const source = new HisOrderSource(hisDbConfigSchema.parse({ connection, backoff: { initialMs: 40, maxMs: 200 } }));
    const started = Date.now();
    await source.start({
      channelId: 'down',
      dataDir: path.join(root, 'down'),
      certsDir: root,
      log: winston.createLogger({ silent: true }),
      lookup: () => undefined,
      receive: async () => ({ status: 'unavailable', error: 'not expected' }),
      reportConnection: (s) => states.push({ since: '', ...s }),
    });
    await waitFor(() => states.filter((s) => s.state === 'error').length >= 3, 20_000, 'three failed attempts');
    await source.stop();
    const errors = states.filter((s) => s.state === 'error');
    assert.match(errors[0].detail ?? '', /unreachable/);
    assert.deepEqual(errors.slice(0, 3).map((s) => s.counters?.failures), [1, 2, 3]);
    assert.ok(Date.now() - started >= 40 + 80, 'waited between attempts (backoff)');
    assert.equal(states[states.length - 1].state, 'stopped');

    const destination = new HisResultDestination(hisDbConfigSchema.parse({ connection }));
    await destination.start({ log: winston.createLogger({ silent: true }), dataDir: root, certsDir: root, lookup: () => undefined });
    const message = { content: Buffer.from(JSON.stringify({ orderId: 'XN1', orderStatus: 'completed' })), contentType: RESULT_CONTENT_TYPE, messageId: 1, channelId: 'c', correlation: {} };
    await assert.rejects(destination.send(message, { idempotencyKey: 'k', attempt: 1, destination: 'his', signal: new AbortController().signal }), (e: unknown) => !(e instanceof PermanentDeliveryError) && /unreachable/.test((e as Error).message));
    await destination.stop();
  });

  it('when the engine refuses an order (store unavailable) the source backs off and delivers it later, missing none', async () => {
    const expected = (await his.pollOrders('lab', { since: '0001-01-01 00:00:00.000' }, {}, 100_000)).map((r) => r.id);
    const accepted: string[] = [];
    let calls = 0;
    const states: ConnectionStatus[] = [];
    const source = new HisOrderSource(hisDbConfigSchema.parse({ connection: { type: 'sqlite', file }, orderKinds: ['lab'], startFrom: 'beginning', receiveConcurrency: 4, batchSize: 50, pollIntervalMs: 50, backoff: { initialMs: 20, maxMs: 50 } }));
    await source.start({
      channelId: 'refusals',
      dataDir: path.join(root, 'refusals'),
      certsDir: root,
      log: winston.createLogger({ silent: true }),
      lookup: () => undefined,
      receive: async (m) => {
        if (++calls === 6) return { status: 'unavailable', error: 'store full' };
        accepted.push(m.meta!.orderId);
        return { status: 'accepted', messageId: calls };
      },
      reportConnection: (s) => states.push({ since: '', ...s }),
    });
    await waitFor(() => new Set(accepted).size === expected.length, 20_000, 'every order accepted');
    await source.stop();
    assert.ok(states.some((s) => s.state === 'error' && /store full/.test(s.detail ?? '')), 'the refusal was reported');
    assert.deepEqual([...new Set(accepted)].sort(), [...expected].sort());
    assert.ok(accepted.length - expected.length <= 3, 'at most the rest of one window is handed over twice');
  });

  it('the HIS module creates the demo HIS on first start and registers the lookups service', async () => {
    const dataDir = path.join(root, 'module-data');
    fs.mkdirSync(dataDir, { recursive: true });
    const services = new Map<string, unknown>();
    const fakeEngine = { dataDir, registerService: (n: string, s: unknown) => services.set(n, s), log: winston.createLogger({ silent: true }) };
    const started = await hisModule().start({ engine: fakeEngine as never, config: {} as never, security: {} as never });
    const lookups = services.get(HIS_SERVICE) as HisLookups;
    assert.ok(fs.existsSync(path.join(dataDir, 'demo-his.sqlite')));
    assert.equal((await lookups.facility()).code, '01999');
    assert.ok((await lookups.scheduledImagingOrders()).length > 0, 'a worklist for today');
    await started!.stop!();
  });
});

import assert from 'node:assert/strict';
import { defineChannel } from '../../engine/channel/definition';
import { backoffDelay } from '../../engine/delivery/destination-worker';
import type { EngineOptions } from '../../engine/engine';
import { freePort, post, startRecorder, startTestEngine as startEngine, tempDir, waitFor, type TestEngine } from '../helpers/engine';
import { createStore, storeKinds } from '../helpers/stores';

for (const kind of storeKinds)
describe(`engine: receive, store, deliver (${kind} store)`, () => {
  let t: TestEngine | undefined;
  let dropStore: (() => Promise<void>) | undefined;
  let ctx: Mocha.Context;
  beforeEach(function () {
    ctx = this;
  });
  afterEach(async () => {
    if (t) await t.cleanup();
    t = undefined;
    if (dropStore) await dropStore().catch(() => undefined);
    dropStore = undefined;
  });
  // Each test gets an engine on a fresh store of this kind.
  const startTestEngine = async (options: Partial<EngineOptions> = {}) => {
    const created = await createStore(kind, ctx, tempDir());
    // The engine closes the store on stop; the PostgreSQL test database is dropped afterwards.
    dropStore = async () => {
      await created.cleanup().catch(() => undefined);
    };
    t = await startEngine({ store: created.store, ...options });
    return t;
  };

  it('stores before acknowledging and delivers with a stable idempotency key', async () => {
    t = await startTestEngine();
    const recorder = await startRecorder();
    const port = await freePort();
    await t!.engine.deployChannel(
      defineChannel({
        id: 'lab',
        name: 'Lab',
        source: { connector: 'http', config: { port, correlationHeaders: { 'x-patient-id': 'patientId' } } },
        transformer: (m) => ({ upper: m.text.toUpperCase() }),
        destinations: [{ name: 'his', connector: 'http', config: { url: recorder.url } }],
      }),
    );
    const answer = await post(`http://127.0.0.1:${port}/`, 'xin chào', { 'x-patient-id': 'BN001' });
    assert.equal(answer.status, 200);
    assert.equal(answer.body.status, 'accepted');
    await waitFor(() => recorder.received.length === 1, 5000, 'delivery');
    assert.deepEqual(JSON.parse(recorder.received[0].body), { upper: 'XIN CHÀO' });
    assert.equal(recorder.received[0].idempotencyKey, `${answer.body.messageId}.0.his`);
    await waitFor(async () => (await t!.engine.store.get(answer.body.messageId))?.status === 'SENT', 5000, 'SENT status');
    const detail = (await t!.engine.store.get(answer.body.messageId))!;
    assert.deepEqual(detail.correlation, { patientId: 'BN001' });
    assert.deepEqual(detail.contents.map((c) => c.stage), ['raw', 'transformed', 'sent:his']);
    assert.equal(detail.attempts.length, 1);
    assert.equal(detail.attempts[0].ok, true);
    const found = await t!.engine.store.search({ text: 'bn001' });
    assert.equal(found.length, 1);
    await recorder.close();
  });

  it('retries with backoff, then dead-letters; replay delivers after the fix', async () => {
    t = await startTestEngine();
    let failing = true;
    const recorder = await startRecorder(() => (failing ? 503 : 200));
    const port = await freePort();
    await t!.engine.deployChannel({
      id: 'retry',
      name: 'Retry',
      source: { connector: 'http', config: { port } },
      destinations: [{ name: 'out', connector: 'http', config: { url: recorder.url }, queue: { maxAttempts: 3, initialBackoffMs: 20, maxBackoffMs: 50 } }],
    } as any);
    const answer = await post(`http://127.0.0.1:${port}/`, 'm1');
    await waitFor(async () => (await t!.engine.store.deadLetters({})).length === 1, 5000, 'dead letter');
    const [dead] = await t!.engine.store.deadLetters({});
    assert.equal(dead.attempts, 3);
    assert.match(dead.lastError ?? '', /HTTP 503/);
    const detail = (await t!.engine.store.get(answer.body.messageId))!;
    assert.equal(detail.status, 'DEAD');
    assert.equal(detail.attempts.length, 3);
    assert.ok(detail.attempts.every((a) => !a.ok));
    failing = false;
    assert.equal(await t!.engine.replayDeadLetters([dead.queueId]), 1);
    await waitFor(() => recorder.received.length === 1, 5000, 'replayed delivery');
    await waitFor(async () => (await t!.engine.store.get(answer.body.messageId))!.status === 'SENT', 5000, 'SENT');
    await recorder.close();
  });

  it('a permanent refusal (HTTP 400) dead-letters at once', async () => {
    t = await startTestEngine();
    const recorder = await startRecorder(() => 400);
    const port = await freePort();
    await t!.engine.deployChannel({ id: 'perm', name: 'P', source: { connector: 'http', config: { port } }, destinations: [{ name: 'out', connector: 'http', config: { url: recorder.url } }] } as any);
    await post(`http://127.0.0.1:${port}/`, 'x');
    await waitFor(async () => (await t!.engine.store.deadLetters({})).length === 1, 5000, 'dead letter');
    assert.equal((await t!.engine.store.deadLetters({}))[0].attempts, 1);
    await recorder.close();
  });

  it('keeps order per key while other keys proceed, through failures', async () => {
    t = await startTestEngine();
    // Patient A's first delivery keeps failing until all of B's messages arrived: B must not wait
    // behind A (else this never ends), and A's messages must still arrive in order afterwards.
    const recorder = await startRecorder((req) => {
      if (req.body === 'A-1' && !recorder.received.some((r) => r.body === 'B-5')) return 500;
      return 200;
    });
    const port = await freePort();
    await t!.engine.deployChannel({
      id: 'order',
      name: 'Order',
      source: { connector: 'http', config: { port, correlationHeaders: { 'x-patient-id': 'patientId' } } },
      destinations: [{ name: 'out', connector: 'http', config: { url: recorder.url }, queue: { initialBackoffMs: 100, maxBackoffMs: 200, concurrency: 4, orderBy: 'patientId' } }],
    } as any);
    for (let i = 1; i <= 5; i++) {
      await post(`http://127.0.0.1:${port}/`, `A-${i}`, { 'x-patient-id': 'A' });
      await post(`http://127.0.0.1:${port}/`, `B-${i}`, { 'x-patient-id': 'B' });
    }
    await waitFor(() => recorder.received.length === 10, 10_000, '10 deliveries');
    const bodies = recorder.received.map((r) => r.body);
    assert.deepEqual(bodies.filter((b) => b.startsWith('A')), ['A-1', 'A-2', 'A-3', 'A-4', 'A-5']);
    assert.deepEqual(bodies.filter((b) => b.startsWith('B')), ['B-1', 'B-2', 'B-3', 'B-4', 'B-5']);
    // B finished while A was still backing off.
    assert.ok(bodies.indexOf('B-5') < bodies.indexOf('A-1'), `B should overtake the failing A: ${bodies.join(',')}`);
    await recorder.close();
  });

  it('a transformer that throws marks the message errored, keeps it, and the next message continues; reprocess after a fix', async () => {
    t = await startTestEngine();
    const recorder = await startRecorder();
    const port = await freePort();
    let broken = true;
    await t!.engine.deployChannel({
      id: 'tx',
      name: 'Tx',
      source: { connector: 'http', config: { port } },
      transformer: (m: any) => {
        if (broken && m.text === 'bad') throw new Error('cannot map this result');
        return m.text;
      },
      destinations: [{ name: 'out', connector: 'http', config: { url: recorder.url } }],
    } as any);
    const bad = await post(`http://127.0.0.1:${port}/`, 'bad');
    assert.equal(bad.status, 422);
    assert.match(bad.body.error, /cannot map this result/);
    const good = await post(`http://127.0.0.1:${port}/`, 'good');
    assert.equal(good.status, 200);
    await waitFor(() => recorder.received.length === 1, 5000, 'good delivered');
    const stored = (await t!.engine.store.get(bad.body.messageId))!;
    assert.equal(stored.status, 'ERROR');
    assert.match(stored.error ?? '', /transformer: Error: cannot map this result\n\s+at /);
    broken = false;
    const [outcome] = await t!.engine.reprocess([bad.body.messageId]);
    assert.equal(outcome.ok, true, JSON.stringify(outcome));
    await waitFor(() => recorder.received.length === 2, 5000, 'reprocessed delivered');
    assert.equal(recorder.received[1].body, 'bad');
    assert.equal(recorder.received[1].idempotencyKey, `${bad.body.messageId}.1.out`);
    await recorder.close();
  });

  it('filters store the message as FILTERED and deliver nothing', async () => {
    t = await startTestEngine();
    const recorder = await startRecorder();
    const port = await freePort();
    await t!.engine.deployChannel({
      id: 'flt',
      name: 'F',
      source: { connector: 'http', config: { port } },
      filters: [(m: any) => (m.text.startsWith('QC') ? 'quality-control sample' : true)],
      destinations: [{ name: 'out', connector: 'http', config: { url: recorder.url } }],
    } as any);
    const answer = await post(`http://127.0.0.1:${port}/`, 'QC-123');
    assert.equal(answer.body.status, 'filtered');
    assert.equal(answer.body.reason, 'quality-control sample');
    assert.equal((await t!.engine.store.get(answer.body.messageId))!.status, 'FILTERED');
    await recorder.close();
  });

  it('end-to-end acknowledgement waits for every destination', async () => {
    t = await startTestEngine();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const recorder = await startRecorder();
    const port = await freePort();
    await t!.engine.deployChannel({
      id: 'e2e',
      name: 'E2E',
      source: { connector: 'http', config: { port, ackMode: 'delivered' } },
      transformer: async (m: any) => {
        await gate;
        return m.text;
      },
      destinations: [{ name: 'out', connector: 'http', config: { url: recorder.url } }],
    } as any);
    const pending = post(`http://127.0.0.1:${port}/`, 'x');
    await new Promise((r) => setTimeout(r, 50));
    assert.equal(recorder.received.length, 0);
    release();
    const answer = await pending;
    assert.equal(answer.body.status, 'accepted');
    assert.equal(recorder.received.length, 1, 'delivered before the answer');
    await recorder.close();
  });

});

describe('delivery backoff', () => {
  it('grows exponentially with jitter and stays under the cap', () => {
    const policy = { initialBackoffMs: 100, maxBackoffMs: 1000 };
    assert.equal(backoffDelay(1, policy, () => 0), 50);
    assert.equal(backoffDelay(1, policy, () => 1), 100);
    assert.equal(backoffDelay(3, policy, () => 1), 400);
    assert.equal(backoffDelay(10, policy, () => 1), 1000);
    assert.equal(backoffDelay(10, policy, () => 0), 500);
  });
});

describe('engine: store unavailable (sqlite)', () => {
  it('a full store makes the source refuse (503) instead of acknowledging, and /health says why', async () => {
    const { SqliteMessageStore } = await import('../../engine/store/sqlite-store');
    const { tempDir } = await import('../helpers/engine');
    const path = await import('node:path');
    const dir = tempDir();
    const store = new SqliteMessageStore({ file: path.join(dir, 'full.db'), maxSizeBytes: 512 * 1024 });
    const t = await startEngine({ store });
    try {
      const port = await freePort();
      await t!.engine.deployChannel({ id: 'full', name: 'Full', source: { connector: 'http', config: { port } } } as any);
      let refused: { status: number; body: any } | undefined;
      for (let i = 0; i < 2000 && !refused; i++) {
        const answer = await post(`http://127.0.0.1:${port}/`, 'x'.repeat(4000));
        if (answer.status !== 200) refused = answer;
      }
      assert.ok(refused, 'the store never filled up');
      assert.equal(refused.status, 503);
      assert.match(refused.body.error, /full/);
      const health = t!.engine.health();
      assert.equal(health.ok, false);
      assert.match(health.store.reason ?? '', /database or disk is full/);
      assert.equal(t!.engine.ready().ready, false);
      assert.ok(t!.engine.listAlerts().some((a) => a.kind === 'store'));
    } finally {
      await t.cleanup();
    }
  });
});

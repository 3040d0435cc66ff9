import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { PostgresMessageStore } from '../../engine/store/postgres-store';
import { SqliteMessageStore } from '../../engine/store/sqlite-store';
import type { MessageStore, NewMessage } from '../../engine/store/types';
import { tempDir } from '../helpers/engine';
import { createStore, storeKinds } from '../helpers/stores';

function message(i: number, extra: Partial<NewMessage> = {}): NewMessage {
  const raw = Buffer.from(`MSH|^~\\&|LAB|BV|HIS|BV|20261122||ORU^R01|${i}|P|2.5.1\r`.padEnd(1024, 'x'));
  return {
    channelId: 'lab',
    receivedAt: new Date(),
    status: 'QUEUED',
    contentType: 'application/hl7-v2',
    size: raw.length,
    origin: {},
    correlation: { patientId: `BN${i % 100}`, controlId: `C${i}` },
    meta: { patientName: i % 2 ? 'Nguyễn Văn Đức' : 'Trần Thị Mai' },
    contents: [{ stage: 'raw', contentType: 'application/hl7-v2', data: raw }],
    deliveries: [],
    ...extra,
  };
}

const queued = (orderKey: string | null = null) => ({ destination: 'his', status: 'QUEUED' as const, content: Buffer.from('x'), contentType: 'text/plain', orderKey, maxAttempts: 3 });

for (const kind of storeKinds) {
  describe(`message store (${kind})`, function () {
    let dir: string;
    let store: MessageStore;
    let cleanup: () => Promise<void>;
    const open = async (ctx: Mocha.Context, options = {}) => {
      const created = await createStore(kind, ctx, dir, options);
      store = created.store;
      cleanup = created.cleanup;
    };
    beforeEach(() => {
      dir = tempDir('hisbridge-store-');
      cleanup = async () => undefined;
    });
    afterEach(async () => {
      await cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    });

    it('group-commits concurrent appends and finds them by every key and by folded text', async function () {
      await open(this);
      const ids = await Promise.all(Array.from({ length: 500 }, (_, i) => store.append(message(i))));
      assert.equal(new Set(ids).size, 500);
      assert.deepEqual((await store.search({ controlId: 'C42' })).map((m) => m.id), [ids[42]]);
      assert.equal((await store.search({ patientId: 'BN7', limit: 1000 })).length, 5);
      assert.equal((await store.search({ text: 'nguyen van duc', limit: 1000 })).length, 250);
      assert.equal((await store.search({ text: 'Đức', limit: 1000 })).length, 250);
      const page1 = await store.search({ limit: 100 });
      const page2 = await store.search({ limit: 100, beforeId: page1[99].id });
      assert.equal(page2.length, 100);
      assert.ok(page2[0].id < page1[99].id);
      assert.equal(new Set([...page1, ...page2].map((m) => m.id)).size, 200);
      const detail = await store.get(ids[1]);
      assert.equal(detail!.contents[0].data.length, 1024);
      assert.equal(detail!.meta.patientName, 'Nguyễn Văn Đức');
    });

    it('a failing operation fails alone', async function () {
      await open(this);
      const good = store.append(message(1));
      const bad = store.requeue(999_999, [], 'QUEUED');
      const good2 = store.append(message(2));
      assert.ok((await good) > 0);
      await assert.rejects(bad, /999999/);
      assert.ok((await good2) > 0);
    });

    it('queues deliveries, records attempts, dead-letters, replays and discards', async function () {
      await open(this);
      const id = await store.append(message(1, { deliveries: [queued('patientId:A')] }));
      const [first] = await store.readyDeliveries('lab', 'his', 0, 10);
      assert.equal(first.messageId, id);
      assert.equal(first.idempotencyKey, `${id}.0.his`);
      await store.recordFailure(first, { error: 'HIS down', durationMs: 3, retryAt: null });
      assert.equal((await store.get(id))!.status, 'DEAD');
      const [dead] = await store.deadLetters({});
      assert.equal(dead.lastError, 'HIS down');
      assert.equal(await store.replayDead([dead.queueId]), 1);
      const [again] = await store.readyDeliveries('lab', 'his', 0, 10);
      await store.recordSuccess(again, { response: 'AA', durationMs: 2, keepContent: true });
      const detail = (await store.get(id))!;
      assert.equal(detail.status, 'SENT');
      assert.deepEqual(detail.attempts.map((a) => a.ok), [false, true]);
      assert.ok(detail.contents.some((c) => c.stage === 'sent:his'));
      const id2 = await store.append(message(2, { deliveries: [queued()] }));
      const [d2] = await store.readyDeliveries('lab', 'his', 0, 10);
      await store.recordFailure(d2, { error: 'nope', durationMs: 1, retryAt: null });
      assert.equal(await store.discardDead([(await store.deadLetters({}))[0].queueId]), 1);
      assert.equal((await store.get(id2))!.destinations[0].status, 'DISCARDED');
      assert.deepEqual(await store.queueDepths(), []);
    });

    it('retention drops whole partitions, never ones with queued deliveries', async function () {
      this.timeout(30_000);
      await open(this, { partitionMs: 200, retentionMs: 600 });
      const pinned = await store.append(message(0, { deliveries: [queued()] }));
      const dropped: string[] = [];
      const sizes: number[] = [];
      const until = Date.now() + 5000;
      let i = 1;
      while (Date.now() < until) {
        await Promise.all(Array.from({ length: 50 }, () => store.append(message(i++))));
        if (i % 500 < 50) {
          dropped.push(...(await store.applyRetention()).dropped);
          if (store instanceof SqliteMessageStore) sizes.push(fs.statSync(path.join(dir, 'store.db')).size);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
      assert.ok(dropped.length > 10, `expected many dropped partitions, got ${dropped.length}`);
      assert.ok(await store.get(pinned), 'the partition holding a queued delivery was kept');
      assert.ok(i > 1500, `steady load too small: ${i}`);
      if (store instanceof SqliteMessageStore) {
        assert.ok(store.partitionCount() < 15, `partitions: ${store.partitionCount()}`);
        const half = sizes[Math.floor(sizes.length / 2)];
        const last = sizes[sizes.length - 1];
        assert.ok(last <= half * 1.25, `file kept growing: ${half} → ${last} bytes (sizes ${sizes.join(',')})`);
      }
      if (store instanceof PostgresMessageStore) {
        const tables = await store.pool.query(`SELECT count(*)::int AS n FROM pg_tables WHERE tablename LIKE 'hb_messages_p%'`);
        assert.ok(tables.rows[0].n < 15, `partitions: ${tables.rows[0].n}`);
      }
    });
  });
}

describe('message store (sqlite only)', () => {
  it('survives reopening: ids keep growing and content is intact', async () => {
    const dir = tempDir('hisbridge-store-');
    const file = path.join(dir, 's.db');
    let store = new SqliteMessageStore({ file });
    const first = await store.append(message(1));
    await store.close();
    store = new SqliteMessageStore({ file });
    const second = await store.append(message(2));
    assert.ok(second > first);
    assert.equal((await store.get(first))!.contents[0].data.length, 1024);
    await store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
});

describe('message store (postgres only): leases across nodes', () => {
  it('claims only the first delivery of each key, never one leased by another node, and takes over expired leases', async function () {
    const { createTestDatabase } = await import('../helpers/stores');
    const { requireService } = await import('../helpers/peers');
    await requireService(this, 'PostgreSQL', '127.0.0.1', 5432);
    const db = await createTestDatabase();
    const a = new PostgresMessageStore({ connectionString: db.url, nodeId: 'a', leaseMs: 300 });
    const b = new PostgresMessageStore({ connectionString: db.url, nodeId: 'b', leaseMs: 300 });
    try {
      await a.whenReady();
      await b.whenReady();
      for (let i = 0; i < 3; i++) await a.append(message(i, { deliveries: [queued('patientId:P1')] }));
      await a.append(message(9, { deliveries: [queued('patientId:P2')] }));
      const byA = await a.claimDeliveries('lab', 'his', 10);
      assert.deepEqual(byA.map((d) => d.orderKey), ['patientId:P1', 'patientId:P2'], 'only the heads of P1 and P2');
      assert.deepEqual(await b.claimDeliveries('lab', 'his', 10), [], 'B may not take what A holds, nor the next of P1');
      await new Promise((r) => setTimeout(r, 350)); // A "dies": its leases expire
      const byB = await b.claimDeliveries('lab', 'his', 10);
      assert.deepEqual(byB.map((d) => d.queueId).sort(), byA.map((d) => d.queueId).sort(), 'B takes over the expired leases');
      await b.recordSuccess(byB.find((d) => d.orderKey === 'patientId:P1')!, { durationMs: 1, keepContent: false });
      const next = await b.claimDeliveries('lab', 'his', 10);
      assert.equal(next.length, 1, 'now the second P1 delivery is the head');
      assert.equal(next[0].orderKey, 'patientId:P1');
      const lease = await a.tryAcquireLease!('serial:/dev/ttyS0');
      assert.ok(lease);
      assert.equal(await b.tryAcquireLease!('serial:/dev/ttyS0'), undefined);
      await lease!.release();
      const moved = await b.tryAcquireLease!('serial:/dev/ttyS0');
      assert.ok(moved, 'the lease moves once released');
      await moved!.release();
    } finally {
      await a.close();
      await b.close();
      await db.drop();
    }
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { SqliteMessageStore } from '../../engine/store/sqlite-store';
import type { NewMessage } from '../../engine/store/types';
import { tempDir } from '../helpers/engine';

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

describe('SQLite message store', () => {
  let dir: string;
  beforeEach(() => (dir = tempDir('hisbridge-store-')));
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('group-commits concurrent appends and finds them by every key and by folded text', async () => {
    const store = new SqliteMessageStore({ file: path.join(dir, 's.db') });
    const ids = await Promise.all(Array.from({ length: 500 }, (_, i) => store.append(message(i))));
    assert.equal(new Set(ids).size, 500);
    assert.deepEqual((await store.search({ controlId: 'C42' })).map((m) => m.id), [ids[42]]);
    assert.equal((await store.search({ patientId: 'BN7', limit: 1000 })).length, 5);
    assert.equal((await store.search({ text: 'nguyen van duc', limit: 1000 })).length, 250);
    assert.equal((await store.search({ text: 'Đức', limit: 1000 })).length, 250);
    const page1 = await store.search({ limit: 100 });
    const page2 = await store.search({ limit: 100, beforeId: page1[99].id });
    assert.equal(page2[0].id, page1[99].id - 1);
    await store.close();
  });

  it('survives reopening: ids keep growing and content is intact', async () => {
    const file = path.join(dir, 's.db');
    let store = new SqliteMessageStore({ file });
    const first = await store.append(message(1));
    await store.close();
    store = new SqliteMessageStore({ file });
    const second = await store.append(message(2));
    assert.ok(second > first);
    const detail = await store.get(first);
    assert.equal(detail!.contents[0].data.length, 1024);
    assert.equal(detail!.meta.patientName, 'Nguyễn Văn Đức');
    await store.close();
  });

  it('one failing operation in a batch fails alone', async () => {
    const store = new SqliteMessageStore({ file: path.join(dir, 's.db') });
    const good = store.append(message(1));
    const bad = store.requeue(999_999, [], 'QUEUED');
    const good2 = store.append(message(2));
    assert.ok((await good) > 0);
    await assert.rejects(bad, /999999/);
    assert.ok((await good2) > 0);
    await store.close();
  });

  it('retention drops whole partitions (never ones with queued deliveries) and the file stops growing under steady load', async function () {
    this.timeout(30_000);
    const file = path.join(dir, 's.db');
    const partitionMs = 200;
    const store = new SqliteMessageStore({ file, partitionMs, retentionMs: 600, synchronous: 'normal' });
    // One message keeps a queued delivery: its partition must survive retention.
    const pinned = await store.append(
      message(0, { deliveries: [{ destination: 'his', status: 'QUEUED', content: Buffer.from('x'), contentType: 'text/plain', orderKey: null, maxAttempts: 3 }] }),
    );
    const sizes: number[] = [];
    const dropped: string[] = [];
    const until = Date.now() + 6000;
    let i = 1;
    while (Date.now() < until) {
      await Promise.all(Array.from({ length: 50 }, () => store.append(message(i++))));
      if (i % 500 < 50) {
        const result = await store.applyRetention();
        dropped.push(...result.dropped);
        sizes.push(fs.statSync(file).size);
      }
      await new Promise((r) => setTimeout(r, 5));
    }
    assert.ok(dropped.length > 10, `expected many dropped partitions, got ${dropped.length}`);
    assert.ok(await store.get(pinned), 'the partition holding a queued delivery was kept');
    assert.ok(store.partitionCount() < 15, `partitions: ${store.partitionCount()}`);
    const half = sizes[Math.floor(sizes.length / 2)];
    const last = sizes[sizes.length - 1];
    assert.ok(last <= half * 1.25, `file kept growing: ${half} → ${last} bytes (sizes ${sizes.join(',')})`);
    assert.ok(i > 2000, `steady load too small: ${i}`);
    await store.close();
  });
});

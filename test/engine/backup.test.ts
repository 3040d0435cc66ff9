// Restore drills: back up while the engine writes, wipe, restore, and find every message again.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { backupPostgres, backupSqlite, restorePostgres, restoreSqlite } from '../../engine/ops/backup';
import { PostgresMessageStore } from '../../engine/store/postgres-store';
import { SqliteMessageStore } from '../../engine/store/sqlite-store';
import type { MessageStore, NewMessage } from '../../engine/store/types';
import { tempDir } from '../helpers/engine';
import { requirePeers, requireService } from '../helpers/peers';
import { createTestDatabase } from '../helpers/stores';

const message = (i: number): NewMessage => ({
  channelId: 'drill',
  receivedAt: new Date(),
  status: 'QUEUED',
  contentType: 'text/plain',
  size: 10,
  origin: {},
  correlation: { controlId: `C${i}` },
  meta: { patientName: 'Lê Thị Hồng' },
  contents: [{ stage: 'raw', contentType: 'text/plain', data: Buffer.from(`message ${i}`) }],
  deliveries: [{ destination: 'his', status: 'QUEUED', content: Buffer.from(`out ${i}`), contentType: 'text/plain', orderKey: null, maxAttempts: 5 }],
});

async function fill(store: MessageStore, from: number, count: number): Promise<number[]> {
  return Promise.all(Array.from({ length: count }, (_, i) => store.append(message(from + i))));
}

async function assertAll(store: MessageStore, ids: number[]): Promise<void> {
  for (const [i, id] of ids.entries()) {
    const m = await store.get(id);
    assert.ok(m, `message ${id} missing after restore`);
    assert.equal(m!.contents[0].data.toString(), `message ${i}`);
  }
  const queued = await store.readyDeliveries('drill', 'his', 0, 100_000);
  assert.equal(queued.length >= ids.length, true, 'queued deliveries restored too');
}

describe('backup and restore drills', function () {
  this.timeout(120_000);

  it('SQLite: an online backup taken under load restores every message acknowledged before it', async () => {
    const root = tempDir('hisbridge-drill-');
    const dataDir = path.join(root, 'data');
    const certsDir = path.join(root, 'certs');
    fs.mkdirSync(certsDir, { recursive: true });
    fs.writeFileSync(path.join(certsDir, 'signing.key'), 'KEY');
    let store = new SqliteMessageStore({ file: path.join(dataDir, 'store.db') });
    const before = await fill(store, 0, 2000);
    // Writes continue during the backup: the copy is still consistent.
    const during = fill(store, 2000, 2000);
    const manifest = await backupSqlite(dataDir, certsDir, path.join(root, 'backup'));
    await during;
    await store.close();
    assert.deepEqual(manifest.files, ['store.db']);
    fs.rmSync(dataDir, { recursive: true, force: true });
    fs.rmSync(certsDir, { recursive: true, force: true });
    const started = Date.now();
    restoreSqlite(path.join(root, 'backup'), dataDir, certsDir);
    const restoreMs = Date.now() - started;
    store = new SqliteMessageStore({ file: path.join(dataDir, 'store.db') });
    await assertAll(store, before);
    console.log(`      restore of 2,000+ messages took ${restoreMs} ms (online backup ${manifest.durationMs} ms)`);
    assert.equal(fs.readFileSync(path.join(certsDir, 'signing.key'), 'utf8'), 'KEY');
    await store.close();
    fs.rmSync(root, { recursive: true, force: true });
  });

  it('PostgreSQL: pg_dump → drop everything → pg_restore recovers every message', async function () {
    await requireService(this, 'PostgreSQL', '127.0.0.1', 5432);
    requirePeers(this, 'pg_dump', 'pg_restore');
    const root = tempDir('hisbridge-drill-');
    const db = await createTestDatabase();
    try {
      let store = new PostgresMessageStore({ connectionString: db.url, nodeId: 'drill' });
      await store.whenReady();
      const ids = await fill(store, 0, 2000);
      await backupPostgres(db.url, path.join(root, 'pg'));
      await store.pool.query('DROP TABLE hb_messages, hb_contents, hb_destinations, hb_attempts, hb_queue, hb_partitions CASCADE');
      await store.close();
      const started = Date.now();
      await restorePostgres(path.join(root, 'pg'), db.url);
      const restoreMs = Date.now() - started;
      store = new PostgresMessageStore({ connectionString: db.url, nodeId: 'drill' });
      await store.whenReady();
      await assertAll(store, ids);
      console.log(`      pg_restore of 2,000 messages took ${restoreMs} ms`);
      await store.close();
    } finally {
      await db.drop();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});

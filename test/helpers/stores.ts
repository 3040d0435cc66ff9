// The store and queue suites run against every MessageStore implementation: SQLite always, and
// PostgreSQL on the machine's server (skipped with the reason when unreachable, failing under
// REQUIRE_PEERS=1). Each PostgreSQL test gets a database of its own, dropped afterwards.
import crypto from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';
import { PostgresMessageStore } from '../../engine/store/postgres-store';
import { SqliteMessageStore } from '../../engine/store/sqlite-store';
import type { MessageStore } from '../../engine/store/types';
import { requireService } from './peers';

export const storeKinds = ['sqlite', 'postgres'] as const;
export type StoreKind = (typeof storeKinds)[number];

export const POSTGRES_ADMIN_URL = process.env.HISBRIDGE_TEST_PG ?? 'postgres://postgres@127.0.0.1:5432/postgres';

export interface StoreOptions {
  partitionMs?: number;
  retentionMs?: number;
  nodeId?: string;
}

export async function createTestDatabase(): Promise<{ url: string; drop(): Promise<void> }> {
  const name = `hb_test_${crypto.randomBytes(6).toString('hex')}`;
  const admin = new Client({ connectionString: POSTGRES_ADMIN_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = POSTGRES_ADMIN_URL.replace(/\/[^/]*$/, `/${name}`);
  return {
    url,
    async drop() {
      const c = new Client({ connectionString: POSTGRES_ADMIN_URL });
      await c.connect();
      await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await c.end();
    },
  };
}

export async function createStore(kind: StoreKind, ctx: Mocha.Context, dir: string, options: StoreOptions = {}): Promise<{ store: MessageStore; cleanup(): Promise<void> }> {
  if (kind === 'sqlite') {
    const store = new SqliteMessageStore({ file: path.join(dir, 'store.db'), partitionMs: options.partitionMs, retentionMs: options.retentionMs, synchronous: 'normal' });
    return { store, cleanup: () => store.close() };
  }
  await requireService(ctx, 'PostgreSQL', '127.0.0.1', 5432);
  const db = await createTestDatabase();
  const store = new PostgresMessageStore({ connectionString: db.url, nodeId: options.nodeId ?? 'test-node', partitionMs: options.partitionMs, retentionMs: options.retentionMs, leaseMs: 5000 });
  await store.whenReady();
  return {
    store,
    async cleanup() {
      await store.close();
      await db.drop();
    },
  };
}

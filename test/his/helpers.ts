// Test databases for the HIS suite: one per dialect, made fresh for each run (SQLite in a temp folder,
// PostgreSQL and MariaDB as hisbridge_test_<random> databases dropped afterwards).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ConnectionConfig, Dialect } from '../../his/db/dialect';
import { MappedEntity, Params } from '../../his/db/mapped';
import { instantToDbDateTime } from '../../his/db/values';
import type { HisDatabase } from '../../connectors/his-db/his-database';
import { requireService } from '../helpers/peers';

export const PG = { host: '127.0.0.1', port: Number(process.env.HISBRIDGE_PG_PORT ?? 5432), user: process.env.HISBRIDGE_PG_USER ?? 'postgres' };
export const MARIA = { host: '127.0.0.1', port: Number(process.env.HISBRIDGE_MARIADB_PORT ?? 3306), user: process.env.HISBRIDGE_MARIADB_USER ?? 'root' };

/** Fixed "now" of the suite: 2026-11-22 12:00 hospital time. */
export const TEST_NOW = new Date('2026-11-22T05:00:00Z');

export interface TestDatabase {
  dialect: Dialect;
  connection: ConnectionConfig;
  drop(): Promise<void>;
}

export const DIALECTS: Array<{ name: string; dialect: Dialect }> = [
  { name: 'SQLite', dialect: 'sqlite' },
  { name: 'PostgreSQL', dialect: 'postgres' },
  { name: 'MariaDB', dialect: 'mysql' },
];

/** Creates an empty database of the dialect, or skips the calling hook when its server is down. */
export async function createTestDatabase(ctx: Mocha.Context, dialect: Dialect): Promise<TestDatabase> {
  const name = `hisbridge_test_${randomBytes(5).toString('hex')}`;
  if (dialect === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-his-'));
    return {
      dialect,
      connection: { type: 'sqlite', file: path.join(dir, 'his.sqlite') },
      async drop() {
        fs.rmSync(dir, { recursive: true, force: true });
      },
    };
  }
  if (dialect === 'postgres') {
    await requireService(ctx, 'PostgreSQL', PG.host, PG.port);
    const { Client } = await import('pg');
    const admin = async (sql: string) => {
      const client = new Client({ host: PG.host, port: PG.port, user: PG.user, database: 'postgres' });
      await client.connect();
      try {
        await client.query(sql);
      } finally {
        await client.end();
      }
    };
    await admin(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`);
    return {
      dialect,
      connection: { type: 'postgres', host: PG.host, port: PG.port, username: PG.user, database: name },
      drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`),
    };
  }
  if (dialect === 'mysql') {
    await requireService(ctx, 'MariaDB', MARIA.host, MARIA.port);
    const mysql = await import('mysql2/promise');
    const admin = async (sql: string) => {
      const conn = await mysql.createConnection({ host: MARIA.host, port: MARIA.port, user: MARIA.user, password: process.env.HISBRIDGE_MARIADB_PASSWORD ?? '' });
      try {
        await conn.query(sql);
      } finally {
        await conn.end();
      }
    };
    await admin(`CREATE DATABASE ${name} CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci`);
    return {
      dialect,
      connection: { type: 'mariadb', host: MARIA.host, port: MARIA.port, username: MARIA.user, password: process.env.HISBRIDGE_MARIADB_PASSWORD ?? '', database: name },
      drop: () => admin(`DROP DATABASE IF EXISTS ${name}`),
    };
  }
  throw new Error(`no test database for ${dialect}`);
}

/** Inserts a lab order through the mapping (so it works on any schema shape). */
export async function insertLabOrder(
  his: HisDatabase,
  order: { id: string; maLk: string; patientId: string; specimenId: string; updatedAt: Date; status?: string; departmentCode?: string; analyserId?: string; tests?: string[] },
): Promise<void> {
  const mapping = his.loaded.mapping.entities;
  const e = new MappedEntity('labOrder', his.dialect, mapping.labOrder);
  const stamp = instantToDbDateTime(order.updatedAt);
  const values: Record<string, unknown> = {
    id: order.id,
    maLk: order.maLk,
    patientId: order.patientId,
    status: e.toDb('status', order.status ?? 'ordered'),
    priority: e.toDb('priority', 'routine'),
    orderedAt: stamp,
    updatedAt: stamp,
    version: 1,
    departmentCode: order.departmentCode ?? 'KNOI',
    specimenId: order.specimenId,
    analyserId: order.analyserId ?? 'AU480',
  };
  const cols: string[] = [];
  const params = new Params(his.dialect);
  const vals: string[] = [];
  for (const [field, value] of Object.entries(values)) {
    const column = e.ownColumn(field);
    if (!column) continue;
    cols.push(e.q(column));
    vals.push(params.add(value));
  }
  for (const [column, value] of Object.entries(mapping.labOrder.where)) {
    cols.push(e.q(column));
    vals.push(params.add(value));
  }
  await his.db.run(`INSERT INTO ${e.q(e.table)} (${cols.join(', ')}) VALUES (${vals.join(', ')})`, params.list);
  const t = new MappedEntity('labOrderTest', his.dialect, mapping.labOrderTest);
  for (const [i, code] of (order.tests ?? ['XN_GLU']).entries()) {
    const p = new Params(his.dialect);
    const tc: string[] = [];
    const tv: string[] = [];
    const row: Record<string, unknown> = { orderId: order.id, hisServiceCode: code, name: code, status: t.toDb('status', 'ordered') };
    for (const [field, value] of Object.entries(row)) {
      const column = t.ownColumn(field);
      if (!column) continue;
      tc.push(t.q(column));
      tv.push(p.add(value));
    }
    // Item tables keyed by an explicit id take one far above the generated ones.
    const idColumn = t.mapping.table === 'CD_CHIDINH_CT' ? 'ID' : 'id';
    tc.push(t.q(idColumn));
    tv.push(p.add(9_000_000 + Number(order.id.replace(/\D/g, '')) * 10 + i));
    await his.db.run(`INSERT INTO ${t.q(t.table)} (${tc.join(', ')}) VALUES (${tv.join(', ')})`, p.list);
  }
}

/** Sets a raw column value on an order row (to plant a row the mapping cannot read). */
export async function setOrderColumn(his: HisDatabase, kind: 'lab' | 'imaging', orderId: string, field: string, value: unknown, updatedAt: Date): Promise<string> {
  const m = kind === 'lab' ? his.loaded.mapping.entities.labOrder : his.loaded.mapping.entities.imagingOrder;
  const e = new MappedEntity(kind, his.dialect, m);
  const p = new Params(his.dialect);
  const column = e.requireOwnColumn(field);
  const sql = `UPDATE ${e.q(e.table)} SET ${e.q(column)} = ${p.add(value)}, ${e.q(e.requireOwnColumn('updatedAt'))} = ${p.add(instantToDbDateTime(updatedAt))} WHERE ${e.q(e.requireOwnColumn('id'))} = ${p.add(orderId)}`;
  await his.db.run(sql, p.list);
  return `${e.table}.${column}`;
}

export async function countRows(his: HisDatabase, table: string): Promise<number> {
  const q = his.dialect === 'mysql' ? '`' + table + '`' : `"${table}"`;
  const [row] = await his.db.rows<{ n: unknown }>(`SELECT COUNT(*) AS n FROM ${q}`);
  return Number(row.n);
}

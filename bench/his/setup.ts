// Bench fixtures: an empty demo-HIS schema on SQLite or PostgreSQL (its own database, dropped after)
// with N lab orders of ten chemistry tests each, bulk-loaded.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { bulkSink } from '../../his/db/bulk';
import { dialectOf, openDataSource, type ConnectionConfig } from '../../his/db/dialect';
import { Db } from '../../his/db/executor';
import { instantToDbDateTime } from '../../his/db/values';
import { installHis } from '../../his/demo';
import { DEMO_TABLE_COLUMNS } from '../../his/demo/generator';

export const PANEL = ['XN_GLU', 'XN_URE', 'XN_CRE', 'XN_ALT', 'XN_AST', 'XN_CHOL', 'XN_TG', 'XN_HDL', 'XN_LDL', 'XN_UA'];
export const PANEL_CODES = ['GLU', 'UREA', 'CREA', 'ALT', 'AST', 'CHOL', 'TG', 'HDL', 'LDL', 'UA'];

export interface BenchDb {
  connection: ConnectionConfig;
  drop(): Promise<void>;
}

export async function benchDatabase(kind: 'sqlite' | 'postgres'): Promise<BenchDb> {
  if (kind === 'sqlite') {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-bench-his-'));
    return { connection: { type: 'sqlite', file: path.join(dir, 'his.sqlite') }, drop: async () => fs.rmSync(dir, { recursive: true, force: true }) };
  }
  const { Client } = await import('pg');
  const name = `hisbridge_bench_${randomBytes(4).toString('hex')}`;
  const admin = async (sql: string) => {
    const c = new Client({ host: '127.0.0.1', port: 5432, user: 'postgres', database: 'postgres' });
    await c.connect();
    try {
      await c.query(sql);
    } finally {
      await c.end();
    }
  };
  await admin(`CREATE DATABASE ${name} ENCODING 'UTF8' TEMPLATE template0`);
  return { connection: { type: 'postgres', host: '127.0.0.1', port: 5432, username: 'postgres', database: name, poolSize: 8 }, drop: () => admin(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`) };
}

/** Creates the schema and `count` open lab orders `<prefix>00000001…` with the ten-test panel. */
export async function seedOrders(connection: ConnectionConfig, prefix: string, count: number, stamp = new Date(), createSchema = true): Promise<void> {
  if (createSchema) await installHis(connection, { schemaOnly: true });
  const ds = await openDataSource(connection);
  const db = new Db(ds, dialectOf(connection));
  try {
    const sink = bulkSink(db);
    const orders: unknown[][] = [];
    const tests: unknown[][] = [];
    const specimens: unknown[][] = [];
    const at = instantToDbDateTime(stamp);
    const base = Number.parseInt(randomBytes(3).toString('hex'), 16) * 100;
    for (let i = 1; i <= count; i++) {
      const id = `${prefix}${String(i).padStart(8, '0')}`;
      const barcode = `${prefix}B${String(i).padStart(8, '0')}`;
      const row: Record<string, unknown> = { SO_PHIEU: id, LOAI_PHIEU: 'XN', MA_LK: `LK${i}`, MA_BN: `BN${i}`, TRANG_THAI: 2, UU_TIEN: 0, NGAY_CHIDINH: at, NGAY_CAPNHAT: at, PHIEN_BAN: 1, MA_KHOA_CD: 'KNOI', MA_BS_CD: 'NV0001', MA_BARCODE: barcode, MA_MAY_XN: 'AU480' };
      orders.push(DEMO_TABLE_COLUMNS.CD_CHIDINH.map((c) => row[c] ?? null));
      specimens.push([barcode, 'serum', at, at, 'NV0002']);
      PANEL.forEach((svc, k) => tests.push([base + i * 10 + k, id, svc, svc, 2]));
    }
    await sink.insert('CD_CHIDINH', [...DEMO_TABLE_COLUMNS.CD_CHIDINH], orders);
    await sink.insert('XN_BENHPHAM', [...DEMO_TABLE_COLUMNS.XN_BENHPHAM], specimens);
    await sink.insert('CD_CHIDINH_CT', [...DEMO_TABLE_COLUMNS.CD_CHIDINH_CT], tests);
    if (createSchema) {
      await sink.insert('DM_NHANVIEN', [...DEMO_TABLE_COLUMNS.DM_NHANVIEN], [['NV0001', 'Nguyễn Văn An', 'BS', 'BS', '000001/HNO-CCHN', '0100000001', 'KNOI', 1]]);
      await sink.insert('DM_KHOA', [...DEMO_TABLE_COLUMNS.DM_KHOA], [['KNOI', 'Khoa Nội', 'K03', 'LAMSANG']]);
    }
  } finally {
    await db.close();
  }
}

export function rate(n: number, ms: number): string {
  return `${Math.round(n / (ms / 1000)).toLocaleString('en-US')}/s`;
}

/** Wall-clock and CPU time (user + system, this process) of an async task. */
export async function measure<T>(fn: () => Promise<T>): Promise<{ value: T; wallMs: number; cpuMs: number }> {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  const value = await fn();
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  return { value, wallMs, cpuMs: (cpu.user + cpu.system) / 1000 };
}

/** The machine's 1-minute load average, printed with every figure (other work skews wall time). */
export function load(): string {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  return `load ${require('node:os').loadavg()[0].toFixed(1)} on ${require('node:os').cpus().length} cores`;
}

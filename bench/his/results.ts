// 100,000 lab results written through the his-db destination (10,000 messages of a ten-test panel,
// one transaction each, eight deliveries at a time like the engine's queue), on SQLite and on
// PostgreSQL. Baseline in the same run: the same statements per message through the raw driver.
//   node --import tsx bench/his/results.ts [sqlite|postgres ...]
import Database from 'better-sqlite3';
import winston from 'winston';
import { hisDbConfigSchema } from '../../connectors/his-db/config';
import { HisResultDestination } from '../../connectors/his-db/destination';
import { instantToDbDateTime } from '../../his/db/values';
import { RESULT_CONTENT_TYPE } from '../../his/messages';
import type { ResultBatch } from '../../model';
import { benchDatabase, load, measure, PANEL, PANEL_CODES, rate, seedOrders } from './setup';

const MESSAGES = 10_000;
const CONCURRENCY = 8;

function batchFor(orderId: string, i: number): ResultBatch {
  return {
    orderId,
    results: PANEL_CODES.map((code, k) => ({
      code,
      value: (3 + ((i + k) % 50) / 10).toFixed(1),
      valueType: 'numeric' as const,
      unit: 'mmol/L',
      status: 'final' as const,
      observedAt: '2026-11-22T09:00:00+07:00',
      device: { id: 'AU480' },
    })),
  };
}

async function pool(count: number, concurrency: number, work: (i: number) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < count) await work(next++);
    }),
  );
}

const RESULT_COLUMNS = ['SO_PHIEU', 'MA_DV', 'MA_CHISO', 'TEN_CHISO', 'KET_QUA', 'DON_VI', 'TRANG_THAI_KQ', 'NGAY_DO', 'MA_MAY', 'MA_THONG_DIEP'];

async function rawSqlite(file: string, prefix: string): Promise<void> {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL'); // as the his-db connection to SQLite (see his/db/dialect.ts)
  const findOrder = db.prepare(`SELECT "SO_PHIEU", "MA_BN" FROM "CD_CHIDINH" WHERE "SO_PHIEU" = ? AND "LOAI_PHIEU" = 'XN'`);
  const findTests = db.prepare(`SELECT "SO_PHIEU", "MA_DV" FROM "CD_CHIDINH_CT" WHERE "SO_PHIEU" IN (?)`);
  const existing = db.prepare(`SELECT "ID", "MA_CHISO", "TRANG_THAI_KQ" FROM "XN_KETQUA" WHERE "SO_PHIEU" = ? AND "TRANG_THAI_KQ" <> 'S'`);
  const insert = db.prepare(`INSERT INTO "XN_KETQUA" (${RESULT_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES ${PANEL.map(() => `(${RESULT_COLUMNS.map(() => '?').join(', ')})`).join(', ')}`);
  const updOrder = db.prepare(`UPDATE "CD_CHIDINH" SET "TRANG_THAI" = 5, "NGAY_CAPNHAT" = ?, "NGUOI_CAPNHAT" = 'AU480', "PHIEN_BAN" = COALESCE("PHIEN_BAN", 0) + 1 WHERE "SO_PHIEU" = ? AND "LOAI_PHIEU" = 'XN'`);
  const updTests = db.prepare(`UPDATE "CD_CHIDINH_CT" SET "TRANG_THAI" = 5 WHERE "SO_PHIEU" = ? AND "MA_DV" IN (${PANEL.map(() => '?').join(', ')})`);
  const write = db.transaction((orderId: string, i: number) => {
    findOrder.get(orderId);
    findTests.all(orderId);
    existing.all(orderId);
    const b = batchFor(orderId, i);
    insert.run(b.results!.flatMap((r, k) => [orderId, PANEL[k], r.code, r.code, r.value, r.unit, 'F', '2026-11-22 09:00:00.000', 'AU480', `raw-${i}`]));
    updOrder.run(instantToDbDateTime(new Date()), orderId);
    updTests.run(orderId, ...PANEL);
  });
  for (let i = 0; i < MESSAGES; i++) write(`${prefix}${String(i + 1).padStart(8, '0')}`, i);
  db.close();
}

async function rawPostgres(database: string, prefix: string): Promise<void> {
  const { Pool } = await import('pg');
  const pg = new Pool({ host: '127.0.0.1', port: 5432, user: 'postgres', database, max: CONCURRENCY });
  const ph = (n: number, from = 1) => Array.from({ length: n }, (_, k) => `$${from + k}`).join(', ');
  const insertSql = `INSERT INTO "XN_KETQUA" (${RESULT_COLUMNS.map((c) => `"${c}"`).join(', ')}) VALUES ${PANEL.map((_, r) => `(${ph(RESULT_COLUMNS.length, 1 + r * RESULT_COLUMNS.length)})`).join(', ')}`;
  await pool(MESSAGES, CONCURRENCY, async (i) => {
    const orderId = `${prefix}${String(i + 1).padStart(8, '0')}`;
    const client = await pg.connect();
    try {
      await client.query('BEGIN');
      await client.query(`SELECT "SO_PHIEU", "MA_BN" FROM "CD_CHIDINH" WHERE "SO_PHIEU" = $1 AND "LOAI_PHIEU" = 'XN'`, [orderId]);
      await client.query(`SELECT "SO_PHIEU", "MA_DV" FROM "CD_CHIDINH_CT" WHERE "SO_PHIEU" IN ($1)`, [orderId]);
      await client.query(`SELECT "ID", "MA_CHISO", "TRANG_THAI_KQ" FROM "XN_KETQUA" WHERE "SO_PHIEU" = $1 AND "TRANG_THAI_KQ" <> 'S'`, [orderId]);
      const b = batchFor(orderId, i);
      await client.query(insertSql, b.results!.flatMap((r, k) => [orderId, PANEL[k], r.code, r.code, r.value, r.unit, 'F', '2026-11-22 09:00:00.000', 'AU480', `raw-${i}`]));
      await client.query(`UPDATE "CD_CHIDINH" SET "TRANG_THAI" = 5, "NGAY_CAPNHAT" = $1, "NGUOI_CAPNHAT" = 'AU480', "PHIEN_BAN" = COALESCE("PHIEN_BAN", 0) + 1 WHERE "SO_PHIEU" = $2 AND "LOAI_PHIEU" = 'XN'`, [instantToDbDateTime(new Date()), orderId]);
      await client.query(`UPDATE "CD_CHIDINH_CT" SET "TRANG_THAI" = 5 WHERE "SO_PHIEU" = $1 AND "MA_DV" IN (${ph(PANEL.length, 2)})`, [orderId, ...PANEL]);
      await client.query('COMMIT');
    } finally {
      client.release();
    }
  });
  await pg.end();
}

async function benchOne(kind: 'sqlite' | 'postgres') {
  const db = await benchDatabase(kind);
  try {
    await seedOrders(db.connection, 'XD', MESSAGES);
    await seedOrders(db.connection, 'XR', MESSAGES, new Date(), false);
    const destination = new HisResultDestination(hisDbConfigSchema.parse({ connection: db.connection, mapping: 'demo-his' }));
    await destination.start({ log: winston.createLogger({ silent: true }), dataDir: '/tmp', certsDir: '/tmp', lookup: () => undefined });
    const signal = new AbortController().signal;
    const startLoad = load();
    const mine = await measure(() =>
      pool(MESSAGES, CONCURRENCY, async (i) => {
        const orderId = `XD${String(i + 1).padStart(8, '0')}`;
        const content = Buffer.from(JSON.stringify(batchFor(orderId, i)));
        await destination.send({ content, contentType: RESULT_CONTENT_TYPE, messageId: i + 1, channelId: 'bench', correlation: {} }, { idempotencyKey: `${i + 1}.0.his`, attempt: 1, destination: 'his', signal });
      }),
    );
    await destination.stop();
    const results = MESSAGES * PANEL.length;
    console.log(
      `${kind}: his-db destination  ${results} results / ${MESSAGES} messages in ${(mine.wallMs / 1000).toFixed(2)} s = ${rate(results, mine.wallMs)} results (${rate(MESSAGES, mine.wallMs)} messages); ` +
        `client CPU ${(mine.cpuMs / 1000).toFixed(2)} s = ${rate(results, mine.cpuMs)} results per CPU-second [${startLoad}]`,
    );
    const raw = await measure(() => (kind === 'sqlite' ? rawSqlite((db.connection as { file: string }).file, 'XR') : rawPostgres((db.connection as { database: string }).database, 'XR')));
    console.log(
      `${kind}: raw driver baseline ${results} results in ${(raw.wallMs / 1000).toFixed(2)} s = ${rate(results, raw.wallMs)} results; client CPU ${(raw.cpuMs / 1000).toFixed(2)} s = ${rate(results, raw.cpuMs)} per CPU-second [${load()}]`,
    );
    console.log(`${kind}: ratio destination / raw = ${(raw.wallMs / mine.wallMs).toFixed(2)} (wall), ${(raw.cpuMs / mine.cpuMs).toFixed(2)} (client CPU)`);
  } finally {
    await db.drop();
  }
}

async function main() {
  const kinds = (process.argv.slice(2).length ? process.argv.slice(2) : ['sqlite', 'postgres']) as Array<'sqlite' | 'postgres'>;
  for (const kind of kinds) await benchOne(kind);
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

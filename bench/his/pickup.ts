// Time for the his-db source to pick up 10,000 new lab orders (poll, map to the canonical model,
// hand each to the engine, record the watermark), on SQLite and PostgreSQL. Two receivers: a bare
// SourceContext that accepts at once (the source's own cost) and the real engine store.
// Baseline in the same run: one raw SELECT of the same orders and their tests through the driver.
//   node --import tsx bench/his/pickup.ts [sqlite|postgres ...]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import winston from 'winston';
import { hisDbConnector } from '../../connectors/his-db';
import { hisDbConfigSchema } from '../../connectors/his-db/config';
import { HisOrderSource } from '../../connectors/his-db/source';
import { ConnectorRegistry } from '../../engine/connectors/registry';
import type { SourceContext } from '../../engine/connectors/types';
import { Engine } from '../../engine/engine';
import { dialectOf, openDataSource } from '../../his/db/dialect';
import { Db } from '../../his/db/executor';
import { benchDatabase, load, measure, rate, seedOrders } from './setup';

const ORDERS = 10_000;

async function benchOne(kind: 'sqlite' | 'postgres') {
  const db = await benchDatabase(kind);
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-bench-pickup-'));
  try {
    await seedOrders(db.connection, 'XP', ORDERS);

    // Baseline: read the same rows once with plain SQL.
    const ds = await openDataSource(db.connection);
    const raw = new Db(ds, dialectOf(db.connection));
    const q = (s: string) => `"${s}"`;
    const baseline = await measure(async () => {
      const orders = await raw.rows(`SELECT * FROM ${q('CD_CHIDINH')} o LEFT JOIN ${q('XN_BENHPHAM')} b ON b.${q('MA_BARCODE')} = o.${q('MA_BARCODE')} WHERE o.${q('LOAI_PHIEU')} = 'XN' ORDER BY o.${q('NGAY_CAPNHAT')}, o.${q('SO_PHIEU')}`);
      const tests = await raw.rows(`SELECT * FROM ${q('CD_CHIDINH_CT')}`);
      return orders.length + tests.length;
    });
    await raw.close();

    // The source alone, into a context that accepts at once.
    let received = 0;
    const source = new HisOrderSource(hisDbConfigSchema.parse({ connection: db.connection, orderKinds: ['lab'], startFrom: 'beginning', batchSize: 1000, pollIntervalMs: 60_000 }));
    const ctx: SourceContext = {
      channelId: 'pickup',
      dataDir,
      certsDir: dataDir,
      log: winston.createLogger({ silent: true }),
      lookup: () => undefined,
      receive: async () => ({ status: 'accepted', messageId: ++received }),
      reportConnection: () => undefined,
    };
    const idle = source.whenIdle();
    const bare = await measure(async () => {
      await source.start(ctx);
      await idle;
    });
    await source.stop();
    if (received !== ORDERS) throw new Error(`source delivered ${received} of ${ORDERS}`);

    // Through a real engine (messages stored durably), a fresh watermark.
    const engine = new Engine({ dataDir: path.join(dataDir, 'engine'), registry: new ConnectorRegistry().register(hisDbConnector), retentionIntervalMs: 0, alertIntervalMs: 0 });
    await engine.start();
    const withEngine = await measure(async () => {
      await engine.deployChannel({ id: 'pickup-engine', name: 'pickup', source: { connector: 'his-db', config: { connection: db.connection, orderKinds: ['lab'], startFrom: 'beginning', batchSize: 1000, pollIntervalMs: 50 } } } as never);
      for (;;) {
        const counters = engine.describeChannel('pickup-engine').connections.find((c) => c.id === 'his-db')?.counters;
        if ((counters?.delivered ?? 0) >= ORDERS) break;
        await new Promise((r) => setTimeout(r, 20));
      }
    });
    await engine.stop();

    console.log(`${kind}: raw SELECT of ${ORDERS} orders + tests: ${(baseline.wallMs / 1000).toFixed(2)} s [${load()}]`);
    console.log(`${kind}: his-db source → bare context: ${ORDERS} orders in ${(bare.wallMs / 1000).toFixed(2)} s = ${rate(ORDERS, bare.wallMs)} (client CPU ${(bare.cpuMs / 1000).toFixed(2)} s)`);
    console.log(`${kind}: his-db source → engine store: ${ORDERS} orders in ${(withEngine.wallMs / 1000).toFixed(2)} s = ${rate(ORDERS, withEngine.wallMs)} (client CPU ${(withEngine.cpuMs / 1000).toFixed(2)} s)`);
    console.log(`${kind}: ratio raw SELECT / source pick-up = ${(baseline.wallMs / bare.wallMs).toFixed(3)}`);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
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

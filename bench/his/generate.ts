// Generating the demo HIS: time and file size for N visits (default 1,000,000) into SQLite, and, as
// the baseline measured in the same run, the generator alone into a sink that discards the rows.
//   node --import tsx bench/his/generate.ts [visits]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDemoHis, generateDemoData } from '../../his/demo';

async function main() {
  const visits = Number(process.argv[2] ?? 1_000_000);
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-bench-gen-'));
  try {
    let rows = 0;
    const t0 = process.hrtime.bigint();
    await generateDemoData({ insert: async (_t, _c, r) => void (rows += r.length) }, { seed: 1, visits });
    const genMs = Number(process.hrtime.bigint() - t0) / 1e6;
    console.log(`generator only (rows discarded): ${visits} visits, ${rows} rows in ${(genMs / 1000).toFixed(1)} s (${Math.round(rows / (genMs / 1000))} rows/s)`);

    const file = path.join(dir, 'demo.sqlite');
    const result = await createDemoHis({ file, seed: 1, visits, onProgress: (n) => n % 100_000 === 0 && console.log(`  ${n} visits…`) });
    console.log(`demo HIS in SQLite: ${visits} visits, ${result.patients} patients, ${result.totalRows} rows in ${(result.ms / 1000).toFixed(1)} s (${Math.round(result.totalRows / (result.ms / 1000))} rows/s), file ${(result.bytes / 1024 / 1024).toFixed(0)} MiB`);
    console.log(`ratio SQLite build / generator alone: ${(result.ms / genMs).toFixed(2)}`);
    for (const [table, n] of Object.entries(result.rows)) console.log(`  ${table.padEnd(14)} ${n}`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});

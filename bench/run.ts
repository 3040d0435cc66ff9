// `npm run bench [area]`: runs every bench/<area>/*.ts script (or one area's) in its own process.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const only = process.argv[2];
const root = __dirname;
let failed = 0;
for (const area of fs.readdirSync(root).filter((d) => fs.statSync(path.join(root, d)).isDirectory()).sort()) {
  if (only && area !== only) continue;
  for (const script of fs.readdirSync(path.join(root, area)).filter((f) => f.endsWith('.ts') && !f.startsWith('_')).sort()) {
    console.log(`\n=== bench/${area}/${script}`);
    const run = spawnSync(process.execPath, ['--import', 'tsx', path.join(root, area, script)], { stdio: 'inherit' });
    if (run.status !== 0) failed++;
  }
}
process.exitCode = failed ? 1 : 0;

// Runs the whole mocha suite and ends with the plain line CI reads: "N passed, N failed, N skipped".
import Mocha from 'mocha';
import fs from 'node:fs';
import path from 'node:path';

const root = path.resolve(__dirname, '..');
const args = process.argv.slice(2);
const grep = args.find((a) => !a.startsWith('-'));
const mocha = new Mocha({ timeout: 30000, reporter: 'spec', grep: process.env.TEST_GREP });
// fs.globSync exists only from Node 22; a small walk works on 20 and 22.
function findTests(dir: string): string[] {
  return fs.readdirSync(path.join(root, dir), { withFileTypes: true }).flatMap((entry) => {
    const relative = path.join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'fixtures' ? [] : findTests(relative);
    return entry.name.endsWith('.test.ts') ? [relative] : [];
  });
}
const files = findTests('test')
  .filter((f) => !grep || f.includes(grep))
  .sort();
for (const file of files) mocha.addFile(path.join(root, file));

(async () => {
  await mocha.loadFilesAsync();
  const runner = mocha.run();
  let passed = 0;
  let failed = 0;
  let skipped = 0;
  runner.on('pass', () => passed++);
  runner.on('fail', () => failed++);
  runner.on('pending', () => skipped++);
  runner.on('end', () => {
    process.stdout.write(`\n${passed} passed, ${failed} failed, ${skipped} skipped\n`);
    // Servers left open by a failing test must not keep CI waiting.
    setTimeout(() => process.exit(failed > 0 ? 1 : 0), 200).unref();
    process.exitCode = failed > 0 ? 1 : 0;
  });
})().catch((err) => {
  console.error(err);
  process.stdout.write('\n0 passed, 1 failed\n');
  process.exit(1);
});

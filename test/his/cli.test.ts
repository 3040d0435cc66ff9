// `hisbridge his …` commands, called the way engine/cli/main.ts calls them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hisCli } from '../../his/cli';

async function capture(fn: () => Promise<number>): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const w1 = process.stdout.write.bind(process.stdout);
  const w2 = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    return { code: await fn(), out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = w1;
    process.stderr.write = w2;
  }
}

describe('hisbridge his CLI', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-his-cli-'))));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('builds a demo HIS, then answers patient, visit, worklist and specimen questions', async () => {
    const file = path.join(dir, 'his.sqlite');
    const made = await capture(() => hisCli.commands.demo.run(['--file', file, '--visits', '150', '--seed', '3']));
    assert.equal(made.code, 0, made.err);
    assert.equal(JSON.parse(made.out).visits, 150);
    assert.equal((await capture(() => hisCli.commands.demo.run(['--file', file]))).code, 2, 'refuses to overwrite');
    const patient = await capture(() => hisCli.commands.patient.run(['BN00000001', '--sqlite', file]));
    assert.equal(patient.code, 0, patient.err);
    assert.equal(JSON.parse(patient.out).id, 'BN00000001');
    const visit = await capture(() => hisCli.commands.visit.run(['LK00000001', '--sqlite', file]));
    assert.equal(JSON.parse(visit.out).visit.maLk, 'LK00000001');
    assert.ok(JSON.parse(visit.out).billing.length > 0);
    const worklist = await capture(() => hisCli.commands.worklist.run(['--sqlite', file]));
    assert.ok(Array.isArray(JSON.parse(worklist.out)));
    assert.equal((await capture(() => hisCli.commands.patient.run(['NOBODY', '--sqlite', file]))).code, 1);
    assert.equal((await capture(() => hisCli.commands.patient.run(['x', '--sqlite', path.join(dir, 'missing.sqlite')]))).code, 2);
  });

  it('checks mappings and names what is wrong', async () => {
    assert.equal((await capture(() => hisCli.commands['check-mapping'].run(['example-english']))).code, 0);
    const bad = path.join(dir, 'bad.yaml');
    fs.writeFileSync(bad, 'name: bad\nentities: {}\n');
    const res = await capture(() => hisCli.commands['check-mapping'].run([bad]));
    assert.equal(res.code, 1);
    assert.match(res.err, /bad\.yaml: invalid mapping: entities\.department/);
  });
});

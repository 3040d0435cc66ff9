import assert from 'node:assert/strict';
import { AsyncLocalStorage } from 'node:async_hooks';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { hl7Cli } from '../../connectors/hl7/cli';
import { freePort } from '../helpers/engine';
import { fixture, FIXTURES, frame } from './helpers';

// Output is captured per run through AsyncLocalStorage, so a listener and a sender running at the same
// time each get their own lines, and mocha's own output is never swallowed.
const capture = new AsyncLocalStorage<{ stdout: string[]; stderr: string[] }>();
const realOut = process.stdout.write.bind(process.stdout);
const realErr = process.stderr.write.bind(process.stderr);

async function run(verb: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const sink = { stdout: [] as string[], stderr: [] as string[] };
  const code = await capture.run(sink, () => hl7Cli.commands[verb].run(args));
  return { code, stdout: sink.stdout.join(''), stderr: sink.stderr.join('') };
}

describe('hl7 CLI', function () {
  this.timeout(20_000);
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl7-cli-'));
    (process.stdout as any).write = (s: string, ...rest: any[]) => {
      const sink = capture.getStore();
      return sink ? (sink.stdout.push(String(s)), true) : realOut(s, ...rest);
    };
    (process.stderr as any).write = (s: string, ...rest: any[]) => {
      const sink = capture.getStore();
      return sink ? (sink.stderr.push(String(s)), true) : realErr(s, ...rest);
    };
  });
  after(() => {
    (process.stdout as any).write = realOut;
    (process.stderr as any).write = realErr;
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('decode prints a tree with field names', async () => {
    const r = await run('decode', [path.join(FIXTURES, 'nist-oru-r01-2.5.1.hl7')]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^ORU\^R01 \(ORU_R01\) control id NIST-100929110701660 version 2\.5\.1 charset utf-8/);
    assert.match(r.stdout, /\n  PID-8 Administrative Sex = M\n/);
    assert.match(r.stdout, /\n      PID-3\.4\.2 = 2\.16\.840\.1\.113883\.19\.3\.2\.1\n/);
    assert.match(r.stdout, /\n  OBX-5 Observation Value = 50\n/);
  });

  it('decode --json gives every field with its name and decoded components', async () => {
    const r = await run('decode', [path.join(FIXTURES, 'escapes.hl7'), '--json']);
    assert.equal(r.code, 0, r.stderr);
    const json = JSON.parse(r.stdout);
    assert.equal(json.messageType, 'ORU^R01');
    const pid = json.segments.find((s: any) => s.segment === 'PID');
    assert.deepEqual(pid.fields['PID-5'], { name: 'Patient Name', raw: 'O\\T\\Brien^Mary', repetitions: [['O&Brien', 'Mary']] });
    const obx = json.segments.find((s: any) => s.segment === 'OBX');
    assert.match(obx.fields['OBX-5'].repetitions[0][0], /^Line 1\nLine 2 has a \| bar/);
  });

  it('decode handles batch files, MLLP-framed captures and legacy charsets', async () => {
    const batch = await run('decode', [path.join(FIXTURES, 'batch-adt.hl7'), '--json']);
    assert.equal(batch.code, 0);
    assert.deepEqual(JSON.parse(batch.stdout).map((m: any) => m.controlId), ['B1M1', 'B1M2', 'B2M1']);
    const framed = path.join(dir, 'capture.mllp');
    fs.writeFileSync(framed, Buffer.concat([frame(fixture('adt-a04-vn.hl7')), frame(fixture('adt-a08-vn.hl7'))]));
    const captured = await run('decode', [framed]);
    assert.match(captured.stdout, /ADT\^A04[\s\S]*ADT\^A08/);
    const legacy = await run('decode', [path.join(FIXTURES, 'legacy-adt-tcvn5712-1.hl7'), '--charset', 'tcvn3']);
    assert.match(legacy.stdout, /PID-5\.2 = Thị Hằng/);
  });

  it('decode exits non-zero with the reason on invalid input', async () => {
    const bad = path.join(dir, 'bad.hl7');
    fs.writeFileSync(bad, 'MSH|^~\\&|A|B|C|D|2025||ADT^A04|1|P|2.5\rPI|x\r');
    const r = await run('decode', [bad]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /bad\.hl7: .*segment 2 does not start with a segment ID/);
    assert.equal((await run('decode', [path.join(dir, 'missing.hl7')])).code, 1);
    assert.equal((await run('decode', [])).code, 2);
  });

  /** Runs `listen` as its own process (as an operator would) and resolves once it is bound. */
  async function listener(args: string[]): Promise<{ port: number; result: Promise<{ code: number; stdout: string }> }> {
    const port = await freePort();
    const script = `require('./connectors/hl7/cli').hl7Cli.commands.listen.run(${JSON.stringify(['--port', String(port), ...args])}).then((c) => process.exit(c))`;
    const child = spawn(process.execPath, ['--import', 'tsx', '-e', script], { cwd: path.join(__dirname, '..', '..'), stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    const result = new Promise<{ code: number; stdout: string }>((resolve) => child.on('exit', (code) => resolve({ code: code ?? -1, stdout })));
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d) => {
        stdout += d;
        if (stdout.includes('listening on')) resolve();
      });
      child.on('exit', () => reject(new Error(`listener exited early: ${stdout}`)));
    });
    return { port, result };
  }

  it('listen and send talk to each other: ACKs printed, exit codes follow them', async () => {
    const { port, result } = await listener(['--count', '3']);
    const sent = await run('send', [path.join(FIXTURES, 'batch-adt.hl7'), '--to', `127.0.0.1:${port}`, '--window', '2']);
    assert.equal(sent.code, 0, sent.stderr);
    assert.match(sent.stdout, /B1M1 → AA\nB1M2 → AA\nB2M1 → AA\n3 of 3 accepted/);
    const listened = await result;
    assert.equal(listened.code, 0);
    assert.match(listened.stdout, /#1 ADT\^A04 control id B1M1 patient BN1/);
    assert.match(listened.stdout, /#3 ADT\^A04 control id B2M1 patient BN3/);
  });

  it('send reports AE answers and exits 3; refuses to send a file that is not HL7', async () => {
    const { port, result } = await listener(['--count', '1', '--ack', 'AE']);
    const sent = await run('send', [path.join(FIXTURES, 'adt-a04-vn.hl7'), '--to', `127.0.0.1:${port}`]);
    assert.equal(sent.code, 3);
    assert.match(sent.stdout, /ADT0002 → AE: .*answered AE by hisbridge hl7 listen/);
    assert.equal((await result).code, 0);
    const junk = path.join(dir, 'junk.txt');
    fs.writeFileSync(junk, 'hello');
    const refused = await run('send', [junk, '--to', `127.0.0.1:${port}`]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /not valid HL7, nothing sent/);
  });
});

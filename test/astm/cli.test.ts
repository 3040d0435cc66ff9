// `hisbridge astm decode` and `hisbridge sim analyzer`: JSON out, non-zero exit with the precise reason.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { astmCli } from '../../connectors/astm/cli';
import { astmResultsTransformer } from '../../connectors/astm/channel';
import { simCli } from '../../devices/simulators/cli';
import { freePort, startTestEngine, tempDir, waitFor } from '../helpers/engine';
import { frame } from './helpers';

const fixtures = path.join(__dirname, '..', 'fixtures', 'astm');
const root = path.join(__dirname, '..', '..');

async function capture(run: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const out = process.stdout.write.bind(process.stdout);
  const err = process.stderr.write.bind(process.stderr);
  (process.stdout as any).write = (chunk: string) => ((stdout += chunk), true);
  (process.stderr as any).write = (chunk: string) => ((stderr += chunk), true);
  try {
    return { code: await run(), stdout, stderr };
  } finally {
    (process.stdout as any).write = out;
    (process.stderr as any).write = err;
  }
}

const decode = (...args: string[]) => capture(() => astmCli.commands.decode.run(args));

describe('astm CLI: decode', () => {
  let dir: string;
  before(() => (dir = tempDir('astm-cli-')));
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, bytes: Buffer | string) => {
    const file = path.join(dir, name);
    fs.writeFileSync(file, bytes);
    return file;
  };

  it('prints records and results of every fixture as JSON and exits 0', async () => {
    for (const name of fs.readdirSync(fixtures).filter((f) => /\.(astm|txt)$/.test(f))) {
      const r = await decode(path.join(fixtures, name));
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      const json = JSON.parse(r.stdout);
      assert.equal(json.problems.length, 0);
      assert.ok(json.messages.length >= 1);
    }
    const c311 = JSON.parse((await decode(path.join(fixtures, 'roche-c311.astm'), '--records')).stdout);
    assert.equal(c311.format, 'framed');
    assert.equal(c311.messages[0].profile, 'roche-cobas-c311');
    assert.equal(c311.messages[0].specimens[0].results[6].value, '34');
    assert.equal(c311.messages[0].records[0], 'H|\\^&|||c311^1|||||host|RSUPL^REAL|P|1');
  });

  it('fails with the byte offset and the computed checksum when a checksum is wrong', async () => {
    const bad = Buffer.from(frame(1, 'H|\\^&\rL|1|N\r'));
    bad[bad.length - 4] = 0x5a; // 'Z'
    const r = await decode(write('bad.astm', bad));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /frame 1 at byte offset 0: checksum characters "Z[0-9A-F]" are not two hex digits/);
    const wrong = Buffer.from(frame(1, 'H|\\^&\rL|1|N\r'));
    wrong[wrong.length - 3] = wrong[wrong.length - 3] === 0x30 ? 0x31 : 0x30;
    const r2 = await decode(write('wrong.astm', Buffer.concat([Buffer.from('\x05'), wrong])));
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /frame 1 at byte offset 1: checksum mismatch: received .., computed ../);
  });

  it('fails precisely on a frame without ETX, garbage, an unknown record type, a missing H and a missing L', async () => {
    const cases: Array<[string, Buffer | string, RegExp]> = [
      ['noetx.astm', '\x021H|\\^&\rL|1|N\r', /capture ends inside a frame \(no ETX\/ETB or checksum\)/],
      ['garbage.astm', Buffer.concat([Buffer.from('xx\x01yy'), frame(1, 'H|\\^&\rL|1|N\r')]), /byte offset 0: 5 unexpected byte\(s\) outside a frame, first 0x78 'x'/],
      ['unknown.txt', 'H|\\^&\rX|1|what\rL|1|N\r', /record 2: unknown record type "X"/],
      ['noh.txt', 'P|1\rO|1|S1\rL|1|N\r', /missing H record/],
      ['nol.txt', 'H|\\^&\rP|1\rO|1|S1\r', /the capture ends before the L record/],
      ['lf.txt', 'H|\\^&\nP|1\nL|1|N\n', /terminated by LF \(0x0A\) instead of CR/],
      ['sequence.astm', Buffer.concat([frame(1, 'H|\\^&\r'), frame(3, 'L|1|N\r')]), /frame 3 at byte offset \d+: frame number 3, expected 2/],
      ['empty.txt', '', /no ASTM records found/],
    ];
    for (const [name, bytes, reason] of cases) {
      const r = await decode(write(name, bytes));
      assert.equal(r.code, 1, name);
      assert.match(r.stderr, reason, name);
    }
  });

  it('skips a frame the capture shows answered with NAK (its retransmission follows)', async () => {
    const good = frame(1, 'H|\\^&\rL|1|N\r');
    const bad = Buffer.from(good);
    bad[bad.length - 3] ^= 1;
    const r = await decode(write('nak.astm', Buffer.concat([Buffer.from('\x05\x06'), bad, Buffer.from('\x15'), good, Buffer.from('\x06\x04')])));
    assert.equal(r.code, 0, r.stderr);
    assert.match(JSON.parse(r.stdout).notes[0], /answered NAK in the capture/);
  });

  it('exits 2 for a missing file or an unknown profile', async () => {
    assert.equal((await decode(path.join(dir, 'nope.astm'))).code, 2);
    const r = await decode(path.join(fixtures, 'roche-c311.astm'), '--profile', 'no-such');
    assert.equal(r.code, 2);
    assert.match(r.stderr, /no analyser profile "no-such".*known: .*sysmex-xn/);
  });

  it('runs end to end through engine/cli/main.ts', async () => {
    const result = await new Promise<{ code: number; stdout: string }>((resolve) => {
      execFile(process.execPath, ['--import', 'tsx', 'engine/cli/main.ts', 'astm', 'decode', path.join(fixtures, 'beckman-dxh-results.txt')], { cwd: root }, (error, stdout) =>
        resolve({ code: error ? ((error as any).code ?? 1) : 0, stdout }),
      );
    });
    assert.equal(result.code, 0);
    assert.equal(JSON.parse(result.stdout).messages[0].specimens[0].results[1].value, '146');
  });
});

describe('sim CLI: analyzer', function () {
  it('replays a capture, generates results and injects a fault against an engine over TCP', async () => {
    const t = await startTestEngine();
    try {
      const port = await freePort();
      await t.engine.deployChannel({ id: 'sim', name: 'sim', source: { connector: 'astm', config: { profile: 'roche-cobas-c311', transport: { kind: 'tcp-server', host: '127.0.0.1', port } } }, transformer: astmResultsTransformer() });
      const tcp = `127.0.0.1:${port}`;
      const replay = await capture(() => simCli.commands.analyzer.run(['--profile', 'roche-cobas-c311', '--tcp', tcp, '--replay', path.join(fixtures, 'roche-c311.astm')]));
      assert.equal(replay.code, 0, replay.stderr);
      assert.equal(JSON.parse(replay.stdout).sent, 1);
      const gen = await capture(() => simCli.commands.analyzer.run(['--profile', 'roche-cobas-c311', '--tcp', tcp, '--count', '3', '--fault', 'bad-checksum']));
      assert.equal(gen.code, 0, gen.stderr);
      assert.equal(JSON.parse(gen.stdout).sent, 3);
      await waitFor(async () => (await t.engine.store.search({ channelId: 'sim' })).length === 4, 5000, 'four messages');
      const ok = (await t.engine.store.search({ channelId: 'sim' })).filter((m) => m.status !== 'ERROR');
      assert.equal(ok.length, 4, 'the corrupted frames were refused and resent, nothing errored');
      assert.deepEqual((await t.engine.store.search({ channelId: 'sim', specimenId: 'SIM000002' })).length, 1);
      const bad = await capture(() => simCli.commands.analyzer.run(['--profile', 'roche-cobas-c311', '--tcp', tcp, '--fault', 'lightning']));
      assert.equal(bad.code, 2);
      assert.match(bad.stderr, /unknown fault "lightning"/);
      const none = await capture(() => simCli.commands.analyzer.run(['--profile', 'roche-cobas-c311']));
      assert.equal(none.code, 2);
      assert.match(none.stderr, /give --tcp <host:port> or --serial <path>/);
    } finally {
      await t.cleanup();
    }
  });
});

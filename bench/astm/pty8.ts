// bench/astm/pty8: analysers streaming results at once over socat PTYs at 115,200 baud into one
// engine (one `astm` serial source per analyser, results transformed and stored). Each analyser is a
// separate process pacing itself to the line rate. Reports whether every result was stored and the
// engine's CPU time per analyser; the baseline is the same run with one analyser.
// Duration: ASTM_BENCH_SECONDS (default 30; the issue asks 60 — set it for the full run).
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registerBuiltinConnectors } from '../../connectors';
import { astmResultsTransformer } from '../../connectors/astm/channel';
import { ConnectorRegistry } from '../../engine/connectors/registry';
import { Engine } from '../../engine/engine';
import { createLogger } from '../../engine/log';

const SECONDS = Number(process.env.ASTM_BENCH_SECONDS ?? 30);
const BAUD = 115_200;

interface Pty {
  a: string;
  b: string;
  stop(): void;
}

async function ptyPair(dir: string, n: number): Promise<Pty> {
  const a = path.join(dir, `a${n}`);
  const b = path.join(dir, `b${n}`);
  const proc = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let text = '';
    proc.stderr.on('data', (c) => {
      text += c;
      if (text.includes('starting data transfer loop')) resolve();
    });
    proc.once('exit', (code) => reject(new Error(`socat exited ${code}: ${text}`)));
  });
  proc.stderr.resume();
  const stop = () => proc.exitCode === null && proc.kill('SIGTERM');
  process.once('exit', stop); // never leave a socat behind, even when the bench fails
  return { a, b, stop };
}

function runChild(pty: string, index: number, startAt: number): Promise<{ messages: number; results: number; bytes: number; seconds: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '_sim-child.ts'), pty, String(SECONDS), String(BAUD), String(index), String(startAt)], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (c) => (out += c));
    child.on('exit', (code) => (code === 0 ? resolve(JSON.parse(out)) : reject(new Error(`simulator ${index} exited ${code}`))));
  });
}

async function run(analysers: number) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'astm-bench-'));
  const engine = new Engine({ dataDir: path.join(dir, 'data'), certsDir: path.join(dir, 'certs'), registry: registerBuiltinConnectors(new ConnectorRegistry()), log: createLogger({ console: false }), retentionIntervalMs: 0, alertIntervalMs: 0 });
  await engine.start();
  const ptys: Pty[] = [];
  try {
    for (let i = 0; i < analysers; i++) {
      const pty = await ptyPair(dir, i);
      ptys.push(pty);
      await engine.deployChannel({
        id: `xn-${i}`,
        name: `XN ${i}`,
        source: { connector: 'astm', config: { profile: 'sysmex-xn', analyzerId: `XN-${i}`, transport: { kind: 'serial', path: pty.a, baudRate: BAUD } } },
        transformer: astmResultsTransformer(),
      });
    }
    // Simulators need a few seconds to start (tsx); they all begin streaming at startAt.
    const startAt = Date.now() + 15_000;
    const children = Promise.all(ptys.map((p, i) => runChild(p.b, i, startAt)));
    await new Promise((r) => setTimeout(r, startAt - Date.now()));
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const sent = await children;
    const total = sent.reduce((n, s) => n + s.messages, 0);
    // Every message was acknowledged, hence stored, before the simulator moved on; count them anyway.
    let stored = 0;
    for (let i = 0; i < analysers; i++) stored += (await engine.store.search({ channelId: `xn-${i}`, limit: 1_000_000 })).length;
    const cpu = process.cpuUsage(cpu0);
    const wall = (performance.now() - t0) / 1000;
    const cpuSeconds = (cpu.user + cpu.system) / 1e6;
    const results = sent.reduce((n, s) => n + s.results, 0);
    const lineUse = sent.reduce((n, s) => n + s.bytes / s.seconds, 0) / analysers / (BAUD / 10);
    const perMessageMs = (cpuSeconds * 1000) / total;
    return { analysers, messagesSent: total, messagesStored: stored, results, wall, cpuSeconds, perMessageMs, cpuPerAnalyserPerMinute: (cpuSeconds / analysers) * (60 / wall), lineUse };
  } finally {
    await engine.stop();
    ptys.forEach((p) => p.stop());
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

(async () => {
  console.log(`${SECONDS} s per run, ${BAUD} baud 8N1, Sysmex XN uploads of 20 results, store + transform (no destination)`);
  const rows = [];
  for (const n of (process.env.ASTM_BENCH_ANALYSERS ?? '1,8').split(',').map(Number)) {
    const r = await run(n);
    rows.push(r);
    console.log(
      `${String(n).padStart(2)} analyser(s): ${r.messagesStored}/${r.messagesSent} messages stored (${r.results} results), ` +
        `line use ${(r.lineUse * 100).toFixed(0)} %, engine CPU ${r.cpuSeconds.toFixed(2)} s in ${r.wall.toFixed(1)} s (${r.perMessageMs.toFixed(2)} ms per message) = ${r.cpuPerAnalyserPerMinute.toFixed(2)} CPU-s per analyser-minute ` +
        `(${((r.cpuPerAnalyserPerMinute / 60) * 100).toFixed(2)} % of a core per analyser)`,
    );
    if (r.messagesStored !== r.messagesSent) console.log('  NOT every message stored');
  }
  if (rows.length === 2) console.log(`ratio CPU per analyser, ${rows[1].analysers} vs ${rows[0].analysers} (baseline): ${(rows[1].cpuPerAnalyserPerMinute / rows[0].cpuPerAnalyserPerMinute).toFixed(2)}; CPU per message: ${(rows[1].perMessageMs / rows[0].perMessageMs).toFixed(2)}`);
})().catch((error) => {
  console.error(error);
  process.exit(1);
});

// IoMT throughput: 500 simulated devices publish through a private Mosquitto at rising rates. At each
// rate the same stream is consumed by
//   - hisbridge, direct path: MQTT source → parse + normalise + binding + batched durable SQLite
//     (synchronous=FULL) + rollups + NEWS2 + alerts, PUBACK after the commit;
//   - hisbridge through the engine (optional, --engine): mqtt source → engine message store →
//     iomt-vitals destination → the same IoMT store;
//   - the baseline, Debian `mosquitto_sub -q 1` (prints each message to /dev/null).
// A consumer sustains a rate when it has every message (zero loss, checked in its store) no later than
// GRACE_MS after the publisher finished. Reported: the highest sustained rate of each and the ratio.
//   node --import tsx bench/iomt/throughput.ts [--seconds 5] [--rates 2000,5000,…] [--engine]
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { mqttConnector } from '../../connectors/mqtt';
import { parseArgs } from '../../engine/cli/types';
import { ConnectorRegistry } from '../../engine/connectors/registry';
import { Engine } from '../../engine/engine';
import { iomtVitalsChannel, iomtVitalsConnector } from '../../iomt/channel';
import { DirectVitalsIngest } from '../../iomt/direct-ingest';
import { IOMT_SERVICE, IomtService } from '../../iomt/service';
import { MosquittoProcess } from '../../test/iomt/mosquitto-runner';

const DEVICES = 500;
const CONNECTIONS = 25;
const GRACE_MS = 1000;
const { flags } = parseArgs(process.argv.slice(2));
const SECONDS = Number(flags.seconds ?? 5);
const RATES = (typeof flags.rates === 'string' ? flags.rates : '2000,5000,10000,15000,20000,25000,30000,40000').split(',').map(Number);
const WITH_ENGINE = flags.engine === true;
/** `full` (default, fsync per commit) or `normal` (WAL without fsync per commit: survives process crashes, not power loss). */
const SYNC: 'full' | 'normal' = flags.sync === 'normal' ? 'normal' : 'full';

interface PublishResult {
  published: number;
  acknowledged: number;
  failed: number;
  startedAt: number;
  finishedAt: number;
  achievedRate: number;
}

function publish(url: string, rate: number, runId: string): Promise<PublishResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, 'publisher.ts'), url, String(DEVICES), String(rate), String(SECONDS), String(CONNECTIONS), runId], { stdio: ['ignore', 'pipe', 'inherit'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve(JSON.parse(out.trim().split('\n').pop()!)) : reject(new Error(`publisher exited with ${code}`))));
  });
}

interface StepResult {
  consumer: string;
  rate: number;
  published: number;
  /** What the publisher reached: a step where it fell short of the rate proves nothing either way. */
  publisherRate: number;
  received: number;
  lagMs: number;
  sustained: boolean;
  consumerRate: number;
  /** CPU time (user + system) the consumer spent per message, when it runs in this process. */
  cpuUsPerMessage?: number;
  note?: string;
}

async function waitUntil(check: () => boolean, deadline: number): Promise<number | undefined> {
  while (Date.now() < deadline) {
    if (check()) return Date.now();
    await new Promise((r) => setTimeout(r, 20));
  }
  return check() ? Date.now() : undefined;
}

function bindDevices(service: IomtService): void {
  const from = Date.now() - 3600_000;
  // One transaction for the whole setup (each registry call would otherwise fsync on its own).
  service.db.transaction(() => bindEach(service, from))();
}

function bindEach(service: IomtService, from: number): void {
  for (let i = 0; i < DEVICES; i++) {
    const id = `BENCH-${String(i).padStart(4, '0')}`;
    if (service.registry.openBinding(id)) continue;
    service.registry.upsertDevice({ id, ward: `W${String(Math.floor(i / 25)).padStart(2, '0')}`, bed: String(i % 25).padStart(2, '0') });
    service.registry.bind({ deviceId: id, visitId: `BV-${i}`, patientId: `BP-${i}`, from });
  }
}

const serviceConfig = { rateLimit: { ratePerSecond: 1000, burst: 2000 }, batch: { maxSize: 4000, maxDelayMs: 20 }, synchronous: SYNC };

async function runDirect(mosq: MosquittoProcess, rate: number, dir: string): Promise<StepResult> {
  const service = new IomtService({ dataDir: dir, config: serviceConfig });
  bindDevices(service);
  const ingest = new DirectVitalsIngest(service, { mqtt: { url: mosq.url, clientId: `bench-direct-${rate}`, clean: true, maxInFlight: 5000 } });
  await ingest.start();
  const before = service.counters.readings;
  const runId = `d${rate}`;
  const cpu0 = process.cpuUsage();
  const pub = await publish(mosq.url, rate, runId);
  const done = await waitUntil(() => service.counters.readings - before >= pub.acknowledged, pub.finishedAt + 30_000);
  const cpu = process.cpuUsage(cpu0);
  await ingest.stop();
  const stored = (service.db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT device_id || message_id) AS d FROM readings WHERE message_id LIKE ?').get(`${runId}-%`) as { n: number; d: number });
  await service.stop();
  const end = done ?? Date.now();
  return {
    consumer: `hisbridge direct (NEWS2 + SQLite ${SYNC.toUpperCase()})`,
    rate,
    published: pub.acknowledged,
    publisherRate: pub.achievedRate,
    received: stored.d,
    lagMs: end - pub.finishedAt,
    sustained: done !== undefined && stored.n === pub.acknowledged && stored.d === pub.acknowledged && end - pub.finishedAt <= GRACE_MS,
    consumerRate: Math.round(stored.d / ((end - pub.startedAt) / 1000)),
    cpuUsPerMessage: Math.round((cpu.user + cpu.system) / Math.max(1, stored.d)),
    note: stored.n !== stored.d ? `${stored.n - stored.d} stored twice` : undefined,
  };
}

async function runEngine(mosq: MosquittoProcess, rate: number, dir: string): Promise<StepResult> {
  const registry = new ConnectorRegistry().register(mqttConnector).register(iomtVitalsConnector);
  const engine = new Engine({ dataDir: dir, certsDir: path.join(dir, 'certs'), registry, retentionIntervalMs: 0, alertIntervalMs: 0 });
  const service = new IomtService({ dataDir: dir, config: serviceConfig });
  bindDevices(service);
  engine.registerService(IOMT_SERVICE, service);
  await engine.start();
  await engine.deployChannel(iomtVitalsChannel({ mqtt: { url: mosq.url, clientId: `bench-engine-${rate}`, clean: true, maxInFlight: 5000 }, concurrency: 64 }));
  const before = service.counters.readings;
  const runId = `e${rate}`;
  const cpu0 = process.cpuUsage();
  const pub = await publish(mosq.url, rate, runId);
  const done = await waitUntil(() => service.counters.readings - before >= pub.acknowledged, pub.finishedAt + 30_000);
  const cpu = process.cpuUsage(cpu0);
  await engine.stop();
  const stored = (service.db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT device_id || message_id) AS d FROM readings WHERE message_id LIKE ?').get(`${runId}-%`) as { n: number; d: number });
  await service.stop();
  const end = done ?? Date.now();
  return {
    consumer: `hisbridge via engine (NEWS2 + SQLite ${SYNC.toUpperCase()})`,
    rate,
    published: pub.acknowledged,
    publisherRate: pub.achievedRate,
    received: stored.d,
    lagMs: end - pub.finishedAt,
    sustained: done !== undefined && stored.n === pub.acknowledged && end - pub.finishedAt <= GRACE_MS,
    consumerRate: Math.round(stored.d / ((end - pub.startedAt) / 1000)),
    cpuUsPerMessage: Math.round((cpu.user + cpu.system) / Math.max(1, stored.d)),
  };
}

async function runBaseline(mosq: MosquittoProcess, rate: number): Promise<StepResult> {
  const total = Math.round(rate * SECONDS);
  let received = 0;
  let lastAt = 0;
  // /usr/bin/time reports mosquitto_sub's own CPU time when it exits (after -C messages).
  const timed = fs.existsSync('/usr/bin/time');
  const args = ['-h', '127.0.0.1', '-p', String(mosq.port), '-q', '1', '-i', `bench-sub-${rate}`, '-t', 'hospital/bench/#', '-C', String(total), '-F', '%I'];
  const sub = timed ? spawn('/usr/bin/time', ['-f', 'CPU %U %S', 'mosquitto_sub', ...args], { stdio: ['ignore', 'pipe', 'pipe'] }) : spawn('mosquitto_sub', args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  sub.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  // Count lines as they arrive (one per message; %I prints the ISO receive time only).
  sub.stdout!.on('data', (d: Buffer) => {
    for (const b of d) if (b === 0x0a) received++;
    lastAt = Date.now();
  });
  const exited = new Promise<void>((r) => sub.once('exit', () => r()));
  await new Promise((r) => setTimeout(r, 300)); // subscribed before the stream starts
  const pub = await publish(mosq.url, rate, `b${rate}`);
  const done = await waitUntil(() => received >= pub.acknowledged, pub.finishedAt + 30_000);
  const killer = setTimeout(() => sub.kill('SIGTERM'), 5000);
  await exited;
  clearTimeout(killer);
  const end = done ?? lastAt;
  const cpu = /CPU ([\d.]+) ([\d.]+)/.exec(stderr);
  return {
    consumer: 'mosquitto_sub -q 1 (baseline)',
    rate,
    published: pub.acknowledged,
    publisherRate: pub.achievedRate,
    received,
    lagMs: end - pub.finishedAt,
    sustained: done !== undefined && received === pub.acknowledged && end - pub.finishedAt <= GRACE_MS,
    consumerRate: Math.round(received / ((end - pub.startedAt) / 1000)),
    cpuUsPerMessage: cpu ? Math.round(((Number(cpu[1]) + Number(cpu[2])) * 1e6) / Math.max(1, received)) : undefined,
  };
}

(async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-iomt-bench-'));
  const mosq = new MosquittoProcess({ maxInflightMessages: 1000 });
  await mosq.start();
  const results: StepResult[] = [];
  const best: Record<string, number> = {};
  const failures: Record<string, number> = {};
  const print = (r: StepResult) =>
    console.log(
      `${r.consumer.padEnd(50)} rate ${String(r.rate).padStart(6)}/s (publisher ${String(r.publisherRate).padStart(6)}/s)  got ${r.received}/${r.published}  lag ${String(r.lagMs).padStart(6)} ms  → ${r.consumerRate}/s ${
        r.publisherRate < r.rate * 0.95 ? 'publisher short' : r.sustained ? 'SUSTAINED' : 'not sustained'
      }${r.cpuUsPerMessage !== undefined ? `  ${r.cpuUsPerMessage} µs CPU/msg` : ''}${r.note ? ` (${r.note})` : ''}`,
    );
  try {
    console.log(`IoMT bench: ${DEVICES} devices over ${CONNECTIONS} publisher connections, ${SECONDS} s per step, Mosquitto ${mosq.url}; ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    for (const rate of RATES) {
      const steps: Array<[string, () => Promise<StepResult>]> = [
        ['direct', () => runDirect(mosq, rate, path.join(root, 'direct'))],
        ...(WITH_ENGINE ? ([['engine', () => runEngine(mosq, rate, path.join(root, `engine-${rate}`))]] as Array<[string, () => Promise<StepResult>]>) : []),
        ['baseline', () => runBaseline(mosq, rate)],
      ];
      for (const [name, step] of steps) {
        // Rates rise: a consumer that fell behind twice in a row is not tried higher.
        if ((failures[name] ?? 0) >= 2) continue;
        const r = await step();
        results.push(r);
        print(r);
        if (r.publisherRate < rate * 0.95) continue; // the stream itself fell short: no verdict
        if (r.sustained) {
          best[name] = Math.max(best[name] ?? 0, r.rate);
          failures[name] = 0;
        } else failures[name] = (failures[name] ?? 0) + 1;
      }
      if (steps.every(([n]) => (failures[n] ?? 0) >= 2)) break;
    }
  } finally {
    await mosq.dispose();
    fs.rmSync(root, { recursive: true, force: true });
  }
  const ratio = best.baseline ? (best.direct ?? 0) / best.baseline : NaN;
  // CPU per message at the highest rate each sustained (independent of what else loads the machine).
  const cpuAt = (name: string) => results.find((r) => r.consumer.startsWith(name === 'baseline' ? 'mosquitto_sub' : name === 'engine' ? 'hisbridge via' : 'hisbridge direct') && r.rate === best[name])?.cpuUsPerMessage;
  console.log('\nhighest sustained rate with zero loss (messages/s; each message = one complete vitals set of 8 measurements):');
  console.log(`  hisbridge direct path:  ${best.direct ?? 0}/s (${(best.direct ?? 0) * 8} measurements/s)`);
  if (WITH_ENGINE) console.log(`  hisbridge via engine:   ${best.engine ?? 0}/s`);
  console.log(`  mosquitto_sub baseline: ${best.baseline ?? 0}/s`);
  console.log(`  ratio hisbridge/baseline: ${ratio.toFixed(2)}`);
  const cd = cpuAt('direct');
  const cb = cpuAt('baseline');
  if (cd && cb) console.log(`  consumer CPU per message: hisbridge direct ${cd} µs (${Math.round(1e6 / cd)} messages per CPU second), mosquitto_sub ${cb} µs (${Math.round(1e6 / cb)} per CPU second); ratio ${(cb / cd).toFixed(2)}`);
  console.log(JSON.stringify({ best, ratio, results }));
})().catch((err) => {
  console.error(err);
  process.exit(1);
});

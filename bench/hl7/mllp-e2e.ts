// Benchmark (b): MLLP end to end with durable storage. The engine (SQLite store, group commit,
// synchronous=FULL, storage "full") runs an `mllp` source channel; a separate load process opens 4
// connections and sends 100,000 ~1 KB ORU^R01s, each connection waiting for every ACK (which the
// source sends only after the store committed). Baseline in the same run: a bare MLLP server that reads
// MSH-10 and ACKs without storing. Then the latency at 1,000 messages/s offered.
// Run: node --import tsx bench/hl7/mllp-e2e.ts   (BENCH_MESSAGES, BENCH_PACED_SECONDS to change sizes)
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { registerBuiltinConnectors } from '../../connectors';
import { ConnectorRegistry } from '../../engine/connectors/registry';
import { Engine } from '../../engine/engine';
import { createLogger } from '../../engine/log';
import { encodeFrame, MllpDecoder, type MllpEvent } from '../../connectors/hl7/mllp/framer';
import { MllpSource, mllpSourceSchema } from '../../connectors/hl7/source';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 100_000);
const CONNECTIONS = 4;
const PACED_SECONDS = Number(process.env.BENCH_PACED_SECONDS ?? 10);
const PACED_RATE = 1000;

interface LoadResult {
  count: number;
  elapsedMs: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
  codes: Record<string, number>;
}

function load(port: number, perConnection: number, rate: number, window = 1): Promise<LoadResult> {
  const args = JSON.stringify({ port, connections: CONNECTIONS, perConnection, rate, window });
  return new Promise((resolve, reject) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(__dirname, '_mllp-load.ts'), args], { maxBuffer: 1 << 20, timeout: 30 * 60_000 }, (err, stdout, stderr) => {
      if (err) return reject(new Error(`load generator failed: ${err.message}\n${stderr}`));
      resolve(JSON.parse(stdout.trim().split('\n').pop()!));
    });
  });
}

/** The baseline: frames in, MSH-10 read, ACK out. No parsing beyond that, no storage. */
async function bareServer(): Promise<{ port: number; close(): Promise<void> }> {
  const server = net.createServer((socket) => {
    socket.setNoDelay(true);
    const decoder = new MllpDecoder();
    socket.pipe(decoder);
    decoder.on('data', (ev: MllpEvent) => {
      if (ev.kind !== 'frame') return;
      const header = ev.payload.toString('latin1', 0, Math.min(ev.payload.length, 300));
      const controlId = header.split('\r')[0].split('|')[9] ?? '';
      socket.write(encodeFrame(`MSH|^~\\&|HIS|BV_A|LIS|BV_A|20250115103000||ACK^R01^ACK|A${controlId}|P|2.5.1\rMSA|AA|${controlId}\r`));
    });
    socket.on('error', () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as net.AddressInfo).port, close: () => new Promise((r) => server.close(() => r())) };
}

function fmt(r: LoadResult): string {
  return `${Math.round(r.perSecond).toString().padStart(6)} msg/s  p50 ${r.p50.toFixed(2)} ms  p99 ${r.p99.toFixed(2)} ms  max ${r.max.toFixed(1)} ms  (${r.count} messages in ${(r.elapsedMs / 1000).toFixed(1)} s, ACKs ${JSON.stringify(r.codes)})`;
}

const SEQUENTIAL = Number(process.env.BENCH_SEQUENTIAL_MESSAGES ?? 10_000);
const WINDOW = Number(process.env.BENCH_WINDOW ?? 32);

async function freeLocalPort(): Promise<number> {
  return new Promise<number>((resolve) => {
    const probe = net.createServer().listen(0, '127.0.0.1', () => {
      const p = (probe.address() as net.AddressInfo).port;
      probe.close(() => resolve(p));
    });
  });
}

/** Our listener with a context that answers at once: the protocol stack's own cost, without a store. */
async function listenerWithoutStore(inFlight: number): Promise<{ port: number; close(): Promise<void> }> {
  const source = new MllpSource(mllpSourceSchema.parse({ host: '127.0.0.1', port: 0, maxInFlightPerConnection: inFlight }));
  let id = 0;
  await source.start({
    log: createLogger({ console: false }),
    dataDir: os.tmpdir(),
    certsDir: os.tmpdir(),
    channelId: 'no-store',
    lookup: () => undefined,
    reportConnection: () => undefined,
    receive: async () => ({ status: 'accepted', messageId: ++id }),
  });
  return { port: source.address().port, close: () => source.stop() };
}

async function startEngine(root: string, inFlight: number, synchronous: 'full' | 'normal' = 'full'): Promise<{ engine: Engine; port: number }> {
  const engine = new Engine({
    dataDir: path.join(root, `data-${inFlight}-${synchronous}`),
    synchronous,
    certsDir: path.join(root, 'certs'),
    registry: registerBuiltinConnectors(new ConnectorRegistry()),
    log: createLogger({ console: false }),
    retentionIntervalMs: 0,
    alertIntervalMs: 0,
  });
  await engine.start();
  const port = await freeLocalPort();
  await engine.deployChannel({
    id: 'hl7-bench',
    name: 'HL7 bench',
    storage: 'full',
    source: { connector: 'mllp', config: { host: '127.0.0.1', port, maxInFlightPerConnection: inFlight } },
  });
  return { engine, port };
}

(async () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-bench-hl7-'));
  console.log(`MLLP end to end, ${CONNECTIONS} sender connections, ~1 KB ORU^R01, Node ${process.version}, ${os.cpus().length} cores, load average ${os.loadavg()[0].toFixed(1)}`);
  try {
    const bare = await bareServer();
    const basePipelined = await load(bare.port, Math.ceil(TOTAL / CONNECTIONS), 0, WINDOW);
    const baseSequential = await load(bare.port, Math.ceil(SEQUENTIAL / CONNECTIONS), 0, 1);
    await bare.close();

    const bareListener = await listenerWithoutStore(WINDOW);
    let cpu0 = process.cpuUsage();
    const listenerPipelined = await load(bareListener.port, Math.ceil(TOTAL / CONNECTIONS), 0, WINDOW);
    let cpu = process.cpuUsage(cpu0);
    const cpuListener = (cpu.user + cpu.system) / 1000 / listenerPipelined.count;
    await bareListener.close();

    // Pipelining senders (window per connection), the listener taking as many per connection.
    const pipelined = await startEngine(root, WINDOW);
    cpu0 = process.cpuUsage();
    const durablePipelined = await load(pipelined.port, Math.ceil(TOTAL / CONNECTIONS), 0, WINDOW);
    cpu = process.cpuUsage(cpu0);
    const cpuPipelined = (cpu.user + cpu.system) / 1000 / durablePipelined.count;
    const last = await pipelined.engine.store.search({ channelId: 'hl7-bench', controlId: `C${CONNECTIONS - 1}N${Math.ceil(TOTAL / CONNECTIONS) - 1}`, limit: 1 });
    if (last.length !== 1) throw new Error('the last message is not in the store');
    await pipelined.engine.stop();

    // Diagnostic, not the target configuration: the same with SQLite synchronous=NORMAL (WAL: no fsync per commit).
    const normal = await startEngine(root, WINDOW, 'normal');
    const normalPipelined = await load(normal.port, Math.ceil(TOTAL / CONNECTIONS), 0, WINDOW);
    await normal.engine.stop();

    // Senders that wait for each ACK (original mode, how HIS and analysers send), and the paced run.
    const sequential = await startEngine(root, 1);
    cpu0 = process.cpuUsage();
    const durableSequential = await load(sequential.port, Math.ceil(SEQUENTIAL / CONNECTIONS), 0, 1);
    cpu = process.cpuUsage(cpu0);
    const cpuSequential = (cpu.user + cpu.system) / 1000 / durableSequential.count;
    const paced = await load(sequential.port, Math.round((PACED_RATE * PACED_SECONDS) / CONNECTIONS), PACED_RATE, 1);
    await sequential.engine.stop();

    console.log(`  senders pipelining (window ${WINDOW} per connection):`);
    console.log(`    baseline, bare MLLP ACK server (no storage): ${fmt(basePipelined)}`);
    console.log(`    hisbridge listener, receive() without store: ${fmt(listenerPipelined)}`);
    console.log(`    listener CPU ${cpuListener.toFixed(3)} ms per message`);
    console.log(`    hisbridge, ACK after durable store:          ${fmt(durablePipelined)}`);
    console.log(`    ratio ${(durablePipelined.perSecond / basePipelined.perSecond).toFixed(2)}, engine CPU ${cpuPipelined.toFixed(3)} ms per message`);
    console.log(`    (diagnostic) store with synchronous=NORMAL:  ${fmt(normalPipelined)}`);
    console.log(`  senders waiting for each ACK (window 1):`);
    console.log(`    baseline, bare MLLP ACK server (no storage): ${fmt(baseSequential)}`);
    console.log(`    hisbridge, ACK after durable store:          ${fmt(durableSequential)}`);
    console.log(`    ratio ${(durableSequential.perSecond / baseSequential.perSecond).toFixed(2)}, engine CPU ${cpuSequential.toFixed(3)} ms per message`);
    console.log(`  ${PACED_RATE} msg/s offered for ${PACED_SECONDS} s (window 1):  ${fmt(paced)}`);
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
})().catch((err) => {
  console.error(err);
  process.exit(1);
});

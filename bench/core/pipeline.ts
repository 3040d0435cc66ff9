// bench/core: in-process source → durable store (group commit, synchronous=FULL) → transformer →
// recording destination, 100,000 messages of 1 KB. Baseline in the same run: the same pipeline
// (filters, transformer, destination) with storage off. Prints messages/s, ACK latency, peak RSS.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import type { ChannelConfig } from '../../engine/channel/definition';
import { channelSchema } from '../../engine/channel/definition';
import { runPipeline, toChannelMessage } from '../../engine/channel/pipeline';
import { ConnectorRegistry } from '../../engine/connectors/registry';
import type { ConnectorDefinition, DestinationConnector, SourceContext } from '../../engine/connectors/types';
import { Engine } from '../../engine/engine';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 100_000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 256);

let peakRss = 0;
const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 50);

function payload(i: number): Buffer {
  const head = `MSH|^~\\&|ANALYZER|LAB|HIS|BV|20261122101500||ORU^R01|CTRL${i}|P|2.5.1\rPID|1||BN${i % 5000}^^^BV^MR||NGUYEN^VAN A\r`;
  return Buffer.from(head.padEnd(1024, 'OBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L|3.9-6.1|N|||F\r'));
}

/** Records deliveries and deduplicates on the idempotency key, as a careful receiver would. */
class RecordingDestination implements DestinationConnector {
  readonly keys = new Set<string>();
  delivered = 0;
  async send(_m: unknown, ctx: { idempotencyKey: string }) {
    if (!this.keys.has(ctx.idempotencyKey)) {
      this.keys.add(ctx.idempotencyKey);
      this.delivered++;
    }
    return {};
  }
}

let sourceContext: SourceContext | undefined;
const recording = new RecordingDestination();
const benchConnector: ConnectorDefinition<Record<string, unknown>> = {
  type: 'bench',
  description: 'in-process source and recording destination',
  configSchema: z.record(z.string(), z.unknown()),
  createSource: () => ({ start: async (ctx) => void (sourceContext = ctx), stop: async () => undefined }),
  createDestination: () => recording,
};

const channel = {
  id: 'bench',
  name: 'bench',
  storage: 'raw' as const,
  source: { connector: 'bench', config: {} },
  transformer: (m: { text: string }, ctx: { setCorrelation(k: object): void }) => {
    const pid = /PID\|1\|\|([^^|]+)/.exec(m.text)?.[1];
    ctx.setCorrelation({ patientId: pid, controlId: /\|ORU\^R01\|([^|]+)/.exec(m.text)?.[1] });
    return m.text.replace('NGUYEN^VAN A', 'NGUYEN^VAN B');
  },
  destinations: [{ name: 'recorder', connector: 'bench', config: {}, queue: { concurrency: 64, orderBy: 'patientId' as const } }],
};

function percentile(sorted: number[], q: number): number {
  return Math.round(sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] * 100) / 100;
}

async function drive(receive: (i: number) => Promise<unknown>): Promise<{ seconds: number; latencies: number[] }> {
  const latencies: number[] = new Array(TOTAL);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (next < TOTAL) {
        const i = next++;
        const t0 = performance.now();
        await receive(i);
        latencies[i] = performance.now() - t0;
      }
    }),
  );
  return { seconds: (performance.now() - started) / 1000, latencies: latencies.sort((a, b) => a - b) };
}

function cpuSeconds(since: NodeJS.CpuUsage): number {
  const used = process.cpuUsage(since);
  return (used.user + used.system) / 1e6;
}

let baselineCpu = 0;
let durableCpu = 0;

async function baseline(): Promise<number> {
  const cpu = process.cpuUsage();
  const config: ChannelConfig = channelSchema.parse(channel);
  const destination = new RecordingDestination();
  const { seconds } = await drive(async (i) => {
    const raw = payload(i);
    const result = await runPipeline(config, toChannelMessage('bench', { raw, contentType: 'application/hl7-v2' }, new Date()));
    for (const d of result.deliveries) await destination.send(d, { idempotencyKey: `${i}.${d.destination}` });
  });
  if (destination.delivered !== TOTAL) throw new Error(`baseline delivered ${destination.delivered}`);
  baselineCpu = cpuSeconds(cpu);
  return TOTAL / seconds;
}

async function durable(): Promise<{ stored: number; delivered: number; p50: number; p99: number; dbBytes: number }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-bench-'));
  const engine = new Engine({ dataDir: dir, registry: new ConnectorRegistry().register(benchConnector), retentionIntervalMs: 0, alertIntervalMs: 0, synchronous: 'full' });
  await engine.start();
  await engine.deployChannel(channel as any);
  const cpu = process.cpuUsage();
  const started = performance.now();
  const { seconds, latencies } = await drive(async (i) => {
    const result = await sourceContext!.receive({ raw: payload(i), contentType: 'application/hl7-v2' });
    if (result.status !== 'accepted') throw new Error(`not accepted: ${JSON.stringify(result)}`);
  });
  while (recording.delivered < TOTAL) await new Promise((r) => setTimeout(r, 5));
  const deliveredSeconds = (performance.now() - started) / 1000;
  durableCpu = cpuSeconds(cpu);
  const dbBytes = fs.statSync(path.join(dir, 'store.db')).size;
  await engine.stop();
  fs.rmSync(dir, { recursive: true, force: true });
  return { stored: TOTAL / seconds, delivered: TOTAL / deliveredSeconds, p50: percentile(latencies, 0.5), p99: percentile(latencies, 0.99), dbBytes };
}

(async () => {
  const base = await baseline();
  const baseRss = peakRss;
  peakRss = 0;
  const result = await durable();
  clearInterval(rssTimer);
  const report = {
    messages: TOTAL,
    inFlight: IN_FLIGHT,
    durableStoredPerSecond: Math.round(result.stored),
    durableDeliveredPerSecond: Math.round(result.delivered),
    ackLatencyMs: { p50: result.p50, p99: result.p99 },
    baselineNoStoragePerSecond: Math.round(base),
    ratioStoredToBaseline: Math.round((result.stored / base) * 100) / 100,
    ratioDeliveredToBaseline: Math.round((result.delivered / base) * 100) / 100,
    // Per CPU second of this process: independent of what else the machine is doing.
    durableDeliveredPerCpuSecond: Math.round(TOTAL / durableCpu),
    baselinePerCpuSecond: Math.round(TOTAL / baselineCpu),
    ratioPerCpuSecond: Math.round((baselineCpu / durableCpu) * 100) / 100,
    peakRssMb: Math.round(peakRss / 1048576),
    baselinePeakRssMb: Math.round(baseRss / 1048576),
    storeFileMb: Math.round(result.dbBytes / 1048576),
    node: process.version,
    cpus: os.cpus().length,
  };
  console.log(JSON.stringify(report, null, 2));
})();

// `hisbridge sim monitors`: bedside monitors and wearables publishing realistic vitals over MQTT, with
// some patients deteriorating (sepsis-like drift: pulse and breathing up, saturation and pressure down,
// fever, then new confusion) so NEWS2 alerts can be seen end to end.
//   hisbridge sim monitors --count 200 --rate 1/s --url mqtt://127.0.0.1:1884
import crypto from 'node:crypto';
import mqtt, { type MqttClient } from 'mqtt';
import { parseArgs, type CliCommand } from '../../engine/cli/types';
import { DEFAULT_TOPIC_TEMPLATE } from '../../iomt/contract';
import { fillTopic } from '../../connectors/mqtt/topics';
import { seededRandom } from '../../engine/util/seeded-random';

export interface SimulatedPatient {
  deviceId: string;
  site: string;
  ward: string;
  bed: string;
  format: 'json' | 'compact';
  deteriorating: boolean;
  baseline: { hr: number; rr: number; spo2: number; sbp: number; dbp: number; temp: number };
  /** Random-walk offsets, so values wander instead of jumping. */
  drift: { hr: number; rr: number; spo2: number; sbp: number; temp: number };
  seq: number;
}

export interface MonitorFleetOptions {
  count: number;
  site?: string;
  /** Beds per ward (wards are W01, W02…). */
  bedsPerWard?: number;
  /** Share of patients that deteriorate (0–1). */
  deterioratingShare?: number;
  /** Minutes from stable to critical for a deteriorating patient. */
  deteriorationMinutes?: number;
  format?: 'json' | 'compact' | 'mixed';
  prefix?: string;
  seed?: number;
}

export class MonitorFleet {
  readonly patients: SimulatedPatient[];
  private readonly rnd: () => number;
  private readonly startedAt: number;
  readonly options: Required<MonitorFleetOptions>;

  constructor(options: MonitorFleetOptions, startedAt = Date.now()) {
    this.options = {
      site: 'hn1',
      bedsPerWard: 20,
      deterioratingShare: 0.1,
      deteriorationMinutes: 10,
      format: 'json',
      prefix: 'MON',
      seed: 1,
      ...options,
    };
    this.rnd = seededRandom(this.options.seed);
    this.startedAt = startedAt;
    const r = this.rnd;
    const everyNth = this.options.deterioratingShare > 0 ? Math.max(1, Math.round(1 / this.options.deterioratingShare)) : 0;
    this.patients = Array.from({ length: options.count }, (_, i) => ({
      deviceId: `${this.options.prefix}-${String(i + 1).padStart(4, '0')}`,
      site: this.options.site,
      ward: `W${String(Math.floor(i / this.options.bedsPerWard) + 1).padStart(2, '0')}`,
      bed: String((i % this.options.bedsPerWard) + 1).padStart(2, '0'),
      format: this.options.format === 'mixed' ? (i % 3 === 2 ? 'compact' : 'json') : this.options.format,
      deteriorating: everyNth > 0 && i % everyNth === everyNth - 1,
      baseline: { hr: 62 + r() * 24, rr: 12 + r() * 6, spo2: 95 + r() * 4, sbp: 112 + r() * 22, dbp: 66 + r() * 16, temp: 36.4 + r() * 0.8 },
      drift: { hr: 0, rr: 0, spo2: 0, sbp: 0, temp: 0 },
      seq: 0,
    }));
  }

  topic(p: SimulatedPatient): string {
    return fillTopic(DEFAULT_TOPIC_TEMPLATE, { site: p.site, ward: p.ward, bed: p.bed, deviceId: p.deviceId, format: p.format === 'compact' ? 'compact' : 'vitals' });
  }

  /** The vitals of a patient at time t (ms). */
  vitals(p: SimulatedPatient, t: number): { hr: number; rr: number; spo2: number; sbp: number; dbp: number; temp: number; acvpu: 'A' | 'C'; onOxygen: boolean } {
    const r = this.rnd;
    const walk = (v: number, step: number, limit: number) => Math.max(-limit, Math.min(limit, v + (r() - 0.5) * step));
    p.drift = { hr: walk(p.drift.hr, 2, 6), rr: walk(p.drift.rr, 0.6, 2), spo2: walk(p.drift.spo2, 0.4, 1.5), sbp: walk(p.drift.sbp, 2, 8), temp: walk(p.drift.temp, 0.04, 0.3) };
    const progress = p.deteriorating ? Math.min(1, Math.max(0, (t - this.startedAt) / (this.options.deteriorationMinutes * 60_000))) : 0;
    const toward = (from: number, to: number) => from + (to - from) * progress;
    const b = p.baseline;
    return {
      hr: Math.round(toward(b.hr, 132) + p.drift.hr),
      rr: Math.round(toward(b.rr, 27) + p.drift.rr),
      spo2: Math.min(100, Math.round(toward(b.spo2, 89) + p.drift.spo2)),
      sbp: Math.round(toward(b.sbp, 88) + p.drift.sbp),
      dbp: Math.round(toward(b.dbp, 52) + p.drift.sbp / 2),
      temp: Math.round((toward(b.temp, 39.3) + p.drift.temp) * 10) / 10,
      acvpu: progress > 0.7 ? 'C' : 'A',
      onOxygen: false,
    };
  }

  /** The next message of a patient, in its device's format. */
  message(p: SimulatedPatient, t: number): Buffer {
    const v = this.vitals(p, t);
    p.seq++;
    if (p.format === 'compact') return Buffer.from(JSON.stringify([p.deviceId, p.seq, Math.round(t / 1000), v.hr, v.spo2, v.rr, v.temp, v.sbp, v.dbp]));
    return Buffer.from(
      JSON.stringify({
        v: 1,
        deviceId: p.deviceId,
        messageId: `${p.deviceId}-${t}-${p.seq}`,
        time: new Date(t).toISOString(),
        measurements: [
          { code: '8867-4', value: v.hr, unit: '/min' },
          { code: '9279-1', value: v.rr, unit: '/min' },
          { code: '59408-5', value: v.spo2, unit: '%' },
          { code: '8480-6', value: v.sbp, unit: 'mm[Hg]' },
          { code: '8462-4', value: v.dbp, unit: 'mm[Hg]' },
          { code: '8310-5', value: v.temp, unit: 'Cel' },
          // Monitors do not assess consciousness or oxygen; the simulator sends what a nurse would chart.
          { code: 'acvpu', value: v.acvpu },
          { code: 'o2', value: v.onOxygen },
        ],
      }),
    );
  }
}

/** `1/s`, `10/s`, `30/min`, `0.5` (per second) → messages per second per device. */
export function parseRate(text: string): number {
  const m = /^(\d+(?:\.\d+)?)(?:\/(s|sec|m|min|h))?$/.exec(text.trim());
  if (!m) throw new Error(`--rate "${text}": use e.g. 1/s, 12/min or 0.5`);
  const n = Number(m[1]);
  const per = m[2] === 'm' || m[2] === 'min' ? 60 : m[2] === 'h' ? 3600 : 1;
  if (n <= 0) throw new Error('--rate must be above 0');
  return n / per;
}

export interface SimRunOptions {
  url: string;
  fleet: MonitorFleetOptions;
  /** Messages per second per device. */
  rate: number;
  /** Stop after this many seconds (default: until stopped). */
  durationSeconds?: number;
  /** Stop after this many messages per device. */
  messagesPerDevice?: number;
  /** Devices sharing one MQTT connection (default 1: each device its own client, as on a ward). */
  devicesPerConnection?: number;
  qos?: 0 | 1;
  protocolVersion?: 4 | 5;
  username?: string;
  password?: string;
  onProgress?: (stats: SimStats) => void;
  /** How often onProgress is called (default 5 s). */
  progressEveryMs?: number;
  /** Called once every MQTT connection is open, before the first reading. */
  onConnected?: () => void;
  signal?: AbortSignal;
  /** Register and bind the devices through this hisbridge API base (`http://host:port/api/iomt`) first. */
  bind?: { apiBase: string; token: string };
}

/**
 * Registers every simulated device with a running hisbridge (`/api/iomt`) and binds it to a synthetic
 * visit, so a demo shows charted vitals and NEWS2 alerts instead of held (unassigned) readings.
 */
export async function registerFleet(fleet: MonitorFleet, apiBase: string, token: string): Promise<number> {
  const call = async (method: string, path: string, body: unknown) => {
    const res = await fetch(apiBase.replace(/\/$/, '') + path, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    if (!res.ok && res.status !== 409) throw new Error(`${method} ${path}: HTTP ${res.status} ${await res.text()}`);
  };
  for (const [i, p] of fleet.patients.entries()) {
    await call('PUT', `/devices/${encodeURIComponent(p.deviceId)}`, { site: p.site, ward: p.ward, bed: p.bed, model: p.format === 'compact' ? 'simulated wearable' : 'simulated monitor' });
    const n = String(i + 1).padStart(4, '0');
    await call('POST', '/bindings', { deviceId: p.deviceId, visitId: `SIM-V-${n}`, patientId: `SIM-P-${n}`, patientName: `Bệnh nhân mô phỏng ${n}`, from: new Date(Date.now() - 60_000).toISOString() });
  }
  return fleet.patients.length;
}

export interface SimStats {
  published: number;
  acknowledged: number;
  failed: number;
  elapsedMs: number;
  devices: number;
  deteriorating: number;
}

/** Waits `ms`, or less when the signal aborts (a stopped fleet leaves no timers behind). */
function abortableDelay(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const done = () => {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    };
    const timer = setTimeout(done, ms);
    signal?.addEventListener('abort', done, { once: true });
  });
}

/** Runs the fleet against a broker; resolves with the totals once done (or aborted). */
export async function runMonitorFleet(options: SimRunOptions): Promise<SimStats> {
  const fleet = new MonitorFleet(options.fleet);
  if (options.bind) await registerFleet(fleet, options.bind.apiBase, options.bind.token);
  const perConnection = Math.max(1, options.devicesPerConnection ?? 1);
  const clients: MqttClient[] = [];
  const stats: SimStats = { published: 0, acknowledged: 0, failed: 0, elapsedMs: 0, devices: fleet.patients.length, deteriorating: fleet.patients.filter((p) => p.deteriorating).length };
  const started = Date.now();
  try {
    for (let i = 0; i < fleet.patients.length; i += perConnection) {
      const id = perConnection === 1 ? fleet.patients[i].deviceId : `sim-${process.pid}-${i / perConnection}`;
      clients.push(await mqtt.connectAsync(options.url, { clientId: `${id}-${crypto.randomBytes(3).toString('hex')}`, protocolVersion: options.protocolVersion ?? 4, username: options.username, password: options.password, reconnectPeriod: 1000 }));
    }
    const intervalMs = 1000 / options.rate;
    const endAt = options.durationSeconds ? started + options.durationSeconds * 1000 : Infinity;
    const maxPerDevice = options.messagesPerDevice ?? Infinity;
    const inFlight = new Set<Promise<void>>();
    options.onConnected?.();
    const progress = setInterval(() => options.onProgress?.({ ...stats, elapsedMs: Date.now() - started }), options.progressEveryMs ?? 5000);
    progress.unref();
    // Each device publishes on its own schedule, staggered across the interval.
    const tick = async (index: number) => {
      const p = fleet.patients[index];
      const client = clients[Math.floor(index / perConnection)];
      let next = started + (index / fleet.patients.length) * intervalMs;
      for (let n = 0; n < maxPerDevice; n++) {
        if (options.signal?.aborted) return;
        const wait = next - Date.now();
        if (wait > 0) await abortableDelay(wait, options.signal);
        if (Date.now() >= endAt || options.signal?.aborted) return;
        const body = fleet.message(p, Date.now());
        stats.published++;
        const done = client.publishAsync(fleet.topic(p), body, { qos: options.qos ?? 1 }).then(
          () => void stats.acknowledged++,
          () => void stats.failed++,
        );
        inFlight.add(done);
        void done.finally(() => inFlight.delete(done));
        next += intervalMs;
      }
    };
    try {
      await Promise.all(fleet.patients.map((_, i) => tick(i)));
      await Promise.all(inFlight);
    } finally {
      clearInterval(progress);
    }
  } finally {
    await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
  }
  stats.elapsedMs = Date.now() - started;
  return stats;
}

const USAGE = 'monitors [--count 200] [--rate 1/s] [--url mqtt://127.0.0.1:1884] [--duration <s>] [--messages <n per device>] [--format json|compact|mixed] [--deteriorating 0.1] [--deterioration-minutes 10] [--site hn1] [--beds-per-ward 20] [--per-connection 1] [--qos 1] [--mqtt5] [--username u --password p] [--seed 1] [--bind http://127.0.0.1:8080/api/iomt --token <api token>]';

export const monitorsSimVerb: CliCommand = {
  usage: `${USAGE}  publish simulated bedside-monitor vitals over MQTT (some patients deteriorate)`,
  async run(args: string[]): Promise<number> {
    const { flags } = parseArgs(args);
    const num = (name: string, fallback: number) => {
      const v = flags[name];
      if (v === undefined) return fallback;
      const n = Number(v);
      if (v === true || !Number.isFinite(n)) throw new Error(`--${name} needs a number`);
      return n;
    };
    try {
      const format = (flags.format ?? 'json') as string;
      if (!['json', 'compact', 'mixed'].includes(format)) throw new Error('--format must be json, compact or mixed');
      const controller = new AbortController();
      const onSignal = () => controller.abort();
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const count = num('count', 200);
      if (count < 1 || count > 100_000) throw new Error('--count must be 1..100000');
      const url = typeof flags.url === 'string' ? flags.url : 'mqtt://127.0.0.1:1884';
      const rate = parseRate(typeof flags.rate === 'string' ? flags.rate : '1/s');
      process.stderr.write(`simulating ${count} monitor(s) at ${rate}/s each → ${url}\n`);
      const stats = await runMonitorFleet({
        url,
        rate,
        durationSeconds: flags.duration !== undefined ? num('duration', 0) : undefined,
        messagesPerDevice: flags.messages !== undefined ? num('messages', 0) : undefined,
        devicesPerConnection: num('per-connection', 1),
        qos: num('qos', 1) === 0 ? 0 : 1,
        protocolVersion: flags.mqtt5 ? 5 : 4,
        username: typeof flags.username === 'string' ? flags.username : undefined,
        password: typeof flags.password === 'string' ? flags.password : undefined,
        fleet: {
          count,
          format: format as 'json' | 'compact' | 'mixed',
          deterioratingShare: num('deteriorating', 0.1),
          deteriorationMinutes: num('deterioration-minutes', 10),
          site: typeof flags.site === 'string' ? flags.site : 'hn1',
          bedsPerWard: num('beds-per-ward', 20),
          seed: num('seed', 1),
        },
        signal: controller.signal,
        bind: typeof flags.bind === 'string' ? { apiBase: flags.bind, token: typeof flags.token === 'string' ? flags.token : (process.env.HISBRIDGE_TOKEN ?? '') } : undefined,
        onProgress: (s) => process.stderr.write(`${Math.round(s.elapsedMs / 1000)} s: ${s.published} published, ${s.acknowledged} acknowledged, ${s.failed} failed\n`),
      });
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      process.stdout.write(JSON.stringify(stats) + '\n');
      return stats.failed > 0 ? 1 : 0;
    } catch (err) {
      process.stderr.write(`sim monitors: ${(err as Error).message}\n`);
      return 2;
    }
  },
};

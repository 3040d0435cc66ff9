// Demo simulators inside the engine: in demo mode (`demo.enabled`, the default `npm start`), the console
// can start and stop the project's own device simulators against the engine's own listeners:
//   - an ASTM analyser per profile in devices/analyzers (AnalyzerSimulator), available when a deployed
//     channel has an `astm` tcp-server source with that profile (the demo c311 channel on demo.astmPort);
//   - a modality (simulateModality: worklist → MPPS → images) per deployed `dicom` source channel;
//   - a fleet of bedside monitors (runMonitorFleet) publishing to the IoMT module's embedded broker,
//     registered and bound to synthetic visits so their vitals are charted.
// Targets are found from what the engine runs at the moment of the request, never from guessed ports.
// Each running simulator owns its sockets and timers; stop() closes them and waits for the last step.
import express, { type Request } from 'express';
import { z } from 'zod';
import type { ApplicationModule } from '../../engine/app';
import { HttpError, requirePermission } from '../../engine/api/server';
import type { Engine } from '../../engine/engine';
import type { SecurityStore } from '../../engine/auth/security-store';
import { HIS_SERVICE } from '../../his/lookups';
import type { LabOrder } from '../../model/order';
import { defaultCodeMapFiles, loadCodeMap } from '../../connectors/astm/codeMap';
import { IOMT_BROKER_SERVICE } from '../../iomt/module';
import { IOMT_SERVICE, type IomtService } from '../../iomt/service';
import { loadProfile, loadProfiles, type AnalyzerProfile } from '../analyzers/profile';
import { AnalyzerSimulator, buildResults, type SimulatedSpecimen } from './analyzer';
import { generatedSpecimens } from './cli';
import { simulateModality } from './modality';
import { MonitorFleet, runMonitorFleet } from './monitors';

export type DemoSimulatorKind = 'analyzer' | 'modality' | 'monitors';

/** What `GET /api/demo/simulators` lists for each simulator. */
export interface DemoSimulatorState {
  id: string;
  kind: DemoSimulatorKind;
  name: string;
  /** Where it sends (`127.0.0.1:5010 → channel demo-lab-c311`), or null when nothing listens for it. */
  target: string | null;
  available: boolean;
  /** Why it cannot start, as a code the console translates: no channel listens for it, no broker runs. */
  unavailableReason: 'no-channel' | 'no-broker' | null;
  /** Devices it plays (the monitor fleet plays several). */
  devices: number;
  running: boolean;
  /** Why it is unavailable, or what it last did. */
  detail: string;
  startedAt: string | null;
  /** Messages (analyser uploads, modality orders, monitor readings) sent since it started. */
  sent: number;
  errors: number;
  lastError: { at: string; message: string } | null;
  intervalMs: number;
}

export interface StartOptions {
  /** Time between uploads (analyser), worklist rounds (modality) or readings per monitor. */
  intervalMs?: number;
}

interface Candidate {
  id: string;
  kind: DemoSimulatorKind;
  name: string;
  target: string | null;
  unavailable?: string;
  unavailableReason?: 'no-channel' | 'no-broker';
  devices: number;
  defaultIntervalMs: number;
  /** Starts the simulator; resolves once it is connected (rejects with the reason when it cannot). */
  launch(run: RunState, intervalMs: number): Promise<() => Promise<void>>;
}

/** The live part of a running simulator, shared with its loop. */
class RunState {
  sent = 0;
  errors = 0;
  detail = '';
  lastError: { at: string; message: string } | null = null;
  readonly startedAt = new Date();
  stopped = false;
  private wakeUp?: () => void;
  private timer?: NodeJS.Timeout;

  constructor(readonly candidate: Candidate, readonly intervalMs: number) {}

  fail(error: unknown): void {
    this.errors++;
    this.lastError = { at: new Date().toISOString(), message: error instanceof Error ? error.message : String(error) };
  }

  /** Waits `ms`, or less when the simulator is stopped meanwhile. */
  sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      this.wakeUp = resolve;
      this.timer = setTimeout(resolve, ms);
    });
  }

  interrupt(): void {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.wakeUp?.();
  }
}

const LOOPBACK_ANY = new Set(['0.0.0.0', '::', '']);

/** The simulators of one engine, found from its deployed channels and services. */
export class DemoSimulators {
  private readonly running = new Map<string, { run: RunState; stop: () => Promise<void> }>();
  private readonly profiles: Map<string, AnalyzerProfile>;

  constructor(private readonly engine: Engine) {
    this.profiles = loadProfiles();
  }

  list(): DemoSimulatorState[] {
    return this.candidates().map((c) => this.describe(c));
  }

  async start(id: string, options: StartOptions = {}): Promise<DemoSimulatorState> {
    const candidate = this.find(id);
    if (this.running.has(id)) throw new HttpError(409, `simulator "${id}" is already running`);
    if (candidate.unavailable) throw new HttpError(409, `simulator "${id}" cannot start: ${candidate.unavailable}`);
    const run = new RunState(candidate, options.intervalMs ?? candidate.defaultIntervalMs);
    let stop: () => Promise<void>;
    try {
      stop = await candidate.launch(run, run.intervalMs);
    } catch (error) {
      run.interrupt();
      throw new HttpError(502, `simulator "${id}" could not reach ${candidate.target}: ${(error as Error).message}`);
    }
    this.running.set(id, { run, stop });
    this.engine.log.info(`demo simulator ${id} started (${candidate.target}, every ${run.intervalMs} ms)`);
    return this.describe(candidate);
  }

  async stop(id: string): Promise<DemoSimulatorState> {
    const entry = this.running.get(id);
    if (!entry) {
      const candidate = this.candidates().find((c) => c.id === id);
      if (!candidate) throw new HttpError(404, `no simulator "${id}"`);
      throw new HttpError(409, `simulator "${id}" is not running`);
    }
    await this.halt(id);
    return this.describe(this.candidates().find((c) => c.id === id) ?? entry.run.candidate);
  }

  /** Stops every running simulator (engine shutdown). */
  async stopAll(): Promise<void> {
    await Promise.all([...this.running.keys()].map((id) => this.halt(id)));
  }

  private async halt(id: string): Promise<void> {
    const entry = this.running.get(id);
    if (!entry) return;
    this.running.delete(id);
    entry.run.interrupt();
    await entry.stop().catch((error) => this.engine.log.warn(`demo simulator ${id}: ${(error as Error).message} while stopping`));
    this.engine.log.info(`demo simulator ${id} stopped after ${entry.run.sent} message(s)`);
  }

  private find(id: string): Candidate {
    const candidate = this.candidates().find((c) => c.id === id);
    if (!candidate) throw new HttpError(404, `no simulator "${id}" (GET /api/demo/simulators lists them)`);
    return candidate;
  }

  private describe(candidate: Candidate): DemoSimulatorState {
    const run = this.running.get(candidate.id)?.run;
    return {
      id: candidate.id,
      kind: candidate.kind,
      name: candidate.name,
      target: run?.candidate.target ?? candidate.target,
      available: !candidate.unavailable,
      unavailableReason: candidate.unavailableReason ?? null,
      devices: candidate.devices,
      running: Boolean(run),
      detail: run ? run.detail : (candidate.unavailable ?? ''),
      startedAt: run ? run.startedAt.toISOString() : null,
      sent: run?.sent ?? 0,
      errors: run?.errors ?? 0,
      lastError: run?.lastError ?? null,
      intervalMs: run?.intervalMs ?? candidate.defaultIntervalMs,
    };
  }

  private candidates(): Candidate[] {
    const out: Candidate[] = [];
    const astmChannels = new Map<string, { channelId: string; host: string; port: number }>();
    const dicomChannels: Array<{ channelId: string; host: string; port: number; aeTitle: string; stations: string[] }> = [];
    for (const channelId of this.engine.channelIds()) {
      const source = this.engine.channelConfig(channelId).source;
      const config = (source.config ?? {}) as Record<string, any>;
      if (source.connector === 'astm' && config.transport?.kind === 'tcp-server' && typeof config.profile === 'string' && !astmChannels.has(config.profile)) {
        astmChannels.set(config.profile, { channelId, host: reachable(config.transport.host), port: Number(config.transport.port) });
      }
      if (source.connector === 'dicom' && typeof config.aeTitle === 'string') {
        // The modality plays each of the channel's modality AEs in turn (role defaults to modality).
        const stations = (config.remotes ?? []).filter((r: any) => (r?.role ?? 'modality') === 'modality' && typeof r.aeTitle === 'string').map((r: any) => r.aeTitle as string);
        if (stations.length || config.allowUnknownAes) dicomChannels.push({ channelId, host: reachable(config.host ?? '127.0.0.1'), port: Number(config.port ?? 11112), aeTitle: config.aeTitle, stations: stations.length ? stations : ['HISBRIDGE-SIM'] });
      }
    }
    // Profiles of running channels first, then the profiles nothing listens for (listed, not startable).
    const profileIds = [...this.profiles.keys()].sort((a, b) => Number(astmChannels.has(b)) - Number(astmChannels.has(a)) || a.localeCompare(b));
    for (const profileId of profileIds) {
      const profile = this.profiles.get(profileId)!;
      const channel = astmChannels.get(profileId);
      out.push({
        id: `analyzer-${profileId}`,
        kind: 'analyzer',
        name: profile.name,
        target: channel ? `${channel.host}:${channel.port} → ${channel.channelId}` : null,
        unavailable: channel ? undefined : `no deployed channel has an astm tcp-server source with profile ${profileId}`,
        unavailableReason: channel ? undefined : 'no-channel',
        devices: 1,
        defaultIntervalMs: 3000,
        launch: (run, intervalMs) => launchAnalyzer(loadProfile(profileId), channel!, run, intervalMs, this.engine.lookup<OrderPoller>(HIS_SERVICE)),
      });
    }
    for (const channel of dicomChannels) {
      out.push({
        id: `modality-${channel.channelId}`,
        kind: 'modality',
        name: channel.stations.join(', '),
        target: `${channel.aeTitle}@${channel.host}:${channel.port} → ${channel.channelId}`,
        devices: 1,
        defaultIntervalMs: 15_000,
        launch: (run, intervalMs) => launchModality(channel, run, intervalMs),
      });
    }
    const broker = this.engine.lookup<{ url: string }>(IOMT_BROKER_SERVICE);
    out.push({
      id: 'monitors',
      kind: 'monitors',
      name: `${MONITOR_COUNT} bedside monitors`,
      target: broker ? broker.url : null,
      unavailable: broker ? undefined : 'the IoMT module runs no embedded MQTT broker',
      unavailableReason: broker ? undefined : 'no-broker',
      devices: MONITOR_COUNT,
      defaultIntervalMs: 5000,
      launch: (run, intervalMs) => launchMonitors(this.engine, broker!.url, run, intervalMs),
    });
    return out;
  }
}

/** A listener on every interface is reached on loopback. */
function reachable(host: unknown): string {
  return typeof host !== 'string' || LOOPBACK_ANY.has(host) ? '127.0.0.1' : host;
}

// ---------------------------------------------------------------- analyser

/** The part of the HIS database (connectors/his-db) that lists open orders. */
interface OrderPoller {
  pollOrders?(kind: 'lab', cursor: { since?: string }, filter: { statuses?: string[] }, limit: number): Promise<Array<{ order?: unknown }>>;
}

/**
 * Specimens to upload: the HIS's open lab orders for tests this analyser performs (so the results file
 * under real orders, and a second round is a rerun, as on a real analyser), else numbered SIM specimens.
 */
async function specimenSource(profile: AnalyzerProfile, his: OrderPoller | undefined): Promise<{ next(): SimulatedSpecimen; fromHis: number }> {
  const own = loadCodeMap(defaultCodeMapFiles(profile.id)).entries.filter((e) => e.analyser === profile.id);
  const codeOf = new Map(own.map((e) => [e.hisServiceCode, e.analyserCode]));
  let orders: LabOrder[] = [];
  if (typeof his?.pollOrders === 'function' && codeOf.size > 0) {
    const open = await his.pollOrders('lab', { since: '0001-01-01 00:00:00.000' }, { statuses: ['ordered', 'collected'] }, 500);
    orders = open.map((p) => p.order as LabOrder).filter((o) => o?.specimen?.id && o.tests.some((t) => codeOf.has(t.hisServiceCode)));
  }
  // Numbers continue from the clock, so a restarted simulator does not resend old specimens.
  let n = Math.floor(Date.now() / 1000) % 1_000_000;
  let i = 0;
  return {
    fromHis: orders.length,
    next() {
      n++;
      if (orders.length === 0) return generatedSpecimens(profile, 1, { start: n })[0];
      const order = orders[i++ % orders.length];
      const codes = new Set(order.tests.map((t) => codeOf.get(t.hisServiceCode)).filter(Boolean));
      const [specimen] = generatedSpecimens(profile, 1, { start: n, specimen: order.specimen.id });
      return { ...specimen, patientId: order.patientId, results: specimen.results.filter((r) => codes.has(r.code)) };
    },
  };
}

async function launchAnalyzer(profile: AnalyzerProfile, target: { host: string; port: number }, run: RunState, intervalMs: number, his?: OrderPoller): Promise<() => Promise<void>> {
  const specimens = await specimenSource(profile, his);
  let simulator = new AnalyzerSimulator({ profile, log: (line) => (run.detail = line) });
  await simulator.connectTcp(target.host, target.port);
  const loop = (async () => {
    while (!run.stopped) {
      try {
        if (simulator.closed) {
          simulator = new AnalyzerSimulator({ profile, log: (line) => (run.detail = line) });
          await simulator.connectTcp(target.host, target.port);
        }
        const specimen = specimens.next();
        await simulator.send(buildResults(profile, [specimen]));
        run.sent++;
        run.detail = `sent specimen ${specimen.specimenId} (${specimen.results.length} results${specimens.fromHis ? `; ${specimens.fromHis} open HIS orders in turn` : ''})`;
      } catch (error) {
        if (run.stopped) break;
        run.fail(error);
        run.detail = `line problem: ${(error as Error).message}; retrying`;
        simulator.close();
      }
      await run.sleep(intervalMs);
    }
  })();
  return async () => {
    simulator.close();
    await loop;
  };
}

// ---------------------------------------------------------------- modality

async function launchModality(target: { host: string; port: number; aeTitle: string; stations: string[] }, run: RunState, intervalMs: number): Promise<() => Promise<void>> {
  // Each round, the next station performs the first scheduled order of its worklist (worklist query,
  // MPPS in progress, two images, MPPS completed); a completed order leaves the worklist.
  let turn = 0;
  const round = async () => {
    const station = target.stations[turn++ % target.stations.length];
    const result = await simulateModality({ host: target.host, port: target.port, calledAeTitle: target.aeTitle, stationAeTitle: station, orders: 1, imagesPerOrder: 2, imageKind: 'small' });
    const order = result.orders[0];
    if (!order) run.detail = `${station}: worklist empty today`;
    else {
      run.sent++;
      run.detail = `${station}: ${order.accessionNumber} ${order.stored}/${order.images} images stored, MPPS ${order.mppsSetStatus === 0 ? 'completed' : `answered ${order.mppsSetStatus.toString(16)}`}`;
    }
  };
  await round(); // the first round proves the engine answers (association, worklist)
  const loop = (async () => {
    while (!run.stopped) {
      await run.sleep(intervalMs);
      if (run.stopped) break;
      await round().catch((error) => run.fail(error));
    }
  })();
  return () => loop;
}

// ---------------------------------------------------------------- monitors

const MONITOR_COUNT = 10;

async function launchMonitors(engine: Engine, url: string, run: RunState, intervalMs: number): Promise<() => Promise<void>> {
  const fleetOptions = { count: MONITOR_COUNT, prefix: 'SIM-MON', site: 'demo', bedsPerWard: 10, deterioratingShare: 0.2, seed: 7 };
  // Bind each monitor to a synthetic visit (unless already bound), so readings are charted, not held.
  const iomt = engine.lookup<IomtService>(IOMT_SERVICE);
  if (iomt) {
    for (const [i, p] of new MonitorFleet(fleetOptions).patients.entries()) {
      iomt.registry.upsertDevice({ id: p.deviceId, site: p.site, ward: p.ward, bed: p.bed, model: 'simulated monitor' });
      if (!iomt.registry.openBinding(p.deviceId)) {
        const n = String(i + 1).padStart(3, '0');
        iomt.registry.bind({ deviceId: p.deviceId, visitId: `SIM-V-${n}`, patientId: `SIM-P-${n}`, patientName: `Bệnh nhân mô phỏng ${n}`, source: 'console', by: 'demo simulator' });
      }
    }
  }
  const abort = new AbortController();
  let ready!: () => void;
  const connected = new Promise<void>((resolve) => (ready = resolve));
  const fleet = runMonitorFleet({
    url,
    rate: 1000 / intervalMs,
    fleet: fleetOptions,
    devicesPerConnection: MONITOR_COUNT,
    qos: 1,
    signal: abort.signal,
    onConnected: ready,
    onProgress: (stats) => {
      run.sent = stats.acknowledged;
      run.detail = `${stats.published} readings published, ${stats.acknowledged} acknowledged`;
      if (stats.failed > run.errors) run.fail(`${stats.failed} readings not acknowledged`);
    },
    progressEveryMs: 1000,
  });
  await Promise.race([connected, fleet]);
  const done = fleet.then(
    (stats) => {
      run.sent = stats.acknowledged;
    },
    (error) => run.fail(error),
  );
  return async () => {
    abort.abort();
    await done;
  };
}

// ---------------------------------------------------------------- API and module

const startBody = z.object({ intervalMs: z.number().int().min(100).max(600_000).optional() }).strict();

/** `/api/demo`: list (channels:read), start and stop (devices:manage, audited). */
export function demoSimulatorRouter(simulators: DemoSimulators, security: SecurityStore): express.Router {
  const router = express.Router();
  const audit = (req: Request, action: string, id: string, detail?: string) =>
    security.audit({ username: req.user?.username ?? '(anonymous)', action, target: `simulator:${id}`, detail, remote: req.socket.remoteAddress ?? '' });
  router.get('/simulators', (_req, res) => res.json({ simulators: simulators.list() }));
  router.post('/simulators/:id/start', requirePermission('devices:manage'), async (req, res) => {
    const parsed = startBody.safeParse(req.body ?? {});
    if (!parsed.success) throw new HttpError(400, `${parsed.error.issues[0].path.join('.') || 'body'}: ${parsed.error.issues[0].message}`);
    const id = String(req.params.id);
    const state = await simulators.start(id, parsed.data);
    audit(req, 'demo-simulator-start', id, `${state.target} every ${state.intervalMs} ms`);
    res.json({ simulator: state });
  });
  router.post('/simulators/:id/stop', requirePermission('devices:manage'), async (req, res) => {
    const id = String(req.params.id);
    const state = await simulators.stop(id);
    audit(req, 'demo-simulator-stop', id);
    res.json({ simulator: state });
  });
  return router;
}

/** Mounted only in demo mode: elsewhere `/api/demo/*` does not exist (404). */
export function demoSimulatorsModule(): ApplicationModule {
  return {
    name: 'demo-simulators',
    async start({ engine, config, security }) {
      if (!config.demo.enabled) return;
      const simulators = new DemoSimulators(engine);
      return {
        extensions: [{ path: 'demo', permission: 'channels:read', router: demoSimulatorRouter(simulators, security) }],
        stop: () => simulators.stopAll(),
      };
    },
  };
}

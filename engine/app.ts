// The composition root: configuration → logging → certificates → users → engine → channels → API.
// `hisbridge start` (and `npm start`) call startApplication; tests call it with a temporary config.
import fs from 'node:fs';
import type http from 'node:http';
import path from 'node:path';
import { registerBuiltinConnectors } from '../connectors';
import { createApiApp, startApiServer, type ApiExtension } from './api/server';
import { SecurityStore } from './auth/security-store';
import { ensureEngineCertificates } from './certs/certificates';
import { ChannelFolder } from './channel/loader';
import type { EngineConfig } from './config/config';
import { ConnectorRegistry } from './connectors/registry';
import { Engine } from './engine';
import { createLogger } from './log';
import { StatsHistory, type StatsHistoryOptions } from './metrics/history';
import { PostgresMessageStore } from './store/postgres-store';
import type { MessageStore } from './store/types';
import os from 'node:os';

export interface RunningApplication {
  engine: Engine;
  security: SecurityStore;
  channels: ChannelFolder;
  api: http.Server;
  apiUrl: string;
  /** Sampled channel counters behind GET /api/stats/history. */
  statsHistory: StatsHistory;
  /** Printed once on first start; undefined afterwards. */
  initialAdminPassword?: string;
  stop(): Promise<void>;
}

/** Optional modules contribute services, API routes and shutdown hooks (HIS, IoMT, claims, EMR…). */
export interface ApplicationModule {
  name: string;
  start(context: { engine: Engine; config: EngineConfig; security: SecurityStore }): Promise<{ extensions?: ApiExtension[]; stop?: () => Promise<void> } | void>;
}

export async function startApplication(config: EngineConfig, options: { modules?: ApplicationModule[]; consoleDir?: string; quiet?: boolean; statsHistory?: Pick<StatsHistoryOptions, 'tiers' | 'now'> } = {}): Promise<RunningApplication> {
  const log = createLogger({ level: config.logging.level, dir: config.logging.dir, console: !options.quiet });
  fs.mkdirSync(config.dataDir, { recursive: true });
  ensureEngineCertificates(config.certsDir);
  const security = new SecurityStore(path.join(config.dataDir, 'security.db'));
  const initialAdminPassword = security.bootstrapAdmin();
  const engine = new Engine({
    dataDir: config.dataDir,
    certsDir: config.certsDir,
    registry: registerBuiltinConnectors(new ConnectorRegistry()),
    log,
    store: await createConfiguredStore(config),
    partitionMs: config.store.partitionHours * 3_600_000,
    retentionMs: config.store.retentionDays * 86_400_000,
    synchronous: config.store.synchronous,
  });
  await engine.start();
  if (config.alerts.webhookUrl) forwardAlertsToWebhook(engine, config.alerts.webhookUrl);

  const stops: Array<() => Promise<void>> = [];
  const extensions: ApiExtension[] = [];
  for (const module of options.modules ?? []) {
    try {
      const started = await module.start({ engine, config, security });
      if (started?.extensions) extensions.push(...started.extensions);
      if (started?.stop) stops.push(started.stop);
    } catch (error) {
      log.error(`module ${module.name} failed to start: ${(error as Error).message}`);
      throw error;
    }
  }

  const channels = new ChannelFolder(engine, config.channelsDir, { ...config.demo, dataDir: config.dataDir, certsDir: config.certsDir });
  const { deployed, problems } = await channels.deployAll();
  log.info(`deployed ${deployed.length} channel(s)${problems.length ? `; ${problems.length} problem(s) in channel files` : ''}`);

  const statsHistory = new StatsHistory({ ...options.statsHistory, channels: () => engine.channelIds().map((id) => [id, engine.describeChannel(id).stats] as const) });
  statsHistory.start();
  const app = createApiApp({ engine, security, channels, extensions, consoleDir: options.consoleDir, statsHistory });
  const tls = config.api.tls ? { keyFile: path.join(config.certsDir, 'server.key'), certFile: path.join(config.certsDir, 'server.crt') } : undefined;
  let api: http.Server;
  try {
    api = await startApiServer(app, { host: config.api.host, port: config.api.port, tls });
  } catch (error) {
    statsHistory.stop();
    await engine.stop();
    for (const stop of stops.reverse()) await stop().catch(() => undefined);
    security.close();
    throw error;
  }
  const address = api.address() as import('node:net').AddressInfo;
  const apiUrl = `${tls ? 'https' : 'http'}://${config.api.host === '0.0.0.0' ? 'localhost' : config.api.host}:${address.port}`;
  log.info(`console and API on ${apiUrl}`);

  let stopping: Promise<void> | undefined;
  return {
    engine,
    security,
    channels,
    api,
    apiUrl,
    statsHistory,
    initialAdminPassword,
    stop() {
      stopping ??= (async () => {
        await new Promise<void>((resolve) => {
          api.close(() => resolve());
          api.closeAllConnections?.();
        });
        statsHistory.stop();
        await engine.stop();
        for (const stop of stops.reverse()) await stop().catch((e) => log.error(`stopping module: ${e.message}`));
        security.close();
        log.info('stopped');
      })();
      return stopping;
    },
  };
}

/** The SQLite store is the engine's default; `store.kind: postgres` shares one database between nodes. */
async function createConfiguredStore(config: EngineConfig): Promise<MessageStore | undefined> {
  if (config.store.kind !== 'postgres') {
    if (Number(process.env.NODE_APP_INSTANCE ?? 0) > 0) {
      throw new Error('several engine processes (PM2 instances) need a shared store: set store.kind: postgres');
    }
    return undefined;
  }
  const url = process.env.HISBRIDGE_PG_URL ?? config.store.postgresUrl;
  if (!url) throw new Error('store.kind is postgres but neither store.postgresUrl nor HISBRIDGE_PG_URL is set');
  const store = new PostgresMessageStore({
    connectionString: url,
    nodeId: config.store.nodeId ?? `${os.hostname()}-${process.pid}`,
    partitionMs: config.store.partitionHours * 3_600_000,
    retentionMs: config.store.retentionDays * 86_400_000,
  });
  await store.whenReady();
  return store;
}

function forwardAlertsToWebhook(engine: Engine, url: string): void {
  engine.on('alert', (alert) => {
    fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ source: 'hisbridge', ...alert }), signal: AbortSignal.timeout(10_000) }).catch((error) =>
      engine.log.warn(`alert webhook ${url} failed: ${error.message}`),
    );
  });
}

// The engine: deploys channels (source → pipeline → store → destination queues), runs retention and
// alerts, and exposes the operations the REST API and CLI call. It knows no wire format.
import { EventEmitter } from 'node:events';
import path from 'node:path';
import type { Logger } from 'winston';
import { ZodError } from 'zod';
import { channelSchema, type ChannelConfig, type ChannelDefinition } from './channel/definition';
import { runPipeline, toChannelMessage, type PipelineResult } from './channel/pipeline';
import type { ConnectorRegistry } from './connectors/registry';
import type {
  ConnectionStatus,
  ConnectorServices,
  DestinationConnector,
  InboundMessage,
  ReceiptResult,
  ReceiveOptions,
  SourceConnector,
  SourceContext,
} from './connectors/types';
import { DestinationWorker } from './delivery/destination-worker';
import { createLogger } from './log';
import { ChannelStats, EngineMetrics } from './metrics/stats';
import { SqliteMessageStore } from './store/sqlite-store';
import type { MessageStore, NewMessage, StageContent } from './store/types';

export type ChannelState = 'started' | 'standby' | 'paused' | 'stopped' | 'failed';

export interface EngineOptions {
  dataDir: string;
  registry: ConnectorRegistry;
  certsDir?: string;
  store?: MessageStore;
  log?: Logger;
  /** Store tuning (SQLite): partition width and retention. */
  partitionMs?: number;
  retentionMs?: number;
  synchronous?: 'full' | 'normal';
  /** How often retention runs (ms); 0 disables the timer. */
  retentionIntervalMs?: number;
  /** How often alert rules are evaluated (ms); 0 disables the timer. */
  alertIntervalMs?: number;
  /** How often a standby node tries to take a singleton source's lease (ms). */
  leaseRetryMs?: number;
}

export interface ChannelError {
  file?: string;
  channelId?: string;
  field: string;
  message: string;
}

export class ChannelConfigError extends Error {
  constructor(readonly problems: ChannelError[]) {
    super(problems.map((p) => `${p.file ? p.file + ': ' : ''}${p.channelId ? `channel "${p.channelId}" ` : ''}${p.field}: ${p.message}`).join('; '));
    this.name = 'ChannelConfigError';
  }
}

export interface Alert {
  id: string;
  channelId: string;
  kind: 'errors' | 'queue-depth' | 'silent' | 'store' | 'connection';
  severity: 'warning' | 'critical';
  message: string;
  raisedAt: string;
  acknowledged: boolean;
}

interface DeployedChannel {
  config: ChannelConfig;
  sourceFile?: string;
  state: ChannelState;
  stateDetail?: string;
  source?: SourceConnector;
  destinations: Map<string, { connector: DestinationConnector; worker: DestinationWorker }>;
  connections: Map<string, ConnectionStatus>;
  stats: ChannelStats;
  deployedAt: string;
  lease?: { release(): Promise<void>; lost: Promise<string> };
  leaseTimer?: NodeJS.Timeout;
}

interface DeliveryWaiter {
  remaining: Set<string>;
  failed?: string;
  resolve: (result: ReceiptResult) => void;
}

export class Engine extends EventEmitter {
  readonly log: Logger;
  readonly store: MessageStore;
  readonly metrics = new EngineMetrics();
  readonly dataDir: string;
  readonly certsDir: string;
  private readonly registry: ConnectorRegistry;
  private readonly channels = new Map<string, DeployedChannel>();
  private readonly services = new Map<string, unknown>();
  private readonly waiters = new Map<number, DeliveryWaiter>();
  private readonly alerts = new Map<string, Alert>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly options: EngineOptions;
  private running = false;
  private stopping = false;

  constructor(options: EngineOptions) {
    super();
    this.options = options;
    this.dataDir = options.dataDir;
    this.certsDir = options.certsDir ?? path.join(options.dataDir, '..', 'certs');
    this.registry = options.registry;
    this.log = options.log ?? createLogger({ console: false });
    this.store =
      options.store ??
      new SqliteMessageStore({
        file: path.join(options.dataDir, 'store.db'),
        partitionMs: options.partitionMs,
        retentionMs: options.retentionMs,
        synchronous: options.synchronous,
      });
  }

  // ---------------------------------------------------------------- lifecycle

  async start(): Promise<void> {
    this.running = true;
    this.metrics.up.set(1);
    const retentionEvery = this.options.retentionIntervalMs ?? 3_600_000;
    if (retentionEvery > 0) this.timers.push(setInterval(() => void this.runRetention(), retentionEvery).unref());
    const alertEvery = this.options.alertIntervalMs ?? 15_000;
    if (alertEvery > 0) this.timers.push(setInterval(() => void this.evaluateAlerts(), alertEvery).unref());
  }

  /** Graceful stop: sources stop accepting, in-flight deliveries finish (or are retried at next start). */
  async stop(): Promise<void> {
    if (this.stopping) return;
    this.stopping = true;
    this.timers.forEach((t) => clearInterval(t));
    for (const id of [...this.channels.keys()]) await this.undeployChannel(id).catch((e) => this.log.error(`undeploy ${id}: ${e.message}`));
    for (const waiter of this.waiters.values()) waiter.resolve({ status: 'unavailable', error: 'engine stopping' });
    await this.store.close();
    this.running = false;
  }

  registerService(name: string, service: unknown): void {
    this.services.set(name, service);
  }

  lookup<T>(name: string): T | undefined {
    return this.services.get(name) as T | undefined;
  }

  connectorServices(): ConnectorServices {
    return { log: this.log, dataDir: this.dataDir, certsDir: this.certsDir, lookup: (name) => this.lookup(name) };
  }

  connectorTypes(): string[] {
    return this.registry.types();
  }

  // ---------------------------------------------------------------- channels

  /** Validates a channel definition: the schema, then every connector's own configuration schema. */
  validateChannel(definition: ChannelDefinition<any> | Record<string, unknown>, file?: string): ChannelConfig {
    let config: ChannelConfig;
    try {
      config = channelSchema.parse(definition);
    } catch (error) {
      if (error instanceof ZodError) {
        const channelId = typeof (definition as any)?.id === 'string' ? (definition as any).id : undefined;
        throw new ChannelConfigError(error.issues.map((i) => ({ file, channelId, field: i.path.join('.') || '(root)', message: i.message })));
      }
      throw error;
    }
    const problems: ChannelError[] = [];
    const check = (field: string, type: string, role: 'source' | 'destination', raw: unknown) => {
      const connector = this.registry.get(type);
      if (!connector) return problems.push({ file, channelId: config.id, field: `${field}.connector`, message: `unknown connector type "${type}" (known: ${this.registry.types().join(', ')})` });
      if (role === 'source' && !connector.createSource) return problems.push({ file, channelId: config.id, field: `${field}.connector`, message: `connector "${type}" cannot be a source` });
      if (role === 'destination' && !connector.createDestination) return problems.push({ file, channelId: config.id, field: `${field}.connector`, message: `connector "${type}" cannot be a destination` });
      const parsed = connector.configSchema.safeParse(raw);
      if (!parsed.success) for (const i of parsed.error.issues) problems.push({ file, channelId: config.id, field: [field, 'config', ...i.path].join('.'), message: i.message });
    };
    check('source', config.source.connector, 'source', config.source.config);
    config.destinations.forEach((d, i) => check(`destinations.${i}`, d.connector, 'destination', d.config));
    if (problems.length) throw new ChannelConfigError(problems);
    return config;
  }

  /** Deploys (or redeploys) one channel; the others keep running. */
  async deployChannel(definition: ChannelDefinition<any> | ChannelConfig, sourceFile?: string): Promise<void> {
    const config = this.validateChannel(definition as ChannelDefinition<any>, sourceFile);
    if (this.channels.has(config.id)) await this.undeployChannel(config.id);
    const services = this.connectorServices();
    const channel: DeployedChannel = {
      config,
      sourceFile,
      state: 'stopped',
      destinations: new Map(),
      connections: new Map(),
      stats: new ChannelStats(config.id, this.metrics),
      deployedAt: new Date().toISOString(),
    };
    this.channels.set(config.id, channel);
    try {
      for (const destination of config.destinations) {
        const definitionOf = this.registry.get(destination.connector)!;
        const connector = definitionOf.createDestination!(definitionOf.configSchema.parse(destination.config));
        await connector.start?.(services);
        const worker = new DestinationWorker(
          this.store,
          config.id,
          destination.name,
          connector,
          destination.queue,
          config.storage === 'full',
          this.log,
          (event) => this.onDeliveryEvent(channel, event),
        );
        channel.destinations.set(destination.name, { connector, worker });
      }
      if (config.enabled) {
        for (const { worker } of channel.destinations.values()) worker.start();
        await this.startOrStandBy(channel);
      }
      this.log.info(`deployed channel ${config.id}${sourceFile ? ` from ${sourceFile}` : ''}`);
      this.emit('channel', { id: config.id, state: channel.state });
    } catch (error) {
      channel.state = 'failed';
      channel.stateDetail = (error as Error).message;
      this.log.error(`channel ${config.id} failed to start: ${(error as Error).message}`);
      for (const { worker, connector } of channel.destinations.values()) {
        await worker.stop(0);
        await connector.stop?.().catch(() => undefined);
      }
      await channel.source?.stop().catch(() => undefined);
      channel.source = undefined;
      throw error;
    }
  }

  private isSingleton(channel: DeployedChannel): boolean {
    return channel.config.singleton ?? this.registry.get(channel.config.source.connector)?.singletonSource ?? false;
  }

  /** Starts the source, or, for a singleton on a shared store, waits on standby until this node holds its lease. */
  private async startOrStandBy(channel: DeployedChannel): Promise<void> {
    if (!this.isSingleton(channel) || !this.store.tryAcquireLease) {
      await this.startSource(channel);
      channel.state = 'started';
      return;
    }
    const id = channel.config.id;
    const attempt = async (): Promise<void> => {
      if (this.channels.get(id) !== channel || this.stopping) return;
      const lease = await this.store.tryAcquireLease!(`channel:${id}`).catch(() => undefined);
      if (!lease) {
        channel.state = 'standby';
        channel.stateDetail = 'another engine node runs this source';
        channel.leaseTimer = setTimeout(() => void attempt(), this.options.leaseRetryMs ?? 2000);
        channel.leaseTimer.unref();
        return;
      }
      channel.lease = lease;
      try {
        await this.startSource(channel);
      } catch (error) {
        await lease.release();
        channel.lease = undefined;
        throw error;
      }
      channel.state = 'started';
      channel.stateDetail = undefined;
      this.log.info(`this node took over singleton source of ${id}`);
      this.emit('channel', { id, state: 'started' });
      void lease.lost.then(async (reason) => {
        if (channel.lease !== lease) return;
        this.log.warn(`lost the lease of ${id} (${reason}); stopping its source`);
        channel.lease = undefined;
        await channel.source?.stop().catch(() => undefined);
        channel.source = undefined;
        channel.state = 'standby';
        void attempt();
      });
    };
    await attempt();
  }

  private async startSource(channel: DeployedChannel): Promise<void> {
    const definition = this.registry.get(channel.config.source.connector)!;
    const source = definition.createSource!(definition.configSchema.parse(channel.config.source.config));
    channel.source = source;
    const context: SourceContext = {
      ...this.connectorServices(),
      channelId: channel.config.id,
      receive: (message, options) => this.receive(channel, message, options),
      reportConnection: (status) => {
        if (status.state === 'stopped') channel.connections.delete(status.id);
        else channel.connections.set(status.id, { ...status, since: status.since ?? channel.connections.get(status.id)?.since ?? new Date().toISOString() });
        this.emit('connection', { channelId: channel.config.id, ...status });
      },
    };
    await source.start(context);
  }

  async undeployChannel(id: string): Promise<void> {
    const channel = this.requireChannel(id);
    if (channel.leaseTimer) clearTimeout(channel.leaseTimer);
    this.channels.delete(id);
    await channel.source?.stop().catch((e) => this.log.error(`stopping source of ${id}: ${e.message}`));
    await channel.lease?.release().catch(() => undefined);
    channel.lease = undefined;
    for (const { worker, connector } of channel.destinations.values()) {
      await worker.stop();
      await connector.stop?.().catch((e) => this.log.error(`stopping destination of ${id}: ${e.message}`));
    }
    this.log.info(`undeployed channel ${id}`);
    this.emit('channel', { id, state: 'undeployed' });
  }

  /** Pause: the source stops accepting (senders queue on their side); queued deliveries continue. */
  async pauseChannel(id: string): Promise<void> {
    const channel = this.requireChannel(id);
    if (channel.state !== 'started') throw new Error(`channel ${id} is ${channel.state}, not started`);
    await channel.source?.stop();
    channel.source = undefined;
    await channel.lease?.release().catch(() => undefined);
    channel.lease = undefined;
    channel.state = 'paused';
    this.emit('channel', { id, state: 'paused' });
  }

  async resumeChannel(id: string): Promise<void> {
    const channel = this.requireChannel(id);
    if (channel.state !== 'paused' && channel.state !== 'stopped') throw new Error(`channel ${id} is ${channel.state}`);
    for (const { worker } of channel.destinations.values()) worker.start();
    await this.startOrStandBy(channel);
    this.emit('channel', { id, state: channel.state });
  }

  private requireChannel(id: string): DeployedChannel {
    const channel = this.channels.get(id);
    if (!channel) throw new NotFoundError(`channel "${id}" is not deployed`);
    return channel;
  }

  channelIds(): string[] {
    return [...this.channels.keys()].sort();
  }

  channelConfig(id: string): ChannelConfig {
    return this.requireChannel(id).config;
  }

  describeChannel(id: string) {
    const c = this.requireChannel(id);
    return {
      id: c.config.id,
      name: c.config.name,
      description: c.config.description ?? null,
      state: c.state,
      stateDetail: c.stateDetail ?? null,
      sourceFile: c.sourceFile ?? null,
      deployedAt: c.deployedAt,
      storage: c.config.storage,
      source: { connector: c.config.source.connector },
      destinations: c.config.destinations.map((d) => ({
        name: d.name,
        connector: d.connector,
        paused: c.destinations.get(d.name)?.worker.isPaused ?? false,
        inFlight: c.destinations.get(d.name)?.worker.activeCount ?? 0,
        queue: d.queue,
      })),
      connections: [...c.connections.values()],
      stats: c.stats.snapshot(),
    };
  }

  /** Waits until every destination queue of a channel is empty (tests, drains). */
  async whenIdle(id: string): Promise<void> {
    const channel = this.requireChannel(id);
    await Promise.all([...channel.destinations.values()].map(({ worker }) => worker.whenIdle()));
  }

  // ---------------------------------------------------------------- receiving

  private async receive(channel: DeployedChannel, inbound: InboundMessage, options: ReceiveOptions = {}): Promise<ReceiptResult> {
    const started = performance.now();
    if (this.stopping) return { status: 'unavailable', error: 'engine is shutting down' };
    const health = this.store.health();
    if (!health.ok && health.reason?.startsWith('store closed')) return { status: 'unavailable', error: health.reason };
    const receivedAt = new Date();
    const message = toChannelMessage(channel.config.id, inbound, receivedAt);
    const result = await runPipeline(channel.config, message);
    const record = this.toNewMessage(channel, inbound, receivedAt, result);
    let messageId: number;
    try {
      messageId = await this.store.append(record);
    } catch (error) {
      const reason = (error as Error).message;
      this.metrics.up.set(0);
      this.raiseAlert(channel.config.id, 'store', 'critical', `message store refused a write: ${reason}`);
      return { status: 'unavailable', error: reason };
    }
    this.metrics.up.set(1);
    channel.stats.count('received', { latencyMs: performance.now() - started });
    if (this.log.isDebugEnabled()) this.log.debug('stored', { messageId, channel: channel.config.id, status: result.status, ...result.correlation });
    if (result.status === 'FILTERED') {
      channel.stats.count('filtered');
      return { status: 'filtered', messageId, reason: result.filteredReason ?? 'filtered' };
    }
    if (result.status === 'ERROR') {
      channel.stats.count('errored', { error: firstLine(result.error) });
      this.log.warn(`message ${messageId} on ${channel.config.id} errored: ${firstLine(result.error)}`, { messageId });
      return { status: 'errored', messageId, error: result.error ?? 'error' };
    }
    const queued = result.deliveries.filter((d) => d.status === 'QUEUED');
    for (const _ of queued) channel.stats.count('queued');
    let waiting: Promise<ReceiptResult> | undefined;
    if (options.waitFor === 'delivered' && queued.length > 0) {
      waiting = new Promise((resolve) => this.waiters.set(messageId, { remaining: new Set(queued.map((d) => d.destination)), resolve }));
    }
    for (const d of queued) channel.destinations.get(d.destination)?.worker.notifyNew();
    return waiting ?? { status: 'accepted', messageId };
  }

  private toNewMessage(channel: DeployedChannel, inbound: InboundMessage, receivedAt: Date, result: PipelineResult): NewMessage {
    const storage = channel.config.storage;
    const contents: StageContent[] = [];
    // The raw bytes are always kept when the message errored, so it can be fixed and reprocessed.
    if (storage !== 'metadata' || result.status === 'ERROR') contents.push({ stage: 'raw', contentType: inbound.contentType, data: inbound.raw });
    if (storage === 'full') contents.push(...result.contents);
    return {
      channelId: channel.config.id,
      receivedAt,
      status: result.status,
      contentType: inbound.contentType,
      size: inbound.raw.length,
      origin: inbound.origin ?? {},
      correlation: result.correlation,
      meta: result.filteredReason ? { ...result.meta, filteredReason: result.filteredReason } : result.meta,
      error: result.error,
      contents,
      deliveries: result.deliveries,
    };
  }

  private onDeliveryEvent(channel: DeployedChannel, event: { kind: 'sent' | 'retry' | 'dead'; delivery: { messageId: number; destination: string }; durationMs: number; error?: string }): void {
    const { messageId, destination } = event.delivery;
    if (event.kind === 'sent') channel.stats.count('sent', { latencyMs: event.durationMs, destination });
    if (event.kind === 'retry') channel.stats.count('retried', { error: event.error, destination });
    if (event.kind === 'dead') channel.stats.count('dead', { error: `${destination}: ${event.error}`, destination });
    this.emit('delivery', { channelId: channel.config.id, ...event });
    if (this.log.isDebugEnabled()) this.log.debug(`delivery ${event.kind}`, { messageId, channel: channel.config.id, destination, durationMs: event.durationMs, error: event.error });
    const waiter = this.waiters.get(messageId);
    if (!waiter || event.kind === 'retry') return;
    if (event.kind === 'dead') waiter.failed = `${destination}: ${event.error}`;
    waiter.remaining.delete(destination);
    if (waiter.remaining.size === 0) {
      this.waiters.delete(messageId);
      waiter.resolve(waiter.failed ? { status: 'failed', messageId, error: waiter.failed } : { status: 'accepted', messageId });
    }
  }

  // ---------------------------------------------------------------- operations

  /** Runs stored messages through their channel again (optionally only to some destinations). */
  async reprocess(messageIds: number[], onlyDestinations?: string[]): Promise<Array<{ messageId: number; ok: boolean; status?: string; error?: string }>> {
    const results: Array<{ messageId: number; ok: boolean; status?: string; error?: string }> = [];
    for (const messageId of messageIds) {
      try {
        const stored = await this.store.get(messageId);
        if (!stored) throw new NotFoundError(`message ${messageId} not found`);
        const channel = this.requireChannel(stored.channelId);
        const raw = stored.contents.find((c) => c.stage === 'raw');
        if (!raw) throw new Error(`message ${messageId} has no stored raw content (channel storage level "${channel.config.storage}")`);
        const unknown = (onlyDestinations ?? []).filter((d) => !channel.destinations.has(d));
        if (unknown.length) throw new Error(`unknown destination(s) ${unknown.join(', ')} on channel ${channel.config.id}`);
        const inbound: InboundMessage = { raw: raw.data, contentType: raw.contentType, origin: stored.origin, correlation: stored.correlation, meta: withoutKeys(stored.meta, ['parseError', 'filteredReason']) };
        const message = toChannelMessage(channel.config.id, inbound, new Date(stored.receivedAt), messageId);
        const result = await runPipeline(channel.config, message, { onlyDestinations });
        await this.store.requeue(messageId, result.deliveries, result.status, result.error);
        if (channel.config.storage === 'full') await this.store.replaceContents(messageId, result.contents);
        for (const { worker } of channel.destinations.values()) worker.reset();
        results.push({ messageId, ok: result.status !== 'ERROR', status: result.status, error: result.error });
      } catch (error) {
        results.push({ messageId, ok: false, error: (error as Error).message });
      }
    }
    return results;
  }

  async replayDeadLetters(queueIds: number[]): Promise<number> {
    const count = await this.store.replayDead(queueIds);
    for (const channel of this.channels.values()) for (const { worker } of channel.destinations.values()) worker.reset();
    return count;
  }

  async discardDeadLetters(queueIds: number[]): Promise<number> {
    return this.store.discardDead(queueIds);
  }

  pauseDestination(channelId: string, destination: string, paused: boolean): void {
    const entry = this.requireChannel(channelId).destinations.get(destination);
    if (!entry) throw new NotFoundError(`destination "${destination}" not found on channel ${channelId}`);
    if (paused) entry.worker.pause();
    else entry.worker.resume();
  }

  async runRetention(): Promise<{ dropped: string[]; kept: string[] }> {
    const result = await this.store.applyRetention();
    if (result.dropped.length) this.log.info(`retention dropped ${result.dropped.length} partition(s)`, { dropped: result.dropped });
    return result;
  }

  // ---------------------------------------------------------------- health, alerts

  health(): { ok: boolean; store: { ok: boolean; reason?: string }; channels: Record<string, ChannelState> } {
    const store = this.store.health();
    const channels = Object.fromEntries([...this.channels.entries()].map(([id, c]) => [id, c.state]));
    return { ok: store.ok && this.running && !this.stopping, store, channels };
  }

  ready(): { ready: boolean; reason?: string } {
    if (!this.running || this.stopping) return { ready: false, reason: 'engine not running' };
    const store = this.store.health();
    if (!store.ok) return { ready: false, reason: store.reason };
    const failed = [...this.channels.values()].filter((c) => c.state === 'failed').map((c) => c.config.id);
    if (failed.length) return { ready: false, reason: `channel(s) failed to start: ${failed.join(', ')}` };
    return { ready: true };
  }

  listAlerts(): Alert[] {
    return [...this.alerts.values()].sort((a, b) => b.raisedAt.localeCompare(a.raisedAt));
  }

  acknowledgeAlert(id: string): boolean {
    const alert = this.alerts.get(id);
    if (!alert) return false;
    alert.acknowledged = true;
    return true;
  }

  /** Raises an alert once (de-duplicated by channel and kind) and tells listeners (console, webhook). */
  raiseAlert(channelId: string, kind: Alert['kind'], severity: Alert['severity'], message: string): void {
    const id = `${channelId}:${kind}`;
    const existing = this.alerts.get(id);
    if (existing && existing.message === message) return;
    const alert: Alert = { id, channelId, kind, severity, message, raisedAt: new Date().toISOString(), acknowledged: false };
    this.alerts.set(id, alert);
    this.log.warn(`alert ${id}: ${message}`);
    this.emit('alert', alert);
  }

  clearAlert(channelId: string, kind: Alert['kind']): void {
    const id = `${channelId}:${kind}`;
    if (this.alerts.delete(id)) this.emit('alert-cleared', { id });
  }

  async evaluateAlerts(now = Date.now()): Promise<void> {
    const depths = await this.store.queueDepths().catch(() => []);
    for (const d of depths) {
      this.metrics.queueDepth.set({ channel: d.channelId, destination: d.destination, state: 'queued' }, d.queued);
      this.metrics.queueDepth.set({ channel: d.channelId, destination: d.destination, state: 'dead' }, d.dead);
    }
    for (const channel of this.channels.values()) {
      const { alerts, id } = { alerts: channel.config.alerts, id: channel.config.id };
      const recent = channel.stats.recentErrors.filter((t) => now - t < 300_000).length;
      if (recent >= alerts.errorsPer5Min) this.raiseAlert(id, 'errors', 'warning', `${recent} error(s) in the last 5 minutes; last: ${channel.stats.lastError?.message ?? ''}`);
      else this.clearAlert(id, 'errors');
      const depth = depths.filter((d) => d.channelId === id).reduce((n, d) => n + d.queued, 0);
      if (depth > alerts.queueDepth) this.raiseAlert(id, 'queue-depth', 'warning', `${depth} deliveries queued (threshold ${alerts.queueDepth})`);
      else this.clearAlert(id, 'queue-depth');
      if (alerts.silentMinutes > 0 && channel.state === 'started') {
        const last = channel.stats.lastMessageAt ?? Date.parse(channel.deployedAt);
        if (now - last > alerts.silentMinutes * 60_000) this.raiseAlert(id, 'silent', 'warning', `no message for ${alerts.silentMinutes} minute(s)`);
        else this.clearAlert(id, 'silent');
      }
    }
  }
}

export class NotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NotFoundError';
  }
}

function firstLine(text: string | undefined): string {
  return (text ?? '').split('\n')[0];
}

function withoutKeys(record: Record<string, string>, keys: string[]): Record<string, string> {
  return Object.fromEntries(Object.entries(record).filter(([k]) => !keys.includes(k)));
}

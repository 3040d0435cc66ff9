// The IoMT service: device payload → canonical observations → binding → durable time series, then NEWS2
// and alerts. `ingestPayload` resolves only once what it produced (readings, held unassigned readings or
// a quarantine record) is committed, so a source may acknowledge the device's message then. Writes are
// batched: many messages share one transaction. A (device, message id) is processed once, ever.
import path from 'node:path';
import type { Logger } from 'winston';
import { CachedTopicMatcher, compileTopicTemplate } from '../connectors/mqtt/topics';
import { readDevicePayload } from './adapters';
import './adapters/hl7'; // enables HL7 v2 ORU (IHE PCD-01) payloads
import { AlertManager, consoleAlertSink, type AlertSink, type AlertSeverity } from './alerts';
import { iomtConfigSchema, type IomtConfig, type IomtConfigInput } from './config';
import { openIomtDatabase, SIGN_COLUMNS, type IomtDatabase } from './db';
import { riskRank, type News2Result, type News2Risk, type SpO2Scale } from './news2';
import { News2Monitor, type News2Evaluation } from './news2-monitor';
import { normaliseDeviceMessage } from './normalise';
import { RateLimiter } from './rate-limit';
import { DeviceRegistry, type Binding, type Device } from './registry';
import { Rollups, type SeriesPoint } from './rollups';
import { VitalsInputError, type NormalisedMessage, type ReceiptInfo, type RejectedMeasurement, type VitalObservation } from './types';
import { VITALS, type VitalSign } from './vitals';

/** The name the engine registers this service under (`ctx.lookup<IomtService>(IOMT_SERVICE)`). */
export const IOMT_SERVICE = 'iomt';

export type IngestOutcome =
  | { status: 'stored'; deviceId: string; messageId: string; visitIds: string[]; readings: number; unassigned: number; rejected: RejectedMeasurement[] }
  | { status: 'unassigned'; deviceId: string; messageId: string; reason: string; unassigned: number; rejected: RejectedMeasurement[] }
  | { status: 'duplicate'; deviceId: string; messageId: string }
  | { status: 'quarantined'; deviceId?: string; messageId?: string; reason: string; quarantineId: number }
  | { status: 'rate-limited'; deviceId: string; reason: string };

export interface IomtServiceOptions {
  dataDir: string;
  config?: IomtConfigInput;
  log?: Logger;
  /** Alert sinks besides the log (webhook, MQTT for ward displays). */
  sinks?: AlertSink[];
  /** Clock (tests). */
  now?: () => number;
}

export interface PayloadReceipt {
  topic?: string;
  contentType?: string;
  receivedAt?: Date;
}

type Pending =
  | { kind: 'message'; message: NormalisedMessage; receipt: ReceiptInfo; direct?: { visitId: string; patientId: string }; resolve: (o: IngestOutcome) => void; reject: (e: Error) => void }
  | {
      kind: 'quarantine';
      receipt: ReceiptInfo;
      deviceId?: string;
      messageId?: string;
      errorKind: string;
      reason: string;
      payload: Buffer;
      size: number;
      resolve: (o: IngestOutcome) => void;
      reject: (e: Error) => void;
    };

interface VisitNews2State {
  lastRecordedAt: number;
  lastTotal?: number;
  lastResult?: News2Result;
  lastEvaluatedT?: number;
  belowSince?: number;
}

const PAYLOAD_SAMPLE_BYTES = 4096;
const DAY_MS = 86_400_000;

interface MessageEffects {
  kind: 'message';
  message: NormalisedMessage;
  receipt: ReceiptInfo;
  receivedAt: number;
  touchDevice: boolean;
  stored: Array<{ binding: Binding; obs: VitalObservation[] }>;
  readings: number;
  unassigned: number;
  lastReason: string;
}
type Effects = MessageEffects | { kind: 'quarantine'; deviceId: string; receipt: ReceiptInfo; reason: string };

const SIGN_ORDER = Object.keys(SIGN_COLUMNS) as VitalSign[];
const SIGN_INDEX = Object.fromEntries(SIGN_ORDER.map((s, i) => [s, i])) as Record<VitalSign, number>;
const NUMERIC_KIND = Object.fromEntries(SIGN_ORDER.map((s) => [s, VITALS[s].kind === 'quantity'])) as Record<VitalSign, boolean>;

/** Column values of a readings row in SIGN_COLUMNS order (oxygen as 0/1). */
function columnValues(obs: VitalObservation[]): Array<number | string | null> {
  const out: Array<number | string | null> = new Array(SIGN_ORDER.length).fill(null);
  for (const o of obs) out[SIGN_INDEX[o.sign]] = typeof o.value === 'boolean' ? (o.value ? 1 : 0) : o.value;
  return out;
}

const RISK_SEVERITY: Record<News2Risk, AlertSeverity> = { low: 'info', 'low-medium': 'warning', medium: 'urgent', high: 'emergency' };

export class IomtService {
  readonly config: IomtConfig;
  readonly db: IomtDatabase;
  readonly registry: DeviceRegistry;
  readonly alerts: AlertManager;
  readonly news2: News2Monitor;
  private readonly rollups: Rollups;
  private readonly limiter: RateLimiter;
  private readonly quarantineLimiter: RateLimiter;
  private readonly topic: CachedTopicMatcher;
  private readonly now: () => number;
  private readonly log?: Logger;
  private queue: Pending[] = [];
  private flushTimer?: NodeJS.Timeout;
  private flushImmediate?: NodeJS.Immediate;
  private timers: NodeJS.Timeout[] = [];
  private readonly visitState = new Map<string, VisitNews2State>();
  private readonly spo2Scales = new Map<string, SpO2Scale>();
  private closed = false;
  readonly counters = { messages: 0, readings: 0, unassigned: 0, duplicates: 0, quarantined: 0, rateLimited: 0, rejectedMeasurements: 0, batches: 0 };
  private readonly stmts;

  constructor(options: IomtServiceOptions) {
    this.config = iomtConfigSchema.parse(options.config ?? {});
    this.now = options.now ?? Date.now;
    this.log = options.log;
    this.topic = new CachedTopicMatcher(compileTopicTemplate(this.config.topicTemplate));
    this.db = openIomtDatabase(this.config.dbFile ?? path.join(options.dataDir, 'iomt', 'iomt.sqlite'), { synchronous: this.config.synchronous });
    this.registry = new DeviceRegistry(this.db);
    const sinks = [...(options.log ? [consoleAlertSink(options.log)] : []), ...(options.sinks ?? [])];
    this.alerts = new AlertManager(this.db, sinks, options.log);
    this.news2 = new News2Monitor({
      monitorMs: this.config.news2.monitorWindowMs,
      temperatureMs: this.config.news2.temperatureWindowMs,
      assessmentMs: this.config.news2.assessmentWindowMs,
    });
    this.rollups = new Rollups(this.db, this.config.maxFutureMs);
    this.limiter = new RateLimiter(this.config.rateLimit);
    this.quarantineLimiter = new RateLimiter(this.config.rateLimit);
    const cols = Object.values(SIGN_COLUMNS);
    this.stmts = {
      seen: this.db.prepare('INSERT OR IGNORE INTO seen_messages (day, device_id, message_id) VALUES (?, ?, ?)'),
      reading: this.db.prepare(
        `INSERT INTO readings (visit_id, patient_id, binding_id, device_id, message_id, t, received_at, ${cols.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ${cols.map(() => '?').join(', ')})`,
      ),
      unassigned: this.db.prepare(
        `INSERT INTO unassigned (device_id, message_id, t, received_at, reason, site, ward, bed, ${cols.join(', ')}) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ${cols.map(() => '?').join(', ')})`,
      ),
      quarantine: this.db.prepare('INSERT INTO quarantine (received_at, device_id, message_id, topic, kind, reason, payload, payload_size, occurrences) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)'),
      news2: this.db.prepare('INSERT OR REPLACE INTO news2_scores (visit_id, t, total, risk, spo2_scale, components) VALUES (?, ?, ?, ?, ?, ?)'),
    };
    for (const r of this.db.prepare('SELECT visit_id, spo2_scale FROM visits').all() as Array<{ visit_id: string; spo2_scale: number }>) {
      this.spo2Scales.set(r.visit_id, r.spo2_scale === 2 ? 2 : 1);
    }
    this.restoreNews2State();
    this.registry.listeners.push((change) => {
      if (change.type !== 'unbound') return;
      this.alerts.resolve(`silent:${change.binding.deviceId}`, 'device unbound', this.now());
      // A visit with no device left: its NEWS2 state is not kept in memory (a late reading rebuilds it).
      if (!this.registry.activeBindings().some((b) => b.visitId === change.binding.visitId)) {
        this.news2.forget(change.binding.visitId);
        this.visitState.delete(change.binding.visitId);
      }
    });
  }

  /** Starts the housekeeping timers (silent devices, rollups, rate-limit reports, retention). */
  start(): void {
    if (this.timers.length) return;
    this.timers.push(setInterval(() => this.safely('housekeeping', () => this.housekeeping()), this.config.housekeepingMs).unref());
    this.timers.push(setInterval(() => this.safely('silent-device check', () => this.checkSilentDevices()), this.config.silentCheckMs).unref());
    this.timers.push(setInterval(() => this.safely('retention', () => this.prune()), 3600_000).unref());
  }

  async stop(): Promise<void> {
    if (this.closed) return;
    for (const t of this.timers) clearInterval(t);
    this.timers = [];
    this.flushNow();
    this.housekeeping();
    this.rollups.flushAll();
    await this.alerts.drain();
    this.closed = true;
    this.db.close();
  }

  // ------------------------------------------------------------------ ingest

  /** Reads, normalises and stores one payload (which may hold several device messages). */
  async ingestPayload(raw: Buffer, receipt: PayloadReceipt = {}): Promise<IngestOutcome[]> {
    if (this.closed) throw new Error('IoMT service is stopped');
    const info = this.receiptInfo(receipt);
    const now = info.receivedAt.getTime();
    this.counters.messages++;

    let messages: NormalisedMessage[];
    try {
      const deviceMessages = readDevicePayload(raw, { topicFormat: info.topic ? this.topicParams(info.topic)?.format : undefined, contentType: receipt.contentType, maxBytes: this.config.maxPayloadBytes });
      messages = deviceMessages.map((m) => normaliseDeviceMessage(m, { now, maxFutureMs: this.config.maxFutureMs, maxAgeMs: this.config.maxAgeMs }));
    } catch (err) {
      if (!(err instanceof VitalsInputError)) throw err;
      return [await this.quarantine(info, err.kind, err.message, raw, info.topicDeviceId)];
    }
    const outcomes: Array<Promise<IngestOutcome>> = [];
    for (const message of messages) {
      if (info.topicDeviceId && message.deviceId !== info.topicDeviceId) {
        outcomes.push(this.quarantine(info, 'device-mismatch', `payload deviceId "${message.deviceId}" does not match the topic's device "${info.topicDeviceId}"`, raw, info.topicDeviceId, message.messageId));
        continue;
      }
      // Limited on the device's own clock: a backlog after an outage spans hours of device time and
      // passes; a flood crams many messages into the same seconds and is cut back.
      if (!this.limiter.take(message.deviceId, Date.parse(message.time), this.registry.device(message.deviceId)?.ratePerSecond)) {
        outcomes.push(Promise.resolve(this.rateLimited(message.deviceId)));
        continue;
      }
      outcomes.push(this.enqueueMessage(message, info));
    }
    return Promise.all(outcomes);
  }

  /** Keeps a payload a source refused (e.g. over its size limit) in the quarantine with the reason. */
  quarantineRejected(sample: Buffer, receipt: PayloadReceipt, reason: string, size?: number): Promise<IngestOutcome> {
    const info = this.receiptInfo(receipt);
    return this.quarantine(info, 'too-large', reason, sample, info.topicDeviceId, undefined, size);
  }

  /** Stores an already-normalised message (e.g. from a channel that normalised it). */
  ingestNormalised(message: NormalisedMessage, receipt: PayloadReceipt = {}): Promise<IngestOutcome> {
    return this.enqueueMessage(message, this.receiptInfo(receipt));
  }

  /**
   * Observations a nurse enters for a visit (ACVPU, air/oxygen, a manual temperature…): stored like a
   * device reading of the pseudo-device `manual`, bound directly to the visit.
   */
  async recordManual(visitId: string, entries: Array<{ sign: VitalSign; value: number | string | boolean; t?: number }>, by: string): Promise<IngestOutcome> {
    const visit = this.db.prepare('SELECT patient_id FROM visits WHERE visit_id = ?').get(visitId) as { patient_id: string } | undefined;
    const bound = this.registry.listBindings({ visitId })[0];
    const patientId = visit?.patient_id ?? bound?.patientId;
    if (!patientId) throw new VitalsInputError(`visit ${visitId} is unknown (no binding and no bed assignment)`, 'schema');
    const now = this.now();
    const message = normaliseDeviceMessage(
      {
        format: 'json',
        deviceId: 'manual',
        messageId: `manual:${by}:${now}:${Math.random().toString(36).slice(2, 8)}`,
        time: now,
        measurements: entries.map((e, i) => ({ path: `entries[${i}]`, code: e.sign, system: 'urn:hisbridge:iomt', value: e.value, unit: VITALS[e.sign].kind === 'quantity' ? (VITALS[e.sign] as { unit: string }).unit : undefined, time: e.t })),
      },
      { now, maxFutureMs: this.config.maxFutureMs, maxAgeMs: this.config.maxAgeMs },
    );
    return this.enqueueMessage(message, { receivedAt: new Date(now) }, { visitId, patientId });
  }

  private rateLimited(deviceId: string): IngestOutcome {
    this.counters.rateLimited++;
    const rate = this.registry.device(deviceId)?.ratePerSecond ?? this.config.rateLimit.ratePerSecond;
    return { status: 'rate-limited', deviceId, reason: `device ${deviceId} exceeded ${rate} messages/s (burst ${this.config.rateLimit.burst}); message dropped` };
  }

  private receiptInfo(receipt: PayloadReceipt): ReceiptInfo {
    const info: ReceiptInfo = { receivedAt: receipt.receivedAt ?? new Date(this.now()), topic: receipt.topic };
    if (receipt.topic) {
      const p = this.topicParams(receipt.topic);
      if (p) Object.assign(info, { site: p.site, ward: p.ward, bed: p.bed, topicDeviceId: p.deviceId });
    }
    return info;
  }

  private topicParams(topic: string): Readonly<Record<string, string>> | undefined {
    return this.topic.match(topic);
  }

  private quarantine(info: ReceiptInfo, errorKind: string, reason: string, payload: Buffer, deviceId?: string, messageId?: string, size?: number): Promise<IngestOutcome> {
    // Unreadable payloads are limited on arrival time (they have no trustworthy clock of their own), so a
    // device spraying garbage cannot fill the quarantine; the excess is counted in the rate-limit report.
    const key = deviceId ?? info.topic ?? 'unknown';
    if (!this.quarantineLimiter.take(key, info.receivedAt.getTime())) {
      this.counters.rateLimited++;
      return Promise.resolve({ status: 'rate-limited', deviceId: key, reason: `${reason} (not kept: more than ${this.config.rateLimit.ratePerSecond} unreadable messages/s from ${key})` });
    }
    return new Promise((resolve, reject) => this.push({ kind: 'quarantine', receipt: info, errorKind, reason, payload, size: size ?? payload.length, deviceId, messageId, resolve, reject }));
  }

  private enqueueMessage(message: NormalisedMessage, receipt: ReceiptInfo, direct?: { visitId: string; patientId: string }): Promise<IngestOutcome> {
    return new Promise((resolve, reject) => {
      this.push({ kind: 'message', message, receipt, direct, resolve, reject });
    });
  }

  private push(item: Pending): void {
    if (this.closed) {
      item.reject(new Error('IoMT service is stopped'));
      return;
    }
    this.queue.push(item);
    if (this.queue.length >= this.config.batch.maxSize) {
      this.flushImmediate ??= setImmediate(() => this.flushNow());
    } else if (!this.flushTimer && !this.flushImmediate) {
      this.flushTimer = setTimeout(() => this.flushNow(), this.config.batch.maxDelayMs);
    }
  }

  /** Writes every queued item in one transaction, then resolves their promises. */
  flushNow(): void {
    if (this.flushTimer) clearTimeout(this.flushTimer);
    if (this.flushImmediate) clearImmediate(this.flushImmediate);
    this.flushTimer = undefined;
    this.flushImmediate = undefined;
    if (this.queue.length === 0) return;
    const items = this.queue;
    this.queue = [];
    const outcomes: IngestOutcome[] = new Array(items.length);
    const effects: Array<Effects | undefined> = new Array(items.length);
    try {
      this.db.transaction(() => {
        for (let i = 0; i < items.length; i++) outcomes[i] = this.write(items[i], effects, i);
      })();
    } catch (err) {
      this.rollups.discardPending();
      this.log?.error(`iomt: writing a batch of ${items.length} failed: ${(err as Error).message}`);
      for (const item of items) item.reject(err as Error);
      return;
    }
    this.counters.batches++;
    this.rollups.commitPending();
    const touched = new Map<string, Binding>();
    for (const e of effects) {
      if (!e) continue;
      try {
        this.afterCommit(e, touched);
      } catch (err) {
        this.log?.error(`iomt post-commit failed: ${(err as Error).message}`);
      }
    }
    for (let i = 0; i < items.length; i++) items[i].resolve(outcomes[i]);
    // Clinical evaluation after the commit (a crash here loses no reading; the state is rebuilt at start),
    // in one transaction so the scores and alert changes of a whole batch cost one fsync.
    if (touched.size > 0) {
      this.safely('NEWS2', () =>
        this.db.transaction(() => {
          for (const [visitId, binding] of touched) this.safely('NEWS2', () => this.evaluateVisit(visitId, binding));
        })(),
      );
    }
  }

  /** In-memory consequences of a committed item: NEWS2 state, last-seen, technical alerts. */
  private afterCommit(e: Effects, touched: Map<string, Binding>): void {
    if (e.kind === 'quarantine') {
      this.raiseTechnical(`invalid:${e.deviceId}`, 'invalid-payload', e.deviceId, e.receipt, `device ${e.deviceId} sent a payload that was quarantined: ${e.reason}`);
      return;
    }
    const m = e.message;
    const deviceId = m.deviceId;
    if (e.touchDevice) this.registry.touch(deviceId, e.receivedAt, e.receipt.topic);
    for (const s of e.stored) {
      for (const o of s.obs) this.news2.update(s.binding.visitId, o.sign, o.value, o.t);
      touched.set(s.binding.visitId, s.binding);
    }
    for (const rej of m.rejected) {
      if ((rej.kind === 'implausible' || rej.kind === 'unit') && rej.sign) this.raiseTechnical(`implausible:${deviceId}:${rej.sign}`, 'implausible-value', deviceId, e.receipt, `device ${deviceId}: ${rej.reason}`);
    }
    // Data flowing again clears the device's technical alerts (looked up only when it has any).
    if (this.alerts.hasActiveForDevice(deviceId)) {
      this.alerts.resolve(`silent:${deviceId}`, 'device is sending again', e.receivedAt);
      this.alerts.resolve(`invalid:${deviceId}`, 'device sent a readable message', e.receivedAt);
      for (const o of m.observations) this.alerts.resolve(`implausible:${deviceId}:${o.sign}`, 'plausible value received', e.receivedAt);
      if (e.readings > 0) this.alerts.resolve(`unassigned:${deviceId}`, 'readings are assigned to a visit again', e.receivedAt);
    }
    if (e.unassigned > 0 && e.readings === 0) {
      const r = e.receipt;
      this.alerts.raise(
        { key: `unassigned:${deviceId}`, category: 'technical', kind: 'unassigned-data', severity: 'info', deviceId, site: r.site, ward: r.ward, bed: r.bed, message: `readings from device ${deviceId} are held unassigned: ${e.lastReason}` },
        e.receivedAt,
      );
    }
  }

  private write(item: Pending, effects: Array<Effects | undefined>, index: number): IngestOutcome {
    const r = item.receipt;
    const receivedAt = r.receivedAt.getTime();
    if (item.kind === 'quarantine') {
      const info = this.stmts.quarantine.run(receivedAt, item.deviceId ?? null, item.messageId ?? null, r.topic ?? null, item.errorKind, item.reason, item.payload.subarray(0, PAYLOAD_SAMPLE_BYTES), item.size, 1);
      this.counters.quarantined++;
      if (item.deviceId) effects[index] = { kind: 'quarantine', deviceId: item.deviceId, receipt: r, reason: item.reason };
      return { status: 'quarantined', deviceId: item.deviceId, messageId: item.messageId, reason: item.reason, quarantineId: Number(info.lastInsertRowid) };
    }

    const m = item.message;
    const direct = item.direct;
    const msgTime = m.observations.length ? m.observations[0].t : Date.parse(m.time);
    // A re-send repeats the message's time, so its day: (day, device, message id) finds it.
    if (this.stmts.seen.run(Math.floor(msgTime / DAY_MS), m.deviceId, m.messageId).changes === 0) {
      this.counters.duplicates++;
      return { status: 'duplicate', deviceId: m.deviceId, messageId: m.messageId };
    }

    let device: Device | undefined = direct ? undefined : this.registry.device(m.deviceId);
    if (!direct && !device && this.config.autoDiscover) device = this.registry.discover(m.deviceId, { site: r.site, ward: r.ward, bed: r.bed, topic: r.topic }, receivedAt);
    const effect: MessageEffects = { kind: 'message', message: m, receipt: r, receivedAt, touchDevice: !direct, stored: [], readings: 0, unassigned: 0, lastReason: '' };
    effects[index] = effect;

    for (const rej of m.rejected) {
      this.stmts.quarantine.run(receivedAt, m.deviceId, m.messageId, r.topic ?? null, rej.kind, rej.reason, Buffer.from(JSON.stringify({ code: rej.code, value: rej.value, unit: rej.unit })), null, 1);
      this.counters.rejectedMeasurements++;
    }
    if (m.observations.length === 0) {
      return { status: 'unassigned', deviceId: m.deviceId, messageId: m.messageId, reason: 'no measurement was accepted', unassigned: 0, rejected: m.rejected };
    }

    // One row per distinct measurement time in the message (nearly always one).
    const first = m.observations[0].t;
    let groups: Array<[number, VitalObservation[]]>;
    if (m.observations.every((o) => o.t === first)) groups = [[first, m.observations]];
    else {
      const byTime = new Map<number, VitalObservation[]>();
      for (const o of m.observations) {
        const g = byTime.get(o.t);
        if (g) g.push(o);
        else byTime.set(o.t, [o]);
      }
      groups = [...byTime];
    }
    let visitIds: string[] | undefined;
    for (const [t, obs] of groups) {
      const values = columnValues(obs);
      let binding: Binding | undefined;
      let reason: string | undefined;
      if (direct) {
        binding = { id: 0, deviceId: 'manual', visitId: direct.visitId, patientId: direct.patientId, source: 'console', startedAt: t };
      } else {
        const resolved = this.resolveBinding(m, device, r, t);
        binding = resolved.binding;
        reason = resolved.reason;
      }
      if (binding) {
        this.stmts.reading.run(binding.visitId, binding.patientId, binding.id || null, m.deviceId, m.messageId, t, receivedAt, ...values);
        effect.readings++;
        if (!visitIds) visitIds = [binding.visitId];
        else if (!visitIds.includes(binding.visitId)) visitIds.push(binding.visitId);
        for (const o of obs) if (typeof o.value === 'number' && NUMERIC_KIND[o.sign]) this.rollups.addInTransaction(binding.visitId, o.sign, t, o.value);
        effect.stored.push({ binding, obs });
      } else {
        this.stmts.unassigned.run(m.deviceId, m.messageId, t, receivedAt, reason!, r.site ?? null, r.ward ?? null, r.bed ?? null, ...values);
        effect.unassigned++;
        effect.lastReason = reason!;
      }
    }
    this.counters.readings += effect.readings;
    this.counters.unassigned += effect.unassigned;
    if (effect.readings === 0) return { status: 'unassigned', deviceId: m.deviceId, messageId: m.messageId, reason: effect.lastReason, unassigned: effect.unassigned, rejected: m.rejected };
    return { status: 'stored', deviceId: m.deviceId, messageId: m.messageId, visitIds: visitIds!, readings: effect.readings, unassigned: effect.unassigned, rejected: m.rejected };
  }

  /** The binding a reading belongs to, or why it has none. Never guesses. */
  private resolveBinding(m: NormalisedMessage, device: Device | undefined, r: ReceiptInfo, t: number): { binding?: Binding; reason?: string } {
    if (!device) return { reason: `device ${m.deviceId} is not registered` };
    if (device.status === 'retired') return { reason: `device ${m.deviceId} is retired` };
    const binding = this.registry.bindingAt(m.deviceId, t);
    if (!binding) return { reason: this.registry.whyUnbound(m.deviceId, t) };
    // A bed-bound device reporting from another bed has been moved: its bed's patient may not be on it.
    if (device.bindMode === 'bed' && r.bed && device.bed && r.bed !== device.bed) {
      return { reason: `topic says bed ${r.ward ?? '?'}/${r.bed} but device ${m.deviceId} is registered at ${device.ward ?? '?'}/${device.bed} (update the registry if it was moved)` };
    }
    if (m.patientId && m.patientId !== binding.patientId) {
      return { reason: `device reports patient ${m.patientId} but is bound to visit ${binding.visitId} of patient ${binding.patientId}` };
    }
    return { binding };
  }

  // ------------------------------------------------------------------ NEWS2 and alerts

  spo2Scale(visitId: string): SpO2Scale {
    return this.spo2Scales.get(visitId) ?? 1;
  }

  /** Scale 2 is a clinical decision (hypercapnic respiratory failure): recorded with who made it. */
  setSpo2Scale(visitId: string, scale: SpO2Scale, by: string, patientId?: string): void {
    const existing = this.db.prepare('SELECT patient_id FROM visits WHERE visit_id = ?').get(visitId) as { patient_id: string } | undefined;
    const pid = existing?.patient_id ?? patientId ?? this.registry.listBindings({ visitId })[0]?.patientId;
    if (!pid) throw new VitalsInputError(`visit ${visitId} is unknown (no binding and no bed assignment)`, 'schema');
    this.db
      .prepare(
        `INSERT INTO visits (visit_id, patient_id, spo2_scale, spo2_scale_set_by, updated_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT(visit_id) DO UPDATE SET spo2_scale = excluded.spo2_scale, spo2_scale_set_by = excluded.spo2_scale_set_by, updated_at = excluded.updated_at`,
      )
      .run(visitId, pid, scale, by, this.now());
    this.spo2Scales.set(visitId, scale);
    const b = this.registry.listBindings({ visitId, activeOnly: true })[0];
    if (b) this.evaluateVisit(visitId, b);
  }

  /** The current NEWS2 of a visit (or what is missing). */
  currentNews2(visitId: string): News2Evaluation {
    return this.news2.evaluate(visitId, this.spo2Scale(visitId));
  }

  private evaluateVisit(visitId: string, binding: Binding): void {
    const ev = this.news2.evaluate(visitId, this.spo2Scale(visitId));
    if (!ev.complete) return;
    const state = this.visitState.get(visitId) ?? { lastRecordedAt: 0 };
    this.visitState.set(visitId, state);
    if (state.lastEvaluatedT !== undefined && ev.t < state.lastEvaluatedT) return;
    state.lastEvaluatedT = ev.t;
    const r = ev.result;
    if (r.total !== state.lastTotal || ev.t - state.lastRecordedAt >= this.config.news2.recordEveryMs) {
      this.stmts.news2.run(visitId, ev.t, r.total, r.risk, r.spo2Scale, JSON.stringify(r.components));
      state.lastRecordedAt = ev.t;
      state.lastTotal = r.total;
    }
    state.lastResult = r;
    const key = `news2:${visitId}`;
    const threshold = riskRank(this.config.news2.alertFrom);
    const where = [binding.ward, binding.bed].filter(Boolean).join('/');
    if (riskRank(r.risk) >= threshold && !(r.risk === 'low' && r.total === 0)) {
      state.belowSince = undefined;
      const parts = Object.entries(r.components)
        .filter(([, s]) => s > 0)
        .map(([k, s]) => `${k} ${s}`)
        .join(', ');
      this.alerts.raise(
        {
          key,
          category: 'clinical',
          kind: 'news2',
          severity: RISK_SEVERITY[r.risk],
          level: r.risk,
          rank: riskRank(r.risk),
          visitId,
          patientId: binding.patientId,
          deviceId: binding.deviceId,
          site: binding.site,
          ward: binding.ward,
          bed: binding.bed,
          message: `NEWS2 ${r.total} (${r.risk} risk${r.redScore ? ', single parameter scored 3' : ''}) for patient ${binding.patientId}${binding.patientName ? ` ${binding.patientName}` : ''}, visit ${visitId}${where ? `, bed ${where}` : ''}: ${parts}. ${r.response}`,
          details: { total: r.total, risk: r.risk, components: r.components, spo2Scale: r.spo2Scale, at: new Date(ev.t).toISOString(), inputs: ev.inputs },
        },
        ev.t,
      );
    } else if (this.alerts.activeAlert(key)) {
      state.belowSince ??= ev.t;
      if (ev.t - state.belowSince >= this.config.news2.resolveAfterMs) {
        this.alerts.resolve(key, `NEWS2 back to ${r.total} (${r.risk}) for ${Math.round((ev.t - state.belowSince) / 1000)} s`, ev.t);
        state.belowSince = undefined;
      }
    }
  }

  private raiseTechnical(key: string, kind: 'implausible-value' | 'invalid-payload' | 'device-flood' | 'device-silent', deviceId: string, r: Partial<ReceiptInfo>, message: string): void {
    const device = this.registry.device(deviceId);
    const binding = this.registry.openBinding(deviceId);
    this.alerts.raise(
      {
        key,
        category: 'technical',
        kind,
        severity: 'warning',
        deviceId,
        visitId: binding?.visitId,
        patientId: binding?.patientId,
        site: r.site ?? device?.site,
        ward: r.ward ?? device?.ward,
        bed: r.bed ?? device?.bed,
        message,
      },
      this.now(),
    );
  }

  /** Raises a technical alert for each bound device that has been silent too long. */
  checkSilentDevices(now = this.now()): void {
    for (const b of this.registry.activeBindings()) {
      const device = this.registry.device(b.deviceId);
      if (!device) continue;
      const limit = device.silentAfterMs ?? this.config.silentAfterMs;
      const last = Math.max(device.lastSeenAt ?? 0, b.startedAt);
      if (now - last > limit) {
        this.raiseTechnical(
          `silent:${b.deviceId}`,
          'device-silent',
          b.deviceId,
          { ward: b.ward, bed: b.bed, site: b.site },
          `device ${b.deviceId} (bound to visit ${b.visitId}) has sent nothing for ${Math.round((now - last) / 60_000)} min (limit ${Math.round(limit / 60_000)} min)${device.lastSeenAt ? `; last data ${new Date(device.lastSeenAt).toISOString()}` : '; no data since it was bound'}`,
        );
      }
    }
  }

  /** Flushes last-seen times, alert counts and finished rollup minutes; reports rate-limit drops. */
  housekeeping(now = this.now()): void {
    this.registry.flushLastSeen();
    this.alerts.flush();
    this.rollups.tick(now);
    const reports = [...this.limiter.drainReports(), ...this.quarantineLimiter.drainReports()];
    if (reports.length) {
      this.db.transaction(() => {
        for (const rep of reports) {
          const reason = `device ${rep.key} exceeded ${rep.ratePerSecond} messages/s: ${rep.dropped} message(s) dropped between ${new Date(rep.from).toISOString()} and ${new Date(rep.to).toISOString()}`;
          this.stmts.quarantine.run(now, rep.key, null, null, 'rate-limit', reason, null, null, rep.dropped);
          this.raiseTechnical(`flood:${rep.key}`, 'device-flood', rep.key, {}, reason);
        }
      })();
    }
    const flooding = new Set(reports.map((r) => r.key));
    for (const a of this.alerts.list({ status: 'active', category: 'technical' })) {
      if (a.kind === 'device-flood' && a.deviceId && !flooding.has(a.deviceId) && now - Date.parse(a.updatedAt) > this.config.housekeepingMs) {
        this.alerts.resolve(a.key, 'device back under its rate limit', now);
      }
    }
    this.limiter.prune(now);
    this.quarantineLimiter.prune(now);
  }

  /**
   * Drops raw readings and quarantine past retention, and idempotency keys past the lateness limit.
   * Readings are deleted from the oldest rowid in bounded chunks (rowids follow arrival, so roughly
   * time): no full-table scan, and the writer is never blocked for long.
   */
  prune(now = this.now()): void {
    const cutoff = now - this.config.retention.readingsDays * DAY_MS;
    for (const table of ['readings', 'unassigned']) {
      for (let chunk = 0; chunk < 200; chunk++) {
        const first = this.db.prepare(`SELECT rowid AS r, t FROM ${table} ORDER BY rowid LIMIT 1`).get() as { r: number; t: number } | undefined;
        if (!first || first.t >= cutoff) break;
        this.db.prepare(`DELETE FROM ${table} WHERE rowid < ? AND t < ?`).run(first.r + 5000, cutoff);
      }
    }
    this.db.prepare('DELETE FROM quarantine WHERE received_at < ?').run(now - this.config.retention.quarantineDays * DAY_MS);
    // A message older than maxAge is refused anyway, so its idempotency key is no longer needed.
    this.db.prepare('DELETE FROM seen_messages WHERE day < ?').run(Math.floor((now - this.config.maxAgeMs) / DAY_MS) - 1);
  }

  private restoreNews2State(): void {
    const since = this.now() - Math.max(this.config.news2.monitorWindowMs, this.config.news2.temperatureWindowMs, this.config.news2.assessmentWindowMs);
    const visits = new Set(this.registry.activeBindings().map((b) => b.visitId));
    for (const visitId of visits) {
      for (const [sign, col] of Object.entries(SIGN_COLUMNS) as Array<[VitalSign, string]>) {
        if (!News2Monitor.isNews2Sign(sign)) continue;
        const row = this.db.prepare(`SELECT t, ${col} AS v FROM readings WHERE visit_id = ? AND t >= ? AND ${col} IS NOT NULL ORDER BY t DESC LIMIT 1`).get(visitId, since) as { t: number; v: number | string } | undefined;
        if (row) this.news2.update(visitId, sign, sign === 'supplemental-oxygen' ? row.v === 1 : row.v, row.t);
      }
    }
  }

  private safely(what: string, fn: () => void): void {
    try {
      fn();
    } catch (err) {
      this.log?.error(`iomt ${what} failed: ${(err as Error).message}`);
    }
  }

  // ------------------------------------------------------------------ queries

  series(visitId: string, sign: VitalSign, from: number, to: number, resolutionMs: number): SeriesPoint[] | Array<{ t: number; value: number | string | boolean; deviceId: string }> {
    const col = SIGN_COLUMNS[sign];
    if (resolutionMs <= 0 || VITALS[sign].kind !== 'quantity') {
      const rows = this.db
        .prepare(`SELECT t, ${col} AS v, device_id AS deviceId FROM readings WHERE visit_id = ? AND t >= ? AND t < ? AND ${col} IS NOT NULL ORDER BY t LIMIT 20000`)
        .all(visitId, from, to) as Array<{ t: number; v: number | string; deviceId: string }>;
      return rows.map((r) => ({ t: r.t, value: sign === 'supplemental-oxygen' ? r.v === 1 : r.v, deviceId: r.deviceId }));
    }
    return this.rollups.series(visitId, sign, from, to, resolutionMs);
  }

  news2History(visitId: string, from: number, to: number): Array<{ t: number; total: number; risk: string; spo2Scale: number; components: Record<string, number> }> {
    return (
      this.db.prepare('SELECT t, total, risk, spo2_scale, components FROM news2_scores WHERE visit_id = ? AND t >= ? AND t < ? ORDER BY t LIMIT 20000').all(visitId, from, to) as Array<{
        t: number;
        total: number;
        risk: string;
        spo2_scale: number;
        components: string;
      }>
    ).map((r) => ({ t: r.t, total: r.total, risk: r.risk, spo2Scale: r.spo2_scale, components: JSON.parse(r.components) }));
  }

  listUnassigned(filter: { deviceId?: string; from?: number; to?: number; limit?: number } = {}): Array<Record<string, unknown>> {
    const rows = this.db
      .prepare(
        `SELECT * FROM unassigned WHERE (? IS NULL OR device_id = ?) AND t >= ? AND t < ? AND assigned_visit_id IS NULL ORDER BY t DESC LIMIT ?`,
      )
      .all(filter.deviceId ?? null, filter.deviceId ?? null, filter.from ?? 0, filter.to ?? Number.MAX_SAFE_INTEGER, Math.min(filter.limit ?? 500, 10_000)) as Array<Record<string, unknown>>;
    return rows.map((r) => stripNulls(r));
  }

  listQuarantine(filter: { deviceId?: string; kind?: string; limit?: number } = {}): Array<Record<string, unknown>> {
    const rows = this.db
      .prepare(`SELECT * FROM quarantine WHERE (? IS NULL OR device_id = ?) AND (? IS NULL OR kind = ?) ORDER BY id DESC LIMIT ?`)
      .all(filter.deviceId ?? null, filter.deviceId ?? null, filter.kind ?? null, filter.kind ?? null, Math.min(filter.limit ?? 200, 5000)) as Array<Record<string, unknown> & { payload: Buffer | null }>;
    return rows.map(({ payload, ...r }) => stripNulls({ ...r, payload: payload ? payload.toString('utf8') : null }));
  }

  /**
   * An operator attributes held readings of a device in [from, to) to a visit (e.g. after checking at the
   * bedside that the monitor was on this patient). Copied into the series; the held rows are marked.
   */
  assignUnassigned(req: { deviceId: string; from: number; to: number; visitId: string; patientId: string; by: string }): number {
    const cols = Object.values(SIGN_COLUMNS);
    let copied = 0;
    const rows = this.db
      .prepare(`SELECT * FROM unassigned WHERE device_id = ? AND t >= ? AND t < ? AND assigned_visit_id IS NULL`)
      .all(req.deviceId, req.from, req.to) as Array<Record<string, number | string | null>>;
    const copy = this.db.transaction(() => {
      for (const row of rows) {
        this.stmts.reading.run(req.visitId, req.patientId, null, req.deviceId, row.message_id, row.t, row.received_at, ...cols.map((c) => row[c]));
        for (const sign of Object.keys(SIGN_COLUMNS) as VitalSign[]) {
          const v = row[SIGN_COLUMNS[sign]];
          if (typeof v === 'number' && VITALS[sign].kind === 'quantity') this.rollups.addInTransaction(req.visitId, sign, row.t as number, v);
        }
        copied++;
      }
      this.db.prepare('UPDATE unassigned SET assigned_visit_id = ?, assigned_by = ? WHERE device_id = ? AND t >= ? AND t < ? AND assigned_visit_id IS NULL').run(req.visitId, req.by, req.deviceId, req.from, req.to);
    });
    try {
      copy();
    } catch (err) {
      this.rollups.discardPending();
      throw err;
    }
    this.rollups.commitPending();
    return copied;
  }
}

function stripNulls(r: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(r).filter(([, v]) => v !== null));
}

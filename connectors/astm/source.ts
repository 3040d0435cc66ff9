// The `astm` source: one analyser (or several on one TCP port) through its profile. Results and
// queries are stored through ctx.receive before the analyser's last frame is acknowledged; host
// queries are answered from the HIS; reruns are recognised so the HIS keeps the earlier result as
// superseded. Batch order download reuses the same live line (see destination.ts).
import { createHash } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { loadProfile, type AnalyzerProfile } from '../../devices/analyzers/profile';
import type { InboundMessage, SourceConnector, SourceContext } from '../../engine/connectors/types';
import type { HisLookups } from '../../his/lookups';
import type { LabCodeMap } from '../../his/mapping/code-maps';
import { parseMessage, type AstmMessage } from './codec/message';
import { AstmRecord } from './codec/record';
import { defaultCodeMapFiles, loadCodeMap } from './codeMap';
import type { AstmSourceConfig } from './config';
import { buildQueryReply, headerRecord, orderLookupFromHis, orderRecords, type OrderLookup, type SpecimenOrders } from './hostQuery';
import { interpretMessage, type AnalyserReport } from './interpret';
import type { Clock } from './link/clock';
import type { LinkTimers } from './link/link';
import { AstmSession, type ReceivedItem } from './session';
import { SerialTransport } from './transport/serial';
import { TcpClientTransport, TcpServerTransport } from './transport/tcp';
import type { LineInfo, Transport } from './transport/types';
import { splitBySpecimen } from './split';

export const ASTM_CONTENT_TYPE = 'application/astm';

/** What the source passes to the channel as `parsed` (the transformer re-parses `raw` when absent, e.g. on reprocess). */
export interface AstmParsed {
  profileId: string;
  analyzerId: string;
  message: AstmMessage;
  report?: AnalyserReport;
  /** Analyser codes of results that repeat an earlier result of the same specimen. */
  reruns: string[];
}

/** Live sources by analyser id, so an order-download destination can use the analyser's line. */
export const liveAstmSources = new Map<string, AstmSource>();

export interface AstmSourceDeps {
  clock?: Clock;
}

interface Line {
  info: LineInfo;
  session: AstmSession;
  stream: Duplex;
  counters: Record<string, number>;
}

export class AstmSource implements SourceConnector {
  private ctx?: SourceContext;
  private profile!: AnalyzerProfile;
  private codeMap!: LabCodeMap;
  private transport?: Transport;
  private readonly lines = new Map<string, Line>();
  private readonly recent = new Map<string, number>();
  private readonly seenResults = new Map<string, number>();
  private stopping = false;

  constructor(
    readonly config: AstmSourceConfig,
    private readonly deps: AstmSourceDeps = {},
  ) {}

  get analyzerId(): string {
    return this.config.analyzerId ?? this.config.profile;
  }

  get analyserProfile(): AnalyzerProfile {
    return this.profile;
  }

  /** Ids the code map's own rows may use: this device id, then the profile id. */
  private get analyserIds(): string[] {
    return [...new Set([this.analyzerId, this.profile.id])];
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.stopping = false;
    this.profile = withOverrides(loadProfile(this.config.profile, this.config.profileDir), this.config);
    this.codeMap = loadCodeMap(this.config.codeMapFiles ?? defaultCodeMapFiles(this.profile.id));
    const t = this.config.transport;
    const onError = (error: Error) => ctx.log.warn(`astm ${this.analyzerId}: ${error.message}`);
    if (t.kind === 'tcp-server') this.transport = new TcpServerTransport(t.host, t.port, `channel ${ctx.channelId} source.config.transport.port`);
    else if (t.kind === 'tcp-client') this.transport = new TcpClientTransport(t.host, t.port, t.reconnectMs, onError);
    else {
      const { kind: _k, path, reopenMs, ...overrides } = t;
      this.transport = new SerialTransport(path, { ...this.profile.transport.serial, ...overrides }, reopenMs, onError);
    }
    await this.transport.start((stream, info) => this.attach(stream, info));
    if (t.kind === 'tcp-server') ctx.reportConnection({ id: 'listener', state: 'listening', detail: `${this.transport.describe()} (${this.profile.name})` });
    liveAstmSources.set(this.analyzerId, this);
    ctx.log.info(`astm source ${this.analyzerId} (${this.profile.name}) on ${this.transport.describe()}`);
  }

  /** The bound TCP port when listening (port 0 in tests). */
  get port(): number | undefined {
    return this.transport instanceof TcpServerTransport ? this.transport.boundPort : undefined;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (liveAstmSources.get(this.analyzerId) === this) liveAstmSources.delete(this.analyzerId);
    await this.transport?.stop();
    for (const line of this.lines.values()) {
      line.session.close('source stopped');
      line.stream.destroy();
    }
    await Promise.all([...this.lines.values()].map((l) => l.session.settled()));
    this.lines.clear();
    this.ctx?.reportConnection({ id: 'listener', state: 'stopped' });
  }

  private attach(stream: Duplex, info: LineInfo): void {
    const ctx = this.ctx!;
    const counters: Record<string, number> = { messages: 0, errored: 0, queries: 0, framesRejected: 0 };
    const session = new AstmSession((bytes) => stream.write(bytes), {
      profile: this.profile,
      clock: this.deps.clock,
      store: (item) => this.store(item, info, counters),
      answer: (report, item) => this.answer(report, item, counters),
      onProblem: (p) => {
        if (p.code === 'frame-rejected' || p.code === 'frame-out-of-sequence') counters.framesRejected++;
        const level = p.code === 'duplicate-frame' || p.code === 'interrupted' ? 'info' : 'warn';
        ctx.log[level](`astm ${this.analyzerId} ${info.id}: ${p.code}: ${p.detail}`);
      },
      onSendError: (error) => ctx.log.error(`astm ${this.analyzerId} ${info.id}: could not send to the analyser: ${error.message}`),
    });
    const line: Line = { info, session, stream, counters };
    this.lines.set(info.id, line);
    stream.on('data', (chunk: Buffer) => session.receive(chunk));
    stream.on('close', () => {
      session.close('connection closed');
      this.lines.delete(info.id);
      ctx.reportConnection({ id: info.id, state: 'stopped' });
    });
    ctx.reportConnection({ id: info.id, state: 'connected', detail: `${info.remote} (${this.profile.name})`, counters });
  }

  // ---- storing (before the last frame's ACK) ----

  private async store(item: ReceivedItem, info: LineInfo, counters: Record<string, number>): Promise<boolean> {
    const ctx = this.ctx!;
    const origin = { transport: info.kind, remote: info.remote, connection: info.id, profile: this.profile.id, analyzer: this.analyzerId };
    if (item.error) {
      counters.errored++;
      const inbound: InboundMessage = {
        raw: Buffer.from(item.text, 'utf8'),
        contentType: ASTM_CONTENT_TYPE,
        origin,
        correlation: { deviceId: this.analyzerId },
        meta: { parseError: `ASTM from ${this.analyzerId}: ${item.error}`, records: String(item.message.records.length) },
      };
      return this.receive(inbound);
    }
    const texts = this.config.splitBySpecimen ? splitSafe(item) : [item.text];
    for (const [i, text] of texts.entries()) {
      const message = texts.length === 1 ? item.message : parseMessage(text);
      const report = texts.length === 1 ? item.report! : interpretMessage(message, this.profile);
      const key = createHash('sha1').update(this.analyzerId).update('\u0000').update(text).digest('hex');
      const seen = this.recent.get(key);
      if (seen !== undefined && Date.now() - seen < this.config.dedupeWindowMs) {
        ctx.log.info(`astm ${this.analyzerId}: identical message received again (a resend after a lost acknowledgement); acknowledged, not stored twice`);
        continue;
      }
      const reruns = this.config.detectReruns ? await this.rerunsOf(report) : [];
      const parsed: AstmParsed = { profileId: this.profile.id, analyzerId: this.analyzerId, message, report, reruns };
      const first = report.specimens[0];
      const kind = report.queries.length ? 'query' : report.specimens.length === 0 ? 'other' : report.specimens.every((s) => s.qcReason) ? 'qc' : 'results';
      const meta: Record<string, string> = { kind, sender: report.sender.name, records: String(message.records.length) };
      if (report.sender.serial) meta.serial = report.sender.serial;
      if (report.specimens.length) meta.specimens = report.specimens.map((s) => s.specimenId).join(' ');
      if (reruns.length) meta.reruns = reruns.join(' ');
      if (texts.length > 1) meta.part = `${i + 1}/${texts.length}`;
      const inbound: InboundMessage = {
        raw: Buffer.from(text, 'utf8'),
        contentType: ASTM_CONTENT_TYPE,
        origin: texts.length > 1 ? { ...origin, part: `${i + 1}/${texts.length}` } : origin,
        correlation: {
          deviceId: this.analyzerId,
          messageType: kind,
          ...(report.controlId ? { controlId: report.controlId } : {}),
          ...(first?.specimenId ? { specimenId: first.specimenId } : report.queries[0]?.specimenIds[0] ? { specimenId: report.queries[0].specimenIds[0] } : {}),
          ...(first?.patientId && !first.qcReason ? { patientId: first.patientId } : {}),
        },
        meta,
        parsed,
      };
      if (!(await this.receive(inbound))) return false;
      this.remember(key, report);
      counters.messages++;
      if (kind === 'query') counters.queries++;
    }
    return true;
  }

  private async receive(inbound: InboundMessage): Promise<boolean> {
    const ctx = this.ctx!;
    const result = await ctx.receive(inbound, { waitFor: this.config.waitFor });
    if (result.status === 'unavailable') {
      ctx.log.error(`astm ${this.analyzerId}: message not stored (${result.error}); the frame is refused so the analyser sends it again`);
      return false;
    }
    return true;
  }

  private remember(key: string, report: AnalyserReport): void {
    const now = Date.now();
    this.recent.set(key, now);
    for (const s of report.specimens) for (const r of s.results) this.seenResults.set(`${s.specimenId}\u0000${r.code}`, now);
    // Bounded memory: forget the oldest entries beyond the cap.
    for (const map of [this.recent, this.seenResults]) {
      while (map.size > 20_000) map.delete(map.keys().next().value as string);
    }
  }

  /** Analyser codes of this report's results that already have a result for the same specimen. */
  private async rerunsOf(report: AnalyserReport): Promise<string[]> {
    const out = new Set<string>();
    const his = this.his();
    for (const specimen of report.specimens) {
      if (specimen.qcReason || !specimen.specimenId) continue;
      for (const r of specimen.results) if (this.seenResults.has(`${specimen.specimenId}\u0000${r.code}`)) out.add(r.code);
      if (!his) continue;
      try {
        const orders = await withTimeout(his.ordersBySpecimen(specimen.specimenId), 3_000, 'HIS order lookup');
        if (orders.length === 0) continue;
        const ids = new Set(orders.map((o) => o.id));
        const { results } = await withTimeout(his.resultsForVisit(orders[0].maLk), 3_000, 'HIS result lookup');
        const prior = new Set(results.filter((r) => ids.has(r.orderId) && r.status !== 'superseded' && r.status !== 'cancelled').map((r) => r.code));
        for (const r of specimen.results) if (prior.has(r.code)) out.add(r.code);
      } catch (error) {
        this.ctx!.log.warn(`astm ${this.analyzerId}: rerun check for specimen ${specimen.specimenId} skipped: ${(error as Error).message}`);
      }
    }
    return [...out];
  }

  private his(): HisLookups | undefined {
    const service = this.ctx?.lookup<unknown>(this.config.hostQuery.lookupService);
    return service && typeof (service as HisLookups).ordersBySpecimen === 'function' && typeof (service as HisLookups).resultsForVisit === 'function' ? (service as HisLookups) : undefined;
  }

  private orderLookup(): OrderLookup | undefined {
    const service = this.ctx?.lookup<unknown>(this.config.hostQuery.lookupService);
    if (!service) return undefined;
    if (typeof (service as OrderLookup).ordersForSpecimen === 'function') return service as OrderLookup;
    if (typeof (service as HisLookups).ordersBySpecimen === 'function') return orderLookupFromHis(service as HisLookups);
    return undefined;
  }

  // ---- host query ----

  private async answer(report: AnalyserReport, _item: ReceivedItem, counters: Record<string, number>): Promise<AstmRecord[] | undefined> {
    const ctx = this.ctx!;
    const enabled = this.config.hostQuery.enabled ?? this.profile.hostQuery.enabled;
    const ids = report.queries.flatMap((q) => q.specimenIds).join(', ');
    if (!enabled) {
      ctx.log.warn(`astm ${this.analyzerId}: host query for ${ids} ignored: host query is off for this analyser`);
      return undefined;
    }
    const lookup = this.orderLookup();
    if (!lookup) {
      ctx.log.error(`astm ${this.analyzerId}: host query for ${ids} not answered: no service "${this.config.hostQuery.lookupService}" offers order lookups`);
      return undefined;
    }
    const query = report.queries[0];
    if (report.queries.length > 1) ctx.log.warn(`astm ${this.analyzerId}: ${report.queries.length} Q records in one message; answering the first (LIS2-A2: one request at a time)`);
    try {
      const reply = await buildQueryReply(query, lookup, {
        profile: this.profile,
        codeMap: this.codeMap,
        analyserIds: this.analyserIds,
        querySender: report.sender.name,
        queryControlId: report.controlId,
      });
      counters.queriesAnswered = (counters.queriesAnswered ?? 0) + 1;
      ctx.log.info(`astm ${this.analyzerId}: host query answered: orders for ${reply.answered.join(', ') || 'none'}${reply.unknown.length ? `; unknown ${reply.unknown.join(', ')}` : ''}`);
      return reply.records;
    } catch (error) {
      ctx.log.error(`astm ${this.analyzerId}: host query for ${ids} not answered: order lookup failed: ${(error as Error).message}`);
      return undefined;
    }
  }

  // ---- batch download ----

  /** Sends orders to the analyser unsolicited (batch mode); resolves once the analyser acknowledged them. */
  async downloadOrders(entries: SpecimenOrders[], options: { cancel?: boolean } = {}): Promise<void> {
    const line = [...this.lines.values()][0];
    if (!line) throw new Error(`analyser ${this.analyzerId} is not connected`);
    const d = this.profile.send.delimiters;
    const ctx = { profile: this.profile, codeMap: this.codeMap, analyserIds: this.analyserIds };
    const records: AstmRecord[] = [headerRecord(ctx, d)];
    entries.forEach((entry, i) => records.push(...orderRecords(entry, ctx, d, i + 1, { reportType: ['O'], actionCode: options.cancel ? 'C' : 'N' })));
    records.push(AstmRecord.build('L', ['1', 'N'], d));
    await line.session.send(records);
  }
}

function splitSafe(item: ReceivedItem): string[] {
  return splitBySpecimen(item.message);
}

function withOverrides(profile: AnalyzerProfile, config: AstmSourceConfig): AnalyzerProfile {
  const link = config.link;
  return {
    ...profile,
    link: {
      ...profile.link,
      ...(link.mode ? { mode: link.mode } : {}),
      ...(link.frameUnit ? { frameUnit: link.frameUnit } : {}),
      ...(link.maxSendFrameText ? { maxSendFrameText: link.maxSendFrameText } : {}),
      ...(link.lenientFirstFrameNumber !== undefined ? { lenientFirstFrameNumber: link.lenientFirstFrameNumber } : {}),
      timers: { ...profile.link.timers, ...(link.timers as Partial<LinkTimers> | undefined) },
    },
  };
}

function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms} ms`)), ms);
    }),
  ]);
}

// Order source: polls the HIS for new and changed lab/imaging orders, oldest change first, and hands
// each to the engine as canonical JSON. A row's version is recorded as delivered only after the
// engine stored it, so restarts neither lose nor repeat orders. A database that does not answer
// makes the source back off and report itself unhealthy until it answers again.
import path from 'node:path';
import type { InboundMessage, SourceConnector, SourceContext } from '../../engine/connectors/types';
import { dbDateTimeToIso, instantToDbDateTime, isoToDbDateTime } from '../../his/db/values';
import { ORDER_CONTENT_TYPE } from '../../his/messages';
import type { OrderStatus } from '../../model';
import type { HisDbConfig } from './config';
import type { OrderPollFilter, PolledOrder } from './his-database';
import { acquireHis, resolveConnection, type HisLease } from './pool';
import { WatermarkStore } from './watermark';

const BEGINNING = '0001-01-01 00:00:00.000';

/** A stored stamp in one sortable form: `YYYY-MM-DD HH:mm:ss.fff`. */
export function normaliseStamp(raw: string): string {
  const iso = dbDateTimeToIso(raw);
  if (!iso) return raw;
  return isoToDbDateTime(iso);
}

function minusSeconds(stamp: string, seconds: number): string {
  if (stamp === BEGINNING) return stamp;
  const iso = dbDateTimeToIso(stamp);
  if (!iso) return stamp;
  return instantToDbDateTime(new Date(Date.parse(iso) - seconds * 1000));
}

export function orderMessage(row: PolledOrder, mappingName: string): InboundMessage {
  if (row.error) {
    const body = { error: row.error.message, table: row.error.table, column: row.error.column, value: row.error.value, orderId: row.id, updatedAt: row.updatedAtRaw };
    return {
      raw: Buffer.from(JSON.stringify(body)),
      contentType: 'application/json',
      origin: { his: mappingName, orderId: row.id, updatedAt: row.updatedAtRaw },
      correlation: { controlId: `${row.id}@${row.signature}`, messageType: 'order-error' },
      // The engine keeps a message with parseError as errored (visible, reprocessable), never delivers it.
      meta: { parseError: `HIS row ${row.id}: ${row.error.message}`, orderId: row.id },
    };
  }
  const order = row.order!;
  const meta: Record<string, string> = { orderId: order.id, kind: order.kind, status: order.status, department: order.departmentCode, patientId: order.patientId };
  if (order.kind === 'imaging') {
    meta.modality = order.modality;
    if (order.scheduledStationAeTitle) meta.stationAeTitle = order.scheduledStationAeTitle;
  } else if (order.analyserId) meta.analyser = order.analyserId;
  return {
    raw: Buffer.from(JSON.stringify(order)),
    contentType: ORDER_CONTENT_TYPE,
    origin: { his: mappingName, orderId: order.id, updatedAt: row.updatedAtRaw },
    correlation: {
      patientId: order.patientId,
      accession: order.kind === 'imaging' ? order.accessionNumber : undefined,
      specimenId: order.kind === 'lab' ? order.specimen.id : undefined,
      controlId: `${order.id}@${row.signature}`,
      messageType: `order-${order.kind}`,
    },
    meta,
    parsed: order,
  };
}

export class HisOrderSource implements SourceConnector {
  private ctx?: SourceContext;
  private lease?: HisLease;
  private store?: WatermarkStore;
  private stopped = false;
  private loop?: Promise<void>;
  private wake?: () => void;
  private failures = 0;
  private delivered = 0;
  private errored = 0;

  constructor(
    private readonly config: HisDbConfig,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.stopped = false;
    this.store = new WatermarkStore(path.join(ctx.dataDir, 'his-db', 'watermarks.sqlite'));
    this.report('idle', 'starting');
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.wake?.();
    await this.loop;
    await this.lease?.release();
    this.lease = undefined;
    this.store?.close();
    this.ctx?.reportConnection({ id: 'his-db', state: 'stopped' });
  }

  /** Resolves once a poll cycle found nothing more to deliver (tests and benchmarks wait on it). */
  private idleWaiters: Array<() => void> = [];
  whenIdle(): Promise<void> {
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  private report(state: 'polling' | 'idle' | 'error', detail: string): void {
    this.ctx?.reportConnection({ id: 'his-db', state, detail, counters: { delivered: this.delivered, errored: this.errored, failures: this.failures } });
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  private async run(): Promise<void> {
    while (!this.stopped) {
      let delay = this.config.pollIntervalMs;
      try {
        if (!this.lease) {
          const connection = await resolveConnection(this.config.connection, this.ctx!.dataDir);
          this.lease = await acquireHis(connection, this.config.mapping);
        }
        const outcome = await this.pollOnce();
        this.failures = 0;
        this.report('polling', `${this.config.mapping}: ${this.delivered} delivered`);
        if (outcome === 'more') delay = 0;
        else this.idleWaiters.splice(0).forEach((resolve) => resolve());
      } catch (err) {
        this.failures++;
        delay = Math.min(this.config.backoff.maxMs, this.config.backoff.initialMs * 2 ** Math.min(20, this.failures - 1));
        const message = (err as Error).message;
        this.report('error', `HIS database unreachable or failing (attempt ${this.failures}, next try in ${delay} ms): ${message}`);
        this.ctx?.log.warn(`his-db source ${this.ctx.channelId}: ${message}`);
        // After a failure the connection may be dead: reopen it on the next try.
        await this.lease?.release().catch(() => undefined);
        this.lease = undefined;
      }
      if (!this.stopped && delay > 0) await this.sleep(delay);
    }
  }

  private startStamp(): string {
    const from = this.config.startFrom;
    if (from === 'beginning') return BEGINNING;
    if (from === 'now') return instantToDbDateTime(this.clock());
    return isoToDbDateTime(from);
  }

  /** One pass over every order kind; 'more' when the engine was unavailable and work remains. */
  async pollOnce(): Promise<'done' | 'more'> {
    const his = this.lease!.his;
    const store = this.store!;
    const base = this.config.watermarkName ?? this.ctx!.channelId;
    const filter: OrderPollFilter = { ...this.config.filter, statuses: this.config.filter.statuses as OrderStatus[] | undefined };
    for (const kind of this.config.orderKinds) {
      const key = `${base}:${kind}`;
      store.initialise(key, this.startStamp());
      const mark = store.watermark(key)!;
      const now = instantToDbDateTime(this.clock());
      // Never trust a stamp from the future as the lower bound, then re-read the overlap window.
      const since = minusSeconds(mark < now ? mark : now, this.config.overlapSeconds);
      let cursor: { since?: string; after?: { updatedAt: string; id: string } } = { since };
      for (;;) {
        if (this.stopped) return 'done';
        const rows = await his.pollOrders(kind, cursor, filter, this.config.batchSize);
        const fresh = rows.filter((row) => !store.isDelivered(key, row.id, row.signature));
        // Hand a window of rows to the engine at once (its store commits them together), then record
        // them in order. Only the rows before the first refusal are recorded, so the watermark never
        // passes an order the engine did not store.
        for (let start = 0; start < fresh.length; start += this.config.receiveConcurrency) {
          if (this.stopped) return 'done';
          const window = fresh.slice(start, start + this.config.receiveConcurrency);
          const receipts = await Promise.all(window.map((row) => this.ctx!.receive(orderMessage(row, his.loaded.mapping.name))));
          const refused = receipts.findIndex((r) => r.status === 'unavailable');
          const stored = refused === -1 ? window : window.slice(0, refused);
          store.recordMany(key, stored.map((row) => ({ orderId: row.id, signature: row.signature, stamp: normaliseStamp(row.updatedAtRaw) })));
          stored.forEach((row, i) => (row.error || receipts[i].status === 'errored' ? this.errored++ : this.delivered++));
          if (refused !== -1) {
            const receipt = receipts[refused] as { error: string };
            this.report('error', `engine could not store order ${window[refused].id}: ${receipt.error}`);
            throw new Error(`engine unavailable: ${receipt.error}`);
          }
        }
        if (rows.length < this.config.batchSize) break;
        const last = rows[rows.length - 1];
        cursor = { after: { updatedAt: last.updatedAtRaw, id: last.id } };
      }
      store.prune(key, since);
    }
    return 'done';
  }
}

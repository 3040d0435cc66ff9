// Order status updates for the HIS (MPPS progress, completed studies) written durably first, then
// applied by a background worker with exponential backoff: a modality's N-SET or C-STORE never
// waits for, or fails because of, the HIS. A later update for the same key replaces a pending one.
import type Database from 'better-sqlite3';
import type { Logger } from 'winston';
import { HisNotFoundError, type ImagingHis, type OrderStatusUpdate } from './his-port';

export interface OutboxEntry {
  id: number;
  key: string;
  update: OrderStatusUpdate;
  attempts: number;
  lastError: string | null;
  state: 'pending' | 'done' | 'failed';
}

export class HisOutbox {
  private readonly stmts;
  private timer?: NodeJS.Timeout;
  private running = false;
  private stopped = false;
  /** Called after each update is applied (or failed for good). */
  onApplied?: (entry: OutboxEntry) => void;

  constructor(
    private readonly db: Database.Database,
    private readonly his: () => ImagingHis | undefined,
    private readonly log: Logger,
    private readonly options: { pollMs?: number; maxBackoffMs?: number } = {},
  ) {
    db.exec(`CREATE TABLE IF NOT EXISTS his_outbox (
      id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, payload TEXT NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
      attempts INTEGER NOT NULL DEFAULT 0, next_attempt_at INTEGER NOT NULL, last_error TEXT, created_at TEXT NOT NULL, done_at TEXT
    );
    CREATE INDEX IF NOT EXISTS his_outbox_due ON his_outbox(state, next_attempt_at);
    CREATE INDEX IF NOT EXISTS his_outbox_key ON his_outbox(key, state);`);
    this.stmts = {
      supersede: db.prepare(`UPDATE his_outbox SET state = 'superseded', done_at = ? WHERE key = ? AND state = 'pending'`),
      insert: db.prepare(`INSERT INTO his_outbox (key, payload, next_attempt_at, created_at) VALUES (?, ?, ?, ?)`),
      due: db.prepare(`SELECT * FROM his_outbox WHERE state = 'pending' AND next_attempt_at <= ? ORDER BY id LIMIT 50`),
      done: db.prepare(`UPDATE his_outbox SET state = ?, attempts = attempts + 1, last_error = ?, done_at = ? WHERE id = ?`),
      retry: db.prepare(`UPDATE his_outbox SET attempts = attempts + 1, last_error = ?, next_attempt_at = ? WHERE id = ?`),
      pendingCount: db.prepare(`SELECT COUNT(*) FROM his_outbox WHERE state = 'pending'`).pluck(),
      list: db.prepare(`SELECT * FROM his_outbox ORDER BY id DESC LIMIT ?`),
    };
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** Stops the worker; resolves once an update in progress has finished (so the database can close). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.draining;
  }

  /** Queues an update; a pending update with the same key (same order, same purpose) is replaced. */
  enqueue(key: string, update: OrderStatusUpdate): void {
    const now = new Date().toISOString();
    this.db.transaction(() => {
      this.stmts.supersede.run(now, key);
      this.stmts.insert.run(key, JSON.stringify(update), Date.now(), now);
    })();
    this.schedule(0);
  }

  pending(): number {
    return Number(this.stmts.pendingCount.get());
  }

  entries(limit = 100): OutboxEntry[] {
    return (this.stmts.list.all(limit) as Row[]).map(toEntry);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.drain(), ms);
    this.timer.unref();
  }

  private draining: Promise<void> = Promise.resolve();

  private drain(): Promise<void> {
    if (this.running || this.stopped) return this.draining;
    this.draining = this.drainOnce().catch((err) => {
      this.log.error(`HIS outbox worker: ${(err as Error).message}`);
    });
    return this.draining;
  }

  private async drainOnce(): Promise<void> {
    this.running = true;
    try {
      for (;;) {
        const due = this.stmts.due.all(Date.now()) as Row[];
        if (due.length === 0) break;
        for (const row of due) {
          if (this.stopped) return;
          await this.apply(row);
        }
      }
    } finally {
      this.running = false;
      if (!this.stopped) this.schedule(this.pending() > 0 ? (this.options.pollMs ?? 1000) : 30_000);
    }
  }

  private async apply(row: Row): Promise<void> {
    const update = JSON.parse(row.payload) as OrderStatusUpdate;
    const his = this.his();
    const now = new Date().toISOString();
    if (!his) {
      this.retry(row, "no HIS service is registered (service 'his')");
      return;
    }
    try {
      await his.updateOrderStatus(update);
      this.stmts.done.run('done', null, now, row.id);
      this.onApplied?.(toEntry({ ...row, state: 'done', attempts: row.attempts + 1, last_error: null }));
    } catch (err) {
      const message = (err as Error).message;
      if (err instanceof HisNotFoundError || (err as Error).name === 'HisNotFoundError') {
        this.stmts.done.run('failed', message, now, row.id);
        this.log.warn(`HIS update ${row.key} failed for good: ${message}`);
        this.onApplied?.(toEntry({ ...row, state: 'failed', attempts: row.attempts + 1, last_error: message }));
        return;
      }
      this.retry(row, message);
    }
  }

  private retry(row: Row, error: string): void {
    const backoff = Math.min(this.options.maxBackoffMs ?? 300_000, 1000 * 2 ** Math.min(row.attempts, 16));
    this.stmts.retry.run(error, Date.now() + backoff, row.id);
    if (row.attempts === 0 || row.attempts % 10 === 0) this.log.warn(`HIS update ${row.key} will be retried in ${backoff} ms: ${error}`);
  }
}

interface Row {
  id: number;
  key: string;
  payload: string;
  state: string;
  attempts: number;
  last_error: string | null;
}

function toEntry(row: Row): OutboxEntry {
  return {
    id: row.id,
    key: row.key,
    update: JSON.parse(row.payload),
    attempts: row.attempts,
    lastError: row.last_error,
    state: row.state === 'done' ? 'done' : row.state === 'failed' ? 'failed' : 'pending',
  };
}

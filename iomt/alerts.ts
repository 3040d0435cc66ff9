// IoMT alerts: clinical (NEWS2 escalation) and technical (silent device, implausible values, flooding).
// One active alert per key (e.g. `news2:<visit>`, `silent:<device>`): a repeat only counts an occurrence,
// a higher level escalates (and needs a new acknowledgement), and the alert resolves when the condition
// clears. Every state change is stored and sent to the sinks (console log, webhook, MQTT for ward displays).
import type { Logger } from 'winston';
import type { IomtDatabase } from './db';

export type AlertCategory = 'clinical' | 'technical';
export type AlertKind = 'news2' | 'device-silent' | 'implausible-value' | 'device-flood' | 'invalid-payload' | 'unassigned-data';
export type AlertSeverity = 'info' | 'warning' | 'urgent' | 'emergency';
export type AlertStatus = 'open' | 'acknowledged' | 'resolved';
export type AlertEvent = 'raised' | 'escalated' | 'acknowledged' | 'resolved';

export const SEVERITY_RANK: Record<AlertSeverity, number> = { info: 0, warning: 1, urgent: 2, emergency: 3 };

export interface IomtAlert {
  id: number;
  key: string;
  category: AlertCategory;
  kind: AlertKind;
  severity: AlertSeverity;
  /** Kind-specific level (NEWS2 risk band, e.g. `medium`). */
  level?: string;
  visitId?: string;
  patientId?: string;
  deviceId?: string;
  site?: string;
  ward?: string;
  bed?: string;
  message: string;
  details?: Record<string, unknown>;
  status: AlertStatus;
  raisedAt: string;
  updatedAt: string;
  occurrences: number;
  acknowledgedAt?: string;
  acknowledgedBy?: string;
  resolvedAt?: string;
  resolvedReason?: string;
}

export interface AlertSpec {
  key: string;
  category: AlertCategory;
  kind: AlertKind;
  severity: AlertSeverity;
  level?: string;
  /** Orders levels of the same kind; a higher rank escalates (default: the severity rank). */
  rank?: number;
  visitId?: string;
  patientId?: string;
  deviceId?: string;
  site?: string;
  ward?: string;
  bed?: string;
  message: string;
  details?: Record<string, unknown>;
}

export interface AlertSink {
  name: string;
  notify(event: AlertEvent, alert: IomtAlert): Promise<void>;
}

interface AlertRow {
  id: number;
  key: string;
  category: AlertCategory;
  kind: AlertKind;
  severity: AlertSeverity;
  level: string | null;
  visit_id: string | null;
  patient_id: string | null;
  device_id: string | null;
  site: string | null;
  ward: string | null;
  bed: string | null;
  message: string;
  details: string | null;
  status: AlertStatus;
  raised_at: number;
  updated_at: number;
  occurrences: number;
  acknowledged_at: number | null;
  acknowledged_by: string | null;
  resolved_at: number | null;
  resolved_reason: string | null;
}

interface Active {
  alert: IomtAlert;
  rank: number;
  dirty: boolean;
}

const iso = (t: number | null) => (t === null ? undefined : new Date(t).toISOString());

function fromRow(r: AlertRow): IomtAlert {
  const a: IomtAlert = {
    id: r.id,
    key: r.key,
    category: r.category,
    kind: r.kind,
    severity: r.severity,
    message: r.message,
    status: r.status,
    raisedAt: iso(r.raised_at)!,
    updatedAt: iso(r.updated_at)!,
    occurrences: r.occurrences,
  };
  const optional: Array<[keyof IomtAlert, unknown]> = [
    ['level', r.level],
    ['visitId', r.visit_id],
    ['patientId', r.patient_id],
    ['deviceId', r.device_id],
    ['site', r.site],
    ['ward', r.ward],
    ['bed', r.bed],
    ['details', r.details === null ? null : JSON.parse(r.details)],
    ['acknowledgedAt', iso(r.acknowledged_at)],
    ['acknowledgedBy', r.acknowledged_by],
    ['resolvedAt', iso(r.resolved_at)],
    ['resolvedReason', r.resolved_reason],
  ];
  for (const [k, v] of optional) if (v !== null && v !== undefined) (a as unknown as Record<string, unknown>)[k] = v;
  return a;
}

export class AlertManager {
  private readonly active = new Map<string, Active>();
  /** Active alert count per device, so the readings path can skip alert lookups for healthy devices. */
  private readonly activeDevices = new Map<string, number>();
  private readonly sinkQueues = new Map<string, Promise<void>>();
  readonly listeners: Array<(event: AlertEvent, alert: IomtAlert) => void> = [];

  constructor(
    private readonly db: IomtDatabase,
    private readonly sinks: AlertSink[],
    private readonly log?: Logger,
  ) {
    for (const r of db.prepare("SELECT * FROM alerts WHERE status != 'resolved'").all() as AlertRow[]) {
      const alert = fromRow(r);
      this.active.set(r.key, { alert, rank: SEVERITY_RANK[alert.severity], dirty: false });
      this.track(alert, 1);
    }
  }

  hasActiveForDevice(deviceId: string): boolean {
    return this.activeDevices.has(deviceId);
  }

  private track(alert: IomtAlert, delta: 1 | -1): void {
    if (!alert.deviceId) return;
    const n = (this.activeDevices.get(alert.deviceId) ?? 0) + delta;
    if (n > 0) this.activeDevices.set(alert.deviceId, n);
    else this.activeDevices.delete(alert.deviceId);
  }

  activeAlert(key: string): IomtAlert | undefined {
    return this.active.get(key)?.alert;
  }

  /** Raises, escalates or counts a repeat of the alert with this key. Returns what happened. */
  raise(spec: AlertSpec, now = Date.now()): 'raised' | 'escalated' | 'repeated' {
    const rank = spec.rank ?? SEVERITY_RANK[spec.severity];
    const current = this.active.get(spec.key);
    if (!current) {
      const info = this.db
        .prepare(
          `INSERT INTO alerts (key, category, kind, severity, level, visit_id, patient_id, device_id, site, ward, bed, message, details, status, raised_at, updated_at, occurrences)
           VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'open', ?, ?, 1)`,
        )
        .run(
          spec.key,
          spec.category,
          spec.kind,
          spec.severity,
          spec.level ?? null,
          spec.visitId ?? null,
          spec.patientId ?? null,
          spec.deviceId ?? null,
          spec.site ?? null,
          spec.ward ?? null,
          spec.bed ?? null,
          spec.message,
          spec.details ? JSON.stringify(spec.details) : null,
          now,
          now,
        );
      const alert = fromRow((this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(Number(info.lastInsertRowid)) as AlertRow));
      this.active.set(spec.key, { alert, rank, dirty: false });
      this.track(alert, 1);
      this.dispatch('raised', alert);
      return 'raised';
    }
    const a = current.alert;
    a.occurrences++;
    a.updatedAt = new Date(now).toISOString();
    if (rank > current.rank) {
      current.rank = rank;
      Object.assign(a, { severity: spec.severity, level: spec.level, message: spec.message, details: spec.details, status: 'open' as AlertStatus });
      delete a.acknowledgedAt;
      delete a.acknowledgedBy;
      this.db
        .prepare(
          `UPDATE alerts SET severity=?, level=?, message=?, details=?, status='open', acknowledged_at=NULL, acknowledged_by=NULL, updated_at=?, occurrences=? WHERE id=?`,
        )
        .run(a.severity, a.level ?? null, a.message, a.details ? JSON.stringify(a.details) : null, now, a.occurrences, a.id);
      current.dirty = false;
      this.dispatch('escalated', a);
      return 'escalated';
    }
    current.dirty = true;
    return 'repeated';
  }

  resolve(key: string, reason: string, now = Date.now()): IomtAlert | undefined {
    const current = this.active.get(key);
    if (!current) return undefined;
    const a = current.alert;
    a.status = 'resolved';
    a.resolvedAt = new Date(now).toISOString();
    a.resolvedReason = reason;
    a.updatedAt = a.resolvedAt;
    this.db.prepare("UPDATE alerts SET status='resolved', resolved_at=?, resolved_reason=?, updated_at=?, occurrences=? WHERE id=?").run(now, reason, now, a.occurrences, a.id);
    this.active.delete(key);
    this.track(a, -1);
    this.dispatch('resolved', a);
    return a;
  }

  acknowledge(id: number, by: string, now = Date.now()): IomtAlert {
    const current = [...this.active.values()].find((c) => c.alert.id === id);
    if (!current) {
      const row = this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
      if (!row) throw new AlertNotFoundError(`alert ${id} does not exist`);
      throw new AlertStateError(`alert ${id} is resolved and cannot be acknowledged`);
    }
    const a = current.alert;
    if (a.status === 'acknowledged') return a;
    a.status = 'acknowledged';
    a.acknowledgedAt = new Date(now).toISOString();
    a.acknowledgedBy = by;
    a.updatedAt = a.acknowledgedAt;
    this.db.prepare("UPDATE alerts SET status='acknowledged', acknowledged_at=?, acknowledged_by=?, updated_at=? WHERE id=?").run(now, by, now, id);
    this.dispatch('acknowledged', a);
    return a;
  }

  get(id: number): IomtAlert | undefined {
    const row = this.db.prepare('SELECT * FROM alerts WHERE id = ?').get(id) as AlertRow | undefined;
    if (!row) return undefined;
    return this.active.get(row.key)?.alert.id === id ? this.active.get(row.key)!.alert : fromRow(row);
  }

  list(filter: { status?: AlertStatus | 'active'; ward?: string; visitId?: string; deviceId?: string; category?: AlertCategory; limit?: number } = {}): IomtAlert[] {
    this.flush();
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status === 'active') where.push("status != 'resolved'");
    else if (filter.status) (where.push('status = ?'), args.push(filter.status));
    if (filter.ward) (where.push('ward = ?'), args.push(filter.ward));
    if (filter.visitId) (where.push('visit_id = ?'), args.push(filter.visitId));
    if (filter.deviceId) (where.push('device_id = ?'), args.push(filter.deviceId));
    if (filter.category) (where.push('category = ?'), args.push(filter.category));
    const sql = `SELECT * FROM alerts ${where.length ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY raised_at DESC, id DESC LIMIT ?`;
    args.push(Math.min(filter.limit ?? 200, 5000));
    return (this.db.prepare(sql).all(...args) as AlertRow[]).map((r) => this.active.get(r.key)?.alert.id === r.id ? this.active.get(r.key)!.alert : fromRow(r));
  }

  /** Persists occurrence counts of repeated alerts (kept in memory between state changes). */
  flush(): void {
    const dirty = [...this.active.values()].filter((c) => c.dirty);
    if (dirty.length === 0) return;
    const stmt = this.db.prepare('UPDATE alerts SET occurrences = ?, updated_at = ? WHERE id = ?');
    this.db.transaction(() => {
      for (const c of dirty) {
        stmt.run(c.alert.occurrences, Date.parse(c.alert.updatedAt), c.alert.id);
        c.dirty = false;
      }
    })();
  }

  /** Waits until every sink has been given every event so far (tests, shutdown). */
  async drain(): Promise<void> {
    await Promise.all([...this.sinkQueues.values()]);
  }

  private dispatch(event: AlertEvent, alert: IomtAlert): void {
    const snapshot: IomtAlert = { ...alert };
    for (const l of this.listeners) {
      try {
        l(event, snapshot);
      } catch (err) {
        this.log?.error(`iomt alert listener failed: ${(err as Error).message}`);
      }
    }
    // One chain per sink keeps each sink's events in order without holding up the readings path.
    for (const sink of this.sinks) {
      const previous = this.sinkQueues.get(sink.name) ?? Promise.resolve();
      const next = previous.then(() =>
        sink.notify(event, snapshot).catch((err: Error) => {
          this.log?.warn(`iomt alert sink ${sink.name} failed for alert ${snapshot.id}: ${err.message}`);
        }),
      );
      this.sinkQueues.set(sink.name, next);
    }
  }
}

export class AlertNotFoundError extends Error {
  readonly status = 404;
}
export class AlertStateError extends Error {
  readonly status = 409;
}

/** Writes alert events to the engine log. */
export function consoleAlertSink(log: Logger): AlertSink {
  return {
    name: 'console',
    async notify(event, a) {
      const where = [a.ward, a.bed].filter(Boolean).join('/');
      const line = `IoMT alert ${event}: [${a.severity}] ${a.message}${where ? ` (${where})` : ''} #${a.id}`;
      if (event === 'resolved' || event === 'acknowledged') log.info(line);
      else log.warn(line);
    },
  };
}

/** POSTs each alert event as JSON (`{event, alert}`) to a URL; retries a failed POST twice. */
export function webhookAlertSink(url: string, options: { headers?: Record<string, string>; timeoutMs?: number } = {}): AlertSink {
  return {
    name: `webhook:${url}`,
    async notify(event, alert) {
      let lastError: Error | undefined;
      for (let attempt = 1; attempt <= 3; attempt++) {
        try {
          const res = await fetch(url, {
            method: 'POST',
            headers: { 'content-type': 'application/json', ...options.headers },
            body: JSON.stringify({ event, alert }),
            signal: AbortSignal.timeout(options.timeoutMs ?? 5000),
          });
          if (res.ok) return;
          lastError = new Error(`HTTP ${res.status}`);
          if (res.status >= 400 && res.status < 500) break;
        } catch (err) {
          lastError = err as Error;
        }
        await new Promise((r) => setTimeout(r, 200 * attempt));
      }
      throw lastError ?? new Error('webhook failed');
    },
  };
}

// Charting: writes bound patients' vitals into the HIS (through the HIS connector's writeObservations)
// at a fixed interval, or at once when a value changed significantly since it was last charted. The
// HIS gets the chart a nurse would write, not the monitor's second-by-second stream. What was charted
// is remembered (`charting` table), so a restart neither re-sends nor skips.
import type { Logger } from 'winston';
import { toHospitalDateTime } from '../model/datetime';
import type { Observation } from '../model/observation';
import { SIGN_COLUMNS } from './db';
import type { IomtService } from './service';
import { VITALS, type VitalSign } from './vitals';

/** The part of the HIS connector charting needs (HisLookups.writeObservations, idempotent on patient + LOINC + time + device). */
export interface ChartWriter {
  writeObservations(observations: Observation[]): Promise<number>;
}

export interface ChartingOptions {
  /** Chart every bound visit at least this often (default 15 minutes). */
  intervalMs?: number;
  /** How often to look for due visits and significant changes (default 30 s). */
  checkEveryMs?: number;
  /** A change at least this big (in the sign's unit) since the last charted value charts at once. */
  significantChange?: Partial<Record<VitalSign, number>>;
  /** Never chart one visit more often than this, even on significant changes (default 1 minute). */
  minIntervalMs?: number;
}

const DEFAULT_SIGNIFICANT: Partial<Record<VitalSign, number>> = {
  'heart-rate': 20,
  'respiratory-rate': 6,
  spo2: 3,
  'systolic-bp': 20,
  'diastolic-bp': 15,
  temperature: 0.6,
};

/** The signs the HIS chart takes (numeric; blood pressure goes as the 85354-9 panel). */
const CHARTED: VitalSign[] = ['heart-rate', 'respiratory-rate', 'spo2', 'temperature', 'systolic-bp', 'diastolic-bp'];

interface Latest {
  value: number;
  t: number;
  deviceId: string;
}

export class VitalsCharter {
  private readonly intervalMs: number;
  private readonly minIntervalMs: number;
  private readonly significant: Partial<Record<VitalSign, number>>;
  private timer?: NodeJS.Timeout;
  private running?: Promise<void>;
  readonly counters = { charted: 0, writes: 0, failures: 0 };

  constructor(
    private readonly service: IomtService,
    private readonly his: () => ChartWriter | undefined,
    private readonly options: ChartingOptions = {},
    private readonly log?: Logger,
  ) {
    this.intervalMs = options.intervalMs ?? 15 * 60_000;
    this.minIntervalMs = options.minIntervalMs ?? 60_000;
    this.significant = { ...DEFAULT_SIGNIFICANT, ...options.significantChange };
  }

  start(): void {
    this.timer ??= setInterval(() => void this.tick(), this.options.checkEveryMs ?? 30_000);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** Charts every visit that is due; resolves when written (or failed: retried at the next tick). */
  tick(now = Date.now()): Promise<void> {
    this.running ??= this.run(now).finally(() => (this.running = undefined));
    return this.running;
  }

  private latest(visitId: string, since: number): Partial<Record<VitalSign, Latest>> {
    const out: Partial<Record<VitalSign, Latest>> = {};
    for (const sign of CHARTED) {
      const col = SIGN_COLUMNS[sign];
      const row = this.service.db
        .prepare(`SELECT t, ${col} AS v, device_id AS d FROM readings WHERE visit_id = ? AND t > ? AND ${col} IS NOT NULL ORDER BY t DESC LIMIT 1`)
        .get(visitId, since) as { t: number; v: number; d: string } | undefined;
      if (row) out[sign] = { value: row.v, t: row.t, deviceId: row.d };
    }
    return out;
  }

  private async run(now: number): Promise<void> {
    const his = this.his();
    if (!his) return;
    const db = this.service.db;
    const charted = new Map<string, { lastT: number; lastValue: number; chartedAt: number }>();
    for (const r of db.prepare('SELECT visit_id, sign, last_t, last_value, charted_at FROM charting').all() as Array<{ visit_id: string; sign: string; last_t: number; last_value: string; charted_at: number }>) {
      charted.set(`${r.visit_id}|${r.sign}`, { lastT: r.last_t, lastValue: Number(r.last_value), chartedAt: r.charted_at });
    }
    const visits = new Map(this.service.registry.activeBindings().map((b) => [b.visitId, b]));
    for (const [visitId, binding] of visits) {
      const lastChartedAt = Math.max(0, ...CHARTED.map((s) => charted.get(`${visitId}|${s}`)?.chartedAt ?? 0));
      if (now - lastChartedAt < this.minIntervalMs) continue;
      const since = Math.max(binding.startedAt - 1, ...CHARTED.map((s) => charted.get(`${visitId}|${s}`)?.lastT ?? 0)) - this.intervalMs;
      const latest = this.latest(visitId, Math.max(0, since));
      const fresh = CHARTED.filter((s) => latest[s] && latest[s]!.t > (charted.get(`${visitId}|${s}`)?.lastT ?? 0));
      if (fresh.length === 0) continue;
      const due = now - lastChartedAt >= this.intervalMs;
      const changed = fresh.some((s) => {
        const before = charted.get(`${visitId}|${s}`);
        const threshold = this.significant[s];
        return !before || (threshold !== undefined && Math.abs(latest[s]!.value - before.lastValue) >= threshold);
      });
      if (!due && !changed) continue;
      const observations = this.toObservations(binding.patientId, visitId, [binding.ward, binding.bed].filter(Boolean).join('/') || undefined, latest, fresh);
      try {
        const inserted = await his.writeObservations(observations);
        this.counters.writes++;
        this.counters.charted += inserted;
        const upsert = db.prepare(
          'INSERT INTO charting (visit_id, sign, last_t, last_value, charted_at) VALUES (?, ?, ?, ?, ?) ON CONFLICT(visit_id, sign) DO UPDATE SET last_t = excluded.last_t, last_value = excluded.last_value, charted_at = excluded.charted_at',
        );
        db.transaction(() => {
          for (const s of fresh) upsert.run(visitId, s, latest[s]!.t, String(latest[s]!.value), now);
        })();
      } catch (err) {
        this.counters.failures++;
        this.log?.warn(`iomt charting: writing vitals of visit ${visitId} to the HIS failed (retried at the next check): ${(err as Error).message}`);
      }
    }
  }

  /** Canonical model observations; systolic and diastolic of one time go as the blood-pressure panel. */
  private toObservations(patientId: string, visitId: string, location: string | undefined, latest: Partial<Record<VitalSign, Latest>>, signs: VitalSign[]): Observation[] {
    const out: Observation[] = [];
    const sys = signs.includes('systolic-bp') ? latest['systolic-bp'] : undefined;
    const dia = signs.includes('diastolic-bp') ? latest['diastolic-bp'] : undefined;
    const base = (l: Latest) => ({ patientId, maLk: visitId, effectiveAt: toHospitalDateTime(new Date(l.t)), device: { id: l.deviceId }, ...(location ? { location } : {}), status: 'final' as const });
    for (const sign of signs) {
      if (sign === 'systolic-bp' || sign === 'diastolic-bp') continue;
      const l = latest[sign]!;
      const def = VITALS[sign];
      out.push({ ...base(l), loinc: def.coding.code, name: def.coding.display, value: l.value, unit: def.kind === 'quantity' ? def.unit : undefined });
    }
    if (sys && dia && sys.t === dia.t) {
      out.push({ ...base(sys), loinc: '85354-9', name: 'Blood pressure panel', components: [{ loinc: '8480-6', value: sys.value, unit: 'mm[Hg]' }, { loinc: '8462-4', value: dia.value, unit: 'mm[Hg]' }] });
    } else {
      for (const l of [sys && { sign: 'systolic-bp' as const, l: sys }, dia && { sign: 'diastolic-bp' as const, l: dia }]) {
        if (!l) continue;
        const def = VITALS[l.sign];
        out.push({ ...base(l.l), loinc: def.coding.code, name: def.coding.display, value: l.l.value, unit: 'mm[Hg]' });
      }
    }
    return out;
  }
}

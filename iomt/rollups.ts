// 1-minute rollups (count, sum, min, max, last) of each numeric sign per visit, for charts. Minutes still
// filling up live in memory and are merged into SQLite once they are over (plus one minute's grace for
// late readings); a reading for an already-merged minute is merged in the same transaction as the
// reading itself. The watermark W says "every minute before W is complete in the table", so after a
// crash the minutes from W on are recomputed exactly from the stored readings. To find those readings
// without scanning the table, a rowid mark R is kept: a reading timed ≥ W cannot have been stored
// before R (it would have been too far in the future then), so recovery reads rowid > R only.
import { getMeta, setMeta, NUMERIC_SIGNS, SIGN_COLUMNS, type IomtDatabase } from './db';
import type { VitalSign } from './vitals';

export const MINUTE = 60_000;

export interface Aggregate {
  n: number;
  sum: number;
  min: number;
  max: number;
  lastT: number;
  last: number;
}

export interface SeriesPoint {
  /** Bucket start (epoch ms). */
  t: number;
  n: number;
  mean: number;
  min: number;
  max: number;
  last: number;
}

const KEY_SEP = '\u0000';

function merge(into: Aggregate, t: number, v: number): void {
  into.n++;
  into.sum += v;
  if (v < into.min) into.min = v;
  if (v > into.max) into.max = v;
  if (t >= into.lastT) {
    into.lastT = t;
    into.last = v;
  }
}

export class Rollups {
  /** Open minutes: visit → sign → bucket start → aggregate (nested maps: no key strings per reading). */
  private readonly open = new Map<string, Map<VitalSign, Map<number, Aggregate>>>();
  /** Values of the transaction in progress, applied to `open` only once it committed. */
  private pending: Array<string | number> = [];
  private watermark: number;
  private rowidMark: number;
  /** (wall time, highest readings rowid) seen at recent ticks, to move the rowid mark forward. */
  private readonly rowidSamples: Array<[number, number]> = [];
  private readonly upsert;

  constructor(
    private readonly db: IomtDatabase,
    /** The service's future-timestamp limit (a reading is at most this far ahead of when it was stored). */
    private readonly maxFutureMs = 2 * 60_000,
  ) {
    this.upsert = db.prepare(
      `INSERT INTO rollups_1m (visit_id, sign, bucket, n, sum, min, max, last_t, last) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT(visit_id, sign, bucket) DO UPDATE SET
         n = n + excluded.n, sum = sum + excluded.sum, min = MIN(min, excluded.min), max = MAX(max, excluded.max),
         last = CASE WHEN excluded.last_t >= last_t THEN excluded.last ELSE last END, last_t = MAX(last_t, excluded.last_t)`,
    );
    this.watermark = Number(getMeta(db, 'rollup_watermark') ?? 0);
    this.rowidMark = Number(getMeta(db, 'rollup_rowid_mark') ?? 0);
    // Rowids restart from 1 only if the table was emptied (retention): the mark is then meaningless.
    if (this.maxRowid() < this.rowidMark) this.rowidMark = 0;
    this.recover();
  }

  /** Recomputes every minute from the watermark on from the readings table (exact after a crash). */
  private recover(): void {
    const from = this.watermark;
    const cols = NUMERIC_SIGNS.map((s) => SIGN_COLUMNS[s]);
    const agg = new Map<string, Aggregate>();
    const rows = this.db.prepare(`SELECT visit_id, t, ${cols.join(', ')} FROM readings WHERE rowid > ? AND t >= ?`).iterate(this.rowidMark, from) as Iterable<Record<string, number | string | null>>;
    for (const row of rows) {
      const t = row.t as number;
      const bucket = Math.floor(t / MINUTE) * MINUTE;
      for (const sign of NUMERIC_SIGNS) {
        const v = row[SIGN_COLUMNS[sign]];
        if (typeof v !== 'number') continue;
        const key = [row.visit_id, sign, bucket].join(KEY_SEP);
        const a = agg.get(key);
        if (a) merge(a, t, v);
        else agg.set(key, { n: 1, sum: v, min: v, max: v, lastT: t, last: v });
      }
    }
    this.db.transaction(() => {
      this.db.prepare('DELETE FROM rollups_1m WHERE bucket >= ?').run(from);
      for (const [key, a] of agg) {
        const [visit, sign, bucket] = key.split(KEY_SEP);
        this.upsert.run(visit, sign, Number(bucket), a.n, a.sum, a.min, a.max, a.lastT, a.last);
      }
    })();
  }

  /**
   * Called inside the readings transaction for each stored numeric value. A minute already merged into
   * the table is updated in the same transaction; otherwise the value waits for `commitPending`.
   */
  addInTransaction(visitId: string, sign: VitalSign, t: number, v: number): void {
    const bucket = Math.floor(t / MINUTE) * MINUTE;
    if (bucket < this.watermark) {
      this.upsert.run(visitId, sign, bucket, 1, v, v, v, t, v);
      return;
    }
    this.pending.push(visitId, sign, t, v);
  }

  /** The transaction committed: its values join the open minutes. */
  commitPending(): void {
    const p = this.pending;
    for (let i = 0; i < p.length; i += 4) {
      const visitId = p[i] as string;
      const sign = p[i + 1] as VitalSign;
      const t = p[i + 2] as number;
      const v = p[i + 3] as number;
      const bucket = Math.floor(t / MINUTE) * MINUTE;
      let bySign = this.open.get(visitId);
      if (!bySign) this.open.set(visitId, (bySign = new Map()));
      let byBucket = bySign.get(sign);
      if (!byBucket) bySign.set(sign, (byBucket = new Map()));
      const a = byBucket.get(bucket);
      if (a) merge(a, t, v);
      else byBucket.set(bucket, { n: 1, sum: v, min: v, max: v, lastT: t, last: v });
    }
    this.pending = [];
  }

  /** The transaction rolled back: forget its values. */
  discardPending(): void {
    this.pending = [];
  }

  /** Merges finished minutes into the table and advances the watermark. */
  tick(now = Date.now()): void {
    const next = Math.max(this.watermark, Math.floor(now / MINUTE) * MINUTE - MINUTE);
    const maxRowid = this.maxRowid();
    this.rowidSamples.push([now, maxRowid]);
    // Readings stored before (W - maxFuture - a minute's margin) cannot be timed ≥ W.
    let mark = maxRowid < this.rowidMark ? 0 : this.rowidMark;
    while (this.rowidSamples.length > 0 && this.rowidSamples[0][0] <= next - this.maxFutureMs - MINUTE) mark = Math.max(mark, this.rowidSamples.shift()![1]);
    if (next === this.watermark && this.open.size === 0 && mark === this.rowidMark) return;
    const done: Array<[string, VitalSign, number, Aggregate]> = [];
    for (const [visit, bySign] of this.open) {
      for (const [sign, byBucket] of bySign) {
        for (const [bucket, a] of byBucket) if (bucket < next) done.push([visit, sign, bucket, a]);
      }
    }
    this.db.transaction(() => {
      for (const [visit, sign, bucket, a] of done) this.upsert.run(visit, sign, bucket, a.n, a.sum, a.min, a.max, a.lastT, a.last);
      setMeta(this.db, 'rollup_watermark', String(next));
      setMeta(this.db, 'rollup_rowid_mark', String(mark));
    })();
    this.rowidMark = mark;
    for (const [visit, sign, bucket] of done) {
      const bySign = this.open.get(visit)!;
      const byBucket = bySign.get(sign)!;
      byBucket.delete(bucket);
      if (byBucket.size === 0) bySign.delete(sign);
      if (bySign.size === 0) this.open.delete(visit);
    }
    this.watermark = next;
  }

  private maxRowid(): number {
    return (this.db.prepare('SELECT MAX(rowid) AS r FROM readings').get() as { r: number | null }).r ?? 0;
  }

  /** Everything, including the minute in progress (shutdown). */
  flushAll(): void {
    this.tick(Date.now() + 3 * MINUTE);
  }

  /** Downsampled series: `resolutionMs` a multiple of one minute. */
  series(visitId: string, sign: VitalSign, from: number, to: number, resolutionMs: number): SeriesPoint[] {
    const res = Math.max(MINUTE, Math.round(resolutionMs / MINUTE) * MINUTE);
    const buckets = new Map<number, Aggregate>();
    const add = (bucket: number, a: Aggregate) => {
      const b = Math.floor(bucket / res) * res;
      const cur = buckets.get(b);
      if (!cur) buckets.set(b, { ...a });
      else {
        cur.n += a.n;
        cur.sum += a.sum;
        cur.min = Math.min(cur.min, a.min);
        cur.max = Math.max(cur.max, a.max);
        if (a.lastT >= cur.lastT) (cur.lastT = a.lastT), (cur.last = a.last);
      }
    };
    const rows = this.db
      .prepare('SELECT bucket, n, sum, min, max, last_t AS lastT, last FROM rollups_1m WHERE visit_id = ? AND sign = ? AND bucket >= ? AND bucket < ? ORDER BY bucket')
      .all(visitId, sign, Math.floor(from / MINUTE) * MINUTE, to) as Array<Aggregate & { bucket: number }>;
    for (const r of rows) add(r.bucket, r);
    const fromBucket = Math.floor(from / MINUTE) * MINUTE;
    for (const [bucket, a] of this.open.get(visitId)?.get(sign) ?? []) {
      if (bucket >= fromBucket && bucket < to) add(bucket, a);
    }
    return [...buckets.entries()]
      .sort((a, b) => a[0] - b[0])
      .map(([t, a]) => ({ t, n: a.n, mean: Math.round((a.sum / a.n) * 100) / 100, min: a.min, max: a.max, last: a.last }));
  }
}

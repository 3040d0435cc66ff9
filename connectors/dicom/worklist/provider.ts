// The worklist as the SCP serves it: a snapshot of the HIS's scheduled imaging orders (with their
// patients) over a window of days, refreshed every `cacheSeconds` in the background and indexed by
// accession number, patient id, station AE and date, so a C-FIND touches only plausible items
// before full K.6-1 matching. With `cacheSeconds: 0`, or a query outside the window, the HIS is
// asked directly with the query's exact keys pushed down.
import { fromHospitalParts, hospitalParts, toHospitalDateTime } from '../../../model/datetime';
import type { ImagingHis, ImagingOrder, Patient, WorklistFilter } from '../his-port';
import { toWorklistEntry, type WorklistEntry } from './items';
import { isUniversal, matchesIdentifier, textValue, type Naturalized } from './matching';

export interface WorklistProviderOptions {
  cacheSeconds: number;
  maxStaleSeconds: number;
  daysBefore: number;
  daysAfter: number;
  /** Clock, for tests. */
  now?: () => Date;
}

interface Snapshot {
  takenAt: number;
  fromDate: string;
  toDate: string;
  entries: WorklistEntry[];
  byAccession: Map<string, WorklistEntry[]>;
  byPatient: Map<string, WorklistEntry[]>;
  byStation: Map<string, WorklistEntry[]>;
  byStationDate: Map<string, WorklistEntry[]>;
  byDate: Map<string, WorklistEntry[]>;
  dates: string[];
}

const pad = (n: number) => String(n).padStart(2, '0');

function yyyymmdd(d: Date): string {
  const p = hospitalParts(d);
  return `${p.year}${pad(p.month)}${pad(p.day)}`;
}

export class WorklistProvider {
  private snapshot?: Snapshot;
  private refreshing?: Promise<Snapshot>;
  private readonly now: () => Date;

  constructor(
    private readonly his: () => ImagingHis | undefined,
    private readonly options: WorklistProviderOptions,
  ) {
    this.now = options.now ?? (() => new Date());
  }

  /** Items matching a naturalized C-FIND identifier. */
  async find(query: Naturalized): Promise<WorklistEntry[]> {
    const sps = firstItem(query.ScheduledProcedureStepSequence);
    const dateKey = textValue(sps?.ScheduledProcedureStepStartDate);
    const snapshot = this.options.cacheSeconds > 0 ? await this.currentSnapshot() : undefined;
    if (snapshot && dateCovered(dateKey, snapshot)) return this.findIn(snapshot, query, dateKey, sps);
    return this.findDirect(query, dateKey, sps);
  }

  /** Drops the snapshot (tests, and after the HIS says an order changed). */
  invalidate(): void {
    this.snapshot = undefined;
  }

  private async currentSnapshot(): Promise<Snapshot> {
    const s = this.snapshot;
    const age = s ? (Date.now() - s.takenAt) / 1000 : Infinity;
    if (s && age < this.options.cacheSeconds) return s;
    const refresh = this.refresh();
    if (s && age < this.options.maxStaleSeconds) {
      refresh.catch(() => undefined); // served stale; the next query sees the refreshed one
      return s;
    }
    return refresh;
  }

  private refresh(): Promise<Snapshot> {
    if (!this.refreshing) {
      this.refreshing = this.load().finally(() => (this.refreshing = undefined));
    }
    return this.refreshing;
  }

  /** [today − daysBefore, today + daysAfter] in hospital time. */
  private window(): { from: string; to: string; fromDate: string; toDate: string } {
    const today = hospitalParts(this.now());
    const from = fromHospitalParts(today.year, today.month, today.day - this.options.daysBefore);
    const to = fromHospitalParts(today.year, today.month, today.day + this.options.daysAfter + 1);
    return { from: toHospitalDateTime(from), to: toHospitalDateTime(to), fromDate: yyyymmdd(from), toDate: yyyymmdd(new Date(to.getTime() - 1)) };
  }

  private async load(): Promise<Snapshot> {
    const w = this.window();
    const entries = await this.loadEntries({ from: w.from, to: w.to });
    const snapshot = index(entries, w.fromDate, w.toDate);
    this.snapshot = snapshot;
    return snapshot;
  }

  private async loadEntries(filter: WorklistFilter): Promise<WorklistEntry[]> {
    const his = this.his();
    if (!his) throw new Error("no HIS service is registered (service 'his'): the worklist cannot be built");
    // The HIS connector caps a query at 1,000 rows unless told otherwise: a snapshot needs them all.
    const orders = await his.scheduledImagingOrders({ statuses: ['scheduled', 'arrived'], limit: 100_000, ...filter });
    const patients = await this.patients(his, orders);
    return orders.map((o) => toWorklistEntry(o, patients.get(o.patientId)));
  }

  private async patients(his: ImagingHis, orders: ImagingOrder[]): Promise<Map<string, Patient | undefined>> {
    const ids = [...new Set(orders.map((o) => o.patientId))];
    const out = new Map<string, Patient | undefined>();
    // A bounded number of lookups in flight: a large worklist must not open hundreds of queries at once.
    const width = 16;
    for (let i = 0; i < ids.length; i += width) {
      const slice = ids.slice(i, i + width);
      const found = await Promise.all(slice.map((id) => his.patientById(id)));
      slice.forEach((id, j) => out.set(id, found[j]));
    }
    return out;
  }

  private findIn(snapshot: Snapshot, query: Naturalized, dateKey: string, sps: Naturalized | undefined): WorklistEntry[] {
    const candidates = this.candidates(snapshot, query, dateKey, sps);
    return candidates.filter((e) => matchesIdentifier(query, e.item));
  }

  private candidates(s: Snapshot, query: Naturalized, dateKey: string, sps: Naturalized | undefined): WorklistEntry[] {
    const accession = exactKey(query.AccessionNumber);
    if (accession !== undefined) return s.byAccession.get(accession) ?? [];
    const patientId = exactKey(query.PatientID);
    if (patientId !== undefined) return s.byPatient.get(patientId) ?? [];
    const station = exactKey(sps?.ScheduledStationAETitle);
    const singleDate = dateKey && /^\d{8}$/.test(dateKey) ? dateKey : undefined;
    if (station !== undefined && singleDate) return s.byStationDate.get(`${station}|${singleDate}`) ?? [];
    if (station !== undefined) return s.byStation.get(station) ?? [];
    if (dateKey && !dateKey.includes('*')) {
      if (!dateKey.includes('-')) return s.byDate.get(dateKey.replace(/[.]/g, '')) ?? [];
      const [lo, hi] = dateKey.split('-');
      const out: WorklistEntry[] = [];
      for (const d of s.dates) if ((!lo || d >= lo) && (!hi || d <= hi)) out.push(...(s.byDate.get(d) ?? []));
      return out;
    }
    return s.entries;
  }

  private async findDirect(query: Naturalized, dateKey: string, sps: Naturalized | undefined): Promise<WorklistEntry[]> {
    const filter: WorklistFilter = {};
    const accession = exactKey(query.AccessionNumber);
    if (accession !== undefined) filter.accessionNumber = accession;
    const patientId = exactKey(query.PatientID);
    if (patientId !== undefined) filter.patientId = patientId;
    const station = exactKey(sps?.ScheduledStationAETitle);
    if (station !== undefined) filter.stationAeTitle = station;
    const modality = exactKey(sps?.Modality);
    if (modality !== undefined) filter.modality = modality;
    // No date asked: the same window the snapshot covers, so both modes answer alike.
    const range = dateRange(dateKey) ?? this.window();
    filter.from = range.from;
    filter.to = range.to;
    const entries = await this.loadEntries(filter);
    return entries.filter((e) => matchesIdentifier(query, e.item));
  }
}

function firstItem(value: unknown): Naturalized | undefined {
  return Array.isArray(value) && value.length > 0 && typeof value[0] === 'object' ? (value[0] as Naturalized) : undefined;
}

/** A single exact key value (no wildcard), or undefined when the key is universal or a pattern. */
function exactKey(value: unknown): string | undefined {
  if (isUniversal(value)) return undefined;
  const text = textValue(value);
  if (text.includes('*') || text.includes('?') || text.includes('\\')) return undefined;
  return text;
}

function dateCovered(dateKey: string, s: Snapshot): boolean {
  if (!dateKey) return true; // no date: the snapshot window is "the worklist"
  const [lo, hi] = dateKey.includes('-') ? dateKey.split('-') : [dateKey, dateKey];
  if (!lo || !hi) return false; // open-ended ranges reach outside any window
  return lo >= s.fromDate && hi <= s.toDate;
}

function dateRange(dateKey: string): { from: string; to: string } | undefined {
  if (!dateKey) return undefined;
  const [lo, hi] = dateKey.includes('-') ? dateKey.split('-') : [dateKey, dateKey];
  const parse = (d: string, end: boolean) => {
    const day = fromHospitalParts(Number(d.slice(0, 4)), Number(d.slice(4, 6)), Number(d.slice(6, 8)) + (end ? 1 : 0));
    return toHospitalDateTime(day);
  };
  return {
    from: lo ? parse(lo, false) : '1900-01-01T00:00:00+07:00',
    to: hi ? parse(hi, true) : '2999-01-01T00:00:00+07:00',
  };
}

function index(entries: WorklistEntry[], fromDate: string, toDate: string): Snapshot {
  const add = (map: Map<string, WorklistEntry[]>, key: string, e: WorklistEntry) => {
    const list = map.get(key);
    if (list) list.push(e);
    else map.set(key, [e]);
  };
  const s: Snapshot = {
    takenAt: Date.now(),
    fromDate,
    toDate,
    entries,
    byAccession: new Map(),
    byPatient: new Map(),
    byStation: new Map(),
    byStationDate: new Map(),
    byDate: new Map(),
    dates: [],
  };
  for (const e of entries) {
    add(s.byAccession, e.accessionNumber, e);
    add(s.byPatient, e.patientId, e);
    add(s.byStation, e.stationAeTitle, e);
    add(s.byStationDate, `${e.stationAeTitle}|${e.date}`, e);
    add(s.byDate, e.date, e);
  }
  s.dates = [...s.byDate.keys()].sort();
  return s;
}

// Devices and their bindings to patient visits. A binding is a time interval [startedAt, endedAt): a
// reading belongs to the visit whose binding covers the reading's own timestamp, so a late reading
// taken before a device changed patients still goes to the earlier patient, and a reading from before
// the first binding (or after an unbind) is held unassigned. Intervals of one device never overlap.
import type { IomtDatabase } from './db';

export type BindMode = 'manual' | 'bed';
export type DeviceStatus = 'registered' | 'discovered' | 'retired';
export type BindingSource = 'api' | 'console' | 'his-bed';

export interface Device {
  id: string;
  name?: string;
  model?: string;
  site?: string;
  ward?: string;
  bed?: string;
  bindMode: BindMode;
  status: DeviceStatus;
  /** Technical alert when a bound device sends nothing for this long (default from the service config). */
  silentAfterMs?: number;
  /** Per-device message rate limit (default from the service config). */
  ratePerSecond?: number;
  createdAt: number;
  updatedAt: number;
  lastSeenAt?: number;
  lastTopic?: string;
}

export interface Binding {
  id: number;
  deviceId: string;
  visitId: string;
  patientId: string;
  patientName?: string;
  site?: string;
  ward?: string;
  bed?: string;
  source: BindingSource;
  startedAt: number;
  endedAt?: number;
  endedReason?: string;
  createdBy?: string;
}

export interface DeviceInput {
  id: string;
  name?: string;
  model?: string;
  site?: string;
  ward?: string;
  bed?: string;
  bindMode?: BindMode;
  silentAfterMs?: number | null;
  ratePerSecond?: number | null;
}

export interface BindRequest {
  deviceId: string;
  visitId: string;
  patientId: string;
  patientName?: string;
  /** Start of the binding (default now). */
  from?: number;
  source?: BindingSource;
  by?: string;
  /** End the device's current binding to another visit at `from` instead of refusing. */
  replace?: boolean;
}

/** A patient placed in (or removed from) a bed, as the HIS reports it. */
export interface BedAssignment {
  visitId: string;
  patientId: string;
  patientName?: string;
  site?: string;
  ward: string;
  bed: string;
  /** `assign`: the patient is in this bed from `at` (admission or transfer in); `release`: the patient left the bed (discharge, transfer out). */
  event: 'assign' | 'release';
  at: number;
  by?: string;
}

export class BindingError extends Error {
  constructor(
    message: string,
    readonly status: 400 | 404 | 409 = 409,
  ) {
    super(message);
    this.name = 'BindingError';
  }
}

interface DeviceRow {
  id: string;
  name: string | null;
  model: string | null;
  site: string | null;
  ward: string | null;
  bed: string | null;
  bind_mode: BindMode;
  status: DeviceStatus;
  silent_after_ms: number | null;
  rate_per_s: number | null;
  created_at: number;
  updated_at: number;
  last_seen_at: number | null;
  last_topic: string | null;
}

interface BindingRow {
  id: number;
  device_id: string;
  visit_id: string;
  patient_id: string;
  patient_name: string | null;
  site: string | null;
  ward: string | null;
  bed: string | null;
  source: BindingSource;
  started_at: number;
  ended_at: number | null;
  ended_reason: string | null;
  created_by: string | null;
}

const iso = (t: number) => new Date(t).toISOString();
const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function toDevice(r: DeviceRow): Device {
  return {
    id: r.id,
    name: opt(r.name),
    model: opt(r.model),
    site: opt(r.site),
    ward: opt(r.ward),
    bed: opt(r.bed),
    bindMode: r.bind_mode,
    status: r.status,
    silentAfterMs: opt(r.silent_after_ms),
    ratePerSecond: opt(r.rate_per_s),
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    lastSeenAt: opt(r.last_seen_at),
    lastTopic: opt(r.last_topic),
  };
}

function toBinding(r: BindingRow): Binding {
  return {
    id: r.id,
    deviceId: r.device_id,
    visitId: r.visit_id,
    patientId: r.patient_id,
    patientName: opt(r.patient_name),
    site: opt(r.site),
    ward: opt(r.ward),
    bed: opt(r.bed),
    source: r.source,
    startedAt: r.started_at,
    endedAt: opt(r.ended_at),
    endedReason: opt(r.ended_reason),
    createdBy: opt(r.created_by),
  };
}

export type BindingChange = { type: 'bound' | 'unbound'; binding: Binding };

/** Registry of devices and bindings, cached in memory (readings are resolved without a query). */
export class DeviceRegistry {
  private readonly devices = new Map<string, Device>();
  /** Bindings per device, oldest first. */
  private readonly bindings = new Map<string, Binding[]>();
  private readonly dirtySeen = new Set<string>();
  readonly listeners: Array<(change: BindingChange) => void> = [];

  constructor(private readonly db: IomtDatabase) {
    for (const r of db.prepare('SELECT * FROM devices').all() as DeviceRow[]) this.devices.set(r.id, toDevice(r));
    for (const r of db.prepare('SELECT * FROM bindings ORDER BY device_id, started_at, id').all() as BindingRow[]) {
      const list = this.bindings.get(r.device_id) ?? [];
      list.push(toBinding(r));
      this.bindings.set(r.device_id, list);
    }
  }

  // ------------------------------------------------------------------ devices

  device(id: string): Device | undefined {
    return this.devices.get(id);
  }

  listDevices(filter: { ward?: string; status?: DeviceStatus } = {}): Device[] {
    return [...this.devices.values()]
      .filter((d) => (!filter.ward || d.ward === filter.ward) && (!filter.status || d.status === filter.status))
      .sort((a, b) => a.id.localeCompare(b.id));
  }

  upsertDevice(input: DeviceInput, now = Date.now()): Device {
    const existing = this.devices.get(input.id);
    const device: Device = {
      ...(existing ?? { id: input.id, bindMode: 'manual', status: 'registered', createdAt: now, updatedAt: now }),
      ...definedOnly({ name: input.name, model: input.model, site: input.site, ward: input.ward, bed: input.bed, bindMode: input.bindMode }),
      status: existing?.status === 'retired' ? 'retired' : 'registered',
      updatedAt: now,
    };
    if (input.silentAfterMs !== undefined) device.silentAfterMs = input.silentAfterMs ?? undefined;
    if (input.ratePerSecond !== undefined) device.ratePerSecond = input.ratePerSecond ?? undefined;
    this.writeDevice(device);
    return device;
  }

  /** A device that sent data before anyone registered it: recorded so an operator can bind it. */
  discover(id: string, location: { site?: string; ward?: string; bed?: string; topic?: string }, now: number): Device {
    const existing = this.devices.get(id);
    if (existing) return existing;
    const device: Device = { id, site: location.site, ward: location.ward, bed: location.bed, bindMode: 'manual', status: 'discovered', createdAt: now, updatedAt: now, lastTopic: location.topic };
    this.writeDevice(device);
    return device;
  }

  retireDevice(id: string, now = Date.now()): Device {
    const device = this.requireDevice(id);
    if (this.openBinding(id)) this.unbind(id, { at: now, reason: 'device retired' });
    device.status = 'retired';
    device.updatedAt = now;
    this.writeDevice(device);
    return device;
  }

  private writeDevice(d: Device): void {
    this.db
      .prepare(
        `INSERT INTO devices (id, name, model, site, ward, bed, bind_mode, status, silent_after_ms, rate_per_s, created_at, updated_at, last_seen_at, last_topic)
         VALUES (@id, @name, @model, @site, @ward, @bed, @bindMode, @status, @silentAfterMs, @ratePerSecond, @createdAt, @updatedAt, @lastSeenAt, @lastTopic)
         ON CONFLICT(id) DO UPDATE SET name=excluded.name, model=excluded.model, site=excluded.site, ward=excluded.ward, bed=excluded.bed,
           bind_mode=excluded.bind_mode, status=excluded.status, silent_after_ms=excluded.silent_after_ms, rate_per_s=excluded.rate_per_s,
           updated_at=excluded.updated_at, last_seen_at=COALESCE(excluded.last_seen_at, devices.last_seen_at), last_topic=COALESCE(excluded.last_topic, devices.last_topic)`,
      )
      .run({
        id: d.id,
        name: d.name ?? null,
        model: d.model ?? null,
        site: d.site ?? null,
        ward: d.ward ?? null,
        bed: d.bed ?? null,
        bindMode: d.bindMode,
        status: d.status,
        silentAfterMs: d.silentAfterMs ?? null,
        ratePerSecond: d.ratePerSecond ?? null,
        createdAt: d.createdAt,
        updatedAt: d.updatedAt,
        lastSeenAt: d.lastSeenAt ?? null,
        lastTopic: d.lastTopic ?? null,
      });
    this.devices.set(d.id, d);
  }

  /** Notes that a device sent data (kept in memory; flushed by `flushLastSeen`). */
  touch(id: string, t: number, topic?: string): void {
    const d = this.devices.get(id);
    if (!d) return;
    if (!d.lastSeenAt || t > d.lastSeenAt) d.lastSeenAt = t;
    if (topic) d.lastTopic = topic;
    this.dirtySeen.add(id);
  }

  flushLastSeen(): void {
    if (this.dirtySeen.size === 0) return;
    const stmt = this.db.prepare('UPDATE devices SET last_seen_at = ?, last_topic = ? WHERE id = ?');
    const ids = [...this.dirtySeen];
    this.dirtySeen.clear();
    this.db.transaction(() => {
      for (const id of ids) {
        const d = this.devices.get(id);
        if (d) stmt.run(d.lastSeenAt ?? null, d.lastTopic ?? null, id);
      }
    })();
  }

  private requireDevice(id: string): Device {
    const d = this.devices.get(id);
    if (!d) throw new BindingError(`device "${id}" is not registered`, 404);
    return d;
  }

  // ------------------------------------------------------------------ bindings

  /** The binding covering time t, if any. */
  bindingAt(deviceId: string, t: number): Binding | undefined {
    const list = this.bindings.get(deviceId);
    if (!list) return undefined;
    for (let i = list.length - 1; i >= 0; i--) {
      const b = list[i];
      if (b.startedAt <= t) return b.endedAt === undefined || t < b.endedAt ? b : undefined;
    }
    return undefined;
  }

  /** Why a reading at t has no binding, in words an operator can act on. */
  whyUnbound(deviceId: string, t: number): string {
    const d = this.devices.get(deviceId);
    if (!d) return `device ${deviceId} is not registered`;
    if (d.status === 'retired') return `device ${deviceId} is retired`;
    const list = this.bindings.get(deviceId) ?? [];
    if (list.length === 0) return `device ${deviceId} is not bound to any visit`;
    const before = [...list].reverse().find((b) => b.startedAt <= t);
    if (!before) return `device ${deviceId} was not bound at ${iso(t)} (first binding starts ${iso(list[0].startedAt)})`;
    return `device ${deviceId} was not bound at ${iso(t)} (binding to visit ${before.visitId} ended ${iso(before.endedAt!)}${before.endedReason ? `: ${before.endedReason}` : ''})`;
  }

  openBinding(deviceId: string): Binding | undefined {
    const list = this.bindings.get(deviceId);
    const last = list?.[list.length - 1];
    return last && last.endedAt === undefined ? last : undefined;
  }

  listBindings(filter: { deviceId?: string; visitId?: string; activeOnly?: boolean } = {}): Binding[] {
    const all = filter.deviceId ? (this.bindings.get(filter.deviceId) ?? []) : [...this.bindings.values()].flat();
    return all
      .filter((b) => (!filter.visitId || b.visitId === filter.visitId) && (!filter.activeOnly || b.endedAt === undefined))
      .sort((a, b) => b.startedAt - a.startedAt);
  }

  activeBindings(): Binding[] {
    return this.listBindings({ activeOnly: true });
  }

  bind(req: BindRequest, now = Date.now()): Binding {
    const device = this.requireDevice(req.deviceId);
    if (device.status === 'retired') throw new BindingError(`device ${req.deviceId} is retired`, 409);
    if (!req.visitId || !req.patientId) throw new BindingError('visitId and patientId are required', 400);
    const from = req.from ?? now;
    const list = this.bindings.get(req.deviceId) ?? [];
    const open = this.openBinding(req.deviceId);
    if (open && open.visitId === req.visitId) {
      if (open.patientId !== req.patientId) throw new BindingError(`visit ${req.visitId} is bound with patient ${open.patientId}, not ${req.patientId}`, 409);
      return open; // already bound: repeating a bind is harmless
    }
    const last = list[list.length - 1];
    if (last && from < last.startedAt) {
      throw new BindingError(`binding start ${iso(from)} is before the device's latest binding (visit ${last.visitId} from ${iso(last.startedAt)})`, 409);
    }
    if (last && last.endedAt !== undefined && from < last.endedAt) {
      throw new BindingError(`binding start ${iso(from)} overlaps the binding to visit ${last.visitId} that ended ${iso(last.endedAt)}`, 409);
    }
    return this.db.transaction(() => {
      if (open) {
        if (!req.replace) throw new BindingError(`device ${req.deviceId} is bound to visit ${open.visitId} since ${iso(open.startedAt)}: unbind it first (or bind with replace)`, 409);
        this.endBinding(open, from, `replaced by a binding to visit ${req.visitId}`);
      }
      if (device.status === 'discovered') {
        device.status = 'registered';
        device.updatedAt = now;
        this.writeDevice(device);
      }
      const row = {
        device_id: req.deviceId,
        visit_id: req.visitId,
        patient_id: req.patientId,
        patient_name: req.patientName ?? null,
        site: device.site ?? null,
        ward: device.ward ?? null,
        bed: device.bed ?? null,
        source: req.source ?? 'api',
        started_at: from,
        created_by: req.by ?? null,
        created_at: now,
      };
      const info = this.db
        .prepare(
          `INSERT INTO bindings (device_id, visit_id, patient_id, patient_name, site, ward, bed, source, started_at, created_by, created_at)
           VALUES (@device_id, @visit_id, @patient_id, @patient_name, @site, @ward, @bed, @source, @started_at, @created_by, @created_at)`,
        )
        .run(row);
      const binding = toBinding({ ...row, id: Number(info.lastInsertRowid), ended_at: null, ended_reason: null });
      list.push(binding);
      this.bindings.set(req.deviceId, list);
      this.emit({ type: 'bound', binding });
      return binding;
    })();
  }

  unbind(deviceId: string, options: { at?: number; reason?: string; by?: string } = {}): Binding {
    this.requireDevice(deviceId);
    const open = this.openBinding(deviceId);
    if (!open) throw new BindingError(`device ${deviceId} is not bound`, 409);
    const at = options.at ?? Date.now();
    if (at < open.startedAt) throw new BindingError(`unbind time ${iso(at)} is before the binding started (${iso(open.startedAt)})`, 409);
    this.endBinding(open, at, options.reason ?? (options.by ? `unbound by ${options.by}` : 'unbound'));
    return open;
  }

  private endBinding(b: Binding, at: number, reason: string): void {
    this.db.prepare('UPDATE bindings SET ended_at = ?, ended_reason = ? WHERE id = ?').run(at, reason, b.id);
    b.endedAt = at;
    b.endedReason = reason;
    this.emit({ type: 'unbound', binding: b });
  }

  /**
   * Follows the HIS: devices in bed-binding mode at the bed are bound to the visit placed there (and
   * unbound from whoever was there before); a release ends the visit's bed bindings. Repeating an
   * assignment changes nothing, so a HIS poll can send the current state every time.
   */
  applyBedAssignment(a: BedAssignment, now = Date.now()): { bound: Binding[]; unbound: Binding[] } {
    const bound: Binding[] = [];
    const unbound: Binding[] = [];
    const sameBed = (d: Device) => d.bindMode === 'bed' && d.status !== 'retired' && d.ward === a.ward && d.bed === a.bed && (!a.site || !d.site || d.site === a.site);
    return this.db.transaction(() => {
      this.db
        .prepare(
          `INSERT INTO visits (visit_id, patient_id, patient_name, site, ward, bed, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)
           ON CONFLICT(visit_id) DO UPDATE SET patient_id=excluded.patient_id, patient_name=COALESCE(excluded.patient_name, visits.patient_name),
             site=excluded.site, ward=excluded.ward, bed=excluded.bed, updated_at=excluded.updated_at`,
        )
        .run(a.visitId, a.patientId, a.patientName ?? null, a.site ?? null, a.event === 'assign' ? a.ward : null, a.event === 'assign' ? a.bed : null, now);
      // The visit's bed bindings elsewhere end: the patient left those beds.
      for (const b of this.activeBindings()) {
        if (b.visitId !== a.visitId || b.source !== 'his-bed') continue;
        const d = this.devices.get(b.deviceId);
        const stays = a.event === 'assign' && d && sameBed(d);
        if (!stays) {
          const at = Math.max(a.at, b.startedAt);
          this.endBinding(b, at, a.event === 'release' ? `patient left ${a.ward}/${a.bed} (HIS)` : `patient moved to ${a.ward}/${a.bed} (HIS)`);
          unbound.push(b);
        }
      }
      if (a.event === 'assign') {
        for (const d of this.devices.values()) {
          if (!sameBed(d)) continue;
          const open = this.openBinding(d.id);
          if (open?.visitId === a.visitId) continue;
          if (open && a.at < open.startedAt) continue; // an older HIS event than the binding in force: ignore
          if (open) {
            this.endBinding(open, a.at, `bed ${a.ward}/${a.bed} assigned to visit ${a.visitId} (HIS)`);
            unbound.push(open);
          }
          const last = (this.bindings.get(d.id) ?? []).at(-1);
          if (last && last.endedAt !== undefined && a.at < last.endedAt) continue;
          bound.push(this.bind({ deviceId: d.id, visitId: a.visitId, patientId: a.patientId, patientName: a.patientName, from: a.at, source: 'his-bed', by: a.by ?? 'his' }, now));
        }
      }
      return { bound, unbound };
    })();
  }

  private emit(change: BindingChange): void {
    for (const l of this.listeners) l(change);
  }
}

function definedOnly<T extends Record<string, unknown>>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}

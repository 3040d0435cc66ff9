// Device vocabulary → canonical observations. Every measurement is mapped to the catalogue (LOINC + UCUM),
// converted to the canonical unit, rounded to device resolution and checked for plausibility. A bad
// measurement is rejected with its reason; the rest of the message still counts.
import { VitalsInputError, type DeviceMessage, type NormalisedMessage, type RejectedMeasurement, type VitalObservation } from './types';
import {
  ACVPU_VALUES,
  LOCAL,
  LOINC,
  VITALS,
  normaliseSystem,
  roundToResolution,
  toCanonicalUnit,
  vitalForCode,
  type Acvpu,
  type Coding,
  type VitalSign,
} from './vitals';

/** Hospital local time (Vietnam, UTC+7, no DST) for device times sent without an offset. */
const DEFAULT_OFFSET = '+07:00';

export interface NormaliseOptions {
  /** Now, for the future-timestamp check. */
  now?: number;
  /** A reading more than this far in the future is rejected (device clock wrong). Default 2 minutes. */
  maxFutureMs?: number;
  /** A reading older than this is rejected as too late. Default 24 hours. */
  maxAgeMs?: number;
}

/** Parses ISO 8601 (offset optional: UTC+7 assumed), HL7 TS (YYYYMMDDHHMMSS[.S][±ZZZZ]) or Unix s/ms. */
export function parseDeviceTime(value: string | number): number | undefined {
  if (typeof value === 'number') {
    if (!Number.isFinite(value) || value <= 0) return undefined;
    return value < 1e11 ? Math.round(value * 1000) : Math.round(value);
  }
  const s = value.trim();
  const hl7 = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(\.\d{1,4})?([+-]\d{4})?$/.exec(s);
  if (hl7) {
    const [, y, mo, d, h, mi, sec = '00', frac = '', tz] = hl7;
    const offset = tz ? `${tz.slice(0, 3)}:${tz.slice(3)}` : DEFAULT_OFFSET;
    const ms = frac ? frac.slice(1).padEnd(3, '0').slice(0, 3) : '000';
    return checkedDate(`${y}-${mo}-${d}T${h}:${mi}:${sec}.${ms}${offset}`);
  }
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(s)) return undefined;
  const hasOffset = /(Z|[+-]\d{2}:?\d{2})$/.test(s);
  return checkedDate(hasOffset ? s : s + DEFAULT_OFFSET);
}

function checkedDate(iso: string): number | undefined {
  const t = Date.parse(iso);
  return Number.isNaN(t) ? undefined : t;
}

export function normaliseDeviceMessage(message: DeviceMessage, options: NormaliseOptions = {}): NormalisedMessage {
  const now = options.now ?? Date.now();
  const maxFuture = options.maxFutureMs ?? 2 * 60_000;
  const maxAge = options.maxAgeMs ?? 24 * 3600_000;

  let messageTime: number | undefined;
  if (message.time !== undefined) {
    messageTime = parseDeviceTime(message.time);
    if (messageTime === undefined) throw new VitalsInputError(`time: cannot read ${JSON.stringify(message.time)} as ISO 8601, HL7 TS or Unix time`, 'time');
  }

  const observations: VitalObservation[] = [];
  const rejected: RejectedMeasurement[] = [];
  for (const m of message.measurements) {
    const out = normaliseMeasurement(m, messageTime, now, maxFuture, maxAge);
    if ('reason' in out) rejected.push(out);
    else observations.push(out);
  }
  crossCheckBloodPressure(observations, rejected);
  deriveOxygenFromFlow(observations);

  const latest = observations.reduce((t, o) => Math.max(t, o.t), messageTime ?? 0);
  if (latest === 0 && messageTime === undefined) {
    throw new VitalsInputError('time: the message has no timestamp and no measurement carries one', 'time');
  }
  const time = messageTime ?? latest;
  // Devices without message ids are deduplicated on their timestamp (a re-send repeats it).
  const messageId = message.messageId ?? `t:${time}`;
  return {
    format: message.format,
    deviceId: message.deviceId,
    messageId,
    patientId: message.patientId,
    time: isoOf(time),
    observations,
    rejected,
  };
}

function rejectMeasurement(m: DeviceMessage['measurements'][number], sign: VitalSign | undefined, kind: RejectedMeasurement['kind'], reason: string): RejectedMeasurement {
  const r: RejectedMeasurement = { path: m.path, kind, code: m.system ? `${m.system}|${m.code}` : m.code, value: m.value, unit: m.unit, reason: `${m.path}: ${reason}` };
  if (sign) r.sign = sign;
  return r;
}

// Catalogue codings per sign, built once (observations share them unless the device used another code).
const CATALOGUE_CODINGS = new Map<VitalSign, Coding[]>(Object.values(VITALS).map((d) => [d.sign, [d.coding, ...d.extraCodings]]));

/** ISO strings of recent instants: a message's measurements mostly share one time. */
let isoCacheT = -1;
let isoCacheValue = '';
function isoOf(t: number): string {
  if (t !== isoCacheT) {
    isoCacheT = t;
    isoCacheValue = new Date(t).toISOString();
  }
  return isoCacheValue;
}

// Hot path (thousands of measurements a second): no closures, no spreads.
function normaliseMeasurement(
  m: DeviceMessage['measurements'][number],
  messageTime: number | undefined,
  now: number,
  maxFuture: number,
  maxAge: number,
): VitalObservation | RejectedMeasurement {
  const sign = vitalForCode(m.system, m.code);
  if (!sign) return rejectMeasurement(m, undefined, 'unknown-code', `unknown code "${m.code}"${m.system ? ` in system ${m.system}` : ''}${m.label ? ` (${m.label})` : ''}`);
  const def = VITALS[sign];

  let t = messageTime;
  if (m.time !== undefined) {
    t = parseDeviceTime(m.time);
    if (t === undefined) return rejectMeasurement(m, sign, 'time', `cannot read time ${JSON.stringify(m.time)}`);
  }
  if (t === undefined) return rejectMeasurement(m, sign, 'time', 'no timestamp (neither the measurement nor the message has one)');
  if (t > now + maxFuture) return rejectMeasurement(m, sign, 'time', `timestamp ${new Date(t).toISOString()} is ${Math.round((t - now) / 1000)} s in the future (device clock?)`);
  if (t < now - maxAge) return rejectMeasurement(m, sign, 'time', `timestamp ${new Date(t).toISOString()} is older than the ${Math.round(maxAge / 3600_000)} h lateness limit`);

  let codings = CATALOGUE_CODINGS.get(sign)!;
  if (m.system) {
    const system = normaliseSystem(m.system);
    if (system !== LOCAL && !codings.some((c) => c.system === system && c.code === m.code)) {
      const own: Coding = m.label ? { system, code: m.code, display: m.label } : { system, code: m.code };
      codings = [...codings, own];
    }
  }
  const effective = isoOf(t);

  switch (def.kind) {
    case 'acvpu': {
      const v = readAcvpu(m.value);
      if (!v) return rejectMeasurement(m, sign, 'invalid-value', `ACVPU must be one of A, C, V, P, U (or alert/confusion/voice/pain/unresponsive), got ${JSON.stringify(m.value)}`);
      return { sign, codings, value: v, effective, t };
    }
    case 'boolean': {
      const v = readOxygen(m.value, m.code);
      if (v === undefined) return rejectMeasurement(m, sign, 'invalid-value', `supplemental oxygen must be true/false, air/oxygen or an inhaled O2 %, got ${JSON.stringify(m.value)}`);
      return { sign, codings, value: v, effective, t };
    }
    case 'quantity': {
      let raw = m.value;
      if (typeof raw === 'string' && NUMERIC_TEXT.test(raw.trim())) raw = Number(raw);
      if (typeof raw !== 'number' || !Number.isFinite(raw)) return rejectMeasurement(m, sign, 'invalid-value', `${def.display} must be a number, got ${JSON.stringify(m.value)}`);
      const converted = toCanonicalUnit(sign, raw, m.unit);
      if (!converted.ok) return rejectMeasurement(m, sign, 'unit', converted.reason);
      const value = roundToResolution(sign, converted.value);
      if (value < def.plausible[0] || value > def.plausible[1]) {
        return rejectMeasurement(m, sign, 'implausible', `${def.display} ${value} ${def.unit} is outside the possible range ${def.plausible[0]}–${def.plausible[1]} ${def.unit}`);
      }
      return { sign, codings, value, unit: def.unit, effective, t };
    }
  }
}

const NUMERIC_TEXT = /^-?\d+(\.\d+)?$/;
const ACVPU_WORDS: Record<string, Acvpu> = { ALERT: 'A', CONFUSION: 'C', 'NEW CONFUSION': 'C', CONFUSED: 'C', VOICE: 'V', PAIN: 'P', UNRESPONSIVE: 'U' };
const OXYGEN_WORDS: Record<string, boolean> = { true: true, yes: true, oxygen: true, o2: true, on: true, false: false, no: false, air: false, 'room air': false, off: false };

function readAcvpu(value: unknown): Acvpu | undefined {
  if (typeof value !== 'string') return undefined;
  const v = value.trim().toUpperCase();
  if ((ACVPU_VALUES as readonly string[]).includes(v)) return v as Acvpu;
  return ACVPU_WORDS[v];
}

function readOxygen(value: unknown, code: string): boolean | undefined {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') {
    // 3150-0 is an inhaled O2 concentration: above room air's 21 % means supplemental oxygen.
    if (code === '3150-0') return value > 21;
    if (value === 0 || value === 1) return value === 1;
    return undefined;
  }
  if (typeof value === 'string') return OXYGEN_WORDS[value.trim().toLowerCase()];
  return undefined;
}

/** A diastolic at or above the systolic of the same measurement set is a cuff artefact: reject both. */
function crossCheckBloodPressure(obs: VitalObservation[], rejected: RejectedMeasurement[]): void {
  const sys = obs.find((o) => o.sign === 'systolic-bp');
  const dia = obs.find((o) => o.sign === 'diastolic-bp');
  if (!sys || !dia || sys.t !== dia.t) return;
  if ((dia.value as number) >= (sys.value as number)) {
    for (const o of [sys, dia]) {
      obs.splice(obs.indexOf(o), 1);
      rejected.push({
        path: o.sign,
        kind: 'implausible',
        sign: o.sign,
        code: o.codings[0].code,
        value: o.value,
        unit: o.unit,
        reason: `${o.sign}: diastolic ${String(dia.value)} mm[Hg] is not below systolic ${String(sys.value)} mm[Hg]`,
      });
    }
  }
}

/** An O2 flow reading implies the oxygen flag NEWS2 needs, unless the device also sent the flag. */
function deriveOxygenFromFlow(obs: VitalObservation[]): void {
  const flow = obs.find((o) => o.sign === 'oxygen-flow');
  if (!flow || obs.some((o) => o.sign === 'supplemental-oxygen' && o.t === flow.t)) return;
  const def = VITALS['supplemental-oxygen'];
  obs.push({ sign: 'supplemental-oxygen', codings: [def.coding], value: (flow.value as number) > 0, effective: flow.effective, t: flow.t });
}

export const ALL_SIGNS: readonly VitalSign[] = Object.keys(VITALS) as VitalSign[];

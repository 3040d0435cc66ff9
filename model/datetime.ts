// Date/time conversions for the canonical model. Hospital time is UTC+7 without DST, so conversions
// are plain arithmetic: no time-zone database, identical on every machine whatever its TZ setting.
import { HOSPITAL_UTC_OFFSET_MINUTES, type DateString, type DateTimeString } from './common';

const OFFSET_MS = HOSPITAL_UTC_OFFSET_MINUTES * 60_000;
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Wall-clock parts of an instant in hospital time. */
export function hospitalParts(instant: Date): { year: number; month: number; day: number; hour: number; minute: number; second: number } {
  const shifted = new Date(instant.getTime() + OFFSET_MS);
  return {
    year: shifted.getUTCFullYear(),
    month: shifted.getUTCMonth() + 1,
    day: shifted.getUTCDate(),
    hour: shifted.getUTCHours(),
    minute: shifted.getUTCMinutes(),
    second: shifted.getUTCSeconds(),
  };
}

/** An instant as `YYYY-MM-DDTHH:mm:ss+07:00`. */
export function toHospitalDateTime(instant: Date): DateTimeString {
  if (Number.isNaN(instant.getTime())) throw new Error('invalid date');
  const p = hospitalParts(instant);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}+07:00`;
}

/** An instant's hospital calendar date `YYYY-MM-DD`. */
export function toHospitalDate(instant: Date): DateString {
  const p = hospitalParts(instant);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}`;
}

/** The instant of hospital wall-clock time (month 1-12). */
export function fromHospitalParts(year: number, month: number, day: number, hour = 0, minute = 0, second = 0): Date {
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second) - OFFSET_MS);
}

/** Parses an ISO date-time; a value without an offset is taken as hospital time. Throws naming the value. */
export function parseDateTime(value: string): Date {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?)?(Z|[+-]\d{2}:?\d{2})?$/.exec(value.trim());
  if (!m) throw new Error(`unparseable date-time "${value}"`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', zone] = m;
  if (!zone) {
    const local = fromHospitalParts(+y, +mo, +d, +h, +mi, +s);
    if (hospitalParts(local).day !== +d || hospitalParts(local).month !== +mo) throw new Error(`invalid calendar date "${value}"`);
    return local;
  }
  const date = new Date(value.trim().replace(' ', 'T'));
  if (Number.isNaN(date.getTime())) throw new Error(`unparseable date-time "${value}"`);
  return date;
}

/** BHYT point-in-time format `yyyyMMddHHmm` (12 digits) in hospital time. */
export function toBhytDateTime(value: DateTimeString | Date): string {
  const p = hospitalParts(typeof value === 'string' ? parseDateTime(value) : value);
  return `${p.year}${pad(p.month)}${pad(p.day)}${pad(p.hour)}${pad(p.minute)}`;
}

/** BHYT date format `yyyyMMdd` from a `YYYY-MM-DD` date (partial dates fill unknown parts with 00). */
export function toBhytDate(value: DateString): string {
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(value);
  if (!m) throw new Error(`unparseable date "${value}"`);
  return `${m[1]}${m[2] ?? '00'}${m[3] ?? '00'}`;
}

/** Parses BHYT `yyyyMMddHHmm` (or `yyyyMMdd`) as hospital time. */
export function fromBhytDateTime(value: string): Date {
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2}))?$/.exec(value);
  if (!m) throw new Error(`unparseable BHYT date-time "${value}" (want yyyyMMddHHmm)`);
  return fromHospitalParts(+m[1], +m[2], +m[3], +(m[4] ?? 0), +(m[5] ?? 0));
}

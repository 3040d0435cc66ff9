// HL7 TS/DTM (`YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ]`) to and from ISO 8601. A time without an
// offset is hospital time (Vietnam, UTC+7, no DST): that is what every HIS in the country sends.

const HOSPITAL_OFFSET = '+07:00';

function pad(n: number, w = 2): string {
  return String(n).padStart(w, '0');
}

/** `YYYYMMDDHHMMSS+ZZZZ` for a Date, in the given offset (minutes east of UTC; default hospital time). */
export function formatHl7DateTime(date: Date = new Date(), offsetMinutes = 7 * 60): string {
  const shifted = new Date(date.getTime() + offsetMinutes * 60_000);
  const sign = offsetMinutes >= 0 ? '+' : '-';
  const abs = Math.abs(offsetMinutes);
  return (
    `${shifted.getUTCFullYear()}${pad(shifted.getUTCMonth() + 1)}${pad(shifted.getUTCDate())}` +
    `${pad(shifted.getUTCHours())}${pad(shifted.getUTCMinutes())}${pad(shifted.getUTCSeconds())}` +
    `${sign}${pad(Math.floor(abs / 60))}${pad(abs % 60)}`
  );
}

const TS = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\.\d{1,4})?([+-]\d{4})?$/;

/**
 * Converts an HL7 timestamp to ISO 8601. Date-only values stay dates (`2025-01-15`); times get the
 * offset they declare, or +07:00. Returns undefined for '' and throws (naming the value) when malformed.
 */
export function parseHl7DateTime(value: string): string | undefined {
  const v = value.trim();
  if (v === '') return undefined;
  const m = TS.exec(v);
  if (!m) throw new Error(`"${value}" is not an HL7 date/time (YYYYMMDD[HHMM[SS[.SSSS]]][+ZZZZ])`);
  const [, y, mo, d, h, mi, s, frac, zone] = m;
  if (mo !== undefined && (Number(mo) < 1 || Number(mo) > 12)) throw new Error(`"${value}": month ${mo} is out of range`);
  if (d !== undefined && (Number(d) < 1 || Number(d) > 31)) throw new Error(`"${value}": day ${d} is out of range`);
  if (h !== undefined && Number(h) > 23) throw new Error(`"${value}": hour ${h} is out of range`);
  if (h === undefined) return [y, mo, d].filter((x) => x !== undefined).join('-');
  const offset = zone ? `${zone.slice(0, 3)}:${zone.slice(3)}` : HOSPITAL_OFFSET;
  const ms = frac ? '.' + frac.slice(1).padEnd(3, '0').slice(0, 3) : '';
  return `${y}-${mo}-${d}T${h}:${mi ?? '00'}:${s ?? '00'}${ms}${offset}`;
}

/** ISO 8601 (date or date-time with offset) to HL7 DTM, keeping the offset it was written with. */
export function toHl7DateTime(iso: string | undefined): string {
  if (!iso) return '';
  const m = /^(\d{4})(?:-(\d{2})(?:-(\d{2})(?:T(\d{2}):(\d{2})(?::(\d{2})(?:\.(\d+))?)?(Z|[+-]\d{2}:\d{2})?)?)?)?$/.exec(iso.trim());
  if (!m) throw new Error(`"${iso}" is not an ISO 8601 date or date-time`);
  const [, y, mo, d, h, mi, s, , zone] = m;
  let out = y + (mo ?? '') + (d ?? '');
  if (h !== undefined) {
    out += h + mi + (s ?? '');
    if (zone) out += zone === 'Z' ? '+0000' : zone.replace(':', '');
  }
  return out;
}

/** HL7 date of birth (`YYYYMMDD`, `YYYYMM`, `YYYY`, or with a time) to `YYYY[-MM[-DD]]`. */
export function parseHl7Date(value: string): string | undefined {
  const iso = parseHl7DateTime(value);
  return iso?.slice(0, 10);
}

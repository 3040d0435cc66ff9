// Conversions between database values and canonical model values. HIS databases keep hospital
// wall-clock time without a zone; drivers hand it back as text (we ask them to), as a Date (mssql)
// or as a number (SQLite REAL for decimals).
import { parseDateTime, hospitalParts } from '../../model/datetime';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `YYYY-MM-DD HH:mm:ss[.fff]` (or with `T`) → canonical `YYYY-MM-DDTHH:mm:ss[.fff]+07:00`; undefined when unparseable. */
export function dbDateTimeToIso(value: unknown): string | undefined {
  if (value instanceof Date) {
    if (Number.isNaN(value.getTime())) return undefined;
    // Drivers that build a Date from a zone-less value use UTC (mssql useUTC): its UTC parts are the wall clock.
    const ms = value.getUTCMilliseconds();
    return (
      `${value.getUTCFullYear()}-${pad(value.getUTCMonth() + 1)}-${pad(value.getUTCDate())}T` +
      `${pad(value.getUTCHours())}:${pad(value.getUTCMinutes())}:${pad(value.getUTCSeconds())}${ms ? '.' + pad(ms, 3) : ''}+07:00`
    );
  }
  if (typeof value !== 'string') return undefined;
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?)?$/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', frac] = m;
  if (+mo < 1 || +mo > 12 || +d < 1 || +d > 31 || +h > 23 || +mi > 59 || +s > 59) return undefined;
  const ms = frac ? frac.padEnd(3, '0').slice(0, 3) : '';
  return `${y}-${mo}-${d}T${h}:${mi}:${s}${ms && ms !== '000' ? '.' + ms : ''}+07:00`;
}

/** Canonical date-time (any offset) → hospital wall clock `YYYY-MM-DD HH:mm:ss.fff` for the database. */
let lastIso: string | undefined;
let lastDb = '';
export function isoToDbDateTime(iso: string): string {
  // Results of one message usually share one time stamp: remember the last conversion.
  if (iso === lastIso) return lastDb;
  lastDb = convertIso(iso);
  lastIso = iso;
  return lastDb;
}

function convertIso(iso: string): string {
  const instant = parseDateTime(iso);
  const p = hospitalParts(instant);
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}.${pad(instant.getUTCMilliseconds(), 3)}`;
}

/** A Date instant → hospital wall clock for the database. */
export function instantToDbDateTime(instant: Date): string {
  const p = hospitalParts(instant);
  return `${p.year}-${pad(p.month)}-${pad(p.day)} ${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}.${pad(instant.getUTCMilliseconds(), 3)}`;
}

/** A stored date (`YYYY-MM-DD`, a Date, or a date-time) → `YYYY-MM-DD`; partial `YYYY`/`YYYY-MM` kept. */
export function dbDateToIso(value: unknown): string | undefined {
  if (value instanceof Date) return dbDateTimeToIso(value)?.slice(0, 10);
  if (typeof value !== 'string') return undefined;
  const v = value.trim();
  if (/^\d{4}(-\d{2}(-\d{2})?)?$/.test(v)) return v;
  const dt = dbDateTimeToIso(v);
  return dt?.slice(0, 10);
}

/** A stored number → decimal text without exponent or trailing zeros (`12.50` → `12.5`). */
export function normalizeDecimal(value: unknown): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  let text: string;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) return undefined;
    // Round away binary noise (SQLite REAL): HIS decimals have at most 6 places.
    text = value.toFixed(6);
  } else if (typeof value === 'bigint') {
    text = value.toString();
  } else {
    text = String(value).trim();
  }
  if (!/^-?\d+(\.\d+)?$/.test(text)) return undefined;
  if (text.includes('.')) text = text.replace(/0+$/, '').replace(/\.$/, '');
  if (text === '-0') text = '0';
  return text;
}

/** Normalised text of a stored value; undefined for NULL and empty/blank text. */
export function dbText(value: unknown): string | undefined {
  if (value === null || value === undefined) return undefined;
  if (value instanceof Date) return dbDateTimeToIso(value);
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  const text = typeof value === 'number' ? (Number.isInteger(value) ? String(value) : (normalizeDecimal(value) ?? String(value))) : String(value);
  const trimmed = text.trim();
  return trimmed === '' ? undefined : trimmed;
}

// C-FIND attribute matching (PS3.4 C.2.2.2) on naturalized datasets, as the Modality Worklist uses
// it (Table K.6-1): universal (empty key), single value, wildcard (* ?), range (DA/TM/DT "a-b",
// "-b", "a-"), list of UIDs, and sequence matching (the one item of the Scheduled Procedure Step
// Sequence). Person names match case- and diacritic-insensitively, so "NGUYEN*" finds "Nguyễn".
// When both Scheduled Procedure Step Start Date and Time are ranges, they combine into one
// date-time range (5 Jul 10:00 → 7 Jul 18:00), as K.6-1 describes.
import { foldVietnamese } from '../../../engine/text/vietnamese';

import { keywordVr, type Naturalized } from '../dataset/codec';

export type { Naturalized };

export function vrOf(keyword: string): string | undefined {
  return keywordVr(keyword);
}

/** Keys never matched or returned as attributes. */
const ignoredKeys = new Set(['_vrMap', '_meta', 'SpecificCharacterSet', 'QueryRetrieveLevel']);

export class IdentifierError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'IdentifierError';
  }
}

/** A value's text, whatever shape dcmjs gave it (string, number, [string], [{Alphabetic}]). */
export function textValue(value: unknown): string {
  if (value === undefined || value === null) return '';
  if (Array.isArray(value)) {
    if (value.length === 0) return '';
    return value.map((v) => textValue(v)).join('\\');
  }
  if (typeof value === 'object') {
    const pn = value as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
    if ('Alphabetic' in pn || 'Ideographic' in pn || 'Phonetic' in pn) return pn.Alphabetic ?? '';
    return '';
  }
  return String(value).trim();
}

export function isUniversal(value: unknown): boolean {
  if (value === undefined || value === null) return true;
  if (Array.isArray(value)) {
    if (value.length === 0) return true;
    return value.every((v) => (typeof v === 'object' && v !== null && !Array.isArray(v) && !('Alphabetic' in v) ? isEmptyItem(v as Naturalized) : isUniversal(v)));
  }
  if (typeof value === 'object') {
    const pn = value as { Alphabetic?: string };
    if ('Alphabetic' in pn) return !pn.Alphabetic;
    return isEmptyItem(value as Naturalized);
  }
  const s = String(value).trim();
  return s === '' || s === '*';
}

function isEmptyItem(item: Naturalized): boolean {
  return Object.keys(item).every((k) => ignoredKeys.has(k) || isUniversal(item[k]));
}

/** Checks what K.6-1 requires of an identifier; throws IdentifierError naming the attribute. */
export function validateWorklistIdentifier(query: Naturalized): void {
  const sps = query.ScheduledProcedureStepSequence;
  if (sps !== undefined && sps !== '' && sps !== null) {
    if (!Array.isArray(sps)) throw new IdentifierError('Scheduled Procedure Step Sequence (0040,0100) is not a sequence');
    if (sps.length > 1) throw new IdentifierError(`(0040,0100) must have exactly one item, has ${sps.length}: Scheduled Procedure Step Sequence`);
  }
  for (const [key, value] of Object.entries(query)) {
    if (ignoredKeys.has(key)) continue;
    const vr = vrOf(key);
    if (vr === 'SQ') {
      if (value !== '' && value !== undefined && value !== null && !Array.isArray(value)) throw new IdentifierError(`${key} is declared as a sequence but holds ${typeof value}`);
      if (Array.isArray(value)) for (const item of value) if (typeof item === 'object' && item) validateNested(item as Naturalized, key);
      continue;
    }
    checkRangeSyntax(key, vr, value);
  }
}

function validateNested(item: Naturalized, parent: string): void {
  for (const [key, value] of Object.entries(item)) {
    if (ignoredKeys.has(key)) continue;
    const vr = vrOf(key);
    if (vr === 'SQ') {
      if (Array.isArray(value)) for (const nested of value) if (typeof nested === 'object' && nested) validateNested(nested as Naturalized, `${parent} > ${key}`);
      continue;
    }
    checkRangeSyntax(`${parent} > ${key}`, vr, value);
  }
}

function checkRangeSyntax(key: string, vr: string | undefined, value: unknown): void {
  if (vr !== 'DA' && vr !== 'TM' && vr !== 'DT') return;
  const text = textValue(value);
  if (text === '') return;
  const pattern = vr === 'DA' ? /^(\d{8})?(-(\d{8})?)?$/ : vr === 'TM' ? /^(\d{2,6}(\.\d{1,6})?)?(-(\d{2,6}(\.\d{1,6})?)?)?$/ : /^[\d.+-]*$/;
  if (!pattern.test(text.replace(/:/g, '')) || text === '-') throw new IdentifierError(`${key} value "${text}" is not a valid ${vr} value or range`);
}

/** True when `item` matches every non-universal key of `query`. */
export function matchesIdentifier(query: Naturalized, item: Naturalized): boolean {
  for (const key in query) {
    if (ignoredKeys.has(key)) continue;
    const q = query[key];
    if (isUniversal(q)) continue;
    const vr = vrOf(key);
    if (vr === 'SQ') {
      const qItem = (q as Naturalized[])[0];
      const items = Array.isArray(item[key]) ? (item[key] as Naturalized[]) : [];
      if (!items.some((candidate) => matchesSequenceItem(qItem, candidate))) return false;
      continue;
    }
    if (!matchesValue(vr, q, item[key])) return false;
  }
  return true;
}

function matchesSequenceItem(query: Naturalized, item: Naturalized): boolean {
  const dateKey = 'ScheduledProcedureStepStartDate';
  const timeKey = 'ScheduledProcedureStepStartTime';
  const qDate = textValue(query[dateKey]);
  const qTime = textValue(query[timeKey]);
  if (qDate.includes('-') && qTime.includes('-')) {
    if (!combinedDateTimeMatch(qDate, qTime, textValue(item[dateKey]), textValue(item[timeKey]))) return false;
    const rest: Naturalized = { ...query };
    delete rest[dateKey];
    delete rest[timeKey];
    return matchesIdentifier(rest, item);
  }
  return matchesIdentifier(query, item);
}

export function matchesValue(vr: string | undefined, query: unknown, value: unknown): boolean {
  const q = textValue(query);
  const v = textValue(value);
  if (v === '') return false;
  switch (vr) {
    case 'DA':
      return q.includes('-') ? inRange(q, v, normaliseDate) : normaliseDate(v) === normaliseDate(q);
    case 'TM':
      // A single time matches at its precision: "10" is any time in the 10 o'clock hour.
      return q.includes('-') ? inRange(q, v, normaliseTime) : v.replace(/:/g, '').startsWith(q.replace(/:/g, '').split('.')[0]);
    case 'DT':
      return q.includes('-') ? inRange(q, v, (s) => s) : v.startsWith(q);
    case 'UI':
      return q.split('\\').some((uid) => uid.trim() === v);
    case 'PN':
      return wildcardMatch(foldName(q), foldName(v));
    default:
      if (q.includes('*') || q.includes('?')) return wildcardMatch(q, v);
      // Multi-valued attributes match when any value matches (e.g. Modality lists on some HIS).
      return v === q || v.split('\\').includes(q);
  }
}

const foldedNames = new Map<string, string>();

function foldName(name: string): string {
  let folded = foldedNames.get(name);
  if (folded === undefined) {
    folded = foldVietnamese(name).toUpperCase().replace(/\s+/g, ' ').replace(/\^+$/, '').trim();
    if (foldedNames.size > 100_000) foldedNames.clear();
    foldedNames.set(name, folded);
  }
  return folded;
}

const patternCache = new Map<string, RegExp>();

export function wildcardMatch(pattern: string, value: string): boolean {
  if (!pattern.includes('*') && !pattern.includes('?')) return pattern === value;
  let re = patternCache.get(pattern);
  if (!re) {
    const source = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
    re = new RegExp(`^${source}$`, 's');
    if (patternCache.size > 1000) patternCache.clear();
    patternCache.set(pattern, re);
  }
  return re.test(value);
}

function inRange(query: string, value: string, normalise: (s: string, end: boolean) => string): boolean {
  const dash = query.indexOf('-');
  const from = query.slice(0, dash).trim();
  const to = query.slice(dash + 1).trim();
  const v = normalise(value, false);
  if (from && v < normalise(from, false)) return false;
  if (to && v > normalise(to, true)) return false;
  return true;
}

function normaliseDate(value: string): string {
  return value.replace(/[.-]/g, '').slice(0, 8);
}

/** HHMMSS.FFFFFF; a partial upper bound covers its whole unit (18 → 18:59:59.999999). */
export function normaliseTime(value: string, end: boolean): string {
  const [main, fraction = ''] = value.replace(/:/g, '').split('.');
  const filler = end ? '595959' : '000000';
  const hhmmss = (main + filler.slice(main.length)).slice(0, 6);
  const frac = (fraction + (end && !fraction ? '999999' : '000000')).slice(0, 6);
  return `${hhmmss}.${frac}`;
}

function combinedDateTimeMatch(qDate: string, qTime: string, date: string, time: string): boolean {
  if (!date) return false;
  const [dFrom, dTo] = qDate.split('-').map((s) => s.trim());
  const [tFrom, tTo] = qTime.split('-').map((s) => s.trim());
  const value = `${normaliseDate(date)}${normaliseTime(time || '000000', false)}`;
  if (dFrom) {
    const lower = `${normaliseDate(dFrom)}${normaliseTime(tFrom || '000000', false)}`;
    if (value < lower) return false;
  }
  if (dTo) {
    const upper = `${normaliseDate(dTo)}${normaliseTime(tTo || '235959', true)}`;
    if (value > upper) return false;
  }
  return true;
}

/**
 * The response identifier: every key the query asked for, with the item's value (empty when it
 * has none), sequences projected on the keys of the query's item (or returned whole when the query
 * item is empty: universal sequence matching).
 */
export function projectReturnKeys(query: Naturalized, item: Naturalized): Naturalized {
  const out: Naturalized = {};
  for (const key of Object.keys(query)) {
    if (ignoredKeys.has(key)) continue;
    const vr = vrOf(key);
    const value = item[key];
    if (vr === 'SQ') {
      const q = query[key];
      const qItem = Array.isArray(q) && q.length > 0 && typeof q[0] === 'object' ? (q[0] as Naturalized) : undefined;
      const items = Array.isArray(value) ? (value as Naturalized[]) : [];
      if (!qItem || Object.keys(qItem).filter((k) => !ignoredKeys.has(k)).length === 0) out[key] = items;
      else out[key] = items.map((i) => projectReturnKeys(qItem, i));
      continue;
    }
    out[key] = value === undefined || value === null ? '' : value;
  }
  return out;
}

/** The structure of a query's keys (names and nesting, not values): equal shapes give equal answers for one item. */
export function returnKeyShape(query: Naturalized): string {
  const parts: string[] = [];
  for (const key of Object.keys(query).sort()) {
    if (ignoredKeys.has(key)) continue;
    const value = query[key];
    if (vrOf(key) === 'SQ' && Array.isArray(value) && value.length > 0 && value[0] && typeof value[0] === 'object') parts.push(`${key}[${returnKeyShape(value[0] as Naturalized)}]`);
    else parts.push(key);
  }
  return parts.join(',');
}

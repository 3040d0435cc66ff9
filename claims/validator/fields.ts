// Field-level checks driven entirely by the table description of the version: presence,
// (conditional) requiredness, length, number syntax, format, code lists and patterns, plus the
// structural problems the reader noted (unknown, duplicated and nested elements, field order).
import type { ClaimRecord } from '../model';
import type { FieldCondition, FieldSpec, TableSpec } from '../spec/types';
import { daysInMonth, type RuleContext } from './context';

const numberPattern = /^-?\d+(\.\d+)?$/;
const numericFormats = new Set(['money', 'decimal3', 'decimal2', 'percent', 'integer']);
/** The characters String.prototype.trim() removes (ECMAScript WhiteSpace and LineTerminator). */
function isTrimmed(c: number): boolean {
  if (c < 128) return c === 32 || (c >= 9 && c <= 13);
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}
/** True when trim() would change the text (checked by character: most values are not padded, and trim() copies). */
const padded = (v: string) => v.length > 0 && (isTrimmed(v.charCodeAt(0)) || isTrimmed(v.charCodeAt(v.length - 1)));
const regexCache = new Map<string, RegExp>();
function regex(source: string): RegExp {
  let r = regexCache.get(source);
  if (!r) regexCache.set(source, (r = new RegExp(source)));
  return r;
}

export function checkRecordFields(ctx: RuleContext, table: TableSpec, record: ClaimRecord): void {
  const fields = record.fields;
  for (const spec of table.fields) {
    const raw = fields[spec.name];
    const present = raw !== undefined && raw !== '' && (!padded(raw) || raw.trim() !== '');
    if (!present) {
      const req = spec.required;
      if (req === true) ctx.report('field.required', table.id, record, spec.name, raw === undefined ? 'required field is missing' : 'required field is empty');
      else if (req && typeof req === 'object' && conditionHolds(req.when, fields)) {
        ctx.report('field.required', table.id, record, spec.name, `${raw === undefined ? 'missing' : 'empty'}, but required when ${describeCondition(req.when)}`);
      }
      continue;
    }
    checkValue(ctx, table, record, spec, raw);
  }
  // Elements the version does not define, and the official order. Built records are in order:
  // a two-pointer walk over the keys and the table's fields confirms that without any lookups.
  const keys = Object.keys(fields);
  const specFields = table.fields;
  let j = 0;
  let inOrder = true;
  for (const k of keys) {
    while (j < specFields.length && specFields[j].name !== k) j++;
    if (j === specFields.length) {
      inOrder = false;
      break;
    }
    j++;
  }
  if (!inOrder) {
    const known = fieldIndex(table);
    let last = -1;
    let orderReported = false;
    for (const name of keys) {
      const i = known.get(name);
      if (i === undefined) {
        ctx.report('field.unknown', table.id, record, name, `${name} is not a field of ${table.id} in QĐ ${ctx.version}`);
        continue;
      }
      if (i < last && !orderReported) {
        orderReported = true;
        const previous = table.fields[last].name;
        ctx.report('field.order', table.id, record, name, `${name} comes after ${previous}; the official order puts it before (the portal XSD checks element order)`);
      }
      last = Math.max(last, i);
    }
  }
  for (const name of record.duplicates ?? []) ctx.report('field.duplicate', table.id, record, name, `${name} appears more than once in the record`);
  for (const name of record.nested ?? []) ctx.report('field.nested', table.id, record, name, `${name} contains elements; a field holds text only`);
}

const indexCache = new WeakMap<TableSpec, Map<string, number>>();
function fieldIndex(table: TableSpec): Map<string, number> {
  let m = indexCache.get(table);
  if (!m) {
    m = new Map(table.fields.map((f, i) => [f.name, i]));
    indexCache.set(table, m);
  }
  return m;
}

function checkValue(ctx: RuleContext, table: TableSpec, record: ClaimRecord, spec: FieldSpec, raw: string): void {
  const at = reporter.bind(ctx, table, record, spec.name);
  let v = raw;
  if (padded(raw)) {
    v = raw.trim();
    at.report('field.whitespace', `«${raw}» has leading or trailing spaces`);
  }
  // Date fields have a fixed shape: the format check says more than a length would.
  const dated = spec.format === 'datetime' || spec.format === 'date' || spec.format === 'birth' || spec.format === 'dateOrDatetime';
  if (spec.maxLength !== null && !(dated && !spec.list)) {
    const length = v.length;
    if (length > spec.maxLength) at.report('field.max-length', `is ${length} characters long; the maximum in QĐ ${ctx.version} is ${spec.maxLength}`);
  }
  if (!spec.list) {
    checkItem(ctx, spec, v, at);
    return;
  }
  const items = v.split(';');
  if (items.some((i) => i.trim() === '')) {
    at.report('field.format', `«${v}» has an empty item in its ";" list`);
    return;
  }
  for (const item of items) {
    if (!checkItem(ctx, spec, item.trim(), at)) return;
  }
}

/**
 * Reports findings for the field being checked. One reusable instance (validation is synchronous):
 * a closure per value would be created tens of thousands of times per second.
 */
class FieldReporter {
  private ctx!: RuleContext;
  private table!: TableSpec;
  private record!: ClaimRecord;
  private field = '';

  bind(ctx: RuleContext, table: TableSpec, record: ClaimRecord, field: string): this {
    this.ctx = ctx;
    this.table = table;
    this.record = record;
    this.field = field;
    return this;
  }

  report(rule: Parameters<RuleContext['report']>[0], message: string, severity?: 'error' | 'warning'): void {
    this.ctx.report(rule, this.table.id, this.record, this.field, message, severity);
  }
}

const reporter = new FieldReporter();
type At = FieldReporter;

/** Returns false when the item is so wrong that further items need not be checked. */
function checkItem(ctx: RuleContext, spec: FieldSpec, v: string, at: At): boolean {
  const numeric = spec.type === 'number' || numericFormats.has(spec.format);
  if (numeric && spec.format !== 'text') {
    if (!numberPattern.test(v)) {
      at.report('field.number', `«${v}» is not a number: write digits with "." as the decimal separator, no thousands separator or spaces`);
      return false;
    }
    if (v.startsWith('-')) {
      at.report(spec.format === 'money' ? 'money.negative' : 'field.format', `«${v}» is negative`);
      return false;
    }
    const decimals = v.includes('.') ? v.length - v.indexOf('.') - 1 : 0;
    const maxDecimals = spec.format === 'money' || spec.format === 'decimal2' ? 2 : spec.format === 'decimal3' ? 3 : 0;
    if (decimals > maxDecimals) {
      const what = maxDecimals === 0 ? 'must be a whole number' : spec.format === 'money' ? 'amounts are rounded to 2 decimals' : `at most ${maxDecimals} decimals are allowed`;
      at.report('field.format', `«${v}» has ${decimals} decimal${decimals > 1 ? 's' : ''}; ${what}`);
      return false;
    }
  }
  switch (spec.format) {
    case 'datetime':
      if (!checkDate(v, 12, false, at)) return false;
      break;
    case 'date':
      if (!checkDate(v, 8, false, at)) return false;
      break;
    case 'birth':
      if (!checkDate(v, 12, true, at)) return false;
      break;
    case 'dateOrDatetime':
      if (!checkDate(v, v.length === 8 ? 8 : 12, false, at, true)) return false;
      break;
    default:
      break;
  }
  if (spec.pattern && !regex(spec.pattern.regex).test(v)) {
    at.report('field.pattern', `«${v}» is not ${spec.pattern.hint}`);
    return false;
  }
  if (spec.codeList) {
    const list = ctx.codeLists.list(spec.codeList);
    if (list) {
      if (list.pattern && !regex(list.pattern).test(v)) {
        at.report('field.code', `«${v}» is not a code of the form used by ${list.title}`);
        return false;
      }
      if (!ctx.codeLists.lookup(spec.codeList, v, ctx.version)) {
        const codes = ctx.codeLists.codes(spec.codeList, ctx.version);
        if (list.complete) at.report('field.code', `«${v}» is not a code of ${spec.name} in QĐ ${ctx.version} (allowed: ${codes.join(', ')})`);
        else at.report('field.code', `«${v}» is not in the project's list of ${spec.name} codes (the list is partial: check it against the official list)`, 'warning');
        return false;
      }
    }
  }
  return true;
}

function checkDate(v: string, length: 8 | 12, birth: boolean, at: At, either = false): boolean {
  const shape = either ? 'a date yyyyMMdd (8 digits) or date-time yyyyMMddHHmm (12 digits)' : length === 12 ? 'a date-time yyyyMMddHHmm (12 digits)' : 'a date yyyyMMdd (8 digits)';
  if (v.length !== length || !/^\d+$/.test(v)) {
    at.report('field.format', `«${v}» is not ${shape}`);
    return false;
  }
  const y = Number(v.slice(0, 4));
  const mo = Number(v.slice(4, 6));
  const d = Number(v.slice(6, 8));
  if (y < 1900 || y > 2100) {
    at.report('field.format', `«${v}»: year ${y} is out of range`);
    return false;
  }
  if (birth && mo === 0) {
    // Unknown month: day must be unknown too ("0000").
    if (d !== 0) {
      at.report('field.format', `«${v}»: when the month of birth is unknown (00) the day must be 00 too`);
      return false;
    }
  } else if (birth && d === 0) {
    if (mo < 1 || mo > 12) {
      at.report('field.format', `«${v}»: month ${v.slice(4, 6)} does not exist`);
      return false;
    }
  } else {
    if (mo < 1 || mo > 12) {
      at.report('field.format', `«${v}»: month ${v.slice(4, 6)} does not exist`);
      return false;
    }
    if (d < 1 || d > daysInMonth(y, mo)) {
      at.report('field.format', `«${v}»: ${y}-${v.slice(4, 6)}-${v.slice(6, 8)} does not exist`);
      return false;
    }
  }
  if (length === 12) {
    const h = Number(v.slice(8, 10));
    const mi = Number(v.slice(10, 12));
    if (h > 23 || mi > 59) {
      at.report('field.format', `«${v}»: ${v.slice(8, 10)}:${v.slice(10, 12)} is not a time of day`);
      return false;
    }
  }
  return true;
}

function trimmed(fields: Record<string, string>, name: string): string {
  const v = fields[name];
  return v === undefined ? '' : v.trim();
}

export function conditionHolds(c: FieldCondition, fields: Record<string, string>): boolean {
  if ('allEmpty' in c) {
    for (const n of c.allEmpty) if (trimmed(fields, n) !== '') return false;
    return true;
  }
  if ('present' in c) return trimmed(fields, c.field) !== '';
  if ('in' in c) return c.in.includes(trimmed(fields, c.field));
  return !c.notIn.includes(trimmed(fields, c.field));
}

export function describeCondition(c: FieldCondition): string {
  const orList = (vs: string[]) => (vs.length === 1 ? vs[0] : `${vs.slice(0, -1).join(', ')} or ${vs[vs.length - 1]}`);
  if ('allEmpty' in c) return `${orList(c.allEmpty).replace(' or ', ' and ')} ${c.allEmpty.length > 1 ? 'are' : 'is'} empty`;
  if ('present' in c) return `${c.field} is filled`;
  if ('in' in c) return `${c.field} is ${orList(c.in)}`;
  return `${c.field} is not ${orList(c.notIn)}`;
}

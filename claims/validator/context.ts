// What every rule gets: the episode, the version's table descriptions, the code lists, options,
// and a reporter that turns (rule, place, message) into a Finding with the catalogue's severity.
import type { ClaimRecord, Episode, Finding, Severity } from '../model';
import { Decimal } from '../money/decimal';
import { type CodeLists, defaultCodeLists, type FacilityLevel } from '../spec/codelists';
import { formatSpec } from '../spec/registry';
import type { FormatSpec, TableId, TableSpec } from '../spec/types';
import { type RuleId, ruleCatalogue } from './catalogue';

export interface ValidationOptions {
  /** Level of the treating facility (for the off-route rate in MUC_HUONG); unknown = any level's rate is accepted. */
  facilityLevel?: FacilityLevel;
  /** The facility's own code: XML1 MA_CSKCB must equal it. */
  maCskcb?: string;
  codeLists?: CodeLists;
  /** Largest difference accepted between a rounded line amount and its formula (VND). Default 0.01. */
  tolerance?: string;
  /** Stop collecting after this many findings per episode (they are still counted). Default 1000. */
  maxFindingsPerEpisode?: number;
}

export class Reporter {
  readonly findings: Finding[] = [];
  errors = 0;
  warnings = 0;

  constructor(
    private readonly hoso: number | undefined,
    private readonly max: number,
  ) {}

  add(rule: RuleId, table: Finding['table'], record: ClaimRecord | undefined, field: string | undefined, message: string, severity?: Severity): void {
    const sev = severity ?? ruleCatalogue[rule].severity;
    if (sev === 'error') this.errors++;
    else this.warnings++;
    if (this.findings.length >= this.max) return;
    const f: Finding = { severity: sev, rule, table, message };
    if (this.hoso !== undefined) f.hoso = this.hoso;
    if (record) {
      f.record = { index: record.index };
      const maLk = record.fields.MA_LK;
      if (maLk !== undefined) f.record.maLk = maLk;
      const stt = record.fields.STT;
      if (stt) f.record.stt = stt;
    }
    if (field) f.field = field;
    if (record?.line !== undefined) f.line = record.line;
    this.findings.push(f);
  }
}

export class RuleContext {
  readonly spec: FormatSpec;
  readonly codeLists: CodeLists;
  readonly tolerance: Decimal;
  readonly reporter: Reporter;
  private readonly tableSpecs = new Map<TableId, TableSpec>();

  constructor(
    readonly episode: Episode,
    readonly options: ValidationOptions,
    /** A file holding one table only: rules that need XML1 or other tables are skipped. */
    readonly partial: boolean,
  ) {
    this.spec = formatSpec(episode.version);
    for (const t of this.spec.tables) this.tableSpecs.set(t.id, t);
    this.codeLists = options.codeLists ?? defaultCodeLists();
    this.tolerance = Decimal.parse(options.tolerance ?? '0.01');
    this.reporter = new Reporter(episode.hoso, options.maxFindingsPerEpisode ?? 1000);
  }

  get version() {
    return this.episode.version;
  }

  table(id: TableId): TableSpec | undefined {
    return this.tableSpecs.get(id);
  }

  records(id: TableId): ClaimRecord[] {
    return this.episode.tables[id] ?? [];
  }

  /** The XML1 record (the episode's summary), if present. */
  get xml1(): ClaimRecord | undefined {
    return this.episode.tables.XML1?.[0];
  }

  report(rule: RuleId, table: Finding['table'], record: ClaimRecord | undefined, field: string | undefined, message: string, severity?: Severity): void {
    this.reporter.add(rule, table, record, field, message, severity);
  }
}

/** A value, or undefined when absent or empty. */
export function value(record: ClaimRecord | undefined, field: string): string | undefined {
  const v = record?.fields[field];
  return v === undefined || v === '' ? undefined : v;
}

// Amount fields are read by several rules (line formulas, splits, totals): parse each text once.
const parsed = new WeakMap<Record<string, string>, Map<string, { raw: string; value: Decimal | undefined }>>();

/** A decimal value, or undefined when absent, empty or not a number (the field rules report that). */
export function decimal(record: ClaimRecord | undefined, field: string): Decimal | undefined {
  const v = value(record, field);
  if (v === undefined) return undefined;
  let cache = parsed.get(record!.fields);
  if (!cache) parsed.set(record!.fields, (cache = new Map()));
  const hit = cache.get(field);
  if (hit && hit.raw === v) return hit.value;
  const d = Decimal.tryParse(v.trim());
  cache.set(field, { raw: v, value: d });
  return d;
}

/** A decimal value, 0 when absent or empty. */
export function amount(record: ClaimRecord | undefined, field: string): Decimal {
  return decimal(record, field) ?? Decimal.zero;
}

/** A well-formed yyyyMMddHHmm that names a real date and time. */
export const isDateTime12 = (v: string | undefined): v is string => v !== undefined && /^\d{12}$/.test(v) && realDate(v) && Number(v.slice(8, 10)) < 24 && Number(v.slice(10, 12)) < 60;
/** A well-formed yyyyMMdd that names a real date. */
export const isDate8 = (v: string | undefined): v is string => v !== undefined && /^\d{8}$/.test(v) && realDate(v);

const monthDays = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
export function daysInMonth(year: number, month: number): number {
  return month === 2 && (year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) ? 29 : monthDays[month - 1];
}

function realDate(v: string): boolean {
  const y = Number(v.slice(0, 4));
  const m = Number(v.slice(4, 6));
  const d = Number(v.slice(6, 8));
  return m >= 1 && m <= 12 && d >= 1 && d <= daysInMonth(y, m);
}

/** yyyyMMddHHmm → "dd/MM/yyyy HH:mm" for messages. */
export function showDateTime(v: string): string {
  if (/^\d{12}$/.test(v)) return `${v.slice(6, 8)}/${v.slice(4, 6)}/${v.slice(0, 4)} ${v.slice(8, 10)}:${v.slice(10, 12)}`;
  if (/^\d{8}$/.test(v)) return `${v.slice(6, 8)}/${v.slice(4, 6)}/${v.slice(0, 4)}`;
  return v;
}

/** Whole days between two yyyyMMdd… values (calendar dates only). */
export function daysBetween(from: string, to: string): number {
  const d = (s: string) => Date.UTC(Number(s.slice(0, 4)), Number(s.slice(4, 6)) - 1, Number(s.slice(6, 8)));
  return Math.round((d(to) - d(from)) / 86_400_000);
}

export function money(d: Decimal): string {
  return d.toString();
}

// One entity of a mapping turned into SQL pieces (select list, joins, discriminator, writes) and a
// reader that turns a row into typed values, naming table, column and value when one does not fit.
import { HisMappingError } from '../lookups';
import type { EntityMapping } from '../mapping/schema';
import { placeholder, quoteIdent, type Dialect } from './dialect';
import { dbDateTimeToIso, dbDateToIso, dbText, normalizeDecimal } from './values';

/** Collects positional parameters and hands out the dialect's placeholders. */
export class Params {
  readonly list: unknown[] = [];
  constructor(readonly dialect: Dialect) {}
  add(value: unknown): string {
    this.list.push(value === undefined ? null : value);
    return placeholder(this.dialect, this.list.length - 1);
  }
  in(values: unknown[]): string {
    return `(${values.map((v) => this.add(v)).join(', ')})`;
  }
}

interface ColumnLocation {
  alias: string;
  table: string;
  column: string;
}

export class MappedEntity {
  readonly table: string;
  private readonly locations = new Map<string, ColumnLocation[]>();
  private readonly reverse = new Map<string, Map<string, string>>();

  constructor(
    readonly name: string,
    readonly dialect: Dialect,
    readonly mapping: EntityMapping,
  ) {
    this.table = mapping.table;
    const joinTables = new Map(mapping.joins.map((j) => [j.name, j.table]));
    for (const [field, refs] of Object.entries(mapping.columns)) {
      this.locations.set(
        field,
        refs.split('|').map((ref) => {
          const dot = ref.indexOf('.');
          return dot > 0 ? { alias: ref.slice(0, dot), table: joinTables.get(ref.slice(0, dot))!, column: ref.slice(dot + 1) } : { alias: 't', table: this.table, column: ref };
        }),
      );
    }
    for (const [field, map] of Object.entries(mapping.values)) {
      const rev = new Map<string, string>();
      for (const [stored, canonical] of Object.entries(map)) if (!rev.has(canonical)) rev.set(canonical, stored);
      this.reverse.set(field, rev);
    }
  }

  private readonly quoted = new Map<string, string>();
  q(name: string): string {
    let q = this.quoted.get(name);
    if (q === undefined) this.quoted.set(name, (q = quoteIdent(this.dialect, name)));
    return q;
  }

  has(field: string): boolean {
    return this.locations.has(field);
  }

  /** The column a field is written to: only a single column on the entity's own table qualifies. */
  ownColumn(field: string): string | undefined {
    const locs = this.locations.get(field);
    if (!locs || locs.length !== 1 || locs[0].alias !== 't') return undefined;
    return locs[0].column;
  }

  requireOwnColumn(field: string): string {
    const column = this.ownColumn(field);
    if (!column) throw new Error(`mapping ${this.name}: field "${field}" must map to one column of ${this.table} to be written or filtered`);
    return column;
  }

  /** SQL reading a field (`t.COL`, `j.COL`, or COALESCE over several). */
  expr(field: string): string {
    const locs = this.locations.get(field);
    if (!locs) throw new Error(`mapping ${this.name}: field "${field}" is not mapped`);
    const parts = locs.map((l) => `${this.q(l.alias)}.${this.q(l.column)}`);
    return parts.length === 1 ? parts[0] : `COALESCE(${parts.join(', ')})`;
  }

  /** Condition on a field of the entity's own table (filters use own columns so indexes apply). */
  col(field: string): string {
    return `${this.q('t')}.${this.q(this.requireOwnColumn(field))}`;
  }

  private readonly selectCache = new Map<string, string>();
  selectList(fields?: string[]): string {
    const key = fields ? fields.join(',') : '*';
    let list = this.selectCache.get(key);
    if (list === undefined) this.selectCache.set(key, (list = this.buildSelectList(fields)));
    return list;
  }

  private buildSelectList(fields?: string[]): string {
    const wanted = fields ?? [...this.locations.keys()];
    return wanted
      .filter((f) => this.locations.has(f))
      .map((f) => `${this.expr(f)} AS ${this.q('f_' + f)}`)
      .join(', ');
  }

  private fromClause?: string;
  from(): string {
    return (this.fromClause ??= this.buildFrom());
  }

  private buildFrom(): string {
    const joins = this.mapping.joins.map((j) => {
      const on = Object.entries(j.on)
        .map(([local, foreign]) => `${this.q(j.name)}.${this.q(foreign)} = ${this.q('t')}.${this.q(local)}`)
        .join(' AND ');
      return ` LEFT JOIN ${this.q(j.table)} ${this.q(j.name)} ON ${on}`;
    });
    return `${this.q(this.table)} ${this.q('t')}${joins.join('')}`;
  }

  /** The discriminator conditions (`where:` in the mapping). */
  discriminator(params: Params): string[] {
    return Object.entries(this.mapping.where).map(([column, value]) => `${this.q('t')}.${this.q(column)} = ${params.add(value)}`);
  }

  /** `SELECT <fields> FROM <table+joins> WHERE <discriminator AND conditions>`. */
  select(params: Params, conditions: string[], fields?: string[]): string {
    // Conditions were built (and their parameters numbered) before this call: the discriminator's
    // parameters come after them, so its SQL must too ('?' placeholders are positional).
    const where = [...conditions, ...this.discriminator(params)];
    return `SELECT ${this.selectList(fields)} FROM ${this.from()}${where.length ? ' WHERE ' + where.join(' AND ') : ''}`;
  }

  /** Canonical value → stored value, through the field's value map when it has one. */
  toDb(field: string, canonical: string | number | boolean | undefined | null): unknown {
    if (canonical === undefined || canonical === null) return null;
    const rev = this.reverse.get(field);
    if (!rev) return canonical;
    const stored = rev.get(String(canonical));
    if (stored === undefined) {
      throw new HisMappingError(this.table, this.ownColumn(field) ?? field, canonical, `no stored value maps to "${canonical}" (mapping ${this.name}.values.${field})`);
    }
    return stored;
  }

  /** Stored values for the canonical values the mapping knows (others dropped: a filter on them matches nothing). */
  toDbKnown(field: string, canonical: string[]): unknown[] {
    const rev = this.reverse.get(field);
    if (!rev) return canonical;
    return canonical.filter((c) => rev.has(c)).map((c) => rev.get(c));
  }

  location(field: string): ColumnLocation {
    return this.locations.get(field)?.[0] ?? { alias: 't', table: this.table, column: field };
  }

  reader(row: Record<string, unknown>): RowReader {
    return new RowReader(this, row);
  }
}

/** Typed access to one selected row; every failure names table, column and value. */
export class RowReader {
  constructor(
    private readonly entity: MappedEntity,
    readonly row: Record<string, unknown>,
  ) {}

  raw(field: string): unknown {
    return this.row['f_' + field];
  }

  fail(field: string, reason: string): never {
    const loc = this.entity.location(field);
    throw new HisMappingError(loc.table, loc.column, this.raw(field) ?? null, reason);
  }

  text(field: string): string | undefined {
    return this.entity.has(field) ? dbText(this.raw(field)) : undefined;
  }

  reqText(field: string): string {
    return this.text(field) ?? this.fail(field, `required ${this.entity.name}.${field} is empty`);
  }

  /** Through the value map: an unknown stored value is an error, not a silent pass-through. */
  code(field: string): string | undefined {
    const stored = this.text(field);
    if (stored === undefined) return undefined;
    const map = this.entity.mapping.values[field];
    if (!map) return stored;
    const canonical = map[stored];
    if (canonical === undefined) this.fail(field, `unknown code; the mapping knows ${Object.keys(map).join(', ')}`);
    return canonical;
  }

  reqCode(field: string): string {
    return this.code(field) ?? this.fail(field, `required ${this.entity.name}.${field} is empty`);
  }

  dateTime(field: string): string | undefined {
    const v = this.raw(field);
    if (v === null || v === undefined || v === '') return undefined;
    return dbDateTimeToIso(v) ?? this.fail(field, 'unparseable date-time (want YYYY-MM-DD HH:mm:ss)');
  }

  reqDateTime(field: string): string {
    return this.dateTime(field) ?? this.fail(field, `required ${this.entity.name}.${field} is empty`);
  }

  date(field: string): string | undefined {
    const v = this.raw(field);
    if (v === null || v === undefined || v === '') return undefined;
    return dbDateToIso(v) ?? this.fail(field, 'unparseable date (want YYYY-MM-DD)');
  }

  decimal(field: string): string | undefined {
    const v = this.raw(field);
    if (v === null || v === undefined || v === '') return undefined;
    return normalizeDecimal(v) ?? this.fail(field, 'not a number');
  }

  reqDecimal(field: string): string {
    return this.decimal(field) ?? this.fail(field, `required ${this.entity.name}.${field} is empty`);
  }

  int(field: string): number | undefined {
    const d = this.decimal(field);
    if (d === undefined) return undefined;
    const n = Number(d);
    return Number.isInteger(n) ? n : this.fail(field, 'not an integer');
  }

  bool(field: string): boolean | undefined {
    const c = this.code(field);
    if (c === undefined) return undefined;
    if (c === 'true' || c === '1') return true;
    if (c === 'false' || c === '0') return false;
    return this.fail(field, 'not a yes/no value');
  }

  list(field: string, separator = ';'): string[] | undefined {
    const t = this.text(field);
    return t === undefined ? undefined : t.split(separator).map((s) => s.trim()).filter(Boolean);
  }
}

// A HIS schema written once and turned into TypeORM entities for whichever database it lands in
// (entity decorators fix a column type at import time; a datetime must be `timestamp` on
// PostgreSQL but `datetime` on MariaDB, so the entities are built at run time with explicit types).
import { EntitySchema, type EntitySchemaColumnOptions } from 'typeorm';
import type { Dialect } from './dialect';

export type ColumnKind =
  | { kind: 'string'; length: number }
  | { kind: 'text' }
  | { kind: 'int' }
  | { kind: 'bigint' }
  | { kind: 'decimal'; precision: number; scale: number }
  /** Hospital wall-clock time, millisecond precision, no zone. */
  | { kind: 'datetime' }
  | { kind: 'date' };

export interface ColumnSpec {
  name: string;
  type: ColumnKind;
  nullable?: boolean;
  primary?: boolean;
  /** Auto-increment integer key. */
  generated?: boolean;
  comment?: string;
}

export interface TableSpec {
  name: string;
  comment?: string;
  columns: ColumnSpec[];
  indices?: Array<{ columns: string[]; unique?: boolean }>;
}

export const str = (length: number): ColumnKind => ({ kind: 'string', length });
export const text: ColumnKind = { kind: 'text' };
export const int: ColumnKind = { kind: 'int' };
export const bigint: ColumnKind = { kind: 'bigint' };
export const dec = (precision: number, scale: number): ColumnKind => ({ kind: 'decimal', precision, scale });
export const datetime: ColumnKind = { kind: 'datetime' };
export const date: ColumnKind = { kind: 'date' };

function columnOptions(dialect: Dialect, spec: ColumnSpec): EntitySchemaColumnOptions {
  const base: Omit<EntitySchemaColumnOptions, 'type'> = {
    name: spec.name,
    nullable: spec.nullable ?? !spec.primary,
    primary: spec.primary,
    comment: dialect === 'sqlite' ? undefined : spec.comment,
  };
  if (spec.generated) return { ...base, type: dialect === 'sqlite' ? 'integer' : 'int', primary: true, generated: 'increment' };
  const t = spec.type;
  switch (t.kind) {
    case 'string':
      return { ...base, type: dialect === 'mssql' ? 'nvarchar' : 'varchar', length: t.length };
    case 'text':
      return dialect === 'mssql' ? { ...base, type: 'nvarchar', length: 'MAX' } : { ...base, type: 'text' };
    case 'int':
      return { ...base, type: dialect === 'sqlite' ? 'integer' : 'int' };
    case 'bigint':
      return { ...base, type: 'bigint' };
    case 'decimal':
      return { ...base, type: 'decimal', precision: t.precision, scale: t.scale };
    case 'datetime':
      if (dialect === 'postgres') return { ...base, type: 'timestamp', precision: 3 };
      if (dialect === 'mssql') return { ...base, type: 'datetime2', precision: 3 };
      if (dialect === 'mysql') return { ...base, type: 'datetime', precision: 3 };
      // SQLite keeps the text as written: 'YYYY-MM-DD HH:mm:ss.SSS' sorts correctly.
      return { ...base, type: 'datetime' };
    case 'date':
      return { ...base, type: 'date' };
  }
}

export function toEntitySchemas(dialect: Dialect, tables: TableSpec[]): Array<EntitySchema<any>> {
  return tables.map(
    (table) =>
      new EntitySchema<any>({
        name: table.name,
        tableName: table.name,
        columns: Object.fromEntries(table.columns.map((c) => [c.name, columnOptions(dialect, c)])),
        indices: (table.indices ?? []).map((ix) => ({
          name: `IX_${table.name}_${ix.columns.join('_')}`.slice(0, 60),
          columns: ix.columns,
          unique: ix.unique,
        })),
      }),
  );
}

// Creating a HIS database: the schema (TypeORM entities built for the target database) and the
// deterministic demo data. The engine calls ensureDemoHis() at first start so `npm start` has a
// hospital to talk to; tests and benchmarks call installHis() on SQLite, PostgreSQL or MariaDB.
import { existsSync, mkdirSync, renameSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { bulkSink, sqliteHandle } from '../db/bulk';
import { dialectOf, openDataSource, type ConnectionConfig } from '../db/dialect';
import { Db } from '../db/executor';
import { toEntitySchemas, type ColumnKind, type TableSpec } from '../db/table-spec';
import { englishSink } from '../example-english/translate';
import { englishTables } from '../example-english/schema';
import { generateDemoData, type GenerateStats, type RowSink } from './generator';
import { demoTables } from './schema';

export { demoTables } from './schema';
export { generateDemoData, type GenerateOptions, type GenerateStats, type RowSink } from './generator';

/** The schema shapes we can create: the demo HIS, and the English example that proves the mapping. */
export const HIS_LAYOUTS: Record<string, { tables: TableSpec[]; wrap(sink: RowSink): RowSink }> = {
  'demo-his': { tables: demoTables, wrap: (sink) => sink },
  'example-english': { tables: englishTables, wrap: englishSink },
};
export type HisLayout = keyof typeof HIS_LAYOUTS;

export interface InstallOptions {
  /** `demo-his` (default) or `example-english`; the mapping of the same name reads it. */
  layout?: HisLayout;
  seed?: number;
  /** 100..1,000,000 in normal use (any 1..1,000,000 is accepted). */
  visits?: number;
  today?: Date;
  days?: number;
  /** Create the schema only, no rows. */
  schemaOnly?: boolean;
  onProgress?(visitsDone: number): void;
}

export interface InstallResult extends GenerateStats {
  ms: number;
}

/** Creates the tables of a layout (TypeORM synchronize) and fills them with generated data. */
export async function installHis(connection: ConnectionConfig, options: InstallOptions = {}): Promise<InstallResult> {
  const layout = HIS_LAYOUTS[options.layout ?? 'demo-his'];
  if (!layout) throw new Error(`unknown HIS layout "${options.layout}"; known: ${Object.keys(HIS_LAYOUTS).join(', ')}`);
  const dialect = dialectOf(connection);
  const started = Date.now();
  const ds = await openDataSource(connection, toEntitySchemas(dialect, layout.tables), true);
  const db = new Db(ds, dialect);
  try {
    if (options.schemaOnly) return { visits: 0, patients: 0, rows: {}, totalRows: 0, ms: Date.now() - started };
    if (dialect === 'sqlite') sqliteHandle(db).pragma('synchronous = OFF'); // bulk load; the file is renamed into place only when complete
    const stats = await generateDemoData(layout.wrap(bulkSink(db)), {
      seed: options.seed ?? 1,
      visits: options.visits ?? 2000,
      today: options.today,
      days: options.days,
      onProgress: options.onProgress,
    });
    if (dialect === 'sqlite') {
      sqliteHandle(db).pragma('synchronous = NORMAL');
      sqliteHandle(db).pragma('wal_checkpoint(TRUNCATE)');
    }
    return { ...stats, ms: Date.now() - started };
  } finally {
    await db.close();
  }
}

export interface CreateDemoHisOptions {
  file: string;
  seed?: number;
  visits?: number;
  today?: Date;
  layout?: HisLayout;
  onProgress?(visitsDone: number): void;
}

/**
 * Builds a demo HIS in an SQLite file. The data is written to a temporary file that is renamed into
 * place at the end, so an interrupted run never leaves a half-filled HIS behind.
 */
export async function createDemoHis(options: CreateDemoHisOptions): Promise<InstallResult & { file: string; bytes: number }> {
  const file = path.resolve(options.file);
  mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.building-${process.pid}`;
  for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
  try {
    const result = await installHis({ type: 'sqlite', file: tmp }, { layout: options.layout, seed: options.seed, visits: options.visits, today: options.today, onProgress: options.onProgress });
    for (const f of [`${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
    renameSync(tmp, file);
    return { ...result, file, bytes: statSync(file).size };
  } catch (err) {
    for (const f of [tmp, `${tmp}-wal`, `${tmp}-shm`]) rmSync(f, { force: true });
    throw err;
  }
}

export const DEFAULT_DEMO_FILE = 'demo-his.sqlite';

/**
 * The engine's first-start hook: makes `<dataDir>/demo-his.sqlite` when it does not exist yet and
 * returns how to connect to it with the `demo-his` mapping.
 */
export async function ensureDemoHis(dataDir: string, options: { seed?: number; visits?: number } = {}): Promise<{ connection: ConnectionConfig; mapping: string; created: boolean; file: string }> {
  const file = path.join(dataDir, DEFAULT_DEMO_FILE);
  let created = false;
  if (!existsSync(file)) {
    await createDemoHis({ file, seed: options.seed ?? 1, visits: options.visits ?? 2000 });
    created = true;
  } else {
    addMissingDemoTables(file);
    addMissingDemoColumns(file);
  }
  return { connection: { type: 'sqlite', file }, mapping: 'demo-his', created, file };
}

/**
 * A demo HIS made by an earlier version lacks the columns added to the schema since (e.g.
 * CD_CHIDINH.SO_ANH, SO_SERIES, LINK_XEM_ANH), and the mapping selects them: they are added, empty.
 * Returns the columns added, as `TABLE.COLUMN`.
 */
export function addMissingDemoColumns(file: string): string[] {
  const db = new Database(file);
  const added: string[] = [];
  try {
    for (const table of demoTables) {
      const existing = new Set((db.prepare(`PRAGMA table_info("${table.name}")`).all() as Array<{ name: string }>).map((c) => c.name));
      if (existing.size === 0) continue; // a table the file does not have at all is not ours to invent here
      for (const column of table.columns) {
        if (existing.has(column.name) || column.primary) continue;
        db.exec(`ALTER TABLE "${table.name}" ADD COLUMN "${column.name}" ${sqliteColumnType(column.type)}`);
        added.push(`${table.name}.${column.name}`);
      }
    }
  } finally {
    db.close();
  }
  return added;
}

/**
 * A demo HIS made by an earlier version lacks the tables added to the schema since (the documents a
 * visit produces: KB_CHUYENTUYEN, KB_CHUNGSINH, KB_GIAYNGHI, KB_HIV, KB_LAO, KB_GIAMDINH), and the
 * mapping reads them: they are created, empty (its visits simply have no such documents). Returns
 * the tables created.
 */
export function addMissingDemoTables(file: string): string[] {
  const db = new Database(file);
  const created: string[] = [];
  try {
    const existing = new Set((db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as Array<{ name: string }>).map((t) => t.name));
    for (const table of demoTables) {
      if (existing.has(table.name)) continue;
      const columns = table.columns.map((c) =>
        c.generated ? `"${c.name}" integer PRIMARY KEY AUTOINCREMENT NOT NULL` : `"${c.name}" ${sqliteColumnType(c.type)}${c.primary ? ' PRIMARY KEY NOT NULL' : ''}`,
      );
      db.transaction(() => {
        db.exec(`CREATE TABLE "${table.name}" (${columns.join(', ')})`);
        for (const [i, index] of (table.indices ?? []).entries()) {
          db.exec(`CREATE ${index.unique ? 'UNIQUE ' : ''}INDEX "IDX_${table.name}_${i}" ON "${table.name}" (${index.columns.map((c) => `"${c}"`).join(', ')})`);
        }
      })();
      created.push(table.name);
    }
  } finally {
    db.close();
  }
  return created;
}

/** The declared SQLite type TypeORM gives each column kind (table-spec.ts), so added columns look the same. */
function sqliteColumnType(type: ColumnKind): string {
  switch (type.kind) {
    case 'string':
      return `varchar(${type.length})`;
    case 'text':
      return 'text';
    case 'int':
      return 'INTEGER';
    case 'bigint':
      return 'bigint';
    case 'decimal':
      return `decimal(${type.precision},${type.scale})`;
    case 'datetime':
      return 'datetime';
    case 'date':
      return 'date';
  }
}

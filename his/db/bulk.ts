// Bulk inserts for loading data (demo generator, fixtures, benchmarks): prepared statements inside
// one transaction per batch on SQLite, multi-row INSERT … VALUES elsewhere. Never per-row ORM saves.
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { RowSink } from '../demo/generator';
import { maxParameters, placeholder, quoteIdent } from './dialect';
import type { Db } from './executor';

/** The better-sqlite3 handle under a TypeORM DataSource. */
export function sqliteHandle(db: Db): SqliteDatabase {
  const handle = (db.dataSource.driver as unknown as { databaseConnection?: SqliteDatabase }).databaseConnection;
  if (!handle) throw new Error('not a better-sqlite3 data source');
  return handle;
}

export function bulkSink(db: Db): RowSink {
  if (db.dialect === 'sqlite') {
    const handle = sqliteHandle(db);
    const statements = new Map<string, Statement>();
    return {
      async insert(table, columns, rows) {
        const key = `${table}(${columns.join(',')})`;
        let stmt = statements.get(key);
        if (!stmt) {
          stmt = handle.prepare(`INSERT INTO ${quoteIdent('sqlite', table)} (${columns.map((c) => quoteIdent('sqlite', c)).join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
          statements.set(key, stmt);
        }
        const s = stmt;
        handle.transaction((batch: unknown[][]) => {
          for (const row of batch) s.run(row);
        })(rows);
      },
    };
  }
  return {
    async insert(table, columns, rows) {
      const perStatement = Math.max(1, Math.floor(maxParameters(db.dialect) / columns.length));
      const head = `INSERT INTO ${quoteIdent(db.dialect, table)} (${columns.map((c) => quoteIdent(db.dialect, c)).join(', ')}) VALUES `;
      await db.transaction(async (tx) => {
        for (let i = 0; i < rows.length; i += perStatement) {
          const part = rows.slice(i, i + perStatement);
          const params: unknown[] = [];
          const values = part.map((row) => `(${row.map((v) => (params.push(v), placeholder(db.dialect, params.length - 1))).join(', ')})`);
          await tx.run(head + values.join(', '), params);
        }
      });
    },
  };
}

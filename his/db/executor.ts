// Runs SQL on a TypeORM DataSource with one interface for plain queries and transactions.
// SQLite (better-sqlite3) has a single connection shared by TypeORM, so two interleaved async
// transactions would nest into each other: there every operation takes a lock first.
import type { Database as SqliteDatabase, Statement } from 'better-sqlite3';
import type { DataSource, QueryRunner } from 'typeorm';
import type { Dialect } from './dialect';

export interface SqlExecutor {
  readonly dialect: Dialect;
  rows<T = Record<string, unknown>>(sql: string, params?: unknown[]): Promise<T[]>;
  /** Runs a statement and returns the number of rows it changed. */
  run(sql: string, params?: unknown[]): Promise<number>;
}

class Mutex {
  private tail: Promise<void> = Promise.resolve();
  async lock<T>(fn: () => Promise<T>): Promise<T> {
    const previous = this.tail;
    let release!: () => void;
    this.tail = new Promise<void>((resolve) => (release = resolve));
    await previous;
    try {
      return await fn();
    } finally {
      release();
    }
  }
}

async function structured(runner: QueryRunner, sql: string, params: unknown[]): Promise<{ records: any[]; affected: number }> {
  const result: any = await runner.query(sql, params, true);
  return { records: Array.isArray(result?.records) ? result.records : [], affected: Number(result?.affected ?? 0) };
}

/**
 * On SQLite, statements run straight on the better-sqlite3 handle TypeORM opened, through a cache of
 * prepared statements: TypeORM's per-query machinery would cost more than the query itself.
 */
class SqliteStatements {
  private readonly cache = new Map<string, Statement>();
  constructor(private readonly handle: SqliteDatabase) {}

  private prepare(sql: string): Statement {
    let stmt = this.cache.get(sql);
    if (!stmt) {
      stmt = this.handle.prepare(sql);
      if (this.cache.size > 500) this.cache.clear();
      this.cache.set(sql, stmt);
    }
    return stmt;
  }

  private static bind(params: unknown[]): unknown[] {
    return params.map((p) => (p === undefined ? null : typeof p === 'boolean' ? (p ? 1 : 0) : p));
  }

  rows(sql: string, params: unknown[]): any[] {
    const stmt = this.prepare(sql);
    if (stmt.reader) return stmt.all(...SqliteStatements.bind(params));
    stmt.run(...SqliteStatements.bind(params));
    return [];
  }

  run(sql: string, params: unknown[]): number {
    const stmt = this.prepare(sql);
    if (stmt.reader) return stmt.all(...SqliteStatements.bind(params)).length;
    return stmt.run(...SqliteStatements.bind(params)).changes;
  }

  exec(sql: string): void {
    this.handle.exec(sql);
  }
}

export class Db implements SqlExecutor {
  private readonly mutex = new Mutex();
  private sqlite?: SqliteStatements;

  constructor(
    readonly dataSource: DataSource,
    readonly dialect: Dialect,
  ) {
    if (dialect === 'sqlite') {
      const handle = (dataSource.driver as unknown as { databaseConnection?: SqliteDatabase }).databaseConnection;
      if (handle) this.sqlite = new SqliteStatements(handle);
    }
  }

  private withRunner<T>(fn: (runner: QueryRunner) => Promise<T>): Promise<T> {
    if (this.dialect === 'sqlite') return this.mutex.lock(() => fn(this.dataSource.createQueryRunner()));
    return (async () => {
      const runner = this.dataSource.createQueryRunner();
      try {
        return await fn(runner);
      } finally {
        await runner.release();
      }
    })();
  }

  rows<T = Record<string, unknown>>(sql: string, params: unknown[] = []): Promise<T[]> {
    const sqlite = this.sqlite;
    if (sqlite) return this.mutex.lock(async () => sqlite.rows(sql, params) as T[]);
    return this.withRunner(async (r) => (await structured(r, sql, params)).records as T[]);
  }

  run(sql: string, params: unknown[] = []): Promise<number> {
    const sqlite = this.sqlite;
    if (sqlite) return this.mutex.lock(async () => sqlite.run(sql, params));
    return this.withRunner(async (r) => (await structured(r, sql, params)).affected);
  }

  /** Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
    const sqlite = this.sqlite;
    if (sqlite) {
      return this.mutex.lock(async () => {
        sqlite.exec('BEGIN IMMEDIATE');
        const tx: SqlExecutor = {
          dialect: this.dialect,
          rows: async <R>(sql: string, params: unknown[] = []) => sqlite.rows(sql, params) as R[],
          run: async (sql: string, params: unknown[] = []) => sqlite.run(sql, params),
        };
        try {
          const value = await fn(tx);
          sqlite.exec('COMMIT');
          return value;
        } catch (err) {
          try {
            sqlite.exec('ROLLBACK');
          } catch {
            // already rolled back by SQLite (e.g. after SQLITE_FULL)
          }
          throw err;
        }
      });
    }
    return this.withRunner(async (runner) => {
      await runner.startTransaction();
      const tx: SqlExecutor = {
        dialect: this.dialect,
        rows: async <R>(sql: string, params: unknown[] = []) => (await structured(runner, sql, params)).records as R[],
        run: async (sql: string, params: unknown[] = []) => (await structured(runner, sql, params)).affected,
      };
      try {
        const value = await fn(tx);
        await runner.commitTransaction();
        return value;
      } catch (err) {
        if (runner.isTransactionActive) await runner.rollbackTransaction().catch(() => undefined);
        throw err;
      }
    });
  }

  async close(): Promise<void> {
    if (this.dataSource.isInitialized) await this.dataSource.destroy();
  }
}

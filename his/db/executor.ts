// Runs SQL on a TypeORM DataSource with one interface for plain queries and transactions.
// SQLite (better-sqlite3) has a single connection shared by TypeORM, so two interleaved async
// transactions would nest into each other: there every operation takes a lock first.
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

export class Db implements SqlExecutor {
  private readonly mutex = new Mutex();

  constructor(
    readonly dataSource: DataSource,
    readonly dialect: Dialect,
  ) {}

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
    return this.withRunner(async (r) => (await structured(r, sql, params)).records as T[]);
  }

  run(sql: string, params: unknown[] = []): Promise<number> {
    return this.withRunner(async (r) => (await structured(r, sql, params)).affected);
  }

  /** Runs `fn` in one transaction: commits when it resolves, rolls back when it throws. */
  transaction<T>(fn: (tx: SqlExecutor) => Promise<T>): Promise<T> {
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

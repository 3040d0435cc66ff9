// The little SQL that differs between the HIS databases we support: identifier quoting, parameter
// placeholders, row limits and how a connection is opened. Everything else is portable SQL.
import 'reflect-metadata';
import { DataSource, type DataSourceOptions, type EntitySchema } from 'typeorm';
import { z } from 'zod';

export type Dialect = 'sqlite' | 'postgres' | 'mysql' | 'mssql';

export const connectionSchema = z.discriminatedUnion('type', [
  z.object({
    type: z.literal('sqlite'),
    file: z.string().min(1),
    /**
     * `normal` (default): WAL without an fsync per commit: an application crash loses nothing, a
     * power cut may lose the last commits. `full`: fsync every commit (about 1 ms each on SSD).
     */
    synchronous: z.enum(['normal', 'full']).default('normal'),
  }),
  z.object({
    type: z.enum(['postgres', 'mysql', 'mariadb', 'mssql']),
    host: z.string().default('127.0.0.1'),
    port: z.number().int().min(1).max(65535).optional(),
    database: z.string().min(1),
    username: z.string().optional(),
    password: z.string().optional(),
    /** Connections kept open (default 4). */
    poolSize: z.number().int().min(1).max(100).default(4),
    /** mssql only: trust the server certificate (self-signed hospital servers). */
    trustServerCertificate: z.boolean().default(true),
  }),
]);
export type ConnectionConfig = z.input<typeof connectionSchema>;

export function dialectOf(config: ConnectionConfig): Dialect {
  if (config.type === 'sqlite') return 'sqlite';
  if (config.type === 'mariadb' || config.type === 'mysql') return 'mysql';
  return config.type;
}

export function quoteIdent(dialect: Dialect, name: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) throw new Error(`invalid SQL identifier "${name}" (letters, digits and _ only)`);
  switch (dialect) {
    case 'mysql':
      return '`' + name + '`';
    case 'mssql':
      return '[' + name + ']';
    default:
      return '"' + name + '"';
  }
}

/** The n-th (0-based) positional parameter. */
export function placeholder(dialect: Dialect, index: number): string {
  switch (dialect) {
    case 'postgres':
      return `$${index + 1}`;
    case 'mssql':
      return `@${index}`;
    default:
      return '?';
  }
}

/** Appends a row limit to a SELECT that already has an ORDER BY. */
export function withLimit(dialect: Dialect, sql: string, limit: number): string {
  const n = Math.max(1, Math.floor(limit));
  return dialect === 'mssql' ? `${sql} OFFSET 0 ROWS FETCH NEXT ${n} ROWS ONLY` : `${sql} LIMIT ${n}`;
}

/** Most parameters one statement may carry (SQLite 32766, SQL Server 2100, PostgreSQL 65535). */
export function maxParameters(dialect: Dialect): number {
  return dialect === 'mssql' ? 2000 : dialect === 'sqlite' ? 32_000 : 60_000;
}

// pg would turn timestamps into Date in the process's time zone; the HIS keeps hospital wall-clock
// time, so we read the text as stored (1082 date, 1114 timestamp, 1184 timestamptz, 1700 numeric, 20 int8).
const pgRawTypes = new Set([1082, 1114, 1184, 1700, 20]);

export function dataSourceOptions(config: ConnectionConfig, entities: Array<EntitySchema<any>> = [], synchronize = false): DataSourceOptions {
  const parsed = connectionSchema.parse(config);
  if (parsed.type === 'sqlite') {
    const synchronous = parsed.synchronous.toUpperCase();
    return {
      type: 'better-sqlite3',
      database: parsed.file,
      entities,
      synchronize,
      enableWAL: true,
      statementCacheSize: 200,
      prepareDatabase: (db: { pragma(p: string): unknown }) => {
        db.pragma(`synchronous = ${synchronous}`);
        db.pragma('busy_timeout = 10000');
      },
    };
  }
  const common = {
    host: parsed.host,
    database: parsed.database,
    username: parsed.username,
    password: parsed.password,
    entities,
    synchronize,
  };
  switch (parsed.type) {
    case 'postgres': {
      // eslint-disable-next-line @typescript-eslint/no-require-imports
      const pg = require('pg') as typeof import('pg');
      return {
        ...common,
        type: 'postgres',
        port: parsed.port ?? 5432,
        poolSize: parsed.poolSize,
        extra: {
          connectionTimeoutMillis: 5000,
          types: { getTypeParser: (oid: number, format?: any) => (pgRawTypes.has(oid) ? (v: string) => v : pg.types.getTypeParser(oid, format)) },
        },
      };
    }
    case 'mysql':
    case 'mariadb':
      return {
        ...common,
        type: parsed.type,
        port: parsed.port ?? 3306,
        poolSize: parsed.poolSize,
        charset: 'utf8mb4_unicode_ci',
        dateStrings: true,
        bigNumberStrings: true,
        supportBigNumbers: true,
        connectTimeout: 5000,
      };
    case 'mssql':
      return {
        ...common,
        type: 'mssql',
        port: parsed.port ?? 1433,
        pool: { max: parsed.poolSize },
        options: { trustServerCertificate: parsed.trustServerCertificate, useUTC: true },
      };
  }
}

export async function openDataSource(config: ConnectionConfig, entities: Array<EntitySchema<any>> = [], synchronize = false): Promise<DataSource> {
  const ds = new DataSource(dataSourceOptions(config, entities, synchronize));
  await ds.initialize();
  return ds;
}

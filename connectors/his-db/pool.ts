// One open HisDatabase per (database, mapping), shared by the lookups service and every his-db
// source and destination that points at it: on SQLite a single connection (and its write lock)
// must serve them all, and elsewhere it saves connections.
import path from 'node:path';
import { connectionSchema, type ConnectionConfig } from '../../his/db/dialect';
import { ensureDemoHis } from '../../his/demo';
import { loadMapping } from '../../his/mapping/load';
import { HisDatabase, type HisDatabaseOptions } from './his-database';

interface Entry {
  his: Promise<HisDatabase>;
  users: number;
}

const open = new Map<string, Entry>();

export interface HisLease {
  his: HisDatabase;
  release(): Promise<void>;
}

/** The connection to use: the configured one, or the demo HIS in the engine's data folder. */
export async function resolveConnection(connection: ConnectionConfig | undefined, dataDir: string): Promise<ConnectionConfig> {
  if (connection) return connection;
  return (await ensureDemoHis(dataDir)).connection;
}

function keyOf(connection: ConnectionConfig, mapping: string): string {
  const c = connectionSchema.parse(connection);
  const where = c.type === 'sqlite' ? path.resolve(c.file) : `${c.type}://${c.username ?? ''}@${c.host}:${c.port ?? ''}/${c.database}`;
  return `${where}#${mapping}`;
}

export async function acquireHis(connection: ConnectionConfig, mapping: string, options?: HisDatabaseOptions): Promise<HisLease> {
  const key = keyOf(connection, mapping);
  let entry = open.get(key);
  if (!entry) {
    entry = { his: HisDatabase.open(connection, loadMapping(mapping), options), users: 0 };
    open.set(key, entry);
    // A failed open is not cached: the next acquire tries again (the database may come back).
    entry.his.catch(() => open.get(key) === entry && open.delete(key));
  }
  entry.users++;
  const mine = entry;
  let his: HisDatabase;
  try {
    his = await mine.his;
  } catch (err) {
    mine.users--;
    throw err;
  }
  let released = false;
  return {
    his,
    async release() {
      if (released) return;
      released = true;
      if (--mine.users === 0 && open.get(key) === mine) {
        open.delete(key);
        await his.close();
      }
    },
  };
}

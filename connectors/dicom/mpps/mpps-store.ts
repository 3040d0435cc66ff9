// Performed Procedure Steps as received (N-CREATE, then N-SETs), kept in the connector's index DB.
import type Database from 'better-sqlite3';
import type { Naturalized } from '../worklist/matching';

export type MppsStatus = 'IN PROGRESS' | 'COMPLETED' | 'DISCONTINUED';
export const mppsStatuses: readonly MppsStatus[] = ['IN PROGRESS', 'COMPLETED', 'DISCONTINUED'];

export interface MppsRecord {
  uid: string;
  status: MppsStatus;
  callingAe: string;
  createdAt: string;
  updatedAt: string;
  attributes: Naturalized;
}

export class MppsStore {
  private readonly stmts;

  constructor(private readonly db: Database.Database) {
    db.exec(`CREATE TABLE IF NOT EXISTS mpps (
      uid TEXT PRIMARY KEY, status TEXT NOT NULL, calling_ae TEXT NOT NULL,
      created_at TEXT NOT NULL, updated_at TEXT NOT NULL, attributes TEXT NOT NULL
    )`);
    this.stmts = {
      get: db.prepare('SELECT * FROM mpps WHERE uid = ?'),
      insert: db.prepare('INSERT INTO mpps (uid, status, calling_ae, created_at, updated_at, attributes) VALUES (?, ?, ?, ?, ?, ?)'),
      update: db.prepare('UPDATE mpps SET status = ?, updated_at = ?, attributes = ? WHERE uid = ?'),
      list: db.prepare('SELECT * FROM mpps ORDER BY updated_at DESC LIMIT ?'),
    };
  }

  get(uid: string): MppsRecord | undefined {
    const row = this.stmts.get.get(uid) as { uid: string; status: MppsStatus; calling_ae: string; created_at: string; updated_at: string; attributes: string } | undefined;
    if (!row) return undefined;
    return { uid: row.uid, status: row.status, callingAe: row.calling_ae, createdAt: row.created_at, updatedAt: row.updated_at, attributes: JSON.parse(row.attributes) };
  }

  /** Inserts; false when the UID already exists. */
  create(record: MppsRecord): boolean {
    try {
      this.stmts.insert.run(record.uid, record.status, record.callingAe, record.createdAt, record.updatedAt, JSON.stringify(record.attributes));
      return true;
    } catch (err) {
      if ((err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY') return false;
      throw err;
    }
  }

  update(uid: string, status: MppsStatus, attributes: Naturalized, at: string): void {
    this.stmts.update.run(status, at, JSON.stringify(attributes), uid);
  }

  list(limit = 100): MppsRecord[] {
    return (this.stmts.list.all(limit) as Array<{ uid: string }>).map((r) => this.get(r.uid)!);
  }
}

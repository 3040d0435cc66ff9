// The order source's durable memory, in its own SQLite file under the engine's data folder:
// the highest change stamp seen per source, and the signature (change stamp + row version) of each
// order delivered within the re-read window. A row is delivered when its signature is new, so an
// order is neither missed (late commits inside the window are re-read) nor repeated (across polls
// and restarts), and an order changed again is delivered again.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';

export class WatermarkStore {
  private readonly db: Database.Database;
  private readonly getMark: Database.Statement;
  private readonly getSeen: Database.Statement;
  private readonly putSeen: Database.Statement;
  private readonly putMark: Database.Statement;
  private readonly pruneSeen: Database.Statement;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS watermark (source TEXT PRIMARY KEY, stamp TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS seen (
        source TEXT NOT NULL, order_id TEXT NOT NULL, signature TEXT NOT NULL, stamp TEXT NOT NULL,
        PRIMARY KEY (source, order_id)
      );
      CREATE INDEX IF NOT EXISTS seen_stamp ON seen (source, stamp);
    `);
    this.getMark = this.db.prepare('SELECT stamp FROM watermark WHERE source = ?');
    this.getSeen = this.db.prepare('SELECT signature FROM seen WHERE source = ? AND order_id = ?');
    this.putSeen = this.db.prepare(
      'INSERT INTO seen (source, order_id, signature, stamp) VALUES (?, ?, ?, ?) ON CONFLICT (source, order_id) DO UPDATE SET signature = excluded.signature, stamp = excluded.stamp',
    );
    this.putMark = this.db.prepare(
      'INSERT INTO watermark (source, stamp) VALUES (?, ?) ON CONFLICT (source) DO UPDATE SET stamp = excluded.stamp WHERE excluded.stamp > watermark.stamp',
    );
    this.pruneSeen = this.db.prepare('DELETE FROM seen WHERE source = ? AND stamp < ?');
  }

  /** Highest change stamp delivered (normalised `YYYY-MM-DD HH:mm:ss.fff`), or undefined before the first. */
  watermark(source: string): string | undefined {
    return (this.getMark.get(source) as { stamp: string } | undefined)?.stamp;
  }

  /** Sets the starting point of a new source (no effect once it has one). */
  initialise(source: string, stamp: string): void {
    if (this.watermark(source) === undefined) this.putMark.run(source, stamp);
  }

  isDelivered(source: string, orderId: string, signature: string): boolean {
    return (this.getSeen.get(source, orderId) as { signature: string } | undefined)?.signature === signature;
  }

  /** Records a delivered row and advances the watermark, atomically. */
  readonly record = (source: string, orderId: string, signature: string, stamp: string): void => {
    this.db.transaction(() => {
      this.putSeen.run(source, orderId, signature, stamp);
      this.putMark.run(source, stamp);
    })();
  };

  /** Records several delivered rows in one transaction. */
  recordMany(source: string, rows: Array<{ orderId: string; signature: string; stamp: string }>): void {
    if (!rows.length) return;
    this.db.transaction(() => {
      for (const r of rows) {
        this.putSeen.run(source, r.orderId, r.signature, r.stamp);
        this.putMark.run(source, r.stamp);
      }
    })();
  }

  /** Forgets signatures older than the re-read window (they can never be read again). */
  prune(source: string, before: string): number {
    return this.pruneSeen.run(source, before).changes;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

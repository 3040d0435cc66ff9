// Rollups stay exact across crashes: minutes merged at ticks, minutes still in memory recomputed from
// the readings after the watermark, found by rowid without scanning the table.
import assert from 'node:assert/strict';
import path from 'node:path';
import { openIomtDatabase, type IomtDatabase } from '../../iomt/db';
import { MINUTE, Rollups } from '../../iomt/rollups';
import { tempDir } from './helpers';

describe('iomt/rollups', () => {
  let tmp: ReturnType<typeof tempDir>;
  let db: IomtDatabase;
  beforeEach(() => {
    tmp = tempDir();
    db = openIomtDatabase(path.join(tmp.dir, 'r.sqlite'), { synchronous: 'normal' });
  });
  afterEach(() => {
    db.close();
    tmp.cleanup();
  });

  // The service's write path: store the reading, then add it to the rollups in the same transaction.
  const store = (r: Rollups, visit: string, t: number, hr: number) => {
    db.transaction(() => {
      db.prepare('INSERT INTO readings (visit_id, patient_id, device_id, message_id, t, received_at, hr) VALUES (?, ?, ?, ?, ?, ?, ?)').run(visit, 'P', 'D', `${visit}-${t}`, t, t, hr);
      r.addInTransaction(visit, 'heart-rate', t, hr);
    })();
    r.commitPending();
  };
  const truth = (visit: string) =>
    db.prepare('SELECT (t / 60000) * 60000 AS bucket, COUNT(*) AS n, SUM(hr) AS sum, MIN(hr) AS min, MAX(hr) AS max FROM readings WHERE visit_id = ? GROUP BY bucket ORDER BY bucket').all(visit) as Array<{ bucket: number; n: number; sum: number }>;
  const series = (r: Rollups, visit: string) => r.series(visit, 'heart-rate', 0, Number.MAX_SAFE_INTEGER, MINUTE).map((p) => ({ bucket: p.t, n: p.n, sum: Math.round(p.mean * p.n), min: p.min, max: p.max }));

  it('is exact after crashes at any point, with the watermark and rowid mark moving forward', () => {
    const base = Math.floor(Date.parse('2026-11-22T01:00:00Z') / MINUTE) * MINUTE;
    let r = new Rollups(db, 2 * MINUTE);
    let hr = 60;
    for (let step = 0; step < 40; step++) {
      const now = base + step * 30_000;
      // Current readings, a late one (3 min old) and one slightly ahead of the clock.
      store(r, 'V1', now - 1000, hr++);
      store(r, 'V1', now - 3 * MINUTE, hr++);
      store(r, 'V2', now + 60_000, hr++);
      r.tick(now);
      if (step % 13 === 12) r = new Rollups(db, 2 * MINUTE); // crash: the in-memory minutes are lost
    }
    for (const v of ['V1', 'V2']) assert.deepEqual(series(r, v), truth(v).map((t) => ({ ...t })), `visit ${v}`);
    const mark = Number((db.prepare("SELECT value FROM meta WHERE key = 'rollup_rowid_mark'").get() as { value: string }).value);
    assert.ok(mark > 0, 'the rowid mark advanced, so recovery does not scan the whole table');
  });
});

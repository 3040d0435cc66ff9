// An engine started on a data folder whose demo HIS was made before the visit-document tables
// existed (KB_CHUYENTUYEN, KB_CHUNGSINH, KB_GIAYNGHI, KB_HIV, KB_LAO, KB_GIAMDINH): they are created
// empty at start, so the demo-his mapping, which reads them for claims, keeps working.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { loadClaimSource } from '../../claims/pipeline';
import { HisDatabase } from '../../connectors/his-db/his-database';
import { addMissingDemoTables, DEFAULT_DEMO_FILE, ensureDemoHis, installHis } from '../../his/demo';
import { loadMapping } from '../../his/mapping/load';

const DOCUMENT_TABLES = ['KB_CHUYENTUYEN', 'KB_CHUNGSINH', 'KB_GIAYNGHI', 'KB_HIV', 'KB_LAO', 'KB_GIAMDINH'];

describe('demo HIS from before the visit-document tables', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-demo-upgrade-docs-'));
    // 20 days of history, so that some visits are discharged and claimable.
    await installHis({ type: 'sqlite', file: path.join(dir, DEFAULT_DEMO_FILE) }, { visits: 300, days: 20, today: new Date('2025-03-20T10:00:00+07:00') });
    const db = new Database(path.join(dir, DEFAULT_DEMO_FILE));
    for (const t of DOCUMENT_TABLES) db.exec(`DROP TABLE ${t}`);
    db.close();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('creates the missing tables empty at start, and claims read the visits again', async () => {
    const file = path.join(dir, DEFAULT_DEMO_FILE);
    const his0 = await HisDatabase.open({ type: 'sqlite', file }, loadMapping('demo-his'));
    const [visit] = await his0.visitsForClaims({ from: '2025-01-01T00:00:00+07:00', to: '2025-03-21T00:00:00+07:00', limit: 1 });
    assert.ok(visit, 'a claimable visit');
    await assert.rejects(loadClaimSource(his0, visit.maLk), /no such table: KB_/, 'without the tables the mapping cannot read documents');
    await his0.close();

    const { connection, created } = await ensureDemoHis(dir);
    assert.equal(created, false);
    const db = new Database(file, { readonly: true });
    for (const t of DOCUMENT_TABLES) assert.equal((db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n, 0, `${t} exists, empty`);
    assert.deepEqual((db.prepare('PRAGMA table_info(KB_CHUNGSINH)').all() as Array<{ name: string; type: string; pk: number }>).slice(0, 3).map((c) => `${c.name} ${c.type} ${c.pk}`), ['SO varchar(50) 1', 'QUYEN_SO varchar(50) 0', 'MA_LK varchar(100) 0']);
    db.close();

    const his = await HisDatabase.open(connection, loadMapping('demo-his'));
    try {
      const source = await loadClaimSource(his, visit.maLk);
      assert.deepEqual(source.documents, { referral: undefined, births: [], leave: [], hivCare: undefined, tbTreatment: [], assessment: undefined });
    } finally {
      await his.close();
    }
    assert.deepEqual(addMissingDemoTables(file), [], 'a second start creates nothing');
  });
});

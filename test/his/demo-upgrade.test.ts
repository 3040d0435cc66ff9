// An engine started on a data folder whose demo HIS was made by an earlier version: the columns the
// schema gained since (the imaging order's image count, series count and viewer link) are added,
// so the demo-his mapping, which selects them, keeps working and the imaging side can store them.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { HisDatabase } from '../../connectors/his-db/his-database';
import { createDemoHis, ensureDemoHis, addMissingDemoColumns, DEFAULT_DEMO_FILE } from '../../his/demo';
import { loadMapping } from '../../his/mapping/load';

describe('demo HIS from an earlier version', function () {
  this.timeout(60_000);
  let dir: string;

  before(async () => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-demo-upgrade-'));
    const file = path.join(dir, DEFAULT_DEMO_FILE);
    await createDemoHis({ file, visits: 100, today: new Date() });
    // What the file looked like before these columns existed.
    const db = new Database(file);
    for (const column of ['SO_ANH', 'SO_SERIES', 'LINK_XEM_ANH']) db.exec(`ALTER TABLE CD_CHIDINH DROP COLUMN ${column}`);
    db.close();
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('gets the missing columns at start, keeps its rows, and takes the imaging update', async () => {
    const file = path.join(dir, DEFAULT_DEMO_FILE);
    const before = (new Database(file, { readonly: true }).prepare('SELECT COUNT(*) AS n FROM CD_CHIDINH').get() as { n: number }).n;
    const { connection, created } = await ensureDemoHis(dir);
    assert.equal(created, false);
    const db = new Database(file, { readonly: true });
    const columns = (db.prepare('PRAGMA table_info(CD_CHIDINH)').all() as Array<{ name: string; type: string }>).filter((c) => ['SO_ANH', 'SO_SERIES', 'LINK_XEM_ANH'].includes(c.name));
    assert.deepEqual(
      columns.map((c) => `${c.name} ${c.type}`),
      ['SO_ANH INTEGER', 'SO_SERIES INTEGER', 'LINK_XEM_ANH varchar(500)'],
    );
    assert.equal((db.prepare('SELECT COUNT(*) AS n FROM CD_CHIDINH').get() as { n: number }).n, before, 'no row lost');
    db.close();

    const his = await HisDatabase.open(connection, loadMapping('demo-his'));
    try {
      const [order] = await his.scheduledImagingOrders();
      assert.ok(order, 'the worklist reads again');
      await his.updateOrderStatus({ orderId: order.id, status: 'completed', studyInstanceUid: '1.2.826.0.1.3680043.10.1.77', imageCount: 12, seriesCount: 2, viewerUrl: 'https://pacs.bv.local/viewer?StudyInstanceUIDs=1.2.826.0.1.3680043.10.1.77' });
      const after = await his.orderByAccession(order.accessionNumber);
      assert.equal(after?.imageCount, 12);
      assert.equal(after?.viewerUrl, 'https://pacs.bv.local/viewer?StudyInstanceUIDs=1.2.826.0.1.3680043.10.1.77');
    } finally {
      await his.close();
    }
    assert.deepEqual(addMissingDemoColumns(file), [], 'a second start adds nothing');
  });
});

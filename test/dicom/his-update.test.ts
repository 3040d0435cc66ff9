// After a study is reconciled and complete, the HIS order row holds what the imaging side knows:
// status completed, the Study Instance UID, the number of images (and series) and the viewer link.
// Run against the demo HIS installed on each database (SQLite, PostgreSQL, MariaDB) with both
// mappings (demo-his and the English example), read back as raw columns, not only through the
// connector that wrote them.
import assert from 'node:assert/strict';
import path from 'node:path';
import { HisDatabase } from '../../connectors/his-db/his-database';
import { installHis } from '../../his/demo';
import { loadMapping } from '../../his/mapping/load';
import { MappedEntity, Params } from '../../his/db/mapped';
import { storeFiles } from '../../connectors/dicom/scu';
import { newUid } from '../../connectors/dicom/dataset/uid';
import { syntheticImage } from '../../connectors/dicom/dataset/synthetic';
import { DIALECTS, createTestDatabase, type TestDatabase } from '../his/helpers';
import { nextEvent, startNode, studyForOrder, tempDir, worklistWindowOrders, OUR_AE, type TestNode } from './helpers';
import fs from 'node:fs';

/** The imaging order's row as stored: the raw column values for the given fields. */
async function rawOrderRow(his: HisDatabase, orderId: string, fields: string[]): Promise<Record<string, unknown>> {
  const e = new MappedEntity('imagingOrder', his.dialect, his.loaded.mapping.entities.imagingOrder);
  const p = new Params(his.dialect);
  const list = fields.map((f) => `${e.q(e.requireOwnColumn(f))} AS ${e.q(f)}`).join(', ');
  const [row] = await his.db.rows<Record<string, unknown>>(`SELECT ${list} FROM ${e.q(e.table)} WHERE ${e.q(e.requireOwnColumn('id'))} = ${p.add(orderId)}`, p.list);
  return row;
}

for (const { name, dialect } of DIALECTS) {
  for (const layout of ['demo-his', 'example-english'] as const) {
    describe(`dicom: HIS order updated after reconciliation, ${name}, mapping ${layout}`, function () {
      this.timeout(120_000);
      let tdb: TestDatabase | undefined;
      let his: HisDatabase | undefined;
      let t: TestNode | undefined;
      let work: string;

      before(async function () {
        tdb = await createTestDatabase(this, dialect);
        // Orders scheduled around today: the node's worklist and reconciliation use the real clock.
        await installHis(tdb.connection, { layout, seed: 11, visits: 150, today: new Date() });
        his = await HisDatabase.open(tdb.connection, loadMapping(layout));
        work = tempDir();
        t = await startNode(
          {
            remotes: [{ aeTitle: 'CT_SIEMENS' }],
            storage: { thumbnails: false },
            reconciliation: { quietPeriodSeconds: 1, viewerUrlTemplate: 'https://pacs.bv.local/viewer?StudyInstanceUIDs={studyUid}&accession={accession}' },
          },
          () => his,
        );
      });
      after(async () => {
        await t?.stop();
        await his?.close();
        await tdb?.drop();
        if (work) fs.rmSync(work, { recursive: true, force: true });
      });

      it('status completed, Study Instance UID, image and series counts and the viewer link are in the order row', async () => {
        const orders = await worklistWindowOrders(his!);
        const order = orders.find((o) => o.status === 'scheduled') ?? orders[0];
        assert.ok(order, 'the demo HIS has imaging orders around today');
        const patient = await his!.patientById(order.patientId);
        const study = studyForOrder(order, patient);
        // Two series (3 + 2 images), as a modality sends a scout and an axial series.
        const files: string[] = [];
        for (const [series, count] of [[newUid(), 3], [newUid(), 2]] as const) {
          for (let i = 1; i <= count; i++) {
            const image = syntheticImage(study, { seriesInstanceUid: series, instanceNumber: i, kind: 'small' });
            const file = path.join(work, `${series}-${i}.dcm`);
            fs.writeFileSync(file, image.bytes);
            files.push(file);
          }
        }
        const updated = nextEvent(t!.node, 'his-update', (e) => e.key === `study:${study.studyInstanceUid}:completed`, 30_000);
        const results = await storeFiles({ host: '127.0.0.1', port: t!.port, callingAeTitle: 'CT_SIEMENS', calledAeTitle: OUR_AE }, files);
        assert.deepEqual(results.map((r) => r.status), [0, 0, 0, 0, 0]);
        assert.equal((await updated).state, 'done');

        const viewerUrl = `https://pacs.bv.local/viewer?StudyInstanceUIDs=${study.studyInstanceUid}&accession=${order.accessionNumber}`;
        const read = await his!.orderByAccession(order.accessionNumber);
        assert.equal(read?.status, 'completed');
        assert.equal(read?.studyInstanceUid, study.studyInstanceUid);
        assert.equal(read?.imageCount, 5);
        assert.equal(read?.seriesCount, 2);
        assert.equal(read?.viewerUrl, viewerUrl);

        const row = await rawOrderRow(his!, order.id, ['status', 'studyInstanceUid', 'imageCount', 'seriesCount', 'viewerUrl', 'updatedBy']);
        assert.equal(String(row.status), layout === 'demo-his' ? '5' : 'DONE', 'the HIS code for completed');
        assert.equal(row.studyInstanceUid, study.studyInstanceUid);
        assert.equal(Number(row.imageCount), 5);
        assert.equal(Number(row.seriesCount), 2);
        assert.equal(row.viewerUrl, viewerUrl);
        assert.equal(row.updatedBy, 'CT_SIEMENS', 'the sending AE as the updater');
      });
    });
  }
}

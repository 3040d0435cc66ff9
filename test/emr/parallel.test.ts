// Bulk publishing: publishMany (one transaction per batch) and the ParallelPublisher (worker threads
// build and sign, the main thread stores) give the same documents as one-by-one publishing:
// created, then unchanged, then a correction as version 2; refused items named, the rest stored.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ParallelPublisher, type PublishItem } from '../../emr/parallel';
import { EmrService } from '../../emr/service';
import { verifyDocument } from '../../emr/sign/signer';
import { DocumentStore } from '../../emr/store/document-store';
import { context, facility, labOrder, labResults, oids, patient, tempDir, testCerts } from './helpers';

function items(count: number, glucose = '7.80'): PublishItem[] {
  return Array.from({ length: count }, (_, i) => ({
    type: 'lab-report' as const,
    ctx: context({ patient: { ...patient, id: `BN-P-${i % 7}`, identifiers: patient.identifiers.filter((x) => x.system !== 'MA_BN') } }),
    input: { order: { ...labOrder, id: `XN-P-${i}` }, results: labResults({ GLU: glucose }) },
    sourceKey: `lab-report:XN-P-${i}`,
  }));
}

describe('emr: bulk and parallel publishing', function () {
  this.timeout(180_000);
  let dir: string;
  let certs: ReturnType<typeof testCerts>;
  let store: DocumentStore;
  let service: EmrService;

  beforeEach(() => {
    dir = tempDir('hisbridge-emr-parallel-');
    certs = testCerts();
    const trust = certs.trust();
    store = new DocumentStore(path.join(dir, 'emr.db'), { audit: () => undefined }, (xml) => verifyDocument(xml, trust));
    service = new EmrService({ store, oids, identity: certs.identity, facility });
  });
  afterEach(() => {
    store.close();
    certs.cleanup();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('publishMany stores a batch; the same batch again is unchanged; a missing author is refused alone', () => {
    const batch = items(12);
    batch[5] = { ...batch[5], ctx: { ...batch[5].ctx, author: undefined } };
    const first = service.publishMany(batch);
    assert.deepEqual(first.map((o) => o.status), [...Array(5).fill('created'), 'error', ...Array(6).fill('created')]);
    assert.equal(first[5].element, 'author/assignedAuthor');
    assert.equal(store.count(), 11);
    const again = service.publishMany(items(12));
    assert.equal(again.filter((o) => o.status === 'unchanged').length, 11);
    assert.equal(again[5].status, 'created');
    // A source twice in one batch: the second is a correction of the first.
    const twice = service.publishMany([...items(1, '9.10'), ...items(1, '9.20')]);
    assert.deepEqual(twice.map((o) => [o.status, o.document!.version]), [
      ['corrected', 2],
      ['corrected', 3],
    ]);
  });

  it('ParallelPublisher builds and signs in worker threads; results equal one-by-one publishing', async () => {
    const publisher = new ParallelPublisher(service, { workers: 2 });
    try {
      const list = items(60);
      list[7] = { ...list[7], ctx: { ...list[7].ctx, patient: { ...list[7].ctx.patient, id: '', identifiers: [] } } };
      const outcomes = await publisher.publishMany(list, { chunk: 8 });
      assert.equal(outcomes.length, 60);
      assert.equal(outcomes[7].status, 'error');
      assert.equal(outcomes[7].element, 'recordTarget/patientRole/id');
      assert.ok(outcomes.every((o, i) => i === 7 || o.status === 'created'));
      assert.equal(store.count(), 59);
      for (const o of outcomes.filter((x) => x.document)) {
        const read = store.read(o.document!.id, { username: 'test' });
        assert.equal(read.verification.status, 'valid', o.sourceKey);
        assert.ok(read.xml.includes(`extension="${o.sourceKey.split(':')[1]}"`));
      }
      const corrected = await publisher.publishMany([...items(3, '5.50'), ...items(1, '5.60')]);
      assert.deepEqual(corrected.map((o) => [o.status, o.document?.version]), [
        ['corrected', 2],
        ['corrected', 2],
        ['corrected', 2],
        ['corrected', 3],
      ]);
      assert.equal(store.versions(corrected[0].document!.setId).filter((v) => v.status === 'current').length, 1);
    } finally {
      await publisher.close();
    }
  });
});

// ClaimWorkerPool: worker threads prepare the same claims as prepareClaim on the main thread (same
// content hash, same findings, envelopes signed with the same key and valid), in order, and a
// source that cannot be built fails the call with the worker's error instead of hanging it.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { HisDatabase } from '../../connectors/his-db/his-database';
import { ClaimsService } from '../../claims/service';
import { ClaimWorkerPool } from '../../claims/parallel';
import { prepareClaim } from '../../claims/pipeline';
import { ClaimSigner, verifyDocument } from '../../claims/signer/sign';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import { syntheticSources } from '../../bench/claims/_episodes';
import { openGoldenHis } from './demo-golden';

describe('claims worker pool', function () {
  this.timeout(60_000);
  const ca = createTestCa('pool CA');
  const identity = issueCertificate(ca, { commonName: 'Benh vien Pool', usage: 'signing' });
  const options = { signerHealthId: '0101234567', ngayLap: '20250320', validation: { facilityLevel: 'central' as const, maCskcb: '01999' } };
  let pool: ClaimWorkerPool | undefined;
  afterEach(async () => {
    await pool?.close();
    pool = undefined;
  });

  it('prepares the same claims as prepareClaim, in order, signed and valid', async () => {
    const sources = syntheticSources(37);
    pool = new ClaimWorkerPool({ threads: 2, signing: identity, prepare: options });
    const chunks: number[] = [];
    const parallel = await pool.prepareMany(sources, { chunk: 5, onChunk: (p) => chunks.push(p.length) });
    assert.equal(parallel.length, 37);
    assert.equal(chunks.reduce((a, b) => a + b, 0), 37);
    const signer = new ClaimSigner(identity);
    for (const [i, p] of parallel.entries()) {
      const local = await prepareClaim(sources[i], { ...options, signer });
      assert.equal(p.maLk, sources[i].visit.maLk);
      assert.equal(p.contentSha256, local.contentSha256);
      assert.deepEqual([p.errors, p.warnings, p.findings], [local.errors, local.warnings, local.findings]);
      // XML1 only comes back (what saveClaim needs); the tables are in the envelope.
      assert.deepEqual(Object.keys(p.episode.tables), ['XML1']);
      assert.deepEqual(p.episode.tables.XML1, local.episode.tables.XML1);
      assert.ok(Buffer.isBuffer(p.envelope));
      // RSA PKCS#1 v1.5 is deterministic: the same document and key give the same bytes.
      assert.equal(p.envelope!.toString('utf8'), local.envelope!.toString('utf8'));
      if (i % 12 === 0) assert.equal(verifyDocument(p.envelope!.toString('utf8'), { trustedCaPem: [ca.certPem] }).valid, true);
    }
  });

  it('keeps every table when asked, and fails the call with the error of a source that cannot be built', async () => {
    pool = new ClaimWorkerPool({ threads: 1, signing: identity, prepare: options, keepTables: true });
    const [one] = await pool.prepareMany(syntheticSources(1));
    assert.ok(one.episode.tables.XML2 && one.episode.tables.XML3);
    const broken = syntheticSources(3);
    broken[1].lines[0] = { ...broken[1].lines[0], quantity: 'mười' };
    await assert.rejects(pool.prepareMany(broken, { chunk: 1 }), /preparing claims failed in a worker: Error: "mười" is not a decimal number/);
    // The pool still works after a failure.
    assert.equal((await pool.prepareMany(syntheticSources(2))).length, 2);
  });

  it('ClaimsService.build on 2 worker threads stores exactly what the main thread stores (demo HIS, 3 days)', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'claims-pool-build-'));
    let his: HisDatabase | undefined;
    const services: ClaimsService[] = [];
    try {
      ({ his } = await openGoldenHis(dir));
      const run = async (workers: number) => {
        const service = new ClaimsService({ dataDir: path.join(dir, `data-${workers}`), certsDir: path.join(dir, 'certs'), lookups: his, signing: identity, config: { signerHealthId: '0101234567' } });
        services.push(service);
        const summary = await service.build({ from: '2025-03-17T00:00:00+07:00', to: '2025-03-20T00:00:00+07:00' }, undefined, { workers });
        const rows = service.store.list({}).map((r) => ({ maLk: r.maLk, status: r.status, errors: r.errors, warnings: r.warnings, findings: r.findings, content: r.contentSha256, envelope: r.envelopeSha256, total: r.tTongChiBv }));
        return { summary, rows: rows.sort((a, b) => a.maLk.localeCompare(b.maLk)) };
      };
      const main = await run(0);
      const pooled = await run(2);
      assert.ok(main.summary.visits > 100, `visits in the period: ${main.summary.visits}`);
      assert.ok(main.rows.some((r) => r.status === 'ready') && main.rows.some((r) => r.status === 'invalid'), 'both signed and invalid claims');
      assert.deepEqual(pooled.summary, main.summary);
      assert.deepEqual(pooled.rows, main.rows);
    } finally {
      for (const s of services) s.close();
      await his?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

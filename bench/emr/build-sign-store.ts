// bench/emr: build + sign + store 10,000 laboratory reports (CDA R2, XML-DSig, FHIR resources, index
// rows, one SQLite transaction per document) through EmrService.publish — the path every document
// takes. Baseline in the same run: building the same documents without signing or storing. Also:
// signing alone on the canonical path, and signing through xml-crypto (on a sample) for comparison,
// and verification (xml-crypto, what every read does).
//
//   node --import tsx bench/emr/build-sign-store.ts [count]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { emrOids } from '../../emr/oids';
import { ParallelPublisher } from '../../emr/parallel';
import { EmrService } from '../../emr/service';
import { loadSigningIdentity, loadTrustStore } from '../../emr/sign/keys';
import { signCanonical, signWithXmlCrypto, verifyDocument } from '../../emr/sign/signer';
import { DocumentStore } from '../../emr/store/document-store';
import { facility, labReport } from './_inputs';

const COUNT = Number(process.argv[2] ?? 10_000);
const PATIENTS = 1_000;

function measure<T>(label: string, n: number, run: (i: number) => T): { label: string; n: number; wallMs: number; cpuMs: number; perSecond: number; perCpuSecond: number } {
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < n; i++) run(i);
  const wallMs = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const cpuMs = (cpu.user + cpu.system) / 1000;
  return { label, n, wallMs, cpuMs, perSecond: (n / wallMs) * 1000, perCpuSecond: (n / cpuMs) * 1000 };
}

async function main(): Promise<void> {
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-bench-emr-'));
try {
  const identity = loadSigningIdentity(path.join(dir, 'certs'));
  const trust = loadTrustStore(path.join(dir, 'certs'));
  const oids = emrOids(facility.code);
  const store = new DocumentStore(path.join(dir, 'emr.db'), { audit: () => undefined }, (xml) => verifyDocument(xml, trust));
  const service = new EmrService({ store, oids, identity, facility });
  const inputs = Array.from({ length: COUNT }, (_, i) => labReport(i, PATIENTS));

  // Warm-up (JIT, SQLite page cache) on documents that are not counted.
  for (let i = 0; i < 200; i++) service.build('lab-report', inputs[i].ctx, inputs[i].input);

  const baseline = measure('baseline: build only (CDA XML, no signing, no store)', COUNT, (i) => service.build('lab-report', inputs[i].ctx, inputs[i].input));
  const built = inputs.slice(0, 1000).map((x) => service.build('lab-report', x.ctx, x.input));
  const sign = measure('sign only (canonical path, RSA-2048/SHA-256)', built.length, (i) => signCanonical(built[i].xml, identity));
  const BATCH = 100;
  const full = measure(`build + sign + store, batches of ${BATCH} (publishMany)`, COUNT / BATCH, (b) => {
    const batch = inputs.slice(b * BATCH, (b + 1) * BATCH).map((x) => ({ type: 'lab-report' as const, ctx: x.ctx, input: x.input, sourceKey: x.sourceKey }));
    for (const outcome of service.publishMany(batch)) if (outcome.status !== 'created') throw new Error(`${outcome.sourceKey}: ${outcome.status} ${outcome.error ?? ''}`);
  });
  full.n = COUNT;
  full.perSecond = (COUNT / full.wallMs) * 1000;
  full.perCpuSecond = (COUNT / full.cpuMs) * 1000;
  // Both cores: worker threads build and sign, the main thread stores (on another 10,000).
  const publisher = new ParallelPublisher(service, { workers: os.availableParallelism() });
  const parallelInputs = Array.from({ length: COUNT }, (_, i) => labReport(2 * COUNT + i, PATIENTS));
  const cpuP = process.cpuUsage();
  const tP = performance.now();
  const parallelOutcomes = await publisher.publishMany(parallelInputs.map((x) => ({ type: 'lab-report' as const, ctx: x.ctx, input: x.input, sourceKey: x.sourceKey })));
  const wallP = performance.now() - tP;
  const cpuUsedP = process.cpuUsage(cpuP);
  await publisher.close();
  if (parallelOutcomes.some((o) => o.status !== 'created')) throw new Error('parallel publish: not every document created');
  const parallel = { label: `build + sign + store, ${publisher.size} worker threads + store thread (ParallelPublisher)`, n: COUNT, wallMs: wallP, cpuMs: (cpuUsedP.user + cpuUsedP.system) / 1000, perSecond: (COUNT / wallP) * 1000, perCpuSecond: (COUNT / ((cpuUsedP.user + cpuUsedP.system) / 1000)) * 1000 };
  // One transaction per document, as a document arriving alone is stored (on another 2,000).
  const more = Array.from({ length: 2000 }, (_, i) => labReport(COUNT + i, PATIENTS));
  const single = measure('build + sign + store, one document per transaction (publish)', more.length, (i) => {
    const outcome = service.publish('lab-report', more[i].ctx, more[i].input, more[i].sourceKey);
    if (outcome.status !== 'created') throw new Error(`document ${i}: ${outcome.status} ${outcome.error ?? ''}`);
  });
  const sample = 200;
  const xmlCrypto = measure(`sign through xml-crypto (sample of ${sample})`, sample, (i) => signWithXmlCrypto(built[i].xml, identity));
  const stored = store.timeline(inputs[0].ctx.patient.id, { limit: 1 }).documents[0];
  const verify = measure(`verify on read (xml-crypto + chain, sample of ${sample})`, sample, () => store.read(stored.id, { username: 'bench' }));
  const storedCount = store.count();
  const size = fs.statSync(path.join(dir, 'emr.db')).size + (fs.existsSync(path.join(dir, 'emr.db-wal')) ? fs.statSync(path.join(dir, 'emr.db-wal')).size : 0);
  store.close();

  const rows = [baseline, sign, full, parallel, single, xmlCrypto, verify];
  console.log(`EMR lab reports: ${COUNT} documents, ${PATIENTS} patients, 8 results each; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  for (const r of rows) console.log(`  ${r.label.padEnd(62)} ${r.perSecond.toFixed(0).padStart(7)} /s wall   ${r.perCpuSecond.toFixed(0).padStart(7)} /CPU-s   (${r.n} in ${(r.wallMs / 1000).toFixed(1)} s)`);
  console.log(`  ratio build+sign+store / build-only: ${(full.perSecond / baseline.perSecond).toFixed(2)} (wall), ${(full.perCpuSecond / baseline.perCpuSecond).toFixed(2)} (CPU)`);
  console.log(`  canonical signing / xml-crypto signing: ${(sign.perCpuSecond / xmlCrypto.perCpuSecond).toFixed(1)}x faster per CPU second`);
  console.log(`  store size: ${(size / 1024 / 1024).toFixed(1)} MiB for ${storedCount} documents (${((size / storedCount) / 1024).toFixed(1)} KiB per document with index, values and FHIR rows)`);
  console.log(`  target ≥ 500 documents/s (wall clock): single thread ${full.perSecond >= 500 ? 'met' : 'NOT met'}, parallel ${parallel.perSecond >= 500 ? 'met' : 'NOT met'}`);
} finally {
  fs.rmSync(dir, { recursive: true, force: true });
}
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

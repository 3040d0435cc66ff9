// Claims pipeline throughput: build + validate + envelope + sign for 10,000 episodes (target
// ≥ 2,000 episodes/s), one episode per envelope as the 3176 guide asks. Baseline measured in the
// same run: build + serialize + envelope without validation or signing. Also shown: the same work
// with 100 episodes per envelope (one signature per envelope).
//   node --import tsx bench/claims/pipeline.ts          (EPISODES=10000, WINDOW=16 signatures in flight)
import os from 'node:os';
import { buildEpisode } from '../../claims/builder/build';
import { ClaimSigner } from '../../claims/signer/sign';
import { validateEpisode } from '../../claims/validator/validate';
import { buildEnvelope, episodeFiles } from '../../claims/xml/writer';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import { syntheticSources } from './_episodes';

const N = Number(process.env.EPISODES ?? 10_000);
const WINDOW = Number(process.env.WINDOW ?? 16);
const options = { signerHealthId: '0101234567' };

async function main() {
  const sources = syntheticSources(N);
  const ca = createTestCa('bench CA');
  const signer = new ClaimSigner(issueCertificate(ca, { commonName: 'Benh vien Bench', usage: 'signing' }));
  const ngayLap = '20250320';

  // Warm-up (JIT) on a few episodes, not timed.
  for (const s of sources.slice(0, 200)) {
    const { episode } = buildEpisode(s, options);
    validateEpisode(episode, { facilityLevel: 'central' });
    await signer.signCanonical(buildEnvelope({ maCskcb: '01999', ngayLap, hoso: [episodeFiles(episode)] }));
  }

  // Baseline: build + serialize + envelope, no validation, no signature.
  let bytes = 0;
  let t = performance.now();
  for (const s of sources) {
    const { episode } = buildEpisode(s, options);
    bytes += buildEnvelope({ maCskcb: '01999', ngayLap, hoso: [episodeFiles(episode)] }).length;
  }
  const baseMs = performance.now() - t;

  // Full: build + validate + envelope + sign, one episode per envelope; RSA runs on libuv's pool.
  let errors = 0;
  let signedBytes = 0;
  const inFlight: Array<Promise<string>> = [];
  t = performance.now();
  for (const s of sources) {
    const { episode } = buildEpisode(s, options);
    errors += validateEpisode(episode, { facilityLevel: 'central' }).errors;
    inFlight.push(signer.signCanonical(buildEnvelope({ maCskcb: '01999', ngayLap, hoso: [episodeFiles(episode)] })));
    if (inFlight.length >= WINDOW) signedBytes += (await inFlight.shift()!).length;
  }
  for (const p of inFlight) signedBytes += (await p).length;
  const fullMs = performance.now() - t;

  // Batched: 100 episodes per envelope.
  t = performance.now();
  let batch: ReturnType<typeof episodeFiles>[] = [];
  const batches: Array<Promise<string>> = [];
  for (const s of sources) {
    const { episode } = buildEpisode(s, options);
    errors += validateEpisode(episode, { facilityLevel: 'central' }).errors;
    batch.push(episodeFiles(episode));
    if (batch.length === 100) {
      batches.push(signer.signCanonical(buildEnvelope({ maCskcb: '01999', ngayLap, hoso: batch })));
      batch = [];
    }
  }
  if (batch.length) batches.push(signer.signCanonical(buildEnvelope({ maCskcb: '01999', ngayLap, hoso: batch })));
  await Promise.all(batches);
  const batchMs = performance.now() - t;

  const rate = (ms: number) => Math.round((N / ms) * 1000);
  console.log(`machine: ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`episodes: ${N} (outpatient, inpatient, emergency, off-route in turn); validation errors: ${errors}`);
  console.log(`baseline  build + serialize + envelope           : ${rate(baseMs)} episodes/s (${(baseMs / 1000).toFixed(2)} s, ${(bytes / N / 1024).toFixed(1)} KiB per envelope)`);
  console.log(`full      build + validate + envelope + sign     : ${rate(fullMs)} episodes/s (${(fullMs / 1000).toFixed(2)} s, one RSA-2048 signature per episode, ${WINDOW} in flight)`);
  console.log(`batched   same, 100 episodes per signed envelope : ${rate(batchMs)} episodes/s (${(batchMs / 1000).toFixed(2)} s)`);
  console.log(`ratio full / baseline: ${(baseMs / fullMs).toFixed(2)} (validation + signature cost ${(((fullMs - baseMs) / N) * 1000).toFixed(0)} µs per episode); target ≥ 2,000 episodes/s: ${rate(fullMs) >= 2000 ? 'met' : 'NOT met'}`);
  void signedBytes;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

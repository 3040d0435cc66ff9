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
  let cpu = process.cpuUsage();
  const cpuMs = () => {
    const d = process.cpuUsage(cpu);
    cpu = process.cpuUsage();
    return (d.user + d.system) / 1000;
  };
  let t = performance.now();
  for (const s of sources) {
    const { episode } = buildEpisode(s, options);
    bytes += buildEnvelope({ maCskcb: '01999', ngayLap, hoso: [episodeFiles(episode)] }).length;
  }
  const baseMs = performance.now() - t;
  const baseCpu = cpuMs();

  // Full: build + validate + envelope + sign, one episode per envelope; RSA runs on libuv's pool.
  let errors = 0;
  let signedBytes = 0;
  const inFlight: Array<Promise<string>> = [];
  cpuMs();
  t = performance.now();
  for (const s of sources) {
    const { episode } = buildEpisode(s, options);
    errors += validateEpisode(episode, { facilityLevel: 'central' }).errors;
    inFlight.push(signer.signCanonical(buildEnvelope({ maCskcb: '01999', ngayLap, hoso: [episodeFiles(episode)] })));
    if (inFlight.length >= WINDOW) signedBytes += (await inFlight.shift()!).length;
  }
  for (const p of inFlight) signedBytes += (await p).length;
  const fullMs = performance.now() - t;
  // RSA runs on libuv's thread pool: process CPU time covers it too.
  const fullCpu = cpuMs();

  // Batched: 100 episodes per envelope.
  cpuMs();
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
  const batchCpu = cpuMs();

  const rate = (ms: number) => Math.round((N / ms) * 1000);
  const cores = os.cpus().length;
  console.log(`machine: ${cores} cores, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
  console.log(`episodes: ${N} (outpatient, inpatient, emergency, off-route in turn); validation errors: ${errors}`);
  const show = (label: string, ms: number, cpuMsUsed: number, note: string) =>
    console.log(`${label}: ${rate(ms)} episodes/s wall (${(ms / 1000).toFixed(2)} s); CPU ${((cpuMsUsed / N) * 1000).toFixed(0)} µs per episode → ${Math.round((N / cpuMsUsed) * 1000 * cores)} episodes/s if the ${cores} cores were ours${note}`);
  show('baseline  build + serialize + envelope          ', baseMs, baseCpu, `, ${(bytes / N / 1024).toFixed(1)} KiB per envelope`);
  show('full      build + validate + envelope + sign    ', fullMs, fullCpu, `, one RSA-2048 signature per episode, ${WINDOW} in flight`);
  show('batched   same, 100 episodes per signed envelope', batchMs, batchCpu, '');
  console.log(`ratio full / baseline (CPU per episode): ${(fullCpu / baseCpu).toFixed(2)}; target ≥ 2,000 episodes/s wall: ${rate(fullMs) >= 2000 ? 'met' : 'NOT met'}`);
  void signedBytes;
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

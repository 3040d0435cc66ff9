// Claims pipeline throughput: build + validate + envelope + sign for 10,000 episodes (target
// ≥ 2,000 episodes/s), one episode per envelope and one RSA-2048 signature per episode, as the 3176
// guide asks. Measured in the same run:
//   floor     RSA-2048 signatures/s with node:crypto on a pre-loaded KeyObject (no XML at all)
//   single    prepareClaim on the main thread, RSA on libuv's pool, WINDOW signatures in flight
//   one       ClaimWorkerPool with 1 worker thread (what one core does; shows how the pool scales)
//   workers   ClaimWorkerPool: THREADS worker threads each build, validate, serialize and sign
//   node --import tsx bench/claims/pipeline.ts     (EPISODES=10000 WINDOW=16 THREADS=<cores> CHUNK=32)
import crypto from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';
import { buildEpisode } from '../../claims/builder/build';
import { ClaimWorkerPool } from '../../claims/parallel';
import { prepareClaim, type PreparedClaim } from '../../claims/pipeline';
import { ClaimSigner, verifyDocument } from '../../claims/signer/sign';
import { validateEpisode } from '../../claims/validator/validate';
import { buildEnvelopeBytes, episodeFiles } from '../../claims/xml/writer';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import { syntheticSources } from './_episodes';

const N = Number(process.env.EPISODES ?? 10_000);
const WINDOW = Number(process.env.WINDOW ?? 16);
const THREADS = Number(process.env.THREADS ?? os.availableParallelism());
const CHUNK = Number(process.env.CHUNK ?? 32);
// Episodes prepared before each timed run, per thread: V8 re-optimises the builder and the rules a
// dozen times (~0.2 s of compilation each) before their type feedback settles; a process that builds
// claims all day pays that once. WARMUP=0 measures a cold start.
const WARMUP = Number(process.env.WARMUP ?? 4000);
const options = { signerHealthId: '0101234567', ngayLap: '20250320', validation: { facilityLevel: 'central' as const, maCskcb: '01999' } };

function cpuClock() {
  let cpu = process.cpuUsage();
  let t = performance.now();
  return () => {
    const d = process.cpuUsage(cpu);
    const wall = performance.now() - t;
    cpu = process.cpuUsage();
    t = performance.now();
    return { wallMs: wall, cpuMs: (d.user + d.system) / 1000 };
  };
}

/** CPU milliseconds of each thread of this process (Linux /proc), keyed by thread id; the main thread's id is the pid. */
function threadCpu(): Map<number, number> {
  const tick = 1000 / 100; // USER_HZ is 100 on Linux
  const out = new Map<number, number>();
  for (const tid of readdirSync('/proc/self/task')) {
    try {
      const stat = readFileSync(`/proc/self/task/${tid}/stat`, 'utf8');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      out.set(Number(tid), (Number(f[11]) + Number(f[12])) * tick);
    } catch {
      // the thread ended between the listing and the read
    }
  }
  return out;
}

function check(prepared: PreparedClaim[], ca: string): { errors: number; bytes: number } {
  let errors = 0;
  let bytes = 0;
  for (const p of prepared) {
    errors += p.errors;
    bytes += p.envelope?.length ?? 0;
  }
  // Spot-check that the envelopes are really signed (first and last).
  for (const p of [prepared[0], prepared[prepared.length - 1]]) {
    const v = verifyDocument(p.envelope!.toString('utf8'), { trustedCaPem: [ca] });
    if (!v.valid) throw new Error(`envelope of ${p.maLk} does not verify: ${v.reason}`);
  }
  return { errors, bytes };
}

async function main() {
  const sources = syntheticSources(N);
  const ca = createTestCa('bench CA');
  const identity = issueCertificate(ca, { commonName: 'Benh vien Bench', usage: 'signing' });
  const signer = new ClaimSigner(identity);
  const cores = os.availableParallelism();
  const load = () => os.loadavg().map((l) => l.toFixed(2)).join(' ');
  console.log(`machine: ${cores} cores, Node ${process.version}; load average before: ${load()}`);

  // Floor: RSA-2048 signatures alone, one thread (what no amount of XML work can beat).
  const key = crypto.createPrivateKey(identity.keyPem);
  const signedInfo = Buffer.alloc(1100, 'x');
  for (let i = 0; i < 300; i++) crypto.sign('sha256', signedInfo, key);
  let clock = cpuClock();
  const floorN = 3000;
  for (let i = 0; i < floorN; i++) crypto.sign('sha256', signedInfo, key);
  const floor = clock();

  // Single thread (the path before worker threads), after a warm-up.
  for (const s of sources.slice(0, WARMUP)) await prepareClaim(s, { ...options, signer });
  clock = cpuClock();
  const single: PreparedClaim[] = [];
  const inFlight: Array<Promise<PreparedClaim>> = [];
  for (const s of sources) {
    inFlight.push(prepareClaim(s, { ...options, signer }));
    if (inFlight.length >= WINDOW) single.push(await inFlight.shift()!);
  }
  single.push(...(await Promise.all(inFlight)));
  const singleRun = clock();
  const singleCheck = check(single, ca.certPem);
  single.length = 0;

  // One worker thread, then THREADS; each pool gets a warm-up round first (thread start, JIT), not timed.
  const one = new ClaimWorkerPool({ threads: 1, signing: identity, prepare: options });
  if (WARMUP) await one.prepareMany(sources.slice(0, WARMUP), { chunk: CHUNK });
  clock = cpuClock();
  const oneResult = await one.prepareMany(sources, { chunk: CHUNK });
  const oneRun = clock();
  await one.close();
  const oneCheck = check(oneResult, ca.certPem);
  oneResult.length = 0;

  const pool = new ClaimWorkerPool({ threads: THREADS, signing: identity, prepare: options });
  if (WARMUP) await pool.prepareMany([...sources, ...sources].slice(0, WARMUP * THREADS), { chunk: CHUNK });
  const loadBefore = load();
  const threadsBefore = threadCpu();
  clock = cpuClock();
  const parallel = await pool.prepareMany(sources, { chunk: CHUNK });
  const parallelRun = clock();
  const threadsAfter = threadCpu();
  const mainCpu = (threadsAfter.get(process.pid) ?? 0) - (threadsBefore.get(process.pid) ?? 0);
  const loadAfter = load();
  await pool.close();
  const parallelCheck = check(parallel, ca.certPem);

  const rate = (ms: number, n = N) => Math.round((n / ms) * 1000);
  const perEpisode = (cpuMs: number) => `${((cpuMs / N) * 1000).toFixed(0)} µs CPU per episode`;
  console.log(`episodes: ${N} (outpatient, inpatient, emergency, off-route in turn), one signed envelope each; warm-up ${WARMUP} episodes per thread before each timed run`);
  console.log(`floor    RSA-2048 sign (node:crypto, KeyObject), 1 thread : ${rate(floor.wallMs, floorN)} signatures/s (${((floor.wallMs / floorN) * 1000).toFixed(0)} µs each) → ${rate(floor.wallMs, floorN) * cores}/s on ${cores} cores`);
  console.log(`single   prepareClaim, main thread, RSA on libuv pool    : ${rate(singleRun.wallMs)} episodes/s wall (${(singleRun.wallMs / 1000).toFixed(2)} s), ${perEpisode(singleRun.cpuMs)}; errors ${singleCheck.errors}`);
  console.log(`one      ClaimWorkerPool, 1 thread, chunks of ${CHUNK}        : ${rate(oneRun.wallMs)} episodes/s wall (${(oneRun.wallMs / 1000).toFixed(2)} s), ${perEpisode(oneRun.cpuMs)} (all threads); errors ${oneCheck.errors}`);
  console.log(`workers  ClaimWorkerPool, ${THREADS} threads, chunks of ${CHUNK}       : ${rate(parallelRun.wallMs)} episodes/s wall (${(parallelRun.wallMs / 1000).toFixed(2)} s), ${perEpisode(parallelRun.cpuMs)} (all threads); errors ${parallelCheck.errors}; ${(parallelCheck.bytes / N / 1024).toFixed(1)} KiB per signed envelope`);
  console.log(`         of which the main thread (hand out sources, receive results): ${((mainCpu / N) * 1000).toFixed(0)} µs per episode; the workers and the rest: ${(((parallelRun.cpuMs - mainCpu) / N) * 1000).toFixed(0)} µs`);
  console.log(`ratio workers / single (wall): ${(singleRun.wallMs / parallelRun.wallMs).toFixed(2)}; ${THREADS} threads / 1 thread: ${(oneRun.wallMs / parallelRun.wallMs).toFixed(2)}; workers' rate / RSA floor on ${cores} cores: ${(rate(parallelRun.wallMs) / (rate(floor.wallMs, floorN) * cores)).toFixed(2)}`);
  console.log(`load average around the workers run: ${loadBefore} → ${loadAfter}`);
  console.log(`target ≥ 2,000 episodes/s wall: ${rate(parallelRun.wallMs) >= 2000 ? 'met' : 'NOT met'}`);

  // Where one episode's CPU goes, one thread, each step on its own (process CPU, minimum of 3 rounds).
  const n = 2000;
  const part = sources.slice(0, n);
  const episodes = part.map((src) => buildEpisode(src, options).episode);
  const docs = episodes.map((e) => episodeFiles(e).map((f) => ({ loaiHoSo: f.loaiHoSo, document: Buffer.from(f.document as string, 'utf8') })));
  const steps: Record<string, () => void> = {
    'build (canonical model → tables)': () => part.forEach((src) => buildEpisode(src, options)),
    'validate (every field and rule)': () => episodes.forEach((e) => validateEpisode(e, options.validation)),
    'inner documents (serialize + UTF-8)': () => episodes.forEach((e) => episodeFiles(e).forEach((f) => Buffer.from(f.document as string, 'utf8'))),
    'envelope (base64) + digest + RSA sign': () => docs.forEach((d) => signer.signEnvelopeBytesSync(buildEnvelopeBytes({ maCskcb: '01999', ngayLap: options.ngayLap, hoso: [d] }))),
    'RSA-2048 sign alone': () => docs.forEach(() => crypto.sign('sha256', signedInfo, key)),
  };
  const best: Record<string, number> = {};
  for (let round = 0; round < 3; round++) {
    for (const [name, step] of Object.entries(steps)) {
      const c = cpuClock();
      step();
      best[name] = Math.min(best[name] ?? Infinity, (c().cpuMs / n) * 1000);
    }
  }
  console.log('one thread, per episode (process CPU, best of 3):');
  for (const [name, us] of Object.entries(best)) console.log(`  ${name.padEnd(40)} ${us.toFixed(0).padStart(5)} µs`);
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

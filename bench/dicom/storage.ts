// C-STORE throughput with DCMTK storescu on one association (TCP_NODELAY=1), same run, same files:
//   (a) 500 CT-like instances (512×512, 16-bit, ~0.5 MB) → the engine (dicom channel) vs Orthanc
//       (target ratio engine/Orthanc ≥ 1.0), with DCMTK storescp (files to disk) as a reference;
//   (b) small instances (8×8 secondary captures, ~1 KB) → the engine (target ≥ 1,000/s; also on two
//       associations at once) vs storescp, Orthanc and stock dcmjs-dimse (its Server, no file writes).
// Run: TMPDIR=/var/tmp/<new folder> node --import tsx bench/dicom/storage.ts   (DICOM_BENCH_CT=500 DICOM_BENCH_SMALL=2000)
// (a folder of its own, away from other jobs' deleted files: see bench/RESULTS.md, "file creation")
import fs from 'node:fs';
import path from 'node:path';
import * as dimse from 'dcmjs-dimse';
import { commandExists, freePort, loadAverage, processCpuMs, run, selfCpuMs, startEngineWithDicom, startProcess, stopProcess, table, tempDir, writeImages } from './_common';
import { orthancBinary, startOrthanc } from '../../test/dicom/orthanc';
import type { StoreTimings } from '../../connectors/dicom/node';

const ctCount = Number(process.env.DICOM_BENCH_CT ?? 500);
const smallCount = Number(process.env.DICOM_BENCH_SMALL ?? 2000);

interface Row {
  target: string;
  instances: number;
  MB: number;
  seconds: number;
  'MB/s': number;
  'instances/s': number;
  'SCP CPU-s': number;
  'instances per SCP CPU-s': number;
}

/** storescu on one association; the SCP's CPU time comes from `cpu()` (its process, or ours when in-process). */
async function storescu(label: string, port: number, calledAe: string, dir: string, bytes: number, count: number, cpu: () => number): Promise<Row> {
  // Every contender starts with no dirty pages left by the one before: 260 MB of CT files still being
  // written back make every fsync (ours, Orthanc's) wait behind them.
  await run('sync', []);
  const cpuBefore = cpu();
  const result = await run('storescu', ['+sd', '-aet', 'BENCH', '-aec', calledAe, '127.0.0.1', String(port), dir]);
  const cpuSeconds = (cpu() - cpuBefore) / 1000;
  if (result.code !== 0) throw new Error(`storescu → ${label} failed: ${result.stderr.slice(-500)}`);
  const seconds = result.ms / 1000;
  return {
    target: label,
    instances: count,
    MB: bytes / 1e6,
    seconds,
    'MB/s': bytes / 1e6 / seconds,
    'instances/s': count / seconds,
    'SCP CPU-s': cpuSeconds,
    'instances per SCP CPU-s': count / Math.max(cpuSeconds, 0.01),
  };
}

/**
 * Per instance: the file (header, validation, write), the index row, the engine's message commit,
 * the rest of our C-STORE handling up to the answer, and what lies outside it (storescu reading the
 * next file and sending it, loopback, PDU framing).
 */
function timingBreakdown(label: string, before: StoreTimings, after: StoreTimings, row: Row): Record<string, string | number> {
  const n = after.instances - before.instances;
  const per = (k: keyof StoreTimings) => (after[k] - before[k]) / n;
  const wall = (row.seconds * 1000) / row.instances;
  const ms = (v: number) => v.toFixed(3);
  return {
    target: label,
    'ms per instance': ms(wall),
    file: ms(per('fileMs')),
    index: ms(per('indexMs')),
    'engine message': ms(per('engineMs')),
    'rest of the answer': ms(per('totalMs') - per('fileMs') - per('indexMs') - per('engineMs')),
    'client, network, framing': ms(wall - per('totalMs')),
  };
}

/** Stock dcmjs-dimse: its own Server (all interfaces) and an Scp that accepts and answers Success. */
async function stockDimse(): Promise<{ port: number; close(): void }> {
  const { Server, Scp, constants, responses } = dimse;
  class AcceptAll extends Scp {
    override associationRequested(association: dimse.association.Association): void {
      for (const { context } of association.getPresentationContexts()) {
        const ts = context.getTransferSyntaxUids();
        const pick = ts.includes(constants.TransferSyntax.ExplicitVRLittleEndian) ? constants.TransferSyntax.ExplicitVRLittleEndian : ts[0];
        context.setResult(constants.PresentationContextResult.Accept, pick);
      }
      this.sendAssociationAccept();
    }
    override cEchoRequest(request: dimse.requests.CEchoRequest, callback: (r: dimse.responses.CEchoResponse) => void): void {
      const r = responses.CEchoResponse.fromRequest(request);
      r.setStatus(constants.Status.Success);
      callback(r);
    }
    override cStoreRequest(request: dimse.requests.CStoreRequest, callback: (r: dimse.responses.CStoreResponse) => void): void {
      const r = responses.CStoreResponse.fromRequest(request);
      r.setStatus(constants.Status.Success);
      callback(r);
    }
    override associationReleaseRequested(): void {
      this.sendAssociationReleaseResponse();
    }
  }
  const port = await freePort();
  const server = new Server(AcceptAll as unknown as typeof Scp);
  server.listen(port);
  await new Promise((r) => setTimeout(r, 200));
  return { port, close: () => server.close() };
}

(async () => {
  const work = tempDir('hisbridge-bench-store-');
  console.log(`load average at start: ${loadAverage()}`);
  const ct = writeImages(path.join(work, 'ct'), ctCount, 'ct');
  const small = writeImages(path.join(work, 'small'), smallCount, 'small');
  // The same number of small instances in two halves, for two associations at once.
  const halves = [writeImages(path.join(work, 'small-a'), smallCount / 2, 'small'), writeImages(path.join(work, 'small-b'), smallCount / 2, 'small')];
  console.log(`generated ${ctCount} CT instances (${(ct.bytes / 1e6).toFixed(1)} MB) and ${smallCount} small ones (${(small.bytes / 1e3).toFixed(0)} kB)`);
  const ctRows: Row[] = [];
  const smallRows: Row[] = [];
  const breakdown: Array<Record<string, string | number>> = [];
  // Nothing is deleted until every contender has run (see BenchEngine.stop).
  const cleanups: Array<() => void | Promise<void>> = [];

  // (1) the engine: its store fsync'ed per commit (default; a commit starts at once when nothing else
  // is pending), then synchronous=NORMAL (WAL, no fsync per commit: durable against a process crash,
  // not a power cut; the class Orthanc and storescp are in). Then the DICOM node alone, without the
  // engine message (`emit.instances: false`: file + index only), to show what the message store costs.
  for (const [label, synchronous, emitInstances] of [
    ['hisbridge engine (store synchronous=FULL, default)', 'full', true],
    ['hisbridge engine (store synchronous=NORMAL)', 'normal', true],
    ['hisbridge DICOM node only (file + index, no engine message)', 'full', false],
  ] as const) {
    const engine = await startEngineWithDicom({ storage: { thumbnails: false }, reconciliation: { quietPeriodSeconds: 3600 }, emit: { instances: emitInstances } }, synchronous);
    ctRows.push(await storescu(label, engine.port, 'HISBRIDGE', ct.dir, ct.bytes, ctCount, selfCpuMs));
    const before = { ...engine.node.storeTimings };
    const row = await storescu(label, engine.port, 'HISBRIDGE', small.dir, small.bytes, smallCount, selfCpuMs);
    smallRows.push(row);
    breakdown.push(timingBreakdown(label, before, engine.node.storeTimings, row));
    const stored = engine.node.counters.instancesStored;
    cleanups.push(await engine.stop({ keepFiles: true }));
    if (stored !== ctCount + smallCount) throw new Error(`the engine stored ${stored} instances, expected ${ctCount + smallCount}`);
  }

  // (1b) the engine with its default store, the small instances on two associations at once (a
  // modality or a router that opens two): commits of both share one fsync while one waits.
  {
    const engine = await startEngineWithDicom({ storage: { thumbnails: false }, reconciliation: { quietPeriodSeconds: 3600 } }, 'full');
    await run('sync', []);
    const cpuBefore = selfCpuMs();
    const started = performance.now();
    const results = await Promise.all(halves.map((h) => run('storescu', ['+sd', '-aet', 'BENCH', '-aec', 'HISBRIDGE', '127.0.0.1', String(engine.port), h.dir])));
    const seconds = (performance.now() - started) / 1000;
    const cpuSeconds = (selfCpuMs() - cpuBefore) / 1000;
    if (results.some((r) => r.code !== 0)) throw new Error(`storescu (2 associations) failed: ${results.map((r) => r.stderr.slice(-300)).join(' | ')}`);
    const bytes = halves[0].bytes + halves[1].bytes;
    smallRows.push({ target: 'hisbridge engine (store FULL, default), 2 associations at once', instances: smallCount, MB: bytes / 1e6, seconds, 'MB/s': bytes / 1e6 / seconds, 'instances/s': smallCount / seconds, 'SCP CPU-s': cpuSeconds, 'instances per SCP CPU-s': smallCount / Math.max(cpuSeconds, 0.01) });
    const stored = engine.node.counters.instancesStored;
    cleanups.push(await engine.stop({ keepFiles: true }));
    if (stored !== smallCount) throw new Error(`the engine stored ${stored} instances, expected ${smallCount}`);
  }

  // (2) Orthanc (the real PACS)
  const haveOrthanc = commandExists('Orthanc') || fs.existsSync(orthancBinary());
  if (haveOrthanc) {
    const orthanc = await startOrthanc();
    const cpu = () => processCpuMs(orthanc.pid);
    ctRows.push(await storescu('Orthanc 1.10 (SQLite index, files)', orthanc.dicomPort, orthanc.aeTitle, ct.dir, ct.bytes, ctCount, cpu));
    smallRows.push(await storescu('Orthanc 1.10 (SQLite index, files)', orthanc.dicomPort, orthanc.aeTitle, small.dir, small.bytes, smallCount, cpu));
    cleanups.push(() => orthanc.stop()); // stopping deletes its storage: idle until the end
  } else console.log('Orthanc not installed: skipped');

  // (3) DCMTK storescp writing files (reference)
  if (commandExists('storescp')) {
    for (const [rows, set, count, name] of [
      [ctRows, ct, ctCount, 'ct'],
      [smallRows, small, smallCount, 'small'],
    ] as const) {
      const out = path.join(work, `storescp-${name}`);
      fs.mkdirSync(out);
      const port = await freePort();
      const scp = startProcess('storescp', ['-od', out, String(port)]);
      await new Promise((r) => setTimeout(r, 300));
      rows.push(await storescu('DCMTK storescp (files)', port, 'ANY', set.dir, set.bytes, count, () => processCpuMs(scp.pid!)));
      await stopProcess(scp);
    }
  }

  // (4) stock dcmjs-dimse (no file writes), small instances only
  const stock = await stockDimse();
  smallRows.push(await storescu('stock dcmjs-dimse 0.3.3 Server (no writes)', stock.port, 'ANY', small.dir, small.bytes, smallCount, selfCpuMs));
  stock.close();

  console.log(`\n(a) ${ctCount} CT-like instances (512×512, 16-bit), storescu on one association\n`);
  console.log(table(ctRows));
  const orthancCt = ctRows.find((r) => r.target.startsWith('Orthanc'));
  if (orthancCt) for (const r of ctRows.filter((x) => x.target.startsWith('hisbridge engine'))) console.log(`ratio ${r.target} / Orthanc: ${(r['instances/s'] / orthancCt['instances/s']).toFixed(2)} wall, ${(r['instances per SCP CPU-s'] / orthancCt['instances per SCP CPU-s']).toFixed(2)} per CPU-s (target ≥ 1.0)`);
  console.log(`\n(b) ${smallCount} small instances (8×8 secondary capture), storescu on one association\n`);
  console.log(table(smallRows));
  const orthancSmall = smallRows.find((r) => r.target.startsWith('Orthanc'));
  if (orthancSmall) for (const r of smallRows.filter((x) => x.target.startsWith('hisbridge'))) console.log(`ratio ${r.target} / Orthanc: ${(r['instances/s'] / orthancSmall['instances/s']).toFixed(2)} wall, ${(r['instances per SCP CPU-s'] / orthancSmall['instances per SCP CPU-s']).toFixed(2)} per CPU-s; engine target ≥ 1,000/s`);
  console.log(`\nWhere a small instance's time goes (ms per instance, wall clock, from the node's storeTimings):\n`);
  console.log(table(breakdown));
  console.log(`\nload average at end: ${loadAverage()}`);
  for (const cleanup of cleanups) await cleanup();
  fs.rmSync(work, { recursive: true, force: true });
})().catch((err) => {
  console.error(err);
  process.exit(1);
});

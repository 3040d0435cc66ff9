// Modality Worklist C-FIND rate against 10,000 scheduled orders (target ≥ 500 queries/s), with
// DCMTK's file-based worklist SCP (wlmscpfs, the same 10,000 items as .wl files) as the baseline
// in the same run. The client (our SCU, one association, serial queries) runs in a child process.
// Run: node --import tsx bench/dicom/worklist.ts   (DICOM_BENCH_FINDS=2000)
import fs from 'node:fs';
import path from 'node:path';
import { commandExists, freePort, loadAverage, processCpuMs, run, selfCpuMs, startEngineWithDicom, startProcess, stopProcess, table, tempDir } from './_common';
import { hisWith10kOrders } from './_his-10k';
import { toWorklistEntry } from '../../connectors/dicom/worklist/items';
import { encodeDataset } from '../../connectors/dicom/dataset/codec';
import { buildFileMetaHeader } from '../../connectors/dicom/dataset/part10';
import { TransferSyntax } from '../../connectors/dicom/dimse/uids';
import type { WorklistQuery } from '../../connectors/dicom/scu';

const finds = Number(process.env.DICOM_BENCH_FINDS ?? 2000);
const baselineFinds = Number(process.env.DICOM_BENCH_BASELINE_FINDS ?? 20);

async function client(port: number, calledAe: string, count: number, queries: WorklistQuery[]): Promise<{ queries: number; seconds: number; results: number }> {
  const r = await run(process.execPath, ['--import', 'tsx', path.join(__dirname, '_find-client.ts'), String(port), calledAe, String(count), JSON.stringify(queries)]);
  if (r.code !== 0) throw new Error(`find client failed: ${r.stderr.slice(-800)}`);
  return JSON.parse(r.stdout);
}

(async () => {
  console.log(`load average at start: ${loadAverage()}`);
  const data = hisWith10kOrders();
  const { orders, stations, today } = data;
  const pick = <T>(xs: T[], i: number) => xs[(i * 7919) % xs.length];
  const kinds: Array<{ kind: string; queries: WorklistQuery[] }> = [
    { kind: 'station + today (a modality asking for its day)', queries: stations.map((s) => ({ stationAeTitle: s, date: today, modality: s.slice(0, 2) })) },
    { kind: 'patient ID', queries: Array.from({ length: 50 }, (_, i) => ({ patientId: pick(orders, i).patientId })) },
    { kind: 'accession number', queries: Array.from({ length: 50 }, (_, i) => ({ accessionNumber: pick(orders, i).accessionNumber })) },
    { kind: 'name wildcard NGUYEN^V* + today', queries: [{ patientName: 'NGUYEN^V*', date: today }] },
  ];

  const rows: Array<Record<string, string | number>> = [];
  const engine = await startEngineWithDicom({ worklist: { cacheSeconds: 60, maxStaleSeconds: 600, daysBefore: 1, daysAfter: 7 } });
  engine.engine.registerService('his', data.his);
  for (const k of kinds) {
    const c0 = selfCpuMs();
    const r = await client(engine.port, 'HISBRIDGE', finds, k.queries);
    const cpu = (selfCpuMs() - c0) / 1000;
    rows.push({ SCP: 'hisbridge (snapshot of 10,000 orders)', query: k.kind, queries: r.queries, 'results/query': r.results / r.queries, 'queries/s': r.queries / r.seconds, 'queries per SCP CPU-s': r.queries / Math.max(cpu, 0.01) });
  }
  await engine.stop();

  if (commandExists('wlmscpfs')) {
    // The same items as worklist files, as wlmscpfs reads them (one folder per called AE title, with a lockfile).
    const dir = tempDir('hisbridge-bench-wlm-');
    const aeDir = path.join(dir, 'WLM');
    fs.mkdirSync(aeDir);
    fs.writeFileSync(path.join(aeDir, 'lockfile'), '');
    const patients = new Map<string, Awaited<ReturnType<typeof data.his.patientById>>>();
    for (const o of orders) if (!patients.has(o.patientId)) patients.set(o.patientId, await data.his.patientById(o.patientId));
    orders.forEach((o, i) => {
      const item = { SpecificCharacterSet: 'ISO_IR 192', ...toWorklistEntry(o, patients.get(o.patientId)).item };
      const meta = buildFileMetaHeader({ sopClassUid: '1.2.840.10008.5.1.4.31', sopInstanceUid: `2.25.${i + 1}`, transferSyntax: TransferSyntax.ExplicitVRLittleEndian });
      fs.writeFileSync(path.join(aeDir, `${String(i).padStart(5, '0')}.wl`), Buffer.concat([meta, encodeDataset(item, TransferSyntax.ExplicitVRLittleEndian)]));
    });
    const port = await freePort();
    const scp = startProcess('wlmscpfs', ['-dfp', dir, '-csk', '--single-process', String(port)]);
    await new Promise((r) => setTimeout(r, 500));
    for (const k of kinds.slice(0, 3)) {
      const c0 = processCpuMs(scp.pid!);
      const r = await client(port, 'WLM', baselineFinds, k.queries);
      const cpu = (processCpuMs(scp.pid!) - c0) / 1000;
      rows.push({ SCP: 'DCMTK wlmscpfs (10,000 .wl files)', query: k.kind, queries: r.queries, 'results/query': r.results / r.queries, 'queries/s': r.queries / r.seconds, 'queries per SCP CPU-s': r.queries / Math.max(cpu, 0.01) });
    }
    await stopProcess(scp);
    fs.rmSync(dir, { recursive: true, force: true });
  } else console.log('wlmscpfs not installed: no baseline');

  console.log(`\nModality Worklist C-FIND against 10,000 scheduled orders (one association, serial queries)\n`);
  console.log(table(rows));
  const ours = rows.find((r) => String(r.SCP).startsWith('hisbridge') && String(r.query).startsWith('station'))!;
  const theirs = rows.find((r) => String(r.SCP).startsWith('DCMTK') && String(r.query).startsWith('station'));
  if (theirs) console.log(`\nratio hisbridge / wlmscpfs (station + today): ${(Number(ours['queries/s']) / Number(theirs['queries/s'])).toFixed(1)} wall, ${(Number(ours['queries per SCP CPU-s']) / Number(theirs['queries per SCP CPU-s'])).toFixed(1)} per CPU-s; target ≥ 500 queries/s`);
  console.log(`load average at end: ${loadAverage()}`);
})().catch((err) => {
  console.error(err);
  process.exit(1);
});

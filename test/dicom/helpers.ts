// Shared pieces of the DICOM tests: a demo HIS (the real HIS connector over the generated demo
// database), a DicomNode on a random loopback port, DCMTK tools run asynchronously with
// TCP_NODELAY=1, synthetic studies, and waiting for node events instead of sleeping.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDemoHis } from '../../his/demo';
import { HisDatabase } from '../../connectors/his-db/his-database';
import { loadMapping } from '../../his/mapping/load';
import { DicomNode } from '../../connectors/dicom/node';
import { dicomSourceSchema, type DicomSourceInput } from '../../connectors/dicom/config';
import { syntheticImage, type SyntheticStudy } from '../../connectors/dicom/dataset/synthetic';
import { newUid } from '../../connectors/dicom/dataset/uid';
import type { ImagingOrder, Patient } from '../../model';
import { personName } from '../../connectors/dicom/worklist/items';
import { fromHospitalParts, hospitalParts, toHospitalDateTime } from '../../model/datetime';

export function tempDir(prefix = 'hisbridge-dicom-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface DemoHis {
  his: HisDatabase;
  file: string;
  dir: string;
  close(): Promise<void>;
}

/** The generated demo hospital (SQLite) opened through the real HIS database connector. */
export async function openDemoHis(visits = 300): Promise<DemoHis> {
  const dir = tempDir('hisbridge-demo-his-');
  const { file } = await createDemoHis({ file: path.join(dir, 'his.sqlite'), visits, today: new Date() });
  const his = await HisDatabase.open({ type: 'sqlite', file }, loadMapping('demo-his'));
  return {
    his,
    file,
    dir,
    async close() {
      await his.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface TestNode {
  node: DicomNode;
  port: number;
  dir: string;
  stop(): Promise<void>;
}

export const OUR_AE = 'HISBRIDGE';

export async function startNode(config: Partial<DicomSourceInput>, his: () => HisDatabase | undefined, extra: { certsDir?: string } = {}): Promise<TestNode> {
  const dir = tempDir();
  const parsed = dicomSourceSchema.parse({ aeTitle: OUR_AE, host: '127.0.0.1', port: 0, ...config });
  const node = new DicomNode(parsed, { storageDir: path.join(dir, 'store'), dataDir: dir, his, certsDir: extra.certsDir });
  const port = await node.start();
  return {
    node,
    port,
    dir,
    async stop() {
      await node.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a DCMTK tool without blocking the event loop (our SCP runs in this process). */
export function dcmtk(tool: string, args: string[], timeoutMs = 60_000): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(tool, args, { env: { ...process.env, TCP_NODELAY: '1' }, timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException & { code?: unknown }).code === 'number' ? ((err as unknown as { code: number }).code) : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** A worklist query file made with dump2dcm from a text dump (as findscu -W expects). */
export async function worklistQueryFile(dir: string, name: string, dump: string): Promise<string> {
  const txt = path.join(dir, `${name}.dump`);
  const dcm = path.join(dir, `${name}.dcm`);
  fs.writeFileSync(txt, dump);
  const r = await dcmtk('dump2dcm', [txt, dcm]);
  if (r.code !== 0) throw new Error(`dump2dcm failed: ${r.stderr}`);
  return dcm;
}

/** A study for a HIS order: the patient, accession number and the worklist's Study Instance UID. */
export function studyForOrder(order: ImagingOrder, patient: Patient | undefined, studyInstanceUid = newUid()): SyntheticStudy {
  return {
    patientId: order.patientId,
    patientName: personName(patient?.name),
    studyInstanceUid,
    accessionNumber: order.accessionNumber,
    studyDate: (order.scheduledAt ?? '').slice(0, 10).replace(/-/g, ''),
    modality: order.modality,
  };
}

/** Writes `count` synthetic images of one series; returns their paths and SOP Instance UIDs. */
export function writeStudy(dir: string, study: SyntheticStudy, count: number, kind: 'ct' | 'small' = 'small'): Array<{ file: string; sopInstanceUid: string; bytes: Buffer }> {
  fs.mkdirSync(dir, { recursive: true });
  const series = newUid();
  const out = [];
  for (let i = 1; i <= count; i++) {
    const image = syntheticImage(study, { seriesInstanceUid: series, instanceNumber: i, kind });
    const file = path.join(dir, `${String(i).padStart(4, '0')}.dcm`);
    fs.writeFileSync(file, image.bytes);
    out.push({ file, sopInstanceUid: image.sopInstanceUid, bytes: image.bytes });
  }
  return out;
}

/** Resolves with the first event payload that satisfies `predicate` (rejects after `timeoutMs`). */
export function nextEvent<T = any>(node: DicomNode, event: string, predicate: (payload: T) => boolean = () => true, timeoutMs = 15_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      node.off(event, listener);
      reject(new Error(`no "${event}" event within ${timeoutMs} ms`));
    }, timeoutMs);
    const listener = (payload: T) => {
      if (!predicate(payload)) return;
      clearTimeout(timer);
      node.off(event, listener);
      resolve(payload);
    };
    node.on(event, listener);
  });
}

/** Polls until `check` is truthy (for state kept outside the node, e.g. the HIS database). */
export async function waitUntil<T>(check: () => Promise<T> | T, timeoutMs = 15_000, what = 'condition'): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** The HIS's worklist over the window a node serves by default (yesterday to 7 days ahead). */
export async function worklistWindowOrders(his: HisDatabase, extra: Parameters<HisDatabase['scheduledImagingOrders']>[0] = {}): Promise<ImagingOrder[]> {
  const today = hospitalParts(new Date());
  return his.scheduledImagingOrders({
    from: toHospitalDateTime(fromHospitalParts(today.year, today.month, today.day - 1)),
    to: toHospitalDateTime(fromHospitalParts(today.year, today.month, today.day + 8)),
    limit: 100_000,
    ...extra,
  });
}

// Shared pieces of the DICOM benchmarks: a real engine with a `dicom` channel, DCMTK tools run
// with TCP_NODELAY=1, synthetic study folders, and a small table printer.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { registerBuiltinConnectors } from '../../connectors';
import { ConnectorRegistry } from '../../engine/connectors/registry';
import { Engine } from '../../engine/engine';
import { SqliteMessageStore } from '../../engine/store/sqlite-store';
import { dicomNodes } from '../../connectors/dicom';
import type { DicomNode } from '../../connectors/dicom/node';
import { syntheticImage } from '../../connectors/dicom/dataset/synthetic';
import { newUid } from '../../connectors/dicom/dataset/uid';
import { freePort } from '../../test/dicom/orthanc';

export { freePort };

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function commandExists(command: string): boolean {
  return (process.env.PATH ?? '').split(':').some((dir) => fs.existsSync(path.join(dir, command))) || (command.startsWith('/') && fs.existsSync(command));
}

export function run(tool: string, args: string[], timeoutMs = 600_000): Promise<{ code: number; stdout: string; stderr: string; ms: number }> {
  const started = process.hrtime.bigint();
  return new Promise((resolve) => {
    execFile(tool, args, { env: { ...process.env, TCP_NODELAY: '1' }, timeout: timeoutMs, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr), ms: Number(process.hrtime.bigint() - started) / 1e6 });
    });
  });
}

export function startProcess(tool: string, args: string[]): ChildProcess {
  return spawn(tool, args, { env: { ...process.env, TCP_NODELAY: '1' }, stdio: 'ignore' });
}

export async function stopProcess(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await exited;
}

/** Writes `count` synthetic images (one study, one series) and returns the folder and its size. */
export function writeImages(dir: string, count: number, kind: 'ct' | 'small'): { dir: string; bytes: number } {
  fs.mkdirSync(dir, { recursive: true });
  const study = { patientId: 'BN00000001', patientName: 'Nguyễn^Văn An', studyInstanceUid: newUid(), accessionNumber: 'ACCBENCH', modality: kind === 'ct' ? 'CT' : 'OT', studyDate: '20261122' };
  const series = newUid();
  let bytes = 0;
  for (let i = 0; i < count; i++) {
    const image = syntheticImage(study, { seriesInstanceUid: series, instanceNumber: i + 1, kind });
    fs.writeFileSync(path.join(dir, `${String(i).padStart(5, '0')}.dcm`), image.bytes);
    bytes += image.bytes.length;
  }
  return { dir, bytes };
}

export interface BenchEngine {
  engine: Engine;
  node: DicomNode;
  port: number;
  /**
   * Stops the engine and deletes its data folder, or (with `keepFiles`) returns a function that
   * deletes it later: on this machine's journal-less ext4, creating files within ~30 s of deleting
   * thousands is several times slower (the kernel skips recently deleted inodes one by one), so a
   * bench deletes nothing until every contender has run.
   */
  stop(options?: { keepFiles?: boolean }): Promise<() => void>;
}

/** The engine with one channel whose source is our DICOM node (instances stored as messages, no destination). */
export async function startEngineWithDicom(config: Record<string, unknown> = {}, synchronous: 'full' | 'normal' = 'full', groupCommitMs?: number): Promise<BenchEngine> {
  const root = tempDir('hisbridge-bench-dicom-');
  const dataDir = path.join(root, 'data');
  // groupCommitMs given: our own store instance, to show what the commit window costs a serial sender.
  const store = groupCommitMs === undefined ? undefined : new SqliteMessageStore({ file: path.join(dataDir, 'store.db'), synchronous, groupCommitMs });
  const engine = new Engine({ dataDir, certsDir: path.join(root, 'certs'), registry: registerBuiltinConnectors(new ConnectorRegistry()), retentionIntervalMs: 0, alertIntervalMs: 0, synchronous, store });
  await engine.start();
  const port = await freePort();
  await engine.deployChannel({
    id: 'bench-dicom',
    name: 'bench',
    source: { connector: 'dicom', config: { aeTitle: 'HISBRIDGE', port, allowUnknownAes: true, ...config } },
  } as never);
  return {
    engine,
    node: dicomNodes.get('bench-dicom')!,
    port,
    async stop(options = {}) {
      await engine.stop();
      const remove = () => fs.rmSync(root, { recursive: true, force: true });
      if (!options.keepFiles) remove();
      return remove;
    },
  };
}

export function table(rows: ReadonlyArray<object>): string {
  const headers = Object.keys(rows[0]);
  const get = (r: object, h: string) => (r as Record<string, string | number>)[h];
  const cell = (v: string | number) => (typeof v === 'number' ? (Number.isInteger(v) ? String(v) : v.toFixed(1)) : v);
  const lines = [`| ${headers.join(' | ')} |`, `|${headers.map((h, i) => (i === 0 ? '---' : '---:')).join('|')}|`];
  for (const r of rows) lines.push(`| ${headers.map((h) => cell(get(r, h))).join(' | ')} |`);
  return lines.join('\n');
}

export function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(1)).join(' / ');
}

/** CPU milliseconds (user + system) a process has used so far, from /proc (Linux). */
export function processCpuMs(pid: number): number {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const ticks = Number(fields[11]) + Number(fields[12]); // utime, stime (fields 14 and 15)
  return (ticks * 1000) / 100; // USER_HZ is 100 on Linux
}

/** CPU milliseconds this process has used so far. */
export function selfCpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

// Shared test helpers for the IoMT area: temp data dirs and contract payloads.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export function tempDir(prefix = 'hisbridge-iomt-'): { dir: string; cleanup: () => void } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  return { dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export interface M {
  code: string;
  value: number | string | boolean;
  unit?: string;
  system?: string;
  time?: string | number;
}

export const NORMAL_SET: M[] = [
  { code: '8867-4', value: 72, unit: '/min' },
  { code: '9279-1', value: 16, unit: '/min' },
  { code: '59408-5', value: 97, unit: '%' },
  { code: '8480-6', value: 125, unit: 'mm[Hg]' },
  { code: '8462-4', value: 80, unit: 'mm[Hg]' },
  { code: '8310-5', value: 36.8, unit: 'Cel' },
  { code: 'acvpu', value: 'A' },
  { code: 'o2', value: false },
];

export function payload(deviceId: string, messageId: string | number, time: number | string, measurements: M[], extra: Record<string, unknown> = {}): Buffer {
  return Buffer.from(JSON.stringify({ v: 1, deviceId, messageId, time: typeof time === 'number' ? new Date(time).toISOString() : time, measurements, ...extra }));
}

export const topicFor = (deviceId: string, bed = 'B01', ward = 'ICU', format = 'vitals') => `hospital/hn1/ward/${ward}/bed/${bed}/device/${deviceId}/${format}`;

/** Resolves when `predicate` holds, polling every 10 ms (for state reached through a broker). */
export async function waitFor(predicate: () => boolean | Promise<boolean>, timeoutMs = 10_000, what = 'condition'): Promise<void> {
  const start = Date.now();
  while (!(await predicate())) {
    if (Date.now() - start > timeoutMs) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

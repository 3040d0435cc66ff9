// Real peers for the serial tests: a socat pseudo-terminal pair and the pyserial analyser emulator.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { requirePeers } from '../helpers/peers';
import { tempDir } from '../helpers/engine';

export const PYTHON = '/usr/bin/python3';
export const EMULATOR = path.join(__dirname, '..', 'fixtures', 'astm', 'pyserial_analyzer.py');

/** requirePeers for python3 plus a check that `import serial` works (Debian python3-serial). */
export function requirePyserial(ctx: Mocha.Context): void {
  requirePeers(ctx, PYTHON);
  const check = spawnSync(PYTHON, ['-c', 'import serial'], { encoding: 'utf8' });
  if (check.status === 0) return;
  const reason = `pyserial not importable by ${PYTHON} (install python3-serial): ${check.stderr.trim()}`;
  if (process.env.REQUIRE_PEERS === '1') throw new Error(`REQUIRE_PEERS=1 but ${reason}`);
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

export interface PtyPair {
  a: string;
  b: string;
  close(): Promise<void>;
}

/** Two linked pseudo-terminals made by socat (a real tty pair, as a null-modem cable would be). */
export async function ptyPair(): Promise<PtyPair> {
  const dir = tempDir('astm-pty-');
  const a = path.join(dir, 'a');
  const b = path.join(dir, 'b');
  const proc: ChildProcess = spawn('socat', ['-d', '-d', `pty,raw,echo=0,link=${a}`, `pty,raw,echo=0,link=${b}`], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Promise<void>((resolve, reject) => {
    let text = '';
    const timer = setTimeout(() => reject(new Error(`socat did not start: ${text}`)), 5000);
    proc.stderr!.on('data', (chunk) => {
      text += chunk;
      if (text.includes('starting data transfer loop')) {
        clearTimeout(timer);
        resolve();
      }
    });
    proc.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`socat exited with ${code}: ${text}`));
    });
  });
  proc.stderr!.resume();
  return {
    a,
    b,
    async close() {
      if (proc.exitCode === null) {
        const exited = new Promise((r) => proc.once('exit', r));
        proc.kill('SIGTERM');
        await exited;
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export interface EmulatorRun {
  code: number;
  events: Array<Record<string, any>>;
  stderr: string;
}

/** Runs the pyserial analyser emulator to completion. */
export function runEmulator(args: string[], timeoutMs = 30_000): Promise<EmulatorRun> {
  return new Promise((resolve, reject) => {
    const proc = spawn(PYTHON, [EMULATOR, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    proc.stdout.on('data', (c) => (out += c));
    proc.stderr.on('data', (c) => (err += c));
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`pyserial emulator did not finish in ${timeoutMs} ms; stderr: ${err}`));
    }, timeoutMs);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      const events = out
        .split('\n')
        .filter(Boolean)
        .map((l) => JSON.parse(l));
      resolve({ code: code ?? -1, events, stderr: err });
    });
  });
}

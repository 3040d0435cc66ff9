// Runs a private Mosquitto for a test or bench: generated config (iomt/mosquitto-config.ts), a free
// loopback port, persistence in a temp folder. Restartable on the same port and folder.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { mosquittoConfig, type MosquittoConfigOptions } from '../../iomt/mosquitto-config';

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as net.AddressInfo).port;
      s.close(() => resolve(port));
    });
  });
}

async function waitForPort(port: number, child: ChildProcess, stderr: () => string, timeoutMs = 10_000): Promise<void> {
  const start = Date.now();
  for (;;) {
    if (child.exitCode !== null) throw new Error(`mosquitto exited with ${child.exitCode}: ${stderr()}`);
    const ok = await new Promise<boolean>((resolve) => {
      const sock = net.connect(port, '127.0.0.1');
      sock.once('connect', () => {
        sock.destroy();
        resolve(true);
      });
      sock.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() - start > timeoutMs) throw new Error(`mosquitto did not listen on ${port} within ${timeoutMs} ms: ${stderr()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

export class MosquittoProcess {
  private child?: ChildProcess;
  private stderr = '';
  readonly dir: string;
  port = 0;

  constructor(private readonly options: Partial<MosquittoConfigOptions> = {}) {
    this.dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-mosquitto-'));
    // Started as root, Mosquitto drops to the `mosquitto` user: it must be able to write its persistence here.
    fs.chmodSync(this.dir, 0o777);
  }

  get url(): string {
    return `mqtt://127.0.0.1:${this.port}`;
  }

  get log(): string {
    return this.stderr;
  }

  async start(): Promise<void> {
    if (!this.port) this.port = this.options.port ?? (await freePort());
    const conf = path.join(this.dir, 'mosquitto.conf');
    fs.writeFileSync(conf, mosquittoConfig({ ...this.options, port: this.port, persistenceDir: this.dir }));
    this.stderr = '';
    const child = spawn('mosquitto', ['-c', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr!.on('data', (d: Buffer) => (this.stderr = (this.stderr + d.toString()).slice(-20_000)));
    this.child = child;
    await waitForPort(this.port, child, () => this.stderr);
  }

  /** SIGTERM: Mosquitto saves its persistence file and exits. */
  async stop(): Promise<void> {
    const child = this.child;
    if (!child || child.exitCode !== null) return;
    this.child = undefined;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGTERM');
      setTimeout(() => child.kill('SIGKILL'), 5000).unref();
    });
  }

  async restart(): Promise<void> {
    await this.stop();
    await this.start();
  }

  async dispose(): Promise<void> {
    await this.stop();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

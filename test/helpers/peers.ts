// Conformance tests need real third-party peers (DCMTK, mllp_send, xmllint…). Without them a test
// skips and says why; with REQUIRE_PEERS=1 (set by .ci/run) a missing peer fails the run instead.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export function commandAvailable(command: string): boolean {
  if (command.startsWith('/')) return existsSync(command);
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

/** Call at the top of a describe/it: skips (or fails under REQUIRE_PEERS=1) when a peer is missing. */
export function requirePeers(ctx: Mocha.Context, ...commands: string[]): void {
  const missing = commands.filter((c) => !commandAvailable(c));
  if (missing.length === 0) return;
  const reason = `peer not installed: ${missing.join(', ')} (CI installs it via .ci/run)`;
  if (process.env.REQUIRE_PEERS === '1') throw new Error(`REQUIRE_PEERS=1 but ${reason}`);
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

/** True when something accepts TCP connections on host:port within timeoutMs. */
export function serviceReachable(host: string, port: number, timeoutMs = 1500): Promise<boolean> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const net = require('node:net') as typeof import('node:net');
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    const done = (ok: boolean) => {
      socket.destroy();
      resolve(ok);
    };
    socket.setTimeout(timeoutMs, () => done(false));
    socket.once('connect', () => done(true));
    socket.once('error', () => done(false));
  });
}

/**
 * Like requirePeers, for a server reached over TCP (PostgreSQL, MariaDB…): `await` it at the top of
 * a describe's before hook or an it. Skips with the reason, or fails under REQUIRE_PEERS=1.
 */
export async function requireService(ctx: Mocha.Context, name: string, host: string, port: number): Promise<void> {
  if (await serviceReachable(host, port)) return;
  const reason = `${name} not reachable on ${host}:${port} (CI starts it via .ci/run)`;
  if (process.env.REQUIRE_PEERS === '1') throw new Error(`REQUIRE_PEERS=1 but ${reason}`);
  console.log(`      skipped: ${reason}`);
  ctx.skip();
}

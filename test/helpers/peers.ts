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

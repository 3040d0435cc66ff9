// Child process of validate-large.ts: validates (or, with --baseline, only reads and decodes) one
// file and prints time and peak RSS as JSON. A separate process, so its RSS is its own.
import { createReadStream } from 'node:fs';
import { validateFile } from '../../claims/validator/validate';

async function main() {
  const [file, mode] = process.argv.slice(2);
  const started = performance.now();
  let result: Record<string, unknown>;
  if (mode === '--baseline') {
    // Read the bytes and decode UTF-8, as any parser must: the floor for a streaming validator (same 64 KiB chunks).
    const decoder = new TextDecoder('utf-8', { fatal: true });
    let chars = 0;
    for await (const chunk of createReadStream(file, { highWaterMark: 1 << 16 })) chars += decoder.decode(chunk as Buffer, { stream: true }).length;
    result = { chars };
  } else {
    const r = await validateFile(file, { facilityLevel: 'central', keepFindings: 100 });
    result = { episodes: r.episodes.length, errors: r.errors, warnings: r.warnings, fatal: r.fatal, rules: [...new Set(r.findings.map((f) => f.rule))] };
  }
  const ms = performance.now() - started;
  const usage = process.resourceUsage();
  // CPU time too: on a loaded machine wall time says more about the neighbours than about us.
  process.stdout.write(JSON.stringify({ ms, cpuMs: (usage.userCPUTime + usage.systemCPUTime) / 1000, maxRssMb: usage.maxRSS / 1024, ...result }));
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

// `hisbridge claims …`: validate any claim file (the hospital's own or its HIS vendor's), build claims
// from the HIS for a period, submit them to the BHXH gateway, and the tools around that.
//   validate <file>... [--version V] [--json] [--facility-level L] [--ma-cskcb X]
//   build --from YYYY-MM-DD --to YYYY-MM-DD [--workers N] [--his-sqlite FILE] [--mapping NAME]
//   submit [--ma-lk X] [--host test|production|URL]
//   list [--status S] [--period yyyy-MM] | show <MA_LK>
//   credentials --username U [--profile P]   (password from HISBRIDGE_GATEWAY_PASSWORD or stdin)
//   confirm <MA_LK> <version> received|not-received [--ma-giao-dich X]
//   reopen <MA_LK>
//   simulator [--port N] [--username U] [--password P] [--reject MA_LK,…]
import path from 'node:path';
import readline from 'node:readline';
import { parseArgs, type CliGroup } from '../engine/cli/types';
import { loadConfig } from '../engine/config/config';
import { loadClaimsConfig } from './config';
import { GatewaySimulator } from './gateway/simulator';
import { formatFinding } from './model';
import { ClaimsService } from './service';
import { isFormatVersion } from './spec/registry';
import type { FacilityLevel } from './spec/codelists';
import { validateFile } from './validator/validate';

const out = (s: string) => process.stdout.write(`${s}\n`);
const err = (s: string) => process.stderr.write(`${s}\n`);
const projectRoot = path.resolve(__dirname, '..');

type Flags = Record<string, string | true>;
const str = (flags: Flags, name: string): string | undefined => (typeof flags[name] === 'string' ? (flags[name] as string) : undefined);

/** Opens the claims service with the engine's data folder (and the HIS when `withHis`). */
async function openService(flags: Flags, withHis: boolean): Promise<{ service: ClaimsService; close(): Promise<void> }> {
  const engine = loadConfig(str(flags, 'config'), projectRoot);
  const config = loadClaimsConfig(str(flags, 'claims-config'), engine.baseDir);
  const dataDir = str(flags, 'data-dir') ?? engine.dataDir;
  let release: (() => Promise<void>) | undefined;
  let lookups;
  if (withHis) {
    const { acquireHis, resolveConnection } = await import('../connectors/his-db/pool');
    const file = str(flags, 'his-sqlite');
    const connection = await resolveConnection(file ? { type: 'sqlite', file } : undefined, dataDir);
    const lease = await acquireHis(connection, str(flags, 'mapping') ?? 'demo-his');
    lookups = lease.his;
    release = () => lease.release();
  }
  const service = new ClaimsService({ dataDir, certsDir: str(flags, 'certs-dir') ?? engine.certsDir, config, lookups });
  return {
    service,
    async close() {
      service.close();
      await release?.();
    },
  };
}

async function validate(args: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args);
  if (positionals.length === 0) {
    err('usage: hisbridge claims validate <file.xml>... [--version 3176|4750|130|4210] [--json] [--facility-level central|provincial|district|commune] [--ma-cskcb CODE]');
    return 2;
  }
  const version = str(flags, 'version');
  if (version && !isFormatVersion(version)) {
    err(`--version must be 4210, 130, 4750 or 3176 (got ${version})`);
    return 2;
  }
  const level = str(flags, 'facility-level') as FacilityLevel | undefined;
  let errors = 0;
  const json = flags.json === true;
  const reports: unknown[] = [];
  for (const file of positionals) {
    try {
      const result = await validateFile(file, {
        version: version as never,
        facilityLevel: level,
        maCskcb: str(flags, 'ma-cskcb'),
        onFinding: json ? undefined : (f) => out(`${file}: ${formatFinding(f)}`),
      });
      errors += result.errors;
      if (json) reports.push({ file, ...result });
      else {
        const kind = result.envelope.kind === 'envelope' ? `${result.envelope.hosoCount} episode(s)${result.envelope.signed ? ', signed' : ''}${result.envelope.base64Wrapped ? ', base64 upload form' : ''}` : result.envelope.kind;
        out(`${file}: ${result.fatal ? 'NOT READABLE' : kind}: ${result.errors} error(s), ${result.warnings} warning(s)`);
      }
    } catch (e) {
      err(`${file}: ${(e as Error).message}`);
      return 2;
    }
  }
  if (json) out(JSON.stringify(reports.length === 1 ? reports[0] : reports, null, 2));
  return errors > 0 ? 1 : 0;
}

const isoDate = /^\d{4}-\d{2}-\d{2}$/;

async function build(args: string[]): Promise<number> {
  const { flags } = parseArgs(args);
  const from = str(flags, 'from');
  const to = str(flags, 'to');
  if (!from || !to || !isoDate.test(from) || !isoDate.test(to)) {
    err('usage: hisbridge claims build --from YYYY-MM-DD --to YYYY-MM-DD [--workers N] [--his-sqlite FILE] [--mapping NAME] [--config FILE] [--claims-config FILE]');
    return 2;
  }
  const workersFlag = str(flags, 'workers');
  if (workersFlag !== undefined && !/^\d{1,2}$/.test(workersFlag)) {
    err(`--workers must be a number of threads (0 builds on the main thread), got "${workersFlag}"`);
    return 2;
  }
  const { service, close } = await openService(flags, true);
  try {
    // --to is inclusive on the command line: the period ends at the start of the next day.
    const [y, m, d] = to.split('-').map(Number);
    const toIso = `${new Date(Date.UTC(y, m - 1, d + 1)).toISOString().slice(0, 10)}T00:00:00+07:00`;
    const summary = await service.build({ from: `${from}T00:00:00+07:00`, to: toIso }, (p, s) => {
      const state = p.errors ? `${p.errors} error(s)` : p.warnings ? `${p.warnings} warning(s)` : 'ok';
      out(`${p.maLk} v${s.version} ${s.action}: ${state}`);
      for (const f of p.findings) out(`  ${formatFinding(f)}`);
    }, { workers: workersFlag === undefined ? undefined : Number(workersFlag) });
    out(`${summary.visits} visit(s): ${summary.created} new, ${summary.updated} updated, ${summary.unchanged} unchanged; ${summary.withErrors} with errors, ${summary.withWarnings} with warnings only`);
    for (const f of summary.failed) err(`${f.maLk}: ${f.error}`);
    return summary.failed.length || summary.withErrors ? 1 : 0;
  } finally {
    await close();
  }
}

async function submit(args: string[]): Promise<number> {
  const { flags } = parseArgs(args);
  const { service, close } = await openService(flags, false);
  try {
    const host = str(flags, 'host');
    const baseUrl = host ? (await import('./config')).gatewayUrl(host) : undefined;
    const maLk = str(flags, 'ma-lk');
    const outcomes = maLk ? [await service.submit(maLk, undefined, baseUrl)] : await service.submitPending(baseUrl);
    for (const o of outcomes) {
      const r = o.receipt;
      out(`${o.maLk} v${o.version}: ${o.status}${o.skipped ? ` (${o.skipped})` : ''}${r?.maGiaoDich ? ` maGiaoDich ${r.maGiaoDich}` : ''}${r?.thongDiep ? ` — ${r.thongDiep}` : ''}${r?.error ? ` — ${r.error}` : ''}`);
    }
    if (outcomes.length === 0) out('nothing to send');
    return outcomes.some((o) => o.status !== 'accepted' && !o.skipped) ? 1 : 0;
  } catch (e) {
    err((e as Error).message);
    return 1;
  } finally {
    await close();
  }
}

async function list(args: string[]): Promise<number> {
  const { flags } = parseArgs(args);
  const { service, close } = await openService(flags, false);
  try {
    const rows = service.store.list({ status: str(flags, 'status') as never, period: str(flags, 'period'), limit: Number(str(flags, 'limit') ?? 200) });
    for (const r of rows) out(`${r.maLk}\tv${r.version}\t${r.status}\t${r.period ?? ''}\t${r.hoTen ?? ''}\t${r.tBhtt ?? ''}\t${r.errors}E/${r.warnings}W${r.lastError ? `\t${r.lastError}` : ''}`);
    out(`${rows.length} claim(s); by status: ${JSON.stringify(service.store.countsByStatus())}`);
    return 0;
  } finally {
    await close();
  }
}

async function show(args: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args);
  if (!positionals[0]) {
    err('usage: hisbridge claims show <MA_LK>');
    return 2;
  }
  const { service, close } = await openService(flags, false);
  try {
    const versions = service.store.versions(positionals[0]);
    if (versions.length === 0) {
      err(`no claim ${positionals[0]}`);
      return 1;
    }
    for (const v of versions) {
      out(`version ${v.version} (${v.formatVersion}): ${v.status}, built ${v.builtAt}, ${v.attempts} attempt(s)`);
      for (const f of v.findings) out(`  ${formatFinding(f)}`);
      for (const r of service.store.receipts(v.maLk, v.version)) out(`  receipt #${r.id} attempt ${r.attempt} ${r.sentAt} ${r.outcome}${r.maKetQua ? ` maKetQua ${r.maKetQua}` : ''}${r.maGiaoDich ? ` maGiaoDich ${r.maGiaoDich}` : ''}${r.thongDiep ? ` — ${r.thongDiep}` : ''}${r.error ? ` — ${r.error}` : ''}`);
    }
    return 0;
  } finally {
    await close();
  }
}

async function readPassword(): Promise<string> {
  if (process.env.HISBRIDGE_GATEWAY_PASSWORD) return process.env.HISBRIDGE_GATEWAY_PASSWORD;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: false });
  process.stderr.write('gateway password: ');
  for await (const line of rl) {
    rl.close();
    return line;
  }
  return '';
}

async function credentials(args: string[]): Promise<number> {
  const { flags } = parseArgs(args);
  const username = str(flags, 'username');
  if (!username) {
    err('usage: hisbridge claims credentials --username ACCOUNT [--profile NAME]   (password from HISBRIDGE_GATEWAY_PASSWORD or stdin)');
    return 2;
  }
  const password = await readPassword();
  if (!password) {
    err('no password given');
    return 2;
  }
  const { service, close } = await openService(flags, false);
  try {
    service.setCredentials({ username, password }, str(flags, 'profile'));
    out(`stored the gateway credentials of ${username} (encrypted with the key in the data folder)`);
    return 0;
  } finally {
    await close();
  }
}

async function confirm(args: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args);
  const [maLk, version, answer] = positionals;
  if (!maLk || !/^\d+$/.test(version ?? '') || !['received', 'not-received'].includes(answer ?? '')) {
    err('usage: hisbridge claims confirm <MA_LK> <version> received|not-received [--ma-giao-dich X]   (after checking the portal)');
    return 2;
  }
  const { service, close } = await openService(flags, false);
  try {
    const ok = answer === 'received' ? service.store.confirmReceived(maLk, Number(version), str(flags, 'ma-giao-dich')) : service.store.confirmNotReceived(maLk, Number(version));
    out(ok ? `${maLk} v${version}: ${answer === 'received' ? 'accepted (confirmed on the portal)' : 'may be sent again'}` : `${maLk} v${version} is not unconfirmed`);
    return ok ? 0 : 1;
  } finally {
    await close();
  }
}

async function reopen(args: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args);
  if (!positionals[0]) {
    err('usage: hisbridge claims reopen <MA_LK>');
    return 2;
  }
  const { service, close } = await openService(flags, false);
  try {
    const r = service.store.reopen(positionals[0]);
    out(r ? `${positionals[0]}: version ${r.version} ready to send (same content)` : `${positionals[0]}: only an accepted or rejected claim can be reopened`);
    return r ? 0 : 1;
  } finally {
    await close();
  }
}

async function simulator(args: string[]): Promise<number> {
  const { flags } = parseArgs(args);
  const reject = new Set((str(flags, 'reject') ?? '').split(',').filter(Boolean));
  const sim = new GatewaySimulator({
    username: str(flags, 'username') ?? '01999_BV',
    password: str(flags, 'password') ?? 'secret',
    decide: ({ maLks }) => (maLks.some((m) => reject.has(m)) ? { accept: false, maKetQua: '202', thongDiep: 'Từ chối theo cấu hình giả lập (--reject)' } : undefined),
  });
  const url = await sim.start(Number(str(flags, 'port') ?? 8089), str(flags, 'host') ?? '127.0.0.1');
  out(`BHXH gateway SIMULATOR listening on ${url} (not the real gateway). Ctrl-C to stop.`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await sim.stop();
  out(`received ${sim.received.length} claim upload(s), ${sim.checkIns.length} check-in(s)`);
  return 0;
}

export const claimsCli: CliGroup = {
  name: 'claims',
  description: 'BHYT insurance claims (XML QĐ 130/4750/3176, legacy 4210): validate, build, submit to the BHXH gateway',
  commands: {
    validate: { usage: 'validate <file.xml>... [--version V] [--json]   check any claim file; exit 1 on errors', run: validate },
    build: { usage: 'build --from YYYY-MM-DD --to YYYY-MM-DD   build, validate, sign and store claims from the HIS', run: build },
    submit: { usage: 'submit [--ma-lk X] [--host test|production|URL]   send ready claims (each version at most once)', run: submit },
    list: { usage: 'list [--status S] [--period yyyy-MM]   stored claims', run: list },
    show: { usage: 'show <MA_LK>   versions, findings and receipts of one claim', run: show },
    credentials: { usage: 'credentials --username U [--profile P]   store the gateway password encrypted', run: credentials },
    confirm: { usage: 'confirm <MA_LK> <version> received|not-received   settle an unconfirmed send after checking the portal', run: confirm },
    reopen: { usage: 'reopen <MA_LK>   resend unchanged content as a new version', run: reopen },
    simulator: { usage: 'simulator [--port 8089] [--reject MA_LK,…]   run the gateway SIMULATOR', run: simulator },
  },
};

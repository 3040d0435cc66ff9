// `hisbridge his <verb>`: build a demo HIS, check a mapping, and ask the HIS the questions other
// connectors ask (patient, visit with billing lines, worklist, orders of a specimen). Prints JSON.
import { existsSync } from 'node:fs';
import path from 'node:path';
import { parseArgs, type CliCommand, type CliGroup } from '../engine/cli/types';
import { connectionSchema, type ConnectionConfig } from './db/dialect';
import { createDemoHis, HIS_LAYOUTS } from './demo';
import { loadMapping } from './mapping/load';

const DEFAULT_FILE = path.join('data', 'demo-his.sqlite');

/** `--url postgres://user:pass@host:port/db` (also mysql, mariadb, mssql) or `--sqlite FILE` (default data/demo-his.sqlite). */
export function connectionFromFlags(flags: Record<string, string | true>): ConnectionConfig {
  if (typeof flags.url === 'string') {
    const url = new URL(flags.url);
    const type = url.protocol.replace(':', '').replace('postgresql', 'postgres');
    return connectionSchema.parse({
      type,
      host: url.hostname,
      port: url.port ? Number(url.port) : undefined,
      database: decodeURIComponent(url.pathname.slice(1)),
      username: url.username ? decodeURIComponent(url.username) : undefined,
      password: url.password ? decodeURIComponent(url.password) : undefined,
    });
  }
  return { type: 'sqlite', file: typeof flags.sqlite === 'string' ? flags.sqlite : DEFAULT_FILE };
}

async function withHis<T>(flags: Record<string, string | true>, fn: (his: import('../connectors/his-db/his-database').HisDatabase) => Promise<T>): Promise<number> {
  const connection = connectionFromFlags(flags);
  if (connection.type === 'sqlite' && !existsSync(connection.file)) {
    process.stderr.write(`no HIS database at ${connection.file} (create one with: hisbridge his demo --file ${connection.file})\n`);
    return 2;
  }
  const { HisDatabase } = await import('../connectors/his-db/his-database');
  const his = await HisDatabase.open(connection, loadMapping(typeof flags.mapping === 'string' ? flags.mapping : 'demo-his'));
  try {
    const value = await fn(his);
    if (value === undefined) {
      process.stderr.write('not found\n');
      return 1;
    }
    process.stdout.write(JSON.stringify(value, null, 2) + '\n');
    return 0;
  } finally {
    await his.close();
  }
}

const flagsHelp = '[--sqlite FILE | --url postgres://user@host/db] [--mapping NAME|FILE]';

const commands: Record<string, CliCommand> = {
  demo: {
    usage: 'demo [--file data/demo-his.sqlite] [--visits 2000] [--seed 1] [--layout demo-his|example-english] [--force]  build a demo HIS in SQLite',
    async run(args) {
      const { flags } = parseArgs(args);
      const file = typeof flags.file === 'string' ? flags.file : DEFAULT_FILE;
      const visits = Number(flags.visits ?? 2000);
      const layout = typeof flags.layout === 'string' ? flags.layout : 'demo-his';
      if (!HIS_LAYOUTS[layout]) {
        process.stderr.write(`--layout must be one of ${Object.keys(HIS_LAYOUTS).join(', ')}\n`);
        return 2;
      }
      if (!Number.isInteger(visits) || visits < 1 || visits > 1_000_000) {
        process.stderr.write('--visits must be an integer 1..1000000\n');
        return 2;
      }
      if (existsSync(file) && !flags.force) {
        process.stderr.write(`${file} exists (use --force to replace it)\n`);
        return 2;
      }
      const result = await createDemoHis({ file, visits, seed: Number(flags.seed ?? 1), layout, onProgress: (n) => n % 50_000 === 0 && process.stderr.write(`${n} visits…\n`) });
      process.stdout.write(JSON.stringify({ file: result.file, visits: result.visits, patients: result.patients, rows: result.totalRows, seconds: result.ms / 1000, bytes: result.bytes }, null, 2) + '\n');
      return 0;
    },
  },
  'check-mapping': {
    usage: 'check-mapping <name|file.yaml>  validate a mapping and its code maps',
    async run(args) {
      const { positionals } = parseArgs(args);
      if (!positionals[0]) {
        process.stderr.write('usage: hisbridge his check-mapping <name|file.yaml>\n');
        return 2;
      }
      try {
        const loaded = loadMapping(positionals[0]);
        process.stdout.write(`${loaded.file}: mapping "${loaded.mapping.name}" is valid (${loaded.labCodes.entries.length} lab code entries)\n`);
        return 0;
      } catch (err) {
        process.stderr.write(`${(err as Error).message}\n`);
        return 1;
      }
    },
  },
  patient: {
    usage: `patient <MA_BN|CCCD|BHYT card|passport> ${flagsHelp}  find a patient by any identifier`,
    async run(args) {
      const { positionals, flags } = parseArgs(args);
      if (!positionals[0]) return (process.stderr.write('usage: hisbridge his patient <identifier>\n'), 2);
      return withHis(flags, (his) => his.patientByIdentifier({ value: positionals[0] }));
    },
  },
  visit: {
    usage: `visit <MA_LK> ${flagsHelp}  a visit with its billing lines, results and vitals`,
    async run(args) {
      const { positionals, flags } = parseArgs(args);
      if (!positionals[0]) return (process.stderr.write('usage: hisbridge his visit <MA_LK>\n'), 2);
      return withHis(flags, async (his) => {
        const visit = await his.visitByMaLk(positionals[0]);
        if (!visit) return undefined;
        return { visit, billing: await his.billingLinesForVisit(visit.maLk), ...(await his.resultsForVisit(visit.maLk)), vitals: await his.observationsForVisit(visit.maLk) };
      });
    },
  },
  worklist: {
    usage: `worklist [--modality CT] [--station AE] [--from ISO --to ISO] ${flagsHelp}  scheduled imaging orders (default: today)`,
    async run(args) {
      const { flags } = parseArgs(args);
      const s = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
      return withHis(flags, (his) => his.scheduledImagingOrders({ modality: s('modality'), stationAeTitle: s('station'), from: s('from'), to: s('to') }));
    },
  },
  specimen: {
    usage: `specimen <barcode> ${flagsHelp}  lab orders on a specimen`,
    async run(args) {
      const { positionals, flags } = parseArgs(args);
      if (!positionals[0]) return (process.stderr.write('usage: hisbridge his specimen <barcode>\n'), 2);
      return withHis(flags, (his) => his.ordersBySpecimen(positionals[0]));
    },
  },
};

export const hisCli: CliGroup = {
  name: 'his',
  description: 'HIS database: demo HIS, mapping check, lookups (patient, visit, worklist, specimen)',
  commands,
};

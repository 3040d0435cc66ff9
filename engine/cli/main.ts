// `hisbridge <command>`: start the engine, operate it through its REST API, manage users locally,
// test a channel offline, and the protocol debugging tools (`hisbridge hl7 decode`, …).
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { SecurityStore, roles, type Role } from '../auth/security-store';
import { runPipeline, toChannelMessage } from '../channel/pipeline';
import { channelSchema } from '../channel/definition';
import { loadConfig } from '../config/config';
import { parseArgs, type CliGroup } from './types';

const projectRoot = path.resolve(__dirname, '..', '..');

/** Protocol tool groups, loaded only when used so a broken area never blocks `start`. */
const toolGroups: Record<string, { module: string; exportName: string }> = {
  hl7: { module: '../../connectors/hl7/cli', exportName: 'hl7Cli' },
  astm: { module: '../../connectors/astm/cli', exportName: 'astmCli' },
  dicom: { module: '../../connectors/dicom/cli', exportName: 'dicomCli' },
  claims: { module: '../../claims/cli', exportName: 'claimsCli' },
  his: { module: '../../his/cli', exportName: 'hisCli' },
  iomt: { module: '../../iomt/cli', exportName: 'iomtCli' },
  emr: { module: '../../emr/cli', exportName: 'emrCli' },
  sim: { module: '../../devices/simulators/cli', exportName: 'simCli' },
};

function usage(): string {
  return `hisbridge — integration engine for Vietnamese hospitals

Engine
  start [--config FILE]                 run the engine (console and API on http://localhost:8080)
  test-channel <channel-file> <message-file> [--content-type T]
                                        run a message through a channel's filters and transformers, print every stage
Operate a running engine (HISBRIDGE_URL, default http://127.0.0.1:8080; HISBRIDGE_TOKEN or --token)
  channel list | deploy <id> | undeploy <id> | pause <id> | resume <id>
  message search [--channel C] [--status S] [--patient-id P] [--accession A] [--control-id X] [--text T] [--limit N]
  message show <id>
  message reprocess <id>... [--destinations a,b]
  dlq list [--channel C] | replay <queueId>... | discard <queueId>...
Backup
  backup <folder>                       online backup (SQLite files + certificates, or pg_dump for PostgreSQL)
  restore <folder>                      restore a backup (stop the engine first)
Users (on the engine's machine, writes data/security.db directly)
  user list | add <username> --role ${roles.join('|')} | passwd <username> | token <username> --name NAME
Protocol tools
${Object.keys(toolGroups)
  .map((g) => `  ${g} …   (hisbridge ${g} --help)`)
  .join('\n')}
`;
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case 'help':
      process.stdout.write(usage());
      return command ? 0 : 1;
    case 'start':
      return start(rest);
    case 'test-channel':
      return testChannel(rest);
    case 'channel':
    case 'message':
    case 'dlq':
      return remote(command, rest);
    case 'user':
      return userCommand(rest);
    case 'backup':
    case 'restore':
      return backupCommand(command, rest);
  }
  const group = toolGroups[command];
  if (!group) {
    process.stderr.write(`unknown command "${command}"\n\n${usage()}`);
    return 2;
  }
  let loaded: CliGroup;
  try {
    loaded = require(group.module)[group.exportName];
  } catch (error) {
    process.stderr.write(`the ${command} tools are not available in this build: ${(error as Error).message.split('\n')[0]}\n`);
    return 2;
  }
  if (!loaded) {
    process.stderr.write(`the ${command} tools are not available in this build\n`);
    return 2;
  }
  const [verb, ...args] = rest;
  const sub = verb ? loaded.commands[verb] : undefined;
  if (!sub) {
    process.stdout.write(`hisbridge ${command}: ${loaded.description}\n${Object.entries(loaded.commands).map(([name, c]) => `  ${command} ${c.usage.startsWith(name) ? c.usage : `${name} ${c.usage}`}`).join('\n')}\n`);
    return verb && verb !== '--help' ? 2 : verb ? 0 : 1;
  }
  return sub.run(args);
}

async function start(args: string[]): Promise<number> {
  const { flags } = parseArgs(args);
  const config = loadConfig(typeof flags.config === 'string' ? flags.config : undefined, projectRoot);
  // Loaded here, not at the top, so protocol tools start without the whole engine.
  const { startApplication } = require('../app') as typeof import('../app');
  const { applicationModules } = require('../modules') as typeof import('../modules');
  const app = await startApplication(config, { modules: applicationModules(config), consoleDir: path.join(projectRoot, 'console', 'dist') });
  if (app.initialAdminPassword) {
    const line = '='.repeat(72);
    process.stdout.write(
      `\n${line}\nFirst start: an administrator account was created.\n  user:     admin\n  password: ${app.initialAdminPassword}\nIt is shown this once and stored only as a hash. Change it after logging in\n(or: hisbridge user passwd admin).\n${line}\n\n`,
    );
  }
  const shutdown = (signal: string) => {
    app.engine.log.info(`${signal}: stopping (finishing in-flight work)`);
    const force = setTimeout(() => process.exit(1), 30_000);
    force.unref();
    void app.stop().then(() => process.exit(0));
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  // PM2 sends this message on graceful reload when shutdown_with_message is set.
  process.on('message', (msg) => msg === 'shutdown' && shutdown('shutdown message'));
  return new Promise<number>(() => undefined); // runs until a signal
}

async function testChannel(args: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args);
  const [channelFile, messageFile] = positionals;
  if (!channelFile || !messageFile) {
    process.stderr.write('usage: hisbridge test-channel <channel-file> <message-file> [--content-type T]\n');
    return 2;
  }
  const resolved = fs.existsSync(channelFile) ? path.resolve(channelFile) : path.join(projectRoot, 'channels', channelFile.endsWith('.ts') ? channelFile : `${channelFile}.channel.ts`);
  if (!fs.existsSync(resolved)) {
    process.stderr.write(`no channel file ${channelFile}\n`);
    return 2;
  }
  const exported = require(resolved);
  const value = exported.default ?? exported;
  const config = loadConfig(undefined, projectRoot);
  const produced = typeof value === 'function' ? value({ ...config.demo, dataDir: config.dataDir, certsDir: config.certsDir }) : value;
  const definition = Array.isArray(produced) ? produced[0] : produced;
  const parsed = channelSchema.safeParse(definition);
  if (!parsed.success) {
    for (const issue of parsed.error.issues) process.stderr.write(`${resolved}: ${issue.path.join('.')}: ${issue.message}\n`);
    return 2;
  }
  const raw = fs.readFileSync(messageFile);
  const contentType = typeof flags['content-type'] === 'string' ? flags['content-type'] : guessContentType(messageFile);
  const message = toChannelMessage(parsed.data.id, { raw, contentType }, new Date());
  const result = await runPipeline(parsed.data, message);
  const report = {
    channel: parsed.data.id,
    status: result.status,
    error: result.error,
    filteredReason: result.filteredReason,
    correlation: result.correlation,
    stages: result.trace,
    deliveries: result.deliveries.map((d) => ({ destination: d.destination, status: d.status, contentType: d.contentType, orderKey: d.orderKey, content: d.content.toString('utf8'), reason: d.reason })),
  };
  process.stdout.write(JSON.stringify(report, null, 2) + '\n');
  return result.status === 'ERROR' ? 1 : 0;
}

function guessContentType(file: string): string {
  const ext = path.extname(file).toLowerCase();
  return ({ '.hl7': 'application/hl7-v2', '.json': 'application/json', '.xml': 'application/xml', '.astm': 'application/astm', '.txt': 'text/plain' } as Record<string, string>)[ext] ?? 'application/octet-stream';
}

async function remote(command: string, args: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args);
  const base = (process.env.HISBRIDGE_URL ?? 'http://127.0.0.1:8080').replace(/\/$/, '');
  const token = typeof flags.token === 'string' ? flags.token : process.env.HISBRIDGE_TOKEN;
  if (!token) {
    process.stderr.write('set HISBRIDGE_TOKEN (create one with: hisbridge user token <username> --name cli) or pass --token\n');
    return 2;
  }
  const call = async (method: string, url: string, body?: unknown) => {
    const res = await fetch(base + url, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: body ? JSON.stringify(body) : undefined });
    const json = await res.json().catch(() => ({}));
    if (!res.ok) throw new Error(`${res.status}: ${(json as any).error ?? res.statusText}`);
    return json;
  };
  const [verb, ...ids] = positionals;
  const numbers = ids.map(Number);
  if (numbers.some((n) => !Number.isInteger(n) || n <= 0) && command !== 'channel') {
    process.stderr.write(`ids must be positive integers: ${ids.join(' ')}\n`);
    return 2;
  }
  let result: unknown;
  try {
    if (command === 'channel') {
      if (verb === 'list') result = await call('GET', '/api/channels');
      else if (['deploy', 'undeploy', 'pause', 'resume'].includes(verb) && ids[0]) result = await call('POST', `/api/channels/${encodeURIComponent(ids[0])}/${verb}`);
    } else if (command === 'message') {
      if (verb === 'search') {
        const params = new URLSearchParams();
        const map: Record<string, string> = { channel: 'channel', status: 'status', 'patient-id': 'patientId', accession: 'accession', 'control-id': 'controlId', text: 'text', limit: 'limit', from: 'from', to: 'to' };
        for (const [flag, param] of Object.entries(map)) if (typeof flags[flag] === 'string') params.set(param, flags[flag] as string);
        result = await call('GET', `/api/messages?${params}`);
      } else if (verb === 'show' && numbers[0]) result = await call('GET', `/api/messages/${numbers[0]}`);
      else if (verb === 'reprocess' && numbers.length) {
        const destinations = typeof flags.destinations === 'string' ? flags.destinations.split(',') : undefined;
        result = await call('POST', '/api/messages/reprocess', { ids: numbers, destinations });
      }
    } else if (command === 'dlq') {
      if (verb === 'list') result = await call('GET', `/api/dlq${typeof flags.channel === 'string' ? `?channel=${encodeURIComponent(flags.channel)}` : ''}`);
      else if ((verb === 'replay' || verb === 'discard') && numbers.length) result = await call('POST', `/api/dlq/${verb}`, { ids: numbers });
    }
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  }
  if (result === undefined) {
    process.stderr.write(usage());
    return 2;
  }
  process.stdout.write(JSON.stringify(result, null, 2) + '\n');
  return 0;
}

async function backupCommand(command: 'backup' | 'restore', args: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args);
  const folder = positionals[0];
  if (!folder) {
    process.stderr.write(`usage: hisbridge ${command} <folder>\n`);
    return 2;
  }
  const config = loadConfig(typeof flags.config === 'string' ? flags.config : undefined, projectRoot);
  const ops = require('../ops/backup') as typeof import('../ops/backup');
  const pgUrl = process.env.HISBRIDGE_PG_URL ?? config.store.postgresUrl;
  const started = Date.now();
  try {
    if (command === 'backup') {
      const sqlite = await ops.backupSqlite(config.dataDir, config.certsDir, folder);
      const pg = config.store.kind === 'postgres' && pgUrl ? await ops.backupPostgres(pgUrl, path.join(folder, 'postgres')) : undefined;
      process.stdout.write(JSON.stringify({ sqlite, postgres: pg, seconds: (Date.now() - started) / 1000 }, null, 2) + '\n');
    } else {
      const sqlite = ops.restoreSqlite(folder, config.dataDir, config.certsDir);
      if (config.store.kind === 'postgres' && pgUrl) await ops.restorePostgres(path.join(folder, 'postgres'), pgUrl);
      process.stdout.write(JSON.stringify({ restored: sqlite.files, postgres: config.store.kind === 'postgres', seconds: (Date.now() - started) / 1000 }, null, 2) + '\n');
    }
    return 0;
  } catch (error) {
    process.stderr.write(`${command} failed: ${(error as Error).message}\n`);
    return 1;
  }
}

async function prompt(question: string): Promise<string> {
  if (process.env.HISBRIDGE_PASSWORD) return process.env.HISBRIDGE_PASSWORD;
  const rl = readline.createInterface({ input: process.stdin, output: process.stderr, terminal: process.stdin.isTTY });
  return new Promise((resolve) => rl.question(question, (answer) => (rl.close(), resolve(answer))));
}

async function userCommand(args: string[]): Promise<number> {
  const { positionals, flags } = parseArgs(args);
  const [verb, username] = positionals;
  const config = loadConfig(typeof flags.config === 'string' ? flags.config : undefined, projectRoot);
  const security = new SecurityStore(path.join(config.dataDir, 'security.db'));
  try {
    if (verb === 'list') {
      process.stdout.write(JSON.stringify(security.listUsers(), null, 2) + '\n');
      return 0;
    }
    if (!username) throw new Error('name the user');
    if (verb === 'add') {
      const role = flags.role as Role;
      if (!roles.includes(role)) throw new Error(`--role must be one of ${roles.join(', ')}`);
      const password = await prompt(`password for ${username} (≥ 12 characters): `);
      const user = security.addUser(username, password, role);
      security.audit({ username: 'cli', action: 'user-add', target: `user:${username}`, detail: `role ${role}` });
      process.stdout.write(JSON.stringify(user) + '\n');
      return 0;
    }
    if (verb === 'passwd') {
      const password = await prompt(`new password for ${username} (≥ 12 characters): `);
      security.setPassword(username, password);
      security.audit({ username: 'cli', action: 'password-changed', target: `user:${username}` });
      process.stdout.write('password changed\n');
      return 0;
    }
    if (verb === 'token') {
      if (!security.getUser(username)) throw new Error(`no user "${username}"`);
      const issued = security.issueToken(username, 'api', { name: typeof flags.name === 'string' ? flags.name : 'cli' });
      security.audit({ username: 'cli', action: 'token-issue', target: `token:${issued.id}` });
      process.stdout.write(`${issued.token}\n`);
      return 0;
    }
    throw new Error(`unknown user command "${verb ?? ''}"`);
  } catch (error) {
    process.stderr.write(`${(error as Error).message}\n`);
    return 1;
  } finally {
    security.close();
  }
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error) => {
      process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
      process.exitCode = 1;
    },
  );
}

export { main };

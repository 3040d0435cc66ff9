// Engine configuration: an optional YAML file (hisbridge.config.yaml, or --config / HISBRIDGE_CONFIG)
// over built-in defaults that run the demo on one machine. Every port is a setting; errors name the
// file and the field.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';

const port = z.number().int().min(0).max(65535);

export const engineConfigSchema = z.object({
  dataDir: z.string().default('data'),
  certsDir: z.string().default('certs'),
  channelsDir: z.string().default('channels'),
  api: z
    .object({
      /** 127.0.0.1 by default; set 0.0.0.0 (with tls: true) to serve the hospital network. */
      host: z.string().default('127.0.0.1'),
      port: port.default(8080),
      tls: z.boolean().default(false),
    })
    .default({ host: '127.0.0.1', port: 8080, tls: false }),
  store: z
    .object({
      /** `sqlite` (one node, the default) or `postgres` (several nodes sharing one database). */
      kind: z.enum(['sqlite', 'postgres']).default('sqlite'),
      /** PostgreSQL connection string; HISBRIDGE_PG_URL overrides it (keeps the password out of the file). */
      postgresUrl: z.string().optional(),
      /** This node's name in leases and attempt records (default: host name and process id). */
      nodeId: z.string().optional(),
      retentionDays: z.number().min(1).max(3650).default(30),
      synchronous: z.enum(['full', 'normal']).default('full'),
      /** Partition width in hours (24 = one partition per day). */
      partitionHours: z.number().min(1).max(24 * 31).default(24),
    })
    .default({ kind: 'sqlite', retentionDays: 30, synchronous: 'full', partitionHours: 24 }),
  logging: z.object({ level: z.string().default('info'), dir: z.string().default('logs') }).default({ level: 'info', dir: 'logs' }),
  alerts: z.object({ webhookUrl: z.string().url().optional() }).default({}),
  /** Settings the demo channels read (ports of the demo listeners). */
  demo: z
    .object({
      enabled: z.boolean().default(true),
      httpPort: port.default(8081),
      mllpPort: port.default(2575),
      dicomPort: port.default(11112),
      astmPort: port.default(5010),
      mqttPort: port.default(1884),
    })
    .default({ enabled: true, httpPort: 8081, mllpPort: 2575, dicomPort: 11112, astmPort: 5010, mqttPort: 1884 }),
});

export type EngineConfig = z.infer<typeof engineConfigSchema> & { baseDir: string; file: string | null };

export function loadConfig(file?: string, baseDir = process.cwd()): EngineConfig {
  const candidate = file ?? process.env.HISBRIDGE_CONFIG ?? path.join(baseDir, 'hisbridge.config.yaml');
  let raw: unknown = {};
  let used: string | null = null;
  if (fs.existsSync(candidate)) {
    used = path.resolve(candidate);
    try {
      raw = YAML.parse(fs.readFileSync(candidate, 'utf8')) ?? {};
    } catch (error) {
      throw new Error(`${candidate}: not valid YAML: ${(error as Error).message}`);
    }
  } else if (file) throw new Error(`configuration file ${file} does not exist`);
  const parsed = engineConfigSchema.safeParse(raw);
  if (!parsed.success) {
    throw new Error(parsed.error.issues.map((i) => `${used ?? 'configuration'}: ${i.path.join('.')}: ${i.message}`).join('\n'));
  }
  const root = used ? path.dirname(used) : baseDir;
  const resolve = (p: string) => (path.isAbsolute(p) ? p : path.join(root, p));
  return {
    ...parsed.data,
    dataDir: resolve(parsed.data.dataDir),
    certsDir: resolve(parsed.data.certsDir),
    channelsDir: resolve(parsed.data.channelsDir),
    logging: { ...parsed.data.logging, dir: resolve(parsed.data.logging.dir) },
    baseDir: root,
    file: used,
  };
}

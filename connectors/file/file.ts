// File connector. Source: polls a folder; each matching file is stored, then moved to `processed/`
// (or `errored/` when the pipeline failed) only after the store has it, so a crash re-reads rather
// than loses. Destination: writes one file per message with a temporary name and an atomic rename;
// the name derives from the idempotency key, so a redelivery overwrites instead of duplicating.
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { ConnectorDefinition, DeliveryContext, DestinationConnector, OutboundMessage, SourceConnector, SourceContext } from '../../engine/connectors/types';

export const fileConfigSchema = z.object({
  directory: z.string().min(1, 'name the folder'),
  // source
  /** Glob-like pattern on the file name: `*` matches anything, e.g. `*.hl7`. */
  pattern: z.string().default('*'),
  pollIntervalMs: z.number().int().min(50).default(1000),
  contentType: z.string().default('application/octet-stream'),
  /** What happens to a file once stored: moved into a sub-folder, or deleted. */
  afterRead: z.enum(['move', 'delete']).default('move'),
  /** Ignore files modified less than this long ago (a writer may still be writing them). */
  minAgeMs: z.number().int().min(0).default(500),
  // destination
  extension: z.string().default('.dat'),
});
export type FileConfig = z.infer<typeof fileConfigSchema>;

function patternToRegExp(pattern: string): RegExp {
  const escaped = pattern.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*').replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`, 'i');
}

class FileSource implements SourceConnector {
  private timer: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private stopped = false;
  private readonly matcher: RegExp;

  constructor(private readonly config: FileConfig) {
    this.matcher = patternToRegExp(config.pattern);
  }

  async start(ctx: SourceContext): Promise<void> {
    fs.mkdirSync(this.config.directory, { recursive: true });
    for (const sub of ['processed', 'errored']) fs.mkdirSync(path.join(this.config.directory, sub), { recursive: true });
    this.stopped = false;
    ctx.reportConnection({ id: 'folder', state: 'polling', detail: this.config.directory });
    const tick = () => {
      if (this.stopped) return;
      this.scanning = this.scan(ctx)
        .catch((error) => {
          ctx.log.error(`file source ${ctx.channelId}: ${(error as Error).message}`);
          ctx.reportConnection({ id: 'folder', state: 'error', detail: (error as Error).message });
        })
        .finally(() => {
          if (!this.stopped) this.timer = setTimeout(tick, this.config.pollIntervalMs);
        });
    };
    tick();
  }

  private async scan(ctx: SourceContext): Promise<void> {
    const entries = await fs.promises.readdir(this.config.directory, { withFileTypes: true });
    const now = Date.now();
    for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
      if (this.stopped) return;
      if (!entry.isFile() || !this.matcher.test(entry.name)) continue;
      const file = path.join(this.config.directory, entry.name);
      const stat = await fs.promises.stat(file).catch(() => undefined);
      if (!stat || now - stat.mtimeMs < this.config.minAgeMs) continue;
      const raw = await fs.promises.readFile(file);
      const result = await ctx.receive({ raw, contentType: this.config.contentType, origin: { file: entry.name, directory: this.config.directory } });
      if (result.status === 'unavailable') {
        ctx.reportConnection({ id: 'folder', state: 'error', detail: `store unavailable: ${result.error}` });
        return; // leave the file; next poll retries
      }
      const target = result.status === 'errored' ? 'errored' : 'processed';
      if (this.config.afterRead === 'delete' && target === 'processed') await fs.promises.rm(file, { force: true });
      else await fs.promises.rename(file, path.join(this.config.directory, target, `${result.messageId}-${entry.name}`));
    }
    ctx.reportConnection({ id: 'folder', state: 'polling', detail: this.config.directory });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.scanning;
  }
}

class FileDestination implements DestinationConnector {
  constructor(private readonly config: FileConfig) {}

  async send(message: OutboundMessage, ctx: DeliveryContext): Promise<{ response: string }> {
    await fs.promises.mkdir(this.config.directory, { recursive: true });
    const name = `${ctx.idempotencyKey.replace(/[^A-Za-z0-9._-]/g, '_')}${this.config.extension}`;
    const final = path.join(this.config.directory, name);
    const temporary = path.join(this.config.directory, `.${name}.tmp`);
    const handle = await fs.promises.open(temporary, 'w');
    try {
      await handle.writeFile(message.content);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await fs.promises.rename(temporary, final);
    return { response: `wrote ${name}` };
  }
}

export const fileConnector: ConnectorDefinition<FileConfig> = {
  type: 'file',
  description: 'Folder poller (files in) and file writer (files out, atomic, idempotent names)',
  configSchema: fileConfigSchema,
  createSource: (config) => new FileSource(config),
  createDestination: (config) => new FileDestination(config),
};

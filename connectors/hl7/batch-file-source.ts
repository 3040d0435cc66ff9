// FHS/BHS batch files that HIS exports drop into a folder: each message is stored on its own, in file
// order. Progress is written after every stored message, so a restart resumes where it stopped
// instead of storing the first half of a file twice; a finished file is moved (or deleted).
import fs from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import type { InboundMessage, SourceConnector, SourceContext } from '../../engine/connectors/types';
import { splitBatch } from './codec/batch';
import { scrapeHeader } from './codec/ack';
import { Hl7Message } from './codec/message';
import { correlationOf, correlationOfHeader, metaOf } from './correlation';
import { checkHeader, HL7_CONTENT_TYPE } from './source';

export const batchFileSourceSchema = z.object({
  /** Folder the HIS writes batch files to. */
  directory: z.string().min(1),
  /** File name suffixes to pick up (case-insensitive). */
  extensions: z.array(z.string()).default(['.hl7', '.txt', '.bat', '.batch']),
  pollIntervalMs: z.number().int().min(50).default(5000),
  /** A file must be unchanged this long before it is read (the HIS may still be writing it). */
  minAgeMs: z.number().int().min(0).default(2000),
  /** `move` finished files to processedDirectory (default), or `delete` them. */
  afterProcessing: z.enum(['move', 'delete']).default('move'),
  processedDirectory: z.string().optional(),
  /** Files with nothing usable in them go here. */
  errorDirectory: z.string().optional(),
  /** Charset of the files when MSH-18 does not say (e.g. `windows-1258`, `tcvn3`). */
  charset: z.string().optional(),
});

export type BatchFileSourceConfig = z.infer<typeof batchFileSourceSchema>;

interface Progress {
  file: string;
  size: number;
  mtimeMs: number;
  next: number;
}

export class Hl7BatchFileSource implements SourceConnector {
  private ctx: SourceContext | undefined;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;
  private readonly counters = { files: 0, messages: 0, errored: 0 };

  constructor(private readonly config: BatchFileSourceConfig) {}

  private get processedDir(): string {
    return this.config.processedDirectory ?? path.join(this.config.directory, 'processed');
  }

  private get errorDir(): string {
    return this.config.errorDirectory ?? path.join(this.config.directory, 'error');
  }

  private progressFile(): string {
    return path.join(this.ctx!.dataDir, 'hl7-batch-file', `${this.ctx!.channelId}.json`);
  }

  async start(ctx: SourceContext): Promise<void> {
    this.ctx = ctx;
    this.stopped = false;
    if (!fs.existsSync(this.config.directory)) throw new Error(`hl7-batch-file: directory ${this.config.directory} does not exist`);
    fs.mkdirSync(path.dirname(this.progressFile()), { recursive: true });
    this.report('polling');
    this.schedule(0);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.poll()
        .catch((err) => {
          this.ctx!.log.error(`hl7-batch-file: ${(err as Error).message}`, { channelId: this.ctx!.channelId });
        })
        .finally(() => {
          this.running = undefined;
          this.schedule(this.config.pollIntervalMs);
        });
    }, ms);
  }

  /** One pass over the folder (also used by tests to avoid waiting for the timer). */
  async poll(): Promise<void> {
    const dir = this.config.directory;
    const exts = this.config.extensions.map((e) => e.toLowerCase());
    const names = fs
      .readdirSync(dir, { withFileTypes: true })
      .filter((d) => d.isFile() && exts.some((e) => d.name.toLowerCase().endsWith(e)))
      .map((d) => d.name)
      .sort();
    for (const name of names) {
      if (this.stopped) return;
      const file = path.join(dir, name);
      let stat: fs.Stats;
      try {
        stat = fs.statSync(file);
      } catch {
        continue; // taken away meanwhile
      }
      if (Date.now() - stat.mtimeMs < this.config.minAgeMs) continue;
      const done = await this.processFile(file, stat);
      if (!done) return; // the store is unavailable: try again next poll, in the same order
    }
  }

  private readProgress(file: string, stat: fs.Stats): number {
    try {
      const p = JSON.parse(fs.readFileSync(this.progressFile(), 'utf8')) as Progress;
      if (p.file === file && p.size === stat.size && p.mtimeMs === stat.mtimeMs) return p.next;
    } catch {
      /* no progress yet */
    }
    return 0;
  }

  private writeProgress(p: Progress | undefined): void {
    const target = this.progressFile();
    if (!p) return void fs.rmSync(target, { force: true });
    const tmp = `${target}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, JSON.stringify(p));
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    fs.renameSync(tmp, target);
  }

  /** Returns false when the engine could not store a message (the file stays for the next poll). */
  private async processFile(file: string, stat: fs.Stats): Promise<boolean> {
    const ctx = this.ctx!;
    const bytes = fs.readFileSync(file);
    const split = splitBatch(bytes);
    const origin = { file: path.basename(file) };
    for (const problem of split.problems) ctx.log.warn(`hl7-batch-file ${origin.file}: ${problem}`, { channelId: ctx.channelId });
    if (split.messages.length === 0) {
      const receipt = await ctx.receive({
        raw: bytes,
        contentType: HL7_CONTENT_TYPE,
        origin,
        meta: { parseError: `file holds no HL7 message (no MSH segment)${split.problems.length ? ': ' + split.problems[0] : ''}`, error: 'no MSH segment' },
      });
      if (receipt.status === 'unavailable') return false;
      this.counters.errored++;
      this.finish(file, this.errorDir);
      return true;
    }
    const start = this.readProgress(file, stat);
    for (let i = start; i < split.messages.length; i++) {
      if (this.stopped) return false;
      const entry = split.messages[i];
      const inbound: InboundMessage = {
        raw: Buffer.from(entry.bytes),
        contentType: HL7_CONTENT_TYPE,
        origin: { ...origin, index: String(i + 1), byteOffset: String(entry.offset), batch: String(entry.batch) },
        meta: {},
      };
      try {
        const parsed = Hl7Message.parse(entry.bytes, { charset: this.config.charset });
        const problem = checkHeader(parsed);
        inbound.correlation = correlationOf(parsed);
        inbound.meta = metaOf(parsed);
        if (problem) inbound.meta.parseError = inbound.meta.error = problem.message;
        else inbound.parsed = parsed;
      } catch (err) {
        inbound.correlation = correlationOfHeader(scrapeHeader(entry.bytes));
        inbound.meta = { parseError: (err as Error).message, error: (err as Error).message };
      }
      if (split.problems.length > 0) inbound.meta!.batchWarning = split.problems.join('; ');
      const receipt = await ctx.receive(inbound);
      if (receipt.status === 'unavailable') return false;
      this.counters.messages++;
      if (inbound.meta!.parseError || receipt.status === 'errored') this.counters.errored++;
      this.writeProgress({ file, size: stat.size, mtimeMs: stat.mtimeMs, next: i + 1 });
    }
    this.counters.files++;
    if (this.config.afterProcessing === 'delete') fs.rmSync(file, { force: true });
    else this.finish(file, this.processedDir);
    this.writeProgress(undefined);
    this.report('polling');
    return true;
  }

  private finish(file: string, toDir: string): void {
    fs.mkdirSync(toDir, { recursive: true });
    let target = path.join(toDir, path.basename(file));
    if (fs.existsSync(target)) target = path.join(toDir, `${Date.now()}-${path.basename(file)}`);
    fs.renameSync(file, target);
  }

  private report(state: 'polling' | 'stopped'): void {
    this.ctx?.reportConnection({ id: `${this.ctx.channelId}/hl7-batch-file`, state, detail: this.config.directory, counters: { ...this.counters } });
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
    this.report('stopped');
  }
}

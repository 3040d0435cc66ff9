// Loads channel files from the channels/ folder. A file default-exports a channel definition (or a
// function of the engine configuration returning one). Each file is validated alone: a broken file
// is refused with file, field and reason, and every other channel still deploys.
import fs from 'node:fs';
import path from 'node:path';
import type { ChannelDefinition } from './definition';
import { ChannelConfigError, type Engine } from '../engine';

export interface ChannelProblem {
  file: string;
  channelId?: string;
  field: string;
  message: string;
}

export type ChannelFactory = (settings: Record<string, unknown>) => ChannelDefinition<any> | ChannelDefinition<any>[] | undefined;

const CHANNEL_FILE = /\.channel\.(ts|js)$/;

export class ChannelFolder {
  private readonly fileOf = new Map<string, string>();
  /** Every channel the files defined when last read, deployed or not (so an undeployed one can be offered again). */
  private readonly defined = new Map<string, { name: string; file: string }>();
  private readonly refused: ChannelProblem[] = [];

  constructor(private readonly engine: Engine, readonly dir: string, private readonly settings: Record<string, unknown>) {}

  files(): string[] {
    if (!fs.existsSync(this.dir)) return [];
    return fs
      .readdirSync(this.dir)
      .filter((f) => CHANNEL_FILE.test(f))
      .sort()
      .map((f) => path.join(this.dir, f));
  }

  /** Reads a channel file afresh (so an edited file is picked up on redeploy). */
  read(file: string): ChannelDefinition<any>[] {
    const resolved = require.resolve(file);
    delete require.cache[resolved];
    const exported = require(resolved);
    const value = exported?.default ?? exported;
    const produced = typeof value === 'function' ? (value as ChannelFactory)(this.settings) : value;
    if (produced === undefined) return []; // a factory may decline (e.g. a demo channel when the demo is off)
    return Array.isArray(produced) ? produced : [produced];
  }

  async deployAll(): Promise<{ deployed: string[]; problems: ChannelProblem[] }> {
    const deployed: string[] = [];
    this.refused.length = 0;
    for (const file of this.files()) {
      let definitions: ChannelDefinition<any>[];
      try {
        definitions = this.read(file);
      } catch (error) {
        this.refused.push({ file, field: '(file)', message: `cannot load: ${(error as Error).message.split('\n')[0]}` });
        continue;
      }
      for (const definition of definitions) {
        if (typeof definition?.id === 'string') this.defined.set(definition.id, { name: String(definition.name ?? definition.id), file });
        try {
          await this.engine.deployChannel(definition, file);
          this.fileOf.set(definition.id, file);
          deployed.push(definition.id);
        } catch (error) {
          if (error instanceof ChannelConfigError) this.refused.push(...error.problems.map((p) => ({ ...p, file })));
          else this.refused.push({ file, channelId: definition?.id, field: '(start)', message: (error as Error).message });
        }
      }
    }
    for (const problem of this.refused) this.engine.log.error(`channel refused: ${problem.file}: ${problem.channelId ? problem.channelId + ': ' : ''}${problem.field}: ${problem.message}`);
    return { deployed, problems: [...this.refused] };
  }

  async redeploy(channelId: string): Promise<void> {
    const file = this.fileOf.get(channelId) ?? this.files().find((f) => this.read(f).some((d) => d.id === channelId));
    if (!file) throw new Error(`no channel file in ${this.dir} defines channel "${channelId}"`);
    const definition = this.read(file).find((d) => d.id === channelId);
    if (!definition) throw new Error(`${file} no longer defines channel "${channelId}"`);
    await this.engine.deployChannel(definition, file);
    this.fileOf.set(channelId, file);
    this.defined.set(channelId, { name: String(definition.name ?? channelId), file });
    const i = this.refused.findIndex((p) => p.channelId === channelId);
    if (i >= 0) this.refused.splice(i, 1);
  }

  /** The channels the files defined at load (or at their last deploy), with their file. */
  definitions(): Array<{ id: string; name: string; file: string }> {
    return [...this.defined.entries()].map(([id, d]) => ({ id, ...d })).sort((a, b) => a.id.localeCompare(b.id));
  }

  problems(): ChannelProblem[] {
    return [...this.refused];
  }
}

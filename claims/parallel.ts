// Preparing many claims on every core: worker threads build, validate, serialize and sign (one RSA
// signature per episode is the largest single cost), the calling thread only hands out chunks of
// claim sources and collects the results. Used for month-end batches and measured by bench/claims.
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import type { ClaimSource } from './builder/build';
import type { PrepareOptions, PreparedClaim } from './pipeline';
import type { SigningIdentity } from './signer/sign';

/** PrepareOptions without the signer (the workers hold their own, made from the same identity). */
export type WorkerPrepareOptions = Omit<PrepareOptions, 'signer'>;

export interface ClaimWorkerJob {
  id: number;
  sources: ClaimSource[];
}

/** What became of one source: its prepared claim, or the error that stopped it (with the stack). */
export type ClaimWorkerItem = { prepared: PreparedClaim } | { maLk?: string; error: string };

export interface ClaimWorkerResult {
  id: number;
  items: ClaimWorkerItem[];
}

/** prepareSettled's answer for one source. */
export type SettledClaim = { maLk: string; prepared: PreparedClaim; error?: undefined } | { maLk: string; prepared?: undefined; error: string };

export interface ClaimWorkerPoolOptions {
  /** Default: one per core. */
  threads?: number;
  /** The facility signature; without it envelopes are left unsigned. */
  signing?: SigningIdentity;
  prepare?: WorkerPrepareOptions;
  /**
   * Send every table back (default false: `episode.tables` holds XML1 only, which is what saveClaim
   * needs; the full tables are in the envelope). Copying whole episodes between threads costs about
   * as much as validating them.
   */
  keepTables?: boolean;
}

/** Chunks in flight per worker: the next one is already queued when a worker finishes one. */
const SLOTS_PER_WORKER = 2;

export class ClaimWorkerPool {
  private readonly workers: Worker[];
  /** One entry per free slot (a worker appears up to SLOTS_PER_WORKER times). */
  private readonly free: Worker[] = [];
  private readonly waiting: Array<(w: Worker) => void> = [];
  private readonly pending = new Map<number, { worker: Worker; resolve(r: ClaimWorkerResult): void; reject(e: Error): void }>();
  private nextId = 0;

  constructor(options: ClaimWorkerPoolOptions = {}) {
    const count = Math.max(1, options.threads ?? os.availableParallelism());
    // The worker is TypeScript: tsx registers itself in the worker, however the engine was started.
    const script = `require('tsx/cjs'); require(${JSON.stringify(path.join(__dirname, 'parallel-worker.ts'))});`;
    const workerData = { signing: options.signing, prepare: options.prepare ?? {}, keepTables: options.keepTables ?? false };
    this.workers = Array.from({ length: count }, () => {
      const worker = new Worker(script, { eval: true, workerData });
      worker.on('message', (r: ClaimWorkerResult) => {
        const p = this.pending.get(r.id);
        this.pending.delete(r.id);
        p?.resolve(r);
      });
      worker.on('error', (e: Error) => {
        for (const [id, p] of this.pending) if (p.worker === worker) (this.pending.delete(id), p.reject(e));
      });
      return worker;
    });
    for (let k = 0; k < SLOTS_PER_WORKER; k++) this.free.push(...this.workers);
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Prepares every source (build → validate → envelope → signature), in chunks of `chunk` sources
   * per message; resolves with one PreparedClaim per source, in order, or rejects with the first
   * source that could not be prepared. `onChunk` sees each chunk as it comes back.
   */
  async prepareMany(sources: ClaimSource[], options: { chunk?: number; onChunk?(prepared: PreparedClaim[]): void } = {}): Promise<PreparedClaim[]> {
    const settled = await this.prepareSettled(sources, {
      chunk: options.chunk,
      onChunk: options.onChunk && ((items) => options.onChunk!(items.flatMap((i) => (i.prepared ? [i.prepared] : [])))),
    });
    const failed = settled.find((s) => s.error !== undefined);
    if (failed) throw new Error(`preparing claims failed in a worker: ${failed.error}`);
    return settled.map((s) => s.prepared!);
  }

  /** Like prepareMany, but a source that cannot be prepared gives its error in place and the others go on. */
  async prepareSettled(sources: ClaimSource[], options: { chunk?: number; onChunk?(items: SettledClaim[]): void } = {}): Promise<SettledClaim[]> {
    const size = Math.max(1, options.chunk ?? 32);
    const out: SettledClaim[] = new Array(sources.length);
    const runs: Array<Promise<void>> = [];
    for (let start = 0; start < sources.length; start += size) {
      const part = sources.slice(start, start + size);
      runs.push(
        this.run(part).then((items) => {
          const settled = items.map((item, k): SettledClaim => ('prepared' in item ? { maLk: item.prepared.maLk, prepared: item.prepared } : { maLk: item.maLk ?? part[k].visit.maLk, error: item.error }));
          settled.forEach((s, k) => (out[start + k] = s));
          options.onChunk?.(settled);
        }),
      );
    }
    await Promise.all(runs);
    return out;
  }

  private async run(sources: ClaimSource[]): Promise<ClaimWorkerItem[]> {
    const worker = this.free.shift() ?? (await new Promise<Worker>((resolve) => this.waiting.push(resolve)));
    try {
      const id = this.nextId++;
      const result = await new Promise<ClaimWorkerResult>((resolve, reject) => {
        this.pending.set(id, { worker, resolve, reject });
        worker.postMessage({ id, sources } satisfies ClaimWorkerJob);
      });
      // Envelopes arrive as Uint8Array (structured clone); callers get Buffers as from prepareClaim.
      for (const item of result.items) {
        const envelope = 'prepared' in item ? item.prepared.envelope : undefined;
        if (envelope) (item as { prepared: PreparedClaim }).prepared.envelope = Buffer.from(envelope.buffer, envelope.byteOffset, envelope.byteLength);
      }
      return result.items;
    } finally {
      const next = this.waiting.shift();
      if (next) next(worker);
      else this.free.push(worker);
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

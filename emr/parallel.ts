// Publishing many documents on every core: worker threads build and sign (RSA signing is most of
// the work), the main thread decides versions and stores each returned chunk in one transaction.
// Used for back-fills (first start, a hospital importing its history) and measured by bench/emr.
import os from 'node:os';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { inputHashOf, type Prepared, type PreviousVersion } from './prepare';
import type { EmrService, PublishOutcome } from './service';
import type { DocumentContext, EmrDocumentType } from './types';

export interface PublishItem {
  type: EmrDocumentType;
  ctx: DocumentContext;
  input: unknown;
  sourceKey: string;
}

export interface WorkerJob extends PublishItem {
  index: number;
  inputHash: string;
  previous?: PreviousVersion;
}

export type WorkerResult = { index: number; prepared?: Prepared; inputError?: { message: string; element: string }; failure?: string };

export class ParallelPublisher {
  private readonly workers: Worker[];

  constructor(
    private readonly service: EmrService,
    options: { workers?: number } = {},
  ) {
    const env = service.environment();
    const workerData = {
      keyPem: env.identity.key.export({ type: 'pkcs8', format: 'pem' }) as string,
      certPem: env.identity.certPem,
      oids: env.oids,
      facility: env.facility,
    };
    const count = options.workers ?? Math.max(1, os.availableParallelism());
    // The worker is TypeScript: tsx registers itself in the worker, however the engine was started.
    const script = `require('tsx/cjs'); require(${JSON.stringify(path.join(__dirname, 'parallel-worker.ts'))});`;
    this.workers = Array.from({ length: count }, () => new Worker(script, { eval: true, workerData }));
  }

  get size(): number {
    return this.workers.length;
  }

  /**
   * Builds, signs and stores every item; resolves with one outcome per item, in order. Chunks of
   * `chunk` documents go to the workers and are stored one transaction per chunk as they return.
   */
  async publishMany(items: PublishItem[], options: { chunk?: number } = {}): Promise<PublishOutcome[]> {
    const chunkSize = options.chunk ?? 50;
    const outcomes: PublishOutcome[] = new Array(items.length);
    // A source twice in one call: its second version needs the first stored, so it waits for a later round.
    let round = items.map((item, index) => ({ item, index }));
    while (round.length > 0) {
      const seen = new Set<string>();
      const now: typeof round = [];
      const later: typeof round = [];
      for (const entry of round) (seen.has(entry.item.sourceKey) ? later : now).push(entry), seen.add(entry.item.sourceKey);
      await this.runRound(now, chunkSize, outcomes);
      round = later;
    }
    return outcomes;
  }

  private async runRound(entries: Array<{ item: PublishItem; index: number }>, chunkSize: number, outcomes: PublishOutcome[]): Promise<void> {
    const store = this.service.store;
    const jobs: WorkerJob[] = [];
    for (const { item, index } of entries) {
      const inputHash = inputHashOf(item.type, item.ctx, item.input);
      const previous = store.currentBySource(item.sourceKey);
      if (previous && previous.inputHash === inputHash) outcomes[index] = { type: item.type, sourceKey: item.sourceKey, status: 'unchanged', document: previous };
      else jobs.push({ ...item, index, inputHash, previous: previous ? { id: previous.id, setId: previous.setId, version: previous.version } : undefined });
    }
    const chunks: WorkerJob[][] = [];
    for (let i = 0; i < jobs.length; i += chunkSize) chunks.push(jobs.slice(i, i + chunkSize));
    let next = 0;
    let failure: Error | undefined;
    const runWorker = async (worker: Worker) => {
      while (next < chunks.length && !failure) {
        const chunk = chunks[next++];
        const results = await new Promise<WorkerResult[]>((resolve, reject) => {
          const onMessage = (r: WorkerResult[]) => {
            worker.off('error', onError);
            resolve(r);
          };
          const onError = (e: Error) => {
            worker.off('message', onMessage);
            reject(e);
          };
          worker.once('message', onMessage);
          worker.once('error', onError);
          worker.postMessage(chunk);
        });
        const byIndex = new Map(chunk.map((j) => [j.index, j]));
        const ready: Array<{ index: number; prepared: Prepared }> = [];
        for (const r of results) {
          const job = byIndex.get(r.index)!;
          if (r.prepared) ready.push({ index: r.index, prepared: r.prepared });
          else if (r.inputError) outcomes[r.index] = { type: job.type, sourceKey: job.sourceKey, status: 'error', error: r.inputError.message, element: r.inputError.element };
          else failure ??= new Error(`building ${job.sourceKey} failed in a worker: ${r.failure}`);
        }
        // The main thread stores while the workers go on with the next chunks.
        const stored = store.insertMany(ready.map((r) => r.prepared.insert));
        ready.forEach((r, k) => (outcomes[r.index] = { ...r.prepared.outcome, document: stored[k] }));
      }
    };
    await Promise.all(this.workers.map(runWorker));
    if (failure) throw failure;
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}

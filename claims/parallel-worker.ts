// Worker thread of ClaimWorkerPool (claims/parallel.ts): prepares the claims it is sent with the
// signature computed here, synchronously, and sends them back.
import { parentPort, workerData } from 'node:worker_threads';
import type { ClaimWorkerItem, ClaimWorkerJob, ClaimWorkerResult, WorkerPrepareOptions } from './parallel';
import { prepareClaimSync } from './pipeline';
import { ClaimSigner, type SigningIdentity } from './signer/sign';

const data = workerData as { signing?: SigningIdentity; prepare: WorkerPrepareOptions; keepTables: boolean };
const signer = data.signing ? new ClaimSigner(data.signing) : undefined;
const options = { ...data.prepare, signer };

parentPort!.on('message', (job: ClaimWorkerJob) => {
  // One source that cannot be built (bad HIS data) fails alone; the others of the chunk go on.
  const items: ClaimWorkerItem[] = job.sources.map((source) => {
    try {
      const p = prepareClaimSync(source, options);
      if (!data.keepTables) p.episode = { version: p.episode.version, tables: { XML1: p.episode.tables.XML1 } };
      return { prepared: p };
    } catch (error) {
      return { maLk: source.visit?.maLk, error: (error as Error).stack ?? String(error) };
    }
  });
  parentPort!.postMessage({ id: job.id, items } satisfies ClaimWorkerResult);
});

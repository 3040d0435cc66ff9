// Worker thread of the parallel publisher: builds and signs the documents it is sent (emr/prepare.ts)
// and returns them to the main thread, which stores them. Missing data comes back as an error item.
import { parentPort, workerData } from 'node:worker_threads';
import { prepareDocument, type PrepareEnvironment } from './prepare';
import { identityFromPem } from './sign/keys';
import { EmrInputError } from './types';
import type { WorkerJob, WorkerResult } from './parallel';

const data = workerData as { keyPem: string; certPem: string; oids: PrepareEnvironment['oids']; facility: PrepareEnvironment['facility'] };
const env: PrepareEnvironment = { oids: data.oids, facility: data.facility, identity: identityFromPem(data.keyPem, data.certPem) };

parentPort!.on('message', (jobs: WorkerJob[]) => {
  const results: WorkerResult[] = jobs.map((job) => {
    try {
      return { index: job.index, prepared: prepareDocument(env, job as Parameters<typeof prepareDocument>[1]) };
    } catch (error) {
      if (error instanceof EmrInputError) return { index: job.index, inputError: { message: error.message, element: error.element } };
      return { index: job.index, failure: (error as Error).stack ?? String(error) };
    }
  });
  parentPort!.postMessage(results);
});

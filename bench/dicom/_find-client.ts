// Child process of bench/dicom/worklist.ts: one association, `count` serial C-FINDs of one kind,
// prints {queries, seconds, results} as JSON. Run in its own process so the SCP under test does not
// share an event loop with its client.
import { AssociationRequestor } from '../../connectors/dicom/dimse/requestor';
import { findOn, worklistIdentifier, type WorklistQuery } from '../../connectors/dicom/scu';
import { SopClass, TransferSyntax } from '../../connectors/dicom/dimse/uids';

(async () => {
  const [port, calledAe, count, queriesJson] = process.argv.slice(2);
  const queries = JSON.parse(queriesJson) as WorklistQuery[];
  const association = await AssociationRequestor.connect({
    host: '127.0.0.1',
    port: Number(port),
    callingAeTitle: 'BENCH_FIND',
    calledAeTitle: calledAe,
    contexts: [{ abstractSyntax: SopClass.ModalityWorklistFind, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian] }],
  });
  await findOn(association, worklistIdentifier(queries[0])); // warm-up (the SCP's snapshot)
  let results = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < Number(count); i++) results += (await findOn(association, worklistIdentifier(queries[i % queries.length]))).length;
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await association.release();
  process.stdout.write(JSON.stringify({ queries: Number(count), seconds, results }));
})().catch((err) => {
  process.stderr.write(String(err?.stack ?? err));
  process.exit(1);
});

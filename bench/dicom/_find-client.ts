// Child process of bench/dicom/worklist.ts: one association, `count` serial C-FINDs of one kind,
// prints {queries, seconds, results} as JSON. Run in its own process so the SCP under test does not
// share an event loop with its client.
import { AssociationRequestor } from '../../connectors/dicom/dimse/requestor';
import { findOn, worklistIdentifier, type WorklistQuery } from '../../connectors/dicom/scu';
import { encodeDataset } from '../../connectors/dicom/dataset/codec';
import { CommandField, SopClass, Status, TransferSyntax } from '../../connectors/dicom/dimse/uids';

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
  // Warm-up (the SCP's snapshot), decoding the answers once to check them.
  const check = await findOn(association, worklistIdentifier(queries[0]));
  if (check.length === 0) throw new Error(`the warm-up query matched nothing: ${JSON.stringify(queries[0])}`);
  // Timed: identifiers pre-encoded, answers counted but not decoded, so the client costs little
  // and the figure is the SCP's.
  const context = association.findContext(SopClass.ModalityWorklistFind)!;
  const identifiers = queries.map((q) => encodeDataset(worklistIdentifier(q), context.transferSyntax));
  let results = 0;
  const started = process.hrtime.bigint();
  for (let i = 0; i < Number(count); i++) {
    const responses = await association.request(
      context.id,
      { CommandField: CommandField.CFindRequest, AffectedSOPClassUID: SopClass.ModalityWorklistFind, Priority: 0 },
      identifiers[i % identifiers.length],
      () => results++,
    );
    const status = Number(responses[responses.length - 1].command.Status);
    if (status !== Status.Success) throw new Error(`C-FIND answered 0x${status.toString(16)}`);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  await association.release();
  process.stdout.write(JSON.stringify({ queries: Number(count), seconds, results }));
})().catch((err) => {
  process.stderr.write(String(err?.stack ?? err));
  process.exit(1);
});

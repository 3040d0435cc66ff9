// A minimal SCP that only receives Storage Commitment N-EVENT-REPORTs (for `hisbridge dicom store
// --commit --listen-port P` when the PACS reports on a new association; the `dicom` source's node
// does the same for the engine).
import type tls from 'node:tls';
import { DicomListener } from '../dimse/server';
import type { AcceptorApplication } from '../dimse/acceptor';
import { CommandField, ContextResult, Reject, SopClass, Status, StorageCommitmentInstance, defaultServiceTransferSyntaxes } from '../dimse/uids';
import { decodeNaturalized } from '../dataset/naturalize';
import { commitmentWaiters, parseCommitmentReport } from './commitment';

export async function startCommitmentReportListener(options: { host: string; port: number; aeTitle: string; tls?: tls.TlsOptions }): Promise<DicomListener> {
  const app: AcceptorApplication = {
    negotiate(association) {
      if (association.getCalledAeTitle().trim() !== options.aeTitle) {
        return { accept: false, result: Reject.ResultPermanent, source: Reject.SourceServiceUser, reason: Reject.ReasonCalledAeNotRecognized, why: `called AE ${association.getCalledAeTitle().trim()} is not ${options.aeTitle}` };
      }
      let accepted = 0;
      for (const { context } of association.getPresentationContexts()) {
        const ts = defaultServiceTransferSyntaxes.find((t) => context.getTransferSyntaxUids().includes(t));
        if (context.getAbstractSyntaxUid() === SopClass.StorageCommitmentPushModel && ts) {
          context.setResult(ContextResult.Accept, ts);
          accepted++;
        } else context.setResult(ContextResult.AbstractSyntaxNotSupported);
      }
      return accepted > 0 ? { accept: true } : { accept: false, result: Reject.ResultPermanent, source: Reject.SourceServiceUser, reason: Reject.ReasonNoReasonGiven, why: 'only Storage Commitment reports are accepted here' };
    },
    async handle(exchange) {
      const { message } = exchange;
      if (message.command.CommandField !== CommandField.NEventReportRequest || !message.dataset) {
        return exchange.respond({ Status: Status.UnrecognizedOperation });
      }
      const known = commitmentWaiters.deliver(parseCommitmentReport(decodeNaturalized(message.dataset, message.transferSyntax)));
      return exchange.respond({ Status: known ? Status.Success : Status.NoSuchObjectInstance, AffectedSOPInstanceUID: StorageCommitmentInstance, EventTypeID: message.command.EventTypeID });
    },
  };
  const listener = new DicomListener(app, { host: options.host, port: options.port, tls: options.tls });
  await listener.listen();
  return listener;
}

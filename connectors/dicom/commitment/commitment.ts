// Storage Commitment Push Model (PS3.4 Annex J).
// As SCP: N-ACTION (Action Type 1, Transaction UID, Referenced SOP Sequence) is answered at once,
// then each referenced instance is checked against the index and the file on disk, and an
// N-EVENT-REPORT (Event Type 1 all committed, 2 with failures) goes back on the same association
// or on a new one to the requester. As SCU: `requestCommitment` sends the N-ACTION and waits for
// the report, which may come on the same association or later through our listener (`commitmentWaiters`).
import { access } from 'node:fs/promises';
import type { DicomIndex } from '../storage/index-db';
import type { InstanceStore } from '../storage/instance-store';
import { textValue, type Naturalized } from '../worklist/matching';
import { CommandField, SopClass, Status, StorageCommitmentInstance } from '../dimse/uids';
import type { CommandElements } from '../dimse/command-codec';
import type { AssociationRequestor } from '../dimse/requestor';
import { decodeNaturalized, items } from '../dataset/naturalize';
import { newUid } from '../dataset/uid';

export interface SopReference {
  sopClassUid: string;
  sopInstanceUid: string;
}

export interface CommitmentRequest {
  transactionUid: string;
  references: SopReference[];
}

export interface CommitmentResult {
  transactionUid: string;
  committed: SopReference[];
  failed: Array<SopReference & { reason: number }>;
}

/** Parses an N-ACTION dataset; returns the failure response when it is not a valid request. */
export function parseCommitmentRequest(command: CommandElements, attributes: Naturalized | undefined): CommitmentRequest | { error: CommandElements & { Status: number } } {
  const base = { AffectedSOPInstanceUID: command.RequestedSOPInstanceUID, ActionTypeID: command.ActionTypeID };
  if (command.RequestedSOPInstanceUID !== StorageCommitmentInstance) {
    return { error: { ...base, Status: Status.NoSuchObjectInstance, ErrorComment: `Requested SOP Instance must be ${StorageCommitmentInstance}, got ${command.RequestedSOPInstanceUID}` } };
  }
  if (command.ActionTypeID !== 1) return { error: { ...base, Status: Status.NoSuchActionType, ErrorComment: `Action Type ID ${command.ActionTypeID} is not 1 (Request Storage Commitment)` } };
  if (!attributes) return { error: { ...base, Status: Status.MissingAttribute, ErrorComment: 'N-ACTION without an action information dataset' } };
  const transactionUid = textValue(attributes.TransactionUID);
  if (!transactionUid) return { error: { ...base, Status: Status.MissingAttribute, ErrorComment: 'Transaction UID (0008,1195) is missing', OffendingElement: ['00081195'] } };
  const references = items(attributes.ReferencedSOPSequence).map((r) => ({ sopClassUid: textValue(r.ReferencedSOPClassUID), sopInstanceUid: textValue(r.ReferencedSOPInstanceUID) }));
  if (references.length === 0) return { error: { ...base, Status: Status.MissingAttribute, ErrorComment: 'Referenced SOP Sequence (0008,1199) is missing or empty', OffendingElement: ['00081199'] } };
  return { transactionUid, references };
}

/** Which referenced instances we hold (indexed, same SOP class, file present). */
export async function evaluateCommitment(request: CommitmentRequest, index: DicomIndex, store: InstanceStore): Promise<CommitmentResult> {
  const committed: SopReference[] = [];
  const failed: CommitmentResult['failed'] = [];
  for (const ref of request.references) {
    const row = ref.sopInstanceUid ? index.instance(ref.sopInstanceUid) : undefined;
    if (!row) {
      failed.push({ ...ref, reason: Status.CommitmentNoSuchObjectInstance });
      continue;
    }
    if (row.sop_class_uid !== ref.sopClassUid) {
      failed.push({ ...ref, reason: Status.CommitmentClassInstanceConflict });
      continue;
    }
    try {
      await access(store.absolute(row.path));
      committed.push(ref);
    } catch {
      failed.push({ ...ref, reason: Status.CommitmentProcessingFailure });
    }
  }
  return { transactionUid: request.transactionUid, committed, failed };
}

/** The N-EVENT-REPORT command fields and dataset for a result. */
export function commitmentReport(result: CommitmentResult, retrieveAeTitle: string): { eventTypeId: number; dataset: Naturalized } {
  const dataset: Naturalized = {
    TransactionUID: result.transactionUid,
    RetrieveAETitle: retrieveAeTitle,
  };
  if (result.committed.length > 0) {
    dataset.ReferencedSOPSequence = result.committed.map((r) => ({ ReferencedSOPClassUID: r.sopClassUid, ReferencedSOPInstanceUID: r.sopInstanceUid }));
  }
  if (result.failed.length > 0) {
    dataset.FailedSOPSequence = result.failed.map((r) => ({ ReferencedSOPClassUID: r.sopClassUid, ReferencedSOPInstanceUID: r.sopInstanceUid, FailureReason: r.reason }));
  }
  return { eventTypeId: result.failed.length === 0 ? 1 : 2, dataset };
}

/** Reads a report dataset back into a result. */
export function parseCommitmentReport(attributes: Naturalized): CommitmentResult {
  return {
    transactionUid: textValue(attributes.TransactionUID),
    committed: items(attributes.ReferencedSOPSequence).map((r) => ({ sopClassUid: textValue(r.ReferencedSOPClassUID), sopInstanceUid: textValue(r.ReferencedSOPInstanceUID) })),
    failed: items(attributes.FailedSOPSequence).map((r) => ({
      sopClassUid: textValue(r.ReferencedSOPClassUID),
      sopInstanceUid: textValue(r.ReferencedSOPInstanceUID),
      reason: Number(textValue(r.FailureReason) || Status.CommitmentProcessingFailure),
    })),
  };
}

/** Reports for our own requests, by Transaction UID, whichever association they arrive on. */
class CommitmentWaiters {
  private readonly waiting = new Map<string, (result: CommitmentResult) => void>();
  wait(transactionUid: string, timeoutMs: number): Promise<CommitmentResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiting.delete(transactionUid);
        reject(new Error(`no storage commitment report for transaction ${transactionUid} within ${timeoutMs} ms`));
      }, timeoutMs);
      timer.unref();
      this.waiting.set(transactionUid, (result) => {
        clearTimeout(timer);
        this.waiting.delete(transactionUid);
        resolve(result);
      });
    });
  }
  /** True when someone was waiting for this transaction. */
  deliver(result: CommitmentResult): boolean {
    const waiter = this.waiting.get(result.transactionUid);
    if (!waiter) return false;
    waiter(result);
    return true;
  }
}

export const commitmentWaiters = new CommitmentWaiters();

/**
 * Requests storage commitment on an open association (which must have the Storage Commitment Push
 * Model context) and waits for the report, on this association or via our listener.
 */
export async function requestCommitment(association: AssociationRequestor, references: SopReference[], timeoutMs = 60_000): Promise<CommitmentResult> {
  const context = association.findContext(SopClass.StorageCommitmentPushModel);
  if (!context) throw new Error('the peer did not accept the Storage Commitment Push Model');
  const transactionUid = newUid();
  const result = commitmentWaiters.wait(transactionUid, timeoutMs);
  association.onRequest = async (message) => {
    if (message.command.CommandField !== CommandField.NEventReportRequest || !message.dataset) return { Status: Status.UnrecognizedOperation };
    const report = parseCommitmentReport(decodeNaturalized(message.dataset, message.transferSyntax));
    return { Status: commitmentWaiters.deliver(report) ? Status.Success : Status.InvalidArgumentValue };
  };
  const dataset = association.encodeDataset(context.id, {
    TransactionUID: transactionUid,
    ReferencedSOPSequence: references.map((r) => ({ ReferencedSOPClassUID: r.sopClassUid, ReferencedSOPInstanceUID: r.sopInstanceUid })),
  });
  const [response] = (
    await association.request(
      context.id,
      {
        CommandField: CommandField.NActionRequest,
        RequestedSOPClassUID: SopClass.StorageCommitmentPushModel,
        RequestedSOPInstanceUID: StorageCommitmentInstance,
        ActionTypeID: 1,
      },
      dataset,
    )
  ).slice(-1);
  const status = Number(response.command.Status);
  if (status !== Status.Success) {
    // Release the waiter: no report will come for a refused request.
    commitmentWaiters.deliver({ transactionUid, committed: [], failed: [] });
    await result;
    throw new Error(`storage commitment N-ACTION failed with status 0x${status.toString(16)}${response.command.ErrorComment ? `: ${response.command.ErrorComment}` : ''}`);
  }
  return result;
}


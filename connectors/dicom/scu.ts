// Our SCU operations for the CLI, the modality simulator and the forwarder: C-ECHO, worklist C-FIND,
// C-STORE of Part 10 files (sent from disk, byte for byte), MPPS N-CREATE/N-SET.
import type tls from 'node:tls';
import { AssociationRequestor, DimseStatusError, type ConnectOptions } from './dimse/requestor';
import { CommandField, SopClass, Status, TransferSyntax, statusHex } from './dimse/uids';
import { readPart10FileLayout } from './dataset/part10';
import { decodeNaturalized } from './dataset/naturalize';
import type { Naturalized } from './worklist/matching';
import { requestCommitment, type CommitmentResult } from './commitment/commitment';

export interface Peer {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  connectTimeoutMs?: number;
  maxPduLength?: number;
  /** DICOM over TLS: the client side of the handshake. */
  tls?: tls.ConnectionOptions;
}

const native = [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian];

function connect(peer: Peer, contexts: ConnectOptions['contexts']): Promise<AssociationRequestor> {
  return AssociationRequestor.connect({ ...peer, contexts, ...(peer.maxPduLength ? { maxPduLength: peer.maxPduLength } : {}) });
}

/** C-ECHO; resolves with the round-trip time in ms (association included). */
export async function echo(peer: Peer): Promise<number> {
  const started = process.hrtime.bigint();
  const association = await connect(peer, [{ abstractSyntax: SopClass.Verification, transferSyntaxes: native }]);
  try {
    const context = association.findContext(SopClass.Verification);
    if (!context) throw new Error(`${peer.calledAeTitle} did not accept the Verification SOP Class`);
    const [response] = (await association.request(context.id, { CommandField: CommandField.CEchoRequest, AffectedSOPClassUID: SopClass.Verification })).slice(-1);
    const status = Number(response.command.Status);
    if (status !== Status.Success) throw new DimseStatusError('C-ECHO', status, response.command.ErrorComment as string | undefined);
  } finally {
    await association.release().catch(() => undefined);
  }
  return Number(process.hrtime.bigint() - started) / 1e6;
}

export interface WorklistQuery {
  modality?: string;
  /** DA value or range: `20261122`, `20261120-20261122`. */
  date?: string;
  stationAeTitle?: string;
  patientId?: string;
  /** PN, wildcards allowed: `NGUYEN*`. */
  patientName?: string;
  accessionNumber?: string;
}

/** The identifier a modality typically sends: the K.6-1 matching keys plus the usual return keys. */
export function worklistIdentifier(query: WorklistQuery): Naturalized {
  return {
    SpecificCharacterSet: 'ISO_IR 192',
    AccessionNumber: query.accessionNumber ?? '',
    ReferringPhysicianName: '',
    PatientName: query.patientName ? [{ Alphabetic: query.patientName }] : '',
    PatientID: query.patientId ?? '',
    PatientBirthDate: '',
    PatientSex: '',
    StudyInstanceUID: '',
    RequestedProcedureID: '',
    RequestedProcedureDescription: '',
    RequestedProcedurePriority: '',
    ScheduledProcedureStepSequence: [
      {
        ScheduledStationAETitle: query.stationAeTitle ?? '',
        ScheduledProcedureStepStartDate: query.date ?? '',
        ScheduledProcedureStepStartTime: '',
        Modality: query.modality ?? '',
        ScheduledPerformingPhysicianName: '',
        ScheduledProcedureStepDescription: '',
        ScheduledProcedureStepID: '',
        ScheduledStationName: '',
      },
    ],
  };
}

/** Modality Worklist C-FIND; resolves with the matching items (naturalized). */
export async function findWorklist(peer: Peer, identifier: Naturalized): Promise<Naturalized[]> {
  const association = await connect(peer, [{ abstractSyntax: SopClass.ModalityWorklistFind, transferSyntaxes: native }]);
  try {
    return await findOn(association, identifier);
  } finally {
    await association.release().catch(() => undefined);
  }
}

/** C-FIND on an open association that accepted the worklist SOP class. */
export async function findOn(association: AssociationRequestor, identifier: Naturalized): Promise<Naturalized[]> {
  const context = association.findContext(SopClass.ModalityWorklistFind);
  if (!context) throw new Error('the peer did not accept the Modality Worklist Information Model - FIND');
  const responses = await association.request(
    context.id,
    { CommandField: CommandField.CFindRequest, AffectedSOPClassUID: SopClass.ModalityWorklistFind, Priority: 0 },
    association.encodeDataset(context.id, identifier),
  );
  const final = responses[responses.length - 1];
  const status = Number(final.command.Status);
  if (status !== Status.Success) throw new DimseStatusError('C-FIND', status, final.command.ErrorComment as string | undefined);
  return responses.slice(0, -1).filter((r) => r.dataset).map((r) => decodeNaturalized(r.dataset!, r.transferSyntax));
}

export interface StoreResult {
  file: string;
  sopInstanceUid: string;
  status: number;
  errorComment?: string;
}

export interface StoreOptions {
  onResult?: (result: StoreResult) => void;
  /** After storing, request Storage Commitment for what was stored and wait for the report. */
  commit?: { timeoutMs: number };
}

/** C-STORE of Part 10 files on one association (contexts negotiated for every class/syntax present). */
export async function storeFiles(peer: Peer, files: string[], onResultOrOptions?: ((result: StoreResult) => void) | StoreOptions): Promise<StoreResult[] & { commitment?: CommitmentResult }> {
  const options: StoreOptions = typeof onResultOrOptions === 'function' ? { onResult: onResultOrOptions } : (onResultOrOptions ?? {});
  const onResult = options.onResult;
  const layouts = await Promise.all(files.map(async (file) => ({ file, ...(await readPart10FileLayout(file)) })));
  const pairs = new Map<string, { abstractSyntax: string; transferSyntaxes: string[] }>();
  for (const l of layouts) pairs.set(`${l.meta.sopClassUid}|${l.meta.transferSyntax}`, { abstractSyntax: l.meta.sopClassUid, transferSyntaxes: [l.meta.transferSyntax] });
  if (pairs.size > 128) throw new Error(`${pairs.size} SOP class / transfer syntax combinations: at most 128 fit in one association`);
  const contexts = [...pairs.values()];
  if (options.commit) contexts.push({ abstractSyntax: SopClass.StorageCommitmentPushModel, transferSyntaxes: native });
  const association = await connect(peer, contexts);
  const results: StoreResult[] & { commitment?: CommitmentResult } = [];
  try {
    for (const l of layouts) {
      const context = association.findContext(l.meta.sopClassUid, l.meta.transferSyntax);
      let result: StoreResult;
      if (!context) {
        result = { file: l.file, sopInstanceUid: l.meta.sopInstanceUid, status: -1, errorComment: `no accepted presentation context for ${l.meta.sopClassUid} in ${l.meta.transferSyntax}` };
      } else {
        const responses = await association.request(
          context.id,
          { CommandField: CommandField.CStoreRequest, AffectedSOPClassUID: l.meta.sopClassUid, AffectedSOPInstanceUID: l.meta.sopInstanceUid, Priority: 0 },
          { path: l.file, offset: l.datasetOffset, length: l.size - l.datasetOffset },
        );
        const final = responses[responses.length - 1];
        result = { file: l.file, sopInstanceUid: l.meta.sopInstanceUid, status: Number(final.command.Status), errorComment: final.command.ErrorComment as string | undefined };
      }
      results.push(result);
      onResult?.(result);
    }
    if (options.commit) {
      const stored = layouts.filter((l, i) => results[i].status === Status.Success || (results[i].status & 0xf000) === 0xb000);
      results.commitment = await requestCommitment(association, stored.map((l) => ({ sopClassUid: l.meta.sopClassUid, sopInstanceUid: l.meta.sopInstanceUid })), options.commit.timeoutMs);
    }
  } finally {
    await association.release().catch(() => undefined);
  }
  return results;
}

/** MPPS N-CREATE (returns the SOP Instance UID the SCP confirmed). */
export async function createMpps(association: AssociationRequestor, uid: string, attributes: Naturalized): Promise<{ status: number; uid: string; errorComment?: string }> {
  const context = association.findContext(SopClass.ModalityPerformedProcedureStep);
  if (!context) throw new Error('the peer did not accept Modality Performed Procedure Step');
  const [response] = (
    await association.request(
      context.id,
      { CommandField: CommandField.NCreateRequest, AffectedSOPClassUID: SopClass.ModalityPerformedProcedureStep, AffectedSOPInstanceUID: uid },
      association.encodeDataset(context.id, attributes),
    )
  ).slice(-1);
  return { status: Number(response.command.Status), uid: String(response.command.AffectedSOPInstanceUID ?? uid), errorComment: response.command.ErrorComment as string | undefined };
}

/** MPPS N-SET. */
export async function setMpps(association: AssociationRequestor, uid: string, changes: Naturalized): Promise<{ status: number; errorId?: number; errorComment?: string }> {
  const context = association.findContext(SopClass.ModalityPerformedProcedureStep);
  if (!context) throw new Error('the peer did not accept Modality Performed Procedure Step');
  const [response] = (
    await association.request(
      context.id,
      { CommandField: CommandField.NSetRequest, RequestedSOPClassUID: SopClass.ModalityPerformedProcedureStep, RequestedSOPInstanceUID: uid },
      association.encodeDataset(context.id, changes),
    )
  ).slice(-1);
  return { status: Number(response.command.Status), errorId: response.command.ErrorID as number | undefined, errorComment: response.command.ErrorComment as string | undefined };
}

export { AssociationRequestor, statusHex };

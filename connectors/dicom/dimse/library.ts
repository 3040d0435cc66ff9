// The one place that touches dcmjs-dimse. We use its PDU codecs (association negotiation), its
// DIMSE command classes and its dcmjs-based dataset codec; the socket handling, PDU framing and
// P-DATA reassembly are ours (see scp-connection.ts), because the library's versions are slow
// (no TCP_NODELAY, a Buffer.concat per chunk), unbounded (no PDU length check) and keep C-STORE
// datasets whole in memory. Those overrides reach a few underscore methods of the 0.3.3 build:
// `assertLibraryInternals` checks they still exist, so an upgrade fails loudly, not subtly.
import * as dimse from 'dcmjs-dimse';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from '../dataset/uid';

export const {
  Dataset,
  Client,
  Scp,
  Implementation,
  association: { Association, PresentationContext },
  requests: {
    CEchoRequest,
    CFindRequest,
    CStoreRequest,
    NCreateRequest,
    NSetRequest,
    NActionRequest,
    NEventReportRequest,
    NGetRequest,
    CCancelRequest,
    CMoveRequest,
    CGetRequest,
    NDeleteRequest,
  },
  responses: {
    CEchoResponse,
    CFindResponse,
    CStoreResponse,
    NCreateResponse,
    NSetResponse,
    NActionResponse,
    NEventReportResponse,
    NGetResponse,
    CMoveResponse,
    CGetResponse,
    NDeleteResponse,
  },
} = dimse;

export type Dataset = dimse.Dataset;
export type Association = dimse.association.Association;
export type PresentationContext = dimse.association.PresentationContext;
export type Request = dimse.requests.Request;
export type Response = dimse.responses.Response;
export type CStoreRequest = dimse.requests.CStoreRequest;
export type CFindRequest = dimse.requests.CFindRequest;
export type NCreateRequest = dimse.requests.NCreateRequest;
export type NSetRequest = dimse.requests.NSetRequest;
export type NActionRequest = dimse.requests.NActionRequest;
export type NEventReportRequest = dimse.requests.NEventReportRequest;

export const constants = dimse.constants;

/** dcmjs-dimse's (unexported) Network class: the base of Scp, used directly for our SCU associations. */
export const Network = Object.getPrototypeOf(dimse.Scp.prototype).constructor as new (socket: import('node:net').Socket, opts?: Record<string, unknown>) => NetworkInternals;

/** The parts of dcmjs-dimse's Network we call or override (0.3.3). */
export interface NetworkInternals {
  socket: import('node:net').Socket;
  association?: Association;
  logId: string;
  on(event: string, listener: (...args: any[]) => void): unknown;
  emit(event: string, ...args: any[]): unknown;
  sendAssociationRequest(association: Association): void;
  sendAssociationAccept(): void;
  sendAssociationReject(result?: number, source?: number, reason?: number): void;
  sendAssociationReleaseRequest(): void;
  sendAssociationReleaseResponse(): void;
  sendAbort(source?: number, reason?: number): void;
  _processPdu(pdu: Buffer): Promise<void>;
  _sendDimse(item: { context: PresentationContext; command: Request | Response }): void;
  _sendPdu(pdu: unknown): void;
  _wrapSocket(): void;
  _reset(): void;
}

const requiredInternals = ['_processPdu', '_sendDimse', '_sendPdu', '_wrapSocket', '_processPDataTf', '_sendPDataTF', '_reset'];

/** Fails at load time if the installed dcmjs-dimse no longer has what our overrides rely on. */
export function assertLibraryInternals(): void {
  const proto = (Network as unknown as { prototype: Record<string, unknown> }).prototype;
  const missing = requiredInternals.filter((name) => typeof proto[name] !== 'function');
  if (missing.length > 0 || dimse.version !== '0.3.3') {
    throw new Error(
      `dcmjs-dimse ${dimse.version} is not the 0.3.3 build connectors/dicom was written against` +
        (missing.length ? ` (missing ${missing.join(', ')})` : '') +
        ': re-check connectors/dicom/dimse/*.ts before upgrading',
    );
  }
}
assertLibraryInternals();

/** dcmjs-dimse logs through loglevel, off by default; keep it off (we log through winston). */
dimse.log.setLevel('silent');
silenceDcmjs();
dimse.Implementation.setImplementationClassUid(IMPLEMENTATION_CLASS_UID);
dimse.Implementation.setImplementationVersion(IMPLEMENTATION_VERSION);

/**
 * dcmjs (dcmjs-dimse's nested copy and the top-level one) writes warnings straight to the console
 * for every odd element ("Invalid vr type", "Unknown name in dataset"); we report problems
 * ourselves, with the byte offset, so those loggers are switched off.
 */
function silenceDcmjs(): void {
  const path = require('node:path') as typeof import('node:path');
  const locations = [require.resolve('dcmjs', { paths: [path.dirname(require.resolve('dcmjs-dimse'))] }), require.resolve('dcmjs')];
  for (const location of new Set(locations)) {
    const log = (require(location) as { log?: { setLevel(l: string): void; getLogger(n: string): { setLevel(l: string): void } } }).log;
    if (!log) continue;
    log.setLevel('silent');
    for (const name of ['validation.dcmjs', 'AsyncDicomReader']) log.getLogger(name).setLevel('silent');
  }
}

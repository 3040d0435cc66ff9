// The one place that touches dcmjs-dimse. We use its association PDU codecs (A-ASSOCIATE-RQ/AC/RJ,
// release, abort) and its Association/PresentationContext model; the socket handling, PDU framing,
// P-DATA reassembly, DIMSE command sets and datasets are ours (see connection.ts), because the
// library's are slow (no TCP_NODELAY, a Buffer.concat per chunk, dcmjs for every command), unbounded
// (no PDU length check) and keep C-STORE datasets whole in memory. We reach a few underscore methods
// of the pinned 0.3.3 build: `assertLibraryInternals` checks them, so an upgrade fails loudly.
import * as dimse from 'dcmjs-dimse';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from '../dataset/uid';

export const {
  Dataset,
  Implementation,
  association: { Association },
} = dimse;

export type Dataset = dimse.Dataset;
export type Association = dimse.association.Association;
export type PresentationContext = dimse.association.PresentationContext;

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
  _sendPdu(pdu: unknown): void;
  _wrapSocket(): void;
  _reset(): void;
}

/** What we call or replace: `_processPdu` parses association PDUs; `_wrapSocket` is replaced (see connection.ts). */
const requiredInternals = ['_processPdu', '_sendPdu', '_wrapSocket', '_reset'];

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

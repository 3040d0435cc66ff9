// The requesting side of an association (our SCU): connect, negotiate, send requests one at a time
// and collect their responses; requests the peer sends back on the same association (a Storage
// Commitment N-EVENT-REPORT) go to `onRequest`. Used by the forwarder, the CLI and the simulator.
import net from 'node:net';
import tls from 'node:tls';
import { Association, type PresentationContext } from './library';
import { DimseConnection, type ConnectionOptions, type FileSlice, type IncomingMessage } from './connection';
import { PduType } from './pdu-framer';
import type { CommandElements } from './command-codec';
import { ContextResult, Status, TransferSyntax, statusHex } from './uids';

export interface ProposedContext {
  abstractSyntax: string;
  transferSyntaxes: string[];
  /** SCP/SCU role selection (PS3.7 D.3.3.4), e.g. to receive N-EVENT-REPORTs as SCU of Storage Commitment. */
  scuRole?: boolean;
  scpRole?: boolean;
}

export interface ConnectOptions extends Partial<ConnectionOptions> {
  host: string;
  port: number;
  callingAeTitle: string;
  calledAeTitle: string;
  contexts: ProposedContext[];
  /** TCP connect timeout (the TLS handshake included). */
  connectTimeoutMs?: number;
  /** DICOM over TLS (PS3.15 B.1): the client side of the handshake (certificate, CA, server name). */
  tls?: tls.ConnectionOptions;
}

export class AssociationRejectedError extends Error {
  constructor(
    readonly result: number,
    readonly source: number,
    readonly reason: number,
  ) {
    super(`association rejected: ${describeReject(result, source, reason)}`);
    this.name = 'AssociationRejectedError';
  }
  get permanent(): boolean {
    return this.result === 1;
  }
}

export function describeReject(result: number, source: number, reason: number): string {
  const resultText = result === 1 ? 'permanent' : result === 2 ? 'transient' : `result ${result}`;
  const reasons: Record<number, Record<number, string>> = {
    1: { 1: 'no reason given', 2: 'application context name not supported', 3: 'calling AE title not recognized', 7: 'called AE title not recognized' },
    2: { 1: 'no reason given', 2: 'protocol version not supported' },
    3: { 1: 'temporary congestion', 2: 'local limit exceeded' },
  };
  const sourceText = source === 1 ? 'service user' : source === 2 ? 'service provider (ACSE)' : source === 3 ? 'service provider (presentation)' : `source ${source}`;
  return `${resultText}, ${sourceText}: ${reasons[source]?.[reason] ?? `reason ${reason}`}`;
}

export interface DimseResponse {
  command: CommandElements;
  dataset?: Buffer;
  transferSyntax: string;
}

export class DimseStatusError extends Error {
  constructor(
    readonly operation: string,
    readonly status: number,
    readonly errorComment?: string,
  ) {
    super(`${operation} failed with status ${statusHex(status)}${errorComment ? `: ${errorComment}` : ''}`);
    this.name = 'DimseStatusError';
  }
}

interface Pending {
  messageId: number;
  responses: DimseResponse[];
  resolve: (responses: DimseResponse[]) => void;
  reject: (err: Error) => void;
  onPending?: (response: DimseResponse) => void;
}

export class AssociationRequestor extends DimseConnection {
  private nextMessageId = 1;
  private pending?: Pending;
  private chain: Promise<unknown> = Promise.resolve();
  private negotiation?: { resolve: () => void; reject: (err: Error) => void };
  private rejection?: { result: number; source: number; reason: number };
  /** Requests the peer sends to us on this association (e.g. N-EVENT-REPORT); answer with the returned status. */
  onRequest?: (message: IncomingMessage) => Promise<{ Status: number } & CommandElements>;

  private constructor(socket: net.Socket, options: Partial<ConnectionOptions>) {
    super(socket, options);
    this.on('associationRejected', (r: { result: number; source: number; reason: number }) => (this.rejection = r));
    void this.closed().then((reason) => {
      this.negotiation?.reject(new Error(`connection closed before the association was accepted: ${reason}`));
      this.pending?.reject(new Error(`association closed while waiting for a response: ${reason}`));
      this.pending = undefined;
    });
  }

  static async connect(options: ConnectOptions): Promise<AssociationRequestor> {
    const where = `${options.tls ? 'TLS ' : ''}${options.host}:${options.port}`;
    const socket = options.tls ? tls.connect({ ...options.tls, host: options.host, port: options.port }) : net.connect({ host: options.host, port: options.port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      const timeoutMs = options.connectTimeoutMs ?? 10_000;
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`could not connect to ${where} within ${timeoutMs} ms`));
      }, timeoutMs);
      // A TLS socket is usable after the handshake ('secureConnect'), a plain one after 'connect'.
      socket.once(options.tls ? 'secureConnect' : 'connect', () => {
        clearTimeout(timer);
        resolve();
      });
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(new Error(`could not connect to ${where}: ${err.message}`));
      });
    });
    const connection = new AssociationRequestor(socket, options);
    await connection.negotiate(options);
    return connection;
  }

  private negotiate(options: ConnectOptions): Promise<void> {
    const association = new Association(options.callingAeTitle, options.calledAeTitle);
    association.setMaxPduLength(this.options.maxPduLength);
    for (const proposed of options.contexts) {
      const id = association.addPresentationContext(proposed.abstractSyntax);
      for (const ts of proposed.transferSyntaxes) association.addTransferSyntaxToPresentationContext(id, ts);
      if (proposed.scuRole !== undefined || proposed.scpRole !== undefined) {
        const context = association.getPresentationContext(id);
        context.setUserRole(proposed.scuRole ?? true);
        context.setProviderRole(proposed.scpRole ?? false);
      }
    }
    return new Promise<void>((resolve, reject) => {
      this.negotiation = { resolve, reject };
      this.sendAssociationRequest(association);
    });
  }

  protected async onAssociationPdu(type: number): Promise<void> {
    const negotiation = this.negotiation;
    this.negotiation = undefined;
    if (type === PduType.AssociateAc) {
      this.peerMaxPduLength = this.association!.getMaxPduLength();
      this.established();
      negotiation?.resolve();
    } else if (type === PduType.AssociateRj) {
      const r = this.rejection ?? { result: 0, source: 0, reason: 0 };
      negotiation?.reject(new AssociationRejectedError(r.result, r.source, r.reason));
      this.socket.end();
    } else {
      negotiation?.reject(new Error(`unexpected PDU type ${type} in reply to A-ASSOCIATE-RQ`));
      this.abortAssociation(`unexpected PDU type ${type} during negotiation`, 2);
    }
  }

  /** The accepted context for an abstract syntax (and transfer syntax, when given). */
  findContext(abstractSyntax: string, transferSyntax?: string): { id: number; transferSyntax: string } | undefined {
    for (const { id, context } of this.association?.getPresentationContexts() ?? []) {
      if (context.getAbstractSyntaxUid() !== abstractSyntax || context.getResult() !== ContextResult.Accept) continue;
      const ts = context.getAcceptedTransferSyntaxUid() ?? TransferSyntax.ImplicitVRLittleEndian;
      if (transferSyntax && ts !== transferSyntax) continue;
      return { id, transferSyntax: ts };
    }
    return undefined;
  }

  contexts(): PresentationContext[] {
    return (this.association?.getPresentationContexts() ?? []).map((c) => c.context);
  }

  /**
   * Sends a request and resolves with every response (pendings first, the final one last).
   * Requests are serialised: we never negotiate asynchronous operations.
   */
  request(
    contextId: number,
    command: CommandElements,
    dataset?: Buffer | FileSlice,
    onPending?: (response: DimseResponse) => void,
  ): Promise<DimseResponse[]> {
    const run = async () => {
      const messageId = this.nextMessageId;
      this.nextMessageId = (this.nextMessageId % 0xffff) + 1;
      const result = new Promise<DimseResponse[]>((resolve, reject) => {
        this.pending = { messageId, responses: [], resolve, reject, onPending };
      });
      await this.sendMessage(contextId, { ...command, MessageID: messageId }, dataset);
      return result;
    };
    const next = this.chain.then(run, run);
    this.chain = next.catch(() => undefined);
    return next;
  }

  protected async onMessage(message: IncomingMessage): Promise<void> {
    const field = Number(message.command.CommandField);
    if (field & 0x8000) {
      const pending = this.pending;
      if (!pending || message.command.MessageIDBeingRespondedTo !== pending.messageId) return;
      const response: DimseResponse = { command: message.command, dataset: message.dataset, transferSyntax: message.transferSyntax };
      const status = Number(message.command.Status);
      if (status === Status.Pending || status === Status.PendingWarning) {
        if (pending.onPending) pending.onPending(response);
        else pending.responses.push(response);
        return;
      }
      pending.responses.push(response);
      this.pending = undefined;
      pending.resolve(pending.responses);
      return;
    }
    // A request from the peer (we are its SCP for this message).
    let answer: { Status: number } & CommandElements = { Status: Status.UnrecognizedOperation };
    if (this.onRequest) {
      try {
        answer = await this.onRequest(message);
      } catch (err) {
        answer = { Status: Status.ProcessingFailure, ErrorComment: (err as Error).message };
      }
    }
    await this.sendMessage(message.contextId, {
      CommandField: field | 0x8000,
      MessageIDBeingRespondedTo: message.command.MessageID,
      AffectedSOPClassUID: message.command.AffectedSOPClassUID,
      AffectedSOPInstanceUID: message.command.AffectedSOPInstanceUID,
      EventTypeID: message.command.EventTypeID,
      ...answer,
    });
  }

  /** A-RELEASE; resolves when the peer has answered and the connection is closed. */
  async release(timeoutMs = 10_000): Promise<void> {
    if (this.state === 'closed') return;
    await this.chain;
    if (this.state !== 'established') return;
    this.state = 'releasing';
    this.sendAssociationReleaseRequest();
    const timer = setTimeout(() => this.abortAssociation(`no A-RELEASE-RP within ${timeoutMs} ms`), timeoutMs);
    await this.closed();
    clearTimeout(timer);
  }
}

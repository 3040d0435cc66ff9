// The accepting side of an association (our SCP): negotiation is delegated to the application
// (AE allow-list, presentation contexts), then every request is handed over as a DimseExchange that
// answers with `respond()`. Requests on one association are handled one at a time, in order.
import type { Socket } from 'node:net';
import { Implementation, type Association } from './library';
import { DimseConnection, MemorySink, type ConnectionOptions, type DatasetSink, type IncomingMessage, type PeerAddress } from './connection';
import { PduType } from './pdu-framer';
import type { CommandElements } from './command-codec';
import { CommandField, Status, statusHex } from './uids';

export type NegotiationOutcome =
  | { accept: true }
  | {
      accept: false;
      /** A-ASSOCIATE-RJ result / source / reason (PS3.8 9.3.4). */
      result: number;
      source: number;
      reason: number;
      /** Logged and shown on the dashboard. */
      why: string;
    };

export interface DimseExchange {
  connection: AssociationAcceptor;
  message: IncomingMessage;
  /** Sends a response (C-FIND may call it many times with Pending before the final status); a Buffer is an already encoded dataset. */
  respond(fields: CommandElements & { Status: number }, dataset?: Record<string, unknown> | Buffer): Promise<void>;
  /** Many Pending responses at once (C-FIND matches), each with its encoded identifier: one socket write. */
  respondPending(datasets: Buffer[]): Promise<void>;
}

export interface AcceptorApplication {
  /** Decide on the association: set each presentation context's result on `association`, or reject. */
  negotiate(association: Association, peer: PeerAddress): NegotiationOutcome | Promise<NegotiationOutcome>;
  /** Where a C-STORE dataset is written while it arrives (default: memory). */
  openStoreSink?(connection: AssociationAcceptor, contextId: number, command: CommandElements): DatasetSink | Promise<DatasetSink>;
  /** Handle one request; must call `respond` with a final status. */
  handle(exchange: DimseExchange): Promise<void>;
  /** The association is gone (released, aborted, timed out, or the peer vanished). */
  closed?(connection: AssociationAcceptor, reason: string): void;
}

export class AssociationAcceptor extends DimseConnection {
  /** Why negotiation rejected the association, when it did. */
  rejectedBecause?: string;

  constructor(
    socket: Socket,
    private readonly app: AcceptorApplication,
    options: Partial<ConnectionOptions> = {},
  ) {
    super(socket, options);
  }

  get callingAeTitle(): string {
    return this.association?.getCallingAeTitle().trim() ?? '';
  }

  get calledAeTitle(): string {
    return this.association?.getCalledAeTitle().trim() ?? '';
  }

  protected async onAssociationPdu(type: number): Promise<void> {
    if (type !== PduType.AssociateRq || !this.association) {
      this.abortAssociation(`an association requestor sent PDU type ${type}`, 2);
      return;
    }
    const association = this.association;
    const proposedMax = association.getMaxPduLength();
    let outcome: NegotiationOutcome;
    try {
      outcome = await this.app.negotiate(association, this.peer);
    } catch (err) {
      outcome = { accept: false, result: 2, source: 2, reason: 1, why: `negotiation failed: ${(err as Error).message}` };
    }
    if (!outcome.accept) {
      this.rejectedBecause = outcome.why;
      this.sendAssociationReject(outcome.result, outcome.source, outcome.reason);
      this.socket.end();
      return;
    }
    // We handle one operation at a time: never echo the requestor's asynchronous-operations window.
    association.setNegotiateAsyncOps(false);
    association.setMaxAsyncOpsInvoked(1);
    association.setMaxAsyncOpsPerformed(1);
    // dcmjs-dimse writes min(proposed, Implementation max) as *our* Maximum Length; we advertise our
    // own receive limit instead and keep the requestor's limit for what we send.
    const libraryMax = Implementation.getMaxPduLength();
    Implementation.setMaxPduLength(this.options.maxPduLength);
    association.setMaxPduLength(this.options.maxPduLength);
    try {
      this.sendAssociationAccept();
    } finally {
      Implementation.setMaxPduLength(libraryMax);
    }
    this.peerMaxPduLength = proposedMax;
    association.setMaxPduLength(proposedMax);
    this.established();
  }

  protected override openSink(contextId: number, command: CommandElements): DatasetSink | Promise<DatasetSink> {
    if (command.CommandField === CommandField.CStoreRequest && this.app.openStoreSink) return this.app.openStoreSink(this, contextId, command);
    return super.openSink(contextId, command);
  }

  protected async onMessage(message: IncomingMessage): Promise<void> {
    const request = message.command;
    const field = Number(request.CommandField);
    if (field === CommandField.CCancelRequest) return; // we answer each request before reading the next one: nothing left to cancel
    if (field & 0x8000) {
      // A response on an association where we only perform: nothing is waiting for it.
      return;
    }
    let responded = false;
    let final = false;
    const exchange: DimseExchange = {
      connection: this,
      message,
      respond: async (fields, dataset) => {
        const status = fields.Status;
        const pending = status === Status.Pending || status === Status.PendingWarning;
        if (final) throw new Error(`a final response (status ${statusHex(status)}) was already sent for message ${request.MessageID}`);
        final = !pending;
        responded = true;
        const command: CommandElements = {
          CommandField: field | 0x8000,
          MessageIDBeingRespondedTo: request.MessageID,
          AffectedSOPClassUID: request.AffectedSOPClassUID ?? request.RequestedSOPClassUID,
          ...fields,
        };
        const bytes = dataset === undefined ? undefined : Buffer.isBuffer(dataset) ? dataset : this.encodeDataset(message.contextId, dataset);
        await this.sendMessage(message.contextId, command, bytes);
      },
      respondPending: async (datasets) => {
        if (final) throw new Error(`a final response was already sent for message ${request.MessageID}`);
        if (datasets.length === 0) return;
        responded = true;
        await this.sendPendingBatch(message.contextId, { CommandField: field | 0x8000, MessageIDBeingRespondedTo: request.MessageID, AffectedSOPClassUID: request.AffectedSOPClassUID, Status: Status.Pending }, datasets);
      },
    };
    try {
      await this.app.handle(exchange);
    } catch (err) {
      if (this.state === 'closed') return;
      if (!final) {
        await exchange
          .respond({ Status: Status.ProcessingFailure, ErrorComment: `processing failed: ${(err as Error).message}` })
          .catch(() => undefined);
      }
      return;
    }
    if (!final && this.state !== 'closed') {
      await exchange.respond({ Status: Status.ProcessingFailure, ErrorComment: responded ? 'no final response was produced' : 'no response was produced' });
    }
  }

  protected override onClosed(reason: string): void {
    this.app.closed?.(this, reason);
  }
}

export { MemorySink };

// One DICOM Upper Layer connection (either side). dcmjs-dimse's Network supplies the association
// PDU codecs (A-ASSOCIATE-RQ/AC/RJ, release, abort); everything on the data path is ours:
//   socket → PduFramer (bounded, zero-copy) → one PDU at a time (the socket pauses while we work)
//   → PDV reassembly → command decoded by hand → dataset into a sink (memory, or a file for C-STORE)
//   → onMessage() → responses written straight to the socket (TCP_NODELAY, corked per message).
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { open } from 'node:fs/promises';
import { Network, type Association, type NetworkInternals, type PresentationContext } from './library';
import { PduError, PduFramer, PduType, readPdvs, writePDataTf, type Pdu } from './pdu-framer';
import { CommandCodecError, decodeCommand, encodeCommand, type CommandElements } from './command-codec';
import { Abort, ContextResult, TransferSyntax } from './uids';
import { encodeDataset } from '../dataset/codec';

export interface ConnectionOptions {
  /** Largest P-DATA-TF body we accept (advertised in the association as our Maximum Length). */
  maxPduLength: number;
  /** Close a connection that has not completed association negotiation within this time. */
  associationTimeoutMs: number;
  /** Abort an association that stays silent this long. */
  idleTimeoutMs: number;
  /** Largest dataset held in memory for non-storage messages (C-FIND identifiers, MPPS…). */
  maxInMemoryDatasetBytes?: number;
}

export const defaultConnectionOptions: ConnectionOptions = {
  maxPduLength: 256 * 1024,
  associationTimeoutMs: 30_000,
  idleTimeoutMs: 300_000,
  maxInMemoryDatasetBytes: 16 * 1024 * 1024,
};

export interface PeerAddress {
  address: string;
  port: number;
  /** Over mutual TLS: the CN of the certificate the peer presented (checked by the handshake). */
  tlsSubject?: string;
}

/** A complete DIMSE message as received. */
export interface IncomingMessage<Stored = unknown> {
  contextId: number;
  abstractSyntax: string;
  transferSyntax: string;
  command: CommandElements;
  /** The dataset bytes (non-storage messages); undefined when the command has none. */
  dataset?: Buffer;
  /** What the storage sink returned (C-STORE requests whose dataset went to a file). */
  stored?: Stored;
  /** Set when the dataset could not be kept (too large for memory): the handler answers with a failure. */
  datasetError?: string;
}

/** Where a dataset's fragments go while they arrive. */
export interface DatasetSink<Result = unknown> {
  write(chunk: Buffer): void | Promise<void>;
  /** All fragments received: finish and return what the handler needs. */
  end(): Promise<Result>;
  /** The transfer broke off (peer vanished, abort, protocol error): discard or keep as errored. */
  abort(reason: string): Promise<void>;
}

/** A dataset to send from a file region without loading it whole. */
export interface FileSlice {
  path: string;
  offset: number;
  length: number;
}

export type ConnectionState = 'awaiting-association' | 'established' | 'releasing' | 'closed';

const DATASET_PRESENT = 0x0000;
const NO_DATASET = 0x0101;

let nextConnectionId = 1;

export abstract class DimseConnection extends (Network as unknown as new (socket: Socket, opts?: Record<string, unknown>) => NetworkInternals) {
  readonly connectionId = `a${nextConnectionId++}`;
  readonly peer: PeerAddress;
  state: ConnectionState = 'awaiting-association';
  protected readonly options: ConnectionOptions;
  private readonly framer: PduFramer;
  private readonly queue: Pdu[] = [];
  private processing = false;
  private paused = false;
  private closeReason?: string;
  private lastLibraryError?: Error;
  /** The DIMSE message being reassembled. */
  private inFlight?: {
    contextId: number;
    commandChunks: Buffer[];
    command?: CommandElements;
    sink?: DatasetSink;
  };
  /** Largest P-DATA-TF body the peer accepts (its Maximum Length; 0 = unlimited). */
  protected peerMaxPduLength = 16384;
  private readonly closedPromise: Promise<string>;
  private resolveClosed!: (reason: string) => void;

  constructor(socket: Socket, options: Partial<ConnectionOptions> = {}) {
    super(socket, {});
    this.options = { ...defaultConnectionOptions, ...options };
    this.peer = { address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 };
    // Only a certificate that chains to our CA names the peer (with clientCertificates 'optional' an
    // unverified one can arrive too, and must not satisfy remotes[].tlsSubjects).
    const tlsSocket = socket as Partial<TLSSocket>;
    const certificate = tlsSocket.authorized ? tlsSocket.getPeerCertificate?.() : undefined;
    if (certificate?.subject?.CN) this.peer.tlsSubject = String(certificate.subject.CN);
    this.framer = new PduFramer({ maxPDataLength: this.options.maxPduLength });
    this.closedPromise = new Promise((resolve) => (this.resolveClosed = resolve));
    socket.setNoDelay(true);
    socket.setTimeout(this.options.associationTimeoutMs);
    socket.on('data', (chunk: Buffer) => this.onData(chunk));
    socket.on('timeout', () => this.onTimeout());
    socket.on('error', (err) => this.finish(`socket error: ${err.message}`));
    socket.on('close', () => this.finish(this.closeReason ?? 'peer closed the connection'));
    this.on('networkError', (err: Error) => (this.lastLibraryError = err));
  }

  /** dcmjs-dimse wires the socket itself in its constructor; we do it in ours (see above). */
  override _wrapSocket(): void {}

  isClosed(): boolean {
    return this.state === 'closed';
  }

  /** Resolves with the reason once the connection is closed. */
  closed(): Promise<string> {
    return this.closedPromise;
  }

  /** Called for each complete incoming DIMSE message; the next PDU is read only after it resolves. */
  protected abstract onMessage(message: IncomingMessage): Promise<void>;
  /** Called with each association-phase PDU (A-ASSOCIATE-RQ/AC/RJ) already parsed into `this.association`. */
  protected abstract onAssociationPdu(type: number): Promise<void>;
  /** Called once when the connection ends (after sinks were aborted). */
  protected onClosed(_reason: string): void {}
  /** Where a dataset goes; the default keeps it in memory up to `maxInMemoryDatasetBytes`. */
  protected openSink(_contextId: number, _command: CommandElements): DatasetSink | Promise<DatasetSink> {
    return new MemorySink(this.options.maxInMemoryDatasetBytes ?? defaultConnectionOptions.maxInMemoryDatasetBytes!);
  }

  /** The accepted presentation context with this id, or undefined. */
  acceptedContext(contextId: number): PresentationContext | undefined {
    const found = this.association?.getPresentationContexts().find((c) => c.id === contextId);
    if (!found || found.context.getResult() !== ContextResult.Accept) return undefined;
    return found.context;
  }

  // ---- sending ---------------------------------------------------------------------------

  /** Sends one DIMSE message; resolves when it is handed to the socket (after 'drain' for large ones). */
  async sendMessage(contextId: number, command: CommandElements, dataset?: Buffer | FileSlice): Promise<void> {
    if (this.state === 'closed') throw new Error(`association ${this.connectionId} is closed (${this.closeReason ?? 'closed'})`);
    const commandBytes = encodeCommand({ ...command, CommandDataSetType: dataset ? DATASET_PRESENT : NO_DATASET });
    const socket = this.socket;
    const parts = writePDataTf(contextId, true, commandBytes, this.peerMaxPduLength);
    if (Buffer.isBuffer(dataset)) {
      for (const b of writePDataTf(contextId, false, dataset, this.peerMaxPduLength)) parts.push(b);
      // Small messages (most responses) go out as one buffer: one stream write instead of four.
      const total = parts.reduce((n, b) => n + b.length, 0);
      let ok: boolean;
      if (total <= 64 * 1024) ok = socket.write(Buffer.concat(parts, total));
      else {
        socket.cork();
        ok = true;
        for (const b of parts) ok = socket.write(b);
        socket.uncork();
      }
      // A caller that corked the socket to batch several messages flushes (and waits) itself.
      if (!ok && socket.writableCorked === 0) await this.drain();
    } else {
      socket.write(Buffer.concat(parts));
      if (dataset) await this.sendFileSlice(contextId, dataset);
    }
  }

  /** The same command (one encoding) before each dataset, all in one socket write: C-FIND pendings. */
  async sendPendingBatch(contextId: number, command: CommandElements, datasets: Buffer[]): Promise<void> {
    if (this.state === 'closed') throw new Error(`association ${this.connectionId} is closed (${this.closeReason ?? 'closed'})`);
    const commandPdu = Buffer.concat(writePDataTf(contextId, true, encodeCommand({ ...command, CommandDataSetType: DATASET_PRESENT }), this.peerMaxPduLength));
    const parts: Buffer[] = [];
    for (const dataset of datasets) {
      parts.push(commandPdu);
      for (const b of writePDataTf(contextId, false, dataset, this.peerMaxPduLength)) parts.push(b);
    }
    if (!this.socket.write(Buffer.concat(parts))) await this.drain();
  }

  private async sendFileSlice(contextId: number, slice: FileSlice): Promise<void> {
    const maxValue = (this.peerMaxPduLength > 0 ? Math.min(this.peerMaxPduLength, 4 * 1024 * 1024) : 1024 * 1024) - 6;
    if (slice.length === 0) {
      for (const b of writePDataTf(contextId, false, Buffer.alloc(0), 0, true)) this.socket.write(b);
      return;
    }
    const handle = await open(slice.path, 'r');
    try {
      let sent = 0;
      while (sent < slice.length) {
        const n = Math.min(maxValue, slice.length - sent);
        const chunk = Buffer.allocUnsafe(n);
        const { bytesRead } = await handle.read(chunk, 0, n, slice.offset + sent);
        if (bytesRead !== n) throw new Error(`${slice.path} is shorter than expected (read ${bytesRead} of ${n} bytes at ${slice.offset + sent})`);
        sent += n;
        if (this.state === 'closed') throw new Error(`association ${this.connectionId} closed while sending ${slice.path}`);
        let ok = true;
        for (const b of writePDataTf(contextId, false, chunk, 0, sent >= slice.length)) ok = this.socket.write(b) && ok;
        if (!ok) await this.drain();
      }
    } finally {
      await handle.close();
    }
  }

  private drain(): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        this.socket.off('drain', done);
        this.socket.off('close', done);
        resolve();
      };
      this.socket.on('drain', done);
      this.socket.on('close', done);
    });
  }

  /** Encodes a naturalized dataset in the context's transfer syntax. */
  encodeDataset(contextId: number, elements: Record<string, unknown>): Buffer {
    const ts = this.acceptedContext(contextId)?.getAcceptedTransferSyntaxUid() ?? TransferSyntax.ImplicitVRLittleEndian;
    return encodeDataset(elements, ts);
  }

  /** Sends A-ABORT and closes. */
  abortAssociation(reason: string, abortReason: number = Abort.ReasonNotSpecified, source: number = Abort.SourceServiceProvider): void {
    if (this.state === 'closed') return;
    this.closeReason = reason;
    if (this.association) this.sendAbort(source, abortReason);
    else this.socket.write(Buffer.from([PduType.Abort, 0, 0, 0, 0, 4, 0, 0, source, abortReason]));
    this.socket.end();
    // A peer that never reads must not keep the socket (and this connection) alive.
    setTimeout(() => this.socket.destroy(), 2000).unref();
    this.finish(reason);
  }

  // ---- receiving -------------------------------------------------------------------------

  private onData(chunk: Buffer): void {
    if (this.state === 'closed') return;
    let pdus: Pdu[];
    try {
      pdus = this.framer.push(chunk);
    } catch (err) {
      const e = err as PduError;
      this.abortAssociation(`protocol error: ${e.message}`, e.abortReason ?? Abort.ReasonInvalidPduParameter);
      return;
    }
    if (pdus.length === 0) return;
    for (const pdu of pdus) this.queue.push(pdu);
    if (this.queue.length > 4 && !this.paused) {
      this.paused = true;
      this.socket.pause();
    }
    void this.processQueue();
  }

  private async processQueue(): Promise<void> {
    if (this.processing) return;
    this.processing = true;
    try {
      while (this.queue.length > 0 && !this.isClosed()) {
        const pdu = this.queue.shift()!;
        try {
          await this.processPdu(pdu);
        } catch (err) {
          const e = err as Error & { abortReason?: number };
          this.abortAssociation(`protocol error: ${e.message}`, e.abortReason ?? Abort.ReasonNotSpecified);
        }
        if (this.paused && this.queue.length <= 1 && !this.isClosed()) {
          this.paused = false;
          this.socket.resume();
        }
      }
    } finally {
      this.processing = false;
    }
  }

  /** Lets the library parse an association-phase PDU; its parse errors surface as 'networkError'. */
  protected parseWithLibrary(pdu: Pdu): void {
    this.lastLibraryError = undefined;
    void this._processPdu(pdu.bytes);
    if (this.lastLibraryError) throw new PduError(`malformed PDU type ${pdu.type}: ${(this.lastLibraryError as Error).message}`, Abort.ReasonInvalidPduParameter);
  }

  private async processPdu(pdu: Pdu): Promise<void> {
    switch (pdu.type) {
      case PduType.AssociateRq:
      case PduType.AssociateAc:
      case PduType.AssociateRj:
        if (this.state !== 'awaiting-association') throw new PduError(`unexpected A-ASSOCIATE PDU (type ${pdu.type}) in state ${this.state}`, Abort.ReasonUnexpectedPdu);
        this.parseWithLibrary(pdu);
        await this.onAssociationPdu(pdu.type);
        return;
      case PduType.PDataTf:
        if (this.state !== 'established' && this.state !== 'releasing') throw new PduError(`P-DATA-TF before the association was established`, Abort.ReasonUnexpectedPdu);
        await this.processPData(pdu.bytes);
        return;
      case PduType.ReleaseRq:
        if (this.state !== 'established') throw new PduError(`A-RELEASE-RQ in state ${this.state}`, Abort.ReasonUnexpectedPdu);
        await this.abortInFlight('the peer released the association mid-message');
        this.sendAssociationReleaseResponse();
        this.closeReason = 'released by peer';
        this.state = 'releasing';
        this.socket.end();
        return;
      case PduType.ReleaseRp:
        this.closeReason = 'released';
        this.socket.end();
        return;
      case PduType.Abort: {
        const source = pdu.bytes.length >= 10 ? pdu.bytes.readUInt8(8) : -1;
        const reason = pdu.bytes.length >= 10 ? pdu.bytes.readUInt8(9) : -1;
        this.closeReason = `aborted by peer (source ${source}, reason ${reason})`;
        this.socket.destroy();
        this.finish(this.closeReason);
        return;
      }
    }
  }

  private async processPData(bytes: Buffer): Promise<void> {
    for (const pdv of readPdvs(bytes)) {
      const context = this.acceptedContext(pdv.contextId);
      if (!context) throw new PduError(`PDV on presentation context ${pdv.contextId}, which was not accepted`, Abort.ReasonInvalidPduParameter);
      let flight = this.inFlight;
      if (pdv.isCommand) {
        if (flight?.command) throw new PduError(`command fragment on context ${pdv.contextId} while the dataset of the previous command is still arriving`, Abort.ReasonUnexpectedPdu);
        if (!flight) flight = this.inFlight = { contextId: pdv.contextId, commandChunks: [] };
        if (flight.contextId !== pdv.contextId) throw new PduError(`command fragments on two presentation contexts (${flight.contextId}, ${pdv.contextId})`, Abort.ReasonUnexpectedPdu);
        flight.commandChunks.push(pdv.value);
        if (!pdv.isLast) continue;
        let command: CommandElements;
        try {
          command = decodeCommand(flight.commandChunks.length === 1 ? flight.commandChunks[0] : Buffer.concat(flight.commandChunks));
        } catch (err) {
          if (err instanceof CommandCodecError) throw new PduError(`malformed DIMSE command: ${err.message}`, Abort.ReasonInvalidPduParameter);
          throw err;
        }
        flight.command = command;
        flight.commandChunks = [];
        if (command.CommandDataSetType === NO_DATASET) {
          this.inFlight = undefined;
          await this.dispatch({ contextId: pdv.contextId, command, context });
        } else {
          flight.sink = await this.openSink(pdv.contextId, command);
        }
      } else {
        if (!flight?.command || !flight.sink) throw new PduError(`dataset fragment on context ${pdv.contextId} without a preceding command`, Abort.ReasonUnexpectedPdu);
        if (flight.contextId !== pdv.contextId) throw new PduError(`dataset fragment on context ${pdv.contextId} for a command sent on context ${flight.contextId}`, Abort.ReasonUnexpectedPdu);
        const pending = flight.sink.write(pdv.value);
        if (pending) await pending;
        if (!pdv.isLast) continue;
        this.inFlight = undefined;
        const result = await flight.sink.end();
        const message = { contextId: pdv.contextId, command: flight.command, context };
        if (flight.sink instanceof MemorySink) {
          const memory = result as MemorySinkResult;
          await this.dispatch({ ...message, dataset: memory.bytes, datasetError: memory.error });
        } else {
          await this.dispatch({ ...message, stored: result });
        }
      }
    }
  }

  private async dispatch(m: { contextId: number; command: CommandElements; context: PresentationContext; dataset?: Buffer; stored?: unknown; datasetError?: string }): Promise<void> {
    await this.onMessage({
      contextId: m.contextId,
      abstractSyntax: m.context.getAbstractSyntaxUid(),
      transferSyntax: m.context.getAcceptedTransferSyntaxUid() ?? TransferSyntax.ImplicitVRLittleEndian,
      command: m.command,
      dataset: m.dataset,
      stored: m.stored,
      datasetError: m.datasetError,
    });
  }

  private async abortInFlight(reason: string): Promise<void> {
    const sink = this.inFlight?.sink;
    this.inFlight = undefined;
    if (sink) await sink.abort(reason).catch(() => undefined);
  }

  private onTimeout(): void {
    if (this.state === 'awaiting-association') this.abortAssociation(`no association negotiated within ${this.options.associationTimeoutMs} ms`);
    else this.abortAssociation(`association idle for ${this.options.idleTimeoutMs} ms`);
  }

  /** Marks the association established and switches the socket timeout to the idle timeout. */
  protected established(): void {
    this.state = 'established';
    this.socket.setTimeout(this.options.idleTimeoutMs);
  }

  private finish(reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    this.closeReason = reason;
    this.queue.length = 0;
    void this.abortInFlight(`${reason} (${this.framer.pending} bytes of an unfinished PDU dropped)`).finally(() => {
      this.onClosed(reason);
      this.resolveClosed(reason);
    });
    if (!this.socket.destroyed) this.socket.destroy();
  }

  /** The reason the connection closed (or is closing). */
  get closedBecause(): string | undefined {
    return this.closeReason;
  }
}

interface MemorySinkResult {
  bytes?: Buffer;
  error?: string;
}

/** Keeps a dataset in memory; past the limit it keeps counting but drops the bytes, and reports why. */
export class MemorySink implements DatasetSink<MemorySinkResult> {
  private chunks: Buffer[] = [];
  private size = 0;
  constructor(private readonly limit: number) {}
  write(chunk: Buffer): void {
    this.size += chunk.length;
    if (this.size <= this.limit) this.chunks.push(chunk);
    else this.chunks = [];
  }
  async end(): Promise<MemorySinkResult> {
    if (this.size > this.limit) return { error: `dataset of ${this.size} bytes exceeds the ${this.limit}-byte limit for this service` };
    return { bytes: this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.size) };
  }
  async abort(): Promise<void> {
    this.chunks = [];
  }
}

export type { Association };

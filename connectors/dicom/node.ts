// One DICOM node (the `dicom` source's runtime): the listener, the AE policy and every service —
// C-ECHO, Modality Worklist C-FIND, MPPS, C-STORE into the instance store and index, Storage
// Commitment — plus reconciliation, the HIS outbox and thumbnails. The channel sees stored
// instances (and optionally MPPS, completed studies and exceptions) as messages through `receive`.
import { EventEmitter } from 'node:events';
import { readdir, rm, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import winston, { type Logger } from 'winston';
import type { InboundMessage, ReceiptResult, ConnectionStatus } from '../../engine/connectors/types';
import type { DicomSourceConfig } from './config';
import { AePolicy } from './ae-policy';
import { DicomListener } from './dimse/server';
import type { AcceptorApplication, AssociationAcceptor, DimseExchange, NegotiationOutcome } from './dimse/acceptor';
import type { DatasetSink, PeerAddress } from './dimse/connection';
import type { CommandElements } from './dimse/command-codec';
import type { Association } from './dimse/library';
import { CommandField, SopClass, Status, StorageCommitmentInstance, statusHex } from './dimse/uids';
import { InstanceStore, type StoreOutcome } from './storage/instance-store';
import { DicomIndex, type StudyRow } from './storage/index-db';
import { WorklistProvider } from './worklist/provider';
import { IdentifierError, projectReturnKeys, returnKeyShape, validateWorklistIdentifier, type Naturalized } from './worklist/matching';
import { foldItemToAscii } from './worklist/items';
import { decodeNaturalized } from './dataset/naturalize';
import { MppsStore, type MppsRecord, type MppsStatus } from './mpps/mpps-store';
import { MppsService, summariseMpps } from './mpps/mpps-service';
import { HisOutbox, type OutboxEntry } from './his-outbox';
import { Reconciler, type StudyCompletion } from './reconcile/reconciler';
import type { ImagingHis, ImagingOrder, OrderStatus } from './his-port';
import { commitmentReport, commitmentWaiters, evaluateCommitment, parseCommitmentReport, parseCommitmentRequest, type CommitmentResult } from './commitment/commitment';
import { AssociationRequestor } from './dimse/requestor';
import { renderThumbnailFromFile } from './thumbnail/render';
import type { RemoteAe } from './config';
import { clientTlsOptions, serverTlsOptions } from '../hl7/mllp/tls';

export const DICOM_INSTANCE_CONTENT_TYPE = 'application/vnd.hisbridge.dicom-instance+json';
export const DICOM_MPPS_CONTENT_TYPE = 'application/vnd.hisbridge.dicom-mpps+json';
export const DICOM_STUDY_CONTENT_TYPE = 'application/vnd.hisbridge.dicom-study+json';
export const DICOM_EXCEPTION_CONTENT_TYPE = 'application/vnd.hisbridge.dicom-exception+json';

/** The channel message for one stored instance (what `dicom-forward` reads). */
export interface InstanceMessage {
  type: 'dicom-instance';
  /** Absolute path of the Part 10 file. */
  file: string;
  /** The same path relative to the engine's data folder, when it lies inside it (survives a moved data folder). */
  dataDirPath?: string;
  sopClassUid: string;
  sopInstanceUid: string;
  studyInstanceUid: string;
  seriesInstanceUid: string;
  transferSyntax: string;
  size: number;
  patientId?: string;
  patientName?: string;
  accessionNumber?: string;
  modality?: string;
  callingAe: string;
  receivedAt: string;
}

export interface DicomNodeDependencies {
  /** Folder of the instance store and index. */
  storageDir: string;
  /** The engine's data folder (to give instance paths relative to it). */
  dataDir?: string;
  /** The engine's certs folder: relative TLS file names resolve against it (default: the working folder). */
  certsDir?: string;
  his: () => ImagingHis | undefined;
  log?: Logger;
  /** Stores a channel message; the C-STORE is acknowledged after it resolves. */
  receive?: (message: InboundMessage) => Promise<ReceiptResult>;
  reportConnection?: (status: Omit<ConnectionStatus, 'since'> & { since?: string }) => void;
}

/**
 * Where a stored instance's time goes, summed over the instances stored (milliseconds): finishing
 * the file (header, validation, write), the index row, the engine's message (its store commit),
 * and the whole C-STORE from the end of the dataset to the answer written to the socket.
 */
export interface StoreTimings {
  instances: number;
  fileMs: number;
  indexMs: number;
  engineMs: number;
  totalMs: number;
}

export interface NodeCounters {
  associations: number;
  rejectedAssociations: number;
  echoes: number;
  worklistQueries: number;
  instancesStored: number;
  instancesErrored: number;
  transfersAborted: number;
  mpps: number;
  commitments: number;
}

export class DicomNode extends EventEmitter implements AcceptorApplication {
  readonly index: DicomIndex;
  readonly store: InstanceStore;
  readonly worklist: WorklistProvider;
  readonly mppsStore: MppsStore;
  readonly outbox: HisOutbox;
  readonly reconciler: Reconciler;
  readonly storeTimings: StoreTimings = { instances: 0, fileMs: 0, indexMs: 0, engineMs: 0, totalMs: 0 };
  readonly counters: NodeCounters = { associations: 0, rejectedAssociations: 0, echoes: 0, worklistQueries: 0, instancesStored: 0, instancesErrored: 0, transfersAborted: 0, mpps: 0, commitments: 0 };
  private readonly policy: AePolicy;
  private readonly listener: DicomListener;
  private readonly mpps: MppsService;
  private readonly remotes = new WeakMap<AssociationAcceptor, RemoteAe | undefined>();
  private readonly log: Logger;
  private nextMessageId = 1;

  constructor(
    readonly config: DicomSourceConfig,
    private readonly deps: DicomNodeDependencies,
  ) {
    super();
    this.log = deps.log ?? winston.createLogger({ silent: true, transports: [new winston.transports.Console()] });
    this.policy = new AePolicy(config);
    this.index = new DicomIndex(path.join(deps.storageDir, 'index.sqlite'));
    this.store = new InstanceStore({ root: deps.storageDir, memoryThresholdBytes: config.storage.memoryThresholdBytes });
    this.store.onTransferAborted = (info) => {
      this.counters.transfersAborted++;
      this.index.recordErrored({ receivedAt: new Date().toISOString(), callingAe: info.callingAe, sopInstanceUid: info.sopInstanceUid, status: -1, reason: `transfer aborted after ${info.bytes} bytes, partial data discarded: ${info.reason}` });
      this.log.warn(`C-STORE from ${info.callingAe} broke off after ${info.bytes} bytes (${info.reason}); partial data discarded`);
      this.emit('transfer-aborted', info);
    };
    this.worklist = new WorklistProvider(deps.his, config.worklist);
    this.mppsStore = new MppsStore(this.index.db);
    this.mpps = new MppsService(this.mppsStore);
    this.outbox = new HisOutbox(this.index.db, deps.his, this.log);
    this.outbox.onApplied = (entry) => this.emit('his-update', entry satisfies OutboxEntry);
    this.reconciler = new Reconciler(
      this.index,
      deps.his,
      this.outbox,
      {
        quietPeriodMs: config.reconciliation.quietPeriodSeconds * 1000,
        viewerUrlTemplate: config.reconciliation.viewerUrlTemplate,
        fallbackStatuses: config.reconciliation.fallbackStatuses,
      },
      this.log,
      {
        reconciled: (study, order, method, exception) => void this.onReconciled(study, order, method, exception),
        completed: (completion) => void this.onStudyCompleted(completion),
        beforeComplete: (study) => this.makeThumbnail(study),
      },
    );
    this.listener = new DicomListener(this, {
      host: config.host,
      port: config.port,
      maxPduLength: config.maxPduLength,
      associationTimeoutMs: config.associationTimeoutMs,
      idleTimeoutMs: config.idleTimeoutMs,
      tls: config.tls?.enabled ? serverTlsOptions(config.tls, deps.certsDir ?? process.cwd()) : undefined,
      onTlsRefused: (peer, reason) => {
        this.counters.rejectedAssociations++;
        this.log.warn(`DICOM TLS handshake from ${peer.address} refused: ${reason}`);
        this.emit('tls-refused', { address: peer.address, reason });
      },
    });
  }

  async start(): Promise<number> {
    await this.removeStalePartFiles();
    const port = await this.listener.listen();
    this.outbox.start();
    this.reconciler.start();
    const where = `${this.config.aeTitle} on ${this.config.host}:${port}${this.config.tls?.enabled ? ` (TLS${this.config.tls.clientCertificates === 'required' ? ', client certificate required' : ''})` : ''}`;
    this.deps.reportConnection?.({ id: 'listener', state: 'listening', detail: where });
    this.log.info(`DICOM ${where}`);
    return port;
  }

  get port(): number | undefined {
    return this.listener.port;
  }

  async stop(): Promise<void> {
    await this.listener.close();
    await this.reconciler.stop();
    await this.outbox.stop();
    this.index.close();
    this.deps.reportConnection?.({ id: 'listener', state: 'stopped' });
  }

  private async removeStalePartFiles(): Promise<void> {
    const dir = this.store.absolute('incoming');
    for (const name of await readdir(dir).catch(() => [] as string[])) if (name.endsWith('.part')) await rm(path.join(dir, name), { force: true });
  }

  // ---- association ---------------------------------------------------------------------------

  negotiate(association: Association, peer: PeerAddress): NegotiationOutcome {
    const decision = this.policy.decide(association, peer, this.listener.associations.size);
    const calling = association.getCallingAeTitle().trim();
    if (!decision.outcome.accept) {
      this.counters.rejectedAssociations++;
      this.log.warn(`association from ${calling}@${peer.address} rejected: ${decision.outcome.why}`);
      this.emit('rejected', { callingAe: calling, address: peer.address, ...decision.outcome });
      return decision.outcome;
    }
    this.counters.associations++;
    return decision.outcome;
  }

  private remoteOf(connection: AssociationAcceptor): RemoteAe | undefined {
    if (!this.remotes.has(connection)) {
      this.remotes.set(connection, this.policy.remoteFor(connection.callingAeTitle));
      this.deps.reportConnection?.({ id: connection.connectionId, state: 'connected', detail: `${connection.callingAeTitle}@${connection.peer.address}${connection.peer.tlsSubject ? ` (TLS, CN=${connection.peer.tlsSubject})` : ''}` });
    }
    return this.remotes.get(connection);
  }

  closed(connection: AssociationAcceptor, reason: string): void {
    if (this.remotes.has(connection)) this.deps.reportConnection?.({ id: connection.connectionId, state: 'stopped', detail: reason });
  }

  openStoreSink(connection: AssociationAcceptor, contextId: number, command: CommandElements): DatasetSink {
    const context = connection.acceptedContext(contextId)!;
    if (command.AffectedSOPClassUID !== context.getAbstractSyntaxUid()) {
      return new RefusingSink(Status.SopClassNotSupported, `SOP Class ${command.AffectedSOPClassUID} sent on presentation context ${contextId}, negotiated for ${context.getAbstractSyntaxUid()}`);
    }
    return this.store.openSink({
      command,
      transferSyntax: context.getAcceptedTransferSyntaxUid()!,
      callingAe: connection.callingAeTitle,
      connectionId: connection.connectionId,
    });
  }

  async handle(exchange: DimseExchange): Promise<void> {
    const { command } = exchange.message;
    this.remoteOf(exchange.connection);
    switch (command.CommandField) {
      case CommandField.CEchoRequest:
        this.counters.echoes++;
        return exchange.respond({ Status: Status.Success });
      case CommandField.CFindRequest:
        return this.handleWorklistFind(exchange);
      case CommandField.CStoreRequest:
        return this.handleStore(exchange);
      case CommandField.NCreateRequest:
        return this.handleMpps(exchange, 'create');
      case CommandField.NSetRequest:
        return this.handleMpps(exchange, 'set');
      case CommandField.NActionRequest:
        return this.handleCommitmentRequest(exchange);
      case CommandField.NEventReportRequest:
        return this.handleCommitmentReport(exchange);
      default:
        return exchange.respond({ Status: Status.UnrecognizedOperation, ErrorComment: `command 0x${Number(command.CommandField).toString(16)} is not supported here` });
    }
  }

  // ---- worklist ------------------------------------------------------------------------------

  private async handleWorklistFind(exchange: DimseExchange): Promise<void> {
    const { message, connection } = exchange;
    this.counters.worklistQueries++;
    if (message.abstractSyntax !== SopClass.ModalityWorklistFind) return exchange.respond({ Status: Status.SopClassNotSupported, ErrorComment: `C-FIND on ${message.abstractSyntax} is not supported` });
    if (message.datasetError) return exchange.respond({ Status: Status.FindOutOfResources, ErrorComment: message.datasetError });
    if (!message.dataset) return exchange.respond({ Status: Status.FindIdentifierDoesNotMatchSopClass, ErrorComment: 'C-FIND without an identifier' });
    let query: Naturalized;
    try {
      query = decodeNaturalized(message.dataset, message.transferSyntax);
      validateWorklistIdentifier(query);
    } catch (err) {
      const status = err instanceof IdentifierError ? Status.FindIdentifierDoesNotMatchSopClass : Status.FindUnableToProcess;
      this.log.warn(`worklist query from ${connection.callingAeTitle} refused (${statusHex(status)}): ${(err as Error).message}`);
      return exchange.respond({ Status: status, ErrorComment: (err as Error).message });
    }
    let entries;
    try {
      entries = await this.worklist.find(query);
    } catch (err) {
      this.log.error(`worklist query from ${connection.callingAeTitle} failed: ${(err as Error).message}`);
      return exchange.respond({ Status: Status.FindUnableToProcess, ErrorComment: `worklist unavailable: ${(err as Error).message}` });
    }
    if (entries.length > this.config.worklist.maxResults) {
      return exchange.respond({ Status: Status.FindOutOfResources, ErrorComment: `${entries.length} worklist items match, above the limit of ${this.config.worklist.maxResults}: narrow the query` });
    }
    const ascii = this.remoteOf(connection)?.asciiNames ?? false;
    // Modalities repeat the same query shape all day: each item's encoded answer is cached per shape
    // (on the snapshot entry, so a refresh drops it), and the answers leave in batches of one write.
    const shape = `${returnKeyShape(query)}|${ascii ? 'ascii' : 'utf8'}|${message.transferSyntax}`;
    let batch: Buffer[] = [];
    for (const entry of entries) {
      const cache = (entry.encoded ??= new Map<string, Buffer>());
      let bytes = cache.get(shape);
      if (!bytes) {
        const projected = projectReturnKeys(query, entry.item);
        bytes = connection.encodeDataset(message.contextId, ascii ? foldItemToAscii(projected) : { SpecificCharacterSet: 'ISO_IR 192', ...projected });
        if (cache.size < 16) cache.set(shape, bytes);
      }
      batch.push(bytes);
      if (batch.length >= 256) {
        await exchange.respondPending(batch);
        batch = [];
        if (connection.isClosed()) return;
      }
    }
    await exchange.respondPending(batch);
    this.emit('worklist-query', { callingAe: connection.callingAeTitle, query, results: entries.length });
    return exchange.respond({ Status: Status.Success });
  }

  // ---- storage -------------------------------------------------------------------------------

  private async handleStore(exchange: DimseExchange): Promise<void> {
    const { message, connection } = exchange;
    const uid = message.command.AffectedSOPInstanceUID;
    const outcome = message.stored as StoreOutcome | RefusedOutcome | undefined;
    if (!outcome) return exchange.respond({ Status: Status.StoreCannotUnderstand, AffectedSOPInstanceUID: uid, ErrorComment: 'C-STORE without a dataset' });
    if (!outcome.ok) {
      this.counters.instancesErrored++;
      const id = this.index.recordErrored({ receivedAt: outcome.receivedAt, callingAe: connection.callingAeTitle, sopInstanceUid: outcome.sopInstanceUid, status: outcome.status, reason: outcome.reason, path: outcome.keptAs });
      this.log.warn(`C-STORE ${uid} from ${connection.callingAeTitle} refused (${statusHex(outcome.status)}): ${outcome.reason}${outcome.keptAs ? `; kept as ${outcome.keptAs}` : ''}`);
      this.emit('instance-errored', { id, ...outcome });
      return exchange.respond({ Status: outcome.status, AffectedSOPInstanceUID: uid, ErrorComment: outcome.reason });
    }
    const started = performance.now();
    let recorded;
    try {
      recorded = this.index.recordInstance(outcome.header, { path: outcome.path, size: outcome.size, transferSyntax: outcome.transferSyntax, callingAe: outcome.callingAe, receivedAt: outcome.receivedAt });
    } catch (err) {
      this.log.error(`indexing ${uid} failed: ${(err as Error).message}`);
      return exchange.respond({ Status: Status.StoreOutOfResources, AffectedSOPInstanceUID: uid, ErrorComment: `index unavailable: ${(err as Error).message}` });
    }
    const indexed = performance.now();
    this.counters.instancesStored++;
    this.reconciler.instanceStored(outcome.header.studyInstanceUid, outcome.header.sopInstanceUid, recorded.newStudy);
    let status: number = Status.Success;
    let comment: string | undefined;
    let engineMs = 0;
    if (this.config.emit.instances && this.deps.receive) {
      const asked = performance.now();
      const receipt = await this.deps.receive(this.instanceMessage(outcome, connection));
      engineMs = performance.now() - asked;
      ({ status, comment } = storeStatusFor(receipt));
    }
    this.emit('instance', { outcome, recorded, callingAe: connection.callingAeTitle });
    await exchange.respond({ Status: status, AffectedSOPInstanceUID: uid, ...(comment ? { ErrorComment: comment } : {}) });
    const t = this.storeTimings;
    t.instances++;
    t.fileMs += outcome.finishMs;
    t.indexMs += indexed - started;
    t.engineMs += engineMs;
    t.totalMs += outcome.finishMs + performance.now() - started;
  }

  private instanceMessage(outcome: Extract<StoreOutcome, { ok: true }>, connection: AssociationAcceptor): InboundMessage {
    const h = outcome.header;
    const dataDirPath = this.deps.dataDir ? path.relative(this.deps.dataDir, outcome.absolutePath) : undefined;
    const body: InstanceMessage = {
      type: 'dicom-instance',
      file: outcome.absolutePath,
      dataDirPath: dataDirPath && !dataDirPath.startsWith('..') && !path.isAbsolute(dataDirPath) ? dataDirPath : undefined,
      sopClassUid: h.sopClassUid,
      sopInstanceUid: h.sopInstanceUid,
      studyInstanceUid: h.studyInstanceUid,
      seriesInstanceUid: h.seriesInstanceUid,
      transferSyntax: outcome.transferSyntax,
      size: outcome.size,
      patientId: h.patientId,
      patientName: h.patientName,
      accessionNumber: h.accessionNumber ?? h.requestAttributes[0]?.accessionNumber,
      modality: h.modality,
      callingAe: outcome.callingAe,
      receivedAt: outcome.receivedAt,
    };
    return {
      raw: Buffer.from(JSON.stringify(body)),
      contentType: DICOM_INSTANCE_CONTENT_TYPE,
      origin: { remoteAddress: connection.peer.address, callingAe: connection.callingAeTitle, calledAe: connection.calledAeTitle, association: connection.connectionId },
      correlation: { patientId: h.patientId, accession: body.accessionNumber, messageType: 'C-STORE', deviceId: connection.callingAeTitle },
      meta: compact({ patientName: h.patientName, modality: h.modality, studyInstanceUid: h.studyInstanceUid, sopInstanceUid: h.sopInstanceUid, callingAe: connection.callingAeTitle }),
      parsed: body,
    };
  }

  // ---- MPPS ----------------------------------------------------------------------------------

  private async handleMpps(exchange: DimseExchange, operation: 'create' | 'set'): Promise<void> {
    const { message, connection } = exchange;
    const uid = operation === 'create' ? message.command.AffectedSOPInstanceUID : message.command.RequestedSOPInstanceUID;
    if (message.abstractSyntax !== SopClass.ModalityPerformedProcedureStep) {
      return exchange.respond({ Status: Status.SopClassNotSupported, AffectedSOPInstanceUID: uid, ErrorComment: `N-${operation.toUpperCase()} on ${message.abstractSyntax} is not supported` });
    }
    if (message.datasetError) return exchange.respond({ Status: Status.ResourceLimitation, AffectedSOPInstanceUID: uid, ErrorComment: message.datasetError });
    let attributes: Naturalized = {};
    if (message.dataset) {
      try {
        attributes = decodeNaturalized(message.dataset, message.transferSyntax);
      } catch (err) {
        return exchange.respond({ Status: Status.InvalidAttributeValue, AffectedSOPInstanceUID: uid, ErrorComment: (err as Error).message });
      }
    } else if (operation === 'create') {
      return exchange.respond({ Status: Status.MissingAttribute, AffectedSOPInstanceUID: uid, ErrorComment: 'N-CREATE without an attribute list' });
    }
    const outcome = operation === 'create' ? this.mpps.create(uid ? String(uid) : undefined, attributes, connection.callingAeTitle) : this.mpps.set(uid ? String(uid) : undefined, attributes);
    if (outcome.response.Status !== Status.Success) {
      this.log.warn(`MPPS N-${operation.toUpperCase()} ${uid ?? ''} from ${connection.callingAeTitle} refused (${statusHex(outcome.response.Status)}): ${outcome.response.ErrorComment}`);
      this.emit('mpps-refused', { operation, uid, callingAe: connection.callingAeTitle, ...outcome.response });
    }
    await exchange.respond(outcome.response);
    if (outcome.record) this.afterMpps(outcome.record, outcome.previousStatus);
  }

  private afterMpps(record: MppsRecord, previous: MppsStatus | undefined): void {
    this.counters.mpps++;
    const summary = summariseMpps(record.attributes);
    if (record.status !== previous) {
      const status: OrderStatus = record.status === 'IN PROGRESS' ? 'in-progress' : record.status === 'COMPLETED' ? 'completed' : 'discontinued';
      const at = record.status === 'IN PROGRESS' ? summary.startedAt : (summary.endedAt ?? summary.startedAt);
      for (const accession of summary.accessionNumbers) {
        this.outbox.enqueue(`mpps:${record.uid}:${record.status}:${accession}`, {
          accessionNumber: accession,
          status,
          at,
          by: summary.performedStationAe ?? record.callingAe,
          studyInstanceUid: summary.studyInstanceUids[0],
        });
      }
      if (summary.accessionNumbers.length === 0) this.log.warn(`MPPS ${record.uid} (${record.status}) names no accession number: no HIS order updated`);
      if (record.status === 'COMPLETED') this.reconciler.mppsCompleted(record.uid, summary.studyInstanceUids, summary.instanceUids);
    }
    this.emit('mpps', { record, previousStatus: previous, summary });
    if (this.config.emit.mpps && this.deps.receive) {
      void this.deps
        .receive({
          raw: Buffer.from(JSON.stringify({ type: 'dicom-mpps', uid: record.uid, status: record.status, previousStatus: previous, callingAe: record.callingAe, ...summary })),
          contentType: DICOM_MPPS_CONTENT_TYPE,
          correlation: { accession: summary.accessionNumbers[0], messageType: `MPPS ${record.status}`, deviceId: record.callingAe },
          origin: { callingAe: record.callingAe },
        })
        .catch((err) => this.log.error(`MPPS event for ${record.uid} not stored: ${(err as Error).message}`));
    }
  }

  // ---- storage commitment --------------------------------------------------------------------

  private async handleCommitmentRequest(exchange: DimseExchange): Promise<void> {
    const { message, connection } = exchange;
    const command = message.command;
    if (message.abstractSyntax !== SopClass.StorageCommitmentPushModel) {
      return exchange.respond({ Status: Status.SopClassNotSupported, ErrorComment: `N-ACTION on ${message.abstractSyntax} is not supported` });
    }
    let attributes: Naturalized | undefined;
    if (message.dataset) {
      try {
        attributes = decodeNaturalized(message.dataset, message.transferSyntax);
      } catch (err) {
        return exchange.respond({ Status: Status.InvalidArgumentValue, AffectedSOPInstanceUID: command.RequestedSOPInstanceUID, ErrorComment: (err as Error).message });
      }
    }
    const request = parseCommitmentRequest(command, attributes);
    if ('error' in request) return exchange.respond(request.error);
    await exchange.respond({ Status: Status.Success, AffectedSOPInstanceUID: StorageCommitmentInstance, ActionTypeID: 1 });
    this.counters.commitments++;
    const result = await evaluateCommitment(request, this.index, this.store);
    await this.sendCommitmentReport(connection, result).catch((err) => {
      this.log.error(`storage commitment report for ${result.transactionUid} to ${connection.callingAeTitle} not delivered: ${(err as Error).message}`);
      this.emit('commitment-failed', { transactionUid: result.transactionUid, error: (err as Error).message });
    });
  }

  private async sendCommitmentReport(connection: AssociationAcceptor, result: CommitmentResult): Promise<void> {
    const report = commitmentReport(result, this.config.aeTitle);
    const command: CommandElements = {
      CommandField: CommandField.NEventReportRequest,
      AffectedSOPClassUID: SopClass.StorageCommitmentPushModel,
      AffectedSOPInstanceUID: StorageCommitmentInstance,
      EventTypeID: report.eventTypeId,
    };
    const context = [...(connection.association?.getPresentationContexts() ?? [])].find(
      (c) => c.context.getAbstractSyntaxUid() === SopClass.StorageCommitmentPushModel && connection.acceptedContext(c.id),
    );
    if (this.config.commitment.report === 'same-association' && context && connection.state === 'established') {
      await connection.sendMessage(context.id, { ...command, MessageID: this.nextMessageId++ & 0xffff }, connection.encodeDataset(context.id, report.dataset));
      this.emit('commitment', { result, via: 'same-association', callingAe: connection.callingAeTitle });
      return;
    }
    const remote = this.policy.remoteFor(connection.callingAeTitle);
    if (!remote?.port) throw new Error(`the association is gone and remote AE ${connection.callingAeTitle} has no configured port to call back`);
    const host = remote.host ?? connection.peer.address;
    const association = await AssociationRequestor.connect({
      host,
      port: remote.port,
      tls: remote.tls?.enabled ? clientTlsOptions(remote.tls, this.deps.certsDir ?? process.cwd(), host) : undefined,
      callingAeTitle: this.config.aeTitle,
      calledAeTitle: remote.aeTitle,
      contexts: [{ abstractSyntax: SopClass.StorageCommitmentPushModel, transferSyntaxes: ['1.2.840.10008.1.2.1', '1.2.840.10008.1.2'], scuRole: false, scpRole: true }],
    });
    try {
      const ctx = association.findContext(SopClass.StorageCommitmentPushModel);
      if (!ctx) throw new Error(`${remote.aeTitle} did not accept the Storage Commitment Push Model for the report`);
      const [response] = (await association.request(ctx.id, command, association.encodeDataset(ctx.id, report.dataset))).slice(-1);
      if (Number(response.command.Status) !== Status.Success) throw new Error(`${remote.aeTitle} answered the report with ${statusHex(Number(response.command.Status))}`);
    } finally {
      await association.release().catch(() => undefined);
    }
    this.emit('commitment', { result, via: 'new-association', callingAe: connection.callingAeTitle });
  }

  /** A report for one of our own commitment requests, arriving on a new association. */
  private async handleCommitmentReport(exchange: DimseExchange): Promise<void> {
    const { message } = exchange;
    if (message.abstractSyntax !== SopClass.StorageCommitmentPushModel || !message.dataset) {
      return exchange.respond({ Status: Status.UnrecognizedOperation, ErrorComment: 'only Storage Commitment reports are accepted' });
    }
    let result: CommitmentResult;
    try {
      result = parseCommitmentReport(decodeNaturalized(message.dataset, message.transferSyntax));
    } catch (err) {
      return exchange.respond({ Status: Status.InvalidArgumentValue, ErrorComment: (err as Error).message });
    }
    const known = commitmentWaiters.deliver(result);
    this.emit('commitment-report', { result, known });
    return exchange.respond({ Status: known ? Status.Success : Status.NoSuchObjectInstance, AffectedSOPInstanceUID: StorageCommitmentInstance, EventTypeID: message.command.EventTypeID, ...(known ? {} : { ErrorComment: `unknown transaction ${result.transactionUid}` }) });
  }

  // ---- reconciliation events ------------------------------------------------------------------

  private onReconciled(study: StudyRow, order: ImagingOrder | undefined, method: string | undefined, exception: string | undefined): void {
    this.emit('reconciled', { study, order, method, exception });
    if (exception && this.config.emit.exceptions && this.deps.receive) {
      void this.deps
        .receive({
          raw: Buffer.from(JSON.stringify({ type: 'dicom-exception', studyInstanceUid: study.study_uid, accessionNumber: study.accession, patientId: study.patient_id, reason: exception })),
          contentType: DICOM_EXCEPTION_CONTENT_TYPE,
          correlation: { patientId: study.patient_id ?? undefined, accession: study.accession ?? undefined, messageType: 'reconciliation-exception' },
        })
        .catch((err) => this.log.error(`exception event for ${study.study_uid} not stored: ${(err as Error).message}`));
    }
  }

  private onStudyCompleted(completion: StudyCompletion): void {
    this.emit('study-complete', completion);
    if (this.config.emit.studies && this.deps.receive) {
      const s = completion.study;
      void this.deps
        .receive({
          raw: Buffer.from(
            JSON.stringify({
              type: 'dicom-study',
              studyInstanceUid: s.study_uid,
              accessionNumber: s.accession,
              patientId: s.patient_id,
              patientName: s.patient_name,
              orderId: s.order_id,
              reconciliation: s.reconciliation,
              instances: completion.instances,
              series: completion.series,
              reason: completion.reason,
              viewerUrl: completion.viewerUrl,
              thumbnail: s.thumbnail ? this.store.absolute(s.thumbnail) : undefined,
            }),
          ),
          contentType: DICOM_STUDY_CONTENT_TYPE,
          correlation: { patientId: s.patient_id ?? undefined, accession: s.accession ?? undefined, messageType: 'study-complete' },
        })
        .catch((err) => this.log.error(`study event for ${completion.study.study_uid} not stored: ${(err as Error).message}`));
    }
  }

  private async makeThumbnail(study: StudyRow): Promise<void> {
    if (!this.config.storage.thumbnails) return;
    const instances = this.index.instancesOfStudy(study.study_uid);
    if (instances.length === 0) return;
    // The largest series, its middle image: representative enough for a console or EMR preview.
    const bySeries = new Map<string, typeof instances>();
    for (const i of instances) bySeries.set(i.series_uid, [...(bySeries.get(i.series_uid) ?? []), i]);
    const series = [...bySeries.values()].sort((a, b) => b.length - a.length)[0];
    series.sort((a, b) => (a.instance_number ?? 0) - (b.instance_number ?? 0));
    const pick = series[Math.floor(series.length / 2)];
    const png = await renderThumbnailFromFile(this.store.absolute(pick.path));
    const relative = path.join('thumbnails', `${study.study_uid}.png`);
    await mkdir(this.store.absolute('thumbnails'), { recursive: true });
    await writeFile(this.store.absolute(relative), png);
    this.index.setThumbnail(study.study_uid, relative);
  }
}

interface RefusedOutcome {
  ok: false;
  status: number;
  reason: string;
  keptAs?: string;
  sopInstanceUid?: string;
  receivedAt: string;
  callingAe: string;
}

/** Swallows a dataset that cannot be accepted, then reports why (the C-STORE answer needs the whole dataset read). */
class RefusingSink implements DatasetSink<RefusedOutcome> {
  private readonly receivedAt = new Date().toISOString();
  constructor(
    private readonly status: number,
    private readonly reason: string,
  ) {}
  write(): void {}
  async end(): Promise<RefusedOutcome> {
    return { ok: false, status: this.status, reason: this.reason, receivedAt: this.receivedAt, callingAe: '' };
  }
  async abort(): Promise<void> {}
}

/** C-STORE status for the channel's receipt (PS3.4 B.2.3). */
export function storeStatusFor(receipt: ReceiptResult): { status: number; comment?: string } {
  switch (receipt.status) {
    case 'accepted':
    case 'filtered':
      return { status: Status.Success };
    case 'unavailable':
      return { status: Status.StoreOutOfResources, comment: `engine unavailable, send again later: ${receipt.error}` };
    case 'errored':
      return { status: Status.ProcessingFailure, comment: `stored as errored: ${receipt.error}` };
    case 'failed':
      return { status: Status.ProcessingFailure, comment: `delivery failed: ${receipt.error}` };
  }
}

function compact(values: Record<string, string | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(values)) if (v !== undefined && v !== '') out[k] = v;
  return out;
}

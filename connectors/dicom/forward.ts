// The `dicom-forward` destination: C-STORE of received instances to the hospital PACS, one queue
// delivery per instance (the engine retries). Files are sent from disk as stored, on associations
// kept open between deliveries (an association per delivery costs more than the C-STORE itself).
// Each association proposes exactly the SOP class / transfer syntax pairs seen so far; a new pair
// opens a new association. When the PACS accepts only the other native syntax (Implicit ↔ Explicit
// VR Little Endian), the dataset is re-encoded with dcmjs; compressed syntaxes are never transcoded.
import path from 'node:path';
import { readFile } from 'node:fs/promises';
import type tls from 'node:tls';
import type { Logger } from 'winston';
import { PermanentDeliveryError, type ConnectorDefinition, type ConnectorServices, type DeliveryContext, type DeliveryResult, type DestinationConnector, type OutboundMessage } from '../../engine/connectors/types';
import { dicomForwardSchema, type DicomForwardConfig } from './config';
import { AssociationRequestor, AssociationRejectedError } from './dimse/requestor';
import { CommandField, Status, TransferSyntax, statusHex } from './dimse/uids';
import { readPart10FileLayout } from './dataset/part10';
import { Dataset } from './dimse/library';
import { DICOM_INSTANCE_CONTENT_TYPE, type InstanceMessage } from './node';
import { clientTlsOptions } from '../hl7/mllp/tls';

const nativeSyntaxes: string[] = [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian];

interface PooledAssociation {
  association: AssociationRequestor;
  pairs: Set<string>;
  busy: boolean;
  idleTimer?: NodeJS.Timeout;
}

/** Associations to one PACS, reused across deliveries. */
export class ScuPool {
  private readonly members: PooledAssociation[] = [];
  private readonly knownPairs = new Map<string, { sopClass: string; transferSyntax: string }>();
  private readonly waiters: Array<() => void> = [];
  private closed = false;
  private opening = 0;

  constructor(
    private readonly config: DicomForwardConfig,
    /** Client side of DICOM over TLS (resolved from `config.tls` against the certs folder). */
    private readonly tls?: tls.ConnectionOptions,
  ) {}

  async withAssociation<T>(sopClass: string, transferSyntax: string, work: (association: AssociationRequestor) => Promise<T>, signal?: AbortSignal): Promise<T> {
    const member = await this.acquire(sopClass, transferSyntax, signal);
    try {
      return await work(member.association);
    } finally {
      this.release(member);
    }
  }

  private async acquire(sopClass: string, transferSyntax: string, signal?: AbortSignal): Promise<PooledAssociation> {
    const key = `${sopClass}|${transferSyntax}`;
    this.knownPairs.set(key, { sopClass, transferSyntax });
    for (;;) {
      if (this.closed) throw new Error('forwarder stopped');
      if (signal?.aborted) throw new Error('delivery aborted while waiting for an association');
      this.prune();
      const idle = this.members.filter((m) => !m.busy);
      const fit = idle.find((m) => m.pairs.has(key));
      if (fit) return this.take(fit);
      if (this.members.length + this.opening < this.config.maxAssociations) {
        this.opening++;
        try {
          return this.take(await this.open());
        } finally {
          this.opening--;
          // A failed (or finished) open frees a slot: let a waiting delivery try.
          this.waiters.shift()?.();
        }
      }
      if (idle.length > 0) {
        // Full, and no idle association knows this pair: replace one with an association that does.
        await this.retire(idle[0]);
        continue;
      }
      await new Promise<void>((resolve) => {
        const wake = () => {
          signal?.removeEventListener('abort', wake);
          const i = this.waiters.indexOf(wake);
          if (i >= 0) this.waiters.splice(i, 1);
          resolve();
        };
        this.waiters.push(wake);
        signal?.addEventListener('abort', wake, { once: true });
      });
    }
  }

  private take(member: PooledAssociation): PooledAssociation {
    member.busy = true;
    if (member.idleTimer) clearTimeout(member.idleTimer);
    return member;
  }

  private release(member: PooledAssociation): void {
    member.busy = false;
    if (member.association.state !== 'established') this.remove(member);
    else if (this.config.idleCloseMs > 0) {
      member.idleTimer = setTimeout(() => void this.retire(member), this.config.idleCloseMs);
      member.idleTimer.unref();
    }
    this.waiters.shift()?.();
  }

  private async open(): Promise<PooledAssociation> {
    const pairs = [...this.knownPairs.entries()].slice(-64); // two contexts per pair, 128 at most
    const contexts = pairs.flatMap(([, p]) => {
      const list = [{ abstractSyntax: p.sopClass, transferSyntaxes: [p.transferSyntax] }];
      const other = nativeSyntaxes.find((ts) => ts !== p.transferSyntax);
      if (nativeSyntaxes.includes(p.transferSyntax) && other) list.push({ abstractSyntax: p.sopClass, transferSyntaxes: [other] });
      return list;
    });
    const association = await AssociationRequestor.connect({
      host: this.config.host,
      port: this.config.port,
      callingAeTitle: this.config.callingAeTitle,
      calledAeTitle: this.config.calledAeTitle,
      contexts,
      connectTimeoutMs: this.config.connectTimeoutMs,
      maxPduLength: this.config.maxPduLength,
      tls: this.tls,
    });
    const member: PooledAssociation = { association, pairs: new Set(pairs.map(([k]) => k)), busy: false };
    this.members.push(member);
    void association.closed().then(() => this.remove(member));
    return member;
  }

  private remove(member: PooledAssociation): void {
    const i = this.members.indexOf(member);
    if (i >= 0) this.members.splice(i, 1);
    if (member.idleTimer) clearTimeout(member.idleTimer);
    this.waiters.shift()?.();
  }

  private prune(): void {
    for (const m of [...this.members]) if (m.association.state !== 'established' && !m.busy) this.remove(m);
  }

  private async retire(member: PooledAssociation): Promise<void> {
    if (member.busy) return;
    this.remove(member);
    await member.association.release().catch(() => undefined);
  }

  async close(): Promise<void> {
    this.closed = true;
    await Promise.all([...this.members].map((m) => m.association.release().catch(() => undefined)));
    this.members.length = 0;
    for (const w of this.waiters.splice(0)) w();
  }
}

export class DicomForwardDestination implements DestinationConnector {
  private pool: ScuPool;
  private dataDir = '.';
  private log?: Logger;

  constructor(private readonly config: DicomForwardConfig) {
    this.pool = new ScuPool(config);
  }

  async start(services: ConnectorServices): Promise<void> {
    this.dataDir = services.dataDir;
    this.log = services.log;
    // TLS files name the engine's certs folder, known only now: the pool is rebuilt with them.
    if (this.config.tls?.enabled) {
      await this.pool.close();
      this.pool = new ScuPool(this.config, clientTlsOptions(this.config.tls, services.certsDir, this.config.host));
    }
  }

  async send(message: OutboundMessage, context: DeliveryContext): Promise<DeliveryResult> {
    const instance = this.parse(message);
    const file = this.resolveFile(instance);
    let layout;
    try {
      layout = await readPart10FileLayout(file);
    } catch (err) {
      throw new PermanentDeliveryError(`cannot read ${file}: ${(err as Error).message}`);
    }
    const { sopClassUid, sopInstanceUid, transferSyntax } = layout.meta;
    const started = Date.now();
    try {
      return await this.pool.withAssociation(sopClassUid, transferSyntax, async (association) => {
        const abort = () => association.abortAssociation('delivery aborted');
        context.signal.addEventListener('abort', abort, { once: true });
        try {
          let ctx = association.findContext(sopClassUid, transferSyntax);
          let dataset: Buffer | { path: string; offset: number; length: number } = { path: file, offset: layout.datasetOffset, length: layout.size - layout.datasetOffset };
          if (!ctx) {
            const fallback = nativeSyntaxes.includes(transferSyntax) ? association.findContext(sopClassUid) : undefined;
            if (!fallback || !nativeSyntaxes.includes(fallback.transferSyntax)) {
              throw new PermanentDeliveryError(`${this.config.calledAeTitle} accepts no presentation context for SOP class ${sopClassUid} in transfer syntax ${transferSyntax} (no transcoding of compressed data)`);
            }
            ctx = fallback;
            dataset = await transcodeNative(file, layout.datasetOffset, transferSyntax, fallback.transferSyntax);
          }
          const responses = await withTimeout(
            association.request(ctx.id, { CommandField: CommandField.CStoreRequest, AffectedSOPClassUID: sopClassUid, AffectedSOPInstanceUID: sopInstanceUid, Priority: 0 }, dataset),
            this.config.responseTimeoutMs,
            () => association.abortAssociation(`no C-STORE response within ${this.config.responseTimeoutMs} ms`),
          );
          const final = responses[responses.length - 1];
          const status = Number(final.command.Status);
          const comment = final.command.ErrorComment ? `: ${final.command.ErrorComment}` : '';
          const summary = `C-STORE ${sopInstanceUid} to ${this.config.calledAeTitle}: ${statusHex(status)}${comment} (${Date.now() - started} ms)`;
          if (status === Status.Success || (status & 0xf000) === 0xb000) return { response: summary };
          if (isRetryable(status)) throw new Error(summary);
          throw new PermanentDeliveryError(summary, summary);
        } finally {
          context.signal.removeEventListener('abort', abort);
        }
      }, context.signal);
    } catch (err) {
      if (err instanceof PermanentDeliveryError) throw err;
      if (err instanceof AssociationRejectedError) throw new Error(`${this.config.calledAeTitle} at ${this.config.host}:${this.config.port} rejected the association (${err.message}): check the AE configuration`);
      throw err;
    }
  }

  private parse(message: OutboundMessage): InstanceMessage {
    if (message.contentType !== DICOM_INSTANCE_CONTENT_TYPE) {
      throw new PermanentDeliveryError(`dicom-forward sends DICOM instances (${DICOM_INSTANCE_CONTENT_TYPE}), not ${message.contentType}: filter other messages out of this destination`);
    }
    let body: InstanceMessage;
    try {
      body = JSON.parse(message.content.toString('utf8')) as InstanceMessage;
    } catch (err) {
      throw new PermanentDeliveryError(`instance message is not JSON: ${(err as Error).message}`);
    }
    if (body.type !== 'dicom-instance' || !body.file) throw new PermanentDeliveryError('instance message names no file');
    return body;
  }

  private resolveFile(instance: InstanceMessage): string {
    if (instance.dataDirPath) return path.resolve(this.dataDir, instance.dataDirPath);
    return instance.file;
  }

  async stop(): Promise<void> {
    await this.pool.close();
  }
}

/** 0xA7xx out of resources, 0x0110 processing failure, 0x0213 resource limitation: try again later. */
function isRetryable(status: number): boolean {
  return (status & 0xff00) === 0xa700 || status === Status.ProcessingFailure || status === Status.ResourceLimitation;
}

function withTimeout<T>(work: Promise<T>, ms: number, onTimeout: () => void): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(new Error(`no response within ${ms} ms`));
    }, ms);
    work.then(
      (v) => {
        clearTimeout(timer);
        resolve(v);
      },
      (e) => {
        clearTimeout(timer);
        reject(e);
      },
    );
  });
}

async function transcodeNative(file: string, datasetOffset: number, from: string, to: string): Promise<Buffer> {
  const bytes = await readFile(file);
  const dataset = new Dataset(bytes.subarray(datasetOffset), from, { ignoreErrors: false });
  return new Dataset(dataset.getElements(), to).getDenaturalizedDataset();
}

export const dicomForwardConnector: ConnectorDefinition<DicomForwardConfig> = {
  type: 'dicom-forward',
  description: 'C-STORE of received DICOM instances to a PACS (associations reused, engine queue retries)',
  configSchema: dicomForwardSchema,
  createDestination: (config) => new DicomForwardDestination(config),
};

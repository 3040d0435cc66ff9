// The `bhyt-gateway` destination: delivers claims to the BHXH gateway through the engine's queue.
// The message is either a GIAMDINHHS envelope (one episode; signed here when it is not) or JSON
// {"maLk": "..."} to build the claim from the HIS. Idempotency is the claim store's: a version is
// sent at most once, so a redelivery of the same message does not send the claim again.
import { z } from 'zod';
import { type ConnectorDefinition, type ConnectorServices, type DestinationConnector, type OutboundMessage, PermanentDeliveryError } from '../engine/connectors/types';
import { HIS_SERVICE, type HisLookups } from '../his/lookups';
import { formatFinding, type Finding } from './model';
import { loadClaimSource, prepareClaim, saveClaim, facilityLevel } from './pipeline';
import { CLAIMS_SERVICE, ClaimsService } from './service';
import { sha256 } from './store';
import type { SubmitOutcome } from './submit';
import { validateBuffer } from './validator/validate';

export const bhytGatewayConfigSchema = z.object({
  /** `test`, `production` or a URL (the simulator); default: the claims configuration's host. */
  host: z.string().optional(),
});
export type BhytGatewayConfig = z.infer<typeof bhytGatewayConfigSchema>;

class BhytGatewayDestination implements DestinationConnector {
  private service?: ClaimsService;
  private owned = false;

  constructor(private readonly config: BhytGatewayConfig) {}

  async start(services: ConnectorServices): Promise<void> {
    this.service = services.lookup<ClaimsService>(CLAIMS_SERVICE);
    if (!this.service) {
      this.service = new ClaimsService({ dataDir: services.dataDir, certsDir: services.certsDir, lookups: services.lookup<HisLookups>(HIS_SERVICE) });
      this.owned = true;
    }
  }

  async stop(): Promise<void> {
    if (this.owned) this.service?.close();
  }

  async send(message: OutboundMessage): Promise<{ response: string }> {
    const service = this.service;
    if (!service) throw new Error('bhyt-gateway destination is not started');
    const text = message.content.toString('utf8').trim();
    const { maLk, version } = text.startsWith('{') ? await this.fromHis(service, text) : await this.fromEnvelope(service, message.content);
    const host = this.config.host;
    const outcome = await service.submit(maLk, version, host ? (await import('./config')).gatewayUrl(host) : undefined);
    return { response: this.settle(outcome) };
  }

  private async fromHis(service: ClaimsService, text: string): Promise<{ maLk: string; version: number }> {
    let maLk: unknown;
    try {
      maLk = (JSON.parse(text) as { maLk?: unknown }).maLk;
    } catch (e) {
      throw new PermanentDeliveryError(`the message is neither a GIAMDINHHS envelope nor JSON {"maLk": …}: ${(e as Error).message}`);
    }
    if (typeof maLk !== 'string' || !maLk) throw new PermanentDeliveryError('the JSON message has no "maLk" string');
    if (!service.lookups) throw new PermanentDeliveryError('building a claim needs the HIS service');
    const source = await loadClaimSource(service.lookups, maLk);
    const prepared = await prepareClaim(source, {
      version: service.config.version,
      signer: service.signer(),
      signerHealthId: service.config.signerHealthId,
      validation: { facilityLevel: service.config.facilityLevel ?? facilityLevel(source.facility), maCskcb: source.facility.code },
    });
    const saved = saveClaim(service.store, prepared);
    if (prepared.errors) throw new PermanentDeliveryError(errorsText(maLk, prepared.findings));
    return { maLk, version: saved.version };
  }

  private async fromEnvelope(service: ClaimsService, content: Buffer): Promise<{ maLk: string; version: number }> {
    const result = await validateBuffer(content, { version: service.config.version, facilityLevel: service.config.facilityLevel });
    if (result.envelope.kind !== 'envelope') throw new PermanentDeliveryError(`the message is a ${result.envelope.kind} document, not a GIAMDINHHS envelope`);
    if (result.episodes.length !== 1) throw new PermanentDeliveryError(`the envelope holds ${result.episodes.length} episodes; send one episode per message`);
    const maLk = result.episodes[0].maLk;
    if (!maLk) throw new PermanentDeliveryError('the envelope has no XML1 MA_LK');
    if (result.errors) throw new PermanentDeliveryError(errorsText(maLk, result.findings));
    let xml = content.toString('utf8');
    if (!result.envelope.signed) xml = await service.signer().signCanonical(xml);
    // What the claim says, independent of its signature and file date.
    const contentSha256 = sha256(xml.replace(/<CHUKYDONVI>[\s\S]*<\/CHUKYDONVI>/, '').replace(/<NGAYLAP>[^<]*<\/NGAYLAP>/, ''));
    const saved = service.store.saveBuilt({ maLk, formatVersion: result.episodes[0].version, summary: {}, errors: 0, warnings: result.warnings, findings: result.findings, contentSha256, envelope: Buffer.from(xml, 'utf8') });
    return { maLk, version: saved.version };
  }

  /** Accepted (now or before): done. Certainly not delivered: retry. Refused or unknown: dead-letter for a person. */
  private settle(o: SubmitOutcome): string {
    const summary = JSON.stringify({ maLk: o.maLk, version: o.version, status: o.status, skipped: o.skipped, maGiaoDich: o.receipt?.maGiaoDich, maKetQua: o.receipt?.maKetQua, thongDiep: o.receipt?.thongDiep });
    if (o.status === 'accepted') return summary;
    if (o.retryable || o.status === 'sending') throw new Error(`${o.maLk} v${o.version}: ${o.receipt?.error ?? o.receipt?.thongDiep ?? o.skipped ?? o.status}`);
    throw new PermanentDeliveryError(`${o.maLk} v${o.version} ${o.status}: ${o.receipt?.thongDiep ?? o.receipt?.error ?? o.skipped ?? ''}`, summary);
  }
}

function errorsText(maLk: string, findings: Finding[]): string {
  const errors = findings.filter((f) => f.severity === 'error');
  return `${maLk}: ${errors.length} validation error(s): ${errors.slice(0, 10).map(formatFinding).join(' | ')}`;
}

export const bhytGatewayConnector: ConnectorDefinition<BhytGatewayConfig> = {
  type: 'bhyt-gateway',
  description: 'BHYT claims to the BHXH assessment gateway (signed GIAMDINHHS envelope or {"maLk"} built from the HIS; each claim version sent at most once)',
  configSchema: bhytGatewayConfigSchema,
  createDestination: (config) => new BhytGatewayDestination(bhytGatewayConfigSchema.parse(config ?? {})),
};

// The claims service: one object that the CLI, the REST router and the gateway connector share. It
// owns the claims store (data/claims.sqlite), the secret box for gateway passwords, the facility
// signer, and (when the engine runs) the HIS lookups.
import fs from 'node:fs';
import path from 'node:path';
import type { HisLookups } from '../his/lookups';
import { ensureEngineCertificates } from '../engine/certs/certificates';
import { type ClaimsConfig, claimsConfigSchema, gatewayUrl } from './config';
import { GatewayClient } from './gateway/client';
import { type GatewayCredentials, loadCredentials, SecretBox, storeCredentials } from './gateway/credentials';
import { type BuildRunSummary, buildPeriod, type PreparedClaim, facilityLevel } from './pipeline';
import { ClaimWorkerPool } from './parallel';
import { ClaimSigner, type SigningIdentity } from './signer/sign';
import { ClaimStore, type SaveOutcome } from './store';
import { ClaimSubmitter, type SubmitOutcome } from './submit';

/** Name under which the engine's service registry holds the claims service. */
export const CLAIMS_SERVICE = 'claims';

export interface ClaimsServiceOptions {
  dataDir: string;
  certsDir: string;
  config?: Partial<ClaimsConfig>;
  lookups?: HisLookups;
  /** Overrides the signing key and certificate from configuration (tests). */
  signing?: SigningIdentity;
  /** Overrides the signer from configuration (tests). */
  signer?: ClaimSigner;
}

export class ClaimsService {
  readonly store: ClaimStore;
  readonly config: ClaimsConfig;
  private readonly box: SecretBox;
  private signerCache?: ClaimSigner;
  private clients = new Map<string, GatewayClient>();

  constructor(private readonly options: ClaimsServiceOptions) {
    this.config = claimsConfigSchema.parse(options.config ?? {});
    this.store = ClaimStore.inDataDir(options.dataDir);
    this.box = SecretBox.forDataDir(options.dataDir);
    this.signerCache = options.signer;
    // A send interrupted by a crash may have reached the gateway: never resend it blindly.
    this.store.recoverInterrupted();
  }

  get lookups(): HisLookups | undefined {
    return this.options.lookups;
  }

  /** The facility's key and certificate: the configured files, or the engine's signing certificate. */
  signingIdentity(): SigningIdentity {
    if (this.options.signing) return this.options.signing;
    const { keyFile, certFile } = this.config.signing;
    if (keyFile && certFile) return { keyPem: fs.readFileSync(keyFile, 'utf8'), certPem: fs.readFileSync(certFile, 'utf8') };
    return ensureEngineCertificates(this.options.certsDir).signing;
  }

  /** The facility signer (see signingIdentity). */
  signer(): ClaimSigner {
    this.signerCache ??= new ClaimSigner(this.signingIdentity());
    return this.signerCache;
  }

  setCredentials(credentials: GatewayCredentials, profile = this.config.gateway.profile): void {
    storeCredentials(this.store, this.box, profile, credentials);
    this.clients.clear();
  }

  hasCredentials(profile = this.config.gateway.profile): boolean {
    return this.store.credentials(profile) !== undefined;
  }

  /** A gateway client for the configured host (or `baseUrl`) with the stored credentials. */
  async client(baseUrl?: string): Promise<GatewayClient> {
    const url = baseUrl ?? gatewayUrl(this.config.gateway.host);
    const cached = this.clients.get(url);
    if (cached) return cached;
    const credentials = loadCredentials(this.store, this.box, this.config.gateway.profile);
    if (!credentials) throw new Error(`no gateway credentials for profile "${this.config.gateway.profile}": run hisbridge claims credentials --username <account>`);
    const maCskcb = this.config.maCskcb ?? (await this.options.lookups?.facility())?.code;
    if (!maCskcb) throw new Error('the facility code (maCSKCB) is unknown: set maCskcb in claims.config.yaml or connect the HIS');
    const client = new GatewayClient({ baseUrl: url, credentials, maCskcb, version: this.config.version, timeoutMs: this.config.gateway.timeoutMs });
    this.clients.set(url, client);
    return client;
  }

  /**
   * Builds, validates, signs and stores the claims of the visits discharged in [from, to), on
   * `workers` worker threads when given (default: the configured build.workers; 0 = this thread).
   */
  async build(period: { from: string; to: string }, onClaim?: (p: PreparedClaim, s: SaveOutcome) => void, options: { workers?: number } = {}): Promise<BuildRunSummary> {
    const lookups = this.options.lookups;
    if (!lookups) throw new Error('building claims needs the HIS (the "his" service)');
    const facility = await lookups.facility();
    const prepare = {
      version: this.config.version,
      signerHealthId: this.config.signerHealthId,
      validation: { facilityLevel: this.config.facilityLevel ?? facilityLevel(facility), maCskcb: facility.code },
    };
    const workers = options.workers ?? this.config.build.workers;
    const pool = workers > 0 ? new ClaimWorkerPool({ threads: workers, signing: this.signingIdentity(), prepare }) : undefined;
    try {
      return await buildPeriod(lookups, this.store, period, { ...prepare, signer: this.signer(), onClaim, pool });
    } finally {
      await pool?.close();
    }
  }

  async submit(maLk: string, version?: number, baseUrl?: string): Promise<SubmitOutcome> {
    return new ClaimSubmitter(this.store, await this.client(baseUrl)).submit(maLk, version);
  }

  async submitPending(baseUrl?: string): Promise<SubmitOutcome[]> {
    const g = this.config.gateway;
    return new ClaimSubmitter(this.store, await this.client(baseUrl)).submitPending({ maxAttempts: g.maxAttempts, backoffMs: g.backoffMs });
  }

  close(): void {
    this.store.close();
  }

  static dataFile(dataDir: string): string {
    return path.join(dataDir, 'claims.sqlite');
  }
}

// From the HIS to stored, signed claims: for each discharged visit of a period, build the tables,
// validate them, wrap them in a GIAMDINHHS envelope (one episode per file, as the 3176 guide asks),
// sign it, and store the version with its findings. Claims with errors are stored unsigned, with
// their findings, so the console can list what to fix.
import { createHash } from 'node:crypto';
import type { HisLookups } from '../his/lookups';
import { type BillingLine, type Facility, toHospitalDate } from '../model';
import { type BuildOptions, type ClaimSource, buildEpisode, type BuildNote } from './builder/build';
import type { Episode, Finding } from './model';
import type { ClaimWorkerPool } from './parallel';
import { ClaimSigner } from './signer/sign';
import type { FacilityLevel } from './spec/codelists';
import { type ClaimStore, type SaveOutcome } from './store';
import { type ValidationOptions, validateEpisode } from './validator/validate';
import { buildEnvelopeBytes, episodeFiles } from './xml/writer';

export interface PrepareOptions extends BuildOptions {
  validation?: ValidationOptions;
  signer?: ClaimSigner;
  /** NGAYLAP of the envelope (yyyyMMdd); default today in hospital time. */
  ngayLap?: string;
}

export interface PreparedClaim {
  maLk: string;
  episode: Episode;
  notes: BuildNote[];
  findings: Finding[];
  errors: number;
  warnings: number;
  /** Hash of the inner tables (what the claim says). */
  contentSha256: string;
  /** The envelope, signed when a signer was given; absent when the claim has errors. */
  envelope?: Buffer;
}

export function facilityLevel(facility: Facility): FacilityLevel | undefined {
  switch (facility.level) {
    case 'central':
      return 'central';
    case 'province':
      return 'provincial';
    case 'district':
      return 'district';
    case 'commune':
      return 'commune';
    default:
      return undefined;
  }
}

export async function prepareClaim(source: ClaimSource, options: PrepareOptions = {}): Promise<PreparedClaim> {
  const { prepared, unsigned } = buildAndValidate(source, options);
  if (unsigned !== undefined) prepared.envelope = options.signer ? await options.signer.signEnvelopeBytes(unsigned) : unsigned;
  return prepared;
}

/** prepareClaim with the signature computed on the calling thread (worker threads: claims/parallel.ts). */
export function prepareClaimSync(source: ClaimSource, options: PrepareOptions = {}): PreparedClaim {
  const { prepared, unsigned } = buildAndValidate(source, options);
  if (unsigned !== undefined) prepared.envelope = options.signer ? options.signer.signEnvelopeBytesSync(unsigned) : unsigned;
  return prepared;
}

/** Build, validate and serialize; the envelope bytes (unsigned) only when there are no errors. */
function buildAndValidate(source: ClaimSource, options: PrepareOptions): { prepared: PreparedClaim; unsigned?: Buffer } {
  const { episode, notes } = buildEpisode(source, options);
  const validation: ValidationOptions = { facilityLevel: facilityLevel(source.facility), maCskcb: source.facility.code, ...options.validation };
  const result = validateEpisode(episode, validation);
  // Each inner document is UTF-8 encoded once: the same bytes are hashed and base64-encoded.
  const files = episodeFiles(episode).map((f) => ({ loaiHoSo: f.loaiHoSo, document: typeof f.document === 'string' ? Buffer.from(f.document, 'utf8') : f.document }));
  const hash = createHash('sha256');
  files.forEach((f, i) => hash.update(`${i ? '\n' : ''}${f.loaiHoSo}\n`).update(f.document));
  const contentSha256 = hash.digest('hex');
  const prepared: PreparedClaim = { maLk: source.visit.maLk, episode, notes, findings: result.findings, errors: result.errors, warnings: result.warnings, contentSha256 };
  if (result.errors > 0) return { prepared };
  return { prepared, unsigned: buildEnvelopeBytes({ maCskcb: source.facility.code, ngayLap: options.ngayLap ?? toHospitalDate(new Date()).replace(/-/g, ''), hoso: [files] }) };
}

export function saveClaim(store: ClaimStore, prepared: PreparedClaim): SaveOutcome {
  const x1 = prepared.episode.tables.XML1?.[0]?.fields ?? {};
  return store.saveBuilt({
    maLk: prepared.maLk,
    formatVersion: prepared.episode.version,
    summary: {
      maBn: x1.MA_BN,
      hoTen: x1.HO_TEN,
      maThe: x1.MA_THE_BHYT,
      maLoaiKcb: x1.MA_LOAI_KCB,
      ngayVao: x1.NGAY_VAO,
      ngayRa: x1.NGAY_RA,
      period: x1.NAM_QT && x1.THANG_QT ? `${x1.NAM_QT}-${x1.THANG_QT.padStart(2, '0')}` : undefined,
      tTongChiBv: x1.T_TONGCHI_BV,
      tBhtt: x1.T_BHTT,
    },
    errors: prepared.errors,
    warnings: prepared.warnings,
    findings: prepared.findings,
    contentSha256: prepared.contentSha256,
    envelope: prepared.envelope,
  });
}

/** Reads everything the builder needs for one visit from the HIS. */
export async function loadClaimSource(lookups: HisLookups, maLk: string, facility?: Facility): Promise<ClaimSource> {
  const visit = await lookups.visitByMaLk(maLk);
  if (!visit) throw new Error(`the HIS has no visit ${maLk}`);
  const [patient, lines, results, observations, fac, documents] = await Promise.all([
    lookups.patientById(visit.patientId),
    lookups.billingLinesForVisit(maLk),
    lookups.resultsForVisit(maLk),
    lookups.observationsForVisit(maLk),
    facility ? Promise.resolve(facility) : lookups.facility(),
    lookups.documentsForVisit?.(maLk),
  ]);
  if (!patient) throw new Error(`the HIS has no patient ${visit.patientId} (visit ${maLk})`);
  return { facility: fac, patient, visit, lines: lines as BillingLine[], results: results.results, reports: results.reports, observations, documents };
}

export interface BuildRunSummary {
  visits: number;
  created: number;
  updated: number;
  unchanged: number;
  withErrors: number;
  withWarnings: number;
  failed: Array<{ maLk: string; error: string }>;
}

/** Builds and stores the claims of every visit discharged in [from, to) (ISO dates or date-times). */
export async function buildPeriod(
  lookups: HisLookups,
  store: ClaimStore,
  period: { from: string; to: string },
  options: PrepareOptions & {
    onClaim?(prepared: PreparedClaim, saved: SaveOutcome): void;
    pageSize?: number;
    /**
     * Worker threads that prepare each page of claims (claims/parallel.ts). It must have been made
     * with the same build and validation options and the same signing identity as `options`.
     */
    pool?: ClaimWorkerPool;
  } = {},
): Promise<BuildRunSummary> {
  const summary: BuildRunSummary = { visits: 0, created: 0, updated: 0, unchanged: 0, withErrors: 0, withWarnings: 0, failed: [] };
  const facility = await lookups.facility();
  const store1 = (prepared: PreparedClaim) => {
    const saved = saveClaim(store, prepared);
    summary[saved.action]++;
    if (prepared.errors) summary.withErrors++;
    else if (prepared.warnings) summary.withWarnings++;
    options.onClaim?.(prepared, saved);
  };
  let afterMaLk: string | undefined;
  for (;;) {
    const visits = await lookups.visitsForClaims({ from: period.from, to: period.to, limit: options.pageSize ?? 200, afterMaLk });
    if (visits.length === 0) break;
    summary.visits += visits.length;
    if (options.pool) {
      // Read the page from the HIS here, prepare it on the workers, store it here in order.
      const sources: ClaimSource[] = [];
      for (const visit of visits) {
        try {
          sources.push(await loadClaimSource(lookups, visit.maLk, facility));
        } catch (err) {
          summary.failed.push({ maLk: visit.maLk, error: (err as Error).message });
        }
      }
      for (const item of await options.pool.prepareSettled(sources)) {
        try {
          if (item.error !== undefined) throw new Error(item.error.split('\n')[0].replace(/^Error: /, ''));
          store1(item.prepared);
        } catch (err) {
          summary.failed.push({ maLk: item.maLk, error: (err as Error).message });
        }
      }
    } else {
      for (const visit of visits) {
        try {
          store1(await prepareClaim(await loadClaimSource(lookups, visit.maLk, facility), options));
        } catch (err) {
          summary.failed.push({ maLk: visit.maLk, error: (err as Error).message });
        }
      }
    }
    afterMaLk = visits[visits.length - 1].maLk;
  }
  return summary;
}

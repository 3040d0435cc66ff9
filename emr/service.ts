// The EMR service: builds a document from the canonical model, signs it, derives its FHIR resources
// and stores it. Publishing the same source again is idempotent (same inputs → the stored document
// is kept), and changed inputs (a corrected result, an amended report) make a new version that
// replaces the previous one (RPLC). `buildForVisit` assembles every document of a visit from the HIS.
import type { Facility, ImagingOrder, LabOrder, Result, Staff, StaffRef } from '../model';
import type { HisLookups } from '../his/lookups';
import type { StudyLookup } from './imaging';
import type { EmrOids } from './oids';
import { buildDocument, inputHashOf, prepareDocument, type InputOf, type Prepared } from './prepare';
import type { SigningIdentity } from './sign/keys';
import type { DocumentMeta, DocumentStore, InsertDocument } from './store/document-store';
import {
  EmrInputError,
  type BuiltDocument,
  type Clinician,
  type DischargeSummaryInput,
  type DocumentContext,
  type EmrDocumentType,
  type ImagingReportInput,
  type LabReportInput,
  type VitalSignsInput,
} from './types';

export const EMR_SERVICE = 'emr';

export interface PublishOutcome {
  type: EmrDocumentType;
  sourceKey: string;
  status: 'created' | 'corrected' | 'unchanged' | 'error';
  document?: DocumentMeta;
  /** The problem, naming the missing element, when status is `error`. */
  error?: string;
  element?: string;
  warnings?: string[];
}

export interface EmrServiceOptions {
  store: DocumentStore;
  oids: EmrOids;
  identity: SigningIdentity;
  facility: Facility;
  studies?: StudyLookup;
  now?: () => Date;
}

export class EmrService {
  readonly store: DocumentStore;
  readonly oids: EmrOids;
  private readonly identity: SigningIdentity;
  readonly facility: Facility;
  private readonly studies?: StudyLookup;
  private readonly now: () => Date;

  constructor(options: EmrServiceOptions) {
    this.store = options.store;
    this.oids = options.oids;
    this.identity = options.identity;
    this.facility = options.facility;
    this.studies = options.studies;
    this.now = options.now ?? (() => new Date());
  }

  /** Who signs: the certificate's subject, issuer and expiry. */
  signer(): { subject: string; issuer: string; validTo: string; fingerprint256: string } {
    const c = this.identity.certificate;
    return { subject: c.subject.replace(/\n/g, ', '), issuer: c.issuer.replace(/\n/g, ', '), validTo: c.validTo, fingerprint256: c.fingerprint256 };
  }

  /** Builds the unsigned document (no store): what the benchmark baseline measures. */
  build<T extends EmrDocumentType>(type: T, ctx: DocumentContext, input: InputOf<T>): BuiltDocument {
    return buildDocument(this.oids, type, ctx, input, this.now);
  }

  /** What a worker needs to build and sign like this service (emr/parallel.ts). */
  environment(): { oids: EmrOids; facility: Facility; identity: SigningIdentity } {
    return { oids: this.oids, facility: this.facility, identity: this.identity };
  }

  /**
   * Builds, signs and stores one document for a source (`lab-report:<order id>`…). Unchanged inputs
   * keep the stored document; changed inputs store a new version replacing it. Missing mandatory
   * data throws EmrInputError (nothing is stored).
   */
  publish<T extends EmrDocumentType>(type: T, ctx: DocumentContext, input: InputOf<T>, sourceKey: string): PublishOutcome {
    const prepared = this.prepare(type, ctx, input, sourceKey);
    if (!('insert' in prepared)) return prepared;
    const [document] = this.store.insertMany([prepared.insert]);
    return { ...prepared.outcome, document };
  }

  /**
   * Many documents at once (back-fills, benchmarks): each is built and signed, then all are stored
   * in one transaction. Missing data makes that item an `error` outcome; the others are stored.
   */
  publishMany(items: Array<{ type: EmrDocumentType; ctx: DocumentContext; input: unknown; sourceKey: string }>): PublishOutcome[] {
    const outcomes: PublishOutcome[] = new Array(items.length);
    let pending: Array<{ index: number; insert: InsertDocument; outcome: PublishOutcome }> = [];
    const inBatch = new Set<string>();
    const flush = () => {
      const stored = this.store.insertMany(pending.map((p) => p.insert));
      pending.forEach((p, k) => (outcomes[p.index] = { ...p.outcome, document: stored[k] }));
      pending = [];
      inBatch.clear();
    };
    items.forEach((item, index) => {
      // A second version of a source in the same batch needs the first one stored.
      if (inBatch.has(item.sourceKey)) flush();
      try {
        const prepared = this.prepare(item.type, item.ctx, item.input as InputOf<EmrDocumentType>, item.sourceKey);
        if (!('insert' in prepared)) outcomes[index] = prepared;
        else {
          pending.push({ index, ...prepared });
          inBatch.add(item.sourceKey);
        }
      } catch (error) {
        if (!(error instanceof EmrInputError)) throw error;
        outcomes[index] = { type: item.type, sourceKey: item.sourceKey, status: 'error', error: error.message, element: error.element };
      }
    });
    if (pending.length) flush();
    return outcomes;
  }

  /** Everything but the store: version, build, signature, FHIR resources. */
  private prepare<T extends EmrDocumentType>(type: T, ctx: DocumentContext, input: InputOf<T>, sourceKey: string): PublishOutcome | Prepared {
    const inputHash = inputHashOf(type, ctx, input);
    const previous = this.store.currentBySource(sourceKey);
    if (previous && previous.inputHash === inputHash) return { type, sourceKey, status: 'unchanged', document: previous };
    return prepareDocument({ oids: this.oids, facility: this.facility, identity: this.identity, now: this.now }, { type, ctx, input, sourceKey, inputHash, previous });
  }

  /** Like publish, but a missing element becomes an `error` outcome instead of an exception. */
  tryPublish<T extends EmrDocumentType>(type: T, ctx: DocumentContext, input: InputOf<T>, sourceKey: string): PublishOutcome {
    try {
      return this.publish(type, ctx, input, sourceKey);
    } catch (error) {
      if (error instanceof EmrInputError) return { type, sourceKey, status: 'error', error: error.message, element: error.element };
      throw error;
    }
  }

  /** Every document of one visit, read from the HIS: lab reports, imaging reports, vitals, discharge summary. */
  async buildForVisit(his: HisLookups, maLk: string): Promise<PublishOutcome[]> {
    const visit = await his.visitByMaLk(maLk);
    if (!visit) throw new EmrInputError('componentOf/encompassingEncounter/id', `visit ${maLk} not found in the HIS`);
    const patient = await his.patientById(visit.patientId);
    if (!patient) throw new EmrInputError('recordTarget', `patient ${visit.patientId} of visit ${maLk} not found in the HIS`);
    const department = await his.departmentByCode(visit.departmentCode);
    const base: DocumentContext = { facility: this.facility, patient, visit, department };
    const outcomes: PublishOutcome[] = [];
    const { results, reports } = await his.resultsForVisit(maLk);

    const byOrder = new Map<string, Array<Result & { orderId: string }>>();
    for (const r of results) byOrder.set(r.orderId, [...(byOrder.get(r.orderId) ?? []), r]);
    for (const [orderId, orderResults] of byOrder) {
      const order = await his.orderById(orderId);
      const sourceKey = `lab-report:${orderId}`;
      if (!order || order.kind !== 'lab') {
        outcomes.push({ type: 'lab-report', sourceKey, status: 'error', element: 'inFulfillmentOf/order', error: `inFulfillmentOf/order: lab order ${orderId} not found in the HIS` });
        continue;
      }
      const current = orderResults.filter((r) => r.status !== 'superseded').map(({ orderId: _o, ...r }) => r as Result);
      const verifier = current.find((r) => r.verifiedBy)?.verifiedBy;
      const author = await this.clinician(his, verifier);
      const authoredAt = current.map((r) => r.resultedAt ?? r.observedAt).sort().at(-1);
      outcomes.push(this.tryPublish('lab-report', { ...base, author, authoredAt }, { order: order as LabOrder, results: current }, sourceKey));
    }

    for (const report of reports) {
      const order = await his.orderByAccession(report.accessionNumber);
      const author = await this.clinician(his, report.radiologist);
      const known = this.studies?.byAccession(report.accessionNumber) ?? (report.studyInstanceUid ? this.studies?.byUid(report.studyInstanceUid) : undefined);
      const study = known ? { studyInstanceUid: known.studyInstanceUid, modality: known.modality, description: known.description, startedAt: known.startedAt, seriesCount: known.seriesCount, instanceCount: known.instanceCount } : undefined;
      outcomes.push(this.tryPublish('imaging-report', { ...base, author, authoredAt: report.reportedAt }, { report, order: order as ImagingOrder | undefined, study }, `imaging-report:${report.accessionNumber}`));
    }

    const observations = await his.observationsForVisit(maLk);
    const attending = await this.clinician(his, visit.attending);
    if (observations.length > 0) outcomes.push(this.tryPublish('vital-signs', { ...base, author: attending }, { observations }, `vital-signs:${maLk}`));

    // A discharge summary closes an inpatient or emergency stay (outpatient visits have none).
    if (visit.dischargedAt && visit.kind !== 'outpatient') {
      const lines = await his.billingLinesForVisit(maLk);
      outcomes.push(
        this.tryPublish(
          'discharge-summary',
          { ...base, author: attending, authoredAt: visit.dischargedAt },
          { visit, results: results.map(({ orderId: _o, ...r }) => r as Result), reports, observations, medications: lines.filter((l) => l.kind === 'drug') },
          `discharge-summary:${maLk}`,
        ),
      );
    }
    return outcomes;
  }

  /** A staff reference completed from the HIS staff list (title, name, CCHN). */
  private async clinician(his: HisLookups, ref: StaffRef | undefined): Promise<Clinician | undefined> {
    if (!ref) return undefined;
    let staff: Staff | undefined;
    try {
      staff = ref.id ? await his.staffById(ref.id) : ref.practisingCertificate ? await his.staffByCertificate(ref.practisingCertificate) : undefined;
    } catch {
      staff = undefined;
    }
    return { id: ref.id, name: ref.name ?? staff?.fullName, practisingCertificate: ref.practisingCertificate ?? staff?.practisingCertificate, title: staff?.title };
  }
}


// The EMR service: builds a document from the canonical model, signs it, derives its FHIR resources
// and stores it. Publishing the same source again is idempotent (same inputs → the stored document
// is kept), and changed inputs (a corrected result, an amended report) make a new version that
// replaces the previous one (RPLC). `buildForVisit` assembles every document of a visit from the HIS.
import crypto from 'node:crypto';
import type { Facility, ImagingOrder, LabOrder, Result, Staff, StaffRef } from '../model';
import type { HisLookups } from '../his/lookups';
import { buildDischargeSummary } from './cda/discharge-summary';
import { buildImagingReport } from './cda/imaging-report';
import { buildLabReport } from './cda/lab-report';
import { buildVitalSigns } from './cda/vital-signs';
import { documentReference, encounterResource, imagingResources, labResources, patientResource, vitalResources, type FhirResource } from './fhir/map';
import type { StudyLookup } from './imaging';
import type { EmrOids } from './oids';
import { signCanonical } from './sign/signer';
import type { SigningIdentity } from './sign/keys';
import type { DocumentMeta, DocumentStore } from './store/document-store';
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

type InputOf<T extends EmrDocumentType> = T extends 'lab-report' ? LabReportInput : T extends 'imaging-report' ? ImagingReportInput : T extends 'vital-signs' ? VitalSignsInput : DischargeSummaryInput;

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

/** Stable JSON (sorted keys) so the input hash does not depend on property order. */
function stableJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(stableJson).join(',')}]`;
  if (value && typeof value === 'object') {
    return `{${Object.keys(value)
      .filter((k) => (value as Record<string, unknown>)[k] !== undefined)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${stableJson((value as Record<string, unknown>)[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(value);
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
    const options = { now: this.now };
    switch (type) {
      case 'lab-report':
        return buildLabReport(this.oids, ctx, input as LabReportInput, options);
      case 'imaging-report':
        return buildImagingReport(this.oids, ctx, input as ImagingReportInput, options);
      case 'vital-signs':
        return buildVitalSigns(this.oids, ctx, input as VitalSignsInput, options);
      case 'discharge-summary':
        return buildDischargeSummary(this.oids, ctx, input as DischargeSummaryInput, options);
      default:
        throw new Error(`unknown document type "${type}"`);
    }
  }

  private fhirFor(type: EmrDocumentType, built: BuiltDocument, input: unknown): FhirResource[] {
    switch (type) {
      case 'lab-report':
        return labResources(this.oids, built, input as LabReportInput);
      case 'imaging-report':
        return imagingResources(this.oids, built, input as ImagingReportInput);
      case 'vital-signs':
        return vitalResources(this.oids, built, input as VitalSignsInput);
      default:
        return [];
    }
  }

  /**
   * Builds, signs and stores one document for a source (`lab-report:<order id>`…). Unchanged inputs
   * keep the stored document; changed inputs store a new version replacing it. Missing mandatory
   * data throws EmrInputError (nothing is stored).
   */
  publish<T extends EmrDocumentType>(type: T, ctx: DocumentContext, input: InputOf<T>, sourceKey: string): PublishOutcome {
    const inputHash = crypto
      .createHash('sha256')
      .update(stableJson({ type, input, patient: ctx.patient, visit: ctx.visit, author: ctx.author, legal: ctx.legalAuthenticator, facility: ctx.facility, department: ctx.department }))
      .digest('hex');
    const previous = this.store.currentBySource(sourceKey);
    if (previous && previous.inputHash === inputHash) return { type, sourceKey, status: 'unchanged', document: previous };
    const versioned: DocumentContext = previous
      ? { ...ctx, setId: previous.setId, version: previous.version + 1, replaces: { id: previous.id, setId: previous.setId, version: previous.version } }
      : ctx;
    const built = this.build(type, versioned, input);
    const signedXml = signCanonical(built.xml, this.identity);
    const size = Buffer.byteLength(signedXml, 'utf8');
    const sha1Base64 = crypto.createHash('sha1').update(signedXml, 'utf8').digest('base64');
    const fhir: FhirResource[] = [patientResource(this.oids, ctx.patient)];
    if (ctx.visit) fhir.push(encounterResource(this.oids, ctx.visit, this.facility));
    fhir.push(...this.fhirFor(type, built, input));
    fhir.push(documentReference(this.oids, built, { size, sha1Base64, status: 'current', facility: this.facility, legalAuthenticator: (ctx.legalAuthenticator ?? ctx.author)?.name }));
    const document = this.store.insert({ built, signedXml, patient: ctx.patient, sourceKey, inputHash, fhir });
    return { type, sourceKey, status: previous ? 'corrected' : 'created', document, warnings: built.warnings.length ? built.warnings : undefined };
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


// Everything a document needs before it is stored, as plain functions of their inputs (no store, no
// I/O): the input hash that tells an unchanged rebuild from a correction, the version, the CDA
// build, the signature and the FHIR resources. The service runs them in its own thread; the
// parallel publisher (emr/parallel.ts) runs them in worker threads.
import crypto from 'node:crypto';
import type { Facility } from '../model';
import { buildDischargeSummary } from './cda/discharge-summary';
import { buildImagingReport } from './cda/imaging-report';
import { buildLabReport } from './cda/lab-report';
import { buildVitalSigns } from './cda/vital-signs';
import { documentReference, encounterResource, imagingResources, labResources, patientResource, vitalResources, type FhirResource } from './fhir/map';
import type { EmrOids } from './oids';
import type { SigningIdentity } from './sign/keys';
import { signCanonical } from './sign/signer';
import type { InsertDocument } from './store/document-store';
import type { BuiltDocument, DischargeSummaryInput, DocumentContext, EmrDocumentType, ImagingReportInput, LabReportInput, VitalSignsInput } from './types';
import type { PublishOutcome } from './service';

export type InputOf<T extends EmrDocumentType> = T extends 'lab-report' ? LabReportInput : T extends 'imaging-report' ? ImagingReportInput : T extends 'vital-signs' ? VitalSignsInput : DischargeSummaryInput;

export interface PrepareEnvironment {
  oids: EmrOids;
  facility: Facility;
  identity: SigningIdentity;
  now?: () => Date;
}

/** The current version of a source, when there is one (a new build then replaces it). */
export interface PreviousVersion {
  id: string;
  setId: string;
  version: number;
}

export interface Prepared {
  insert: InsertDocument;
  outcome: PublishOutcome;
}

/** Stable JSON (sorted keys) so the input hash does not depend on property order. */
export function stableJson(value: unknown): string {
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

/** Hash of everything a document is built from (not its id or creation time). */
export function inputHashOf(type: EmrDocumentType, ctx: DocumentContext, input: unknown): string {
  return crypto
    .createHash('sha256')
    .update(stableJson({ type, input, patient: ctx.patient, visit: ctx.visit, author: ctx.author, legal: ctx.legalAuthenticator, facility: ctx.facility, department: ctx.department }))
    .digest('hex');
}

export function buildDocument<T extends EmrDocumentType>(oids: EmrOids, type: T, ctx: DocumentContext, input: InputOf<T>, now?: () => Date): BuiltDocument {
  const options = { now };
  switch (type) {
    case 'lab-report':
      return buildLabReport(oids, ctx, input as LabReportInput, options);
    case 'imaging-report':
      return buildImagingReport(oids, ctx, input as ImagingReportInput, options);
    case 'vital-signs':
      return buildVitalSigns(oids, ctx, input as VitalSignsInput, options);
    case 'discharge-summary':
      return buildDischargeSummary(oids, ctx, input as DischargeSummaryInput, options);
    default:
      throw new Error(`unknown document type "${type}"`);
  }
}

function fhirFor(oids: EmrOids, type: EmrDocumentType, built: BuiltDocument, input: unknown): FhirResource[] {
  switch (type) {
    case 'lab-report':
      return labResources(oids, built, input as LabReportInput);
    case 'imaging-report':
      return imagingResources(oids, built, input as ImagingReportInput);
    case 'vital-signs':
      return vitalResources(oids, built, input as VitalSignsInput);
    default:
      return [];
  }
}

/** Builds (as the next version of `previous`, if any), signs and derives the FHIR resources. Throws EmrInputError. */
export function prepareDocument<T extends EmrDocumentType>(
  env: PrepareEnvironment,
  job: { type: T; ctx: DocumentContext; input: InputOf<T>; sourceKey: string; inputHash: string; previous?: PreviousVersion },
): Prepared {
  const { type, ctx, input, sourceKey, inputHash, previous } = job;
  const versioned: DocumentContext = previous ? { ...ctx, setId: previous.setId, version: previous.version + 1, replaces: { id: previous.id, setId: previous.setId, version: previous.version } } : ctx;
  const built = buildDocument(env.oids, type, versioned, input, env.now);
  const signedXml = signCanonical(built.xml, env.identity);
  const size = Buffer.byteLength(signedXml, 'utf8');
  const sha1Base64 = crypto.createHash('sha1').update(signedXml, 'utf8').digest('base64');
  const fhir: FhirResource[] = [patientResource(env.oids, ctx.patient)];
  if (ctx.visit) fhir.push(encounterResource(env.oids, ctx.visit, env.facility));
  fhir.push(...fhirFor(env.oids, type, built, input));
  fhir.push(documentReference(env.oids, built, { size, sha1Base64, status: 'current', facility: env.facility, legalAuthenticator: (ctx.legalAuthenticator ?? ctx.author)?.name }));
  return {
    insert: { built, signedXml, patient: ctx.patient, sourceKey, inputHash, fhir },
    outcome: { type, sourceKey, status: previous ? 'corrected' : 'created', warnings: built.warnings.length ? built.warnings : undefined },
  };
}

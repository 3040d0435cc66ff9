// What the EMR builds documents from (the canonical model plus who signs and which version), and
// what a built document carries besides its XML: the values the viewer charts and the index rows.
import type { DateTimeString, Department, Facility, ImagingOrder, ImagingReport, LabOrder, Observation, Patient, Result, StaffRef, Visit, BillingLine } from '../model';
import type { Acvpu } from '../iomt/vitals';

export const documentTypes = ['lab-report', 'imaging-report', 'vital-signs', 'discharge-summary'] as const;
export type EmrDocumentType = (typeof documentTypes)[number];

/** A person who writes or signs a document: a HIS staff member. */
export interface Clinician extends StaffRef {
  /** Printed title: `BS.CKI`, `ThS.BS`, `KTV`. */
  title?: string;
}

/** The earlier version a correction replaces (relatedDocument typeCode RPLC). */
export interface ReplacedDocument {
  id: string;
  setId: string;
  version: number;
}

/** Everything a document header needs; the builders check it before writing anything. */
export interface DocumentContext {
  facility: Facility;
  patient: Patient;
  /** The visit (encompassingEncounter); absent only for documents outside any visit. */
  visit?: Visit;
  /** Who wrote the content (the verifying doctor, the radiologist…). Mandatory. */
  author?: Clinician;
  /** When the author wrote it (default: the document time). */
  authoredAt?: DateTimeString;
  /** Who takes legal responsibility for the signed document (default: the author). */
  legalAuthenticator?: Clinician;
  department?: Department;
  /** Document creation time (default: now). */
  createdAt?: DateTimeString;
  /** Document id (UUID); generated when absent. */
  id?: string;
  /** Set id and version: a correction keeps the set id and increments the version. */
  setId?: string;
  version?: number;
  replaces?: ReplacedDocument;
}

export interface LabReportInput {
  order: LabOrder;
  results: Result[];
}

/** A study as the DICOM side knows it (for the imaging report and ImagingStudy). */
export interface StudySummary {
  studyInstanceUid: string;
  modality?: string;
  description?: string;
  startedAt?: DateTimeString;
  seriesCount?: number;
  instanceCount?: number;
}

export interface ImagingReportInput {
  report: ImagingReport;
  order?: ImagingOrder;
  study?: StudySummary;
}

/**
 * Observations to report, plus what NEWS2 needs but the canonical Observation cannot carry: the
 * level of consciousness (ACVPU) and whether the patient was on oxygen, per measurement time.
 * Without them the NEWS2 of that time is reported as incomplete, never guessed.
 */
export interface VitalSignsInput {
  observations: Observation[];
  assessments?: Array<{ at: DateTimeString; consciousness?: Acvpu; onOxygen?: boolean }>;
}

export interface DischargeSummaryInput {
  visit: Visit;
  results?: Result[];
  reports?: ImagingReport[];
  observations?: Observation[];
  /** Drug lines of the visit (billing kind `drug`). */
  medications?: BillingLine[];
  /** Hospital course / treatment summary text, when the HIS has one. */
  courseText?: string;
}

/** A lab value as the trend charts need it. */
export interface LabValueRow {
  code: string;
  loinc?: string;
  name: string;
  valueText: string;
  valueNum: number | null;
  unit?: string;
  flag?: string;
  refLow?: number | null;
  refHigh?: number | null;
  refText?: string;
  observedAt: DateTimeString;
}

export interface VitalValueRow {
  loinc: string;
  value: number;
  unit?: string;
  effectiveAt: DateTimeString;
}

/** The NEWS2 of one measurement time, as the vitals document reports it. */
export interface News2Row {
  at: DateTimeString;
  complete: boolean;
  total?: number;
  risk?: 'low' | 'low-medium' | 'medium' | 'high';
  /** Sum of the scores of the parameters present, when incomplete. */
  partialScore?: number;
  missing?: string[];
}

/** The output of a builder: unsigned canonical XML plus what the store indexes. */
export interface BuiltDocument {
  id: string;
  setId: string;
  version: number;
  type: EmrDocumentType;
  title: string;
  /** LOINC document type code. */
  code: string;
  patientId: string;
  maLk?: string;
  /** Document creation time (ClinicalDocument/effectiveTime). */
  createdAt: DateTimeString;
  /** When the care it records happened (results released, study reported, discharge): the timeline orders by it. */
  serviceAt: DateTimeString;
  authorName: string;
  replaces?: ReplacedDocument;
  /** Unsigned document in exclusive-canonical form. */
  xml: string;
  labValues: LabValueRow[];
  vitalValues: VitalValueRow[];
  news2?: News2Row[];
  /** Non-blocking findings (e.g. no CCCD on the patient). */
  warnings: string[];
}

/** Missing or malformed mandatory data: no document is built; `element` names what is missing. */
export class EmrInputError extends Error {
  constructor(
    readonly element: string,
    reason: string,
  ) {
    super(`${element}: ${reason}`);
    this.name = 'EmrInputError';
  }
}

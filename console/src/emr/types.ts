// Shapes of what /api/emr returns (emr/api.ts), kept here so the browser bundle never imports server code.

export type DocumentType = 'lab-report' | 'imaging-report' | 'vital-signs' | 'discharge-summary';
export const DOCUMENT_TYPES: DocumentType[] = ['lab-report', 'imaging-report', 'vital-signs', 'discharge-summary'];

export interface EmrPatient {
  id: string;
  name: string;
  cccd: string | null;
  bhyt: string | null;
  birthDate: string | null;
  sex: string | null;
  documents: number;
  lastServiceAt: string | null;
  inEmr?: boolean;
}

export interface DocumentMeta {
  id: string;
  setId: string;
  version: number;
  type: DocumentType;
  title: string;
  patientId: string;
  maLk: string | null;
  serviceAt: string;
  createdAt: string;
  author: string | null;
  replaces: string | null;
  supersededBy: string | null;
  status: 'current' | 'superseded';
  size: number;
}

export interface Signature {
  status: 'valid' | 'invalid';
  reason?: string;
  signer?: { subject: string; issuer: string; validTo: string };
  checkedAt: string;
}

export interface DocumentView {
  document: DocumentMeta;
  signature: Signature;
  html: string;
  versions: DocumentMeta[];
}

export interface LabSeries {
  code: string;
  loinc: string | null;
  name: string;
  unit: string | null;
  refLow: number | null;
  refHigh: number | null;
  refText: string | null;
  points: Array<{ at: string; value: number | null; text: string; flag: string | null; documentId: string }>;
}

export interface ScoreBand {
  from: number | null;
  to: number | null;
  score: 0 | 1 | 2 | 3;
}

export interface ParameterBands {
  loinc: string[];
  unit: string;
  label: { vi: string; en: string };
  axis: [number, number];
  bands: ScoreBand[];
}

export interface News2Point {
  at: string;
  complete: boolean;
  total: number | null;
  risk: 'low' | 'low-medium' | 'medium' | 'high' | null;
  partialScore: number | null;
  missing: string[];
  documentId: string;
}

export interface VitalsView {
  series: Record<string, Array<{ at: string; value: number; documentId: string }>>;
  news2: News2Point[];
  bands: Record<string, ParameterBands>;
}

export interface ImagingStudy {
  studyInstanceUid: string;
  accessionNumber?: string;
  modality?: string;
  description?: string;
  started?: string;
  seriesCount: number | null;
  instanceCount: number | null;
  conclusion: string | null;
  documentId: string;
  reportTitle: string | null;
  thumbnail: string | null;
  inPacs: boolean;
}

import type { DateTimeString, DeviceRef, StaffRef } from './common';

/**
 * Result status. `corrected` replaces an earlier final value; the replaced row is then kept as
 * `superseded` (so a correction never silently loses what was reported before).
 */
export type ResultStatus = 'preliminary' | 'final' | 'corrected' | 'cancelled' | 'superseded';

export const resultStatuses: readonly ResultStatus[] = ['preliminary', 'final', 'corrected', 'cancelled', 'superseded'];

/** HL7 table 0078 subset: normal, low, high, critically low/high, abnormal (non-numeric). */
export type AbnormalFlag = 'N' | 'L' | 'H' | 'LL' | 'HH' | 'A';

export const abnormalFlags: readonly AbnormalFlag[] = ['N', 'L', 'H', 'LL', 'HH', 'A'];

export interface ReferenceRange {
  low?: string;
  high?: string;
  /** As printed, e.g. `3.9 - 6.1` or `Âm tính`. */
  text?: string;
}

/** One analyte result (a lab test) or one measured value of a study. */
export interface Result {
  /** The code as the device sent it (analyser test code, e.g. `GLU`). */
  code: string;
  /** The HIS service code the result is filed under (from the code map). */
  hisServiceCode?: string;
  loinc?: string;
  name?: string;
  /** The value as text: numbers keep the precision the analyser gave (`5.60`). */
  value: string;
  valueType: 'numeric' | 'text' | 'coded';
  /** UCUM unit (`mmol/L`, `g/L`, `10*9/L`). */
  unit?: string;
  referenceRange?: ReferenceRange;
  abnormalFlag?: AbnormalFlag;
  status: ResultStatus;
  /** When the measurement was made (analyser time). */
  observedAt: DateTimeString;
  /** When the result was released/verified. */
  resultedAt?: DateTimeString;
  device?: DeviceRef;
  operator?: StaffRef;
  verifiedBy?: StaffRef;
  comment?: string;
}

/** A radiology report for one imaging order (XML4 MO_TA / KET_LUAN for claims). */
export interface ImagingReport {
  accessionNumber: string;
  findings: string;
  conclusion: string;
  status: ResultStatus;
  reportedAt: DateTimeString;
  radiologist?: StaffRef;
  studyInstanceUid?: string;
}

/**
 * What one message asks the HIS to store: results of one lab order (found by order id or specimen id)
 * and/or an imaging report (found by accession number). One message = one transaction.
 */
export interface ResultBatch {
  orderId?: string;
  specimenId?: string;
  accessionNumber?: string;
  results?: Result[];
  report?: ImagingReport;
  /** Order status to set after storing (default: `completed` when every result is final, else `preliminary`). */
  orderStatus?: import('./order').OrderStatus;
}

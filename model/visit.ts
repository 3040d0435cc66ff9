import type { DateString, DateTimeString, StaffRef } from './common';

export type VisitKind = 'outpatient' | 'inpatient' | 'emergency';

export interface Diagnosis {
  /** ICD-10 code as used by BHYT, e.g. `J18.9`, `I10`. */
  icd10: string;
  text?: string;
  /** Exactly one primary diagnosis per visit (MA_BENH_CHINH); the others go to MA_BENH_KT. */
  primary: boolean;
  /** When the diagnosis was made: admission (CHAN_DOAN_VAO) or discharge (CHAN_DOAN_RV). */
  stage?: 'admission' | 'discharge';
}

/** How the visit reached the hospital, for BHYT benefit calculation. */
export type BhytRoute = 'on-route' | 'off-route' | 'emergency' | 'referral';

/** The BHYT (health insurance) side of one visit. */
export interface BhytCoverage {
  /** 15-character card number (MA_THE_BHYT). */
  cardNumber: string;
  /** Card valid from/to, `YYYY-MM-DD` (GT_THE_TU / GT_THE_DEN). */
  validFrom: DateString;
  validTo: DateString;
  /** Registered primary-care facility on the card, 5 characters (MA_DKBD). */
  registeredFacility: string;
  route: BhytRoute;
  /** The card's benefit level in percent, from its 3rd character: 80, 95 or 100. */
  cardBenefitLevel: number;
  /**
   * The benefit level applied to this visit's lines (MUC_HUONG), e.g. 80, or 32 for an off-route
   * inpatient visit at a central hospital (80 % × 40 %).
   */
  benefitLevel: number;
  /** Patient/visit category code (MA_DOITUONG_KCB), e.g. `1.1`, `2`, `3.1`; always a string. */
  categoryCode: string;
  /** Residence area printed on the card (MA_KHUVUC): K1, K2, K3. */
  areaCode?: string;
  /** Date five consecutive insured years were reached (NAM_NAM_LIEN_TUC). */
  fiveConsecutiveYearsFrom?: DateString;
  /** Date the patient became exempt from co-payment (NGAY_MIEN_CCT). */
  coPaymentExemptFrom?: DateString;
  /** Referring facility code (MA_NOI_DI) and referral letter number (GIAY_CHUYEN_TUYEN). */
  referredFrom?: string;
  referralNumber?: string;
}

export interface Visit {
  /** Visit/episode key, unique per treatment episode (MA_LK), ≤ 100 characters. */
  maLk: string;
  /** Hospital patient number (MA_BN). */
  patientId: string;
  kind: VisitKind;
  /** BHYT type of care (MA_LOAI_KCB), e.g. `01` outpatient exam, `03` inpatient; a string, leading zero kept. */
  careTypeCode: string;
  /** Arrival / admission (NGAY_VAO). */
  admittedAt: DateTimeString;
  /** Time inpatient admission was ordered (NGAY_VAO_NOI_TRU). */
  inpatientAdmittedAt?: DateTimeString;
  /** End of visit / discharge (NGAY_RA); absent while the visit is open. */
  dischargedAt?: DateTimeString;
  /** The department now (or finally) responsible (HIS code). */
  departmentCode: string;
  /** Every treating department in order, as BHYT codes (K..) for XML1 MA_KHOA. */
  bhytDepartmentCodes?: string[];
  diagnoses: Diagnosis[];
  /** Reason for the visit (LY_DO_VV). */
  reason?: string;
  admissionDiagnosisText?: string;
  dischargeDiagnosisText?: string;
  /** Treatment outcome (KET_QUA_DTRI, 1..8) and discharge type (MA_LOAI_RV, 1..5), as strings. */
  outcomeCode?: string;
  dischargeTypeCode?: string;
  /** Weight at admission in kg (CAN_NANG), decimal text. */
  weightKg?: string;
  /** Medical-record / outpatient slip number (MA_HSBA). */
  medicalRecordNumber?: string;
  attending?: StaffRef;
  /** Insurance coverage; absent for a self-paying patient. */
  coverage?: BhytCoverage;
  /** Time the patient settled the bill (NGAY_TTOAN). */
  paidAt?: DateTimeString;
  /** Follow-up appointment date (NGAY_TAI_KHAM). */
  followUpDate?: DateString;
  /** ICD-9-CM procedure codes done in this visit (MA_PTTT_QT). */
  procedureCodes?: string[];
}

export function primaryDiagnosis(visit: Pick<Visit, 'diagnoses'>): Diagnosis | undefined {
  return visit.diagnoses.find((d) => d.primary);
}

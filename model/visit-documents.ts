// Documents a visit can produce besides its charges: a referral letter, birth certificates, leave
// certificates, the HIV/AIDS care record, the TB treatment record and a medical-assessment record.
// Claims turn them into XML13, XML9, XML10/XML11, XML6, XML15 and XML12. Coded values stay text as
// the HIS stores them in BHYT codes (e.g. reasonCode '2'); dates are ISO (the builder formats them).
import type { DateString, DateTimeString, StaffRef } from './common';
import type { Sex } from './patient';

/** Referral letter (giấy chuyển tuyến) issued when the visit ends in a transfer (XML13). */
export interface ReferralLetter {
  maLk: string;
  /** Letter number (GIAY_CHUYEN_TUYEN), referral record number (SO_HOSO) and referral book number (SO_CHUYENTUYEN). */
  letterNumber: string;
  recordNumber: string;
  bookNumber: string;
  /** Facility the patient is sent to, 5 characters (MA_CSKCB_DEN / XML1 MA_NOI_DEN). */
  toFacility: string;
  /** MA_LYDO_CT: 1 meets the referral rules, 2 beyond this facility's capability, 3 patient's request. */
  reasonCode: string;
  /** Clinical signs at referral (DAU_HIEU_LS). */
  clinicalSigns: string;
  /** Course of the illness (QT_BENHLY) and result summary (TOMTAT_KQ); derived from the visit when absent. */
  courseSummary?: string;
  resultSummary?: string;
  /** Patient condition at transfer (TINH_TRANG_CT, QĐ 3176). */
  conditionAtTransfer: string;
  /** Planned further treatment (HUONG_DIEU_TRI) and transport (PHUONGTIEN_VC). */
  treatmentPlan: string;
  transport: string;
  escortName?: string;
  escortTitle?: string;
  /** Doctor who examined and signed (MA_BAC_SI). */
  doctor?: StaffRef;
  issuedAt: DateTimeString;
}

/** Birth certificate (giấy chứng sinh), one per baby (XML9). The mother is the visit's patient. */
export interface BirthCertificate {
  maLk: string;
  /** Certificate number (SO) and book (QUYEN_SO). */
  number: string;
  book: string;
  issuedOn: DateString;
  motherSocialInsuranceNumber?: string;
  motherCardNumber?: string;
  /** Mother's identity document: number, issue date and issuing authority. */
  motherIdNumber: string;
  motherIdIssuedOn: DateString;
  motherIdIssuedBy: string;
  fatherName?: string;
  childName?: string;
  childSex: Sex;
  /** Babies in this birth (SO_CON), deliveries including this one (LAN_SINH), living children (SO_CON_SONG). */
  babiesInBirth: number;
  deliveryNumber: number;
  livingChildren: number;
  weightGrams: number;
  bornAt: DateTimeString;
  placeOfBirth: string;
  childCondition: string;
  caesarean: boolean;
  under32Weeks: boolean;
  note?: string;
  /** Birth attendant and the person who wrote the certificate (names). */
  attendant: string;
  recordedBy: string;
  /** Temporary insurance card number of the baby (MA_THE_TAM). */
  temporaryCardNumber: string;
}

/** Leave certificate: pregnancy rest (XML10) or social-insurance sick leave, form CT07 (XML11). */
export interface LeaveCertificate {
  maLk: string;
  kind: 'pregnancy-rest' | 'sick-leave';
  serial: string;
  number: string;
  /** Internal visit document number (SO_KCB, sick leave). */
  visitDocumentNumber?: string;
  /** Employer / unit paying social insurance (DON_VI). */
  employer: string;
  socialInsuranceNumber?: string;
  /** Diagnosis written on the certificate; default: the visit's discharge diagnosis. */
  diagnosis?: string;
  from: DateString;
  to: DateString;
  days: number;
  pregnancyTerminated?: boolean;
  terminationCause?: string;
  gestationWeeks?: number;
  fatherName?: string;
  motherName?: string;
  temporaryCardNumber?: string;
  /** Department head or authorised signer (MA_BS / TEN_BS). */
  signer?: StaffRef;
  issuedOn: DateString;
}

/** HIV/AIDS care and treatment record of the visit (XML6, TT 28/2018/TT-BYT). Codes as in QĐ 4750 Bảng 6. */
export interface HivCareRecord {
  maLk: string;
  confirmedOn?: DateString;
  sampleFacility: string;
  confirmingFacility: string;
  arvStartFacility: string;
  arvStartedOn?: DateString;
  initialRegimen?: string;
  initialRegimenLine?: string;
  enrolmentReasonCode: string;
  tbTreatmentTypeCode: string;
  tbScreeningCode: string;
  tbRegimenCode?: string;
  tbStartedOn?: DateString;
  tbEndedOn?: DateString;
  tbResultCode: string;
  viralLoadReasonCode?: string;
  viralLoadSampledOn?: DateString;
  viralLoadResultCode?: string;
  viralLoadResultOn?: DateString;
  patientTypeCode: string;
  clinicalStage: string;
  populationGroupCode: string;
  /** MA_TINH_TRANG_DK, ";"-separated codes. */
  statusCodes: string;
  pcrRound?: string;
  pcrOn?: DateString;
  pcrResultOn?: DateString;
  pcrResultCode?: string;
  pregnancyNotedOn?: DateString;
  cotrimoxazoleStartedOn?: DateString;
  /** MA_XU_TRI, ";"-separated codes (1 ARV …). */
  managementCodes: string;
  treatmentFrom?: DateString;
  treatmentTo?: DateString;
  regimen: string;
  regimenLine?: string;
  arvDaysDispensed?: number;
  regimenChangedOn?: DateString;
  regimenChangeReasonCode?: string;
}

/** Tuberculosis treatment record (XML15). Codes as in QĐ 4750 Bảng 15. */
export interface TbTreatmentRecord {
  maLk: string;
  siteCode: string;
  historyCode: string;
  hivStatusCode: string;
  bacteriologyCode: string;
  resistanceCode: string;
  treatmentTypeCode: string;
  startedOn: DateString;
  regimenCode: string;
  endedOn?: DateString;
  resultCode: string;
  hivConfirmedOn?: DateString;
  arvStartedOn?: DateString;
  cotrimoxazoleStartedOn?: DateString;
}

/**
 * Medical-assessment council record (giám định y khoa, XML12). It is not part of a claim: it goes to
 * its own gateway endpoint (guiDuLieuGdykQd130), so the builder puts it beside the claim tables.
 */
export interface MedicalAssessment {
  maLk: string;
  chair: string;
  /** CHUC_VU: 1 chairman, 2 signing on the chairman's behalf. */
  chairRoleCode: string;
  meetingOn: DateString;
  idIssuedOn: DateString;
  idIssuedBy: string;
  socialInsuranceNumber: string;
  occupation?: string;
  subjectCategoryCode: string;
  assessmentTypeCode: string;
  minutesNumber: string;
  previousRate?: number;
  benefitRegimeCode: string;
  documentDate: DateString;
  referralLetterNumber: string;
  requestedOn: DateString;
  referringUnitCode: string;
  referringUnitName: string;
  examinationResult: string;
  legalBasis: string;
  newRate: number;
  totalRate: number;
  disabilityTypeCode?: string;
  disabilitySeverityCode?: string;
  recommendation: string;
  determination: string;
}

/** Everything of the above one visit has (empty lists when none). */
export interface VisitDocuments {
  referral?: ReferralLetter;
  births: BirthCertificate[];
  leave: LeaveCertificate[];
  hivCare?: HivCareRecord;
  tbTreatment: TbTreatmentRecord[];
  assessment?: MedicalAssessment;
}

import type { DateTimeString, Decimal, StaffRef } from './common';

/** What a billing line charges for; drugs go to claim table XML2, the rest to XML3. */
export type BillingLineKind = 'drug' | 'service' | 'supply' | 'bed';

/** Drug details the claim's XML2 needs. */
export interface DrugDetails {
  /** Strength as registered (HAM_LUONG), e.g. `500mg`. */
  strength?: string;
  /** Route-of-administration code (DUONG_DUNG, DMDC), e.g. `1.01` oral. */
  routeCode?: string;
  dosageForm?: string;
  /** Dose expression (LIEU_DUNG), e.g. `1 viên/lần * 2 lần/ngày * 5 ngày`. */
  dosage?: string;
  instructions?: string;
  /** Marketing-authorisation number (SO_DANG_KY). */
  registrationNumber?: string;
  /** Tender information (TT_THAU), `decision;Gx;Nx;yyyy`. */
  tender?: string;
  /** Funding source (NGUON_CTRA): 1 fund, 2 project, 3 national programme, 4 other. */
  fundingSourceCode?: string;
}

/**
 * One charged item of a visit, with the amounts as the HIS computed them. Money and quantities are
 * decimal text (see Decimal); ratios and benefit levels are integer percentages.
 */
export interface BillingLine {
  maLk: string;
  /** Line number within the visit, stable across reads (STT source). */
  lineNo: number;
  kind: BillingLineKind;
  /** BHYT cost group (MA_NHOM, QĐ 5937 PL3): `1` lab … `13` examination, `15` inpatient bed, `19` other; text. */
  maNhom: string;
  /** National catalogue code: MA_THUOC (drug), MA_DICH_VU (service/bed) or MA_VAT_TU (supply). */
  bhytCode: string;
  /** The hospital's own catalogue code. */
  hisCode: string;
  name: string;
  /** Unit of measure (DON_VI_TINH): `Viên`, `Lần`, `Ngày`… */
  unit: string;
  quantity: Decimal;
  /** Unit price at the hospital tariff (DON_GIA / DON_GIA_BV). */
  unitPrice: Decimal;
  /** Unit price payable by the fund (DON_GIA_BH); for drugs equal to unitPrice. */
  bhytUnitPrice: Decimal;
  /** Coverage scope (PHAM_VI): 1 in the fund list, 2 outside, 3 outside but covered (army/police). */
  scope: '1' | '2' | '3';
  /** Item payment ratio % (TYLE_TT_BH): 100 normally, 0 not covered. */
  coverageRatio: number;
  /** Service ratio % (TYLE_TT_DV) for shared beds, repeat examinations…; 100 normally. */
  serviceRatio: number;
  /** Benefit level % applied to this line (MUC_HUONG). */
  benefitLevel: number;
  amounts: {
    /** THANH_TIEN_BV */
    hospital: Decimal;
    /** THANH_TIEN_BH */
    insuranceScope: Decimal;
    /** T_BHTT: paid by the fund. */
    fund: Decimal;
    /** T_BNCCT: patient co-payment inside the insurance scope. */
    coPayment: Decimal;
    /** T_BNTT: patient self-pay outside the scope. */
    selfPay: Decimal;
    /** T_NGUONKHAC: other sources. */
    otherSources: Decimal;
  };
  /** Payment method (MA_PTTT): 1 fee-for-service, 2 capitation, 3 DRG. */
  paymentMethodCode: string;
  /** Department charged (BHYT code K..). */
  bhytDepartmentCode: string;
  departmentCode: string;
  orderingStaff?: StaffRef;
  performers?: StaffRef[];
  orderedAt: DateTimeString;
  performedAt?: DateTimeString;
  resultAt?: DateTimeString;
  /** ICD-10 code(s) justifying the service beyond the main diagnosis (MA_BENH). */
  icd10?: string;
  /** Bed code (MA_GIUONG): H/T/C/K + 3 digits. */
  bedCode?: string;
  /** Machine code (MA_MAY) for lab/imaging/functional services. */
  machineCode?: string;
  /** Order that produced the line (lab/imaging), when there is one. */
  orderId?: string;
  /**
   * Tender information (TT_THAU) of a drug or a medical supply, `decision;Gx;Nx;yyyy` for drugs or
   * `decision;package;group;yyyy` for supplies. XML3 requires it for supplies (MA_NHOM 10/11).
   */
  tender?: string;
  drug?: DrugDetails;
}

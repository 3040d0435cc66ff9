import type { DateString } from './common';
import type { PatientIdentifier } from './identifiers';

/** Administrative sex. BHYT GIOI_TINH: 1 male, 2 female, 3 undetermined; HL7/DICOM: M, F, O/U. */
export type Sex = 'male' | 'female' | 'other' | 'unknown';

export interface HumanName {
  /** Full name as written, with diacritics, family name first: `Nguyễn Thị Minh Khai`. */
  full: string;
  /** Family name (họ): `Nguyễn`. */
  family?: string;
  /** Middle and given names (tên đệm + tên): `Thị Minh Khai`. */
  given?: string;
}

/**
 * Residence address. Codes follow the national administrative-unit list (province 2 digits, commune
 * 5 digits); `districtCode` is kept for data from before the 01/07/2025 reform that abolished districts.
 */
export interface Address {
  /** House number, street or hamlet (số nhà, đường/thôn). */
  line?: string;
  communeCode?: string;
  communeName?: string;
  districtCode?: string;
  districtName?: string;
  provinceCode?: string;
  provinceName?: string;
  /** The whole address as one line (DIA_CHI), when the HIS keeps it that way. */
  text?: string;
}

export interface Patient {
  /** The hospital patient number (MA_BN); also present in `identifiers` with system `MA_BN`. */
  id: string;
  identifiers: PatientIdentifier[];
  name: HumanName;
  /** `YYYY-MM-DD`, or `YYYY` / `YYYY-MM` when only part is known. */
  birthDate: DateString;
  /** `HH:mm` when known (required by BHYT for newborns up to 28 days). */
  birthTime?: string;
  sex: Sex;
  address?: Address;
  phone?: string;
  /** Nationality code (MA_QUOCTICH, TT 07/2016/TT-BCA), e.g. `000` for Vietnam in BHYT data. */
  nationalityCode?: string;
  /** Ethnicity code (MA_DANTOC, QĐ 121-TCTK), e.g. `01` Kinh. */
  ethnicityCode?: string;
  /** Occupation code (MA_NGHE_NGHIEP, QĐ 34/2020/QĐ-TTg). */
  occupationCode?: string;
  bloodGroup?: string;
}

/** First identifier of a system, if the patient has one. */
export function identifierOf(patient: Pick<Patient, 'identifiers'>, system: PatientIdentifier['system']): string | undefined {
  return patient.identifiers.find((i) => i.system === system)?.value;
}

export function sexToBhyt(sex: Sex): '1' | '2' | '3' {
  return sex === 'male' ? '1' : sex === 'female' ? '2' : '3';
}

export function sexToHl7(sex: Sex): 'M' | 'F' | 'O' | 'U' {
  return sex === 'male' ? 'M' : sex === 'female' ? 'F' : sex === 'other' ? 'O' : 'U';
}

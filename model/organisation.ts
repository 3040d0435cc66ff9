/** The hospital itself (MA_CSKCB for claims). */
export interface Facility {
  /** 5-character facility code issued by the authority (MA_CSKCB). */
  code: string;
  name: string;
  /** Technical level, deciding the off-route benefit rate: central, province, district, commune. */
  level?: 'central' | 'province' | 'district' | 'commune';
  provinceCode?: string;
}

export type DepartmentKind = 'clinical' | 'paraclinical' | 'emergency' | 'pharmacy' | 'administrative';

export interface Department {
  /** HIS department code. */
  code: string;
  name: string;
  /** BHYT department code (MA_KHOA, QĐ 5937 PL5): K01…, e.g. K03 emergency. */
  bhytCode: string;
  kind: DepartmentKind;
}

export type StaffRole = 'doctor' | 'nurse' | 'technician' | 'pharmacist' | 'midwife' | 'other';

export interface Staff {
  id: string;
  fullName: string;
  role: StaffRole;
  /** Academic/clinical title as printed: `BS.CKI`, `ThS.BS`, `KTV`, `ĐD`. */
  title?: string;
  /** Practising-certificate number (CCHN): MA_BAC_SI / NGUOI_THUC_HIEN under QĐ 4750. */
  practisingCertificate?: string;
  /** Social-insurance number (health ID base), used as staff code under QĐ 130. */
  socialInsuranceNumber?: string;
  departmentCode: string;
  active: boolean;
}

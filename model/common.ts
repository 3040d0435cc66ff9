// Shared value types of the canonical model. Everything here is plain JSON (no Date, no class), so a
// model value can travel through the engine's store and queues unchanged.

/** ISO 8601 date-time with an explicit offset, e.g. `2026-11-22T08:30:00+07:00` (hospital time is UTC+7, no DST). */
export type DateTimeString = string;

/**
 * ISO 8601 calendar date `YYYY-MM-DD`. A partially known date of birth keeps the known part:
 * `1980` (year only) or `1980-05` (year and month), as BHYT's NGAY_SINH allows unknown day/month.
 */
export type DateString = string;

/**
 * A decimal number as text (`"12345.5"`, `"0.333"`): money and quantities never pass through binary
 * floating point on their way to a claim (BHYT rounds line amounts to 2 dp and prices to 3 dp).
 */
export type Decimal = string;

/** A code with the system it comes from (`ICD-10`, `LOINC`, `HIS`, `BHYT-DVKT`…). */
export interface Coding {
  system: string;
  code: string;
  display?: string;
}

/** A reference to a person in the HIS (doctor, nurse, technician) by the codes claims and messages need. */
export interface StaffRef {
  /** HIS staff id (the key in the staff table). */
  id: string;
  name?: string;
  /** Practising-certificate number (chứng chỉ hành nghề, CCHN): MA_BAC_SI / NGUOI_THUC_HIEN in QĐ 4750. */
  practisingCertificate?: string;
}

/** A device that produced a result or measurement (analyser, modality, monitor). */
export interface DeviceRef {
  id: string;
  name?: string;
  /** BHYT machine code XX.n.YYYYY.Z (MA_MAY) when known. */
  bhytMachineCode?: string;
}

/** Vietnam has one time zone, UTC+7, without daylight saving. */
export const HOSPITAL_UTC_OFFSET_MINUTES = 7 * 60;

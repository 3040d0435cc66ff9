// The machine-readable description of the BHYT output-data tables (QĐ 4210, 130, 4750, 3176).
// The data lives in claims/spec/data/*.json; these types say what it means. Every value on the
// wire is text: a "number" field is still written as XML text, and codes keep their leading zeros.

export const formatVersions = ['4210', '130', '4750', '3176'] as const;
export type FormatVersion = (typeof formatVersions)[number];

export const tableIds = [
  'XML0', 'XML1', 'XML2', 'XML3', 'XML4', 'XML5', 'XML6', 'XML7', 'XML8', 'XML9', 'XML10', 'XML11', 'XML12', 'XML13', 'XML14', 'XML15',
] as const;
export type TableId = (typeof tableIds)[number];

/** The decision's data type: "Chuỗi" (string) or "Số" (number). */
export type FieldType = 'string' | 'number';

/**
 * How the text of a field must look.
 * - datetime: yyyyMMddHHmm (12 digits, 24 h)
 * - date: yyyyMMdd (8 digits)
 * - dateOrDatetime: either of the above (NGAY_MIEN_CCT)
 * - birth: yyyyMMddHHmm where unknown day/month and time may be 0000 (NGAY_SINH)
 * - money: decimal with '.' and at most 2 decimals
 * - decimal3: decimal with '.' and at most 3 decimals (quantities, unit prices)
 * - decimal2: decimal with '.' and at most 2 decimals that is not an amount (weight)
 * - percent: non-negative integer percentage
 * - integer: non-negative integer (codes typed "number", counts, STT)
 * - text: free text
 */
export type FieldFormat = 'datetime' | 'date' | 'dateOrDatetime' | 'birth' | 'money' | 'decimal3' | 'decimal2' | 'percent' | 'integer' | 'text';

/** A condition on other fields of the same record, used by conditional requirements. */
export type FieldCondition =
  | { field: string; in: string[] }
  | { field: string; notIn: string[] }
  | { field: string; present: true }
  | { allEmpty: string[] };

/** `true` = always required; an object = required when the condition holds. */
export type Requirement = boolean | { when: FieldCondition };

export interface FieldSpec {
  name: string;
  type: FieldType;
  /** Maximum length in characters; null = unbounded ("n" in the decision). */
  maxLength: number | null;
  required: Requirement;
  /** Where the requirement comes from: the official appendix, the vendor validation sheet, or our inference. */
  requiredSource?: 'official' | 'vendor-sheet' | 'inferred';
  format: FieldFormat;
  /** The field holds several values separated by ";" (each checked against format and code list). */
  list?: boolean;
  /** Name of a code list in mappings/bhyt/ (without .json). */
  codeList?: string;
  /** A regular expression each value (each item of a list) must match, and what it means in words. */
  pattern?: { regex: string; hint: string };
  /** The official description (Vietnamese), possibly shortened. */
  description?: string;
  /** English meaning. */
  meaning?: string;
  /** What the amending decision changed (Vietnamese text of the correction column, or a summary). */
  amendment?: string;
}

export interface TableSpec {
  id: TableId;
  /** Official title (Vietnamese). */
  title: string;
  /** Root element of the inner document. */
  root: string;
  /** List wrapper element (absent for single-record tables, and for 4210 whose list is the root). */
  list?: string;
  /** Record element; for single-record tables it equals the root (fields directly under the root). */
  record: string;
  repeating: boolean;
  /** The document carries its own CHUKYDONVI after the list (check-in XML0, XML12). */
  signatureSlot?: boolean;
  /** Sent inside the GIAMDINHHS envelope (false for XML0 and XML12, which have their own endpoints). */
  inEnvelope: boolean;
  fields: FieldSpec[];
}

export interface GatewayEndpoints {
  checkIn?: string;
  sendClaim: string;
  /** Value of the `loaiHoSo` form field for a claim. */
  claimLoaiHoSo: string;
}

export interface FormatSpec {
  version: FormatVersion;
  title: string;
  /** First day the gateway accepted this version officially (yyyy-MM-dd). */
  effectiveFrom: string;
  /** Last day it was accepted for new claims, if it has ended. */
  effectiveTo?: string;
  tables: TableSpec[];
  endpoints: GatewayEndpoints;
}

/** One recorded difference between a version and the version it amends. */
export type SpecChange =
  | { op: 'retype'; table: TableId; field: string; to: FieldType; note?: string }
  | { op: 'resize'; table: TableId; field: string; to: number | null; note?: string }
  | { op: 'add'; table: TableId; after: string | null; field: FieldSpec; note?: string }
  | { op: 'remove'; table: TableId; field: string; note?: string }
  | { op: 'rename'; table: TableId; field: string; to: string; maxLength?: number | null; list?: boolean; note?: string }
  | { op: 'amend'; table: TableId; field: string; amendment: string; note?: string }
  | { op: 'set'; table: TableId; field: string; attributes: Partial<Omit<FieldSpec, 'name'>>; note?: string }
  | { op: 'addTable'; table: TableSpec; note?: string };

/** A data file: either a full version (4210, 130) or the changes an amending decision made. */
export interface SpecFile {
  version: FormatVersion;
  title: string;
  effectiveFrom: string;
  effectiveTo?: string;
  endpoints: GatewayEndpoints;
  /** Sources the data was taken from, with their confidence. */
  sources: string[];
  /** Full tables (a base version). */
  tables?: TableSpec[];
  /** The version this one amends, and what it changed. */
  amends?: FormatVersion;
  changes?: SpecChange[];
  /** Table layout changes that are not field-level (root/list names) are recorded here too. */
  notes?: string[];
}

// Claim data as the XML carries it: one record = one table row, every value kept as text exactly as
// written (codes keep their leading zeros, amounts their decimals). The builder produces these, the
// parser reads them from other software's files, and the validator checks them; nothing in between
// turns a value into a number or a Date.
import type { FormatVersion, TableId } from './spec/types';

export interface ClaimRecord {
  /** Field values in document order. An empty element is ''; an absent one has no key. */
  fields: Record<string, string>;
  /** 1-based position of the record in its table. */
  index: number;
  /** Line of the record's start tag in the inner document (parsed files only). */
  line?: number;
  /** Elements that appear more than once in the record. */
  duplicates?: string[];
  /** Field elements that contain child elements. */
  nested?: string[];
}

export type EpisodeTables = Partial<Record<TableId, ClaimRecord[]>>;

/** The tables of one treatment episode (one HOSO, one MA_LK). */
export interface Episode {
  version: FormatVersion;
  tables: EpisodeTables;
  /** 1-based position of the HOSO in its envelope (parsed files only). */
  hoso?: number;
}

export const severities = ['error', 'warning'] as const;
export type Severity = (typeof severities)[number];

/** Where a finding is: which table, which record (index + MA_LK/STT), which field. */
export interface FindingPlace {
  /** A table, or ENVELOPE for GIAMDINHHS itself, or FILE for the bytes (encoding, well-formedness). */
  table: TableId | 'ENVELOPE' | 'FILE';
  hoso?: number;
  record?: { index: number; maLk?: string; stt?: string };
  field?: string;
  line?: number;
}

export interface Finding extends FindingPlace {
  severity: Severity;
  /** Rule identifier, e.g. `money.line-bv` (see claims/validator/rules.ts for the catalogue). */
  rule: string;
  message: string;
}

/** One line naming everything needed to find and fix the problem. */
export function formatFinding(f: Finding): string {
  const parts: string[] = [f.severity === 'error' ? 'ERROR' : 'WARNING'];
  if (f.hoso !== undefined) parts.push(`HOSO ${f.hoso}`);
  parts.push(f.table);
  if (f.record) {
    const keys = [f.record.maLk !== undefined ? `MA_LK=${f.record.maLk}` : '', f.record.stt ? `STT=${f.record.stt}` : ''].filter(Boolean).join(', ');
    parts.push(`record ${f.record.index}${keys ? ` (${keys})` : ''}`);
  }
  if (f.field) parts.push(f.field);
  if (f.line !== undefined) parts.push(`line ${f.line}`);
  return `${parts.join(' ')} [${f.rule}]: ${f.message}`;
}

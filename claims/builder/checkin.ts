// The check-in record (XML0): sent right after the first cost of a visit arises (QĐ 130 Điều 3),
// naming that first item as a service, a drug or a supply.
import { type BillingLine, identifierOf, sexToBhyt, toBhytDate, toBhytDateTime } from '../../model';
import type { ClaimRecord } from '../model';
import { formatSpec } from '../spec/registry';
import type { FormatVersion } from '../spec/types';
import type { ClaimSource } from './build';

export function buildCheckInRecord(source: Omit<ClaimSource, 'lines'> & { lines: BillingLine[] }, version: Exclude<FormatVersion, '4210'> = '3176', stt = 1): ClaimRecord {
  const { visit, patient, facility } = source;
  const first = [...source.lines].sort((a, b) => a.orderedAt.localeCompare(b.orderedAt) || a.lineNo - b.lineNo)[0];
  if (!first) throw new Error(`visit ${visit.maLk} has no billing line yet: a check-in is sent when the first cost arises`);
  const c = visit.coverage;
  const item: Record<string, string> =
    first.kind === 'drug'
      ? { MA_THUOC: first.bhytCode, TEN_THUOC: first.name }
      : first.kind === 'supply'
        ? { MA_VAT_TU: first.bhytCode, TEN_VAT_TU: first.name }
        : { MA_DICH_VU: first.bhytCode, TEN_DICH_VU: first.name };
  const birthTime = patient.birthTime && /^\d{2}:\d{2}$/.test(patient.birthTime) ? patient.birthTime.replace(':', '') : '0000';
  const fields: Record<string, string> = {
    MA_LK: visit.maLk,
    STT: String(stt),
    MA_BN: patient.id,
    HO_TEN: patient.name.full,
    SO_CCCD: identifierOf(patient, 'CCCD') ?? identifierOf(patient, 'CMND') ?? '',
    NGAY_SINH: toBhytDate(patient.birthDate) + birthTime,
    GIOI_TINH: sexToBhyt(patient.sex),
    MA_THE_BHYT: c?.cardNumber ?? '',
    MA_DKBD: c?.registeredFacility ?? '',
    GT_THE_TU: c ? toBhytDate(c.validFrom) : '',
    GT_THE_DEN: c ? toBhytDate(c.validTo) : '',
    MA_DOITUONG_KCB: c?.categoryCode ?? '9',
    NGAY_VAO: toBhytDateTime(visit.admittedAt),
    NGAY_VAO_NOI_TRU: visit.inpatientAdmittedAt ? toBhytDateTime(visit.inpatientAdmittedAt) : '',
    LY_DO_VNT: visit.inpatientAdmittedAt ? (visit.reason ?? '') : '',
    MA_LY_DO_VNT: '',
    MA_LOAI_KCB: visit.careTypeCode,
    MA_CSKCB: facility.code,
    ...item,
    NGAY_YL: toBhytDateTime(first.orderedAt),
    DU_PHONG: '',
  };
  const spec = formatSpec(version).tables.find((t) => t.id === 'XML0')!;
  const ordered: Record<string, string> = {};
  for (const f of spec.fields) ordered[f.name] = fields[f.name] ?? '';
  return { index: stt, fields: ordered };
}

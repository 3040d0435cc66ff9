// Coded entries shared by the document types: a lab result as an observation (LOINC code, local
// code as translation, PQ or ST value, interpretation, reference range), an ICD-10 diagnosis, and
// the Vietnamese display texts of flags and statuses.
import type { AbnormalFlag, Diagnosis, Result } from '../../model';
import { CODE_SYSTEMS, type EmrOids } from '../oids';
import type { LabValueRow } from '../types';
import { hl7Time } from './header';
import type { CanonicalXmlWriter } from './xml';

export const FLAG_TEXT: Record<AbnormalFlag, { vi: string; en: string }> = {
  N: { vi: 'Bình thường', en: 'Normal' },
  L: { vi: 'Thấp', en: 'Low' },
  H: { vi: 'Cao', en: 'High' },
  LL: { vi: 'Rất thấp (nguy hiểm)', en: 'Critically low' },
  HH: { vi: 'Rất cao (nguy hiểm)', en: 'Critically high' },
  A: { vi: 'Bất thường', en: 'Abnormal' },
};

export const RESULT_STATUS_TEXT: Record<Result['status'], string> = {
  preliminary: 'Sơ bộ',
  final: 'Chính thức',
  corrected: 'Đã hiệu chỉnh',
  cancelled: 'Đã hủy',
  superseded: 'Đã thay thế',
};

const NUMBER = /^[-+]?(\d+(\.\d*)?|\.\d+)$/;

/** A number written as the device gave it (`5.60`), or null when the value is not a plain number (`<0.5`, `Âm tính`). */
export function plainNumber(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.trim().replace(',', '.');
  return NUMBER.test(v) ? Number(v) : null;
}

/** A UCUM unit usable as a PQ unit attribute (a cs: no spaces). */
function pqUnit(unit: string | undefined): string | undefined {
  const u = unit?.trim();
  return u && /^\S+$/.test(u) ? u : undefined;
}

export function isAbnormal(flag: AbnormalFlag | undefined): boolean {
  return !!flag && flag !== 'N';
}

export function resultName(result: Result): string {
  return result.name?.trim() || result.loinc || result.code;
}

function statusCode(result: Result): string {
  switch (result.status) {
    case 'preliminary':
      return 'active';
    case 'cancelled':
      return 'cancelled';
    default:
      return 'completed';
  }
}

/** One lab result as an observation entry (inside an organizer component or an entry). */
export function writeResultObservation(w: CanonicalXmlWriter, oids: EmrOids, result: Result): void {
  w.open('observation', { classCode: 'OBS', moodCode: 'EVN' });
  const name = resultName(result);
  const local = { code: result.hisServiceCode ?? result.code, codeSystem: oids.hisServiceCode, displayName: name };
  if (result.loinc) {
    w.open('code', { code: result.loinc, codeSystem: CODE_SYSTEMS.LOINC, codeSystemName: 'LOINC', displayName: name });
    w.empty('translation', local);
    w.close('code');
  } else w.empty('code', local);
  w.empty('statusCode', { code: statusCode(result) });
  w.empty('effectiveTime', { value: hl7Time(result.observedAt, `observation[${result.code}]/effectiveTime`) });
  const numeric = result.valueType === 'numeric' ? plainNumber(result.value) : null;
  const unit = pqUnit(result.unit);
  if (numeric !== null) w.empty('value', { 'xsi:type': 'PQ', value: result.value.trim().replace(',', '.'), unit: unit ?? '1' });
  else w.text('value', result.unit && !unit ? `${result.value} ${result.unit}` : result.value, { 'xsi:type': 'ST' });
  if (result.abnormalFlag) w.empty('interpretationCode', { code: result.abnormalFlag, codeSystem: CODE_SYSTEMS.OBSERVATION_INTERPRETATION, displayName: FLAG_TEXT[result.abnormalFlag].vi });
  const range = result.referenceRange;
  if (range && (range.low || range.high || range.text)) {
    const low = plainNumber(range.low);
    const high = plainNumber(range.high);
    w.open('referenceRange').open('observationRange');
    if (range.text) w.text('text', range.text);
    if ((low !== null || high !== null) && unit) {
      w.open('value', { 'xsi:type': 'IVL_PQ' });
      if (low !== null) w.empty('low', { value: range.low!.trim().replace(',', '.'), unit });
      if (high !== null) w.empty('high', { value: range.high!.trim().replace(',', '.'), unit });
      w.close('value');
    }
    w.empty('interpretationCode', { code: 'N', codeSystem: CODE_SYSTEMS.OBSERVATION_INTERPRETATION });
    w.close('observationRange').close('referenceRange');
  }
  w.close('observation');
}

export function labValueRow(result: Result): LabValueRow {
  return {
    code: result.loinc ?? result.hisServiceCode ?? result.code,
    loinc: result.loinc,
    name: resultName(result),
    valueText: result.value,
    valueNum: result.valueType === 'numeric' ? plainNumber(result.value) : null,
    unit: result.unit,
    flag: result.abnormalFlag,
    refLow: plainNumber(result.referenceRange?.low),
    refHigh: plainNumber(result.referenceRange?.high),
    refText: result.referenceRange?.text,
    observedAt: result.observedAt,
  };
}

/** A diagnosis as an observation with an ICD-10 coded value. */
export function writeDiagnosisEntry(w: CanonicalXmlWriter, diagnosis: Diagnosis): void {
  w.open('entry').open('observation', { classCode: 'OBS', moodCode: 'EVN' });
  w.empty('code', { code: '29308-4', codeSystem: CODE_SYSTEMS.LOINC, codeSystemName: 'LOINC', displayName: 'Diagnosis' });
  w.empty('statusCode', { code: 'completed' });
  w.empty('value', { 'xsi:type': 'CD', code: diagnosis.icd10, codeSystem: CODE_SYSTEMS.ICD10, codeSystemName: 'ICD-10', displayName: diagnosis.text });
  w.close('observation').close('entry');
}

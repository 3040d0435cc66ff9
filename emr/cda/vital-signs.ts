// Vital signs and NEWS2 summary (Phiếu theo dõi dấu hiệu sinh tồn, LOINC 8716-3): the visit's
// measurements grouped by time, each time with its NEWS2 (RCP 2017, iomt/news2.ts). NEWS2 needs seven
// parameters; when one is missing (the HIS records no respiratory rate, no ACVPU…) the time is
// reported as "incomplete" with the parameters that are missing: a score is never guessed.
import { computeNews2, scorePulse, scoreRespiratoryRate, scoreSpO2Scale1, scoreSystolicBp, scoreTemperature, type News2Result } from '../../iomt/news2';
import type { Acvpu } from '../../iomt/vitals';
import { parseDateTime, type DateTimeString, type Observation } from '../../model';
import { CODE_SYSTEMS, type EmrOids } from '../oids';
import { EmrInputError, type BuiltDocument, type DocumentContext, type VitalSignsInput, type VitalValueRow } from '../types';
import { checkContext, displayTime, hl7Time, writeHeader, writeSection, writeTable, type Cell } from './header';
import { CanonicalXmlWriter } from './xml';

export const VITAL_SIGNS_DOC = { code: '8716-3', displayName: 'Vital signs', title: 'Phiếu theo dõi dấu hiệu sinh tồn và điểm cảnh báo sớm NEWS2' } as const;

/** SNOMED CT: Royal College of Physicians NEWS2 (National Early Warning Score 2) total score. */
export const NEWS2_SNOMED = { code: '1104051000000101', displayName: 'Royal College of Physicians NEWS2 (National Early Warning Score 2) total score' };

/** The LOINC codes read for each NEWS2 parameter and table column. */
export const VITAL_LOINC = {
  pulse: ['8867-4', '8889-8'],
  respiratoryRate: ['9279-1'],
  spo2: ['59408-5', '2708-6'],
  temperature: ['8310-5'],
  systolic: ['8480-6'],
  diastolic: ['8462-4'],
  weight: ['29463-7'],
  height: ['8302-2'],
} as const;

export const VITAL_LABELS: Record<keyof typeof VITAL_LOINC, { vi: string; en: string; unit: string }> = {
  pulse: { vi: 'Mạch', en: 'Pulse', unit: 'lần/phút' },
  respiratoryRate: { vi: 'Nhịp thở', en: 'Respiratory rate', unit: 'lần/phút' },
  spo2: { vi: 'SpO₂', en: 'SpO₂', unit: '%' },
  temperature: { vi: 'Nhiệt độ', en: 'Temperature', unit: '°C' },
  systolic: { vi: 'HA tâm thu', en: 'Systolic BP', unit: 'mmHg' },
  diastolic: { vi: 'HA tâm trương', en: 'Diastolic BP', unit: 'mmHg' },
  weight: { vi: 'Cân nặng', en: 'Weight', unit: 'kg' },
  height: { vi: 'Chiều cao', en: 'Height', unit: 'cm' },
};

export const NEWS2_RISK_TEXT: Record<News2Result['risk'], { vi: string; en: string }> = {
  low: { vi: 'Nguy cơ thấp', en: 'Low risk' },
  'low-medium': { vi: 'Nguy cơ thấp–trung bình (một chỉ số 3 điểm)', en: 'Low–medium risk (single parameter scored 3)' },
  medium: { vi: 'Nguy cơ trung bình', en: 'Medium risk' },
  high: { vi: 'Nguy cơ cao', en: 'High risk' },
};

const MISSING_TEXT: Record<string, string> = {
  respiratoryRate: 'nhịp thở',
  spo2: 'SpO₂',
  systolicBp: 'HA tâm thu',
  pulse: 'mạch',
  temperature: 'nhiệt độ',
  consciousness: 'ý thức (ACVPU)',
  onOxygen: 'thở oxy hay khí trời',
};

export type VitalParameter = keyof typeof VITAL_LOINC;

export interface VitalSet {
  at: DateTimeString;
  values: Partial<Record<VitalParameter, { value: number; unit?: string; loinc: string; status: Observation['status'] }>>;
  consciousness?: Acvpu;
  onOxygen?: boolean;
}

export type News2Outcome =
  | { complete: true; result: News2Result }
  /** Partial: the scores of the parameters present and the ones missing. */
  | { complete: false; partialScore: number; missing: string[] };

const parameterOf = new Map<string, VitalParameter>(Object.entries(VITAL_LOINC).flatMap(([p, codes]) => codes.map((c) => [c, p as VitalParameter])));

/** Groups observations into sets of the same minute (a monitor sends a set at one time). */
export function groupVitals(input: VitalSignsInput): VitalSet[] {
  const byMinute = new Map<number, VitalSet>();
  const minuteOf = (t: string, element: string) => {
    try {
      return Math.floor(parseDateTime(t).getTime() / 60_000);
    } catch (error) {
      throw new EmrInputError(element, (error as Error).message);
    }
  };
  input.observations.forEach((o, i) => {
    if (o.status === 'entered-in-error') return;
    const minute = minuteOf(o.effectiveAt, `observation[${i}]/effectiveTime`);
    let set = byMinute.get(minute);
    if (!set) byMinute.set(minute, (set = { at: o.effectiveAt, values: {} }));
    const put = (loinc: string, value: number | undefined, unit: string | undefined) => {
      const parameter = parameterOf.get(loinc);
      if (!parameter || value === undefined || !Number.isFinite(value)) return;
      set!.values[parameter] = { value, unit, loinc, status: o.status };
    };
    if (o.components?.length) for (const c of o.components) put(c.loinc, c.value, c.unit);
    put(o.loinc, o.value, o.unit);
  });
  for (const a of input.assessments ?? []) {
    const set = byMinute.get(minuteOf(a.at, 'assessment/at'));
    if (!set) continue;
    if (a.consciousness) set.consciousness = a.consciousness;
    if (a.onOxygen !== undefined) set.onOxygen = a.onOxygen;
  }
  return [...byMinute.entries()].sort((a, b) => a[0] - b[0]).map(([, s]) => s);
}

export function news2Of(set: VitalSet): News2Outcome {
  const v = set.values;
  const missing: string[] = [];
  if (!v.respiratoryRate) missing.push('respiratoryRate');
  if (!v.spo2) missing.push('spo2');
  if (!v.systolic) missing.push('systolicBp');
  if (!v.pulse) missing.push('pulse');
  if (!v.temperature) missing.push('temperature');
  if (!set.consciousness) missing.push('consciousness');
  if (set.onOxygen === undefined) missing.push('onOxygen');
  if (missing.length === 0) {
    return {
      complete: true,
      result: computeNews2({
        respiratoryRate: v.respiratoryRate!.value,
        spo2: v.spo2!.value,
        onOxygen: set.onOxygen!,
        systolicBp: v.systolic!.value,
        pulse: v.pulse!.value,
        consciousness: set.consciousness!,
        temperature: v.temperature!.value,
      }),
    };
  }
  let partial = 0;
  if (v.respiratoryRate) partial += scoreRespiratoryRate(v.respiratoryRate.value);
  if (v.spo2) partial += scoreSpO2Scale1(v.spo2.value);
  if (v.systolic) partial += scoreSystolicBp(v.systolic.value);
  if (v.pulse) partial += scorePulse(v.pulse.value);
  if (v.temperature) partial += scoreTemperature(v.temperature.value);
  if (set.consciousness) partial += set.consciousness === 'A' ? 0 : 3;
  if (set.onOxygen) partial += 2;
  return { complete: false, partialScore: partial, missing };
}

export function news2Text(outcome: News2Outcome): string {
  if (outcome.complete) return `${outcome.result.total} điểm: ${NEWS2_RISK_TEXT[outcome.result.risk].vi}`;
  return `Chưa tính được (thiếu ${outcome.missing.map((m) => MISSING_TEXT[m] ?? m).join(', ')}); điểm các chỉ số đã có: ${outcome.partialScore}`;
}

const fmt = (set: VitalSet, p: VitalParameter) => (set.values[p] ? String(set.values[p]!.value) : '—');

export function buildVitalSigns(oids: EmrOids, ctx: DocumentContext, input: VitalSignsInput, options: { now?: () => Date } = {}): BuiltDocument {
  const checked = checkContext(ctx, options.now);
  const sets = groupVitals(input).filter((s) => Object.keys(s.values).length > 0);
  if (sets.length === 0) throw new EmrInputError('component/structuredBody/component/section/entry', 'no vital-sign measurements to report');
  const outcomes = sets.map(news2Of);
  const w = new CanonicalXmlWriter();
  writeHeader(w, oids, checked, { templateId: oids.templates.vitalSigns, code: VITAL_SIGNS_DOC, title: VITAL_SIGNS_DOC.title, serviceEvent: { low: sets[0].at, high: sets.at(-1)!.at } }, ctx.replaces);
  w.open('component').open('structuredBody');

  writeSection(
    w,
    { code: '8716-3', displayName: 'Vital signs', title: 'Dấu hiệu sinh tồn' },
    () => {
      const headers = ['Thời gian', 'Mạch (lần/phút)', 'Nhịp thở (lần/phút)', 'SpO₂ (%)', 'Nhiệt độ (°C)', 'Huyết áp (mmHg)', 'Ý thức', 'Thở oxy', 'NEWS2'];
      const rows: Cell[][] = sets.map((s, i) => {
        const o = outcomes[i];
        const bp = s.values.systolic || s.values.diastolic ? `${fmt(s, 'systolic')}/${fmt(s, 'diastolic')}` : '—';
        const alarming = o.complete && o.result.risk !== 'low';
        return [
          displayTime(s.at),
          fmt(s, 'pulse'),
          fmt(s, 'respiratoryRate'),
          fmt(s, 'spo2'),
          fmt(s, 'temperature'),
          bp,
          s.consciousness ?? '—',
          s.onOxygen === undefined ? '—' : s.onOxygen ? 'Có' : 'Không',
          { text: o.complete ? String(o.result.total) : 'chưa đủ dữ liệu', bold: alarming },
        ];
      });
      writeTable(w, headers, rows);
    },
    () => {
      sets.forEach((s) => {
        w.open('entry', { typeCode: 'DRIV' }).open('organizer', { classCode: 'CLUSTER', moodCode: 'EVN' });
        w.empty('code', { code: '85353-1', codeSystem: CODE_SYSTEMS.LOINC, codeSystemName: 'LOINC', displayName: 'Vital signs panel' });
        w.empty('statusCode', { code: 'completed' });
        w.empty('effectiveTime', { value: hl7Time(s.at, 'organizer/effectiveTime') });
        for (const [parameter, v] of Object.entries(s.values) as Array<[VitalParameter, NonNullable<VitalSet['values'][VitalParameter]>]>) {
          w.open('component').open('observation', { classCode: 'OBS', moodCode: 'EVN' });
          w.empty('code', { code: v.loinc, codeSystem: CODE_SYSTEMS.LOINC, codeSystemName: 'LOINC', displayName: VITAL_LABELS[parameter].en });
          w.empty('statusCode', { code: v.status === 'preliminary' ? 'active' : 'completed' });
          w.empty('effectiveTime', { value: hl7Time(s.at, 'observation/effectiveTime') });
          w.empty('value', { 'xsi:type': 'PQ', value: String(v.value), unit: v.unit && /^\S+$/.test(v.unit) ? v.unit : '1' });
          w.close('observation').close('component');
        }
        w.close('organizer').close('entry');
      });
    },
  );

  writeSection(
    w,
    { code: NEWS2_SNOMED.code, codeSystem: CODE_SYSTEMS.SNOMED, codeSystemName: 'SNOMED CT', displayName: NEWS2_SNOMED.displayName, title: 'Điểm cảnh báo sớm NEWS2' },
    () => {
      w.open('list', { listType: 'unordered' });
      sets.forEach((s, i) => {
        const o = outcomes[i];
        w.text('item', `${displayTime(s.at)}: ${news2Text(o)}${o.complete ? `. ${o.result.response}` : ''}`);
      });
      w.close('list');
      w.text('paragraph', 'NEWS2 theo Royal College of Physicians (2017), thang SpO₂ 1. Điểm chỉ được tính khi có đủ 7 chỉ số.');
    },
    () => {
      sets.forEach((s, i) => {
        const o = outcomes[i];
        if (!o.complete) return;
        w.open('entry', { typeCode: 'DRIV' }).open('observation', { classCode: 'OBS', moodCode: 'EVN' });
        w.empty('code', { code: NEWS2_SNOMED.code, codeSystem: CODE_SYSTEMS.SNOMED, codeSystemName: 'SNOMED CT', displayName: NEWS2_SNOMED.displayName });
        w.text('text', `${NEWS2_RISK_TEXT[o.result.risk].vi}. ${o.result.response}`);
        w.empty('statusCode', { code: 'completed' });
        w.empty('effectiveTime', { value: hl7Time(s.at, 'observation/effectiveTime') });
        w.empty('value', { 'xsi:type': 'INT', value: o.result.total });
        w.close('observation').close('entry');
      });
    },
  );

  w.close('structuredBody').close('component');
  w.close('ClinicalDocument');
  const vitalValues: VitalValueRow[] = sets.flatMap((s) => Object.values(s.values).map((v) => ({ loinc: v!.loinc, value: v!.value, unit: v!.unit, effectiveAt: s.at })));
  return {
    id: checked.id,
    setId: checked.setId,
    version: checked.version,
    type: 'vital-signs',
    title: VITAL_SIGNS_DOC.title,
    code: VITAL_SIGNS_DOC.code,
    patientId: ctx.patient.id,
    maLk: ctx.visit?.maLk ?? input.observations[0]?.maLk,
    createdAt: checked.createdAt,
    serviceAt: sets.at(-1)!.at,
    authorName: checked.author.name!,
    replaces: ctx.replaces,
    xml: w.toString(),
    labValues: [],
    vitalValues,
    news2: sets.map((s, i) => {
      const o = outcomes[i];
      return o.complete ? { at: s.at, complete: true, total: o.result.total, risk: o.result.risk } : { at: s.at, complete: false, partialScore: o.partialScore, missing: o.missing };
    }),
    warnings: checked.warnings,
  };
}

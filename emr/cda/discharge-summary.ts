// Discharge summary (Tóm tắt hồ sơ bệnh án ra viện, LOINC 18842-5) from HIS data: reason for
// admission, admission and discharge diagnoses (ICD-10), course and outcome, key results, imaging
// conclusions, medications given, follow-up. Only a discharged visit has one.
import fs from 'node:fs';
import path from 'node:path';
import { primaryDiagnosis, type Diagnosis } from '../../model';
import type { EmrOids } from '../oids';
import { EmrInputError, type BuiltDocument, type DischargeSummaryInput, type DocumentContext } from '../types';
import { FLAG_TEXT, isAbnormal, resultName, writeDiagnosisEntry } from './entries';
import { checkContext, displayDate, displayTime, writeHeader, writeSection, writeTable, type Cell } from './header';
import { CanonicalXmlWriter } from './xml';

export const DISCHARGE_SUMMARY = { code: '18842-5', displayName: 'Discharge summary', title: 'Tóm tắt hồ sơ bệnh án ra viện' } as const;

function loadCodeList(name: string): Map<string, string> {
  // The BHYT code lists the claims area keeps (mappings/bhyt); the summary prints their Vietnamese text.
  try {
    const file = path.join(__dirname, '..', '..', 'mappings', 'bhyt', `${name}.json`);
    const list = JSON.parse(fs.readFileSync(file, 'utf8')) as { codes: Array<{ code: string; vi: string }> };
    return new Map(list.codes.map((c) => [c.code, c.vi]));
  } catch {
    return new Map();
  }
}

const OUTCOMES = loadCodeList('ket_qua_dtri');
const DISCHARGE_TYPES = loadCodeList('ma_loai_rv');
const VISIT_KIND_TEXT = { inpatient: 'Nội trú', outpatient: 'Ngoại trú', emergency: 'Cấp cứu' } as const;

function diagnosesOf(list: Diagnosis[], stage: 'admission' | 'discharge'): Diagnosis[] {
  const staged = list.filter((d) => d.stage === stage);
  const chosen = staged.length > 0 ? staged : list.filter((d) => !d.stage);
  return [...chosen].sort((a, b) => Number(b.primary) - Number(a.primary));
}

function days(from: string, to: string): number {
  return Math.max(1, Math.round((Date.parse(to) - Date.parse(from)) / 86_400_000));
}

export function buildDischargeSummary(oids: EmrOids, ctx: DocumentContext, input: DischargeSummaryInput, options: { now?: () => Date } = {}): BuiltDocument {
  const visit = input.visit;
  if (!visit) throw new EmrInputError('componentOf/encompassingEncounter', 'no visit to summarise');
  const checked = checkContext({ ...ctx, visit }, options.now);
  if (!visit.dischargedAt) throw new EmrInputError('componentOf/encompassingEncounter/effectiveTime/high', `visit ${visit.maLk} has not been discharged`);
  const discharge = diagnosesOf(visit.diagnoses ?? [], 'discharge');
  if (discharge.length === 0 && !visit.dischargeDiagnosisText) throw new EmrInputError('component/structuredBody/component/section[discharge diagnosis]', `visit ${visit.maLk} has no discharge diagnosis`);
  const admission = diagnosesOf(visit.diagnoses ?? [], 'admission');
  const results = (input.results ?? []).filter((r) => r.status !== 'superseded' && r.status !== 'cancelled');
  const medications = (input.medications ?? []).filter((m) => m.kind === 'drug');

  const w = new CanonicalXmlWriter();
  writeHeader(
    w,
    oids,
    checked,
    { templateId: oids.templates.dischargeSummary, code: DISCHARGE_SUMMARY, title: DISCHARGE_SUMMARY.title, serviceEvent: { low: visit.admittedAt, high: visit.dischargedAt } },
    ctx.replaces,
  );
  w.open('component').open('structuredBody');

  writeSection(w, { code: '29299-5', displayName: 'Reason for visit', title: 'Lý do vào viện' }, () => {
    w.text('paragraph', visit.reason?.trim() || 'Không ghi nhận');
    const facts = [`Hình thức: ${VISIT_KIND_TEXT[visit.kind]}`, `Vào viện: ${displayTime(visit.admittedAt)}`, `Ra viện: ${displayTime(visit.dischargedAt!)}`, `Số ngày điều trị: ${days(visit.admittedAt, visit.dischargedAt!)}`];
    if (visit.medicalRecordNumber) facts.push(`Số hồ sơ bệnh án: ${visit.medicalRecordNumber}`);
    if (ctx.department) facts.push(`Khoa: ${ctx.department.name}`);
    w.text('paragraph', facts.join(' · '));
  });

  const diagnosisSection = (code: string, displayName: string, title: string, list: Diagnosis[], fallback?: string) =>
    writeSection(
      w,
      { code, displayName, title },
      () => {
        if (list.length === 0) {
          w.text('paragraph', fallback?.trim() || 'Không ghi nhận');
          return;
        }
        w.open('list', { listType: 'ordered' });
        for (const d of list) w.text('item', `${d.icd10}${d.text ? ` – ${d.text}` : ''}${d.primary ? ' (bệnh chính)' : ' (bệnh kèm theo)'}`);
        w.close('list');
      },
      () => list.forEach((d) => writeDiagnosisEntry(w, d)),
    );
  diagnosisSection('46241-6', 'Hospital admission diagnosis', 'Chẩn đoán vào viện', admission, visit.admissionDiagnosisText);
  diagnosisSection('11535-2', 'Hospital discharge Dx', 'Chẩn đoán ra viện', discharge, visit.dischargeDiagnosisText);

  writeSection(w, { code: '8648-8', displayName: 'Hospital course', title: 'Quá trình điều trị và kết quả' }, () => {
    if (input.courseText?.trim()) for (const p of input.courseText.split(/\r?\n+/).filter((x) => x.trim())) w.text('paragraph', p.trim());
    const main = primaryDiagnosis({ diagnoses: discharge });
    const summary = [`Người bệnh điều trị ${VISIT_KIND_TEXT[visit.kind].toLowerCase()} ${days(visit.admittedAt, visit.dischargedAt!)} ngày`];
    if (main) summary.push(`chẩn đoán chính ${main.icd10}${main.text ? ` (${main.text})` : ''}`);
    w.text('paragraph', `${summary.join(', ')}.`);
    const outcome = visit.outcomeCode ? (OUTCOMES.get(visit.outcomeCode) ?? `mã ${visit.outcomeCode}`) : undefined;
    const dischargeType = visit.dischargeTypeCode ? (DISCHARGE_TYPES.get(visit.dischargeTypeCode) ?? `mã ${visit.dischargeTypeCode}`) : undefined;
    if (outcome) w.text('paragraph', `Kết quả điều trị: ${outcome}.`);
    if (dischargeType) w.text('paragraph', `Tình trạng ra viện: ${dischargeType}.`);
    if (visit.procedureCodes?.length) w.text('paragraph', `Thủ thuật/phẫu thuật (ICD-9-CM): ${visit.procedureCodes.join(', ')}.`);
  });

  if (results.length > 0 || (input.reports?.length ?? 0) > 0) {
    writeSection(w, { code: '30954-2', displayName: 'Relevant diagnostic tests/laboratory data', title: 'Kết quả cận lâm sàng chính' }, () => {
      if (results.length > 0) {
        // Abnormal values first: they are what the next doctor needs to see.
        const sorted = [...results].sort((a, b) => Number(isAbnormal(b.abnormalFlag)) - Number(isAbnormal(a.abnormalFlag)) || Date.parse(a.observedAt) - Date.parse(b.observedAt));
        const rows: Cell[][] = sorted.map((r) => [
          displayTime(r.observedAt),
          resultName(r),
          { text: `${r.value}${r.unit ? ` ${r.unit}` : ''}`, bold: isAbnormal(r.abnormalFlag) },
          r.abnormalFlag ? { text: FLAG_TEXT[r.abnormalFlag].vi, bold: isAbnormal(r.abnormalFlag) } : '',
        ]);
        writeTable(w, ['Thời gian', 'Xét nghiệm', 'Kết quả', 'Đánh giá'], rows);
      }
      for (const report of input.reports ?? []) w.text('paragraph', `Chẩn đoán hình ảnh (${report.accessionNumber}, ${displayTime(report.reportedAt)}): ${report.conclusion}`);
    });
  }

  if (medications.length > 0) {
    writeSection(
      w,
      { code: '10160-0', displayName: 'History of Medication use', title: 'Thuốc đã sử dụng' },
      () => {
        const rows: Cell[][] = medications.map((m) => [m.name, m.drug?.strength ?? '', `${m.quantity} ${m.unit}`, m.drug?.dosage ?? m.drug?.instructions ?? '']);
        writeTable(w, ['Tên thuốc', 'Hàm lượng', 'Số lượng', 'Liều dùng'], rows);
      },
      () => {
        for (const m of medications) {
          w.open('entry').open('substanceAdministration', { classCode: 'SBADM', moodCode: 'EVN' });
          w.empty('statusCode', { code: 'completed' });
          w.open('consumable').open('manufacturedProduct').open('manufacturedLabeledDrug');
          w.empty('code', { code: m.hisCode, codeSystem: oids.hisDrugCode, displayName: m.name });
          w.text('name', m.name);
          w.close('manufacturedLabeledDrug').close('manufacturedProduct').close('consumable');
          w.close('substanceAdministration').close('entry');
        }
      },
    );
  }

  writeSection(w, { code: '18776-5', displayName: 'Plan of care note', title: 'Hướng điều trị tiếp và hẹn tái khám' }, () => {
    w.text('paragraph', visit.followUpDate ? `Hẹn tái khám ngày ${displayDate(visit.followUpDate)}.` : 'Không có lịch hẹn tái khám.');
  });

  w.close('structuredBody').close('component');
  w.close('ClinicalDocument');
  return {
    id: checked.id,
    setId: checked.setId,
    version: checked.version,
    type: 'discharge-summary',
    title: DISCHARGE_SUMMARY.title,
    code: DISCHARGE_SUMMARY.code,
    patientId: ctx.patient.id,
    maLk: visit.maLk,
    createdAt: checked.createdAt,
    serviceAt: visit.dischargedAt,
    authorName: checked.author.name!,
    replaces: ctx.replaces,
    xml: w.toString(),
    labValues: [],
    vitalValues: [],
    warnings: checked.warnings,
  };
}


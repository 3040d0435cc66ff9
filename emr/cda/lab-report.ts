// Laboratory report (Phiếu kết quả xét nghiệm, LOINC 11502-2): the results of one lab order as a
// Vietnamese narrative table and a coded battery (LOINC codes, UCUM units, interpretation flags,
// reference ranges). Superseded rows are left out: the corrected value is the one reported.
import type { EmrOids } from '../oids';
import { EmrInputError, type BuiltDocument, type DocumentContext, type LabReportInput } from '../types';
import { FLAG_TEXT, RESULT_STATUS_TEXT, isAbnormal, labValueRow, resultName, writeResultObservation } from './entries';
import { checkContext, displayTime, hl7Time, writeHeader, writeSection, writeTable, type Cell } from './header';
import { CanonicalXmlWriter } from './xml';

export const LAB_REPORT = { code: '11502-2', displayName: 'Laboratory report', title: 'Phiếu kết quả xét nghiệm' } as const;

const SPECIMEN_TEXT: Record<string, string> = {
  serum: 'Huyết thanh',
  plasma: 'Huyết tương',
  'whole-blood': 'Máu toàn phần',
  urine: 'Nước tiểu',
};

/** HL7 table 0487 specimen types for the canonical specimen type names. */
const SPECIMEN_0487: Record<string, string> = { serum: 'SER', plasma: 'PLAS', 'whole-blood': 'BLD', urine: 'UR' };
const HL7_TABLE_0487 = '2.16.840.1.113883.12.487';

function latest(times: Array<string | undefined>): string | undefined {
  return times.filter((t): t is string => !!t).sort((a, b) => Date.parse(a) - Date.parse(b)).at(-1);
}

export function buildLabReport(oids: EmrOids, ctx: DocumentContext, input: LabReportInput, options: { now?: () => Date } = {}): BuiltDocument {
  const checked = checkContext(ctx, options.now);
  const { order } = input;
  if (!order?.id) throw new EmrInputError('inFulfillmentOf/order/id', 'the lab order has no id');
  const results = (input.results ?? []).filter((r) => r.status !== 'superseded');
  if (results.length === 0) throw new EmrInputError('component/structuredBody/component/section/entry', `lab order ${order.id} has no results to report`);
  results.forEach((r, i) => {
    if (!r.code?.trim() && !r.loinc) throw new EmrInputError(`entry/organizer/component[${i}]/observation/code`, 'a result has neither a test code nor a LOINC code');
    if (r.status !== 'cancelled' && !r.value?.trim()) throw new EmrInputError(`entry/organizer/component[${i}]/observation/value`, `result ${r.code} has no value`);
  });
  const serviceAt = latest(results.map((r) => r.resultedAt ?? r.observedAt)) ?? checked.createdAt;
  const w = new CanonicalXmlWriter();
  writeHeader(
    w,
    oids,
    checked,
    {
      templateId: oids.templates.labReport,
      code: LAB_REPORT,
      title: LAB_REPORT.title,
      orders: [{ id: order.id, root: oids.orderId, extraIds: order.specimen?.id ? [{ root: oids.specimen, extension: order.specimen.id }] : undefined }],
      serviceEvent: { low: order.specimen?.collectedAt ?? order.orderedAt, high: serviceAt },
    },
    ctx.replaces,
  );
  w.open('component').open('structuredBody');

  writeSection(
    w,
    { code: '30954-2', displayName: 'Relevant diagnostic tests/laboratory data', title: 'Kết quả xét nghiệm' },
    () => {
      const facts: string[] = [`Số phiếu: ${order.id}`];
      if (order.specimen?.id) facts.push(`Mã mẫu: ${order.specimen.id}`);
      if (order.specimen?.type) facts.push(`Loại mẫu: ${SPECIMEN_TEXT[order.specimen.type] ?? order.specimen.type}`);
      if (order.specimen?.collectedAt) facts.push(`Lấy mẫu: ${displayTime(order.specimen.collectedAt)}`);
      if (order.clinicalInfo) facts.push(`Chẩn đoán: ${order.clinicalInfo}`);
      w.text('paragraph', facts.join(' · '));
      const rows: Cell[][] = results.map((r) => {
        const abnormal = isAbnormal(r.abnormalFlag);
        return [
          resultName(r),
          { text: r.value, bold: abnormal },
          r.unit ?? '',
          r.referenceRange?.text ?? [r.referenceRange?.low, r.referenceRange?.high].filter(Boolean).join(' - '),
          r.abnormalFlag ? { text: FLAG_TEXT[r.abnormalFlag].vi, bold: abnormal } : '',
          RESULT_STATUS_TEXT[r.status],
        ];
      });
      writeTable(w, ['Xét nghiệm', 'Kết quả', 'Đơn vị', 'Khoảng tham chiếu', 'Đánh giá', 'Trạng thái'], rows);
      const comments = results.filter((r) => r.comment?.trim());
      for (const r of comments) w.text('paragraph', `${resultName(r)}: ${r.comment}`);
    },
    () => {
      w.open('entry', { typeCode: 'DRIV' }).open('organizer', { classCode: 'BATTERY', moodCode: 'EVN' });
      w.empty('id', { root: oids.orderId, extension: order.id });
      w.empty('statusCode', { code: results.every((r) => r.status !== 'preliminary') ? 'completed' : 'active' });
      if (order.specimen?.collectedAt) w.empty('effectiveTime', { value: hl7Time(order.specimen.collectedAt, 'entry/organizer/effectiveTime') });
      if (order.specimen?.id) {
        w.open('specimen').open('specimenRole');
        w.empty('id', { root: oids.specimen, extension: order.specimen.id });
        const type = order.specimen.type;
        if (type && SPECIMEN_0487[type]) w.within('specimenPlayingEntity', undefined, () => w.empty('code', { code: SPECIMEN_0487[type], codeSystem: HL7_TABLE_0487, displayName: SPECIMEN_TEXT[type] }));
        w.close('specimenRole').close('specimen');
      }
      for (const result of results) {
        w.open('component');
        writeResultObservation(w, oids, result);
        w.close('component');
      }
      w.close('organizer').close('entry');
    },
  );

  w.close('structuredBody').close('component');
  w.close('ClinicalDocument');
  return {
    id: checked.id,
    setId: checked.setId,
    version: checked.version,
    type: 'lab-report',
    title: LAB_REPORT.title,
    code: LAB_REPORT.code,
    patientId: ctx.patient.id,
    maLk: ctx.visit?.maLk ?? order.maLk,
    createdAt: checked.createdAt,
    serviceAt,
    authorName: checked.author.name!,
    replaces: ctx.replaces,
    xml: w.toString(),
    labValues: results.filter((r) => r.status !== 'cancelled').map(labValueRow),
    vitalValues: [],
    warnings: checked.warnings,
  };
}


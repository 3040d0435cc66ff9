// Imaging report (Phiếu kết quả chẩn đoán hình ảnh, LOINC 18748-4): one study, its findings and
// conclusion as the radiologist wrote them, the study reference (Study Instance UID, accession) and
// the procedure, coded with DICOM terms.
import { CODE_SYSTEMS, type EmrOids } from '../oids';
import { EmrInputError, type BuiltDocument, type DocumentContext, type ImagingReportInput } from '../types';
import { RESULT_STATUS_TEXT } from './entries';
import { checkContext, displayTime, hl7Time, writeHeader, writeSection } from './header';
import { CanonicalXmlWriter } from './xml';

export const IMAGING_REPORT = { code: '18748-4', displayName: 'Diagnostic imaging study', title: 'Phiếu kết quả chẩn đoán hình ảnh' } as const;

const MODALITY_TEXT: Record<string, string> = {
  CR: 'X-quang (CR)',
  DX: 'X-quang kỹ thuật số',
  CT: 'Cắt lớp vi tính (CT)',
  MR: 'Cộng hưởng từ (MRI)',
  US: 'Siêu âm',
  MG: 'Chụp nhũ ảnh',
  XA: 'Chụp mạch (XA)',
  NM: 'Y học hạt nhân',
  PT: 'PET',
  ES: 'Nội soi',
};

/** Splits free text into paragraphs (the radiologist's line breaks are kept). */
function paragraphs(text: string): string[] {
  return text
    .split(/\r?\n+/)
    .map((p) => p.trim())
    .filter(Boolean);
}

export function buildImagingReport(oids: EmrOids, ctx: DocumentContext, input: ImagingReportInput, options: { now?: () => Date } = {}): BuiltDocument {
  const checked = checkContext(ctx, options.now);
  const { report, order, study } = input;
  if (!report) throw new EmrInputError('component/structuredBody', 'no imaging report');
  if (!report.accessionNumber?.trim()) throw new EmrInputError('inFulfillmentOf/order/id', 'the imaging report has no accession number');
  if (!report.findings?.trim()) throw new EmrInputError('component/structuredBody/component/section[findings]/text', `report ${report.accessionNumber} has no findings`);
  if (!report.conclusion?.trim()) throw new EmrInputError('component/structuredBody/component/section[impression]/text', `report ${report.accessionNumber} has no conclusion`);
  const studyUid = study?.studyInstanceUid ?? report.studyInstanceUid ?? order?.studyInstanceUid;
  const modality = study?.modality ?? order?.modality;
  const procedure = order?.requestedProcedure;
  const serviceAt = report.reportedAt;
  const w = new CanonicalXmlWriter();
  writeHeader(
    w,
    oids,
    checked,
    {
      templateId: oids.templates.imagingReport,
      code: IMAGING_REPORT,
      title: IMAGING_REPORT.title,
      orders: [
        order
          ? { id: order.id, root: oids.orderId, extraIds: [{ root: oids.accession, extension: report.accessionNumber }] }
          : { id: report.accessionNumber, root: oids.accession },
      ],
      serviceEvent: {
        ids: studyUid ? [{ root: studyUid }] : undefined,
        code: procedure ? { code: procedure.code, codeSystem: oids.hisServiceCode, displayName: procedure.description } : undefined,
        low: study?.startedAt ?? order?.scheduledAt,
        high: report.reportedAt,
      },
    },
    ctx.replaces,
  );
  w.open('component').open('structuredBody');

  writeSection(
    w,
    { code: '55111-9', displayName: 'Current imaging procedure descriptions', title: 'Kỹ thuật thực hiện' },
    () => {
      w.open('list', { listType: 'unordered' });
      if (procedure) w.text('item', `Dịch vụ: ${procedure.description}`);
      if (modality) w.text('item', `Phương thức: ${MODALITY_TEXT[modality] ?? modality}`);
      if (order?.bodyPart) w.text('item', `Vùng chụp: ${order.bodyPart}`);
      w.text('item', `Số accession: ${report.accessionNumber}`);
      if (studyUid) w.text('item', `Study Instance UID: ${studyUid}`);
      if (study?.seriesCount !== undefined || study?.instanceCount !== undefined) w.text('item', `Số loạt ảnh: ${study?.seriesCount ?? '?'}, số ảnh: ${study?.instanceCount ?? '?'}`);
      if (order?.clinicalInfo) w.text('item', `Chẩn đoán lâm sàng: ${order.clinicalInfo}`);
      w.text('item', `Thời gian đọc kết quả: ${displayTime(report.reportedAt)} (${RESULT_STATUS_TEXT[report.status]})`);
      w.close('list');
    },
    () => {
      if (!studyUid) return;
      w.open('entry').open('act', { classCode: 'ACT', moodCode: 'EVN' });
      w.empty('id', { root: studyUid });
      w.empty('code', { code: '113014', codeSystem: CODE_SYSTEMS.DCM, codeSystemName: 'DCM', displayName: 'Study' });
      if (study?.startedAt ?? order?.scheduledAt) w.empty('effectiveTime', { value: hl7Time((study?.startedAt ?? order?.scheduledAt)!, 'entry/act/effectiveTime') });
      if (modality) {
        w.open('entryRelationship', { typeCode: 'COMP' }).open('observation', { classCode: 'OBS', moodCode: 'EVN' });
        w.empty('code', { code: '121139', codeSystem: CODE_SYSTEMS.DCM, codeSystemName: 'DCM', displayName: 'Modality' });
        w.empty('value', { 'xsi:type': 'CD', code: modality, codeSystem: CODE_SYSTEMS.DCM, codeSystemName: 'DCM', displayName: MODALITY_TEXT[modality] });
        w.close('observation').close('entryRelationship');
      }
      w.close('act').close('entry');
    },
  );

  const textSection = (code: string, displayName: string, title: string, dcm: { code: string; displayName: string }, text: string) =>
    writeSection(
      w,
      { code, displayName, title },
      () => {
        for (const p of paragraphs(text)) w.text('paragraph', p);
      },
      () => {
        w.open('entry').open('observation', { classCode: 'OBS', moodCode: 'EVN' });
        w.empty('code', { code: dcm.code, codeSystem: CODE_SYSTEMS.DCM, codeSystemName: 'DCM', displayName: dcm.displayName });
        w.empty('statusCode', { code: report.status === 'preliminary' ? 'active' : 'completed' });
        w.empty('effectiveTime', { value: hl7Time(report.reportedAt, 'observation/effectiveTime') });
        w.text('value', text.trim(), { 'xsi:type': 'ST' });
        w.close('observation').close('entry');
      },
    );
  textSection('18782-3', 'Radiology Study observation (narrative)', 'Mô tả', { code: '121071', displayName: 'Finding' }, report.findings);
  textSection('19005-8', 'Radiology Impression', 'Kết luận', { code: '121077', displayName: 'Conclusion' }, report.conclusion);

  w.close('structuredBody').close('component');
  w.close('ClinicalDocument');
  return {
    id: checked.id,
    setId: checked.setId,
    version: checked.version,
    type: 'imaging-report',
    title: IMAGING_REPORT.title,
    code: IMAGING_REPORT.code,
    patientId: ctx.patient.id,
    maLk: ctx.visit?.maLk ?? order?.maLk,
    createdAt: checked.createdAt,
    serviceAt,
    authorName: checked.author.name!,
    replaces: ctx.replaces,
    xml: w.toString(),
    labValues: [],
    vitalValues: [],
    warnings: checked.warnings,
  };
}

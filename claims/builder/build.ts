// Builds the claim tables of one episode (MA_LK) from the canonical model: XML1 summary, XML2 drugs,
// XML3 services/supplies/beds, XML4 paraclinical results, XML5 clinical progress, XML7 discharge
// paper and XML8 record summary for inpatients, XML13 referral and XML14 appointment when the visit
// has them. Amounts are recomputed with the official formulas in exact decimals; where the HIS
// computed something else, a note says so (the written value follows the rules).
import {
  type BillingLine,
  type Facility,
  identifierOf,
  type ImagingReport,
  type Observation,
  type Patient,
  primaryDiagnosis,
  type Result,
  sexToBhyt,
  toBhytDate,
  toBhytDateTime,
  type Visit,
  type Diagnosis,
  VITAL_SIGNS,
  type VisitDocuments,
} from '../../model';
import type { ClaimRecord, Episode, EpisodeTables } from '../model';
import { routeOfCategory, smallCostThreshold } from '../money/benefit';
import { Decimal, sum } from '../money/decimal';
import { computeLine, type LineAmounts } from '../money/line';
import { type BenefitPolicy, defaultCodeLists } from '../spec/codelists';
import { currentVersion, formatSpec } from '../spec/registry';
import type { FormatVersion } from '../spec/types';
import { buildDocumentTables, xml1DocumentFields } from './documents';

/** Everything the builder reads for one episode (what HisLookups returns for one MA_LK). */
export interface ClaimSource {
  facility: Facility;
  patient: Patient;
  visit: Visit;
  lines: BillingLine[];
  /** Lab results with the order they belong to (XML4). */
  results?: Array<Result & { orderId: string }>;
  /** Imaging reports; matched to a billing line by orderId, else by accession number = orderId. */
  reports?: Array<ImagingReport & { orderId?: string }>;
  /** Vital signs: the fallback source of XML5 when the HIS has no progress notes. */
  observations?: Observation[];
  /** Clinical progress notes, when the HIS keeps them (XML5). */
  progressNotes?: Array<{ at: string; text: string; staffCertificate?: string; stage?: string; consultation?: string; surgery?: string }>;
  /** Referral letter, birth and leave certificates, HIV and TB records, medical assessment (XML6, XML9–XML13, XML15). */
  documents?: VisitDocuments;
}

export interface BuildOptions {
  version?: Exclude<FormatVersion, '4210'>;
  /** Settlement period claimed (NAM_QT / THANG_QT). Default: the discharge month. */
  settlement?: { year: number; month: number };
  /** Health ID (social-insurance number, 10 digits) of the facility head or authorised signatory (MA_TTDV). */
  signerHealthId?: string;
  /** Department head / authorised signer of the discharge paper (XML7 MA_BS / TEN_BS); default: the attending doctor. */
  dischargeSigner?: { code: string; name: string };
  /** Date of the documents (NGAY_CT); default: the discharge date. */
  documentDate?: string;
  /** MUC_HUONG policy (default: mappings/bhyt/benefit-policy.json). */
  policy?: BenefitPolicy;
}

export interface BuildNote {
  severity: 'warning' | 'info';
  table: string;
  lineNo?: number;
  field?: string;
  message: string;
}

export interface BuildResult {
  episode: Episode;
  notes: BuildNote[];
}

const drugKinds = new Set(['drug']);
const needsXml5 = ['02', '03', '04', '05', '06', '08', '09'];
const inpatientDocs = ['03', '04', '09'];

const dec = (v: string | number | undefined, fallback = '0') => Decimal.from(v === undefined || v === '' ? fallback : v);
const text = (d: Decimal) => d.toString();
const hospitalIso = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})(?::\d{2}(?:\.\d+)?)?(?:\+07:00)?$/;
/** yyyyMMddHHmm; ISO text already in hospital time (+07:00 or no offset) is rearranged without a Date round trip. */
function dt(v: string | undefined): string | undefined {
  if (!v) return undefined;
  const m = hospitalIso.exec(v);
  return m ? m[1] + m[2] + m[3] + m[4] + m[5] : toBhytDateTime(v);
}

function computeFor(version: FormatVersion, table: 'XML2' | 'XML3', l: BillingLine, level: number): LineAmounts {
  return computeLine({
    table,
    version,
    quantity: dec(l.quantity),
    unitPrice: dec(l.unitPrice),
    bhytUnitPrice: dec(l.bhytUnitPrice, l.unitPrice),
    serviceRatio: Decimal.of(l.serviceRatio ?? 100),
    coverageRatio: Decimal.of(l.coverageRatio),
    benefitLevel: Decimal.of(level),
    otherSources: dec(l.amounts?.otherSources),
  });
}

/** The HIS gives one other-source amount; without its breakdown it is "remaining other sources". */
function otherSourceFields(a: LineAmounts): Record<string, string> {
  const n = a.otherSources.toString();
  return { T_NGUONKHAC_NSNN: '0', T_NGUONKHAC_VTNN: '0', T_NGUONKHAC_VTTN: '0', T_NGUONKHAC_CL: n, T_NGUONKHAC: n };
}

function cert(s?: { practisingCertificate?: string; id: string }): string {
  return s?.practisingCertificate ?? '';
}

function sumOf(lines: LineAmounts[], pick: keyof LineAmounts): Decimal {
  let total = Decimal.zero;
  for (const a of lines) total = total.add(a[pick]);
  return total;
}

export function buildEpisode(source: ClaimSource, options: BuildOptions = {}): BuildResult {
  const version = options.version ?? (currentVersion as Exclude<FormatVersion, '4210'>);
  const { visit, patient, facility } = source;
  const notes: BuildNote[] = [];
  const note = notes.push.bind(notes) as (n: BuildNote) => number;
  if (!visit.dischargedAt) note({ severity: 'warning', table: 'XML1', field: 'NGAY_RA', message: `visit ${visit.maLk} is still open (no discharge time)` });
  const maLk = visit.maLk;
  const coverage = visit.coverage;

  // ---- XML2 / XML3 lines -------------------------------------------------------------------
  const drugLines = source.lines.filter((l) => drugKinds.has(l.kind)).sort((a, b) => a.lineNo - b.lineNo);
  const serviceLines = source.lines.filter((l) => !drugKinds.has(l.kind)).sort((a, b) => a.lineNo - b.lineNo);
  const computed = new Map<BillingLine, LineAmounts>();
  const levels = new Map<BillingLine, number>();
  const compute = computeFor.bind(undefined, version);
  for (const [table, lines] of [['XML2', drugLines], ['XML3', serviceLines]] as const) for (const l of lines) levels.set(l, l.benefitLevel);
  // On-route visits under 15 % of the base salary, and commune stations, are paid at 100 % (QĐ 130 MUC_HUONG).
  const policy = options.policy ?? defaultCodeLists().benefit;
  const route = routeOfCategory(policy, coverage?.categoryCode);
  if (coverage && visit.dischargedAt && (route === 'on-route' || route === 'emergency')) {
    const inScope = sum([...drugLines.map((l) => compute('XML2', l, 0)), ...serviceLines.map((l) => compute('XML3', l, 0))].map((a) => a.insuranceScope));
    const threshold = smallCostThreshold(policy, inScope, toBhytDateTime(visit.dischargedAt));
    const commune = facility.level === 'commune';
    if (threshold || commune) {
      const why = commune ? 'the visit is at a commune health station' : `the in-scope total ${inScope.toString()} is under ${policy.smallCostPercentOfBaseSalary} % of the base salary (${threshold!.toString()})`;
      for (const l of [...drugLines, ...serviceLines]) {
        if (l.benefitLevel !== 100 && l.coverageRatio > 0) {
          levels.set(l, 100);
          note({ severity: 'warning', table: drugKinds.has(l.kind) ? 'XML2' : 'XML3', lineNo: l.lineNo, field: 'MUC_HUONG', message: `the HIS gave MUC_HUONG ${l.benefitLevel}; 100 is written because ${why}` });
        }
      }
    }
  }
  for (const [table, lines] of [['XML2', drugLines], ['XML3', serviceLines]] as const) {
    for (const l of lines) {
      const a = compute(table, l, levels.get(l)!);
      computed.set(l, a);
      if (levels.get(l) === l.benefitLevel) compareWithHis(table, l, a, note);
      if (table === 'XML2' && l.bhytUnitPrice && !dec(l.bhytUnitPrice).eq(dec(l.unitPrice))) {
        note({ severity: 'warning', table, lineNo: l.lineNo, field: 'DON_GIA', message: `drug ${l.bhytCode} has a fund price ${l.bhytUnitPrice} different from its price ${l.unitPrice}; XML2 has one price (DON_GIA) and uses ${l.unitPrice}` });
      }
    }
  }

  const xml2: ClaimRecord[] = drugLines.map((l, i) => drugRecord(maLk, i, l, computed.get(l)!, levels.get(l)!));

  const xml3: ClaimRecord[] = serviceLines.map((l, i) => serviceRecord(maLk, i, l, computed.get(l)!, levels.get(l)!));

  // ---- XML1 -----------------------------------------------------------------------------------
  const all = [...drugLines, ...serviceLines].map((l) => computed.get(l)!);

  const supplies = serviceLines.filter((l) => l.maNhom === '10' || l.maNhom === '11').map((l) => computed.get(l)!);
  const tongBh = sumOf(all, 'insuranceScope');
  const bncct = sumOf(all, 'coPayment');
  const ffs = [...drugLines, ...serviceLines].filter((l) => l.paymentMethodCode === '1').map((l) => computed.get(l)!);
  const primary = primaryDiagnosis(visit);
  const secondary = visit.diagnoses.filter((d) => !d.primary && d.stage !== 'admission').map((d) => d.icd10);
  const vao = dt(visit.admittedAt)!;
  const ra = dt(visit.dischargedAt) ?? '';
  const settlement = options.settlement ?? (ra ? { year: Number(ra.slice(0, 4)), month: Number(ra.slice(4, 6)) } : undefined);
  const careType = visit.careTypeCode;
  const surgery = serviceLines.some((l) => l.maNhom === '8');
  const procedure = serviceLines.some((l) => l.maNhom === '18');
  // Treatment method (PP_DIEU_TRI, TT 18/2022) derived from what was billed, when the HIS has no text.
  const treatment = surgery ? 'Phẫu thuật' : procedure ? 'Thủ thuật, điều trị nội khoa' : 'Điều trị nội khoa';
  const dischargeText = visit.dischargeDiagnosisText ?? visit.diagnoses.filter((d) => d.stage !== 'admission').map((d) => d.text ?? d.icd10).join('; ');
  const admissionText = visit.admissionDiagnosisText ?? visit.diagnoses.filter((d) => d.stage === 'admission' || d.primary).map((d) => d.text ?? d.icd10)[0] ?? '';

  const docFields = xml1DocumentFields(source.documents, visit.dischargeTypeCode);
  const xml1 = xml1Record({ maLk, patient, coverage, visit, admissionText, dischargeText, primary, secondary, vao, ra, serviceLines, careType, treatment, drugLines, computed, supplies, all, tongBh, bncct, ffs, settlement, facility, options, docFields });
  const fundTotal = tongBh.sub(bncct);
  const lineFund = sumOf(all, 'fund');
  if (!fundTotal.eq(lineFund)) {
    note({ severity: 'info', table: 'XML1', field: 'T_BHTT', message: `T_BHTT = T_TONGCHI_BH − T_BNCCT = ${text(fundTotal)}; the lines' T_BHTT add up to ${text(lineFund)} because other sources were deducted from the fund's share` });
  }

  const tables: EpisodeTables = { XML1: [xml1] };
  if (xml2.length) tables.XML2 = xml2;
  if (xml3.length) tables.XML3 = xml3;

  // ---- XML4: results of paraclinical services -----------------------------------------------
  const xml4 = buildXml4(maLk, serviceLines, source);
  if (xml4.length) tables.XML4 = xml4;

  // ---- XML5: clinical progress ----------------------------------------------------------------
  if (needsXml5.includes(careType)) {
    const xml5 = buildXml5(maLk, source, vao, ra);
    if (xml5.length) tables.XML5 = xml5;
    else note({ severity: 'warning', table: 'XML5', message: `MA_LOAI_KCB ${careType} needs clinical progress (XML5) but the HIS has neither progress notes nor vital signs for ${maLk}` });
  }

  // ---- XML7 / XML8: discharge paper and record summary for inpatients --------------------------
  const docDate = options.documentDate ?? (ra ? ra.slice(0, 8) : '');
  const attending = visit.attending;
  const signer = options.dischargeSigner ?? (attending ? { code: attending.practisingCertificate ?? attending.id, name: attending.name ?? '' } : undefined);
  const lastDept = (visit.bhytDepartmentCodes ?? []).slice(-1)[0] ?? '';
  if (inpatientDocs.includes(careType) && visit.dischargeTypeCode !== '3' && ra) {
    tables.XML7 = [xml7Record({ maLk, patient, visit, dischargeText, vao, ra, treatment, options, docDate, signer, lastDept })];
  }
  const abnormal = (source.results ?? []).filter((r) => r.abnormalFlag && r.abnormalFlag !== 'N');
  const resultSummary = abnormal.length
    ? abnormal.map((r) => `${r.name ?? r.code}: ${r.value}${r.unit ? ` ${r.unit}` : ''}`).join('; ')
    : (source.results ?? []).length || (source.reports ?? []).length
      ? 'Các xét nghiệm, cận lâm sàng trong giới hạn bình thường'
      : 'Không làm cận lâm sàng';
  const conclusions = (source.reports ?? []).map((r) => r.conclusion).filter(Boolean);
  const courseSummary = [visit.reason, admissionText && `Chẩn đoán vào viện: ${admissionText}`, ra && `Điều trị ${daysText(vao, ra)}`].filter(Boolean).join('. ');
  const firstBirth = source.documents?.births[0];
  if (['03', '04', '06'].includes(careType) && ra) {
    tables.XML8 = [xml8Record({ maLk, visit, admissionText, dischargeText, vao, ra, careType, treatment, options, docDate, courseSummary, resultSummary, conclusions, firstBirth })];
  }

  // ---- XML14: re-visit appointment --------------------------------------------------------------
  if (visit.followUpDate && ra && version !== '130') {
    tables.XML14 = [xml14Record({ maLk, patient, visit, dischargeText, vao, ra, facility, options, docDate, attending, xml1 })];
  }

  // ---- XML6, XML9–XML13, XML15: from the visit's documents ---------------------------------------------
  Object.assign(
    tables,
    buildDocumentTables({
      version,
      source,
      xml1: xml1.fields,
      treatment,
      resultSummary: [resultSummary, ...conclusions].join('; '),
      courseSummary,
      signerHealthId: options.signerHealthId ?? '',
      note,
    }),
  );

  // The records above are written in the 3176/4750 order; QĐ 130 lacks some fields (e.g. NHOM_MAU):
  // keep only the fields the version has, in its order.
  const spec = formatSpec(version);
  if (version !== '130') return { episode: { version, tables }, notes };
  for (const [id, records] of Object.entries(tables)) {
    const t = spec.tables.find((x) => x.id === id)!;
    for (const r of records!) {
      const ordered: Record<string, string> = {};
      for (const f of t.fields) if (r.fields[f.name] !== undefined) ordered[f.name] = r.fields[f.name];
      r.fields = ordered;
    }
  }
  return { episode: { version, tables }, notes };
}

function rec(index: number, fields: Record<string, string>): ClaimRecord {
  return { index, fields };
}

function birth(patient: Patient): string {
  const date = toBhytDate(patient.birthDate);
  const time = patient.birthTime && /^\d{2}:\d{2}$/.test(patient.birthTime) ? patient.birthTime.replace(':', '') : '0000';
  return date + time;
}

function addressText(patient: Patient): string {
  const a = patient.address;
  if (!a) return '';
  if (a.text) return a.text;
  return [a.line, a.communeName, a.districtName, a.provinceName].filter(Boolean).join(', ');
}

/** SO_NGAY_DTRI per QĐ 4750: 01/07/09 → 0; 02/03/04/06 → NGAY_RA − NGAY_VAO + 1; 05 and 08 → days with drugs / services. */
function treatmentDays(careType: string, vao: string, ra: string, services: BillingLine[]): number {
  if (!ra || ['01', '07', '09'].includes(careType)) return 0;
  const days = Math.round((Date.UTC(+ra.slice(0, 4), +ra.slice(4, 6) - 1, +ra.slice(6, 8)) - Date.UTC(+vao.slice(0, 4), +vao.slice(4, 6) - 1, +vao.slice(6, 8))) / 86_400_000);
  if (careType === '08' || careType === '05') {
    const dates = new Set(services.map((l) => (l.performedAt ? toBhytDateTime(l.performedAt).slice(0, 8) : toBhytDateTime(l.orderedAt).slice(0, 8))));
    return Math.max(1, dates.size);
  }
  return days + 1;
}

function daysText(vao: string, ra: string): string {
  const from = `${vao.slice(6, 8)}/${vao.slice(4, 6)}/${vao.slice(0, 4)}`;
  const to = `${ra.slice(6, 8)}/${ra.slice(4, 6)}/${ra.slice(0, 4)}`;
  return `từ ${from} đến ${to}`;
}

function compareWithHis(table: string, l: BillingLine, a: LineAmounts, note: (n: BuildNote) => void): void {
  if (!l.amounts) return;
  const pairs: Array<[string, string | undefined, Decimal]> = [
    ['THANH_TIEN_BV', l.amounts.hospital, a.hospital],
    ['THANH_TIEN_BH', l.amounts.insuranceScope, a.insuranceScope],
    ['T_BHTT', l.amounts.fund, a.fund],
    ['T_BNCCT', l.amounts.coPayment, a.coPayment],
    ['T_BNTT', l.amounts.selfPay, a.selfPay],
  ];
  for (const [field, his, ours] of pairs) {
    if (his === undefined || his === '') continue;
    const h = Decimal.tryParse(his);
    if (h && !h.eq(ours)) note({ severity: 'warning', table, lineNo: l.lineNo, field, message: `the HIS computed ${his}; the official formula gives ${ours.toString()}, which is written` });
  }
}

function buildXml4(maLk: string, serviceLines: BillingLine[], source: ClaimSource): ClaimRecord[] {
  const out: ClaimRecord[] = [];
  const byOrder = new Map<string, BillingLine>();
  for (const l of serviceLines) if (l.orderId && ['1', '2', '3'].includes(l.maNhom)) byOrder.set(l.orderId, l);
  const push = (fields: Record<string, string>) => out.push(rec(out.length + 1, { MA_LK: maLk, STT: String(out.length + 1), ...fields }));
  for (const r of source.results ?? []) {
    if (r.status === 'cancelled' || r.status === 'superseded') continue;
    const line = byOrder.get(r.orderId);
    if (!line) continue;
    push({
      MA_DICH_VU: line.bhytCode,
      MA_CHI_SO: r.code,
      TEN_CHI_SO: r.name ?? r.code,
      GIA_TRI: r.value.slice(0, 50),
      DON_VI_DO: r.unit ?? '',
      MO_TA: '',
      KET_LUAN: '',
      NGAY_KQ: toBhytDateTime(r.resultedAt ?? r.observedAt),
      MA_BS_DOC_KQ: r.verifiedBy?.practisingCertificate ?? '',
      DU_PHONG: '',
    });
  }
  for (const rep of source.reports ?? []) {
    if (rep.status === 'cancelled' || rep.status === 'superseded') continue;
    const line = byOrder.get(rep.orderId ?? rep.accessionNumber);
    if (!line) continue;
    push({
      MA_DICH_VU: line.bhytCode,
      MA_CHI_SO: '',
      TEN_CHI_SO: line.name,
      GIA_TRI: '',
      DON_VI_DO: '',
      MO_TA: rep.findings,
      KET_LUAN: rep.conclusion,
      NGAY_KQ: toBhytDateTime(rep.reportedAt),
      MA_BS_DOC_KQ: rep.radiologist?.practisingCertificate ?? '',
      DU_PHONG: '',
    });
  }
  return out;
}

/** XML5 from the HIS's progress notes, or else one entry per vital-sign round (grouped by time). */
function buildXml5(maLk: string, source: ClaimSource, vao: string, ra: string): ClaimRecord[] {
  const attendingCert = source.visit.attending?.practisingCertificate ?? '';
  const entries: Array<{ at: string; text: string; staff: string; stage?: string; consultation?: string; surgery?: string }> = [];
  if (source.progressNotes?.length) {
    for (const n of source.progressNotes) entries.push({ at: toBhytDateTime(n.at), text: n.text, staff: n.staffCertificate ?? attendingCert, stage: n.stage, consultation: n.consultation, surgery: n.surgery });
  } else {
    const rounds = new Map<string, Observation[]>();
    for (const o of source.observations ?? []) {
      if (o.status === 'entered-in-error') continue;
      const at = toBhytDateTime(o.effectiveAt);
      if (at < vao || (ra && at > ra)) continue;
      const list = rounds.get(at) ?? [];
      list.push(o);
      rounds.set(at, list);
    }
    for (const [at, obs] of [...rounds.entries()].sort(([a], [b]) => a.localeCompare(b))) entries.push({ at, text: describeVitals(obs), staff: attendingCert });
  }
  return entries.map((e, i) =>
    rec(i + 1, {
      MA_LK: maLk,
      STT: String(i + 1),
      DIEN_BIEN_LS: e.text,
      GIAI_DOAN_BENH: e.stage ?? '',
      HOI_CHAN: e.consultation ?? '',
      PHAU_THUAT: e.surgery ?? '',
      THOI_DIEM_DBLS: e.at,
      NGUOI_THUC_HIEN: e.staff,
      DU_PHONG: '',
    }),
  );
}

const vitalLabels: Record<string, [string, string]> = {
  [VITAL_SIGNS.heartRate.loinc]: ['Mạch', 'lần/phút'],
  [VITAL_SIGNS.bodyTemperature.loinc]: ['Nhiệt độ', '°C'],
  [VITAL_SIGNS.respiratoryRate.loinc]: ['Nhịp thở', 'lần/phút'],
  [VITAL_SIGNS.oxygenSaturation.loinc]: ['SpO2', '%'],
  [VITAL_SIGNS.spo2PulseOximetry.loinc]: ['SpO2', '%'],
  [VITAL_SIGNS.bodyWeight.loinc]: ['Cân nặng', 'kg'],
  [VITAL_SIGNS.bodyHeight.loinc]: ['Chiều cao', 'cm'],
};

/** "Mạch 82 lần/phút, Nhiệt độ 37.2 °C, Huyết áp 120/80 mmHg" (the 4750 note asks vital signs to be written out this way). */
function describeVitals(obs: Observation[]): string {
  const parts: string[] = [];
  for (const o of obs) {
    if (o.loinc === VITAL_SIGNS.bloodPressurePanel.loinc && o.components) {
      const sys = o.components.find((c) => c.loinc === VITAL_SIGNS.systolic.loinc)?.value;
      const dia = o.components.find((c) => c.loinc === VITAL_SIGNS.diastolic.loinc)?.value;
      if (sys !== undefined && dia !== undefined) parts.push(`Huyết áp ${sys}/${dia} mmHg`);
      continue;
    }
    if (o.loinc === VITAL_SIGNS.systolic.loinc || o.loinc === VITAL_SIGNS.diastolic.loinc) {
      parts.push(`${o.loinc === VITAL_SIGNS.systolic.loinc ? 'Huyết áp tâm thu' : 'Huyết áp tâm trương'} ${o.value} mmHg`);
      continue;
    }
    const label = vitalLabels[o.loinc];
    if (o.value !== undefined) parts.push(label ? `${label[0]} ${o.value} ${label[1]}` : `${o.name ?? o.loinc} ${o.value}${o.unit ? ` ${o.unit}` : ''}`);
  }
  return parts.join(', ') || 'Theo dõi dấu hiệu sinh tồn';
}

/** One XML2 (drug) record. */
function drugRecord(maLk: string, i: number, l: BillingLine, a: LineAmounts, level: number): ClaimRecord {
  return rec(i + 1, {
    MA_LK: maLk,
    STT: String(i + 1),
    MA_THUOC: l.bhytCode,
    MA_PP_CHEBIEN: '',
    MA_CSKCB_THUOC: '',
    MA_NHOM: l.maNhom,
    TEN_THUOC: l.name,
    DON_VI_TINH: l.unit,
    HAM_LUONG: l.drug?.strength ?? '',
    DUONG_DUNG: l.drug?.routeCode ?? '',
    DANG_BAO_CHE: l.drug?.dosageForm ?? '',
    LIEU_DUNG: l.drug?.dosage ?? '',
    CACH_DUNG: l.drug?.instructions ?? '',
    SO_DANG_KY: l.drug?.registrationNumber ?? '',
    TT_THAU: l.drug?.tender ?? l.tender ?? '',
    PHAM_VI: l.scope,
    TYLE_TT_BH: String(l.coverageRatio),
    SO_LUONG: text(a.quantity),
    DON_GIA: text(a.unitPrice),
    THANH_TIEN_BV: text(a.hospital),
    THANH_TIEN_BH: text(a.insuranceScope),
    ...otherSourceFields(a),
    MUC_HUONG: String(level),
    T_BNTT: text(a.selfPay),
    T_BNCCT: text(a.coPayment),
    T_BHTT: text(a.fund),
    MA_KHOA: l.bhytDepartmentCode,
    MA_BAC_SI: cert(l.orderingStaff),
    MA_DICH_VU: '',
    NGAY_YL: dt(l.orderedAt) ?? '',
    NGAY_TH_YL: dt(l.performedAt) ?? '',
    MA_PTTT: l.paymentMethodCode,
    NGUON_CTRA: l.drug?.fundingSourceCode ?? '1',
    VET_THUONG_TP: '',
    DU_PHONG: '',
  });
}

/** One XML3 (service, supply, bed) record. */
function serviceRecord(maLk: string, i: number, l: BillingLine, a: LineAmounts, level: number): ClaimRecord {
    const supply = l.kind === 'supply';
  return rec(i + 1, {
    MA_LK: maLk,
    STT: String(i + 1),
    MA_DICH_VU: supply ? '' : l.bhytCode,
    MA_PTTT_QT: '',
    MA_VAT_TU: supply ? l.bhytCode : '',
    MA_NHOM: l.maNhom,
    GOI_VTYT: '',
    TEN_VAT_TU: supply ? l.name : '',
    TEN_DICH_VU: supply ? '' : l.name,
    MA_XANG_DAU: '',
    DON_VI_TINH: l.unit,
    PHAM_VI: l.scope,
    SO_LUONG: text(a.quantity),
    DON_GIA_BV: text(a.unitPrice),
    DON_GIA_BH: text(a.bhytUnitPrice),
    TT_THAU: supply ? (l.tender ?? l.drug?.tender ?? '') : '',
    TYLE_TT_DV: String(l.serviceRatio ?? 100),
    TYLE_TT_BH: String(l.coverageRatio),
    THANH_TIEN_BV: text(a.hospital),
    THANH_TIEN_BH: text(a.insuranceScope),
    T_TRANTT: '',
    MUC_HUONG: String(level),
    ...otherSourceFields(a),
    T_BNTT: text(a.selfPay),
    T_BNCCT: text(a.coPayment),
    T_BHTT: text(a.fund),
    MA_KHOA: l.bhytDepartmentCode,
    MA_GIUONG: l.bedCode ?? '',
    MA_BAC_SI: cert(l.orderingStaff),
    NGUOI_THUC_HIEN: (l.performers ?? []).map(cert).filter(Boolean).join(';'),
    MA_BENH: l.icd10 ?? '',
    MA_BENH_YHCT: '',
    NGAY_YL: dt(l.orderedAt) ?? '',
    NGAY_TH_YL: dt(l.performedAt) ?? '',
    NGAY_KQ: dt(l.resultAt) ?? '',
    MA_PTTT: l.paymentMethodCode,
    VET_THUONG_TP: '',
    PP_VO_CAM: '',
    VI_TRI_TH_DVKT: '',
    MA_MAY: l.machineCode ?? '',
    MA_HIEU_SP: '',
    TAI_SU_DUNG: '',
    DU_PHONG: '',
  });
}

interface Xml1Inputs {
    maLk: string;
    patient: Patient;
    coverage: Visit['coverage'];
    visit: Visit;
    admissionText: string;
    dischargeText: string;
    primary: Diagnosis | undefined;
    secondary: string[];
    vao: string;
    ra: string;
    serviceLines: BillingLine[];
    careType: string;
    treatment: string;
    drugLines: BillingLine[];
    computed: Map<BillingLine, LineAmounts>;
    supplies: LineAmounts[];
    all: LineAmounts[];
    tongBh: Decimal;
    bncct: Decimal;
    ffs: LineAmounts[];
    settlement: { year: number; month: number } | undefined;
    facility: Facility;
    options: BuildOptions;
    docFields: ReturnType<typeof xml1DocumentFields>;
}

/** XML1 (TONG_HOP) of the episode. */
function xml1Record(inputs: Xml1Inputs): ClaimRecord {
    const { maLk, patient, coverage, visit, admissionText, dischargeText, primary, secondary, vao, ra, serviceLines, careType, treatment, drugLines, computed, supplies, all, tongBh, bncct, ffs, settlement, facility, options, docFields } = inputs;
  return rec(1, {
    MA_LK: maLk,
    STT: '1',
    MA_BN: patient.id,
    HO_TEN: patient.name.full,
    SO_CCCD: identifierOf(patient, 'CCCD') ?? identifierOf(patient, 'CMND') ?? identifierOf(patient, 'PASSPORT') ?? '',
    NGAY_SINH: birth(patient),
    GIOI_TINH: sexToBhyt(patient.sex),
    NHOM_MAU: patient.bloodGroup ?? '',
    MA_QUOCTICH: patient.nationalityCode ?? '',
    MA_DANTOC: patient.ethnicityCode ?? '',
    MA_NGHE_NGHIEP: patient.occupationCode ?? '',
    DIA_CHI: addressText(patient),
    MATINH_CU_TRU: patient.address?.provinceCode ?? '',
    MAHUYEN_CU_TRU: patient.address?.districtCode ?? '',
    MAXA_CU_TRU: patient.address?.communeCode ?? '',
    DIEN_THOAI: patient.phone ?? '',
    MA_THE_BHYT: coverage?.cardNumber ?? '',
    MA_DKBD: coverage?.registeredFacility ?? '',
    GT_THE_TU: coverage ? toBhytDate(coverage.validFrom) : '',
    GT_THE_DEN: coverage ? toBhytDate(coverage.validTo) : '',
    NGAY_MIEN_CCT: coverage?.coPaymentExemptFrom ? toBhytDate(coverage.coPaymentExemptFrom) : '',
    LY_DO_VV: visit.reason ?? '',
    LY_DO_VNT: visit.inpatientAdmittedAt ? (visit.reason ?? admissionText) : '',
    MA_LY_DO_VNT: '',
    CHAN_DOAN_VAO: admissionText,
    CHAN_DOAN_RV: dischargeText,
    MA_BENH_CHINH: primary?.icd10 ?? '',
    MA_BENH_KT: secondary.join(';'),
    MA_BENH_YHCT: '',
    MA_PTTT_QT: (visit.procedureCodes ?? []).join(';'),
    MA_DOITUONG_KCB: coverage?.categoryCode ?? '9',
    MA_NOI_DI: coverage?.referredFrom ?? '',
    MA_NOI_DEN: docFields.MA_NOI_DEN,
    MA_TAI_NAN: '',
    NGAY_VAO: vao,
    NGAY_VAO_NOI_TRU: dt(visit.inpatientAdmittedAt) ?? '',
    NGAY_RA: ra,
    GIAY_CHUYEN_TUYEN: coverage?.referralNumber ?? '',
    SO_NGAY_DTRI: String(treatmentDays(careType, vao, ra, serviceLines)),
    PP_DIEU_TRI: treatment,
    KET_QUA_DTRI: visit.outcomeCode ?? '',
    MA_LOAI_RV: visit.dischargeTypeCode ?? '',
    GHI_CHU: '',
    NGAY_TTOAN: dt(visit.paidAt) ?? '',
    T_THUOC: text(sumOf(drugLines.map((l) => computed.get(l)!), 'hospital')),
    T_VTYT: text(sumOf(supplies, 'hospital')),
    T_TONGCHI_BV: text(sumOf(all, 'hospital')),
    T_TONGCHI_BH: text(tongBh),
    T_BNTT: text(sumOf(all, 'selfPay')),
    T_BNCCT: text(bncct),
    T_BHTT: text(tongBh.sub(bncct)),
    T_NGUONKHAC: text(sumOf(all, 'otherSources')),
    T_BHTT_GDV: text(sumOf(ffs, 'fund')),
    NAM_QT: settlement ? String(settlement.year) : '',
    THANG_QT: settlement ? String(settlement.month) : '',
    MA_LOAI_KCB: careType,
    MA_KHOA: (visit.bhytDepartmentCodes ?? []).join(';'),
    MA_CSKCB: facility.code,
    MA_KHUVUC: coverage?.areaCode ?? '',
    CAN_NANG: visit.weightKg !== undefined && visit.weightKg !== '' ? Decimal.from(visit.weightKg).toString(2) : '',
    CAN_NANG_CON: docFields.CAN_NANG_CON,
    NAM_NAM_LIEN_TUC: coverage?.fiveConsecutiveYearsFrom ? toBhytDate(coverage.fiveConsecutiveYearsFrom) : '',
    NGAY_TAI_KHAM: visit.followUpDate ? toBhytDate(visit.followUpDate) : '',
    MA_HSBA: visit.medicalRecordNumber ?? '',
    MA_TTDV: options.signerHealthId ?? '',
    DU_PHONG: '',
  });
}

interface Xml7Inputs {
  maLk: string;
  patient: Patient;
  visit: Visit;
  dischargeText: string;
  vao: string;
  ra: string;
  treatment: string;
  options: BuildOptions;
  docDate: string;
  signer: { code: string; name: string } | undefined;
  lastDept: string;
}

/** XML7 (discharge paper). */
function xml7Record(inputs: Xml7Inputs): ClaimRecord {
  const { maLk, patient, visit, dischargeText, vao, ra, treatment, options, docDate, signer, lastDept } = inputs;
  return rec(1, {
    MA_LK: maLk,
    SO_LUU_TRU: visit.medicalRecordNumber ?? maLk,
    MA_YTE: patient.id,
    MA_KHOA_RV: lastDept,
    NGAY_VAO: vao,
    NGAY_RA: ra,
    MA_DINH_CHI_THAI: '',
    NGUYENNHAN_DINHCHI: '',
    THOIGIAN_DINHCHI: '',
    TUOI_THAI: '',
    CHAN_DOAN_RV: dischargeText,
    PP_DIEUTRI: treatment,
    GHI_CHU: '',
    MA_TTDV: options.signerHealthId ?? '',
    MA_BS: signer?.code ?? '',
    TEN_BS: signer?.name ?? '',
    NGAY_CT: docDate,
    MA_CHA: '',
    MA_ME: '',
    MA_THE_TAM: '',
    HO_TEN_CHA: '',
    HO_TEN_ME: '',
    SO_NGAY_NGHI: '',
    NGOAITRU_TUNGAY: '',
    NGOAITRU_DENNGAY: '',
    DU_PHONG: '',
  });
}

interface Xml8Inputs {
  maLk: string;
  visit: Visit;
  admissionText: string;
  dischargeText: string;
  vao: string;
  ra: string;
  careType: string;
  treatment: string;
  options: BuildOptions;
  docDate: string;
  courseSummary: string;
  resultSummary: string;
  conclusions: string[];
  firstBirth: VisitDocuments["births"][number] | undefined;
}

/** XML8 (record summary). */
function xml8Record(inputs: Xml8Inputs): ClaimRecord {
  const { maLk, visit, admissionText, dischargeText, vao, ra, careType, treatment, options, docDate, courseSummary, resultSummary, conclusions, firstBirth } = inputs;
  return rec(1, {
    MA_LK: maLk,
    MA_LOAI_KCB: careType,
    HO_TEN_CHA: '',
    HO_TEN_ME: '',
    NGUOI_GIAM_HO: '',
    DON_VI: '',
    NGAY_VAO: vao,
    NGAY_RA: ra,
    CHAN_DOAN_VAO: admissionText,
    CHAN_DOAN_RV: dischargeText,
    QT_BENHLY: courseSummary,
    TOMTAT_KQ: [resultSummary, ...conclusions].join('; '),
    PP_DIEUTRI: treatment,
    NGAY_SINHCON: firstBirth ? toBhytDate(firstBirth.bornAt.slice(0, 10)) : '',
    NGAY_CONCHET: '',
    SO_CONCHET: '',
    KET_QUA_DTRI: visit.outcomeCode ?? '',
    GHI_CHU: '',
    MA_TTDV: options.signerHealthId ?? '',
    NGAY_CT: docDate,
    MA_THE_TAM: '',
    DU_PHONG: '',
  });
}

interface Xml14Inputs {
  maLk: string;
  patient: Patient;
  visit: Visit;
  dischargeText: string;
  vao: string;
  ra: string;
  facility: Facility;
  options: BuildOptions;
  docDate: string;
  attending: Visit['attending'];
  xml1: ClaimRecord;
}

/** XML14 (re-visit appointment). */
function xml14Record(inputs: Xml14Inputs): ClaimRecord {
  const { maLk, patient, visit, dischargeText, vao, ra, facility, options, docDate, attending, xml1 } = inputs;
  return rec(1, {
    MA_LK: maLk,
    SO_GIAYHEN_KL: `${visit.medicalRecordNumber ?? maLk}-HK`,
    MA_CSKCB: facility.code,
    HO_TEN: patient.name.full,
    NGAY_SINH: xml1.fields.NGAY_SINH,
    GIOI_TINH: xml1.fields.GIOI_TINH,
    DIA_CHI: xml1.fields.DIA_CHI,
    MA_THE_BHYT: xml1.fields.MA_THE_BHYT,
    GT_THE_DEN: xml1.fields.GT_THE_DEN,
    NGAY_VAO: vao,
    NGAY_VAO_NOI_TRU: xml1.fields.NGAY_VAO_NOI_TRU,
    NGAY_RA: ra,
    NGAY_HEN_KL: `${toBhytDate(visit.followUpDate!)}0800`,
    CHAN_DOAN_RV: dischargeText,
    MA_BENH_CHINH: xml1.fields.MA_BENH_CHINH,
    MA_BENH_KT: xml1.fields.MA_BENH_KT,
    MA_BENH_YHCT: '',
    MA_DOITUONG_KCB: xml1.fields.MA_DOITUONG_KCB,
    MA_BAC_SI: attending?.practisingCertificate ?? '',
    MA_TTDV: options.signerHealthId ?? '',
    NGAY_CT: docDate,
    DU_PHONG: '',
  });
}

// The tables built from the documents a visit produced (model/visit-documents.ts): XML6 HIV/AIDS
// care, XML9 birth certificates, XML10 pregnancy-rest and XML11 sick-leave certificates, XML12
// medical assessment, XML13 referral letter and XML15 TB treatment. Which visits get which table:
//   XML13  only when the visit ended in a transfer (MA_LOAI_RV 2 or 5) and the HIS has the letter;
//   XML9   one per baby, for a female patient's inpatient stay (the mother's episode);
//   XML10  pregnancy rest, female patients only;  XML11  sick leave (one certificate per episode);
//   XML6   when the HIS has the visit's HIV care record;  XML15  one row per TB treatment record;
//   XML12  beside the claim (it has its own endpoint and is never put in GIAMDINHHS).
// A document that does not fit its visit is left out with a build note saying why, so the claim
// never carries a table the validator would reject (tables.not-applicable).
import { type Patient, sexToBhyt, toBhytDate, type VisitDocuments } from '../../model';
import type { ClaimRecord, EpisodeTables } from '../model';
import { formatSpec } from '../spec/registry';
import type { FormatVersion, TableId } from '../spec/types';
import type { BuildNote, ClaimSource } from './build';

/** Values of XML1 the documents repeat (the validator checks the copies: link.xml1-copy). */
export type Xml1Fields = Record<string, string>;

export interface DocumentContext {
  version: Exclude<FormatVersion, '4210'>;
  source: ClaimSource;
  xml1: Xml1Fields;
  /** Treatment text (PP_DIEU_TRI) and a summary of results (TOMTAT_KQ), as the builder derived them. */
  treatment: string;
  resultSummary: string;
  courseSummary: string;
  signerHealthId: string;
  note(n: BuildNote): void;
}

const date = (v: string | undefined) => (v ? toBhytDate(v.slice(0, 10)) : '');
/** yyyyMMddHHmm from an ISO date-time already in hospital time (+07:00 or no offset). */
const dateTime = (v: string | undefined) => {
  if (!v) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2})/.exec(v);
  if (!m) throw new Error(`unparseable date-time "${v}"`);
  return m[1] + m[2] + m[3] + m[4] + m[5];
};
const flag = (b: boolean | undefined) => (b ? '1' : '0');
const num = (n: number | undefined) => (n === undefined ? '' : String(n));
const staffCode = (s?: { practisingCertificate?: string; id: string }) => s?.practisingCertificate ?? s?.id ?? '';
const isTransfer = (loaiRv: string | undefined) => loaiRv === '2' || loaiRv === '5';

export function patientAddress(patient: Patient): string {
  const a = patient.address;
  if (!a) return '';
  if (a.text) return a.text;
  return [a.line, a.communeName, a.districtName, a.provinceName].filter(Boolean).join(', ');
}

/** XML1 fields that depend on the documents: MA_NOI_DEN (referral) and CAN_NANG_CON (births). */
export function xml1DocumentFields(docs: VisitDocuments | undefined, dischargeTypeCode: string | undefined): { MA_NOI_DEN: string; CAN_NANG_CON: string } {
  return {
    MA_NOI_DEN: docs?.referral && isTransfer(dischargeTypeCode) ? docs.referral.toFacility : '',
    CAN_NANG_CON: (docs?.births ?? []).map((b) => String(b.weightGrams)).join(';'),
  };
}

export function buildDocumentTables(ctx: DocumentContext): EpisodeTables {
  const docs = ctx.source.documents;
  if (!docs) return {};
  const { visit, patient, facility } = ctx.source;
  const x1 = ctx.xml1;
  const maLk = visit.maLk;
  const tables: EpisodeTables = {};
  const female = patient.sex === 'female';
  const newTablesExist = ctx.version !== '130'; // XML13–XML15 came with QĐ 4750

  // ---- XML13: referral letter -------------------------------------------------------------------
  if (docs.referral) {
    const r = docs.referral;
    if (!newTablesExist) ctx.note({ severity: 'warning', table: 'XML13', message: `the referral letter ${r.letterNumber} is not sent: XML13 does not exist in QĐ 130` });
    else if (!isTransfer(visit.dischargeTypeCode))
      ctx.note({ severity: 'warning', table: 'XML13', message: `the HIS has referral letter ${r.letterNumber} but the visit's discharge type (MA_LOAI_RV) is ${visit.dischargeTypeCode ?? 'empty'}, not a transfer (2 or 5): XML13 is left out` });
    else {
      const drugs = ctx.source.lines.filter((l) => l.kind === 'drug').map((l) => l.name);
      const services = ctx.source.lines.filter((l) => l.kind === 'service').map((l) => l.name);
      tables.XML13 = [
        rec(1, {
          MA_LK: maLk,
          SO_HOSO: r.recordNumber,
          SO_CHUYENTUYEN: r.bookNumber,
          GIAY_CHUYEN_TUYEN: r.letterNumber,
          MA_CSKCB: facility.code,
          MA_NOI_DI: x1.MA_NOI_DI,
          MA_NOI_DEN: x1.MA_NOI_DEN,
          MA_CSKCB_DI: x1.MA_NOI_DI,
          MA_CSKCB_DEN: r.toFacility,
          HO_TEN: x1.HO_TEN,
          NGAY_SINH: x1.NGAY_SINH,
          GIOI_TINH: x1.GIOI_TINH,
          MA_QUOCTICH: x1.MA_QUOCTICH,
          MA_DANTOC: x1.MA_DANTOC,
          MA_NGHE_NGHIEP: x1.MA_NGHE_NGHIEP,
          DIA_CHI: x1.DIA_CHI,
          MA_THE_BHYT: x1.MA_THE_BHYT,
          GT_THE_DEN: x1.GT_THE_DEN,
          NGAY_VAO: x1.NGAY_VAO,
          NGAY_VAO_NOI_TRU: x1.NGAY_VAO_NOI_TRU,
          NGAY_RA: x1.NGAY_RA,
          DAU_HIEU_LS: r.clinicalSigns,
          CHAN_DOAN_RV: x1.CHAN_DOAN_RV,
          QT_BENHLY: r.courseSummary ?? ctx.courseSummary,
          TOMTAT_KQ: r.resultSummary ?? ctx.resultSummary,
          PP_DIEUTRI: ctx.treatment,
          MA_BENH_CHINH: x1.MA_BENH_CHINH,
          MA_BENH_KT: x1.MA_BENH_KT,
          MA_BENH_YHCT: x1.MA_BENH_YHCT,
          // QĐ 4750 only (removed by 3176): the services and drugs given, as names.
          TEN_DICH_VU: services.join('; '),
          TEN_THUOC: drugs.join('; '),
          PP_DIEU_TRI: x1.PP_DIEU_TRI,
          TINH_TRANG_CT: r.conditionAtTransfer,
          MA_LOAI_RV: x1.MA_LOAI_RV,
          MA_LYDO_CT: r.reasonCode,
          HUONG_DIEU_TRI: r.treatmentPlan,
          PHUONGTIEN_VC: r.transport,
          HOTEN_NGUOI_HT: r.escortName ?? '',
          CHUCDANH_NGUOI_HT: r.escortTitle ?? '',
          MA_BAC_SI: staffCode(r.doctor ?? visit.attending),
          MA_TTDV: ctx.signerHealthId,
          DU_PHONG: '',
        }),
      ];
    }
  } else if (newTablesExist && isTransfer(visit.dischargeTypeCode)) {
    ctx.note({ severity: 'warning', table: 'XML13', message: `the visit ended in a transfer (MA_LOAI_RV ${visit.dischargeTypeCode}) but the HIS has no referral letter for ${maLk}` });
  }

  // ---- XML9: birth certificates, one per baby ----------------------------------------------------
  if (docs.births.length) {
    if (!female) ctx.note({ severity: 'warning', table: 'XML9', message: `${docs.births.length} birth certificate(s) on a visit of a patient who is not female: XML9 is the mother's and is left out` });
    else {
      tables.XML9 = docs.births.map((b, i) =>
        rec(i + 1, {
          MA_LK: maLk,
          MA_BHXH_NND: b.motherSocialInsuranceNumber ?? '',
          MA_THE_NND: b.motherCardNumber ?? visit.coverage?.cardNumber ?? '',
          HO_TEN_NND: patient.name.full,
          NGAYSINH_NND: date(patient.birthDate),
          MA_DANTOC_NND: patient.ethnicityCode ?? '',
          SO_CCCD_NND: b.motherIdNumber,
          NGAYCAP_CCCD_NND: date(b.motherIdIssuedOn),
          NOICAP_CCCD_NND: b.motherIdIssuedBy,
          NOI_CU_TRU_NND: patientAddress(patient),
          MA_QUOCTICH: patient.nationalityCode ?? '',
          MATINH_CU_TRU: patient.address?.provinceCode ?? '',
          MAHUYEN_CU_TRU: patient.address?.districtCode ?? '',
          MAXA_CU_TRU: patient.address?.communeCode ?? '',
          HO_TEN_CHA: b.fatherName ?? '',
          MA_THE_TAM: b.temporaryCardNumber,
          HO_TEN_CON: b.childName ?? '',
          GIOI_TINH_CON: sexToBhyt(b.childSex),
          SO_CON: String(b.babiesInBirth),
          LAN_SINH: String(b.deliveryNumber),
          SO_CON_SONG: String(b.livingChildren),
          CAN_NANG_CON: String(b.weightGrams),
          NGAY_SINH_CON: dateTime(b.bornAt),
          NOI_SINH_CON: b.placeOfBirth,
          TINH_TRANG_CON: b.childCondition,
          SINHCON_PHAUTHUAT: flag(b.caesarean),
          SINHCON_DUOI32TUAN: flag(b.under32Weeks),
          // GHI_CHU is required: "Không" (none) when the certificate has no note.
          GHI_CHU: b.note || 'Không',
          NGUOI_DO_DE: b.attendant,
          NGUOI_GHI_PHIEU: b.recordedBy,
          NGAY_CT: date(b.issuedOn),
          SO: b.number,
          QUYEN_SO: b.book,
          MA_TTDV: ctx.signerHealthId,
          DU_PHONG: '',
        }),
      );
    }
  }

  // ---- XML10 / XML11: leave certificates (single-record tables) ----------------------------------
  const diagnosisText = x1.CHAN_DOAN_RV;
  const pregnancyRest = docs.leave.filter((l) => l.kind === 'pregnancy-rest');
  const sickLeave = docs.leave.filter((l) => l.kind === 'sick-leave');
  for (const [id, list] of [['XML10', pregnancyRest], ['XML11', sickLeave]] as const) {
    if (list.length > 1) ctx.note({ severity: 'warning', table: id, message: `${list.length} certificates of one kind in one episode; ${id} holds one, the last (${list[list.length - 1].number}) is sent` });
  }
  const rest = pregnancyRest[pregnancyRest.length - 1];
  if (rest) {
    if (!female) ctx.note({ severity: 'warning', table: 'XML10', message: `pregnancy-rest certificate ${rest.number} on a visit of a patient who is not female: left out` });
    else
      tables.XML10 = [
        rec(1, {
          MA_LK: maLk,
          SO_SERI: rest.serial,
          SO_CT: rest.number,
          SO_NGAY: String(rest.days),
          DON_VI: rest.employer,
          CHAN_DOAN_RV: rest.diagnosis ?? diagnosisText,
          TU_NGAY: date(rest.from),
          DEN_NGAY: date(rest.to),
          MA_TTDV: ctx.signerHealthId,
          TEN_BS: rest.signer?.name ?? visit.attending?.name ?? '',
          MA_BS: staffCode(rest.signer ?? visit.attending),
          NGAY_CT: date(rest.issuedOn),
          DU_PHONG: '',
        }),
      ];
  }
  const sick = sickLeave[sickLeave.length - 1];
  if (sick) {
    tables.XML11 = [
      rec(1, {
        MA_LK: maLk,
        SO_CT: sick.number,
        SO_SERI: sick.serial,
        SO_KCB: sick.visitDocumentNumber ?? visit.medicalRecordNumber ?? maLk,
        DON_VI: sick.employer,
        MA_BHXH: sick.socialInsuranceNumber ?? '',
        MA_THE_BHYT: x1.MA_THE_BHYT,
        CHAN_DOAN_RV: sick.diagnosis ?? diagnosisText,
        PP_DIEUTRI: ctx.treatment,
        MA_DINH_CHI_THAI: sick.pregnancyTerminated === undefined ? '' : flag(sick.pregnancyTerminated),
        NGUYENNHAN_DINHCHI: sick.terminationCause ?? '',
        TUOI_THAI: num(sick.gestationWeeks),
        SO_NGAY_NGHI: String(sick.days),
        TU_NGAY: date(sick.from),
        DEN_NGAY: date(sick.to),
        HO_TEN_CHA: sick.fatherName ?? '',
        HO_TEN_ME: sick.motherName ?? '',
        MA_TTDV: ctx.signerHealthId,
        MA_BS: staffCode(sick.signer ?? visit.attending),
        NGAY_CT: date(sick.issuedOn),
        MA_THE_TAM: sick.temporaryCardNumber ?? '',
        MAU_SO: 'CT07',
        DU_PHONG: '',
      }),
    ];
  }

  // ---- XML6: HIV/AIDS care -------------------------------------------------------------------------
  if (docs.hivCare) {
    const h = docs.hivCare;
    tables.XML6 = [
      rec(1, {
        MA_LK: maLk,
        MA_THE_BHYT: x1.MA_THE_BHYT,
        SO_CCCD: x1.SO_CCCD,
        NGAY_SINH: x1.NGAY_SINH,
        GIOI_TINH: x1.GIOI_TINH,
        DIA_CHI: x1.DIA_CHI,
        MATINH_CU_TRU: x1.MATINH_CU_TRU,
        MAHUYEN_CU_TRU: x1.MAHUYEN_CU_TRU,
        MAXA_CU_TRU: x1.MAXA_CU_TRU,
        NGAYKD_HIV: date(h.confirmedOn),
        NOI_LAY_MAU_XN: h.sampleFacility,
        NOI_XN_KD: h.confirmingFacility,
        NOI_BDDT_ARV: h.arvStartFacility,
        BDDT_ARV: date(h.arvStartedOn),
        MA_PHAC_DO_DIEU_TRI_BD: h.initialRegimen ?? '',
        MA_BAC_PHAC_DO_BD: h.initialRegimenLine ?? '',
        MA_LYDO_DTRI: h.enrolmentReasonCode,
        LOAI_DTRI_LAO: h.tbTreatmentTypeCode,
        SANG_LOC_LAO: h.tbScreeningCode,
        PHACDO_DTRI_LAO: h.tbRegimenCode ?? '',
        NGAYBD_DTRI_LAO: date(h.tbStartedOn),
        NGAYKT_DTRI_LAO: date(h.tbEndedOn),
        KQ_DTRI_LAO: h.tbResultCode,
        MA_LYDO_XNTL_VR: h.viralLoadReasonCode ?? '',
        NGAY_XN_TLVR: date(h.viralLoadSampledOn),
        KQ_XNTL_VR: h.viralLoadResultCode ?? '',
        NGAY_KQ_XN_TLVR: date(h.viralLoadResultOn),
        MA_LOAI_BN: h.patientTypeCode,
        GIAI_DOAN_LAM_SANG: h.clinicalStage,
        NHOM_DOI_TUONG: h.populationGroupCode,
        MA_TINH_TRANG_DK: h.statusCodes,
        LAN_XN_PCR: h.pcrRound ?? '',
        NGAY_XN_PCR: date(h.pcrOn),
        NGAY_KQ_XN_PCR: date(h.pcrResultOn),
        MA_KQ_XN_PCR: h.pcrResultCode ?? '',
        NGAY_NHAN_TT_MANG_THAI: date(h.pregnancyNotedOn),
        NGAY_BAT_DAU_DT_CTX: date(h.cotrimoxazoleStartedOn),
        MA_XU_TRI: h.managementCodes,
        NGAY_BAT_DAU_XU_TRI: date(h.treatmentFrom),
        NGAY_KET_THUC_XU_TRI: date(h.treatmentTo),
        MA_PHAC_DO_DIEU_TRI: h.regimen,
        MA_BAC_PHAC_DO: h.regimenLine ?? '',
        SO_NGAY_CAP_THUOC_ARV: num(h.arvDaysDispensed),
        NGAY_CHUYEN_PHAC_DO: date(h.regimenChangedOn),
        LY_DO_CHUYEN_PHAC_DO: h.regimenChangeReasonCode ?? '',
        MA_CSKCB: facility.code,
        DU_PHONG: '',
      }),
    ];
  }

  // ---- XML15: TB treatment ---------------------------------------------------------------------------
  if (docs.tbTreatment.length) {
    if (!newTablesExist) ctx.note({ severity: 'warning', table: 'XML15', message: 'the TB treatment record is not sent: XML15 does not exist in QĐ 130' });
    else
      tables.XML15 = docs.tbTreatment.map((t, i) =>
        rec(i + 1, {
          MA_LK: maLk,
          STT: String(i + 1),
          MA_BN: x1.MA_BN,
          HO_TEN: x1.HO_TEN,
          SO_CCCD: x1.SO_CCCD,
          PHANLOAI_LAO_VITRI: t.siteCode,
          PHANLOAI_LAO_TS: t.historyCode,
          PHANLOAI_LAO_HIV: t.hivStatusCode,
          PHANLOAI_LAO_VK: t.bacteriologyCode,
          PHANLOAI_LAO_KT: t.resistanceCode,
          LOAI_DTRI_LAO: t.treatmentTypeCode,
          NGAYBD_DTRI_LAO: date(t.startedOn),
          PHACDO_DTRI_LAO: t.regimenCode,
          NGAYKT_DTRI_LAO: date(t.endedOn),
          KET_QUA_DTRI_LAO: t.resultCode,
          MA_CSKCB: facility.code,
          NGAYKD_HIV: date(t.hivConfirmedOn),
          BDDT_ARV: date(t.arvStartedOn),
          NGAY_BAT_DAU_DT_CTX: date(t.cotrimoxazoleStartedOn),
          DU_PHONG: '',
        }),
      );
  }

  // ---- XML12: medical assessment (own endpoint) -----------------------------------------------------
  if (docs.assessment) {
    const a = docs.assessment;
    tables.XML12 = [
      rec(1, {
        NGUOI_CHU_TRI: a.chair,
        CHUC_VU: a.chairRoleCode,
        NGAY_HOP: date(a.meetingOn),
        HO_TEN: x1.HO_TEN,
        NGAY_SINH: x1.NGAY_SINH.slice(0, 8),
        SO_CCCD: x1.SO_CCCD,
        NGAY_CAP_CCCD: date(a.idIssuedOn),
        NOI_CAP_CCCD: a.idIssuedBy,
        DIA_CHI: x1.DIA_CHI,
        MATINH_CU_TRU: x1.MATINH_CU_TRU,
        MAHUYEN_CU_TRU: x1.MAHUYEN_CU_TRU,
        MAXA_CU_TRU: x1.MAXA_CU_TRU,
        MA_BHXH: a.socialInsuranceNumber,
        MA_THE_BHYT: visit.coverage?.cardNumber ?? '',
        NGHE_NGHIEP: a.occupation ?? '',
        DIEN_THOAI: patient.phone ?? '',
        MA_DOI_TUONG: a.subjectCategoryCode,
        KHAM_GIAM_DINH: a.assessmentTypeCode,
        SO_BIEN_BAN: a.minutesNumber,
        TYLE_TTCT_CU: num(a.previousRate),
        DANG_HUONG_CHE_DO: a.benefitRegimeCode,
        NGAY_CHUNG_TU: date(a.documentDate),
        SO_GIAY_GIOI_THIEU: a.referralLetterNumber,
        NGAY_DE_NGHI: date(a.requestedOn),
        MA_DONVI: a.referringUnitCode,
        GIOI_THIEU_CUA: a.referringUnitName,
        KET_QUA_KHAM: a.examinationResult,
        SO_VAN_BAN_CAN_CU: a.legalBasis,
        TYLE_TTCT_MOI: String(a.newRate),
        TONG_TYLE_TTCT: String(a.totalRate),
        DANG_KHUYETTAT: a.disabilityTypeCode ?? '',
        MUC_DO_KHUYETTAT: a.disabilitySeverityCode ?? '',
        DE_NGHI: a.recommendation,
        DUOC_XACDINH: a.determination,
        DU_PHONG: '',
      }),
    ];
  }

  // Keep only the fields the version defines, in its order (XML13 differs between 4750 and 3176).
  const spec = formatSpec(ctx.version);
  for (const [id, records] of Object.entries(tables) as Array<[TableId, ClaimRecord[]]>) {
    const t = spec.tables.find((x) => x.id === id);
    if (!t) {
      delete tables[id];
      continue;
    }
    for (const r of records) {
      const ordered: Record<string, string> = {};
      for (const f of t.fields) ordered[f.name] = r.fields[f.name] ?? '';
      r.fields = ordered;
    }
  }
  return tables;
}

function rec(index: number, fields: Record<string, string>): ClaimRecord {
  return { index, fields };
}

// Every validator rule has a case here that breaks it and checks the exact findings (place, rule and
// message). The last test fails when a rule in the catalogue has no case.
import assert from 'node:assert/strict';
import { buildCheckInRecord } from '../../claims/builder/checkin';
import { buildEpisode, type BuildOptions } from '../../claims/builder/build';
import { type Episode, formatFinding } from '../../claims/model';
import { ruleCatalogue } from '../../claims/validator/catalogue';
import { validateBuffer, validateEpisode, type ValidationOptions } from '../../claims/validator/validate';
import { buildEnvelope, episodeFiles, serializeTable } from '../../claims/xml/writer';
import { tableSpec } from '../../claims/spec/registry';
import { emergencySource, inpatientSource, offRouteSource, outpatientSource } from './sources';

type Base = 'in' | 'out' | 'er' | 'off';
const sources = { in: inpatientSource, out: outpatientSource, er: emergencySource, off: offRouteSource };

function built(base: Base, options: BuildOptions = {}): Episode {
  return buildEpisode(sources[base](), { signerHealthId: '0101234567', ...options }).episode;
}

const opts: ValidationOptions = { facilityLevel: 'central', maCskcb: '01999' };
const x = (ep: Episode, table: keyof Episode['tables'], i = 0): Record<string, string> => ep.tables[table]![i].fields;

interface Case {
  rule: keyof typeof ruleCatalogue;
  name: string;
  base?: Base;
  mutate?(ep: Episode): void;
  episode?(): Episode;
  partial?: boolean;
  options?: ValidationOptions;
  expect: string[];
}

const xml13: Record<string, string> = {
  MA_LK: 'LK-OUT-1', SO_HOSO: 'CT-1', SO_CHUYENTUYEN: '15', GIAY_CHUYEN_TUYEN: '15/GCT', MA_CSKCB: '01999', HO_TEN: 'Nguyễn Văn An',
  DAU_HIEU_LS: 'Tỉnh, huyết áp 150/90', QT_BENHLY: 'Đau đầu', TOMTAT_KQ: 'Cholesterol 6.2', MA_LYDO_CT: '2', HUONG_DIEU_TRI: 'Điều trị tiếp tại tuyến trên',
  PHUONGTIEN_VC: 'Xe cứu thương', MA_BAC_SI: '000123/HNO-CCHN', MA_TTDV: '0101234567',
};

const cases: Case[] = [
  // Fields.
  { rule: 'field.required', name: 'empty required field', mutate: (e) => (x(e, 'XML1').HO_TEN = ''), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) HO_TEN [field.required]: required field is empty'] },
  { rule: 'field.required', name: 'missing required field', mutate: (e) => delete x(e, 'XML1').MA_BN, expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) MA_BN [field.required]: required field is missing'] },
  {
    rule: 'field.required',
    name: 'conditionally required field',
    mutate: (e) => (x(e, 'XML3', 1).NGUOI_THUC_HIEN = ''),
    expect: ['ERROR XML3 record 2 (MA_LK=LK-IN-1, STT=2) NGUOI_THUC_HIEN [field.required]: empty, but required when MA_NHOM is 1, 2, 3, 8 or 18'],
  },
  { rule: 'field.max-length', name: 'too long', mutate: (e) => (x(e, 'XML1').MA_HSBA = 'B'.repeat(101)), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) MA_HSBA [field.max-length]: is 101 characters long; the maximum in QĐ 3176 is 100'] },
  {
    rule: 'field.number',
    name: 'decimal comma',
    mutate: (e) => (x(e, 'XML2').SO_LUONG = '6,0'),
    expect: ['ERROR XML2 record 1 (MA_LK=LK-IN-1, STT=1) SO_LUONG [field.number]: «6,0» is not a number: write digits with "." as the decimal separator, no thousands separator or spaces'],
  },
  { rule: 'field.format', name: 'date-time with dashes', mutate: (e) => (x(e, 'XML2').NGAY_TH_YL = '2025-03-11 09:30'), expect: ['ERROR XML2 record 1 (MA_LK=LK-IN-1, STT=1) NGAY_TH_YL [field.format]: «2025-03-11 09:30» is not a date-time yyyyMMddHHmm (12 digits)'] },
  { rule: 'field.format', name: 'impossible date', mutate: (e) => (x(e, 'XML2').NGAY_TH_YL = '202502301200'), expect: ['ERROR XML2 record 1 (MA_LK=LK-IN-1, STT=1) NGAY_TH_YL [field.format]: «202502301200»: 2025-02-30 does not exist'] },
  { rule: 'field.format', name: 'three decimals in an amount', mutate: (e) => (x(e, 'XML2').T_NGUONKHAC_NSNN = '0.125'), expect: ['ERROR XML2 record 1 (MA_LK=LK-IN-1, STT=1) T_NGUONKHAC_NSNN [field.format]: «0.125» has 3 decimals; amounts are rounded to 2 decimals', 'ERROR XML2 record 1 (MA_LK=LK-IN-1, STT=1) T_NGUONKHAC [money.other-sources]: 0 ≠ NSNN 0.125 + VTNN 0 + VTTN 0 + CL 0 = 0.125'] },
  { rule: 'field.format', name: 'birth day without month', mutate: (e) => (x(e, 'XML1').NGAY_SINH = '198500120000'), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) NGAY_SINH [field.format]: «198500120000»: when the month of birth is unknown (00) the day must be 00 too', 'ERROR XML14 record 1 (MA_LK=LK-IN-1) NGAY_SINH [link.xml1-copy]: «198503120000» differs from XML1 NGAY_SINH «198500120000» (this field repeats XML1)'] },
  { rule: 'field.code', name: 'code outside a complete list', mutate: (e) => (x(e, 'XML1').KET_QUA_DTRI = '9'), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) KET_QUA_DTRI [field.code]: «9» is not a code of KET_QUA_DTRI in QĐ 3176 (allowed: 1, 2, 3, 4, 5, 6, 7, 8)'] },
  {
    rule: 'field.code',
    name: 'code outside a partial list is a warning',
    mutate: (e) => {
      x(e, 'XML1').MA_DOITUONG_KCB = '1.19';
      x(e, 'XML14').MA_DOITUONG_KCB = '1.19';
    },
    expect: [
      "WARNING XML1 record 1 (MA_LK=LK-IN-1, STT=1) MA_DOITUONG_KCB [field.code]: «1.19» is not in the project's list of MA_DOITUONG_KCB codes (the list is partial: check it against the official list)",
      "WARNING XML14 record 1 (MA_LK=LK-IN-1) MA_DOITUONG_KCB [field.code]: «1.19» is not in the project's list of MA_DOITUONG_KCB codes (the list is partial: check it against the official list)",
    ],
  },
  { rule: 'field.code', name: 'code not in this version', mutate: (e) => (x(e, 'XML3').MA_NHOM = '19'), episode: () => built('out', { version: '130' }), expect: ['ERROR XML3 record 1 (MA_LK=LK-OUT-1, STT=1) MA_NHOM [field.code]: «19» is not a code of MA_NHOM in QĐ 130 (allowed: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18)'] },
  { rule: 'field.pattern', name: 'bed code', mutate: (e) => (x(e, 'XML3', 2).MA_GIUONG = 'H12'), expect: ['ERROR XML3 record 3 (MA_LK=LK-IN-1, STT=3) MA_GIUONG [field.pattern]: «H12» is not H, T, C or K followed by 3 digits (e.g. H001)'] },
  { rule: 'field.unknown', name: 'element of another version', mutate: (e) => (x(e, 'XML1').MA_THE = 'DN4010123456789'), expect: ['WARNING XML1 record 1 (MA_LK=LK-IN-1, STT=1) MA_THE [field.unknown]: MA_THE is not a field of XML1 in QĐ 3176'] },
  {
    rule: 'field.duplicate',
    name: 'field twice',
    mutate: (e) => (e.tables.XML1![0].duplicates = ['HO_TEN']),
    expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) HO_TEN [field.duplicate]: HO_TEN appears more than once in the record'],
  },
  { rule: 'field.nested', name: 'element in a field', mutate: (e) => (e.tables.XML1![0].nested = ['DIA_CHI']), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) DIA_CHI [field.nested]: DIA_CHI contains elements; a field holds text only'] },
  {
    rule: 'field.order',
    name: 'HO_TEN before MA_BN',
    mutate: (e) => {
      const f = x(e, 'XML1');
      const { MA_LK, STT, HO_TEN, ...rest } = f;
      e.tables.XML1![0].fields = { MA_LK, STT, HO_TEN, ...rest };
    },
    expect: ['WARNING XML1 record 1 (MA_LK=LK-IN-1, STT=1) MA_BN [field.order]: MA_BN comes after HO_TEN; the official order puts it before (the portal XSD checks element order)'],
  },
  { rule: 'field.whitespace', name: 'leading space', mutate: (e) => (x(e, 'XML2').TEN_THUOC = ' Ceftriaxon 1g'), expect: ['WARNING XML2 record 1 (MA_LK=LK-IN-1, STT=1) TEN_THUOC [field.whitespace]: « Ceftriaxon 1g» has leading or trailing spaces'] },
  // Card.
  {
    rule: 'card.structure',
    name: 'benefit level 6',
    mutate: (e) => (x(e, 'XML1').MA_THE_BHYT = x(e, 'XML14').MA_THE_BHYT = 'DN6010123456789'),
    expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) MA_THE_BHYT [card.structure]: card «DN6010123456789»: character 3 (benefit level) must be 1–5'],
  },
  { rule: 'card.count', name: 'two validity dates for one card', mutate: (e) => (x(e, 'XML1').GT_THE_TU = '20250101;20250101'), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) GT_THE_TU [card.count]: GT_THE_TU has 2 value(s) but MA_THE_BHYT has 1 card(s); write one value per card, separated by ";"'] },
  { rule: 'card.details', name: 'card without its facility', mutate: (e) => (x(e, 'XML1').MA_DKBD = ''), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) MA_DKBD [card.details]: MA_DKBD is empty but MA_THE_BHYT holds a card'] },
  {
    rule: 'card.validity',
    name: 'valid from after valid to',
    mutate: (e) => (x(e, 'XML1').GT_THE_TU = '20260101'),
    expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) GT_THE_TU [card.validity]: card 1: valid from 01/01/2026 after valid to 31/12/2025', 'WARNING XML1 record 1 (MA_LK=LK-IN-1, STT=1) GT_THE_TU [card.coverage]: no card is valid on the admission date 11/03/2025'],
  },
  { rule: 'card.coverage', name: 'card starts after admission', mutate: (e) => (x(e, 'XML1').GT_THE_TU = '20250312'), expect: ['WARNING XML1 record 1 (MA_LK=LK-IN-1, STT=1) GT_THE_TU [card.coverage]: no card is valid on the admission date 11/03/2025'] },
  {
    rule: 'icd.format',
    name: 'lower-case ICD code',
    mutate: (e) => (x(e, 'XML1').MA_BENH_CHINH = x(e, 'XML14').MA_BENH_CHINH = 'j18.9'),
    expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) MA_BENH_CHINH [icd.format]: «j18.9» is not an ICD-10 code (a capital letter, two digits and an optional subdivision, e.g. J18.9)'],
  },
  {
    rule: 'icd.count',
    name: '13 secondary codes',
    mutate: (e) => (x(e, 'XML1').MA_BENH_KT = x(e, 'XML14').MA_BENH_KT = Array.from({ length: 13 }, (_, i) => `I1${i % 10}`).join(';')),
    expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) MA_BENH_KT [icd.count]: 13 secondary codes; at most 12 are allowed'],
  },
  // Dates.
  {
    rule: 'dates.episode-order',
    name: 'inpatient admission after discharge',
    mutate: (e) => (x(e, 'XML1').NGAY_VAO_NOI_TRU = x(e, 'XML14').NGAY_VAO_NOI_TRU = '202503140000'),
    expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) NGAY_VAO_NOI_TRU [dates.episode-order]: 14/03/2025 00:00 is after NGAY_RA 13/03/2025 15:00'],
  },
  {
    rule: 'dates.birth',
    name: 'born after admission',
    mutate: (e) => (x(e, 'XML1').NGAY_SINH = x(e, 'XML14').NGAY_SINH = '202504010000'),
    expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) NGAY_SINH [dates.birth]: date of birth 01/04/2025 is after the admission date 11/03/2025'],
  },
  {
    rule: 'dates.line-order',
    name: 'order before admission',
    mutate: (e) => (x(e, 'XML2').NGAY_YL = '202503101200'),
    expect: ['ERROR XML2 record 1 (MA_LK=LK-IN-1, STT=1) NGAY_YL [dates.line-order]: 10/03/2025 12:00 is outside the episode (NGAY_VAO 11/03/2025 07:30 – NGAY_RA 13/03/2025 15:00)'],
  },
  { rule: 'dates.execution', name: 'result before order', mutate: (e) => (x(e, 'XML3', 1).NGAY_KQ = '202503110900'), expect: ['ERROR XML3 record 2 (MA_LK=LK-IN-1, STT=2) NGAY_KQ [dates.execution]: 11/03/2025 09:00 is before the order time NGAY_YL 11/03/2025 09:10'] },
  {
    rule: 'dates.result-after-discharge',
    name: 'late result',
    mutate: (e) => (x(e, 'XML3', 1).NGAY_KQ = '202503141000'),
    expect: ['WARNING XML3 record 2 (MA_LK=LK-IN-1, STT=2) NGAY_KQ [dates.result-after-discharge]: 14/03/2025 10:00 is after NGAY_RA 13/03/2025 15:00 (results more than 7 days late are entered on the portal)'],
  },
  { rule: 'dates.payment', name: 'paid before arrival', mutate: (e) => (x(e, 'XML1').NGAY_TTOAN = '202503100000'), expect: ['WARNING XML1 record 1 (MA_LK=LK-IN-1, STT=1) NGAY_TTOAN [dates.payment]: payment time 10/03/2025 00:00 is before NGAY_VAO 11/03/2025 07:30'] },
  { rule: 'dates.appointment', name: 'appointment before discharge', mutate: (e) => (x(e, 'XML14').NGAY_HEN_KL = '202503121000'), expect: ['ERROR XML14 record 1 (MA_LK=LK-IN-1) NGAY_HEN_KL [dates.appointment]: appointment 12/03/2025 10:00 is before discharge NGAY_RA 13/03/2025 15:00'] },
  { rule: 'episode.treatment-days', name: 'inpatient days', mutate: (e) => (x(e, 'XML1').SO_NGAY_DTRI = '4'), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) SO_NGAY_DTRI [episode.treatment-days]: 4 should be 3 (MA_LOAI_KCB 03: NGAY_RA − NGAY_VAO + 1 = 20250313 − 20250311 + 1)'] },
  {
    rule: 'episode.long-outpatient',
    name: 'examination over two days',
    base: 'out',
    mutate: (e) => (x(e, 'XML1').NGAY_RA = '202503111030'),
    expect: ['WARNING XML1 record 1 (MA_LK=LK-OUT-1, STT=1) NGAY_RA [episode.long-outpatient]: an outpatient examination (MA_LOAI_KCB 01) from 10/03/2025 08:00 to 11/03/2025 10:30 spans 2 days'],
  },
  { rule: 'episode.settlement', name: 'month 13', mutate: (e) => (x(e, 'XML1').THANG_QT = '13'), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) THANG_QT [episode.settlement]: 13 is not a month (1–12)'] },
  { rule: 'episode.settlement', name: 'settled before discharge', mutate: (e) => (x(e, 'XML1').THANG_QT = '2'), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) THANG_QT [episode.settlement]: settlement period 2025-02 is before the discharge month 2025-03'] },
  // Money.
  { rule: 'money.negative', name: 'negative ceiling', mutate: (e) => (x(e, 'XML3', 3).T_TRANTT = '-1'), expect: ['ERROR XML3 record 4 (MA_LK=LK-IN-1, STT=4) T_TRANTT [money.negative]: «-1» is negative'] },
  {
    rule: 'money.line-bv',
    name: 'drug price changed, amounts not',
    mutate: (e) => (x(e, 'XML2').DON_GIA = '18600'),
    expect: [
      'ERROR XML2 record 1 (MA_LK=LK-IN-1, STT=1) THANH_TIEN_BV [money.line-bv]: 111000 ≠ round2(SO_LUONG 6 × DON_GIA 18600) = 111600',
      'ERROR XML2 record 1 (MA_LK=LK-IN-1, STT=1) THANH_TIEN_BH [money.line-bh]: 111000 ≠ round2(SO_LUONG 6 × DON_GIA 18600 × TYLE_TT_BH 100 / 100) = 111600',
    ],
  },
  {
    rule: 'money.line-bv',
    name: 'shared bed: TYLE_TT_DV applies to THANH_TIEN_BV from QĐ 4750 on',
    mutate: (e) => (x(e, 'XML3', 2).TYLE_TT_DV = '50'),
    expect: [
      'ERROR XML3 record 3 (MA_LK=LK-IN-1, STT=3) THANH_TIEN_BV [money.line-bv]: 451600 ≠ round2(SO_LUONG 2 × DON_GIA_BV 225800 × TYLE_TT_DV 50 / 100) = 225800',
      'ERROR XML3 record 3 (MA_LK=LK-IN-1, STT=3) THANH_TIEN_BH [money.line-bh]: 451600 ≠ round2(SO_LUONG 2 × DON_GIA_BH 225800 × TYLE_TT_DV 50 / 100 × TYLE_TT_BH 100 / 100) = 225800',
    ],
  },
  { rule: 'money.line-bh', name: 'ratio 50 %', mutate: (e) => (x(e, 'XML3', 1).TYLE_TT_BH = '50'), expect: ['ERROR XML3 record 2 (MA_LK=LK-IN-1, STT=2) THANH_TIEN_BH [money.line-bh]: 65400 ≠ round2(SO_LUONG 1 × DON_GIA_BH 65400 × TYLE_TT_DV 100 / 100 × TYLE_TT_BH 50 / 100) = 32700'] },
  { rule: 'money.other-sources', name: 'parts do not add up', mutate: (e) => (x(e, 'XML2').T_NGUONKHAC_CL = '1000'), expect: ['ERROR XML2 record 1 (MA_LK=LK-IN-1, STT=1) T_NGUONKHAC [money.other-sources]: 0 ≠ NSNN 0 + VTNN 0 + VTTN 0 + CL 1000 = 1000'] },
  {
    rule: 'money.split',
    name: 'fund share wrong',
    mutate: (e) => (x(e, 'XML2').T_BHTT = '88000'),
    expect: [
      'ERROR XML2 record 1 (MA_LK=LK-IN-1, STT=1) T_BHTT [money.split]: 88000 ≠ round2(THANH_TIEN_BH 111000 × MUC_HUONG 80 / 100) = 88800',
      'ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) T_BHTT_GDV [money.totals]: 579984 ≠ Σ T_BHTT of fee-for-service lines, MA_PTTT 1 (7 lines) = 579184',
    ],
  },
  {
    rule: 'money.split',
    name: 'other sources: the parts must add up to the line amount',
    mutate: (e) => {
      const f = x(e, 'XML2');
      f.T_NGUONKHAC_NSNN = f.T_NGUONKHAC = '10000';
      f.T_BNCCT = '12200';
      f.T_BHTT = '88000';
      const h = x(e, 'XML1');
      h.T_NGUONKHAC = '10000';
      h.T_BNCCT = '134996';
      h.T_BHTT = '589984';
      h.T_BHTT_GDV = '579184';
    },
    expect: ['ERROR XML2 record 1 (MA_LK=LK-IN-1, STT=1) T_BHTT [money.split]: T_BNTT 0 + T_BNCCT 12200 + T_BHTT 88000 + T_NGUONKHAC 10000 = 110200 ≠ THANH_TIEN_BV 111000'],
  },
  { rule: 'money.supply-ceiling', name: 'above the package ceiling', mutate: (e) => (x(e, 'XML3', 3).T_TRANTT = '5000'), expect: ['ERROR XML3 record 4 (MA_LK=LK-IN-1, STT=4) T_BHTT [money.supply-ceiling]: 5520 exceeds the supply-package ceiling T_TRANTT 5000'] },
  { rule: 'money.totals', name: 'drug total', mutate: (e) => (x(e, 'XML1').T_THUOC = '175481'), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) T_THUOC [money.totals]: 175481 ≠ Σ XML2 THANH_TIEN_BV (3 lines) = 175480'] },
  { rule: 'money.fund-total', name: 'T_BHTT', mutate: (e) => (x(e, 'XML1').T_BHTT = '579983'), expect: ['ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) T_BHTT [money.fund-total]: 579983 ≠ T_TONGCHI_BH 724980 − T_BNCCT 144996 = 579984'] },
  // Benefit level.
  {
    rule: 'benefit.muc-huong',
    name: 'off-route inpatient at a central hospital is 80 × 40 % = 32',
    base: 'off',
    mutate: (e) => {
      Object.assign(x(e, 'XML2'), { MUC_HUONG: '80', T_BHTT: '88800', T_BNCCT: '22200' });
      Object.assign(x(e, 'XML1'), { T_BNCCT: '439706.4', T_BHTT: '285273.6', T_BHTT_GDV: '285273.6' });
    },
    expect: ['ERROR XML2 record 1 (MA_LK=LK-OFF-1, STT=1) MUC_HUONG [benefit.muc-huong]: 80 does not match the benefit for MA_DOITUONG_KCB 3.1 and card GD4361122334455: expected 32 (card level 80 % × off-route rate 40 % (central-level inpatient) = 32)'],
  },
  {
    rule: 'benefit.muc-huong',
    name: 'small on-route visit is paid at 100',
    base: 'out',
    mutate: (e) => {
      Object.assign(x(e, 'XML3', 1), { MUC_HUONG: '80', T_BHTT: '21520', T_BNCCT: '5380' });
      Object.assign(x(e, 'XML1'), { T_BNCCT: '5380', T_BHTT: '118622.01', T_BHTT_GDV: '118622.01' });
    },
    expect: ['ERROR XML3 record 2 (MA_LK=LK-OUT-1, STT=2) MUC_HUONG [benefit.muc-huong]: 80 does not match the benefit for MA_DOITUONG_KCB 1.1 and card DN4010123456789: expected 100 (100 because the in-scope total 124002.01 is under 15 % of the base salary (351000))'],
  },
  // Tables and links.
  { rule: 'tables.required', name: 'inpatient without XML5', mutate: (e) => delete e.tables.XML5, expect: ['ERROR XML5 [tables.required]: MA_LOAI_KCB 03 (inpatient) requires XML5 (clinical progress)'] },
  { rule: 'tables.required', name: 'no XML1', mutate: (e) => delete e.tables.XML1, expect: ['ERROR XML1 [tables.required]: the episode has no XML1 (TONG_HOP); every HOSO must include it'] },
  { rule: 'tables.recommended', name: 'inpatient without XML8', mutate: (e) => delete e.tables.XML8, expect: ['WARNING XML8 [tables.recommended]: MA_LOAI_KCB 03 (inpatient) normally includes XML8 (record summary)'] },
  { rule: 'tables.not-applicable', name: 'referral without transfer', base: 'out', mutate: (e) => (e.tables.XML13 = [{ index: 1, fields: xml13 }]), expect: ['ERROR XML13 record 1 (MA_LK=LK-OUT-1) [tables.not-applicable]: XML13 (referral letter) is sent only when MA_LOAI_RV is 2 or 5; XML1 has MA_LOAI_RV 1'] },
  { rule: 'tables.recommended', name: 'delivery without a birth certificate', base: 'out', mutate: (e) => Object.assign(x(e, 'XML1'), { MA_BENH_CHINH: 'O80', GIOI_TINH: '2' }), expect: ["WARNING XML9 [tables.recommended]: MA_BENH_CHINH O80 is a delivery; the mother's episode normally includes XML9 (a birth certificate per baby)"] },
  {
    rule: 'tables.not-applicable',
    name: 'pregnancy-rest certificate for a male patient',
    base: 'out',
    mutate: (e) => {
      x(e, 'XML1').GIOI_TINH = '1';
      e.tables.XML10 = [{ index: 1, fields: { MA_LK: 'LK-OUT-1', SO_SERI: 'AA/2025/00001', SO_CT: '1/GNDT', SO_NGAY: '7', DON_VI: 'Công ty A', CHAN_DOAN_RV: 'Dọa sẩy thai', TU_NGAY: '20250310', DEN_NGAY: '20250316', MA_TTDV: '0101234567', TEN_BS: 'Lê Văn Bình', MA_BS: '001234/HNO-CCHN', NGAY_CT: '20250310', DU_PHONG: '' } }];
    },
    expect: ['ERROR XML10 record 1 (MA_LK=LK-OUT-1) [tables.not-applicable]: XML10 (pregnancy-rest certificate) belongs to a female patient\'s episode; XML1 has GIOI_TINH 1'],
  },
  { rule: 'tables.single', name: 'two XML1 records', mutate: (e) => e.tables.XML1!.push({ index: 2, fields: { ...x(e, 'XML1') } }), expect: ['ERROR XML1 record 2 (MA_LK=LK-IN-1, STT=1) [tables.single]: XML1 holds one record per episode; found 2'] },
  { rule: 'tables.version', name: 'XML13 in QĐ 130', episode: () => built('out', { version: '130' }), mutate: (e) => (e.tables.XML13 = [{ index: 1, fields: xml13 }]), expect: ['ERROR XML13 [tables.version]: XML13 does not exist in QĐ 130'] },
  { rule: 'link.ma-lk', name: 'line of another episode', mutate: (e) => (x(e, 'XML2').MA_LK = 'LK-IN-2'), expect: ["ERROR XML2 record 1 (MA_LK=LK-IN-2, STT=1) MA_LK [link.ma-lk]: MA_LK «LK-IN-2» differs from the episode's MA_LK «LK-IN-1» in XML1"] },
  { rule: 'link.stt', name: 'gap in numbering', mutate: (e) => (x(e, 'XML2', 1).STT = '3'), expect: ['WARNING XML2 record 2 (MA_LK=LK-IN-1, STT=3) STT [link.stt]: STT is 3 where 2 is expected (rows are numbered 1, 2, 3… in each table)'] },
  { rule: 'link.xml1-copy', name: 'appointment slip address', mutate: (e) => (x(e, 'XML14').DIA_CHI = 'Hà Nội'), expect: ['ERROR XML14 record 1 (MA_LK=LK-IN-1) DIA_CHI [link.xml1-copy]: «Hà Nội» differs from XML1 DIA_CHI «Số 5 ngõ 12 phố Huế, Phường Phúc Xá, Quận Ba Đình, Hà Nội» (this field repeats XML1)'] },
  { rule: 'link.cls-service', name: 'result without a billed service', base: 'out', mutate: (e) => (x(e, 'XML4').MA_DICH_VU = '23.0075.1494'), expect: ['WARNING XML4 record 1 (MA_LK=LK-OUT-1, STT=1) MA_DICH_VU [link.cls-service]: «23.0075.1494» has results in XML4 but no XML3 line bills that service'] },
  { rule: 'link.facility', name: 'another facility', mutate: (e) => (x(e, 'XML1').MA_CSKCB = '01998'), expect: ["ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) MA_CSKCB [link.facility]: «01998» is not this facility's code «01999»"] },
  // Beds, services, drugs, check-in.
  {
    rule: 'bed.not-allowed',
    name: 'bed day in an outpatient visit',
    base: 'out',
    mutate: (e) => (x(e, 'XML3', 1).MA_NHOM = '15'),
    expect: [
      'ERROR XML3 record 2 (MA_LK=LK-OUT-1, STT=2) MA_NHOM [bed.not-allowed]: bed days (MA_NHOM 15) are not paid for MA_LOAI_KCB 01 (outpatient examination)',
      'ERROR XML3 record 2 (MA_LK=LK-OUT-1, STT=2) SO_LUONG [bed.days]: 1 bed days in 1 line(s) exceed the 0 treatment days (SO_NGAY_DTRI)',
    ],
  },
  {
    rule: 'bed.days',
    name: 'more bed days than treatment days',
    mutate: (e) => (x(e, 'XML1').SO_NGAY_DTRI = '1'),
    expect: [
      'ERROR XML1 record 1 (MA_LK=LK-IN-1, STT=1) SO_NGAY_DTRI [episode.treatment-days]: 1 should be 3 (MA_LOAI_KCB 03: NGAY_RA − NGAY_VAO + 1 = 20250313 − 20250311 + 1)',
      'ERROR XML3 record 3 (MA_LK=LK-IN-1, STT=3) SO_LUONG [bed.days]: 2 bed days in 1 line(s) exceed the 1 treatment days (SO_NGAY_DTRI)',
    ],
  },
  { rule: 'service.exam-count', name: 'two examinations', mutate: (e) => (x(e, 'XML3', 1).MA_NHOM = '13'), expect: ['WARNING XML3 record 2 (MA_LK=LK-IN-1, STT=2) MA_NHOM [service.exam-count]: 2 examination lines (MA_NHOM 13) in one inpatient episode'] },
  { rule: 'drug.registration', name: 'no registration number', mutate: (e) => (x(e, 'XML2').SO_DANG_KY = ''), expect: ['WARNING XML2 record 1 (MA_LK=LK-IN-1, STT=1) SO_DANG_KY [drug.registration]: drug 40.168 (MA_NHOM 4) has no registration number'] },
  {
    rule: 'checkin.first-cost',
    name: 'service and drug in one check-in',
    partial: true,
    episode: () => {
      const src = inpatientSource();
      const r = buildCheckInRecord(src);
      r.fields.MA_THUOC = '40.168';
      r.fields.TEN_THUOC = 'Ceftriaxon 1g';
      return { version: '3176', tables: { XML0: [r] } };
    },
    expect: ['ERROR XML0 record 1 (MA_LK=LK-IN-1, STT=1) MA_THUOC [checkin.first-cost]: names MA_DICH_VU and MA_THUOC; the first cost is one service, one drug or one supply'],
  },
];

describe('claims validator rules (one breaking case per rule, exact messages)', () => {
  for (const c of cases) {
    it(`${c.rule}: ${c.name}`, () => {
      const ep = c.episode ? c.episode() : built(c.base ?? 'in');
      c.mutate?.(ep);
      const result = validateEpisode(ep, c.options ?? opts, { partial: c.partial });
      assert.deepEqual(result.findings.map(formatFinding), c.expect);
    });
  }

  it('the unmutated episodes have no findings', () => {
    for (const base of ['in', 'out', 'er', 'off'] as Base[]) assert.deepEqual(validateEpisode(built(base), opts).findings.map(formatFinding), [], base);
  });
});

// Rules about the bytes and the envelope, on files.
const goodEnvelope = () => buildEnvelope({ maCskcb: '01999', ngayLap: '20250314', hoso: [episodeFiles(built('er'))] });
const b64 = (s: string) => Buffer.from(s, 'utf8').toString('base64');
const fileHoso = (loai: string, doc: string) => `<FILEHOSO><LOAIHOSO>${loai}</LOAIHOSO><NOIDUNGFILE>${b64(doc)}</NOIDUNGFILE></FILEHOSO>`;
const envelopeWith = (hoso: string, header = '<NGAYLAP>20250314</NGAYLAP><SOLUONGHOSO>1</SOLUONGHOSO>') =>
  `<?xml version="1.0" encoding="utf-8"?><GIAMDINHHS><THONGTINDONVI><MACSKCB>01999</MACSKCB></THONGTINDONVI><THONGTINHOSO>${header}<DANHSACHHOSO>${hoso}</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI></CHUKYDONVI></GIAMDINHHS>`;
const erFiles = () => episodeFiles(built('er')).map((f) => fileHoso(f.loaiHoSo, f.document as string)).join('');

interface FileCase {
  rule: keyof typeof ruleCatalogue;
  name: string;
  input(): Buffer | string;
  expect: string[];
}

const fileCases: FileCase[] = [
  { rule: 'file.empty', name: 'only whitespace', input: () => '  \n', expect: ['ERROR FILE [file.empty]: the file is empty'] },
  {
    rule: 'file.encoding',
    name: 'Windows-1258 bytes',
    input: () => Buffer.concat([Buffer.from('<?xml version="1.0" encoding="utf-8"?><TONG_HOP><HO_TEN>Nguy'), Buffer.from([0xea, 0xf0]), Buffer.from('n</HO_TEN></TONG_HOP>')]),
    expect: ['ERROR FILE [file.encoding]: byte 0xEA 0xF0 0x6E at offset 60 is not valid UTF-8. BHYT XML must be UTF-8 (QĐ 130 Điều 1); the file is probably in Windows-1258, TCVN3 (ABC) or VNI: convert it to UTF-8'],
  },
  {
    rule: 'file.encoding',
    name: 'declared windows-1258',
    input: () => '<?xml version="1.0" encoding="windows-1258"?><TONG_HOP/>',
    expect: ['ERROR FILE [file.encoding]: the document declares encoding "windows-1258"; BHYT XML must be UTF-8 (QĐ 130 Điều 1): convert the file to UTF-8 and declare encoding="utf-8"'],
  },
  {
    rule: 'file.encoding',
    name: 'UTF-16',
    input: () => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from('<TONG_HOP/>', 'utf16le')]),
    expect: ['ERROR FILE [file.encoding]: the file starts with a UTF-16 byte-order mark. BHYT XML must be UTF-8 (QĐ 130 Điều 1); the file is probably in UTF-16: convert it to UTF-8'],
  },
  {
    rule: 'file.xml',
    name: 'external entity (XXE) is refused, never resolved',
    input: () => '<?xml version="1.0"?><!DOCTYPE TONG_HOP [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><TONG_HOP><HO_TEN>&xxe;</HO_TEN></TONG_HOP>',
    expect: ['ERROR FILE line 1 [file.xml]: not well-formed XML at line 1, column 22: DOCTYPE declarations are not allowed (they can declare external entities or entity expansion: XXE / "billion laughs")'],
  },
  {
    rule: 'file.xml',
    name: 'undeclared entity',
    input: () => '<TONG_HOP><HO_TEN>&lol9;</HO_TEN></TONG_HOP>',
    expect: ['ERROR FILE line 1 [file.xml]: not well-formed XML at line 1, column 19: undeclared entity &lol9; (only &lt; &gt; &amp; &quot; &apos; are allowed; DOCTYPE and entity declarations are refused)'],
  },
  { rule: 'file.xml', name: 'mismatched tag', input: () => '<TONG_HOP>\n<MA_LK>a</MA_BN>\n</TONG_HOP>', expect: ['ERROR FILE line 2 [file.xml]: not well-formed XML at line 2, column 9: end tag </MA_BN> does not match <MA_LK>'] },
  {
    rule: 'file.base64',
    name: 'NOIDUNGFILE not base64',
    input: () => envelopeWith('<HOSO><FILEHOSO><LOAIHOSO>XML1</LOAIHOSO><NOIDUNGFILE>PD94bWwg*</NOIDUNGFILE></FILEHOSO></HOSO>'),
    expect: [
      'ERROR HOSO 1 FILE [file.base64]: NOIDUNGFILE of the FILEHOSO at envelope line 1 is not valid base64: character "*" at position 8 is not base64',
      'ERROR HOSO 1 XML1 [tables.required]: the episode has no XML1 (TONG_HOP); every HOSO must include it',
      'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing',
    ],
  },
  { rule: 'file.root', name: 'not a claim document', input: () => '<html><body/></html>', expect: ['ERROR FILE [file.root]: <html> is not a BHYT claim document (expected GIAMDINHHS, a table root such as TONG_HOP or CHITIEU_CHITIET_THUOC, or CHI_TIEU_TRANG_THAI_KCB)'] },
  { rule: 'file.bom', name: 'UTF-8 BOM', input: () => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(goodEnvelope())]), expect: ['WARNING ENVELOPE [file.bom]: the document starts with a UTF-8 byte-order mark; write UTF-8 without BOM', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'] },
  { rule: 'envelope.empty', name: 'no HOSO', input: () => envelopeWith('', '<NGAYLAP>20250314</NGAYLAP><SOLUONGHOSO>0</SOLUONGHOSO>'), expect: ['ERROR ENVELOPE [envelope.empty]: the envelope contains no HOSO', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'] },
  { rule: 'envelope.empty-hoso', name: 'HOSO without files', input: () => envelopeWith('<HOSO></HOSO>'), expect: ['ERROR HOSO 1 ENVELOPE [envelope.empty-hoso]: HOSO has no FILEHOSO', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'] },
  {
    rule: 'envelope.empty-file',
    name: 'empty NOIDUNGFILE',
    input: () => envelopeWith(`<HOSO>${erFiles()}<FILEHOSO><LOAIHOSO>XML2</LOAIHOSO><NOIDUNGFILE></NOIDUNGFILE></FILEHOSO></HOSO>`),
    expect: ['ERROR HOSO 1 ENVELOPE [envelope.empty-file]: NOIDUNGFILE of the FILEHOSO at envelope line 1 is empty', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'],
  },
  {
    rule: 'envelope.missing-content',
    name: 'FILEHOSO without NOIDUNGFILE',
    input: () => envelopeWith(`<HOSO>${erFiles()}<FILEHOSO><LOAIHOSO>XML2</LOAIHOSO></FILEHOSO></HOSO>`),
    expect: ['ERROR HOSO 1 ENVELOPE [envelope.missing-content]: the FILEHOSO at envelope line 1 (LOAIHOSO XML2) has no NOIDUNGFILE', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'],
  },
  {
    rule: 'envelope.loaihoso',
    name: 'LOAIHOSO says XML2, content is XML3',
    input: () => envelopeWith(`<HOSO>${erFiles().replace('<LOAIHOSO>XML3</LOAIHOSO>', '<LOAIHOSO>XML2</LOAIHOSO>')}</HOSO>`),
    expect: ['ERROR HOSO 1 ENVELOPE [envelope.loaihoso]: LOAIHOSO "XML2" does not match its content: NOIDUNGFILE is a XML3 document (<CHITIEU_CHITIET_DVKT_VTYT>)', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'],
  },
  {
    rule: 'envelope.duplicate-table',
    name: 'XML3 twice',
    input: () => {
      const files = erFiles();
      const xml3 = files.slice(files.indexOf('<FILEHOSO><LOAIHOSO>XML3'));
      return envelopeWith(`<HOSO>${files}${xml3}</HOSO>`);
    },
    expect: ['ERROR HOSO 1 ENVELOPE [envelope.duplicate-table]: XML3 appears twice in this HOSO; the second one is ignored', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'],
  },
  {
    rule: 'envelope.table-not-allowed',
    name: 'check-in inside the envelope',
    input: () => envelopeWith(`<HOSO>${erFiles()}${fileHoso('XML0', serializeTable(tableSpec('3176', 'XML0')!, [buildCheckInRecord(emergencySource())]))}</HOSO>`),
    expect: ['ERROR HOSO 1 ENVELOPE [envelope.table-not-allowed]: XML0 does not belong in GIAMDINHHS: it is sent to its own endpoint', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'],
  },
  {
    rule: 'envelope.unknown-element',
    name: 'vendor extension element',
    input: () => envelopeWith(`<HOSO>${erFiles()}</HOSO>`).replace('<THONGTINHOSO>', '<PHANMEM>HIS X</PHANMEM><THONGTINHOSO>'),
    expect: ['WARNING ENVELOPE [envelope.unknown-element]: unexpected element <PHANMEM> in GIAMDINHHS (expected THONGTINDONVI, THONGTINHOSO, CHUKYDONVI)', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'],
  },
  { rule: 'envelope.header', name: 'no NGAYLAP', input: () => envelopeWith(`<HOSO>${erFiles()}</HOSO>`, '<SOLUONGHOSO>1</SOLUONGHOSO>'), expect: ['ERROR ENVELOPE [envelope.header]: THONGTINHOSO/NGAYLAP is missing or empty', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'] },
  { rule: 'envelope.count', name: 'SOLUONGHOSO 2 for 1', input: () => envelopeWith(`<HOSO>${erFiles()}</HOSO>`, '<NGAYLAP>20250314</NGAYLAP><SOLUONGHOSO>2</SOLUONGHOSO>'), expect: ['ERROR ENVELOPE [envelope.count]: SOLUONGHOSO is «2» but the envelope holds 1 HOSO', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'] },
  {
    rule: 'envelope.one-per-file',
    name: 'two episodes in one 3176 upload',
    input: () => envelopeWith(`<HOSO>${erFiles()}</HOSO><HOSO>${erFiles()}</HOSO>`, '<NGAYLAP>20250314</NGAYLAP><SOLUONGHOSO>2</SOLUONGHOSO>'),
    expect: ['WARNING ENVELOPE [envelope.one-per-file]: 2 HOSO in one file; the 3176 guide asks for one episode per upload', 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'],
  },
  { rule: 'envelope.not-signed', name: 'empty CHUKYDONVI', input: () => goodEnvelope(), expect: ['WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing'] },
  {
    rule: 'table.unexpected-element',
    name: 'record element misspelt',
    input: () => '<CHITIEU_CHITIET_THUOC><DSACH_CHI_TIET_THUOC><CHI_TIET_THUOC_X><MA_LK>A</MA_LK></CHI_TIET_THUOC_X></DSACH_CHI_TIET_THUOC></CHITIEU_CHITIET_THUOC>',
    expect: ['ERROR XML2 line 1 [table.unexpected-element]: unexpected element <CHI_TIET_THUOC_X> in CHITIEU_CHITIET_THUOC (expected <CHI_TIET_THUOC>); its content is ignored'],
  },
  {
    rule: 'file.too-large',
    name: 'a field over the limit',
    input: () => `<TONG_HOP><GHI_CHU>${'x'.repeat(1024 * 1024 + 1)}</GHI_CHU></TONG_HOP>`,
    expect: ['ERROR FILE [file.too-large]: field GHI_CHU is longer than 1048576 characters'],
  },
  {
    rule: 'money.line-4210',
    name: '4210 drug line',
    input: () =>
      `<DSACH_CHI_TIET_THUOC><CHI_TIET_THUOC><MA_LK>LK4210</MA_LK><STT>1</STT><MA_THUOC>40.30</MA_THUOC><MA_NHOM>4</MA_NHOM><TEN_THUOC>Amlodipin</TEN_THUOC><DON_VI_TINH>Viên</DON_VI_TINH><HAM_LUONG>5mg</HAM_LUONG><DUONG_DUNG>1.01</DUONG_DUNG><LIEU_DUNG>1 viên</LIEU_DUNG><SO_DANG_KY>VD-1</SO_DANG_KY><TT_THAU>1;G1;N4;2018</TT_THAU><PHAM_VI>1</PHAM_VI><TYLE_TT>100</TYLE_TT><SO_LUONG>30</SO_LUONG><DON_GIA>315.5</DON_GIA><THANH_TIEN>9466</THANH_TIEN><MUC_HUONG>80</MUC_HUONG><T_NGUONKHAC>0</T_NGUONKHAC><T_BNTT>0</T_BNTT><T_BHTT>7572</T_BHTT><T_BNCCT>1893</T_BNCCT><T_NGOAIDS>0</T_NGOAIDS><MA_KHOA>K01</MA_KHOA><MA_BAC_SI>BS1</MA_BAC_SI><MA_BENH>I10</MA_BENH><NGAY_YL>201905101000</NGAY_YL><MA_PTTT>1</MA_PTTT></CHI_TIET_THUOC></DSACH_CHI_TIET_THUOC>`,
    expect: ['ERROR XML2 record 1 (MA_LK=LK4210, STT=1) THANH_TIEN line 1 [money.line-4210]: 9466 ≠ round2(SO_LUONG 30 × DON_GIA 315.5) = 9465'],
  },
];

describe('claims validator rules on files (bytes and envelope)', () => {
  for (const c of fileCases) {
    it(`${c.rule}: ${c.name}`, async () => {
      const r = await validateBuffer(c.input(), { ...opts });
      assert.deepEqual(r.findings.map(formatFinding), c.expect);
    });
  }

  it('a MACSKCB different from XML1 MA_CSKCB is a link.facility error', async () => {
    const r = await validateBuffer(goodEnvelope().replace('<MACSKCB>01999</MACSKCB>', '<MACSKCB>01998</MACSKCB>'), {});
    assert.deepEqual(r.findings.map(formatFinding), ["ERROR HOSO 1 XML1 record 1 (MA_LK=LK-ER-1, STT=1) MA_CSKCB line 2 [link.facility]: «01999» differs from the envelope's MACSKCB «01998»", 'WARNING ENVELOPE [envelope.not-signed]: CHUKYDONVI is empty: the facility signature is missing']);
  });

  it('every rule in the catalogue has a breaking case', () => {
    const covered = new Set([...cases.map((c) => c.rule), ...fileCases.map((c) => c.rule), 'link.facility']);
    const missing = Object.keys(ruleCatalogue).filter((r) => !covered.has(r as keyof typeof ruleCatalogue));
    assert.deepEqual(missing, []);
  });
});


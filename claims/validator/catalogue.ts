// Every rule the validator applies, with its severity: errors block submission, warnings do not.
// docs/claims.md lists this catalogue, and test/claims/rules.test.ts breaks each rule once.
import type { Severity } from '../model';

export interface RuleInfo {
  severity: Severity;
  summary: string;
}

export const ruleCatalogue = {
  // The bytes and the envelope.
  'file.empty': { severity: 'error', summary: 'the file is empty' },
  'file.encoding': { severity: 'error', summary: 'not UTF-8 (invalid bytes, UTF-16, or another declared encoding)' },
  'file.xml': { severity: 'error', summary: 'not well-formed XML, or a DOCTYPE / entity declaration (refused: XXE, entity expansion)' },
  'file.base64': { severity: 'error', summary: 'NOIDUNGFILE (or the uploaded file) is not valid base64' },
  'file.root': { severity: 'error', summary: 'the root element is not a BHYT claim document' },
  'file.too-large': { severity: 'error', summary: 'an inner document, field or episode is larger than the configured limit' },
  'file.bom': { severity: 'warning', summary: 'the document starts with a UTF-8 byte-order mark (emit UTF-8 without BOM)' },
  'envelope.empty': { severity: 'error', summary: 'the envelope has no HOSO' },
  'envelope.empty-hoso': { severity: 'error', summary: 'a HOSO has no FILEHOSO' },
  'envelope.empty-file': { severity: 'error', summary: 'a NOIDUNGFILE is empty' },
  'envelope.missing-content': { severity: 'error', summary: 'a FILEHOSO has no NOIDUNGFILE' },
  'envelope.loaihoso': { severity: 'error', summary: 'LOAIHOSO is missing or does not match the table in NOIDUNGFILE' },
  'envelope.duplicate-table': { severity: 'error', summary: 'the same table appears twice in one HOSO' },
  'envelope.table-not-allowed': { severity: 'error', summary: 'XML0 or XML12 inside GIAMDINHHS (they have their own endpoints)' },
  'envelope.unknown-element': { severity: 'warning', summary: 'an element the envelope does not define' },
  'envelope.header': { severity: 'error', summary: 'MACSKCB, NGAYLAP or SOLUONGHOSO missing, repeated or malformed' },
  'envelope.count': { severity: 'error', summary: 'SOLUONGHOSO differs from the number of HOSO' },
  'envelope.one-per-file': { severity: 'warning', summary: 'more than one HOSO in one file (the 3176 guide asks for one episode per upload)' },
  'envelope.not-signed': { severity: 'warning', summary: 'CHUKYDONVI is empty: the facility signature is missing' },
  'table.unexpected-element': { severity: 'error', summary: 'an element that is not the table\'s list or record element' },
  'tables.version': { severity: 'error', summary: 'a table that does not exist in the format version' },
  // Fields, from the table descriptions.
  'field.required': { severity: 'error', summary: 'a required field (or a field required by a condition) is missing or empty' },
  'field.max-length': { severity: 'error', summary: 'longer than the maximum length of the version' },
  'field.number': { severity: 'error', summary: 'a number field that is not a plain decimal number' },
  'field.format': { severity: 'error', summary: 'wrong date/time format, invalid calendar date, too many decimals, negative or fractional where an integer is needed, empty list item' },
  'field.code': { severity: 'error', summary: 'a value outside the code list (a warning for lists the project knows are partial)' },
  'field.pattern': { severity: 'error', summary: 'a value that does not have the documented shape (bed code, supply package, facility code)' },
  'field.unknown': { severity: 'warning', summary: 'an element the table description of the version does not have' },
  'field.duplicate': { severity: 'error', summary: 'the same field twice in one record' },
  'field.nested': { severity: 'error', summary: 'a field that contains elements' },
  'field.order': { severity: 'warning', summary: 'fields not in the official order (the portal XSD enforces order)' },
  'field.whitespace': { severity: 'warning', summary: 'leading or trailing spaces in a value' },
  // Insurance card and identity.
  'card.structure': { severity: 'error', summary: 'MA_THE_BHYT is not 2 letters + benefit level 1–5 + 2-digit province + 10 digits' },
  'card.count': { severity: 'error', summary: 'MA_THE_BHYT, MA_DKBD, GT_THE_TU, GT_THE_DEN have different numbers of ";" items' },
  'card.details': { severity: 'error', summary: 'a card number without MA_DKBD, GT_THE_TU and GT_THE_DEN' },
  'card.validity': { severity: 'error', summary: 'GT_THE_TU after GT_THE_DEN' },
  'card.coverage': { severity: 'warning', summary: 'no card is valid on the admission date' },
  'icd.format': { severity: 'error', summary: 'an ICD-10 code that is not a letter, two digits and an optional subdivision' },
  'icd.count': { severity: 'error', summary: 'more than 12 secondary ICD-10 codes in MA_BENH_KT' },
  // Dates.
  'dates.episode-order': { severity: 'error', summary: 'NGAY_VAO ≤ NGAY_VAO_NOI_TRU ≤ NGAY_RA does not hold' },
  'dates.birth': { severity: 'error', summary: 'NGAY_SINH after NGAY_VAO' },
  'dates.line-order': { severity: 'error', summary: 'an order time (NGAY_YL, THOI_DIEM_DBLS) outside NGAY_VAO…NGAY_RA' },
  'dates.execution': { severity: 'error', summary: 'NGAY_TH_YL or NGAY_KQ before NGAY_YL' },
  'dates.result-after-discharge': { severity: 'warning', summary: 'NGAY_KQ after NGAY_RA (results more than 7 days late go on the portal)' },
  'dates.payment': { severity: 'warning', summary: 'NGAY_TTOAN before NGAY_VAO' },
  'dates.appointment': { severity: 'error', summary: 'XML14 NGAY_HEN_KL before NGAY_RA or NGAY_CT before NGAY_VAO' },
  'episode.treatment-days': { severity: 'error', summary: 'SO_NGAY_DTRI does not follow the MA_LOAI_KCB rule' },
  'episode.long-outpatient': { severity: 'warning', summary: 'an outpatient examination (MA_LOAI_KCB 01) spanning several days' },
  'episode.settlement': { severity: 'error', summary: 'NAM_QT/THANG_QT is not a valid month, or before the discharge month' },
  // Money.
  'money.negative': { severity: 'error', summary: 'a negative amount' },
  'money.line-bv': { severity: 'error', summary: 'THANH_TIEN_BV ≠ round2(SO_LUONG × DON_GIA[_BV] [× TYLE_TT_DV / 100])' },
  'money.line-bh': { severity: 'error', summary: 'THANH_TIEN_BH ≠ round2(SO_LUONG × DON_GIA[_BH] [× TYLE_TT_DV / 100] × TYLE_TT_BH / 100)' },
  'money.other-sources': { severity: 'error', summary: 'T_NGUONKHAC ≠ NSNN + VTNN + VTTN + CL, or not below THANH_TIEN_BV' },
  'money.split': { severity: 'error', summary: 'T_BNTT / T_BNCCT / T_BHTT do not follow the split of THANH_TIEN_BV by THANH_TIEN_BH and MUC_HUONG' },
  'money.supply-ceiling': { severity: 'error', summary: 'the fund pays more than the supply-package ceiling T_TRANTT' },
  'money.totals': { severity: 'error', summary: 'an XML1 total differs from the sum of the XML2/XML3 lines' },
  'money.fund-total': { severity: 'error', summary: 'XML1 T_BHTT ≠ T_TONGCHI_BH − T_BNCCT' },
  'money.line-4210': { severity: 'error', summary: '4210: THANH_TIEN ≠ round2(SO_LUONG × DON_GIA)' },
  // Benefit level.
  'benefit.muc-huong': { severity: 'error', summary: 'MUC_HUONG does not match the card level, the route (off-route rate) and the exemptions' },
  // Which tables, and links between them.
  'tables.required': { severity: 'error', summary: 'a table this kind of visit must include is missing (XML1; XML5 for treatment; XML7 for inpatients)' },
  'tables.recommended': { severity: 'warning', summary: 'a table this kind of visit normally includes is missing (XML8, XML13 after a transfer, XML9 after a delivery, cost lines)' },
  'tables.not-applicable': { severity: 'error', summary: 'a table sent for a visit it does not apply to (XML13 without a transfer; XML9 or XML10 for a patient who is not female)' },
  'tables.single': { severity: 'error', summary: 'a single-record table with several records' },
  'link.ma-lk': { severity: 'error', summary: 'a record whose MA_LK differs from XML1' },
  'link.stt': { severity: 'warning', summary: 'STT not numbered 1, 2, 3… in a table' },
  'link.xml1-copy': { severity: 'error', summary: 'a field copied from XML1 (XML6, XML13–XML15) that differs from XML1' },
  'link.cls-service': { severity: 'warning', summary: 'an XML4 result for a service that is not in XML3' },
  'link.facility': { severity: 'error', summary: 'MA_CSKCB differs from the envelope MACSKCB or the configured facility' },
  // Services, beds, drugs.
  'bed.not-allowed': { severity: 'error', summary: 'bed days (MA_NHOM 14/15/16) for an outpatient visit or an inpatient stay under 4 hours' },
  'bed.days': { severity: 'error', summary: 'more bed days than treatment days (SO_NGAY_DTRI + 1)' },
  'service.exam-count': { severity: 'warning', summary: 'more than one examination (MA_NHOM 13) in an inpatient episode' },
  'drug.registration': { severity: 'warning', summary: 'a drug without SO_DANG_KY (only oxygen, blood, decoctions and the like may omit it)' },
  'checkin.first-cost': { severity: 'error', summary: 'a check-in names more than one first-cost item (service, drug or supply)' },
} satisfies Record<string, RuleInfo>;

export type RuleId = keyof typeof ruleCatalogue;

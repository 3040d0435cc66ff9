// Bootstraps claims/spec/data/*.json from the two sources kept in claims/spec/source/:
//  - qd4750-appendix-fields.txt: the official QĐ 4750 appendix (every field with its QĐ 130 type,
//    maximum length and description, and the 4750 correction), dumped from the MoH spreadsheet;
//  - bhyt-xml-research.md: the project's research spec (4210 tables, requiredness from the vendor
//    validation sheet, formats, 4750 type/length changes, 3176 deltas).
// The official appendix wins for QĐ 130 types and lengths; the tool stops if the research spec
// disagrees, so a transcription slip cannot slip into the data.
//
// Run: node --import tsx claims/spec/tools/import-sources.ts   (rewrites claims/spec/data/)
// The JSON it writes is the data the engine uses; hand edits go into the overrides below, not the JSON.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FieldCondition, FieldFormat, FieldSpec, FieldType, Requirement, SpecChange, SpecFile, TableId, TableSpec } from '../types';

const sourceDir = path.join(__dirname, '..', 'source');
const dataDir = path.join(__dirname, '..', 'data');

// ---------------------------------------------------------------------------------------------
// Table layout (research spec §1.2, from the BHXH guides CV 3190 / CV 1245 and implementations).
interface Layout {
  title: string;
  root: string;
  list?: string;
  record: string;
  repeating: boolean;
  signatureSlot?: boolean;
  inEnvelope: boolean;
}
const layouts130: Record<string, Layout> = {
  XML0: { title: 'Bảng chỉ tiêu dữ liệu về trạng thái khám bệnh, chữa bệnh (check-in)', root: 'CHI_TIEU_TRANG_THAI_KCB', list: 'DSACH_TRANG_THAI_KCB', record: 'TRANG_THAI_KCB', repeating: true, signatureSlot: true, inEnvelope: false },
  XML1: { title: 'Bảng 1. Chỉ tiêu tổng hợp khám bệnh, chữa bệnh', root: 'TONG_HOP', record: 'TONG_HOP', repeating: false, inEnvelope: true },
  XML2: { title: 'Bảng 2. Chỉ tiêu chi tiết thuốc', root: 'CHITIEU_CHITIET_THUOC', list: 'DSACH_CHI_TIET_THUOC', record: 'CHI_TIET_THUOC', repeating: true, inEnvelope: true },
  XML3: { title: 'Bảng 3. Chỉ tiêu chi tiết dịch vụ kỹ thuật và vật tư y tế', root: 'CHITIEU_CHITIET_DVKT_VTYT', list: 'DSACH_CHI_TIET_DVKT', record: 'CHI_TIET_DVKT', repeating: true, inEnvelope: true },
  XML4: { title: 'Bảng 4. Chỉ tiêu chi tiết dịch vụ cận lâm sàng', root: 'CHITIEU_CHITIET_DICHVUCANLAMSANG', list: 'DSACH_CHI_TIET_CLS', record: 'CHI_TIET_CLS', repeating: true, inEnvelope: true },
  XML5: { title: 'Bảng 5. Chỉ tiêu chi tiết diễn biến lâm sàng', root: 'CHITIEU_CHITIET_DIENBIENLAMSANG', list: 'DSACH_CHI_TIET_DIEN_BIEN_BENH', record: 'CHI_TIET_DIEN_BIEN_BENH', repeating: true, inEnvelope: true },
  XML6: { title: 'Bảng 6. Chỉ tiêu hồ sơ bệnh án chăm sóc và điều trị HIV/AIDS', root: 'CHI_TIEU_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS', list: 'DSACH_HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS', record: 'HO_SO_BENH_AN_CHAM_SOC_VA_DIEU_TRI_HIV_AIDS', repeating: true, inEnvelope: true },
  XML7: { title: 'Bảng 7. Chỉ tiêu dữ liệu giấy ra viện', root: 'CHI_TIEU_DU_LIEU_GIAY_RA_VIEN', record: 'CHI_TIEU_DU_LIEU_GIAY_RA_VIEN', repeating: false, inEnvelope: true },
  XML8: { title: 'Bảng 8. Chỉ tiêu dữ liệu tóm tắt hồ sơ bệnh án', root: 'CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN', record: 'CHI_TIEU_DU_LIEU_TOM_TAT_HO_SO_BENH_AN', repeating: false, inEnvelope: true },
  XML9: { title: 'Bảng 9. Chỉ tiêu dữ liệu giấy chứng sinh', root: 'CHI_TIEU_DU_LIEU_GIAY_CHUNG_SINH', list: 'DSACH_GIAYCHUNGSINH', record: 'DU_LIEU_GIAY_CHUNG_SINH', repeating: true, inEnvelope: true },
  XML10: { title: 'Bảng 10. Chỉ tiêu dữ liệu giấy chứng nhận nghỉ dưỡng thai', root: 'CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI', record: 'CHI_TIEU_DU_LIEU_GIAY_NGHI_DUONG_THAI', repeating: false, inEnvelope: true },
  XML11: { title: 'Bảng 11. Chỉ tiêu dữ liệu giấy chứng nhận nghỉ việc hưởng bảo hiểm xã hội', root: 'CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI', record: 'CHI_TIEU_DU_LIEU_GIAY_CHUNG_NHAN_NGHI_VIEC_HUONG_BAO_HIEM_XA_HOI', repeating: false, inEnvelope: true },
  XML12: { title: 'Bảng 12. Chỉ tiêu dữ liệu giám định y khoa', root: 'CHI_TIEU_GIAM_DINH_YKHOA', list: 'DSACH_GIAM_DINH_YKHOA', record: 'GIAM_DINH_YKHOA', repeating: true, signatureSlot: true, inEnvelope: false },
  XML13: { title: 'Bảng 13. Chỉ tiêu dữ liệu giấy chuyển tuyến khám bệnh, chữa bệnh bảo hiểm y tế', root: 'CHI_TIEU_GIAYCHUYENTUYEN', record: 'CHI_TIEU_GIAYCHUYENTUYEN', repeating: false, inEnvelope: true },
  XML14: { title: 'Bảng 14. Chỉ tiêu dữ liệu giấy hẹn khám lại', root: 'CHI_TIEU_GIAYHEN_KHAMLAI', record: 'CHI_TIEU_GIAYHEN_KHAMLAI', repeating: false, inEnvelope: true },
  XML15: { title: 'Bảng 15. Chỉ tiêu thông tin quản lý điều trị bệnh lao', root: 'CHI_TIEU_DIEUTRI_BENHLAO', list: 'DSACH_CHITIET_DIEUTRI_BENHLAO', record: 'CHITIET_DIEUTRI_BENHLAO', repeating: true, inEnvelope: true },
};
const layouts4210: Record<string, Layout> = {
  XML1: { title: 'Bảng 1. Chỉ tiêu tổng hợp khám bệnh, chữa bệnh BHYT (QĐ 4210)', root: 'TONG_HOP', record: 'TONG_HOP', repeating: false, inEnvelope: true },
  XML2: { title: 'Bảng 2. Chỉ tiêu chi tiết thuốc (QĐ 4210)', root: 'DSACH_CHI_TIET_THUOC', record: 'CHI_TIET_THUOC', repeating: true, inEnvelope: true },
  XML3: { title: 'Bảng 3. Chỉ tiêu chi tiết dịch vụ kỹ thuật và vật tư y tế (QĐ 4210)', root: 'DSACH_CHI_TIET_DVKT', record: 'CHI_TIET_DVKT', repeating: true, inEnvelope: true },
  XML4: { title: 'Bảng 4. Chỉ tiêu chi tiết dịch vụ cận lâm sàng (QĐ 4210)', root: 'DSACH_CHI_TIET_CLS', record: 'CHI_TIET_CLS', repeating: true, inEnvelope: true },
  XML5: { title: 'Bảng 5. Chỉ tiêu chi tiết diễn biến bệnh (QĐ 4210)', root: 'DSACH_CHI_TIET_DIEN_BIEN_BENH', record: 'CHI_TIET_DIEN_BIEN_BENH', repeating: true, inEnvelope: true },
};

// ---------------------------------------------------------------------------------------------
// Code lists and patterns attached by field name (the lists themselves live in mappings/bhyt/).
const codeLists130: Record<string, string> = {
  GIOI_TINH: 'gioi_tinh', GIOI_TINH_CON: 'gioi_tinh', MA_LOAI_KCB: 'ma_loai_kcb', KET_QUA_DTRI: 'ket_qua_dtri', MA_LOAI_RV: 'ma_loai_rv',
  MA_DOITUONG_KCB: 'ma_doituong_kcb', MA_NHOM: 'ma_nhom', PHAM_VI: 'pham_vi', MA_PTTT: 'ma_pttt', NGUON_CTRA: 'nguon_ctra',
  PP_VO_CAM: 'pp_vo_cam', MA_LYDO_CT: 'ma_lydo_ct', MA_KHUVUC: 'ma_khuvuc', VET_THUONG_TP: 'co_1', TAI_SU_DUNG: 'co_1',
  MA_DINH_CHI_THAI: 'co_khong', SINHCON_PHAUTHUAT: 'co_khong', SINHCON_DUOI32TUAN: 'co_khong', MAU_SO: 'mau_so',
};
const codeLists4210: Record<string, string> = {
  GIOI_TINH: 'gioi_tinh', MA_LOAI_KCB: 'ma_loai_kcb_4210', KET_QUA_DTRI: 'ket_qua_dtri', TINH_TRANG_RV: 'tinh_trang_rv_4210',
  MA_LYDO_VVIEN: 'ma_lydo_vvien_4210', MA_NHOM: 'ma_nhom', PHAM_VI: 'pham_vi', MA_KHUVUC: 'ma_khuvuc',
};

// ---------------------------------------------------------------------------------------------
// Parsing helpers.
const tableOfSheet = (sheet: string): TableId => {
  if (/Check-in/i.test(sheet)) return 'XML0';
  const m = /Bang (\d+)_/.exec(sheet);
  if (!m) throw new Error(`unknown sheet ${sheet}`);
  return `XML${m[1]}` as TableId;
};

interface AppendixRow {
  table: TableId;
  stt: string;
  name: string;
  type: FieldType;
  maxLength: number | null;
  description: string;
  correction: string;
}

function parseAppendix(): AppendixRow[] {
  const rows: AppendixRow[] = [];
  let table: TableId | undefined;
  for (const line of readFileSync(path.join(sourceDir, 'qd4750-appendix-fields.txt'), 'utf8').split('\n')) {
    if (line.startsWith('=== SHEET')) {
      table = tableOfSheet(line);
      continue;
    }
    const cols = line.split(' | ');
    if (!table || cols.length < 5) continue;
    const name = cols[1].trim();
    if (!/^[A-Z][A-Z0-9_]*$/.test(name)) continue;
    const typeText = cols[2].trim();
    const type: FieldType = typeText === 'Số' ? 'number' : typeText === 'Chuỗi' ? 'string' : fail(`type "${typeText}" of ${table}.${name}`);
    const lenText = cols[3].trim();
    const maxLength = lenText === 'n' ? null : Number.parseInt(lenText, 10);
    if (maxLength !== null && !Number.isFinite(maxLength)) fail(`length "${lenText}" of ${table}.${name}`);
    rows.push({ table, stt: cols[0].trim(), name, type, maxLength, description: (cols[4] ?? '').trim(), correction: (cols[5] ?? '').trim() });
  }
  return rows;
}

interface ResearchRow {
  table: TableId;
  name: string;
  type130?: FieldType;
  type4750: FieldType;
  len130?: number | null;
  len4750: number | null;
  req: string;
  format: string;
  meaning: string;
  change: string;
}

const parseLen = (s: string): number | null => (s.trim() === 'n' ? null : Number.parseInt(s, 10));
const stripBold = (s: string) => s.replace(/\*\*/g, '').trim();

function parseResearch2B(): ResearchRow[] {
  const md = readFileSync(path.join(sourceDir, 'bhyt-xml-research.md'), 'utf8');
  const section = md.slice(md.indexOf('### 2B.'), md.indexOf('#### 3176 deltas'));
  const rows: ResearchRow[] = [];
  let table: TableId | undefined;
  for (const line of section.split('\n')) {
    const h = /^#### (XML\d+)/.exec(line);
    if (h) {
      table = h[1] as TableId;
      continue;
    }
    if (!table || !line.startsWith('| ')) continue;
    const cols = line.split('|').map((c) => c.trim());
    const name = /^`([A-Z0-9_]+)`$/.exec(cols[2])?.[1];
    if (!name) continue;
    const [t130, t4750] = stripBold(cols[3]).split('→').map((s) => s.trim() as FieldType);
    const [l130, l4750] = stripBold(cols[4]).split('→').map(parseLen);
    const isNewTable = ['XML13', 'XML14', 'XML15'].includes(table);
    rows.push({
      table,
      name,
      type130: isNewTable ? undefined : t130,
      type4750: t4750 ?? t130,
      len130: isNewTable ? undefined : l130,
      len4750: l4750 === undefined ? l130 : l4750,
      req: cols[5],
      format: cols[6],
      meaning: cols[7],
      change: cols[8] ?? '',
    });
  }
  return rows;
}

interface Research4210Row {
  table: TableId;
  name: string;
  type: FieldType;
  maxLength: number | null;
  meaning: string;
  format: string;
}

function parseResearch2A(): Research4210Row[] {
  const md = readFileSync(path.join(sourceDir, 'bhyt-xml-research.md'), 'utf8');
  const section = md.slice(md.indexOf('### 2A.'), md.indexOf('#### 4210 → 130 field renames'));
  const rows: Research4210Row[] = [];
  let table: TableId | undefined;
  for (const line of section.split('\n')) {
    const h = /^#### (XML\d+)/.exec(line);
    if (h) {
      table = h[1] as TableId;
      continue;
    }
    if (!table || !line.startsWith('| ')) continue;
    const cols = line.split('|').map((c) => c.trim());
    const name = /^`([A-Z0-9_]+)`$/.exec(cols[2])?.[1];
    if (!name) continue;
    const type: FieldType = cols[3] === 'N' ? 'number' : 'string';
    const lenMatch = /^(\d+|n)/.exec(cols[4]);
    if (!lenMatch) fail(`4210 length "${cols[4]}" of ${table}.${name}`);
    rows.push({ table, name, type, maxLength: parseLen(lenMatch![1]), meaning: cols[5], format: table === 'XML1' ? cols[6] : '' });
  }
  return rows;
}

function fail(what: string): never {
  throw new Error(`import-sources: cannot read ${what}`);
}

// ---------------------------------------------------------------------------------------------
// Requirement and format translation (every phrase of the research spec must be known here).
function requirement(req: string, table: TableId, name: string): { required: Requirement; source?: FieldSpec['requiredSource'] } {
  const when = (c: FieldCondition): Requirement => ({ when: c });
  const known: Record<string, Requirement> = {
    '': false,
    Y: true,
    'Y except MA_NHOM 7,17': when({ field: 'MA_NHOM', notIn: ['7', '17'] }),
    'Y when MA_NHOM in =1,2,3,8,18': when({ field: 'MA_NHOM', in: ['1', '2', '3', '8', '18'] }),
    'cond: if MA_TINH_TRANG_DK =1': when({ field: 'MA_TINH_TRANG_DK', in: ['1'] }),
    'cond: only when MA_DICH_VU and MA_THUOC = null': when({ allEmpty: ['MA_DICH_VU', 'MA_THUOC'] }),
    'cond: only when MA_DICH_VU and MA_VAT_TU = null': when({ allEmpty: ['MA_DICH_VU', 'MA_VAT_TU'] }),
    'cond: only when MA_THUOC and MA_VAT_TU = null': when({ allEmpty: ['MA_THUOC', 'MA_VAT_TU'] }),
    'cond: only when MA_DICH_VU not null': when({ field: 'MA_DICH_VU', present: true }),
    'cond: only when MA_THUOC not null': when({ field: 'MA_THUOC', present: true }),
    'cond: only when MA_VAT_TU not null': when({ field: 'MA_VAT_TU', present: true }),
    'cond: when GIA_TRI is present': when({ field: 'GIA_TRI', present: true }),
    'cond: when MA_DINH_CHI_THAI = "1".': when({ field: 'MA_DINH_CHI_THAI', in: ['1'] }),
    'cond: when MA_DINH_CHI_THAI =1': when({ field: 'MA_DINH_CHI_THAI', in: ['1'] }),
    'cond: when MA_NHOM = 10': when({ field: 'MA_NHOM', in: ['10'] }),
    'cond: when MA_NHOM = 12': when({ field: 'MA_NHOM', in: ['12'] }),
    'cond: when MA_PHAC_DO_DIEU_TRI = KHAC': when({ field: 'MA_PHAC_DO_DIEU_TRI', in: ['KHAC'] }),
    'cond: when MA_XU_TRI = 1': when({ field: 'MA_XU_TRI', in: ['1'] }),
    'optional when LOAI_DTRI_LAO = 0 otherwise Y': when({ field: 'LOAI_DTRI_LAO', notIn: ['0'] }),
    'x (cond: only when NGAY_VAO_NOI_TRU not null)': when({ field: 'NGAY_VAO_NOI_TRU', present: true }),
  };
  if (req === 'as 4210') {
    // "As in 4210": a drug or service line names what it is; the name follows its code.
    const asIn4210: Record<string, Requirement> = {
      'XML2.SO_DANG_KY': false, // not required for oxygen, blood, decoctions… (official note); checked as a warning rule
      'XML2.MA_BAC_SI': true,
      'XML2.MA_DICH_VU': false, // only for drugs billed with a service
      'XML3.MA_DICH_VU': when({ allEmpty: ['MA_VAT_TU'] }),
      'XML3.MA_VAT_TU': when({ allEmpty: ['MA_DICH_VU'] }),
      'XML3.TEN_VAT_TU': when({ field: 'MA_VAT_TU', present: true }),
      'XML3.TEN_DICH_VU': when({ field: 'MA_DICH_VU', present: true }),
    };
    const r = asIn4210[`${table}.${name}`];
    if (r === undefined) fail(`requirement "as 4210" of ${table}.${name}`);
    return { required: r, source: 'inferred' };
  }
  if (!(req in known)) fail(`requirement "${req}" of ${table}.${name}`);
  return { required: known[req], source: req === '' ? undefined : 'vendor-sheet' };
}

function formatOf(fmt: string, type: FieldType, name: string, maxLength: number | null): { format: FieldFormat; list?: boolean } {
  const list = fmt.includes('";"-list') ? true : undefined;
  if (name === 'NGAY_SINH' && maxLength === 12) return { format: 'birth' };
  if (name === 'CAN_NANG') return { format: 'decimal2' };
  if (name === 'CAN_NANG_CON') return { format: 'integer', list };
  if (fmt.startsWith('yyyyMMddHHmm')) return { format: 'datetime', list };
  if (fmt.startsWith('yyyyMMdd or')) return { format: 'dateOrDatetime' };
  if (fmt.startsWith('yyyyMMdd')) return { format: 'date', list };
  if (fmt.startsWith('decimal, "." sep, 2 dp')) return { format: 'money' };
  if (fmt.startsWith('decimal, "." sep, ≤3 dp')) return { format: 'decimal3' };
  if (fmt === 'integer %') return { format: 'percent' };
  if (fmt === 'integer grams') return { format: 'integer' };
  if (fmt === 'free text' || fmt === '";"-list' || fmt.startsWith('";"-list')) return { format: type === 'number' ? 'integer' : 'text', list };
  if (fmt === '') return { format: type === 'number' ? 'integer' : 'text' };
  fail(`format "${fmt}" of ${name}`);
}

// 4210 formats (research spec §2A, format column of XML1 and the meaning column of XML2–XML5).
function format4210(row: Research4210Row): { format: FieldFormat; list?: boolean } {
  const text = `${row.format} ${row.meaning}`;
  if (/^NGAY_|_NGAY$/.test(row.name) || row.name === 'MIEN_CUNG_CT' || row.name.startsWith('GT_THE')) {
    if (row.name === 'NGAY_SINH' || row.name === 'MIEN_CUNG_CT' || row.name.startsWith('GT_THE')) return { format: 'date', list: row.name.startsWith('GT_THE') || undefined };
    return { format: 'datetime' };
  }
  if (row.name === 'CAN_NANG') return { format: 'decimal2' };
  if (['SO_LUONG', 'DON_GIA'].includes(row.name)) return { format: 'decimal3' };
  if (/^T_|THANH_TIEN/.test(row.name)) return { format: 'money' };
  if (['TYLE_TT', 'MUC_HUONG'].includes(row.name)) return { format: 'percent' };
  const list = /";"|;-separated|";" per card|";"-separated/.test(text) && ['MA_THE', 'MA_DKBD', 'MA_BENHKHAC', 'MA_PTTT_QT'].includes(row.name) ? true : undefined;
  return { format: row.type === 'number' ? 'integer' : 'text', list };
}

// Requiredness for 4210: the 4210 appendix itself was not available; this is the core set every
// reviewed 4210 implementation fills (marked "inferred" in the data).
const required4210: Record<string, string[]> = {
  XML1: ['MA_LK', 'STT', 'MA_BN', 'HO_TEN', 'NGAY_SINH', 'GIOI_TINH', 'DIA_CHI', 'TEN_BENH', 'MA_BENH', 'MA_LYDO_VVIEN', 'NGAY_VAO', 'NGAY_RA', 'SO_NGAY_DTRI', 'KET_QUA_DTRI', 'TINH_TRANG_RV', 'T_THUOC', 'T_VTYT', 'T_TONGCHI', 'T_BNTT', 'T_BNCCT', 'T_BHTT', 'T_NGUONKHAC', 'T_NGOAIDS', 'NAM_QT', 'THANG_QT', 'MA_LOAI_KCB', 'MA_KHOA', 'MA_CSKCB'],
  XML2: ['MA_LK', 'STT', 'MA_THUOC', 'MA_NHOM', 'TEN_THUOC', 'DON_VI_TINH', 'PHAM_VI', 'TYLE_TT', 'SO_LUONG', 'DON_GIA', 'THANH_TIEN', 'MUC_HUONG', 'T_NGUONKHAC', 'T_BNTT', 'T_BHTT', 'T_BNCCT', 'T_NGOAIDS', 'MA_KHOA', 'MA_BAC_SI', 'NGAY_YL', 'MA_PTTT'],
  XML3: ['MA_LK', 'STT', 'MA_NHOM', 'DON_VI_TINH', 'PHAM_VI', 'SO_LUONG', 'DON_GIA', 'TYLE_TT', 'THANH_TIEN', 'MUC_HUONG', 'T_NGUONKHAC', 'T_BNTT', 'T_BHTT', 'T_BNCCT', 'T_NGOAIDS', 'MA_KHOA', 'MA_BAC_SI', 'NGAY_YL', 'MA_PTTT'],
  XML4: ['MA_LK', 'STT', 'MA_DICH_VU', 'TEN_CHI_SO', 'NGAY_KQ'],
  XML5: ['MA_LK', 'STT', 'DIEN_BIEN', 'NGAY_YL'],
};

// Where the official description contradicts the vendor sheet's "required" flag, the official text wins.
const officialRequirement: Record<string, { required: Requirement; source: FieldSpec['requiredSource'] }> = {
  // "Ghi mã ICD10 … (nếu có). Trường hợp không có thông tin ở trường này thì được hiểu là DVKT được chỉ định để điều trị bệnh chính."
  'XML3.MA_BENH': { required: false, source: 'official' },
};

const shorten = (s: string, max = 600) => (s.length > max ? `${s.slice(0, max - 1)}…` : s);

// Small, documented corrections to what the sources say (each one explains itself).
const facilityCode = { regex: '^[0-9]{5}$', hint: 'a 5-digit facility code (KCB code issued by the authority)' };
const patterns: Record<string, { regex: string; hint: string }> = {
  // Official text: H (planned bed), T (extra), C (chosen), K (other) + a 3-digit number.
  MA_GIUONG: { regex: '^[HTCK][0-9]{3}$', hint: 'H, T, C or K followed by 3 digits (e.g. H001)' },
  // "G" + 1..999 per use of a service (official text; range from the vendor sheet).
  GOI_VTYT: { regex: '^G[1-9][0-9]{0,2}$', hint: '"G" followed by the package number 1–999 (e.g. G1)' },
  MA_CSKCB: facilityCode,
  MA_DKBD: facilityCode,
  MA_NOI_DI: facilityCode,
  MA_NOI_DEN: facilityCode,
  NOI_LAY_MAU_XN: facilityCode,
  NOI_XN_KD: facilityCode,
  NOI_BDDT_ARV: facilityCode,
};

function applyOverrides(field: FieldSpec, table: TableId): FieldSpec {
  // MA_GIUONG: ";"-separated when the patient moved (official text); MA_DKBD one per card (XML1 and copies).
  if (field.name === 'MA_GIUONG') field.list = true;
  if (field.name === 'MA_DKBD' && table !== 'XML0') field.list = true;
  if (field.name === 'NGAY_TAI_KHAM') field.list = true;
  if (patterns[field.name]) field.pattern = patterns[field.name];
  return field;
}

// ---------------------------------------------------------------------------------------------
function build130And4750(): { v130: SpecFile; v4750: SpecFile } {
  const appendix = parseAppendix();
  const research = parseResearch2B();
  const researchByKey = new Map(research.map((r) => [`${r.table}.${r.name}`, r]));
  const tables130: TableSpec[] = [];
  const changes4750: SpecChange[] = [];
  const problems: string[] = [];

  const tableIds = [...new Set(appendix.map((r) => r.table))];
  for (const table of tableIds) {
    const rows = appendix.filter((r) => r.table === table);
    const layout = layouts130[table];
    const newTable = ['XML13', 'XML14', 'XML15'].includes(table);
    const fields130: FieldSpec[] = [];
    const fields4750: FieldSpec[] = [];
    for (const row of rows) {
      const r = researchByKey.get(`${table}.${row.name}`);
      if (!r) {
        problems.push(`${table}.${row.name} is in the official appendix but not in the research spec`);
        continue;
      }
      // Cross-check the 130 columns of the official appendix with the research spec.
      if (!newTable && r.type130 !== row.type) problems.push(`${table}.${row.name}: appendix type ${row.type} ≠ research ${r.type130}`);
      if (!newTable && r.len130 !== row.maxLength) problems.push(`${table}.${row.name}: appendix length ${row.maxLength} ≠ research ${r.len130}`);
      const isNew4750 = !newTable && (row.stt === '' || row.description === '' || /^Bổ sung (thêm trường|trường mới)/.test(row.correction));
      const override = officialRequirement[`${table}.${row.name}`];
      const { required, source } = override ?? requirement(r.req, table, row.name);
      const codeList = codeLists130[row.name];
      const base = (type: FieldType, maxLength: number | null): FieldSpec =>
        applyOverrides(
          {
            name: row.name,
            type,
            maxLength,
            required,
            ...(source ? { requiredSource: source } : {}),
            ...formatOf(r.format, type, row.name, maxLength),
            ...(codeList ? { codeList } : {}),
            description: shorten(row.description || row.correction.replace(/^Bổ sung trường mới:\s*/, '')),
            meaning: r.meaning,
          },
          table,
        );
      // Remove undefined keys so the JSON stays tidy.
      const clean = (f: FieldSpec): FieldSpec => JSON.parse(JSON.stringify(f));
      const f4750 = clean({ ...base(r.type4750, r.len4750), ...(row.correction && !isNew4750 ? { amendment: shorten(row.correction) } : {}) });
      fields4750.push(f4750);
      if (newTable) continue;
      if (isNew4750) {
        const prev = fields4750.length > 1 ? fields4750[fields4750.length - 2].name : null;
        changes4750.push({ op: 'add', table, after: prev, field: f4750, note: row.correction ? shorten(row.correction, 200) : 'new field in QĐ 4750' });
        continue;
      }
      fields130.push(clean(base(row.type, row.maxLength)));
      if (r.type4750 !== row.type) changes4750.push({ op: 'retype', table, field: row.name, to: r.type4750, note: 'Đổi kiểu dữ liệu thành chuỗi' });
      if (r.len4750 !== row.maxLength) changes4750.push({ op: 'resize', table, field: row.name, to: r.len4750, note: shorten(row.correction, 200) });
      if (row.correction && !/^Đổi kiểu dữ liệu thành chuỗi$/.test(row.correction) && !/^-?\s*Đổi kiểu/.test(row.correction)) {
        changes4750.push({ op: 'amend', table, field: row.name, amendment: shorten(row.correction) });
      }
    }
    const tableSpec = (fields: FieldSpec[]): TableSpec => ({ id: table, ...layout, fields });
    if (newTable) changes4750.push({ op: 'addTable', table: tableSpec(fields4750), note: 'new table in QĐ 4750' });
    else tables130.push(tableSpec(fields130));
  }
  for (const r of research) {
    if (!appendix.some((a) => a.table === r.table && a.name === r.name)) problems.push(`${r.table}.${r.name} is in the research spec but not in the official appendix`);
  }
  if (problems.length) throw new Error(`import-sources: sources disagree:\n  ${problems.join('\n  ')}`);

  const v130: SpecFile = {
    version: '130',
    title: 'QĐ 130/QĐ-BYT (18/01/2023): check-in table and Bảng 1–12',
    effectiveFrom: '2023-09-01',
    effectiveTo: '2024-06-30',
    endpoints: { checkIn: '/api/qd130/checkInKcbQd130', sendClaim: '/api/qd130/guiHoSoXmlQD130', claimLoaiHoSo: '130' },
    sources: [
      '[P] QĐ 4750 appendix spreadsheet (columns "theo QĐ130": type, maximum length, description) — claims/spec/source/qd4750-appendix-fields.txt',
      '[S] requiredness from the vendor validation sheet Check_Valid_QD4750 (research spec §2B)',
      '[P] table layout (root/list/record elements) from BHXH CV 3190 (research spec §1.2)',
    ],
    tables: tables130,
    notes: ['XML0 (check-in) and XML12 are sent to their own endpoints, not inside GIAMDINHHS.'],
  };
  const v4750: SpecFile = {
    version: '4750',
    title: 'QĐ 4750/QĐ-BYT (29/12/2023): amends QĐ 130, adds Bảng 13–15',
    effectiveFrom: '2024-07-01',
    effectiveTo: '2024-12-31',
    endpoints: { checkIn: '/api/qd130/checkInKcbQd4750', sendClaim: '/api/qd130/guiHoSoXmlQD4750', claimLoaiHoSo: '130' },
    sources: ['[P] QĐ 4750 appendix spreadsheet (column "Đính chính hoặc sửa đổi, bổ sung")', '[P] BHXH CV 1245 templates (research spec §2B)'],
    amends: '130',
    changes: changes4750,
  };
  return { v130, v4750 };
}

function build3176(): SpecFile {
  return {
    version: '3176',
    title: 'QĐ 3176/QĐ-BYT (29/10/2024): temporary amendment of the 4750 tables, in force since 01/01/2025',
    effectiveFrom: '2025-01-01',
    endpoints: { checkIn: '/api/qd130/checkInKcbQd3176', sendClaim: '/api/qd130/guiHoSoXmlQD3176', claimLoaiHoSo: '130' },
    sources: [
      '[C] tracnn/qlbv_public XmlStructures::$expectedStructures3176 and Xml3176 migrations',
      '[C] TypeORM entity QD3176_XML13S; [S] XMLValidator gap analysis; [S] regulatory analysis 70829737276',
      'No primary text of the QĐ 3176 appendix was available: only the XML13 changes all these sources agree on are applied.',
    ],
    amends: '4750',
    changes: [
      { op: 'rename', table: 'XML13', field: 'MA_NOI_DI', to: 'MA_CSKCB_DI', maxLength: 100, list: true, note: 'MA_NOI_DI → MA_CSKCB_DI (string, 100, ";"-list of 5-character codes)' },
      { op: 'rename', table: 'XML13', field: 'MA_NOI_DEN', to: 'MA_CSKCB_DEN', maxLength: 5, note: 'MA_NOI_DEN → MA_CSKCB_DEN (string, 5)' },
      { op: 'rename', table: 'XML13', field: 'PP_DIEU_TRI', to: 'TINH_TRANG_CT', note: 'PP_DIEU_TRI → TINH_TRANG_CT (patient condition at transfer, text)' },
      { op: 'set', table: 'XML13', field: 'TINH_TRANG_CT', attributes: { meaning: 'Patient condition at transfer', description: 'Tình trạng người bệnh lúc chuyển tuyến' } },
      { op: 'remove', table: 'XML13', field: 'TEN_DICH_VU', note: 'removed in 3176 (tracnn 3176 list and gap analysis; the TypeORM entity still has it)' },
      { op: 'remove', table: 'XML13', field: 'TEN_THUOC', note: 'removed in 3176 (tracnn 3176 list and gap analysis; the TypeORM entity still has it)' },
    ],
    notes: [
      'The research spec lists NHOM_MAU (XML1), NGAY_TH_YL (XML2), the check-in first-cost fields and 16 XML6 fields as "added by 3176" in one secondary source; the primary 4750 appendix already has them, so they are part of 4750 here.',
      'MA_TTDV of XML13 as string 255 comes from one model only: not applied.',
      'QĐ 1931/2026 (MUC_HUONG length 4) is reported by a single secondary source: not applied.',
    ],
  };
}

function build4210(): SpecFile {
  const rows = parseResearch2A();
  const tables: TableSpec[] = [];
  for (const table of ['XML1', 'XML2', 'XML3', 'XML4', 'XML5'] as TableId[]) {
    const fields = rows
      .filter((r) => r.table === table)
      .map((r): FieldSpec => {
        const req = required4210[table].includes(r.name);
        const codeList = codeLists4210[r.name];
        return JSON.parse(
          JSON.stringify({
            name: r.name,
            type: r.type,
            maxLength: r.maxLength,
            required: req,
            ...(req ? { requiredSource: 'inferred' } : {}),
            ...format4210(r),
            ...(codeList ? { codeList } : {}),
            meaning: r.meaning,
          }),
        );
      });
    tables.push({ id: table, ...layouts4210[table], fields });
  }
  return {
    version: '4210',
    title: 'QĐ 4210/QĐ-BYT (20/09/2017): Bảng 1–5 (legacy, for resubmitting historical claims)',
    effectiveFrom: '2018-01-01',
    effectiveTo: '2024-06-30',
    endpoints: { sendClaim: '/api/egw/guiHoSoGiamDinh4210', claimLoaiHoSo: '3' },
    sources: [
      '[C] PyQt viewer and tracnn 4210 importer (field names and order)',
      '[S] hl7vn vn-clin-doc qd_4210 page (descriptions)',
      'Lengths graded A/B/I in the research spec §2A; the 4210 appendix itself was not available. Requiredness is inferred.',
    ],
    tables,
  };
}

function main() {
  const { v130, v4750 } = build130And4750();
  const files: SpecFile[] = [build4210(), v130, v4750, build3176()];
  for (const f of files) {
    const file = path.join(dataDir, `qd${f.version}.json`);
    writeFileSync(file, `${JSON.stringify(f, null, 2)}\n`);
    console.log(`wrote ${path.relative(process.cwd(), file)}`);
  }
}

main();

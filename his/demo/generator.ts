// Deterministic generator of demo HIS data: the same seed, size and "today" give the same rows.
// Rows are produced table by table into a sink that bulk-inserts them (no ORM per-row saves), so a
// 1,000,000-visit hospital can be built for benchmarks.
import { fromHospitalParts, hospitalParts } from '../../model/datetime';
import { LabCodeMap, loadIcd10, type LabTestEntry } from '../mapping/code-maps';
import { instantToDbDateTime } from '../db/values';
import {
  CLINICAL,
  DEPARTMENTS,
  DRUGS,
  EMERGENCY_ICD,
  FACILITY,
  FAMILY_NAMES,
  GIVEN_FEMALE,
  GIVEN_MALE,
  IMAGING_REPORTS,
  IMAGING_STATIONS,
  LAB_PANELS,
  LAB_PRICES,
  MIDDLE_FEMALE,
  MIDDLE_MALE,
  OUTPATIENT_ICD,
  PROVINCES,
  SERVICES,
  SUPPLIES,
  TENDER,
} from './data';

/** Receives generated rows, table by table, in batches. */
export interface RowSink {
  insert(table: string, columns: string[], rows: unknown[][]): Promise<void>;
}

export interface GenerateOptions {
  seed: number;
  /** Number of visits, 100..1,000,000. */
  visits: number;
  /** The generator's "today" (orders scheduled today feed the worklist). Default: now. */
  today?: Date;
  /** Days of history the visits spread over (default: visits/800, at least 3). */
  days?: number;
  /** Rows buffered per table before a flush. */
  batchSize?: number;
  onProgress?(visitsDone: number): void;
}

export interface GenerateStats {
  visits: number;
  patients: number;
  rows: Record<string, number>;
  totalRows: number;
}

/** mulberry32: small, fast, good enough for test data, and the same on every platform. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: <T>(items: readonly T[]): T => items[Math.floor(next() * items.length)],
    chance: (p: number) => next() < p,
    digits: (n: number) => {
      let s = '';
      for (let i = 0; i < n; i++) s += Math.floor(next() * 10);
      return s;
    },
    weighted: <T>(items: ReadonlyArray<readonly [T, number]>): T => {
      const total = items.reduce((s, [, w]) => s + w, 0);
      let r = next() * total;
      for (const [item, w] of items) if ((r -= w) < 0) return item;
      return items[items.length - 1][0];
    },
  };
}

const pad = (n: number, w: number) => String(n).padStart(w, '0');
const cents = (c: number) => (c / 100).toFixed(2);
const MINUTE = 60_000;
const DAY = 86_400_000;

/** Line amounts in integer cents (quantity in thousandths, prices in whole VND). */
function amounts(qtyMilli: number, price: number, bhytPrice: number, serviceRatio: number, coverageRatio: number, benefit: number) {
  const hospital = Math.round((qtyMilli * price * serviceRatio) / 1000);
  const scope = benefit > 0 ? Math.round((qtyMilli * bhytPrice * coverageRatio * serviceRatio) / 100_000) : 0;
  const fund = Math.round((scope * benefit) / 100);
  return { hospital, scope, fund, coPay: scope - fund, selfPay: Math.max(0, hospital - scope) };
}

const TABLE_COLUMNS: Record<string, string[]> = {
  DM_COSO: ['MA_CSKCB', 'TEN_CSKCB', 'TUYEN', 'MA_TINH'],
  DM_TINH: ['MA_TINH', 'TEN_TINH'],
  DM_XA: ['MA_XA', 'TEN_XA', 'MA_HUYEN', 'MA_TINH'],
  DM_KHOA: ['MA_KHOA', 'TEN_KHOA', 'MA_KHOA_BHYT', 'LOAI_KHOA'],
  DM_NHANVIEN: ['MA_NV', 'HO_TEN', 'CHUC_DANH', 'LOAI_NV', 'SO_CCHN', 'MA_BHXH', 'MA_KHOA', 'TRANG_THAI'],
  DM_DICHVU: ['MA_DV', 'TEN_DV', 'MA_DV_BHYT', 'MA_NHOM', 'LOAI_DV', 'DON_VI_TINH', 'DON_GIA', 'DON_GIA_BHYT', 'MA_MODALITY'],
  DM_THUOC: ['MA_THUOC_BV', 'TEN_THUOC', 'MA_HOAT_CHAT', 'HAM_LUONG', 'DON_VI_TINH', 'DUONG_DUNG', 'DANG_BAO_CHE', 'SO_DANG_KY', 'TT_THAU', 'DON_GIA'],
  BN_BENHNHAN: [
    'MA_BN', 'HO_TEN', 'NGAY_SINH', 'GIO_SINH', 'GIOI_TINH', 'SO_CCCD', 'SO_HO_CHIEU', 'MA_THE_BHYT', 'DIA_CHI', 'MA_XA', 'MA_HUYEN', 'MA_TINH',
    'DIEN_THOAI', 'MA_DANTOC', 'MA_QUOCTICH', 'MA_NGHE_NGHIEP', 'NGAY_TAO',
  ],
  KB_LUOTKHAM: [
    'MA_LK', 'MA_BN', 'LOAI_KCB', 'MA_LOAI_KCB', 'NGAY_VAO', 'NGAY_VAO_NOI_TRU', 'NGAY_RA', 'MA_KHOA', 'DS_KHOA_BHYT', 'LY_DO_VV', 'CHAN_DOAN_VAO',
    'CHAN_DOAN_RV', 'KET_QUA_DTRI', 'MA_LOAI_RV', 'CAN_NANG', 'MA_HSBA', 'MA_BS_DIEUTRI', 'MA_THE_BHYT', 'GT_THE_TU', 'GT_THE_DEN', 'MA_DKBD', 'TUYEN',
    'MUC_HUONG_THE', 'MUC_HUONG', 'MA_DOITUONG_KCB', 'MA_KHUVUC', 'NGAY_5NAM', 'NGAY_MIEN_CCT', 'MA_NOI_DI', 'GIAY_CHUYEN_TUYEN', 'NGAY_TTOAN',
    'NGAY_TAI_KHAM', 'MA_PTTT_QT', 'NGAY_CAPNHAT',
  ],
  KB_CHANDOAN: ['ID', 'MA_LK', 'MA_ICD', 'TEN_BENH', 'BENH_CHINH', 'GIAI_DOAN'],
  XN_BENHPHAM: ['MA_BARCODE', 'LOAI_MAU', 'NGAY_LAY_MAU', 'NGAY_NHAN_MAU', 'MA_NV_LAY'],
  CD_CHIDINH: [
    'SO_PHIEU', 'LOAI_PHIEU', 'MA_LK', 'MA_BN', 'TRANG_THAI', 'UU_TIEN', 'NGAY_CHIDINH', 'NGAY_CAPNHAT', 'PHIEN_BAN', 'NGUOI_CAPNHAT', 'MA_KHOA_CD',
    'MA_BS_CD', 'CHAN_DOAN', 'MA_BARCODE', 'MA_MAY_XN', 'SO_ACCESSION', 'MA_MODALITY', 'AE_TITLE', 'TEN_PHONG', 'NGAY_HEN', 'MA_DV_CDHA', 'BO_PHAN',
    'STUDY_UID',
  ],
  CD_CHIDINH_CT: ['ID', 'SO_PHIEU', 'MA_DV', 'TEN_DV', 'TRANG_THAI'],
  XN_KETQUA: [
    'SO_PHIEU', 'MA_DV', 'MA_CHISO', 'TEN_CHISO', 'KET_QUA', 'DON_VI', 'CSBT_THAP', 'CSBT_CAO', 'CSBT', 'CO_BAT_THUONG', 'TRANG_THAI_KQ', 'NGAY_DO',
    'NGAY_KQ', 'MA_MAY', 'NGUOI_THUC_HIEN', 'NGUOI_DUYET', 'GHI_CHU', 'MA_THONG_DIEP',
  ],
  CDHA_KETQUA: ['SO_PHIEU', 'SO_ACCESSION', 'MO_TA', 'KET_LUAN', 'TRANG_THAI_KQ', 'NGAY_KQ', 'MA_BS_DOC', 'STUDY_UID', 'MA_THONG_DIEP'],
  DT_THUOC: [
    'ID', 'MA_LK', 'STT', 'MA_THUOC_BV', 'MA_THUOC', 'TEN_THUOC', 'DON_VI_TINH', 'HAM_LUONG', 'DUONG_DUNG', 'DANG_BAO_CHE', 'LIEU_DUNG', 'CACH_DUNG',
    'SO_DANG_KY', 'TT_THAU', 'PHAM_VI', 'TYLE_TT_BH', 'SO_LUONG', 'DON_GIA', 'THANH_TIEN_BV', 'THANH_TIEN_BH', 'T_BHTT', 'T_BNCCT', 'T_BNTT',
    'T_NGUONKHAC', 'MUC_HUONG', 'MA_NHOM', 'MA_KHOA', 'MA_KHOA_BHYT', 'MA_BS', 'NGAY_YL', 'NGAY_TH_YL', 'MA_PTTT', 'NGUON_CTRA',
  ],
  DT_DVKT: [
    'ID', 'MA_LK', 'STT', 'LOAI_DONG', 'MA_DV_BV', 'MA_DICH_VU', 'MA_VAT_TU', 'TEN', 'DON_VI_TINH', 'PHAM_VI', 'SO_LUONG', 'DON_GIA_BV', 'DON_GIA_BH',
    'TYLE_TT_DV', 'TYLE_TT_BH', 'THANH_TIEN_BV', 'THANH_TIEN_BH', 'T_BHTT', 'T_BNCCT', 'T_BNTT', 'T_NGUONKHAC', 'MUC_HUONG', 'MA_NHOM', 'MA_KHOA',
    'MA_KHOA_BHYT', 'MA_GIUONG', 'MA_BS', 'NGUOI_THUC_HIEN', 'MA_BENH', 'NGAY_YL', 'NGAY_TH_YL', 'NGAY_KQ', 'MA_PTTT', 'MA_MAY', 'TT_THAU', 'SO_PHIEU',
  ],
  DT_SINHHIEU: ['MA_BN', 'MA_LK', 'CHI_SO', 'GIA_TRI', 'DON_VI', 'THOI_GIAN', 'MA_THIETBI', 'VI_TRI', 'TRANG_THAI'],
  KB_CHUYENTUYEN: [
    'MA_LK', 'GIAY_CHUYEN_TUYEN', 'SO_HOSO', 'SO_CHUYENTUYEN', 'MA_NOI_DEN', 'MA_LYDO_CT', 'DAU_HIEU_LS', 'TINH_TRANG_CT', 'HUONG_DIEU_TRI', 'PHUONGTIEN_VC',
    'HOTEN_NGUOI_HT', 'CHUCDANH_NGUOI_HT', 'MA_BS', 'NGAY_CT',
  ],
  KB_CHUNGSINH: [
    'SO', 'QUYEN_SO', 'MA_LK', 'NGAY_CT', 'MA_BHXH_ME', 'MA_THE_ME', 'SO_GTTT_ME', 'NGAY_CAP_GTTT', 'NOI_CAP_GTTT', 'HO_TEN_CHA', 'TEN_CON', 'GIOI_TINH_CON',
    'SO_CON', 'LAN_SINH', 'SO_CON_SONG', 'CAN_NANG_G', 'NGAY_SINH_CON', 'NOI_SINH', 'TINH_TRANG_CON', 'SINH_MO', 'DUOI_32_TUAN', 'GHI_CHU', 'NGUOI_DO_DE',
    'NGUOI_GHI', 'MA_THE_TAM',
  ],
  KB_GIAYNGHI: ['ID', 'MA_LK', 'LOAI', 'SO_SERI', 'SO_CT', 'SO_KCB', 'DON_VI', 'MA_BHXH', 'CHAN_DOAN', 'TU_NGAY', 'DEN_NGAY', 'SO_NGAY', 'MA_NV_KY', 'NGAY_CT'],
  KB_HIV: [
    'MA_LK', 'NGAYKD_HIV', 'NOI_LAY_MAU_XN', 'NOI_XN_KD', 'NOI_BDDT_ARV', 'BDDT_ARV', 'MA_PHAC_DO_DIEU_TRI_BD', 'MA_LYDO_DTRI', 'LOAI_DTRI_LAO', 'SANG_LOC_LAO',
    'KQ_DTRI_LAO', 'MA_LYDO_XNTL_VR', 'NGAY_XN_TLVR', 'KQ_XNTL_VR', 'NGAY_KQ_XN_TLVR', 'MA_LOAI_BN', 'GIAI_DOAN_LAM_SANG', 'NHOM_DOI_TUONG', 'MA_TINH_TRANG_DK',
    'NGAY_BAT_DAU_DT_CTX', 'MA_XU_TRI', 'NGAY_BAT_DAU_XU_TRI', 'NGAY_KET_THUC_XU_TRI', 'MA_PHAC_DO_DIEU_TRI', 'SO_NGAY_CAP_THUOC_ARV', 'NGAY_CHUYEN_PHAC_DO',
    'LY_DO_CHUYEN_PHAC_DO',
  ],
  KB_LAO: [
    'ID', 'MA_LK', 'PHANLOAI_LAO_VITRI', 'PHANLOAI_LAO_TS', 'PHANLOAI_LAO_HIV', 'PHANLOAI_LAO_VK', 'PHANLOAI_LAO_KT', 'LOAI_DTRI_LAO', 'NGAYBD_DTRI_LAO',
    'PHACDO_DTRI_LAO', 'NGAYKT_DTRI_LAO', 'KET_QUA_DTRI_LAO',
  ],
  KB_GIAMDINH: [
    'MA_LK', 'NGUOI_CHU_TRI', 'CHUC_VU', 'NGAY_HOP', 'NGAY_CAP_CCCD', 'NOI_CAP_CCCD', 'MA_BHXH', 'NGHE_NGHIEP', 'MA_DOI_TUONG', 'KHAM_GIAM_DINH', 'SO_BIEN_BAN',
    'DANG_HUONG_CHE_DO', 'NGAY_CHUNG_TU', 'SO_GIAY_GIOI_THIEU', 'NGAY_DE_NGHI', 'MA_DONVI', 'GIOI_THIEU_CUA', 'KET_QUA_KHAM', 'SO_VAN_BAN_CAN_CU', 'TYLE_TTCT_MOI',
    'TONG_TYLE_TTCT', 'DE_NGHI', 'DUOC_XACDINH',
  ],
};

/** Facilities patients are referred to (central hospitals), and employers on leave certificates. */
const REFERRAL_TARGETS = ['01901', '01902', '01904'];
const EMPLOYERS = ['Công ty TNHH Điện tử Minh Long', 'Công ty Cổ phần May Thăng Long', 'Sở Giáo dục và Đào tạo Hà Nội', 'Ngân hàng TMCP Công thương Việt Nam - Chi nhánh Ba Đình', 'Công ty Cổ phần Xây dựng số 1'];
const ID_AUTHORITY = 'Cục Cảnh sát quản lý hành chính về trật tự xã hội';

export const DEMO_TABLE_COLUMNS: Readonly<Record<string, readonly string[]>> = TABLE_COLUMNS;

/** CCCD: 3-digit province of birth registration, century/sex digit, 2-digit birth year, 6 digits. */
function cccd(r: ReturnType<typeof rng>, province: string, male: boolean, birthYear: number): string {
  const centuryDigit = (birthYear >= 2000 ? 2 : 0) + (male ? 0 : 1);
  return `${province}${centuryDigit}${pad(birthYear % 100, 2)}${r.digits(6)}`;
}

function analyteValue(r: ReturnType<typeof rng>, e: LabTestEntry): { value: string; flag: string | null } {
  const low = e.low ? Number(e.low) : undefined;
  const high = e.high ? Number(e.high) : undefined;
  const lo = low ?? (high !== undefined ? high * 0.4 : 1);
  const hi = high ?? lo * 2.2;
  const span = hi - lo;
  const decimals = hi >= 100 ? 0 : hi >= 10 ? 1 : 2;
  let v: number;
  const roll = r.next();
  if (roll < 0.08 && high !== undefined) v = hi + span * (0.05 + r.next() * 0.8);
  else if (roll < 0.14 && low !== undefined && low > 0) v = lo - Math.min(lo * 0.5, span * (0.05 + r.next() * 0.4));
  else v = lo + span * (0.05 + r.next() * 0.9);
  const value = v.toFixed(decimals);
  const n = Number(value);
  const flag = high !== undefined && n > high ? 'H' : low !== undefined && n < low ? 'L' : 'N';
  return { value, flag };
}

export async function generateDemoData(sink: RowSink, options: GenerateOptions): Promise<GenerateStats> {
  const { seed, visits: visitCount } = options;
  if (!Number.isInteger(visitCount) || visitCount < 1 || visitCount > 1_000_000) throw new Error(`visits must be an integer 1..1,000,000, got ${visitCount}`);
  const r = rng(seed);
  // The visits' documents (birth and leave certificates, referrals, HIV/TB records, assessments) draw
  // from their own stream, so adding them left every row the main stream produces unchanged.
  const x = rng(seed ^ 0x2f6b3d1);
  const staffNames = new Map<string, string>();
  const personName = (male: boolean) => `${x.weighted(FAMILY_NAMES)} ${x.pick(male ? MIDDLE_MALE : MIDDLE_FEMALE)} ${x.pick(male ? GIVEN_MALE : GIVEN_FEMALE)}`;
  let leaveId = 0;
  let tbId = 0;
  const nowMs = (options.today ?? new Date()).getTime();
  const todayParts = hospitalParts(new Date(nowMs));
  const todayStart = fromHospitalParts(todayParts.year, todayParts.month, todayParts.day).getTime();
  const days = options.days ?? Math.max(3, Math.ceil(visitCount / 800));
  const batchSize = options.batchSize ?? 2000;
  const labCodes = LabCodeMap.load();
  const icd = loadIcd10();
  const icdName = (code: string) => icd.get(code)?.name ?? code;

  const buffers = new Map<string, unknown[][]>();
  const counts: Record<string, number> = {};
  const flush = async (table: string) => {
    const rows = buffers.get(table);
    if (!rows?.length) return;
    buffers.set(table, []);
    await sink.insert(table, TABLE_COLUMNS[table], rows);
  };
  const emit = async (table: string, row: unknown[]) => {
    if (row.length !== TABLE_COLUMNS[table].length) throw new Error(`generator bug: ${table} row has ${row.length} values for ${TABLE_COLUMNS[table].length} columns`);
    let rows = buffers.get(table);
    if (!rows) buffers.set(table, (rows = []));
    rows.push(row);
    counts[table] = (counts[table] ?? 0) + 1;
    if (rows.length >= batchSize) await flush(table);
  };
  const dt = (ms: number) => instantToDbDateTime(new Date(ms));
  const dateOnly = (ms: number) => dt(ms).slice(0, 10);

  // ---- catalogues
  await emit('DM_COSO', [FACILITY.code, FACILITY.name, FACILITY.level, FACILITY.province]);
  for (const p of PROVINCES) {
    await emit('DM_TINH', [p.code, p.name]);
    for (const c of p.communes) await emit('DM_XA', [c.code, c.name, c.district, p.code]);
  }
  for (const d of DEPARTMENTS) await emit('DM_KHOA', [d.code, d.name, d.bhyt, d.kind]);

  const staff: Record<string, string[]> = {};
  const doctorsOf: Record<string, string[]> = {};
  let staffNo = 0;
  const staffPlan: Record<string, Array<[string, string, number]>> = {
    KKB: [['BS', 'BS.CKI', 6], ['DD', 'ĐD', 3]],
    KCC: [['BS', 'BS.CKII', 4], ['DD', 'ĐD', 4]],
    KNOI: [['BS', 'ThS.BS', 4], ['DD', 'ĐD', 3]],
    KTIM: [['BS', 'TS.BS', 3], ['DD', 'ĐD', 3]],
    KNGOAI: [['BS', 'BS.CKI', 4], ['DD', 'ĐD', 3]],
    KSAN: [['BS', 'BS.CKI', 3], ['HS', 'HS', 3]],
    KNHI: [['BS', 'BS.CKI', 3], ['DD', 'ĐD', 3]],
    KXN: [['BS', 'BS.CKI', 2], ['KTV', 'KTV', 5]],
    KCDHA: [['BS', 'BS.CKI', 3], ['KTV', 'KTV', 4]],
    KDUOC: [['DS', 'DS.CKI', 2]],
  };
  for (const [dept, plan] of Object.entries(staffPlan)) {
    for (const [role, title, n] of plan) {
      for (let i = 0; i < n; i++) {
        const id = `NV${pad(++staffNo, 4)}`;
        const male = r.chance(role === 'BS' ? 0.6 : 0.25);
        const name = `${r.weighted(FAMILY_NAMES)} ${r.pick(male ? MIDDLE_MALE : MIDDLE_FEMALE)} ${r.pick(male ? GIVEN_MALE : GIVEN_FEMALE)}`;
        await emit('DM_NHANVIEN', [id, name, title, role, `${pad(10000 + staffNo * 37, 6)}/HNO-CCHN`, `01${r.digits(8)}`, dept, 1]);
        staffNames.set(id, name);
        (staff[`${dept}:${role}`] ??= []).push(id);
        if (role === 'BS') (doctorsOf[dept] ??= []).push(id);
      }
    }
  }
  const labServices = new Map<string, LabTestEntry>();
  for (const e of labCodes.entries) if (e.analyser === '*' && !labServices.has(e.hisServiceCode)) labServices.set(e.hisServiceCode, e);
  const labServiceName: Record<string, string> = { XN_CTM: 'Tổng phân tích tế bào máu ngoại vi (bằng máy đếm laser)' };
  for (const [code, e] of labServices) {
    const price = LAB_PRICES[code] ?? 25000;
    await emit('DM_DICHVU', [code, labServiceName[code] ?? e.name, e.bhytServiceCode ?? null, 1, 'XN', 'Lần', price, price, null]);
  }
  for (const s of SERVICES) await emit('DM_DICHVU', [s.code, s.name, s.bhyt, s.group, s.kind, s.unit, s.price, s.price, s.modality]);
  for (const d of DRUGS) await emit('DM_THUOC', [d.code, d.name, d.active, d.strength, d.unit, d.route, d.form, d.reg, TENDER, d.price]);

  // ---- patients, visits, orders, results, charges, vitals
  interface PatientInfo {
    id: string;
    male: boolean;
    age: number;
    card?: string;
    cardLevel?: number;
    registeredHere: boolean;
    dkbd?: string;
    /** CCCD number (patients 14 and older). */
    idNumber?: string;
  }
  const patients: PatientInfo[] = [];
  const benefitOf: Record<string, number> = { '1': 100, '2': 100, '3': 95, '4': 80, '5': 100 };
  let diagId = 0;
  let orderNo = 0;
  let itemId = 0;
  let drugLineId = 0;
  let dvktLineId = 0;
  let accessionNo = 0;
  let barcodeNo = 0;
  const chemAnalyser = 'AU480';
  const haemAnalyser = 'XN1000';
  const staffOf = (dept: string, role: string) => r.pick(staff[`${dept}:${role}`] ?? staff['KKB:BS']);

  const newPatient = async (createdAt: number): Promise<PatientInfo> => {
    const id = `BN${pad(patients.length + 1, 8)}`;
    const male = r.chance(0.48);
    const ageBand = r.next();
    const age = ageBand < 0.08 ? r.int(0, 5) : ageBand < 0.15 ? r.int(6, 17) : ageBand < 0.65 ? r.int(18, 59) : r.int(60, 92);
    const birthYear = todayParts.year - age;
    const yearOnly = age > 50 && r.chance(0.05);
    const birthDate = yearOnly ? String(birthYear) : `${birthYear}-${pad(r.int(1, 12), 2)}-${pad(r.int(1, 28), 2)}`;
    const province = r.weighted(PROVINCES.map((p) => [p, p.weight] as const));
    const commune = r.pick(province.communes);
    const family = r.weighted(FAMILY_NAMES);
    const name = `${family} ${r.pick(male ? MIDDLE_MALE : MIDDLE_FEMALE)} ${r.pick(male ? GIVEN_MALE : GIVEN_FEMALE)}`;
    const insured = r.chance(0.8);
    let card: string | undefined;
    let cardLevel: number | undefined;
    let registeredHere = false;
    let dkbd: string | undefined;
    if (insured) {
      const group = age < 6 ? 'TE1' : age < 18 ? 'HS4' : age >= 60 ? r.pick(['HT3', 'HT3', 'GD4', 'CC1']) : r.pick(['DN4', 'DN4', 'DN4', 'HC4', 'GD4', 'CB2']);
      card = `${group}${province.code}${province.code}${r.digits(8)}`;
      cardLevel = benefitOf[group[2]];
      registeredHere = r.chance(0.45);
      dkbd = registeredHere ? FACILITY.code : `${province.code}${pad(r.int(1, 40), 3)}`;
    }
    let idNumber: string | undefined;
    await emit('BN_BENHNHAN', [
      id,
      name,
      birthDate,
      age === 0 ? `${pad(r.int(0, 23), 2)}:${pad(r.int(0, 59), 2)}` : null,
      male ? 1 : 2,
      (idNumber = age >= 14 ? cccd(r, `0${province.code}`.slice(-3), male, birthYear) : undefined) ?? null,
      r.chance(0.02) ? `C${r.digits(7)}` : null,
      card ?? null,
      `Số ${r.int(1, 199)} ${r.pick(commune.streets)}`,
      commune.code,
      commune.district,
      province.code,
      `09${r.digits(8)}`,
      r.chance(0.9) ? '01' : r.pick(['02', '03', '04', '05']),
      '000',
      '00000',
      dt(createdAt),
    ]);
    const info = { id, male, age, card, cardLevel, registeredHere, dkbd, idNumber };
    patients.push(info);
    return info;
  };

  for (let i = 0; i < visitCount; i++) {
    const dayIndex = Math.floor((i * days) / visitCount);
    const dayStart = todayStart - (days - 1 - dayIndex) * DAY;
    const isToday = dayStart === todayStart;
    const kindRoll = r.next();
    const kind = kindRoll < 0.7 ? 'NGOAITRU' : kindRoll < 0.8 ? 'CAPCUU' : 'NOITRU';
    let admittedAt = kind === 'CAPCUU' ? dayStart + r.int(0, 23 * 60) * MINUTE : dayStart + (7 * 60 + r.int(0, 9 * 60)) * MINUTE;
    // Today's visits all began before "now" (no change stamps in the future), an hour or more ago.
    if (isToday) admittedAt = dayStart + Math.floor(r.next() * Math.max(0, nowMs - dayStart - 3 * 3600_000));
    const patient = patients.length > 0 && r.chance(0.3) ? r.pick(patients) : await newPatient(admittedAt - r.int(0, 3000) * DAY);
    const maLk = `LK${pad(i + 1, 8)}`;
    const y = hospitalParts(new Date(admittedAt)).year;

    let dept: string;
    let icdCodes: string[];
    if (kind === 'NGOAITRU') {
      dept = 'KKB';
      icdCodes = [r.pick(OUTPATIENT_ICD)];
    } else if (kind === 'CAPCUU') {
      dept = 'KCC';
      icdCodes = [r.pick(EMERGENCY_ICD)];
    } else {
      const ward = patient.age < 16 ? CLINICAL.find((c) => c.dept === 'KNHI')! : !patient.male && patient.age >= 18 && patient.age <= 42 && r.chance(0.3) ? CLINICAL.find((c) => c.dept === 'KSAN')! : r.pick(CLINICAL.filter((c) => c.dept !== 'KNHI' && c.dept !== 'KSAN'));
      dept = ward.dept;
      icdCodes = [r.pick(ward.icd)];
    }
    if (r.chance(0.35)) {
      const extra = r.pick(OUTPATIENT_ICD);
      if (!icdCodes.includes(extra) && extra !== 'Z00.0') icdCodes.push(extra);
    }
    const los = kind === 'NOITRU' ? r.int(1, 10) : 0;
    let dischargedAt: number | undefined;
    if (kind === 'NOITRU') {
      const end = admittedAt + los * DAY + r.int(-120, 240) * MINUTE;
      if (end < todayStart) dischargedAt = end;
    } else {
      const end = admittedAt + r.int(60, 240) * MINUTE;
      if (!isToday) dischargedAt = end;
    }
    const doctor = r.pick(doctorsOf[dept]);

    // BHYT route and benefit level (a central hospital: off-route inpatients get 40 % of the card level).
    let route: string | null = null;
    let category: string | null = null;
    let benefit = 0;
    let referredFrom: string | null = null;
    let referral: string | null = null;
    if (patient.card) {
      if (kind === 'CAPCUU') {
        route = 'CAP_CUU';
        category = '2';
        benefit = patient.cardLevel!;
      } else if (patient.registeredHere) {
        route = 'DUNG_TUYEN';
        category = '1.1';
        benefit = patient.cardLevel!;
      } else if (r.chance(0.4)) {
        route = 'CHUYEN_TUYEN';
        category = '1.3';
        benefit = patient.cardLevel!;
        referredFrom = patient.dkbd!;
        referral = `${r.int(1, 999)}/GCT-${y}`;
      } else if (kind === 'NOITRU') {
        route = 'TRAI_TUYEN';
        category = '3.1';
        benefit = Math.round(patient.cardLevel! * 0.4);
      }
    }
    // Documents of the visit (claims XML6, XML9–XML13, XML15), decided on the documents' own stream:
    // a birth certificate for every obstetric stay (O80), and among the other discharged visits a few
    // HIV and TB follow-ups, pregnancy-rest and assessment visits, transfers out and sick leaves.
    const done = dischargedAt !== undefined;
    const adult = patient.age >= 18 && patient.age < 60;
    let special: 'hiv' | 'tb' | 'pregnancy-rest' | 'assessment' | undefined;
    if (done && kind === 'NGOAITRU' && adult) {
      const roll = x.next();
      if (roll < 0.01) special = 'hiv';
      else if (roll < 0.02) special = 'tb';
      else if (roll < 0.035 && !patient.male && patient.age <= 42) special = 'pregnancy-rest';
      else if (roll < 0.04 && patient.idNumber) special = 'assessment';
    }
    if (special === 'hiv') icdCodes[0] = 'B24';
    else if (special === 'tb') icdCodes[0] = 'A15.0';
    else if (special === 'pregnancy-rest') icdCodes[0] = 'O20.0';
    const referralReason = done && kind !== 'NGOAITRU' && x.chance(0.04) ? (x.chance(0.8) ? 2 : 3) : 0;
    const sickLeave = done && adult && special === undefined && dept !== 'KSAN' && /^(DN|HC|CB)/.test(patient.card ?? '') && x.chance(kind === 'NOITRU' ? 0.5 : 0.06);
    const birth = done && dept === 'KSAN' && icdCodes[0] === 'O80';
    // About a third of deliveries are caesarean and a few are twins; the main diagnosis says which
    // (O80 single spontaneous, O82 single caesarean, O84.0 / O84.2 multiple spontaneous / caesarean).
    const caesarean = birth && x.chance(0.35);
    const babies = birth && x.chance(0.03) ? 2 : 1;
    if (birth) icdCodes[0] = babies > 1 ? (caesarean ? 'O84.2' : 'O84.0') : caesarean ? 'O82' : 'O80';
    const insured = route !== null;
    const careType = kind === 'NOITRU' ? '03' : '01';
    const weight = patient.age < 1 ? 3 + r.next() * 6 : patient.age < 16 ? 10 + patient.age * 3 + r.next() * 5 : 42 + r.next() * 35;
    const deptBhyt = DEPARTMENTS.find((d) => d.code === dept)!.bhyt;
    const dxText = icdCodes.map(icdName).join('; ');
    const followUp = dischargedAt && r.chance(0.3) ? dateOnly(dischargedAt + r.int(7, 30) * DAY) : null;
    await emit('KB_LUOTKHAM', [
      maLk,
      patient.id,
      kind,
      careType,
      dt(admittedAt),
      kind === 'NOITRU' ? dt(admittedAt + 60 * MINUTE) : null,
      dischargedAt !== undefined ? dt(dischargedAt) : null,
      dept,
      deptBhyt,
      kind === 'CAPCUU' ? 'Cấp cứu' : kind === 'NOITRU' ? 'Vào viện điều trị' : 'Khám bệnh',
      icdName(icdCodes[0]),
      dischargedAt !== undefined ? dxText : null,
      dischargedAt !== undefined ? r.pick([1, 1, 2, 2, 2, 3]) : null,
      // MA_LOAI_RV: 1 discharged; 2 transferred for medical reasons, 5 at the patient's request.
      dischargedAt !== undefined ? (referralReason === 3 ? 5 : referralReason ? 2 : 1) : null,
      weight.toFixed(2),
      `${y}/${pad(i + 1, 7)}`,
      doctor,
      insured ? patient.card : null,
      insured ? `${y}-01-01` : null,
      insured ? `${y}-12-31` : null,
      insured ? patient.dkbd : null,
      route,
      insured ? patient.cardLevel : null,
      insured ? benefit : null,
      category,
      null,
      null,
      null,
      referredFrom,
      referral,
      dischargedAt !== undefined ? dt(dischargedAt + 30 * MINUTE) : null,
      followUp,
      null,
      dt(dischargedAt ?? admittedAt),
    ]);
    for (const [n, code] of icdCodes.entries()) {
      await emit('KB_CHANDOAN', [++diagId, maLk, code, icdName(code), n === 0 ? 1 : 0, 'RA']);
    }
    await emit('KB_CHANDOAN', [++diagId, maLk, icdCodes[0], icdName(icdCodes[0]), 1, 'VAO']);

    const visitDay = dateOnly(admittedAt);
    const dayOffset = (days: number) => dateOnly(admittedAt + days * DAY);
    const pastDate = (yearsBack: number) => `${y - yearsBack}-${pad(x.int(1, 12), 2)}-${pad(x.int(1, 28), 2)}`;
    const socialInsuranceNo = patient.card ? patient.card.slice(5) : null;
    if (referralReason) {
      const serious = kind === 'CAPCUU';
      await emit('KB_CHUYENTUYEN', [
        maLk, `${x.int(1, 999)}/${y}/GCT`, `HS${pad(i + 1, 7)}`, `CT-${y}-${pad(i + 1, 6)}`, x.pick(REFERRAL_TARGETS), referralReason,
        serious ? 'Người bệnh tỉnh, tiếp xúc chậm, mạch nhanh, huyết áp dao động' : 'Người bệnh tỉnh, tiếp xúc tốt, còn đau nhiều, đáp ứng điều trị kém',
        serious ? 'Nặng, cần theo dõi sát trên đường vận chuyển' : 'Ổn định, đủ điều kiện vận chuyển',
        referralReason === 3 ? 'Tiếp tục điều trị theo nguyện vọng của người bệnh và gia đình' : 'Chuyển tuyến trên để can thiệp chuyên sâu',
        serious ? 'Xe cứu thương' : 'Xe cứu thương của bệnh viện', serious ? staffNames.get(x.pick(staff[`${dept}:DD`] ?? staff['KCC:DD'])) ?? null : null, serious ? 'Điều dưỡng' : null, doctor,
        dt(dischargedAt!),
      ]);
    }
    if (birth) {
      const bornAt = admittedAt + x.int(3, 18) * 60 * MINUTE;
      const deliveries = x.int(1, 3);
      const father = personName(true);
      const idIssued = pastDate(x.int(1, 8));
      const midwives = staff['KSAN:HS'];
      const recorder = staffNames.get(x.pick(doctorsOf.KSAN));
      for (let b = 0; b < babies; b++) {
        await emit('KB_CHUNGSINH', [
          `CS${y}${pad(i + 1, 7)}${b + 1}`, `Q${y}-KSAN`, maLk, dateOnly(dischargedAt!), socialInsuranceNo, null, patient.idNumber ?? null, idIssued,
          ID_AUTHORITY, father, null, x.chance(0.51) ? 1 : 2, babies, deliveries, deliveries - 1 + babies,
          babies > 1 ? x.int(2100, 2900) : x.int(2600, 3900), dt(bornAt + b * 7 * MINUTE), FACILITY.name, 'Khỏe mạnh', caesarean ? 1 : 0, 0,
          babies > 1 ? 'Song thai' : null, staffNames.get(x.pick(midwives)), recorder, `TE101${x.digits(10)}`,
        ]);
      }
    }
    if (special === 'pregnancy-rest') {
      const days = x.int(7, 14);
      await emit('KB_GIAYNGHI', [
        ++leaveId, maLk, 'DUONG_THAI', `AA/${y}/${pad(x.int(1, 99_999), 5)}`, `${pad(i + 1, 7)}/GNDT`, null, x.pick(EMPLOYERS), socialInsuranceNo,
        `Thai ${x.int(8, 14)} tuần, dọa sẩy thai`, visitDay, dayOffset(days - 1), days, doctor, visitDay,
      ]);
    }
    if (sickLeave) {
      const days = kind === 'NOITRU' ? Math.round((Date.parse(dateOnly(dischargedAt!)) - Date.parse(visitDay)) / DAY) + 1 : x.int(2, 5);
      await emit('KB_GIAYNGHI', [
        ++leaveId, maLk, 'BHXH', `AB/${y}/${pad(x.int(1, 99_999), 5)}`, `${pad(i + 1, 7)}/CT07`, null, x.pick(EMPLOYERS), socialInsuranceNo,
        null, visitDay, dayOffset(days - 1), days, doctor, dateOnly(dischargedAt!),
      ]);
    }
    if (special === 'hiv') {
      const confirmedYear = y - x.int(3, 10);
      const confirmed = `${confirmedYear}-${pad(x.int(1, 6), 2)}-${pad(x.int(1, 28), 2)}`;
      const arvStart = `${confirmedYear}-${pad(x.int(7, 12), 2)}-${pad(x.int(1, 28), 2)}`;
      await emit('KB_HIV', [
        maLk, confirmed, '01013', '01002', FACILITY.code, arvStart, 'TDF+3TC+EFV', 1, 0, 2, 7, 1, dayOffset(-30), 1, dayOffset(-23), 1, 1, x.pick([4, 5, 7, 9]), '9',
        arvStart, '1', visitDay, dayOffset(90), 'TDF+3TC+DTG', 90, `${Math.max(confirmedYear + 1, 2020)}-06-01`, 5,
      ]);
    }
    if (special === 'tb') {
      await emit('KB_LAO', [++tbId, maLk, 1, 1, 2, 1, null, 2, dayOffset(-182), 1, visitDay, x.chance(0.7) ? 1 : 2]);
    }
    if (special === 'assessment') {
      const rate = x.int(21, 61);
      await emit('KB_GIAMDINH', [
        maLk, personName(x.chance(0.6)), 1, visitDay, pastDate(x.int(1, 8)), ID_AUTHORITY, socialInsuranceNo ?? `01${x.digits(8)}`, 'Công nhân', '1', 1,
        `${pad(i + 1, 5)}/BB-GĐYK`, '1', visitDay, `${x.int(1, 999)}/GGT-BHXH`, dayOffset(-14), 'BHXH01', 'Bảo hiểm xã hội thành phố Hà Nội',
        `Hạn chế vận động, đau cột sống thắt lưng mạn tính; suy giảm khả năng lao động ${rate}%`, 'Thông tư 56/2017/TT-BYT', rate, rate,
        'Giải quyết chế độ ốm đau dài ngày theo quy định', `Tỷ lệ tổn thương cơ thể ${rate}%`,
      ]);
    }

    let drugStt = 0;
    let dvktStt = 0;
    const pttt = 1;
    const dvkt = async (o: {
      type: 'DV' | 'VT' | 'GIUONG';
      hisCode: string;
      bhytService: string | null;
      bhytSupply: string | null;
      name: string;
      unit: string;
      qtyMilli: number;
      price: number;
      group: number;
      performer?: string | null;
      orderedAt: number;
      performedAt?: number | null;
      resultAt?: number | null;
      machine?: string | null;
      orderNo?: string | null;
      bed?: string | null;
    }) => {
      const a = amounts(o.qtyMilli, o.price, o.price, 100, 100, insured ? benefit : 0);
      await emit('DT_DVKT', [
        ++dvktLineId, maLk, ++dvktStt, o.type, o.hisCode, o.bhytService, o.bhytSupply, o.name, o.unit, 1, (o.qtyMilli / 1000).toFixed(3), o.price, o.price,
        100, 100, cents(a.hospital), cents(a.scope), cents(a.fund), cents(a.coPay), cents(a.selfPay), '0.00', insured ? benefit : 0, o.group, dept, deptBhyt,
        o.bed ?? null, doctor, o.performer ?? null, null, dt(o.orderedAt), o.performedAt ? dt(o.performedAt) : null, o.resultAt ? dt(o.resultAt) : null,
        pttt, o.machine ?? null, o.type === 'VT' ? TENDER : null, o.orderNo ?? null,
      ]);
    };

    // Examination or bed days.
    if (kind !== 'NOITRU') {
      const exam = SERVICES.find((s) => s.code === (kind === 'CAPCUU' ? 'KB_CC' : patient.age < 16 ? 'KB_NHI' : 'KB_NOI'))!;
      await dvkt({ type: 'DV', hisCode: exam.code, bhytService: exam.bhyt, bhytSupply: null, name: exam.name, unit: exam.unit, qtyMilli: 1000, price: exam.price, group: exam.group, orderedAt: admittedAt, performedAt: admittedAt + 10 * MINUTE });
    } else {
      const bed = SERVICES.find((s) => s.code === (dept === 'KNGOAI' || dept === 'KSAN' ? 'G_NGOAI' : 'G_NOI'))!;
      const bedDays = Math.max(1, dischargedAt ? los : Math.min(los, Math.floor((todayStart - admittedAt) / DAY)));
      await dvkt({ type: 'GIUONG', hisCode: bed.code, bhytService: bed.bhyt, bhytSupply: null, name: bed.name, unit: bed.unit, qtyMilli: bedDays * 1000, price: bed.price, group: bed.group, orderedAt: admittedAt + 60 * MINUTE, bed: `H${pad(r.int(1, 60), 3)}` });
    }

    // Lab order.
    if (r.chance(kind === 'NOITRU' ? 0.95 : kind === 'CAPCUU' ? 0.8 : 0.5)) {
      const panel = r.pick(LAB_PANELS);
      const soPhieu = `XN${pad(++orderNo, 8)}`;
      const barcode = `${pad(y % 100, 2)}${pad(++barcodeNo, 8)}`;
      const orderedAt = admittedAt + r.int(15, 60) * MINUTE;
      const analyser = panel.every((c) => c === 'XN_CTM') ? haemAnalyser : chemAnalyser;
      const done = !isToday;
      const status = done ? 5 : r.chance(0.5) ? 0 : 2;
      const collected = status >= 2 ? orderedAt + r.int(5, 30) * MINUTE : null;
      const resultAt = orderedAt + r.int(60, 150) * MINUTE;
      await emit('CD_CHIDINH', [
        soPhieu, 'XN', maLk, patient.id, status, kind === 'CAPCUU' ? 2 : 0, dt(orderedAt), dt(done ? resultAt : (collected ?? orderedAt)), done ? 3 : 1,
        done ? analyser : null, dept, doctor, icdName(icdCodes[0]), barcode, analyser, null, null, null, null, null, null, null, null,
      ]);
      await emit('XN_BENHPHAM', [barcode, panel.includes('XN_CTM') && panel.length === 1 ? 'whole-blood' : 'serum', collected ? dt(collected) : null, collected ? dt(collected + 20 * MINUTE) : null, collected ? staffOf(dept === 'KKB' ? 'KKB' : dept, 'DD') : null]);
      const ktv = staffOf('KXN', 'KTV');
      const verifier = staffOf('KXN', 'BS');
      for (const svc of panel) {
        const e = labServices.get(svc)!;
        await emit('CD_CHIDINH_CT', [++itemId, soPhieu, svc, labServiceName[svc] ?? e.name, status]);
        await dvkt({ type: 'DV', hisCode: svc, bhytService: e.bhytServiceCode ?? null, bhytSupply: null, name: labServiceName[svc] ?? e.name, unit: 'Lần', qtyMilli: 1000, price: LAB_PRICES[svc] ?? 25000, group: 1, performer: ktv, orderedAt, performedAt: collected, resultAt: done ? resultAt : null, machine: `${svc === 'XN_CTM' ? 'HH' : 'SH'}.1.${FACILITY.code}.1`, orderNo: soPhieu });
        if (done) {
          for (const analyte of labCodes.forHisService(svc)) {
            const { value, flag } = analyteValue(r, analyte);
            await emit('XN_KETQUA', [
              soPhieu, svc, analyte.analyserCode, analyte.name, value, analyte.unit, analyte.low || null, analyte.high || null,
              analyte.low && analyte.high ? `${analyte.low} - ${analyte.high}` : analyte.low ? `≥ ${analyte.low}` : `≤ ${analyte.high}`, flag, 'F',
              dt(resultAt - 10 * MINUTE), dt(resultAt), svc === 'XN_CTM' ? haemAnalyser : chemAnalyser, ktv, verifier, null, null,
            ]);
          }
        }
      }
    }

    // Imaging order.
    if (r.chance(kind === 'CAPCUU' ? 0.5 : kind === 'NOITRU' ? 0.4 : 0.12)) {
      const svc = kind === 'CAPCUU' && icdCodes[0].startsWith('S06') ? SERVICES.find((s) => s.code === 'CDHA_CT_SO')! : r.pick(SERVICES.filter((s) => s.kind === 'CDHA'));
      const modality = svc.modality!;
      const station = IMAGING_STATIONS[modality];
      const soPhieu = `CD${pad(++orderNo, 8)}`;
      const accession = `ACC${pad(++accessionNo, 8)}`;
      const orderedAt = admittedAt + r.int(20, 90) * MINUTE;
      const done = !isToday;
      const scheduledAt = orderedAt + r.int(10, 180) * MINUTE;
      const studyUid = done ? `1.2.826.0.1.3680043.10.1437.${seed}.${accessionNo}` : null;
      const reportedAt = scheduledAt + r.int(30, 180) * MINUTE;
      await emit('CD_CHIDINH', [
        soPhieu, 'CDHA', maLk, patient.id, done ? 5 : 1, kind === 'CAPCUU' ? 2 : 0, dt(orderedAt), dt(done ? reportedAt : orderedAt + MINUTE), done ? 3 : 1,
        null, dept, doctor, icdName(icdCodes[0]), null, null, accession, modality, station.ae, station.room, dt(scheduledAt), svc.code,
        modality === 'CT' ? 'Sọ não' : modality === 'MR' ? 'Cột sống thắt lưng' : modality === 'US' ? 'Ổ bụng' : 'Ngực', studyUid,
      ]);
      const radiologist = staffOf('KCDHA', 'BS');
      await dvkt({ type: 'DV', hisCode: svc.code, bhytService: svc.bhyt, bhytSupply: null, name: svc.name, unit: svc.unit, qtyMilli: 1000, price: svc.price, group: 2, performer: staffOf('KCDHA', 'KTV'), orderedAt, performedAt: done ? scheduledAt : null, resultAt: done ? reportedAt : null, machine: `${modality === 'US' ? 'SA' : modality === 'CT' ? 'CL' : modality === 'MR' ? 'MRI' : 'XQ'}.1.${FACILITY.code}.1`, orderNo: soPhieu });
      if (done) {
        const rep = r.pick(IMAGING_REPORTS[modality]);
        await emit('CDHA_KETQUA', [soPhieu, accession, rep.findings, rep.conclusion, 'F', dt(reportedAt), radiologist, studyUid, null]);
      }
    }

    // Drugs and supplies.
    const drugLines = kind === 'NOITRU' ? r.int(2, 4) : r.int(1, 3);
    for (let n = 0; n < drugLines; n++) {
      const d = kind === 'NOITRU' ? r.pick(DRUGS) : r.pick(DRUGS.filter((x) => x.route === '1.01'));
      const qty = d.route === '1.01' ? r.int(5, 30) : Math.max(1, los) * r.int(1, 2);
      const a = amounts(qty * 1000, d.price, d.price, 100, 100, insured ? benefit : 0);
      const orderedAt = admittedAt + r.int(30, 120) * MINUTE;
      await emit('DT_THUOC', [
        ++drugLineId, maLk, ++drugStt, d.code, d.active, d.name, d.unit, d.strength, d.route, d.form, `${d.dose} * ${Math.max(1, los || 5)} ngày`, 'Theo chỉ dẫn của bác sĩ',
        d.reg, TENDER, 1, 100, qty.toFixed(3), d.price, cents(a.hospital), cents(a.scope), cents(a.fund), cents(a.coPay), cents(a.selfPay), '0.00',
        insured ? benefit : 0, 4, dept, deptBhyt, doctor, dt(orderedAt), dt(orderedAt + 30 * MINUTE), 1, 1,
      ]);
      if (d.route === '2.15') {
        const tt = SERVICES.find((s) => s.code === 'TT_TRUYEN')!;
        await dvkt({ type: 'DV', hisCode: tt.code, bhytService: tt.bhyt, bhytSupply: null, name: tt.name, unit: tt.unit, qtyMilli: qty * 1000, price: tt.price, group: 18, performer: staffOf(dept, 'DD') ?? null, orderedAt, performedAt: orderedAt + 30 * MINUTE });
        const line = SUPPLIES[1];
        await dvkt({ type: 'VT', hisCode: line.code, bhytService: null, bhytSupply: line.bhyt, name: line.name, unit: line.unit, qtyMilli: qty * 1000, price: line.price, group: 10, orderedAt });
      }
    }
    if (kind !== 'NGOAITRU' && r.chance(0.6)) {
      const s = r.pick(SUPPLIES);
      await dvkt({ type: 'VT', hisCode: s.code, bhytService: null, bhytSupply: s.bhyt, name: s.name, unit: s.unit, qtyMilli: r.int(1, 4) * 1000, price: s.price, group: 10, orderedAt: admittedAt + 20 * MINUTE });
    }

    // Vital signs at admission (and daily for inpatients, up to 5 days).
    const sets = kind === 'NOITRU' ? Math.min(5, Math.max(1, los)) : 1;
    for (let n = 0; n < sets; n++) {
      const at = dt(admittedAt + n * DAY + 15 * MINUTE);
      const location = kind === 'NOITRU' ? `${dept}-G${pad(r.int(1, 60), 3)}` : dept;
      const device = kind === 'NOITRU' ? `MON-${dept}-${r.int(1, 8)}` : null;
      const fever = icdCodes[0] === 'A91' || icdCodes[0] === 'J18.9' || icdCodes[0] === 'R50.9';
      await emit('DT_SINHHIEU', [patient.id, maLk, 'MACH', String(r.int(62, fever ? 115 : 98)), '/min', at, device, location, 'F']);
      await emit('DT_SINHHIEU', [patient.id, maLk, 'NHIET_DO', (fever ? 37.8 + r.next() * 1.6 : 36.3 + r.next() * 0.8).toFixed(1), 'Cel', at, device, location, 'F']);
      await emit('DT_SINHHIEU', [patient.id, maLk, 'HA_TT', String(r.int(100, icdCodes.includes('I10') ? 170 : 135)), 'mm[Hg]', at, device, location, 'F']);
      await emit('DT_SINHHIEU', [patient.id, maLk, 'HA_TTR', String(r.int(60, icdCodes.includes('I10') ? 100 : 85)), 'mm[Hg]', at, device, location, 'F']);
      if (kind !== 'NGOAITRU') await emit('DT_SINHHIEU', [patient.id, maLk, 'SPO2', String(r.int(fever ? 90 : 95, 100)), '%', at, device, location, 'F']);
    }
    if (options.onProgress && (i + 1) % 10_000 === 0) options.onProgress(i + 1);
  }
  for (const table of Object.keys(TABLE_COLUMNS)) await flush(table);
  const totalRows = Object.values(counts).reduce((s, n) => s + n, 0);
  return { visits: visitCount, patients: patients.length, rows: counts, totalRows };
}

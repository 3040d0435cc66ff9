// Loads the demo generator's rows into the English-shaped schema: a sink wrapper that renames
// tables and columns and rewrites coded values (status 5 → FINAL, sex 1 → M…), so both schemas
// hold the same hospital and the same tests can run on either.
import type { RowSink } from '../demo/generator';

type Row = Record<string, unknown>;
type Target = { table: string; columns: Record<string, (r: Row) => unknown> };

const col = (name: string) => (r: Row) => r[name];
const code = (name: string, map: Record<string, string>) => (r: Row) => (r[name] === null || r[name] === undefined ? null : (map[String(r[name])] ?? String(r[name])));

export const ORDER_STATUS_WORDS: Record<string, string> = { '0': 'NEW', '1': 'SCHEDULED', '2': 'COLLECTED', '3': 'IN_PROGRESS', '4': 'PARTIAL', '5': 'FINAL', '8': 'STOPPED', '9': 'CANCELLED' };
const IMAGING_STATUS_WORDS: Record<string, string> = { '0': 'ORDERED', '1': 'SCHEDULED', '2': 'ARRIVED', '3': 'STARTED', '4': 'PARTIAL', '5': 'DONE', '8': 'DISCONTINUED', '9': 'CANCELLED' };
const RESULT_STATUS_WORDS: Record<string, string> = { P: 'PRELIM', F: 'FINAL', C: 'CORRECTED', X: 'CANCELLED', S: 'SUPERSEDED' };
const VITAL_LOINC: Record<string, string> = { MACH: '8867-4', NHIP_THO: '9279-1', SPO2: '59408-5', NHIET_DO: '8310-5', HA_TT: '8480-6', HA_TTR: '8462-4', CAN_NANG: '29463-7', CHIEU_CAO: '8302-2' };

const orderCommon = (statusWords: Record<string, string>) => ({
  order_no: col('SO_PHIEU'),
  encounter_no: col('MA_LK'),
  mrn: col('MA_BN'),
  status: code('TRANG_THAI', statusWords),
  priority: code('UU_TIEN', { '0': 'R', '1': 'U', '2': 'S' }),
  ordered_at: col('NGAY_CHIDINH'),
  modified_at: col('NGAY_CAPNHAT'),
  row_version: col('PHIEN_BAN'),
  modified_by: col('NGUOI_CAPNHAT'),
  dept_code: col('MA_KHOA_CD'),
  ordering_doctor: col('MA_BS_CD'),
  indication: col('CHAN_DOAN'),
});

const chargeCommon = {
  charge_id: (r: Row) => (r.LOAI_DONG ? 1_000_000_000 : 0) + Number(r.ID),
  encounter_no: col('MA_LK'),
  cost_group: col('MA_NHOM'),
  unit: col('DON_VI_TINH'),
  qty: col('SO_LUONG'),
  coverage_scope: col('PHAM_VI'),
  insurance_ratio: col('TYLE_TT_BH'),
  benefit_pct: col('MUC_HUONG'),
  amount_total: col('THANH_TIEN_BV'),
  amount_insured: col('THANH_TIEN_BH'),
  amount_fund: col('T_BHTT'),
  amount_copay: col('T_BNCCT'),
  amount_self: col('T_BNTT'),
  amount_other: col('T_NGUONKHAC'),
  payment_method: col('MA_PTTT'),
  insurance_dept: col('MA_KHOA_BHYT'),
  dept_code: col('MA_KHOA'),
  ordering_doctor: col('MA_BS'),
  ordered_at: col('NGAY_YL'),
  performed_at: col('NGAY_TH_YL'),
  tender_info: col('TT_THAU'),
};

/** Demo table → English table; tables missing here (DM_THUOC) are not loaded. */
const TARGETS: Record<string, Target | ((r: Row) => Target) | undefined> = {
  DM_COSO: { table: 'hospital', columns: { code: col('MA_CSKCB'), name: col('TEN_CSKCB'), tier: code('TUYEN', { TW: 'CENTRAL', TINH: 'PROVINCIAL', HUYEN: 'DISTRICT', XA: 'COMMUNE' }), province_code: col('MA_TINH') } },
  DM_TINH: { table: 'provinces', columns: { code: col('MA_TINH'), name: col('TEN_TINH') } },
  DM_XA: { table: 'wards', columns: { code: col('MA_XA'), name: col('TEN_XA'), district_code: col('MA_HUYEN'), province_code: col('MA_TINH') } },
  DM_KHOA: {
    table: 'departments',
    columns: { dept_code: col('MA_KHOA'), dept_name: col('TEN_KHOA'), insurance_code: col('MA_KHOA_BHYT'), dept_type: code('LOAI_KHOA', { LAMSANG: 'CLINICAL', CANLAMSANG: 'DIAGNOSTIC', CAPCUU: 'ER', DUOC: 'PHARMACY', HANHCHINH: 'ADMIN' }) },
  },
  DM_NHANVIEN: {
    table: 'staff',
    columns: {
      staff_id: col('MA_NV'),
      full_name: col('HO_TEN'),
      job_title: col('CHUC_DANH'),
      staff_type: code('LOAI_NV', { BS: 'DOCTOR', DD: 'NURSE', KTV: 'TECH', DS: 'PHARMACIST', HS: 'MIDWIFE' }),
      license_no: col('SO_CCHN'),
      social_insurance_no: col('MA_BHXH'),
      dept_code: col('MA_KHOA'),
      is_active: code('TRANG_THAI', { '1': 'Y', '0': 'N' }),
    },
  },
  DM_DICHVU: {
    table: 'services',
    columns: {
      service_code: col('MA_DV'),
      service_name: col('TEN_DV'),
      insurance_code: col('MA_DV_BHYT'),
      cost_group: col('MA_NHOM'),
      category: col('LOAI_DV'),
      unit: col('DON_VI_TINH'),
      price: col('DON_GIA'),
      insurance_price: col('DON_GIA_BHYT'),
      modality: col('MA_MODALITY'),
    },
  },
  BN_BENHNHAN: {
    table: 'patients',
    columns: {
      mrn: col('MA_BN'),
      full_name: col('HO_TEN'),
      date_of_birth: col('NGAY_SINH'),
      birth_time: col('GIO_SINH'),
      gender: code('GIOI_TINH', { '1': 'M', '2': 'F', '3': 'U' }),
      national_id: col('SO_CCCD'),
      passport_no: col('SO_HO_CHIEU'),
      insurance_card: col('MA_THE_BHYT'),
      street: col('DIA_CHI'),
      ward_code: col('MA_XA'),
      district_code: col('MA_HUYEN'),
      province_code: col('MA_TINH'),
      phone: col('DIEN_THOAI'),
      ethnicity: col('MA_DANTOC'),
      nationality: col('MA_QUOCTICH'),
      occupation: col('MA_NGHE_NGHIEP'),
      created_at: col('NGAY_TAO'),
    },
  },
  KB_LUOTKHAM: {
    table: 'encounters',
    columns: {
      encounter_no: col('MA_LK'),
      mrn: col('MA_BN'),
      encounter_class: code('LOAI_KCB', { NGOAITRU: 'OP', NOITRU: 'IP', CAPCUU: 'ER' }),
      care_type: col('MA_LOAI_KCB'),
      admit_time: col('NGAY_VAO'),
      ip_admit_time: col('NGAY_VAO_NOI_TRU'),
      discharge_time: col('NGAY_RA'),
      dept_code: col('MA_KHOA'),
      insurance_depts: col('DS_KHOA_BHYT'),
      visit_reason: col('LY_DO_VV'),
      admit_dx_text: col('CHAN_DOAN_VAO'),
      discharge_dx_text: col('CHAN_DOAN_RV'),
      outcome: col('KET_QUA_DTRI'),
      discharge_type: col('MA_LOAI_RV'),
      weight_kg: col('CAN_NANG'),
      chart_no: col('MA_HSBA'),
      attending_id: col('MA_BS_DIEUTRI'),
      card_no: col('MA_THE_BHYT'),
      card_from: col('GT_THE_TU'),
      card_to: col('GT_THE_DEN'),
      card_facility: col('MA_DKBD'),
      route: code('TUYEN', { DUNG_TUYEN: 'IN_NETWORK', TRAI_TUYEN: 'OUT_OF_NETWORK', CAP_CUU: 'EMERGENCY', CHUYEN_TUYEN: 'REFERRED' }),
      card_level: col('MUC_HUONG_THE'),
      benefit_pct: col('MUC_HUONG'),
      patient_category: col('MA_DOITUONG_KCB'),
      area_code: col('MA_KHUVUC'),
      five_years_from: col('NGAY_5NAM'),
      copay_exempt_from: col('NGAY_MIEN_CCT'),
      referred_from: col('MA_NOI_DI'),
      referral_no: col('GIAY_CHUYEN_TUYEN'),
      paid_at: col('NGAY_TTOAN'),
      follow_up_date: col('NGAY_TAI_KHAM'),
      procedure_codes: col('MA_PTTT_QT'),
      modified_at: col('NGAY_CAPNHAT'),
    },
  },
  KB_CHANDOAN: {
    table: 'encounter_diagnoses',
    columns: { id: col('ID'), encounter_no: col('MA_LK'), icd_code: col('MA_ICD'), description: col('TEN_BENH'), is_primary: code('BENH_CHINH', { '1': 'Y', '0': 'N' }), stage: code('GIAI_DOAN', { VAO: 'ADMIT', RA: 'DISCHARGE' }) },
  },
  // Specimens live on the lab order in this schema: XN_BENHPHAM rows are folded in (englishSink attaches the specimen row as __specimen).
  XN_BENHPHAM: undefined,
  CD_CHIDINH: (r) =>
    r.LOAI_PHIEU === 'XN'
      ? {
          table: 'lab_orders',
          columns: {
            ...orderCommon(ORDER_STATUS_WORDS),
            specimen_barcode: col('MA_BARCODE'),
            specimen_type: (row) => (row.__specimen as Row | undefined)?.LOAI_MAU ?? null,
            collected_at: (row) => (row.__specimen as Row | undefined)?.NGAY_LAY_MAU ?? null,
            received_at: (row) => (row.__specimen as Row | undefined)?.NGAY_NHAN_MAU ?? null,
            analyzer_id: col('MA_MAY_XN'),
          },
        }
      : {
          table: 'imaging_orders',
          columns: {
            ...orderCommon(IMAGING_STATUS_WORDS),
            accession_no: col('SO_ACCESSION'),
            modality: col('MA_MODALITY'),
            station_aet: col('AE_TITLE'),
            station_name: col('TEN_PHONG'),
            scheduled_at: col('NGAY_HEN'),
            procedure_code: col('MA_DV_CDHA'),
            body_part: col('BO_PHAN'),
            study_uid: col('STUDY_UID'),
            image_count: col('SO_ANH'),
            series_count: col('SO_SERIES'),
            viewer_url: col('LINK_XEM_ANH'),
          },
        },
  CD_CHIDINH_CT: { table: 'lab_order_tests', columns: { id: col('ID'), order_no: col('SO_PHIEU'), test_code: col('MA_DV'), test_name: col('TEN_DV'), status: code('TRANG_THAI', ORDER_STATUS_WORDS) } },
  XN_KETQUA: {
    table: 'lab_results',
    columns: {
      order_no: col('SO_PHIEU'),
      test_code: col('MA_DV'),
      analyzer_test_code: col('MA_CHISO'),
      test_name: col('TEN_CHISO'),
      loinc_code: () => null,
      result_value: col('KET_QUA'),
      result_unit: col('DON_VI'),
      ref_low: col('CSBT_THAP'),
      ref_high: col('CSBT_CAO'),
      ref_text: col('CSBT'),
      flag: col('CO_BAT_THUONG'),
      result_status: code('TRANG_THAI_KQ', RESULT_STATUS_WORDS),
      measured_at: col('NGAY_DO'),
      reported_at: col('NGAY_KQ'),
      analyzer_id: col('MA_MAY'),
      performed_by: col('NGUOI_THUC_HIEN'),
      verified_by: col('NGUOI_DUYET'),
      remarks: col('GHI_CHU'),
      message_id: col('MA_THONG_DIEP'),
    },
  },
  CDHA_KETQUA: {
    table: 'imaging_reports',
    columns: {
      order_no: col('SO_PHIEU'),
      accession_no: col('SO_ACCESSION'),
      findings: col('MO_TA'),
      impression: col('KET_LUAN'),
      report_status: code('TRANG_THAI_KQ', RESULT_STATUS_WORDS),
      reported_at: col('NGAY_KQ'),
      radiologist_id: col('MA_BS_DOC'),
      study_uid: col('STUDY_UID'),
      message_id: col('MA_THONG_DIEP'),
    },
  },
  DT_THUOC: {
    table: 'charges',
    columns: {
      ...chargeCommon,
      line_no: col('STT'),
      charge_type: () => 'DRUG',
      insurance_code: col('MA_THUOC'),
      item_code: col('MA_THUOC_BV'),
      item_name: col('TEN_THUOC'),
      unit_price: col('DON_GIA'),
      insurance_unit_price: col('DON_GIA'),
      service_ratio: () => 100,
      strength: col('HAM_LUONG'),
      route: col('DUONG_DUNG'),
      dosage_form: col('DANG_BAO_CHE'),
      dosage: col('LIEU_DUNG'),
      directions: col('CACH_DUNG'),
      registration_no: col('SO_DANG_KY'),
      funding_source: col('NGUON_CTRA'),
    },
  },
  DT_DVKT: {
    table: 'charges',
    columns: {
      ...chargeCommon,
      line_no: col('STT'),
      charge_type: code('LOAI_DONG', { DV: 'SERVICE', VT: 'SUPPLY', GIUONG: 'BED' }),
      insurance_code: (r) => r.MA_DICH_VU ?? r.MA_VAT_TU,
      item_code: col('MA_DV_BV'),
      item_name: col('TEN'),
      unit_price: col('DON_GIA_BV'),
      insurance_unit_price: col('DON_GIA_BH'),
      service_ratio: col('TYLE_TT_DV'),
      performed_by: col('NGUOI_THUC_HIEN'),
      result_at: col('NGAY_KQ'),
      icd_code: col('MA_BENH'),
      bed_code: col('MA_GIUONG'),
      machine_code: col('MA_MAY'),
      order_no: col('SO_PHIEU'),
    },
  },
  DT_SINHHIEU: {
    table: 'vital_signs',
    columns: {
      mrn: col('MA_BN'),
      encounter_no: col('MA_LK'),
      loinc: code('CHI_SO', VITAL_LOINC),
      value_num: col('GIA_TRI'),
      unit: col('DON_VI'),
      measured_at: col('THOI_GIAN'),
      device_id: col('MA_THIETBI'),
      location: col('VI_TRI'),
      status: code('TRANG_THAI', { F: 'FINAL', P: 'PRELIM', E: 'ERROR' }),
    },
  },
};

/**
 * Wraps a sink of the English schema so it accepts the demo generator's rows. The generator flushes
 * each table's buffer on its own, so a lab order can arrive before its specimen: such orders wait
 * until the specimen row comes (every specimen does, at the latest in the final flush).
 */
export function englishSink(target: RowSink): RowSink {
  const specimens = new Map<string, Row>();
  let waiting: Row[] = [];
  const write = async (table: string, rows: Row[]) => {
    const spec = TARGETS[table];
    if (!spec) return;
    const grouped = new Map<string, { target: Target; rows: unknown[][] }>();
    for (const row of rows) {
      if (table === 'CD_CHIDINH') row.__specimen = specimens.get(String(row.MA_BARCODE));
      const t = typeof spec === 'function' ? spec(row) : spec;
      let g = grouped.get(t.table);
      if (!g) grouped.set(t.table, (g = { target: t, rows: [] }));
      g.rows.push(Object.values(t.columns).map((fn) => fn(row) ?? null));
      if (table === 'CD_CHIDINH') specimens.delete(String(row.MA_BARCODE));
    }
    for (const g of grouped.values()) await target.insert(g.target.table, Object.keys(g.target.columns), g.rows);
  };
  return {
    async insert(table, columns, values) {
      const rows = values.map((v) => Object.fromEntries(columns.map((c, i) => [c, v[i]])) as Row);
      if (table === 'XN_BENHPHAM') {
        for (const row of rows) specimens.set(String(row.MA_BARCODE), row);
        const ready = waiting.filter((o) => specimens.has(String(o.MA_BARCODE)));
        waiting = waiting.filter((o) => !specimens.has(String(o.MA_BARCODE)));
        await write('CD_CHIDINH', ready);
        return;
      }
      if (table === 'CD_CHIDINH') {
        const missing = (o: Row) => o.LOAI_PHIEU === 'XN' && !specimens.has(String(o.MA_BARCODE));
        waiting.push(...rows.filter(missing));
        await write(table, rows.filter((o) => !missing(o)));
        return;
      }
      await write(table, rows);
    },
  };
}

// Reference data for the demo HIS generator: names, places, departments, catalogues. Prices are in
// the range of 2024–2025 BHYT tariffs; BHYT catalogue codes for drugs/supplies and department codes
// are illustrative (a real hospital imports its approved lists). Administrative codes are from the
// pre-2025 national list (province 2 digits, district 3, commune 5) as far as known.

export const FACILITY = { code: '01999', name: 'Bệnh viện Trung ương Demo Hisbridge', level: 'TW', province: '01' } as const;

export const FAMILY_NAMES: Array<[string, number]> = [
  ['Nguyễn', 38], ['Trần', 11], ['Lê', 9.5], ['Phạm', 7], ['Hoàng', 3], ['Huỳnh', 2], ['Phan', 4.5], ['Vũ', 2], ['Võ', 1.9],
  ['Đặng', 2.1], ['Bùi', 2], ['Đỗ', 1.4], ['Hồ', 1.3], ['Ngô', 1.3], ['Dương', 1], ['Lý', 0.5], ['Đinh', 0.7], ['Trịnh', 0.6],
];
export const MIDDLE_MALE = ['Văn', 'Đức', 'Minh', 'Quang', 'Hữu', 'Công', 'Thành', 'Xuân', 'Đình', 'Ngọc'];
export const MIDDLE_FEMALE = ['Thị', 'Ngọc', 'Thu', 'Thanh', 'Kim', 'Mỹ', 'Thùy', 'Phương', 'Bích', 'Hồng'];
export const GIVEN_MALE = ['Hùng', 'Dũng', 'Tuấn', 'Minh', 'Nam', 'Long', 'Hải', 'Sơn', 'Phúc', 'Khoa', 'Bảo', 'Đạt', 'Huy', 'Quân', 'Thắng', 'Trung', 'Cường', 'Việt', 'Khánh', 'Lộc'];
export const GIVEN_FEMALE = ['Lan', 'Hương', 'Hoa', 'Mai', 'Linh', 'Trang', 'Thảo', 'Ngọc', 'Hằng', 'Nhung', 'Yến', 'Phương', 'Oanh', 'Thủy', 'Hạnh', 'Vy', 'Ánh', 'Quỳnh', 'Giang', 'Dung'];

export interface Commune {
  code: string;
  name: string;
  district: string;
  streets: string[];
}

export const PROVINCES: Array<{ code: string; name: string; weight: number; communes: Commune[] }> = [
  {
    code: '01',
    name: 'Thành phố Hà Nội',
    weight: 60,
    communes: [
      { code: '00001', name: 'Phường Phúc Xá', district: '001', streets: ['Phố Nghĩa Dũng', 'Phố Phúc Xá'] },
      { code: '00004', name: 'Phường Trúc Bạch', district: '001', streets: ['Phố Trấn Vũ', 'Phố Châu Long'] },
      { code: '00006', name: 'Phường Vĩnh Phúc', district: '001', streets: ['Phố Vĩnh Phúc', 'Đường Hoàng Hoa Thám'] },
      { code: '00007', name: 'Phường Cống Vị', district: '001', streets: ['Phố Đội Cấn', 'Phố Cống Vị'] },
      { code: '00008', name: 'Phường Liễu Giai', district: '001', streets: ['Phố Liễu Giai', 'Phố Văn Cao'] },
    ],
  },
  {
    code: '79',
    name: 'Thành phố Hồ Chí Minh',
    weight: 10,
    communes: [
      { code: '26734', name: 'Phường Tân Định', district: '760', streets: ['Đường Hai Bà Trưng', 'Đường Trần Quang Khải'] },
      { code: '26737', name: 'Phường Đa Kao', district: '760', streets: ['Đường Đinh Tiên Hoàng', 'Đường Mai Thị Lựu'] },
      { code: '26740', name: 'Phường Bến Nghé', district: '760', streets: ['Đường Nguyễn Huệ', 'Đường Lê Lợi'] },
      { code: '26743', name: 'Phường Bến Thành', district: '760', streets: ['Đường Lê Thánh Tôn', 'Đường Phạm Ngũ Lão'] },
    ],
  },
  {
    code: '48',
    name: 'Thành phố Đà Nẵng',
    weight: 6,
    communes: [
      { code: '20194', name: 'Phường Thanh Bình', district: '492', streets: ['Đường Ông Ích Khiêm', 'Đường Lê Lợi'] },
      { code: '20197', name: 'Phường Thuận Phước', district: '492', streets: ['Đường Bạch Đằng', 'Đường Đống Đa'] },
    ],
  },
  {
    code: '31',
    name: 'Thành phố Hải Phòng',
    weight: 8,
    communes: [
      { code: '11311', name: 'Phường Quán Toan', district: '303', streets: ['Đường Hà Nội', 'Thôn Quán Toan'] },
      { code: '11314', name: 'Phường Hùng Vương', district: '303', streets: ['Đường Hùng Vương'] },
    ],
  },
  {
    code: '92',
    name: 'Thành phố Cần Thơ',
    weight: 4,
    communes: [
      { code: '31117', name: 'Phường Cái Khế', district: '916', streets: ['Đường Trần Phú', 'Đường 30 Tháng 4'] },
      { code: '31120', name: 'Phường An Hòa', district: '916', streets: ['Đường Cách Mạng Tháng 8', 'Đường Mậu Thân'] },
    ],
  },
  {
    code: '27',
    name: 'Tỉnh Bắc Ninh',
    weight: 12,
    communes: [
      { code: '09169', name: 'Phường Vũ Ninh', district: '256', streets: ['Đường Ngô Gia Tự', 'Khu phố Thanh Sơn'] },
      { code: '09172', name: 'Phường Đáp Cầu', district: '256', streets: ['Thôn Đáp Cầu', 'Đường Nguyễn Văn Cừ'] },
    ],
  },
];

export const DEPARTMENTS = [
  { code: 'KKB', name: 'Khoa Khám bệnh', bhyt: 'K01', kind: 'LAMSANG' },
  { code: 'KCC', name: 'Khoa Cấp cứu', bhyt: 'K02', kind: 'CAPCUU' },
  { code: 'KNOI', name: 'Khoa Nội tổng hợp', bhyt: 'K03', kind: 'LAMSANG' },
  { code: 'KTIM', name: 'Khoa Nội tim mạch', bhyt: 'K04', kind: 'LAMSANG' },
  { code: 'KNGOAI', name: 'Khoa Ngoại tổng hợp', bhyt: 'K19', kind: 'LAMSANG' },
  { code: 'KSAN', name: 'Khoa Phụ sản', bhyt: 'K26', kind: 'LAMSANG' },
  { code: 'KNHI', name: 'Khoa Nhi', bhyt: 'K16', kind: 'LAMSANG' },
  { code: 'KXN', name: 'Khoa Xét nghiệm', bhyt: 'K45', kind: 'CANLAMSANG' },
  { code: 'KCDHA', name: 'Khoa Chẩn đoán hình ảnh', bhyt: 'K47', kind: 'CANLAMSANG' },
  { code: 'KDUOC', name: 'Khoa Dược', bhyt: 'K49', kind: 'DUOC' },
] as const;

/** Clinical departments patients are admitted to, with the ICD-10 codes typical for each. */
export const CLINICAL: Array<{ dept: string; icd: string[] }> = [
  { dept: 'KNOI', icd: ['I10', 'E11.9', 'J18.9', 'K29.7', 'J44.9', 'N39.0', 'A91', 'B18.1'] },
  { dept: 'KTIM', icd: ['I10', 'I20.9', 'I25.1', 'I50.0', 'E78.5'] },
  { dept: 'KNGOAI', icd: ['K35.8', 'K80.2', 'S72.0', 'S52.5', 'S06.0', 'M54.5'] },
  { dept: 'KSAN', icd: ['O80'] },
  { dept: 'KNHI', icd: ['J06.9', 'J02.9', 'A09', 'J20.9', 'R50.9', 'J45.9'] },
];
export const OUTPATIENT_ICD = ['I10', 'E11.9', 'J06.9', 'K21.0', 'M17.9', 'M54.5', 'E78.5', 'J02.9', 'K29.7', 'Z00.0'];
export const EMERGENCY_ICD = ['S06.0', 'S52.5', 'I63.9', 'K35.8', 'A91', 'R50.9'];

/** Services other than lab tests: exams, beds, imaging, procedures (DM_DICHVU). */
export const SERVICES = [
  { code: 'KB_NOI', name: 'Khám Nội', bhyt: '02.1896', group: 13, kind: 'KHAM', unit: 'Lần', price: 50600, modality: null },
  { code: 'KB_NHI', name: 'Khám Nhi', bhyt: '09.1896', group: 13, kind: 'KHAM', unit: 'Lần', price: 50600, modality: null },
  { code: 'KB_CC', name: 'Khám Cấp cứu', bhyt: '01.1896', group: 13, kind: 'KHAM', unit: 'Lần', price: 50600, modality: null },
  { code: 'G_NOI', name: 'Giường Nội khoa loại 1 Hạng đặc biệt', bhyt: 'K03.1923', group: 15, kind: 'GIUONG', unit: 'Ngày', price: 345600, modality: null },
  { code: 'G_NGOAI', name: 'Giường Ngoại khoa loại 1 Hạng đặc biệt', bhyt: 'K19.1951', group: 15, kind: 'GIUONG', unit: 'Ngày', price: 391000, modality: null },
  { code: 'G_CC', name: 'Giường Hồi sức cấp cứu Hạng đặc biệt', bhyt: 'K02.1901', group: 15, kind: 'GIUONG', unit: 'Ngày', price: 765800, modality: null },
  { code: 'CDHA_XQ_NGUC', name: 'Chụp Xquang ngực thẳng', bhyt: '18.0119.0028', group: 2, kind: 'CDHA', unit: 'Lần', price: 65400, modality: 'DX' },
  { code: 'CDHA_SA_BUNG', name: 'Siêu âm ổ bụng (gan mật, tụy, lách, thận, bàng quang)', bhyt: '18.0001.0001', group: 2, kind: 'CDHA', unit: 'Lần', price: 43900, modality: 'US' },
  { code: 'CDHA_CT_SO', name: 'Chụp CT sọ não không tiêm thuốc cản quang', bhyt: '18.0255.0041', group: 2, kind: 'CDHA', unit: 'Lần', price: 522000, modality: 'CT' },
  { code: 'CDHA_MR_CSTL', name: 'Chụp cộng hưởng từ cột sống thắt lưng', bhyt: '18.0355.0066', group: 2, kind: 'CDHA', unit: 'Lần', price: 1311000, modality: 'MR' },
  { code: 'TT_TRUYEN', name: 'Truyền tĩnh mạch', bhyt: '03.3909.0216', group: 18, kind: 'TT', unit: 'Lần', price: 21400, modality: null },
  { code: 'PT_RUOTTHUA', name: 'Phẫu thuật nội soi cắt ruột thừa', bhyt: '10.0555.0461', group: 8, kind: 'PT', unit: 'Lần', price: 2979000, modality: null },
] as const;

/** Prices of lab services (DM_DICHVU rows built from mappings/codes/lab-tests.yaml). */
export const LAB_PRICES: Record<string, number> = {
  XN_GLU: 21500, XN_URE: 21500, XN_CRE: 21500, XN_ALT: 21500, XN_AST: 21500, XN_CHOL: 26900, XN_TG: 26900, XN_HDL: 26900,
  XN_LDL: 26900, XN_UA: 21500, XN_HBA1C: 101000, XN_NA: 29000, XN_K: 29000, XN_CRP: 53800, XN_CTM: 46200,
};

/** Lab panels doctors order together (HIS service codes). */
export const LAB_PANELS: string[][] = [
  ['XN_CTM', 'XN_GLU', 'XN_URE', 'XN_CRE'],
  ['XN_CTM', 'XN_CRP'],
  ['XN_GLU', 'XN_HBA1C', 'XN_CHOL', 'XN_TG', 'XN_HDL', 'XN_LDL'],
  ['XN_ALT', 'XN_AST', 'XN_GLU'],
  ['XN_NA', 'XN_K', 'XN_URE', 'XN_CRE'],
  ['XN_CTM'],
];

export const IMAGING_STATIONS: Record<string, { ae: string; room: string }> = {
  DX: { ae: 'DR_ROOM1', room: 'Phòng X-quang 1' },
  US: { ae: 'US_ROOM2', room: 'Phòng Siêu âm 2' },
  CT: { ae: 'CT_SIEMENS', room: 'Phòng CT 64 dãy' },
  MR: { ae: 'MR_15T', room: 'Phòng MRI 1.5T' },
};

export const IMAGING_REPORTS: Record<string, Array<{ findings: string; conclusion: string }>> = {
  DX: [
    { findings: 'Hai phế trường sáng đều. Bóng tim không to. Góc sườn hoành hai bên nhọn.', conclusion: 'Hình ảnh Xquang ngực bình thường.' },
    { findings: 'Đám mờ thùy dưới phổi phải, bờ không rõ. Bóng tim không to.', conclusion: 'Theo dõi viêm phổi thùy dưới phải.' },
  ],
  US: [
    { findings: 'Gan không to, nhu mô đều. Túi mật không sỏi. Hai thận không ứ nước.', conclusion: 'Siêu âm ổ bụng chưa phát hiện bất thường.' },
    { findings: 'Túi mật có vài hình tăng âm kèm bóng cản, kích thước lớn nhất 8mm.', conclusion: 'Sỏi túi mật.' },
  ],
  CT: [
    { findings: 'Không thấy ổ tăng hay giảm tỷ trọng bất thường trong nhu mô não. Hệ thống não thất không giãn.', conclusion: 'Chưa phát hiện tổn thương nội sọ trên CT.' },
    { findings: 'Ổ giảm tỷ trọng vùng nhân bèo trái, kích thước 15x12mm.', conclusion: 'Theo dõi nhồi máu não vùng nhân bèo trái.' },
  ],
  MR: [
    { findings: 'Thoát vị đĩa đệm L4-L5 thể trung tâm, chèn ép nhẹ bao màng cứng.', conclusion: 'Thoát vị đĩa đệm L4-L5.' },
  ],
};

export const DRUGS = [
  { code: 'T_PARA500', name: 'Paracetamol 500mg', active: '40.48', strength: '500mg', unit: 'Viên', route: '1.01', form: 'Viên nén', reg: 'VD-21307-14', price: 500, dose: '1 viên/lần * 3 lần/ngày' },
  { code: 'T_AMOX500', name: 'Amoxicillin 500mg', active: '40.151', strength: '500mg', unit: 'Viên', route: '1.01', form: 'Viên nang', reg: 'VD-25419-16', price: 1200, dose: '1 viên/lần * 3 lần/ngày' },
  { code: 'T_OME20', name: 'Omeprazol 20mg', active: '40.677', strength: '20mg', unit: 'Viên', route: '1.01', form: 'Viên nang', reg: 'VD-28118-17', price: 900, dose: '1 viên/lần * 1 lần/ngày' },
  { code: 'T_AMLO5', name: 'Amlodipin 5mg', active: '40.463', strength: '5mg', unit: 'Viên', route: '1.01', form: 'Viên nén', reg: 'VD-29632-18', price: 600, dose: '1 viên/lần * 1 lần/ngày' },
  { code: 'T_MET850', name: 'Metformin 850mg', active: '40.776', strength: '850mg', unit: 'Viên', route: '1.01', form: 'Viên nén bao phim', reg: 'VD-24805-16', price: 700, dose: '1 viên/lần * 2 lần/ngày' },
  { code: 'T_CEF1G', name: 'Ceftriaxon 1g', active: '40.197', strength: '1g', unit: 'Lọ', route: '2.10', form: 'Bột pha tiêm', reg: 'VD-26715-17', price: 25000, dose: '1 lọ/lần * 2 lần/ngày' },
  { code: 'T_NACL500', name: 'Natri clorid 0,9% 500ml', active: '40.993', strength: '0,9%', unit: 'Chai', route: '2.15', form: 'Dung dịch tiêm truyền', reg: 'VD-22054-14', price: 9500, dose: '1 chai/ngày' },
  { code: 'T_MPRED40', name: 'Methylprednisolon 40mg', active: '40.876', strength: '40mg', unit: 'Lọ', route: '2.10', form: 'Bột pha tiêm', reg: 'VN-19523-15', price: 28000, dose: '1 lọ/lần * 1 lần/ngày' },
] as const;

export const SUPPLIES = [
  { code: 'VT_BOMTIEM5', name: 'Bơm tiêm nhựa 5ml', bhyt: 'N03.02.070.0415.191.0001', unit: 'Cái', price: 1200 },
  { code: 'VT_DAYTRUYEN', name: 'Dây truyền dịch', bhyt: 'N03.05.010.0415.192.0002', unit: 'Bộ', price: 4500 },
  { code: 'VT_KIMLUON', name: 'Kim luồn tĩnh mạch 22G', bhyt: 'N03.01.080.0415.191.0003', unit: 'Cái', price: 9800 },
] as const;

export const TENDER = '57/QĐ-BV;G1;N1;2025';

// Hand-written claim sources in the canonical model, for builder, validator and rule tests. The
// amounts are chosen so every formula can be checked by hand (see golden expected XML files).
import type { BillingLine, Facility, Observation, Patient, Result, Visit } from '../../model';
import type { ClaimSource } from '../../claims/builder/build';

export const facility: Facility = { code: '01999', name: 'Bệnh viện Trung ương Demo Hisbridge', level: 'central', provinceCode: '01' };

const doctor = { id: 'NV001', name: 'Trần Văn Bình', practisingCertificate: '000123/HNO-CCHN' };
const technician = { id: 'NV002', name: 'Lê Thị Cúc', practisingCertificate: '000456/HNO-CCHN' };

export function patient(): Patient {
  return {
    id: 'BN0001',
    identifiers: [
      { system: 'MA_BN', value: 'BN0001' },
      { system: 'CCCD', value: '001085012345' },
    ],
    name: { full: 'Nguyễn Văn An', family: 'Nguyễn', given: 'Văn An' },
    birthDate: '1985-03-12',
    sex: 'male',
    address: { line: 'Số 5 ngõ 12 phố Huế', communeCode: '00001', communeName: 'Phường Phúc Xá', districtCode: '001', districtName: 'Quận Ba Đình', provinceCode: '01', provinceName: 'Hà Nội' },
    phone: '0912345678',
    nationalityCode: '000',
    ethnicityCode: '01',
    occupationCode: '00000',
  };
}

function line(partial: Partial<BillingLine> & Pick<BillingLine, 'lineNo' | 'kind' | 'maNhom' | 'bhytCode' | 'name' | 'unit' | 'quantity' | 'unitPrice'>): BillingLine {
  return {
    maLk: 'LK-OUT-1',
    hisCode: partial.bhytCode,
    bhytUnitPrice: partial.unitPrice,
    scope: '1',
    coverageRatio: 100,
    serviceRatio: 100,
    benefitLevel: 80,
    amounts: { hospital: '', insuranceScope: '', fund: '', coPayment: '', selfPay: '', otherSources: '0' },
    paymentMethodCode: '1',
    bhytDepartmentCode: 'K01',
    departmentCode: 'KKB',
    orderingStaff: doctor,
    orderedAt: '2025-03-10T08:15:00+07:00',
    ...partial,
  };
}

/** Outpatient examination, on-route (card level 80 %), with an exam, a lab test with results, two drugs. */
export function outpatientSource(): ClaimSource {
  const maLk = 'LK-OUT-1';
  const visit: Visit = {
    maLk,
    patientId: 'BN0001',
    kind: 'outpatient',
    careTypeCode: '01',
    admittedAt: '2025-03-10T08:00:00+07:00',
    dischargedAt: '2025-03-10T10:30:00+07:00',
    departmentCode: 'KKB',
    bhytDepartmentCodes: ['K01'],
    diagnoses: [
      { icd10: 'I10', text: 'Tăng huyết áp vô căn', primary: true },
      { icd10: 'E78.5', text: 'Tăng lipid máu', primary: false },
    ],
    reason: 'Đau đầu, chóng mặt',
    admissionDiagnosisText: 'Theo dõi tăng huyết áp',
    dischargeDiagnosisText: 'Tăng huyết áp vô căn; Tăng lipid máu',
    outcomeCode: '2',
    dischargeTypeCode: '1',
    weightKg: '68.5',
    medicalRecordNumber: 'HS-2025-0001',
    attending: doctor,
    coverage: {
      cardNumber: 'DN4010123456789',
      validFrom: '2025-01-01',
      validTo: '2025-12-31',
      registeredFacility: '01999',
      route: 'on-route',
      cardBenefitLevel: 80,
      benefitLevel: 80,
      categoryCode: '1.1',
      areaCode: 'K1',
    },
    paidAt: '2025-03-10T10:45:00+07:00',
  };
  const lines: BillingLine[] = [
    line({ maLk, lineNo: 1, kind: 'service', maNhom: '13', bhytCode: '01.1900.0001', name: 'Khám Nội', unit: 'Lần', quantity: '1', unitPrice: '50600', performers: [doctor], orderedAt: '2025-03-10T08:05:00+07:00', performedAt: '2025-03-10T08:10:00+07:00' }),
    line({
      maLk, lineNo: 2, kind: 'service', maNhom: '1', bhytCode: '23.0058.1494', name: 'Định lượng Cholesterol toàn phần', unit: 'Lần', quantity: '1', unitPrice: '26900',
      performers: [technician], orderedAt: '2025-03-10T08:20:00+07:00', performedAt: '2025-03-10T08:40:00+07:00', resultAt: '2025-03-10T09:30:00+07:00', machineCode: 'SH.1.01999.1', orderId: 'CD0001', icd10: 'E78.5',
    }),
    line({
      maLk, lineNo: 3, kind: 'drug', maNhom: '4', bhytCode: '40.30', name: 'Amlodipin 5mg', unit: 'Viên', quantity: '30', unitPrice: '315.5', orderedAt: '2025-03-10T10:00:00+07:00',
      drug: { strength: '5mg', routeCode: '1.01', dosageForm: 'Viên nén', dosage: '1 viên/lần * 1 lần/ngày * 30 ngày', registrationNumber: 'VD-12345-10', tender: '57/QĐ-BV;G1;N4;2025', fundingSourceCode: '1' },
    }),
    line({
      maLk, lineNo: 4, kind: 'drug', maNhom: '4', bhytCode: '40.677', name: 'Atorvastatin 10mg', unit: 'Viên', quantity: '30', unitPrice: '1234.567', orderedAt: '2025-03-10T10:00:00+07:00',
      drug: { strength: '10mg', routeCode: '1.01', dosageForm: 'Viên nén bao phim', dosage: '1 viên/lần * 1 lần/ngày * 30 ngày', registrationNumber: 'VD-23456-15', tender: '57/QĐ-BV;G1;N2;2025', fundingSourceCode: '1' },
    }),
  ];
  const results: Array<Result & { orderId: string }> = [
    { orderId: 'CD0001', code: 'CHOL', name: 'Cholesterol toàn phần', value: '6.2', valueType: 'numeric', unit: 'mmol/L', abnormalFlag: 'H', status: 'final', observedAt: '2025-03-10T09:20:00+07:00', resultedAt: '2025-03-10T09:30:00+07:00', verifiedBy: technician },
  ];
  return { facility, patient: patient(), visit, lines, results };
}

/** Inpatient (03) on-route, 3 days, with drugs, services, a supply and bed days; vital signs for XML5. */
export function inpatientSource(): ClaimSource {
  const maLk = 'LK-IN-1';
  const src = outpatientSource();
  const visit: Visit = {
    ...src.visit,
    maLk,
    kind: 'inpatient',
    careTypeCode: '03',
    admittedAt: '2025-03-11T07:30:00+07:00',
    inpatientAdmittedAt: '2025-03-11T09:00:00+07:00',
    dischargedAt: '2025-03-13T15:00:00+07:00',
    departmentCode: 'NOI',
    bhytDepartmentCodes: ['K01', 'K02'],
    diagnoses: [
      { icd10: 'J18.9', text: 'Viêm phổi, không đặc hiệu', primary: true },
      { icd10: 'I10', text: 'Tăng huyết áp vô căn', primary: false },
    ],
    reason: 'Sốt, ho, khó thở',
    admissionDiagnosisText: 'Viêm phổi',
    dischargeDiagnosisText: 'Viêm phổi, không đặc hiệu; Tăng huyết áp vô căn',
    outcomeCode: '1',
    medicalRecordNumber: 'BA-2025-0042',
    paidAt: '2025-03-13T16:00:00+07:00',
    followUpDate: '2025-03-20',
  };
  const at = (d: string, t: string) => `2025-03-${d}T${t}:00+07:00`;
  const base = { maLk, bhytDepartmentCode: 'K02', departmentCode: 'NOI' } as const;
  const lines: BillingLine[] = [
    line({ ...base, lineNo: 1, kind: 'service', maNhom: '13', bhytCode: '01.1900.0001', name: 'Khám Nội', unit: 'Lần', quantity: '1', unitPrice: '50600', bhytDepartmentCode: 'K01', performers: [{ id: 'NV001', practisingCertificate: '000123/HNO-CCHN' }], orderedAt: at('11', '07:35'), performedAt: at('11', '07:40') }),
    line({ ...base, lineNo: 2, kind: 'service', maNhom: '2', bhytCode: '18.0119.0028', name: 'Chụp X-quang ngực thẳng', unit: 'Lần', quantity: '1', unitPrice: '65400', performers: [technician], orderedAt: at('11', '09:10'), performedAt: at('11', '09:40'), resultAt: at('11', '10:15'), machineCode: 'XQ.1.01999.1', orderId: 'RIS0042' }),
    line({ ...base, lineNo: 3, kind: 'bed', maNhom: '15', bhytCode: 'K02.1931', name: 'Giường Nội khoa loại 1 Hạng I', unit: 'Ngày', quantity: '2', unitPrice: '225800', bedCode: 'H012', orderedAt: at('11', '09:00'), performedAt: at('11', '09:00') }),
    line({ ...base, lineNo: 4, kind: 'supply', maNhom: '10', bhytCode: 'N03.05.010', name: 'Bơm tiêm nhựa 5ml', unit: 'Cái', quantity: '6', unitPrice: '1150', orderedAt: at('11', '09:30'), drug: { tender: '20.00;G1;N1;2025' } }),
    line({
      ...base, lineNo: 5, kind: 'drug', maNhom: '4', bhytCode: '40.168', name: 'Ceftriaxon 1g', unit: 'Lọ', quantity: '6', unitPrice: '18500', orderedAt: at('11', '09:15'), performedAt: at('11', '09:30'),
      drug: { strength: '1g', routeCode: '2.15', dosageForm: 'Bột pha tiêm', dosage: '1 lọ/lần * 2 lần/ngày', registrationNumber: 'VD-34567-20', tender: '57/QĐ-BV;G1;N4;2025', fundingSourceCode: '1' },
    }),
    line({
      ...base, lineNo: 6, kind: 'drug', maNhom: '4', bhytCode: '40.536', name: 'Natri clorid 0,9% 500ml', unit: 'Chai', quantity: '4', unitPrice: '9870', orderedAt: at('11', '09:15'), performedAt: at('11', '09:30'),
      drug: { strength: '0,9%', routeCode: '2.15', dosageForm: 'Dung dịch tiêm truyền', dosage: '1 chai/lần * 2 lần/ngày', registrationNumber: 'VD-45678-21', tender: '57/QĐ-BV;G1;N4;2025', fundingSourceCode: '1' },
    }),
    // A drug outside the fund list: the patient pays it all (PHAM_VI 2, TYLE_TT_BH 0).
    line({
      ...base, lineNo: 7, kind: 'drug', maNhom: '5', bhytCode: '00.0000', name: 'Vitamin tổng hợp', unit: 'Viên', quantity: '10', unitPrice: '2500', scope: '2', coverageRatio: 0, orderedAt: at('12', '08:00'), performedAt: at('12', '08:30'),
      drug: { strength: '500mg', routeCode: '1.01', dosageForm: 'Viên nang', dosage: '1 viên/lần * 1 lần/ngày', registrationNumber: 'VD-56789-22', tender: '57/QĐ-BV;G1;N5;2025', fundingSourceCode: '1' },
    }),
  ];
  const observations: Observation[] = [
    { patientId: 'BN0001', maLk, loinc: '8867-4', value: 96, unit: '/min', effectiveAt: at('11', '09:05'), status: 'final' },
    { patientId: 'BN0001', maLk, loinc: '8310-5', value: 38.6, unit: 'Cel', effectiveAt: at('11', '09:05'), status: 'final' },
    { patientId: 'BN0001', maLk, loinc: '85354-9', components: [{ loinc: '8480-6', value: 135, unit: 'mm[Hg]' }, { loinc: '8462-4', value: 85, unit: 'mm[Hg]' }], effectiveAt: at('11', '09:05'), status: 'final' },
    { patientId: 'BN0001', maLk, loinc: '8867-4', value: 82, unit: '/min', effectiveAt: at('12', '08:00'), status: 'final' },
    { patientId: 'BN0001', maLk, loinc: '8310-5', value: 37.4, unit: 'Cel', effectiveAt: at('12', '08:00'), status: 'final' },
  ];
  return {
    facility,
    patient: src.patient,
    visit,
    lines,
    observations,
    reports: [{ accessionNumber: 'RIS0042', orderId: 'RIS0042', findings: 'Đám mờ thùy dưới phổi phải', conclusion: 'Hình ảnh viêm phổi thùy dưới phải', status: 'final', reportedAt: at('11', '10:15'), radiologist: { id: 'NV003', practisingCertificate: '000789/HNO-CCHN' } }],
  };
}

/** Emergency outpatient (MA_DOITUONG_KCB 2): card registered elsewhere, still on-route benefit. */
export function emergencySource(): ClaimSource {
  const src = outpatientSource();
  const maLk = 'LK-ER-1';
  src.visit = {
    ...src.visit,
    maLk,
    kind: 'emergency',
    careTypeCode: '01',
    admittedAt: '2025-03-12T22:10:00+07:00',
    dischargedAt: '2025-03-12T23:55:00+07:00',
    bhytDepartmentCodes: ['K03'],
    diagnoses: [{ icd10: 'S52.5', text: 'Gãy đầu dưới xương quay', primary: true }],
    reason: 'Ngã, đau cổ tay phải',
    admissionDiagnosisText: 'Chấn thương cổ tay phải',
    dischargeDiagnosisText: 'Gãy đầu dưới xương quay phải',
    outcomeCode: '2',
    coverage: { ...src.visit.coverage!, cardNumber: 'HT3790987654321', registeredFacility: '79001', cardBenefitLevel: 95, benefitLevel: 95, categoryCode: '2', route: 'emergency' },
    paidAt: '2025-03-13T00:10:00+07:00',
  };
  src.lines = [
    line({ maLk, lineNo: 1, kind: 'service', maNhom: '13', bhytCode: '01.1899.0001', name: 'Khám Cấp cứu', unit: 'Lần', quantity: '1', unitPrice: '50600', benefitLevel: 95, bhytDepartmentCode: 'K03', performers: [doctor], orderedAt: '2025-03-12T22:12:00+07:00', performedAt: '2025-03-12T22:15:00+07:00' }),
    line({ maLk, lineNo: 2, kind: 'service', maNhom: '18', bhytCode: '10.0871.0590', name: 'Nắn, bó bột gãy đầu dưới xương quay', unit: 'Lần', quantity: '1', unitPrice: '328000', benefitLevel: 95, bhytDepartmentCode: 'K03', performers: [doctor], orderedAt: '2025-03-12T22:40:00+07:00', performedAt: '2025-03-12T23:00:00+07:00' }),
    line({ maLk, lineNo: 3, kind: 'supply', maNhom: '10', bhytCode: 'N05.02.030', name: 'Bột bó thạch cao 15cm', unit: 'Cuộn', quantity: '3', unitPrice: '41250', benefitLevel: 95, bhytDepartmentCode: 'K03', orderedAt: '2025-03-12T22:40:00+07:00', drug: { tender: '20.00;G1;N1;2025' } }),
  ];
  src.results = [];
  return src;
}

/** Off-route inpatient (MA_DOITUONG_KCB 3.x) at a central hospital: MUC_HUONG = 80 × 40 % = 32. */
export function offRouteSource(): ClaimSource {
  const src = inpatientSource();
  const maLk = 'LK-OFF-1';
  src.visit = {
    ...src.visit,
    maLk,
    coverage: { ...src.visit.coverage!, cardNumber: 'GD4361122334455', registeredFacility: '36001', route: 'off-route', benefitLevel: 32, categoryCode: '3.1' },
  };
  src.lines = src.lines.map((l) => ({ ...l, maLk, benefitLevel: l.scope === '1' ? 32 : 0 }));
  src.observations = src.observations?.map((o) => ({ ...o, maLk }));
  return src;
}

// Shared pieces of the EMR tests: hand-written canonical inputs for every document type (with the
// awkward cases: Vietnamese text, XML specials, non-numeric values), a signing identity in a temp
// folder, schema validation through xmllint, and a small demo HIS for tests that read real HIS data.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { createDemoHis } from '../../his/demo';
import type { Facility, ImagingOrder, LabOrder, Observation, Patient, Result, Visit, BillingLine } from '../../model';
import { emrOids } from '../../emr/oids';
import { loadSigningIdentity, loadTrustStore } from '../../emr/sign/keys';
import type { DocumentContext } from '../../emr/types';

const run = promisify(execFile);

export const FIXTURES = path.join(__dirname, '..', 'fixtures', 'emr');
export const CDA_XSD = path.join(FIXTURES, 'cda-r2-schema', 'infrastructure', 'cda', 'CDA.xsd');
/** The official schema plus one optional ds:Signature at the end of ClinicalDocument (see the file). */
export const SIGNED_CDA_XSD = path.join(FIXTURES, 'cda-signed.xsd');

/** Fixed "today" of the demo HIS the tests build: 2026-11-22 12:00 hospital time. */
export const NOW = new Date('2026-11-22T05:00:00Z');

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** Validates with xmllint; returns undefined when valid, else xmllint's complaint. */
export async function xmllint(xml: string, schema: string, dir: string): Promise<string | undefined> {
  const file = path.join(dir, `doc-${Math.random().toString(36).slice(2)}.xml`);
  fs.writeFileSync(file, xml);
  try {
    await run('xmllint', ['--noout', '--schema', schema, file]);
    return undefined;
  } catch (error) {
    return String((error as { stderr?: string }).stderr ?? error);
  } finally {
    fs.rmSync(file, { force: true });
  }
}

/** A document without its enveloped signature: exactly what the enveloped-signature transform yields. */
export function withoutSignature(signed: string): string {
  return signed.replace(/<ds:Signature xmlns:ds="http:\/\/www\.w3\.org\/2000\/09\/xmldsig#">[\s\S]*<\/ds:Signature>/, '');
}

export function testCerts() {
  const dir = tempDir('hisbridge-emr-certs-');
  const identity = loadSigningIdentity(dir);
  return { dir, identity, trust: () => loadTrustStore(dir), cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

export const facility: Facility = { code: '01999', name: 'Bệnh viện Trung ương Demo Hisbridge', level: 'central', provinceCode: '01' };
export const oids = emrOids(facility.code);

export const patient: Patient = {
  id: 'BN-TEST-001',
  identifiers: [
    { system: 'MA_BN', value: 'BN-TEST-001' },
    { system: 'CCCD', value: '001085012345' },
    { system: 'BHYT', value: 'DN4010123456789' },
  ],
  name: { full: 'Nguyễn Thị Thu Hương', family: 'Nguyễn', given: 'Thị Thu Hương' },
  birthDate: '1985-03-07',
  sex: 'female',
  address: { line: 'Số 12 ngõ 34 phố Đội Cấn', communeName: 'Phường Cống Vị', provinceName: 'Thành phố Hà Nội', text: 'Số 12 ngõ 34 phố Đội Cấn, Phường Cống Vị, Thành phố Hà Nội' },
  phone: '0912345678',
  ethnicityCode: '01',
};

export const doctor = { id: 'NV0050', name: 'Trần Văn Đức', practisingCertificate: '011850/HNO-CCHN', title: 'BS.CKI' };
export const radiologist = { id: 'NV0058', name: 'Lê Đức Long', practisingCertificate: '012146/HNO-CCHN', title: 'ThS.BS' };

export const visit: Visit = {
  maLk: 'LK-TEST-0001',
  patientId: patient.id,
  kind: 'inpatient',
  careTypeCode: '03',
  admittedAt: '2026-11-15T08:10:00+07:00',
  dischargedAt: '2026-11-20T09:30:00+07:00',
  departmentCode: 'KNOI',
  diagnoses: [
    { icd10: 'J18.9', text: 'Viêm phổi, không đặc hiệu', primary: true, stage: 'discharge' },
    { icd10: 'I10', text: 'Tăng huyết áp vô căn (nguyên phát)', primary: false, stage: 'discharge' },
    { icd10: 'R50.9', text: 'Sốt, không đặc hiệu', primary: true, stage: 'admission' },
  ],
  reason: 'Sốt cao 3 ngày, ho đờm & khó thở <nhẹ>',
  outcomeCode: '2',
  dischargeTypeCode: '1',
  medicalRecordNumber: '2026/0001234',
  attending: doctor,
  followUpDate: '2026-11-27',
};

export const labOrder: LabOrder = {
  kind: 'lab',
  id: 'XN-TEST-01',
  maLk: visit.maLk,
  patientId: patient.id,
  status: 'completed',
  priority: 'routine',
  orderedAt: '2026-11-16T07:00:00+07:00',
  updatedAt: '2026-11-16T09:00:00+07:00',
  departmentCode: 'KNOI',
  orderingStaff: doctor,
  clinicalInfo: 'Viêm phổi',
  specimen: { id: '2600001234', type: 'serum', collectedAt: '2026-11-16T07:15:00+07:00' },
  tests: [],
};

export function labResults(overrides: Partial<Record<string, string>> = {}): Result[] {
  const base = (code: string, loinc: string, name: string, value: string, unit: string, low: string, high: string, flag: Result['abnormalFlag']): Result => ({
    code,
    hisServiceCode: `XN_${code}`,
    loinc,
    name,
    value: overrides[code] ?? value,
    valueType: 'numeric',
    unit,
    referenceRange: { low, high, text: `${low} - ${high}` },
    abnormalFlag: flag,
    status: 'final',
    observedAt: '2026-11-16T08:30:00+07:00',
    resultedAt: '2026-11-16T09:00:00+07:00',
    verifiedBy: doctor,
  });
  return [
    base('GLU', '2345-7', 'Định lượng Glucose [Máu]', '7.80', 'mmol/L', '3.9', '6.4', 'H'),
    base('CRP', '1988-5', 'Định lượng CRP', '48.5', 'mg/L', '0', '5', 'H'),
    base('K', '2823-3', 'Điện giải đồ Kali', '3.9', 'mmol/L', '3.5', '5.0', 'N'),
    {
      code: 'HBSAG',
      name: 'HBsAg test nhanh',
      value: 'Âm tính',
      valueType: 'text',
      referenceRange: { text: 'Âm tính' },
      abnormalFlag: 'N',
      status: 'final',
      observedAt: '2026-11-16T08:40:00+07:00',
      comment: 'Mẫu hơi tan huyết; kết quả "tham khảo" & cần làm lại nếu nghi ngờ',
    },
  ];
}

export const imagingOrder: ImagingOrder = {
  kind: 'imaging',
  id: 'CDHA-TEST-01',
  maLk: visit.maLk,
  patientId: patient.id,
  status: 'completed',
  priority: 'urgent',
  orderedAt: '2026-11-15T09:00:00+07:00',
  updatedAt: '2026-11-15T10:30:00+07:00',
  departmentCode: 'KNOI',
  accessionNumber: 'ACC-T-0001',
  modality: 'DX',
  scheduledAt: '2026-11-15T09:30:00+07:00',
  requestedProcedure: { code: 'CDHA_XQ_NGUC', description: 'Chụp Xquang ngực thẳng' },
  studyInstanceUid: '1.2.826.0.1.3680043.10.1437.9.1',
  clinicalInfo: 'Theo dõi viêm phổi',
};

export const imagingReport = {
  accessionNumber: imagingOrder.accessionNumber,
  findings: 'Đám mờ thùy dưới phổi phải, bờ không rõ.\nBóng tim không to. Góc sườn hoành hai bên nhọn.',
  conclusion: 'Theo dõi viêm phổi thùy dưới phải.',
  status: 'final' as const,
  reportedAt: '2026-11-15T10:30:00+07:00',
  radiologist,
  studyInstanceUid: imagingOrder.studyInstanceUid,
};

export function vitals(): Observation[] {
  const at = ['2026-11-15T08:30:00+07:00', '2026-11-16T08:30:00+07:00', '2026-11-17T08:30:00+07:00'];
  const rows: Array<[string, number, string, number]> = [
    ['8867-4', 118, '/min', 0],
    ['9279-1', 26, '/min', 0],
    ['59408-5', 91, '%', 0],
    ['8310-5', 39.4, 'Cel', 0],
    ['8480-6', 98, 'mm[Hg]', 0],
    ['8462-4', 60, 'mm[Hg]', 0],
    ['8867-4', 96, '/min', 1],
    ['9279-1', 20, '/min', 1],
    ['59408-5', 95, '%', 1],
    ['8310-5', 38.1, 'Cel', 1],
    ['8480-6', 118, 'mm[Hg]', 1],
    ['8462-4', 72, 'mm[Hg]', 1],
    ['8867-4', 78, '/min', 2],
    ['8310-5', 36.8, 'Cel', 2],
    ['8480-6', 125, 'mm[Hg]', 2],
  ];
  return rows.map(([loinc, value, unit, i]) => ({ patientId: patient.id, maLk: visit.maLk, loinc, value, unit, effectiveAt: at[i], status: 'final' as const }));
}

/** ACVPU and oxygen for the first two sets; the third has neither (its NEWS2 is incomplete). */
export const assessments = [
  { at: '2026-11-15T08:30:00+07:00', consciousness: 'A' as const, onOxygen: true },
  { at: '2026-11-16T08:30:00+07:00', consciousness: 'A' as const, onOxygen: false },
];

export const medications: BillingLine[] = [
  {
    maLk: visit.maLk,
    lineNo: 1,
    kind: 'drug',
    maNhom: '4',
    bhytCode: '40.197',
    hisCode: 'T_CEF1G',
    name: 'Ceftriaxon 1g',
    unit: 'Lọ',
    quantity: '10',
    unitPrice: '25000',
    bhytUnitPrice: '25000',
    scope: '1',
    coverageRatio: 100,
    serviceRatio: 100,
    benefitLevel: 80,
    amounts: { hospital: '250000', insuranceScope: '250000', fund: '200000', coPayment: '50000', selfPay: '0', otherSources: '0' },
    paymentMethodCode: '1',
    bhytDepartmentCode: 'K03',
    departmentCode: 'KNOI',
    orderedAt: '2026-11-15T09:00:00+07:00',
    drug: { strength: '1g', dosage: '1 lọ/lần * 2 lần/ngày' },
  },
];

/**
 * The header data of the fixtures. Documents are created "now" (real time): a signature is only
 * valid when the certificate was valid at the document's signing time, and the test certificates
 * are made when the tests run.
 */
export function context(overrides: Partial<DocumentContext> = {}): DocumentContext {
  return { facility, patient, visit, author: doctor, department: { code: 'KNOI', name: 'Khoa Nội tổng hợp', bhytCode: 'K03', kind: 'clinical' }, ...overrides };
}

/** A demo HIS (300 visits, fixed "today") in a temp folder. */
export async function smallDemoHis(): Promise<{ file: string; dir: string; cleanup(): void }> {
  const dir = tempDir('hisbridge-emr-his-');
  const file = path.join(dir, 'his.sqlite');
  await createDemoHis({ file, visits: 300, seed: 1, today: NOW });
  return { file, dir, cleanup: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

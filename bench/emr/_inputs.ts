// Canonical inputs for the EMR benchmarks: lab orders of 8 results (a chemistry + blood count
// panel) for a pool of patients, deterministic from a seed, Vietnamese names and texts.
import type { DocumentContext, LabReportInput } from '../../emr/types';
import type { Facility, LabOrder, Patient, Result } from '../../model';
import { seededRandom } from '../../engine/util/seeded-random';

export const facility: Facility = { code: '01999', name: 'Bệnh viện Trung ương Demo Hisbridge', level: 'central', provinceCode: '01' };

const FAMILY = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Phan', 'Vũ', 'Đặng', 'Bùi', 'Đỗ'];
const MIDDLE = ['Văn', 'Thị', 'Đức', 'Ngọc', 'Minh', 'Thu', 'Quang', 'Thanh'];
const GIVEN = ['Hùng', 'Lan', 'Dũng', 'Hương', 'Tuấn', 'Mai', 'Long', 'Trang', 'Khoa', 'Yến'];
const TESTS: Array<[code: string, loinc: string, name: string, unit: string, low: number, high: number, digits: number]> = [
  ['GLU', '2345-7', 'Định lượng Glucose [Máu]', 'mmol/L', 3.9, 6.4, 2],
  ['UREA', '3091-6', 'Định lượng Urê máu [Máu]', 'mmol/L', 2.5, 7.5, 2],
  ['CREA', '2160-0', 'Định lượng Creatinin [Máu]', 'umol/L', 62, 120, 0],
  ['ALT', '1742-6', 'Đo hoạt độ ALT (GPT) [Máu]', 'U/L', 0, 40, 1],
  ['AST', '1920-8', 'Đo hoạt độ AST (GOT) [Máu]', 'U/L', 0, 37, 1],
  ['WBC', '6690-2', 'Số lượng bạch cầu (WBC)', '10*9/L', 4, 10, 1],
  ['HGB', '718-7', 'Huyết sắc tố (HGB)', 'g/L', 120, 170, 0],
  ['PLT', '777-3', 'Số lượng tiểu cầu (PLT)', '10*9/L', 150, 400, 0],
];

const pad = (n: number, w: number) => String(n).padStart(w, '0');

export function patientOf(i: number): Patient {
  const r = seededRandom(i + 1);
  const pick = <T>(list: T[]) => list[Math.floor(r() * list.length)];
  const family = pick(FAMILY);
  const given = `${pick(MIDDLE)} ${pick(GIVEN)}`;
  const id = `BN${pad(i, 8)}`;
  return {
    id,
    identifiers: [
      { system: 'MA_BN', value: id },
      { system: 'CCCD', value: `0${pad(10_000_000 + i, 11)}` },
      { system: 'BHYT', value: `DN401${pad(i, 10)}` },
    ],
    name: { full: `${family} ${given}`, family, given },
    birthDate: `${1940 + Math.floor(r() * 80)}-${pad(1 + Math.floor(r() * 12), 2)}-${pad(1 + Math.floor(r() * 28), 2)}`,
    sex: r() < 0.5 ? 'male' : 'female',
  };
}

/** The i-th lab report: patient i % patients, 8 results, a verifying doctor. */
export function labReport(i: number, patients: number): { ctx: DocumentContext; input: LabReportInput; sourceKey: string } {
  const r = seededRandom(1_000_000 + i);
  const patient = patientOf(i % patients);
  const day = 1 + (i % 28);
  const at = `2026-10-${pad(day, 2)}T${pad(7 + (i % 10), 2)}:${pad(i % 60, 2)}:00+07:00`;
  const order: LabOrder = {
    kind: 'lab',
    id: `XN${pad(i, 9)}`,
    maLk: `LK${pad(i, 9)}`,
    patientId: patient.id,
    status: 'completed',
    priority: 'routine',
    orderedAt: at,
    updatedAt: at,
    departmentCode: 'KNOI',
    clinicalInfo: 'Theo dõi đái tháo đường type 2',
    specimen: { id: `26${pad(i, 8)}`, type: 'serum', collectedAt: at },
    tests: [],
  };
  const doctor = { id: `NV${pad(i % 50, 4)}`, name: 'Nguyễn Đình Thắng', practisingCertificate: `0${pad(11_000 + (i % 50), 5)}/HNO-CCHN`, title: 'BS.CKI' };
  const results: Result[] = TESTS.map(([code, loinc, name, unit, low, high, digits]) => {
    const value = low + (high - low) * (r() * 1.4 - 0.2);
    const flag = value < low ? 'L' : value > high ? 'H' : 'N';
    return {
      code,
      hisServiceCode: `XN_${code}`,
      loinc,
      name,
      value: value.toFixed(digits),
      valueType: 'numeric',
      unit,
      referenceRange: { low: String(low), high: String(high), text: `${low} - ${high}` },
      abnormalFlag: flag,
      status: 'final',
      observedAt: at,
      resultedAt: at,
      verifiedBy: doctor,
    };
  });
  return { ctx: { facility, patient, author: doctor }, input: { order, results }, sourceKey: `lab-report:${order.id}` };
}

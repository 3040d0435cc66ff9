// PID / PV1 / DG1 ↔ the canonical Patient and Visit. Vietnamese conventions: the name is family name
// then middle and given names (`Nguyễn^Văn An`), identifiers are told apart by their CX-5 type and
// their shape (12-digit CCCD, 15-character BHYT card), and times without an offset are UTC+7.
import type { Address, Diagnosis, Patient, PatientIdentifier, Sex, StaffRef, Visit, VisitKind } from '../../../model';
import { guessIdentifierSystem, sexToHl7 } from '../../../model';
import { parseHl7Date, parseHl7DateTime, toHl7DateTime } from '../codec/datetime';
import type { Hl7Message } from '../codec/message';
import type { Hl7Segment } from '../codec/segment';

/** HL7 table 0203 identifier type → canonical identifier system. */
const typeToSystem: Record<string, PatientIdentifier['system']> = {
  MR: 'MA_BN',
  PI: 'MA_BN',
  PT: 'MA_BN',
  HC: 'BHYT',
  SS: 'BHXH',
  PPN: 'PASSPORT',
};

const systemToType: Record<PatientIdentifier['system'], string> = {
  MA_BN: 'MR',
  CCCD: 'NN',
  CMND: 'NN',
  BHYT: 'HC',
  BHXH: 'SS',
  PASSPORT: 'PPN',
};

function identifierOfRepetition(pid: Hl7Segment, r: number): PatientIdentifier | undefined {
  const value = pid.get(3, 1, 1, r);
  if (!value) return undefined;
  const type = pid.get(3, 5, 1, r).toUpperCase();
  const system = typeToSystem[type] ?? (type.startsWith('NN') || type === 'NI' || type === '' ? guessIdentifierSystem(value) : undefined);
  if (!system) return undefined;
  // A CCCD/CMND typed NN must look like one; anything else typed NN is left out rather than guessed.
  if ((type.startsWith('NN') || type === 'NI') && system !== 'CCCD' && system !== 'CMND') return undefined;
  return { system, value };
}

export function staffOf(seg: Hl7Segment | undefined, field: number, repetition = 1): StaffRef | undefined {
  if (!seg) return undefined;
  const id = seg.get(field, 1, 1, repetition);
  const family = seg.get(field, 2, 1, repetition);
  const given = seg.get(field, 3, 1, repetition);
  const name = [family, given].filter(Boolean).join(' ');
  if (!id && !name) return undefined;
  return name ? { id, name } : { id };
}

function sexOf(value: string): Sex {
  const v = value.trim().toUpperCase();
  if (v === 'M' || v === 'MALE') return 'male';
  if (v === 'F' || v === 'FEMALE') return 'female';
  if (v === 'O' || v === 'A' || v === 'OTHER') return 'other';
  return 'unknown';
}

function addressOf(pid: Hl7Segment): Address | undefined {
  if (!pid.raw(11)) return undefined;
  const line = pid.get(11, 1);
  const communeName = pid.get(11, 3);
  const province = pid.get(11, 4);
  const district = pid.get(11, 9);
  const address: Address = {};
  if (line) address.line = line;
  if (communeName) address.communeName = communeName;
  if (province) {
    if (/^\d{2}$/.test(province)) address.provinceCode = province;
    else address.provinceName = province;
  }
  if (district) address.districtCode = district;
  const text = [line, pid.get(11, 2), communeName, province].filter(Boolean).join(', ');
  if (text) address.text = text;
  return address;
}

/** The canonical patient from PID (throws naming the field when PID or the patient number is missing). */
export function patientOf(message: Hl7Message): Patient {
  const pid = message.segment('PID');
  if (!pid) throw new Error(`${message.messageType} has no PID segment`);
  const identifiers: PatientIdentifier[] = [];
  for (let r = 1; r <= pid.repetitionCount(3); r++) {
    const id = identifierOfRepetition(pid, r);
    if (id && !identifiers.some((x) => x.system === id.system && x.value === id.value)) identifiers.push(id);
  }
  const mrn = identifiers.find((i) => i.system === 'MA_BN')?.value ?? pid.get(3, 1) ?? pid.get(2);
  if (!mrn) throw new Error('PID-3 (patient identifier) is empty');
  if (!identifiers.some((i) => i.system === 'MA_BN')) identifiers.unshift({ system: 'MA_BN', value: mrn });
  const family = pid.get(5, 1);
  const given = [pid.get(5, 3), pid.get(5, 2)].filter(Boolean).join(' ');
  const patient: Patient = {
    id: mrn,
    identifiers,
    name: { full: [family, given].filter(Boolean).join(' '), ...(family ? { family } : {}), ...(given ? { given } : {}) },
    birthDate: parseHl7Date(pid.get(7)) ?? '',
    sex: sexOf(pid.get(8)),
  };
  const dob = pid.get(7);
  if (/^\d{12}/.test(dob) && !/^\d{8}0000(00)?$/.test(dob)) patient.birthTime = `${dob.slice(8, 10)}:${dob.slice(10, 12)}`;
  const address = addressOf(pid);
  if (address) patient.address = address;
  const phone = pid.get(13, 1) || pid.get(13, 12) || pid.get(13, 7);
  if (phone) patient.phone = phone;
  const ethnicity = pid.get(22);
  if (ethnicity) patient.ethnicityCode = ethnicity;
  const nationality = pid.get(28) || pid.get(26);
  if (nationality) patient.nationalityCode = nationality;
  return patient;
}

/** Appends a PID for a canonical patient (values are escaped as they are written). */
export function addPid(message: Hl7Message, patient: Patient, facility = ''): Hl7Segment {
  const pid = message.addSegment('PID', ['1']);
  const ids = [...patient.identifiers];
  if (!ids.some((i) => i.system === 'MA_BN')) ids.unshift({ system: 'MA_BN', value: patient.id });
  ids.forEach((id, i) => {
    const r = i + 1;
    pid.set(3, id.value, 1, undefined, r);
    const authority = id.system === 'MA_BN' ? facility : id.system === 'CCCD' || id.system === 'CMND' ? 'BCA' : id.system === 'BHYT' || id.system === 'BHXH' ? 'BHXH' : '';
    if (authority) pid.set(3, authority, 4, undefined, r);
    pid.set(3, systemToType[id.system], 5, undefined, r);
  });
  const family = patient.name.family ?? patient.name.full.split(' ')[0];
  const given = patient.name.given ?? patient.name.full.slice(family.length).trim();
  pid.set(5, family, 1);
  if (given) pid.set(5, given, 2);
  if (patient.birthDate) pid.set(7, patient.birthDate.replace(/-/g, '') + (patient.birthTime ? patient.birthTime.replace(':', '') : ''));
  pid.set(8, sexToHl7(patient.sex));
  const a = patient.address;
  if (a) {
    if (a.line) pid.set(11, a.line, 1);
    if (a.communeName) pid.set(11, a.communeName, 3);
    if (a.provinceCode ?? a.provinceName) pid.set(11, (a.provinceCode ?? a.provinceName)!, 4);
    pid.set(11, 'VNM', 6);
    pid.set(11, 'H', 7);
    if (a.districtCode) pid.set(11, a.districtCode, 9);
  }
  if (patient.phone) {
    pid.set(13, 'PRN', 2);
    pid.set(13, 'PH', 3);
    pid.set(13, patient.phone, 12);
  }
  if (patient.ethnicityCode) pid.set(22, patient.ethnicityCode);
  if (patient.nationalityCode) pid.set(28, patient.nationalityCode);
  return pid;
}

const classToKind: Record<string, VisitKind> = { I: 'inpatient', O: 'outpatient', E: 'emergency', P: 'outpatient', R: 'outpatient', B: 'outpatient' };
const kindToClass: Record<VisitKind, string> = { inpatient: 'I', outpatient: 'O', emergency: 'E' };

export interface VisitOptions {
  /** PV1-2 patient class → BHYT MA_LOAI_KCB (default I → `03`, O/E → `01`). */
  careTypeCodes?: Record<string, string>;
}

function diagnosesOf(message: Hl7Message): Diagnosis[] {
  const out: Diagnosis[] = [];
  for (const dg1 of message.segmentsNamed('DG1')) {
    const icd10 = dg1.get(3, 1);
    if (!icd10) continue;
    const type = dg1.get(6).toUpperCase();
    const dx: Diagnosis = { icd10, primary: false };
    const text = dg1.get(3, 2) || dg1.get(4);
    if (text) dx.text = text;
    if (type === 'A') dx.stage = 'admission';
    if (type === 'F') dx.stage = 'discharge';
    if (dg1.get(15) === '1') dx.primary = true;
    out.push(dx);
  }
  if (out.length > 0 && !out.some((d) => d.primary)) out[0].primary = true;
  return out;
}

/** The canonical visit from PV1 (+ DG1); undefined when there is no PV1 or no visit number. */
export function visitOf(message: Hl7Message, patientId: string, options: VisitOptions = {}): Visit | undefined {
  const pv1 = message.segment('PV1');
  if (!pv1) return undefined;
  const maLk = pv1.get(19) || message.segment('PID')?.get(18) || '';
  if (!maLk) return undefined;
  const patientClass = pv1.get(2).toUpperCase();
  const careTypes = { I: '03', O: '01', E: '01', ...options.careTypeCodes };
  const admitted = parseHl7DateTime(pv1.get(44)) ?? parseHl7DateTime(message.segment('EVN')?.get(6) || message.segment('EVN')?.get(2) || '') ?? parseHl7DateTime(message.get('MSH-7')) ?? '';
  const visit: Visit = {
    maLk,
    patientId,
    kind: classToKind[patientClass] ?? 'outpatient',
    careTypeCode: careTypes[patientClass as keyof typeof careTypes] ?? '01',
    admittedAt: admitted,
    departmentCode: pv1.get(3, 1) || pv1.get(10),
    diagnoses: diagnosesOf(message),
  };
  const discharged = parseHl7DateTime(pv1.get(45));
  if (discharged) visit.dischargedAt = discharged;
  const attending = staffOf(pv1, 7);
  if (attending) visit.attending = attending;
  const reason = message.segment('PV2')?.get(3, 2) || message.segment('PV2')?.get(3, 1);
  if (reason) visit.reason = reason;
  return visit;
}

/** Appends a PV1 (and DG1s) for a canonical visit. */
export function addPv1(message: Hl7Message, visit: Visit, facility = ''): Hl7Segment {
  const pv1 = message.addSegment('PV1', ['1', kindToClass[visit.kind]]);
  pv1.set(3, visit.departmentCode, 1);
  if (facility) pv1.set(3, facility, 4);
  if (visit.attending) setStaff(pv1, 7, visit.attending);
  pv1.set(10, visit.departmentCode);
  pv1.set(19, visit.maLk);
  if (visit.admittedAt) pv1.set(44, toHl7DateTime(visit.admittedAt));
  if (visit.dischargedAt) pv1.set(45, toHl7DateTime(visit.dischargedAt));
  return pv1;
}

/** Writes an XCN (id ^ family ^ given) for a staff reference. */
export function setStaff(seg: Hl7Segment, field: number, staff: StaffRef, repetition = 1): void {
  const name = staff.name ?? '';
  const space = name.indexOf(' ');
  seg.set(field, staff.id, 1, undefined, repetition);
  if (name) seg.set(field, space < 0 ? name : name.slice(0, space), 2, undefined, repetition);
  if (space >= 0) seg.set(field, name.slice(space + 1), 3, undefined, repetition);
}

/** DG1 segments for the visit's diagnoses (ICD-10, coding system I10). */
export function addDiagnoses(message: Hl7Message, visit: Visit): void {
  visit.diagnoses.forEach((dx, i) => {
    const seg = message.addSegment('DG1', [String(i + 1)]);
    seg.set(3, dx.icd10, 1);
    if (dx.text) seg.set(3, dx.text, 2);
    seg.set(3, 'I10', 3);
    seg.set(6, dx.stage === 'admission' ? 'A' : dx.stage === 'discharge' ? 'F' : 'W');
    if (dx.primary) seg.set(15, '1');
  });
}

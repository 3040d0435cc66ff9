// ORU^R01 (IHE LTW LAB-3, analysers, monitors) and OUL^R22 (IHE LAW LAB-29) ↔ canonical results.
// One ORDER_OBSERVATION (ORU) or ORDER (OUL) is one ResultBatch: its OBXs are the results, found by
// placer order number, specimen id or accession number. OBX of type ED/RP (histogram images and
// other attachments) are not results and are left out.
import type { AbnormalFlag, DeviceRef, Patient, ReferenceRange, Result, ResultBatch, ResultStatus } from '../../../model';
import { abnormalFlags } from '../../../model';
import { createMessage, type MessageHeader } from '../codec/builder';
import { parseHl7DateTime, toHl7DateTime } from '../codec/datetime';
import type { Hl7Message } from '../codec/message';
import type { Hl7Segment } from '../codec/segment';
import type { Hl7Group } from '../codec/structure';
import { patientIdOf } from '../correlation';
import { addPid, patientOf, setStaff, staffOf } from './patient';

export interface ResultsView {
  patientId: string;
  /** The full patient when the message has a usable PID. */
  patient?: Patient;
  batches: ResultBatch[];
}

const statusOf: Record<string, ResultStatus> = {
  F: 'final',
  C: 'corrected',
  P: 'preliminary',
  R: 'preliminary',
  S: 'preliminary',
  I: 'preliminary',
  A: 'preliminary',
  X: 'cancelled',
  D: 'cancelled',
  W: 'superseded',
};

const statusCode: Record<ResultStatus, string> = { final: 'F', corrected: 'C', preliminary: 'P', cancelled: 'X', superseded: 'W' };

const NUMERIC = new Set(['NM', 'SN']);
const CODED = new Set(['CE', 'CWE', 'CNE', 'IS', 'ID', 'CF']);
const ATTACHMENT = new Set(['ED', 'RP']);

/** `3.9-6.4`, `3.9 - 6.4`, `<5`, `> 10`, `Âm tính` → low/high/text. */
export function parseReferenceRange(text: string): ReferenceRange | undefined {
  const t = text.trim();
  if (!t) return undefined;
  const range: ReferenceRange = { text: t };
  let m = /^([-+]?\d+(?:[.,]\d+)?)\s*[-–]\s*([-+]?\d+(?:[.,]\d+)?)$/.exec(t);
  if (m) return { low: m[1].replace(',', '.'), high: m[2].replace(',', '.'), text: t };
  m = /^(<=?|≤)\s*([-+]?\d+(?:[.,]\d+)?)$/.exec(t);
  if (m) return { high: m[2].replace(',', '.'), text: t };
  m = /^(>=?|≥)\s*([-+]?\d+(?:[.,]\d+)?)$/.exec(t);
  if (m) return { low: m[2].replace(',', '.'), text: t };
  return range;
}

function valueOf(obx: Hl7Segment, type: string): string {
  if (type === 'SN') {
    // Structured numeric: comparator ^ num1 ^ separator ^ num2 → "<9", "1:128", "2-5".
    return [obx.get(5, 1), obx.get(5, 2), obx.get(5, 3), obx.get(5, 4)].join('');
  }
  if (CODED.has(type)) return obx.get(5, 1);
  // Text values may repeat (TX, FT): join the repetitions as lines.
  const reps = obx.repetitionCount(5);
  if (reps <= 1) return textOf(obx, 1);
  return Array.from({ length: reps }, (_, r) => textOf(obx, r + 1)).join('\n');
}

/** A text value keeps its components (a `^` in free text the sender forgot to escape). */
function textOf(obx: Hl7Segment, repetition: number): string {
  const n = obx.componentCount(5, repetition);
  if (n <= 1) return obx.get(5, 1, 1, repetition);
  return obx.components(5, repetition).join('^');
}

function deviceOf(obx: Hl7Segment, message: Hl7Message): DeviceRef | undefined {
  const id = obx.get(18, 1);
  if (id) {
    const device: DeviceRef = { id };
    const name = obx.get(18, 2);
    if (name) device.name = name;
    return device;
  }
  // Analysers put their own name in MSH-3: the best device identity the message has.
  const app = message.get('MSH-3');
  if (!app) return undefined;
  const device: DeviceRef = { id: app };
  const name = message.get('MSH-3.2');
  if (name) device.name = name;
  return device;
}

function resultOf(obx: Hl7Segment, group: Hl7Group, order: Hl7Segment | undefined, message: Hl7Message): Result | undefined {
  const type = obx.get(2).toUpperCase();
  if (ATTACHMENT.has(type)) return undefined;
  const code = obx.get(3, 1);
  if (!code) throw new Error(`OBX-3 (observation identifier) is empty in OBX ${obx.get(1) || '?'}`);
  const status = statusOf[obx.get(11).toUpperCase()] ?? 'final';
  const observedAt = parseHl7DateTime(obx.get(14) || order?.get(7) || message.get('MSH-7')) ?? '';
  const result: Result = {
    code,
    value: valueOf(obx, type),
    valueType: NUMERIC.has(type) ? 'numeric' : CODED.has(type) ? 'coded' : 'text',
    status,
    observedAt,
  };
  const name = obx.get(3, 2);
  if (name) result.name = name;
  const loinc = obx.get(3, 3) === 'LN' ? code : obx.get(3, 6) === 'LN' ? obx.get(3, 4) : '';
  if (loinc) result.loinc = loinc;
  if (obx.get(3, 3) === 'LN' && obx.get(3, 4) && obx.get(3, 6) !== 'LN') result.code = obx.get(3, 4); // the local code as alternate
  const unit = obx.get(6, 1);
  if (unit) result.unit = unit;
  const range = parseReferenceRange(obx.get(7));
  if (range) result.referenceRange = range;
  const flag = obx.get(8).toUpperCase();
  if ((abnormalFlags as readonly string[]).includes(flag)) result.abnormalFlag = flag as AbnormalFlag;
  const resulted = parseHl7DateTime(obx.get(19) || order?.get(22) || '');
  if (resulted) result.resultedAt = resulted;
  const device = deviceOf(obx, message);
  if (device) result.device = device;
  const operator = staffOf(obx, 16);
  if (operator) result.operator = operator;
  const notes = group.segments('NTE').map((n) => n.get(3)).filter(Boolean);
  if (notes.length) result.comment = notes.join('\n');
  return result;
}

/** Reads ORU^R01 or OUL^R22 into canonical result batches (throws naming MSH-9 for other messages). */
export function readResults(message: Hl7Message): ResultsView {
  const type = message.messageType;
  if (type !== 'ORU^R01' && type !== 'OUL^R22') throw new Error(`MSH-9 is ${type || '(empty)'}, not ORU^R01 or OUL^R22`);
  const root = message.structure();
  const batches: ResultBatch[] = [];
  const orderGroups = type === 'ORU^R01' ? root.descendants('ORDER_OBSERVATION') : root.descendants('ORDER');
  for (const group of orderGroups) {
    const obr = group.segment('OBR');
    const orc = group.segment('ORC');
    const batch: ResultBatch = { results: [] };
    const orderId = orc?.get(2) || obr?.get(2) || '';
    if (orderId) batch.orderId = orderId;
    // OUL: the SPECIMEN group around the order; ORU: a SPECIMEN group inside it, else the filler number analysers use.
    const specimenGroup = type === 'OUL^R22' ? root.descendants('SPECIMEN').find((s) => s.descendants('ORDER').includes(group)) : group.group('SPECIMEN');
    const specimenId = specimenGroup?.segment('SPM')?.get(2, 1) || specimenGroup?.segment('SPM')?.get(2, 2) || obr?.get(3, 1) || '';
    if (specimenId) batch.specimenId = specimenId;
    const accession = obr?.get(18) ?? '';
    if (accession) batch.accessionNumber = accession;
    const observationGroups = type === 'ORU^R01' ? group.groups('OBSERVATION') : group.groups('RESULT');
    for (const obsGroup of observationGroups) {
      const obx = obsGroup.segment('OBX');
      if (!obx) continue;
      const result = resultOf(obx, obsGroup, obr, message);
      if (result) batch.results!.push(result);
    }
    batches.push(batch);
  }
  const pid = message.segment('PID');
  const view: ResultsView = { patientId: pid ? patientIdOf(message) : '', batches };
  if (pid) {
    try {
      view.patient = patientOf(message);
    } catch {
      /* results without a full PID are still results */
    }
  }
  return view;
}

function addObx(message: Hl7Message, result: Result, setId: number): void {
  const valueType = result.valueType === 'numeric' ? 'NM' : result.valueType === 'coded' ? 'CWE' : 'ST';
  const obx = message.addSegment('OBX', [String(setId), valueType]);
  if (result.loinc) {
    obx.set(3, result.loinc, 1).set(3, result.name ?? '', 2).set(3, 'LN', 3);
    if (result.code !== result.loinc) obx.set(3, result.code, 4).set(3, result.name ?? '', 5).set(3, 'L', 6);
  } else obx.set(3, result.code, 1).set(3, result.name ?? '', 2).set(3, 'L', 3);
  if (result.valueType === 'text' && result.value.includes('\n')) {
    result.value.split('\n').forEach((line, i) => obx.set(5, line, undefined, undefined, i + 1));
  } else if (result.valueType === 'coded') obx.set(5, result.value, 1);
  else obx.set(5, result.value);
  if (result.unit) obx.set(6, result.unit, 1).set(6, result.unit, 2).set(6, 'UCUM', 3);
  const range = result.referenceRange;
  if (range) obx.set(7, range.text ?? (range.low && range.high ? `${range.low}-${range.high}` : range.high ? `<${range.high}` : `>${range.low}`));
  if (result.abnormalFlag) obx.set(8, result.abnormalFlag);
  obx.set(11, statusCode[result.status]);
  if (result.observedAt) obx.set(14, toHl7DateTime(result.observedAt));
  if (result.operator) setStaff(obx, 16, result.operator);
  if (result.device) {
    obx.set(18, result.device.id, 1);
    if (result.device.name) obx.set(18, result.device.name, 2);
  }
  if (result.resultedAt) obx.set(19, toHl7DateTime(result.resultedAt));
  if (result.comment) result.comment.split('\n').forEach((line, i) => message.addSegment('NTE', [String(i + 1), 'L', line]));
}

/** ORU^R01 (v2.5.1, LTW LAB-3 shape): PID, then per batch ORC/OBR/OBX…/SPM. */
export function buildOru(patient: Patient, batches: ResultBatch[], header: Omit<MessageHeader, 'messageType'> & { facility?: string } = {}): Hl7Message {
  const message = createMessage({ ...header, messageType: 'ORU^R01^ORU_R01' });
  addPid(message, patient, header.facility ?? header.sendingFacility ?? '');
  batches.forEach((batch, i) => {
    const results = batch.results ?? [];
    const orc = message.addSegment('ORC', ['RE', batch.orderId ?? '']);
    if (batch.specimenId) orc.set(4, batch.specimenId);
    orc.set(5, results.every((r) => r.status === 'final' || r.status === 'corrected') ? 'CM' : 'A');
    const obr = message.addSegment('OBR', [String(i + 1), batch.orderId ?? '', batch.specimenId ?? '']);
    const first = results[0];
    obr.set(4, first?.hisServiceCode ?? first?.code ?? 'RESULT', 1);
    if (first?.observedAt) obr.set(7, toHl7DateTime(first.observedAt));
    if (batch.accessionNumber) obr.set(18, batch.accessionNumber);
    obr.set(25, results.some((r) => r.status === 'corrected') ? 'C' : results.every((r) => r.status === 'final' || r.status === 'corrected') ? 'F' : 'P');
    results.forEach((r, k) => addObx(message, r, k + 1));
    if (batch.specimenId) message.addSegment('SPM', ['1']).set(2, batch.specimenId, 1);
  });
  return message;
}

/** OUL^R22 (LAW LAB-29 shape): one SPECIMEN per batch with its ORDER and RESULTs. */
export function buildOul(patient: Patient, batches: ResultBatch[], header: Omit<MessageHeader, 'messageType'> & { facility?: string } = {}): Hl7Message {
  const message = createMessage({ ...header, messageType: 'OUL^R22^OUL_R22' });
  addPid(message, patient, header.facility ?? header.sendingFacility ?? '');
  batches.forEach((batch, i) => {
    const spm = message.addSegment('SPM', ['1']);
    spm.set(2, batch.specimenId ?? '', 1);
    const obr = message.addSegment('OBR', [String(i + 1), batch.orderId ?? '']);
    const results = batch.results ?? [];
    obr.set(4, results[0]?.hisServiceCode ?? results[0]?.code ?? 'RESULT', 1);
    if (batch.accessionNumber) obr.set(18, batch.accessionNumber);
    message.addSegment('ORC', ['SC', batch.orderId ?? '']);
    results.forEach((r, k) => addObx(message, r, k + 1));
  });
  return message;
}

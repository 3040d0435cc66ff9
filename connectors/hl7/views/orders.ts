// ORM^O01 (v2.3.1 style, what RIS/PACS and most HIS send) and OML^O21 (IHE LTW LAB-1) ↔ canonical
// orders. One ORDER group (ORC + its OBRs) is one canonical order; an OBR whose diagnostic service
// section (OBR-24) is an imaging modality, or that carries an accession number (OBR-18), is an
// imaging order, anything else a lab order.
import type { ImagingOrder, LabOrder, LabOrderTest, Order, OrderPriority, OrderStatus, Patient, Specimen } from '../../../model';
import { createMessage, type MessageHeader } from '../codec/builder';
import { parseHl7DateTime, toHl7DateTime } from '../codec/datetime';
import type { Hl7Message } from '../codec/message';
import type { Hl7Segment } from '../codec/segment';
import type { Hl7Group } from '../codec/structure';
import { addPid, addPv1, patientOf, setStaff, staffOf, visitOf } from './patient';

const MODALITIES = new Set(['CR', 'DX', 'CT', 'MR', 'US', 'MG', 'XA', 'NM', 'PT', 'ES', 'RF', 'OT', 'IO', 'PX', 'OP', 'SC', 'XC', 'RG', 'BMD']);

export interface OrdersView {
  /** `NW` new, `CA` cancel, `XO` change… (ORC-1 of the first order). */
  control: string;
  patient: Patient;
  maLk: string;
  orders: Order[];
}

/** ORC-1 (order control) and ORC-5 (order status, table 0038) → canonical status. */
function statusOf(orc: Hl7Segment | undefined): OrderStatus {
  const control = orc?.get(1) ?? 'NW';
  const status = orc?.get(5) ?? '';
  if (control === 'CA' || control === 'OC' || control === 'CR' || status === 'CA') return 'cancelled';
  if (control === 'DC' || control === 'OD' || status === 'DC') return 'discontinued';
  switch (status) {
    case 'SC':
      return 'scheduled';
    case 'IP':
      return 'in-progress';
    case 'A':
      return 'preliminary';
    case 'CM':
      return 'completed';
  }
  return control === 'SC' ? 'scheduled' : 'ordered';
}

const statusToOrc: Record<OrderStatus, [string, string]> = {
  ordered: ['NW', ''],
  scheduled: ['SC', 'SC'],
  arrived: ['SC', 'IP'],
  collected: ['SC', 'IP'],
  'in-progress': ['SC', 'IP'],
  preliminary: ['SC', 'A'],
  completed: ['SC', 'CM'],
  discontinued: ['DC', 'DC'],
  cancelled: ['CA', 'CA'],
};

/** TQ1-9 / ORC-7.6 / OBR-27.6 priority: S stat, A asap, R routine. */
function priorityOf(group: Hl7Group): OrderPriority {
  const p = (group.get('TQ1-9') || group.get('ORC-7.6') || group.get('OBR-27.6')).toUpperCase();
  if (p === 'S') return 'stat';
  if (p === 'A' || p === 'P') return 'urgent';
  return 'routine';
}

function testOf(obr: Hl7Segment): LabOrderTest {
  const code = obr.get(4, 1);
  const system = obr.get(4, 3);
  const altCode = obr.get(4, 4);
  const altSystem = obr.get(4, 6);
  const test: LabOrderTest = { hisServiceCode: system === 'LN' && altCode ? altCode : code, name: obr.get(4, 5) || obr.get(4, 2) || code };
  const loinc = system === 'LN' ? code : altSystem === 'LN' ? altCode : '';
  if (loinc) test.loinc = loinc;
  return test;
}

function specimenOf(group: Hl7Group, orc: Hl7Segment | undefined, obr: Hl7Segment | undefined): Specimen {
  const spm = group.allSegments().find((s) => s.name === 'SPM');
  const id = spm?.get(2, 1) || orc?.get(4) || obr?.get(3) || '';
  const specimen: Specimen = { id };
  const type = spm?.get(4, 1) || obr?.get(15, 1);
  if (type) specimen.type = type;
  const collected = parseHl7DateTime(spm?.get(17, 1) || obr?.get(7) || '');
  if (collected) specimen.collectedAt = collected;
  const received = parseHl7DateTime(spm?.get(18) || obr?.get(14) || '');
  if (received) specimen.receivedAt = received;
  return specimen;
}

/** Reads ORM^O01 or OML^O21 into canonical orders (throws naming MSH-9 for other messages). */
export function readOrders(message: Hl7Message): OrdersView {
  const type = message.messageType;
  if (type !== 'ORM^O01' && type !== 'OML^O21') throw new Error(`MSH-9 is ${type || '(empty)'}, not ORM^O01 or OML^O21`);
  const patient = patientOf(message);
  const visit = visitOf(message, patient.id);
  const maLk = visit?.maLk ?? message.segment('PV1')?.get(19) ?? '';
  const updatedAt = parseHl7DateTime(message.get('MSH-7')) ?? '';
  const departmentCode = message.segment('PV1')?.get(3, 1) ?? '';
  const orders: Order[] = [];
  for (const group of message.structure().descendants('ORDER')) {
    const orc = group.segment('ORC');
    const obrs = group.allSegments().filter((s) => s.name === 'OBR');
    const obr = obrs[0];
    if (!orc && !obr) continue;
    const id = orc?.get(2) || obr?.get(2) || '';
    if (!id) throw new Error(`ORC-2 / OBR-2 (placer order number) is empty in order ${orders.length + 1}`);
    const base = {
      id,
      maLk,
      patientId: patient.id,
      status: statusOf(orc),
      priority: priorityOf(group),
      orderedAt: parseHl7DateTime(orc?.get(9) || obr?.get(6) || message.get('MSH-7')) ?? updatedAt,
      updatedAt,
      departmentCode: orc?.get(17, 1) || departmentCode,
      ...(staffOf(orc, 12) ?? staffOf(obr, 16) ? { orderingStaff: staffOf(orc, 12) ?? staffOf(obr, 16) } : {}),
      ...(obr?.get(13) ? { clinicalInfo: obr.get(13) } : {}),
    };
    const modality = obr?.get(24) ?? '';
    if (obr && (MODALITIES.has(modality.toUpperCase()) || obr.get(18))) {
      const order: ImagingOrder = {
        ...base,
        kind: 'imaging',
        accessionNumber: obr.get(18) || id,
        modality: modality || 'OT',
        requestedProcedure: { code: obr.get(4, 1), description: obr.get(4, 2) || obr.get(4, 5) },
      };
      const scheduled = parseHl7DateTime(group.get('TQ1-7') || orc?.get(7, 4) || obr.get(27, 4) || '');
      if (scheduled) order.scheduledAt = scheduled;
      if (obr.get(19)) order.requestedProcedureId = obr.get(19);
      const ipc = group.allSegments().find((s) => s.name === 'IPC');
      if (ipc?.get(3)) order.studyInstanceUid = ipc.get(3);
      if (ipc?.get(9)) order.scheduledStationAeTitle = ipc.get(9);
      orders.push(order);
    } else {
      const order: LabOrder = { ...base, kind: 'lab', specimen: specimenOf(group, orc, obr), tests: obrs.map(testOf) };
      orders.push(order);
    }
  }
  if (orders.length === 0) throw new Error(`${type} holds no ORC/OBR order`);
  return { control: message.segment('ORC')?.get(1) || 'NW', patient, maLk, orders };
}

function addOrc(message: Hl7Message, order: Order, control?: string): Hl7Segment {
  const [defaultControl, status] = statusToOrc[order.status];
  const orc = message.addSegment('ORC', [control ?? defaultControl, order.id]);
  if (order.kind === 'lab' && order.specimen.id) orc.set(4, order.specimen.id);
  if (status) orc.set(5, status);
  orc.set(9, toHl7DateTime(order.orderedAt));
  if (order.orderingStaff) setStaff(orc, 12, order.orderingStaff);
  if (order.departmentCode) orc.set(17, order.departmentCode, 1);
  return orc;
}

const priorityCode: Record<OrderPriority, string> = { routine: 'R', urgent: 'A', stat: 'S' };

/** OML^O21 (LTW LAB-1) for one or more lab orders of one patient. */
export function buildOml(patient: Patient, orders: LabOrder[], header: Omit<MessageHeader, 'messageType'> & { facility?: string; maLk?: string; control?: string } = {}): Hl7Message {
  const message = createMessage({ ...header, messageType: 'OML^O21^OML_O21' });
  const facility = header.facility ?? header.sendingFacility ?? '';
  addPid(message, patient, facility);
  const maLk = header.maLk ?? orders[0]?.maLk;
  if (maLk) addPv1(message, { maLk, patientId: patient.id, kind: 'outpatient', careTypeCode: '01', admittedAt: '', departmentCode: orders[0]?.departmentCode ?? '', diagnoses: [] }, facility);
  for (const order of orders) {
    addOrc(message, order, header.control);
    const tq1 = message.addSegment('TQ1', ['1']);
    tq1.set(9, priorityCode[order.priority]);
    order.tests.forEach((test, i) => {
      const obr = message.addSegment('OBR', [String(i + 1), order.id]);
      if (test.loinc) {
        obr.set(4, test.loinc, 1).set(4, test.name, 2).set(4, 'LN', 3).set(4, test.hisServiceCode, 4).set(4, test.name, 5).set(4, 'HIS', 6);
      } else obr.set(4, test.hisServiceCode, 1).set(4, test.name, 2).set(4, 'HIS', 3);
      if (order.specimen.collectedAt) obr.set(7, toHl7DateTime(order.specimen.collectedAt));
      if (order.clinicalInfo) obr.set(13, order.clinicalInfo);
      if (order.orderingStaff) setStaff(obr, 16, order.orderingStaff);
    });
    const spm = message.addSegment('SPM', ['1']);
    spm.set(2, order.specimen.id, 1);
    if (order.specimen.type) spm.set(4, order.specimen.type, 1);
    if (order.specimen.collectedAt) spm.set(17, toHl7DateTime(order.specimen.collectedAt), 1);
    if (order.specimen.receivedAt) spm.set(18, toHl7DateTime(order.specimen.receivedAt));
  }
  return message;
}

/** ORM^O01 (v2.3.1/2.5, the dcm4chee / IHE SWF shape) for an imaging order. */
export function buildOrm(patient: Patient, order: ImagingOrder, header: Omit<MessageHeader, 'messageType'> & { facility?: string; control?: string } = {}): Hl7Message {
  const message = createMessage({ version: '2.3.1', ...header, messageType: 'ORM^O01' });
  const facility = header.facility ?? header.sendingFacility ?? '';
  addPid(message, patient, facility);
  if (order.maLk) addPv1(message, { maLk: order.maLk, patientId: patient.id, kind: 'outpatient', careTypeCode: '01', admittedAt: '', departmentCode: order.departmentCode, diagnoses: [] }, facility);
  const orc = addOrc(message, order, header.control);
  if (order.scheduledAt) orc.set(7, toHl7DateTime(order.scheduledAt), 4);
  orc.set(7, priorityCode[order.priority], 6);
  const obr = message.addSegment('OBR', ['1', order.id]);
  obr.set(4, order.requestedProcedure.code, 1).set(4, order.requestedProcedure.description, 2).set(4, 'HIS', 3);
  obr.set(6, toHl7DateTime(order.orderedAt));
  if (order.clinicalInfo) obr.set(13, order.clinicalInfo);
  if (order.orderingStaff) setStaff(obr, 16, order.orderingStaff);
  obr.set(18, order.accessionNumber);
  obr.set(19, order.requestedProcedureId ?? order.accessionNumber);
  obr.set(24, order.modality);
  return message;
}

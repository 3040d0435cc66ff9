// ADT^A01 (admit), ADT^A04 (register: tiếp đón), ADT^A08 (update) ↔ canonical patient and visit.
import type { Patient, Visit } from '../../../model';
import { createMessage, type MessageHeader } from '../codec/builder';
import { parseHl7DateTime, toHl7DateTime } from '../codec/datetime';
import type { Hl7Message } from '../codec/message';
import { addDiagnoses, addPid, addPv1, patientOf, visitOf, type VisitOptions } from './patient';

export type AdtEvent = 'A01' | 'A04' | 'A08';

export interface AdtView {
  event: AdtEvent;
  /** EVN-2 (or MSH-7) as ISO 8601. */
  recordedAt?: string;
  patient: Patient;
  visit?: Visit;
}

const events = new Set<string>(['A01', 'A04', 'A08']);

/** Reads an ADT^A01/A04/A08; throws naming MSH-9 for any other message. */
export function readAdt(message: Hl7Message, options: VisitOptions = {}): AdtView {
  const type = message.get('MSH-9.1');
  const event = message.get('MSH-9.2') || message.get('EVN-1');
  if (type !== 'ADT' || !events.has(event)) throw new Error(`MSH-9 is ${message.messageType || '(empty)'}, not ADT^A01/A04/A08`);
  const patient = patientOf(message);
  const view: AdtView = { event: event as AdtEvent, patient };
  const recorded = parseHl7DateTime(message.segment('EVN')?.get(2) || message.get('MSH-7'));
  if (recorded) view.recordedAt = recorded;
  const visit = visitOf(message, patient.id, options);
  if (visit) view.visit = visit;
  return view;
}

/** Builds an ADT^A01/A04/A08 (structure ADT_A01) for a patient and, when given, the visit. */
export function buildAdt(view: AdtView, header: Omit<MessageHeader, 'messageType'> & { facility?: string } = {}): Hl7Message {
  const message = createMessage({ ...header, messageType: `ADT^${view.event}^ADT_A01` });
  const evn = message.addSegment('EVN', [view.event]);
  evn.set(2, toHl7DateTime(view.recordedAt) || message.get('MSH-7'));
  addPid(message, view.patient, header.facility ?? header.sendingFacility ?? '');
  if (view.visit) {
    addPv1(message, view.visit, header.facility ?? header.sendingFacility ?? '');
    addDiagnoses(message, view.visit);
  } else message.addSegment('PV1', ['1', 'N']); // PV1 is required in ADT_A01; class N = not applicable
  return message;
}

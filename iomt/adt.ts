// HIS bed assignments from the HL7 ADT feed a HIS already sends: a channel `mllp` source →
// `adtBedAssignments` transformer → `iomt-bed-assignment` destination keeps bed-mode monitors bound
// to whoever lies in their bed, with no manual step.
//   A01 admit, A02 transfer, A08 update (with a bed), A12 cancel transfer, A13 cancel discharge → assign
//   A03 discharge, A11 cancel admit → release
// Location PV1-3 (point of care ^ room ^ bed), visit PV1-19 (else PID-18), patient PID-3, time EVN-6
// (else EVN-2, MSH-7).
import { Hl7Message } from '../connectors/hl7/codec/message';
import type { ChannelMessage } from '../engine/channel/definition';
import { parseDeviceTime } from './normalise';

export interface AdtOptions {
  /** How a bed is named in the IoMT registry: PV1-3.3 alone (`bed`, default) or `room-bed` (PV1-3.2-PV1-3.3). */
  bedName?: 'bed' | 'room-bed';
}

export interface BedAssignmentJson {
  visitId: string;
  patientId: string;
  patientName?: string;
  ward: string;
  bed: string;
  event: 'assign' | 'release';
  at: string;
  by: string;
}

const ASSIGN = new Set(['A01', 'A02', 'A08', 'A12', 'A13']);
const RELEASE = new Set(['A03', 'A11']);

/** True for an ADT event that places a patient in a bed or takes them out (use as a channel filter). */
export function isBedAssignmentAdt(message: ChannelMessage): boolean {
  const parsed = message.parsed as Hl7Message | undefined;
  const msg = parsed ?? safeParse(message.raw);
  if (!msg) return false;
  const event = msg.get('MSH-9.2') || msg.get('EVN-1');
  return msg.get('MSH-9.1') === 'ADT' && (ASSIGN.has(event) || RELEASE.has(event)) && !!msg.get('PV1-3.1');
}

function safeParse(raw: Buffer): Hl7Message | undefined {
  try {
    return Hl7Message.parse(raw);
  } catch {
    return undefined;
  }
}

/** The bed assignment an ADT message states; throws naming the missing field. */
export function bedAssignmentFromAdt(input: Hl7Message | Buffer | string, options: AdtOptions = {}): BedAssignmentJson {
  const msg = input instanceof Hl7Message ? input : Hl7Message.parse(input);
  const type = msg.get('MSH-9.1');
  const event = msg.get('MSH-9.2') || msg.get('EVN-1');
  if (type !== 'ADT' || !(ASSIGN.has(event) || RELEASE.has(event))) throw new Error(`MSH-9 ${type}^${event} is not a bed-assignment event (A01, A02, A03, A08, A11, A12, A13)`);
  const ward = msg.get('PV1-3.1').trim();
  const room = msg.get('PV1-3.2').trim();
  const bedOnly = msg.get('PV1-3.3').trim();
  if (!ward) throw new Error('PV1-3.1 (point of care / ward) is empty');
  const bed = options.bedName === 'room-bed' ? [room, bedOnly].filter(Boolean).join('-') : bedOnly || room;
  if (!bed) throw new Error('PV1-3.3 (bed) is empty');
  const visitId = msg.get('PV1-19.1').trim() || msg.get('PID-18.1').trim();
  if (!visitId) throw new Error('PV1-19 (visit number) and PID-18 (account number) are empty');
  const patientId = msg.get('PID-3.1').trim();
  if (!patientId) throw new Error('PID-3.1 (patient identifier) is empty');
  const when = msg.get('EVN-6').trim() || msg.get('EVN-2').trim() || msg.get('MSH-7').trim();
  const t = when ? parseDeviceTime(when) : undefined;
  if (t === undefined) throw new Error(`EVN-6 / EVN-2 / MSH-7 "${when}" is not an HL7 date-time`);
  // Vietnamese order: family, middle, given (PID-5.1, PID-5.3, PID-5.2).
  const name = [msg.get('PID-5.1'), msg.get('PID-5.3'), msg.get('PID-5.2')].map((s) => s.trim()).filter(Boolean).join(' ');
  return {
    visitId,
    patientId,
    ...(name ? { patientName: name } : {}),
    ward,
    bed,
    event: RELEASE.has(event) ? 'release' : 'assign',
    at: new Date(t).toISOString(),
    by: `HIS ADT^${event} ${msg.controlId}`.trim(),
  };
}

/** Channel transformer: the ADT message (parsed by the mllp source) → bed assignment JSON. */
export function adtBedAssignments(options: AdtOptions = {}): (message: ChannelMessage) => BedAssignmentJson {
  return (message) => bedAssignmentFromAdt((message.parsed as Hl7Message | undefined) ?? message.raw, options);
}

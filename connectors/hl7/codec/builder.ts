// Building new messages: an MSH from a few named values, then segments by path or by field list.
//   const m = createMessage({ messageType: 'ORU^R01^ORU_R01', sendingApplication: 'LIS', … });
//   m.addSegment('PID', ['1', '', { raw: '079085001234^^^BV_A^MR' }]);
//   m.set('PID-5.1', 'Nguyễn');
import crypto from 'node:crypto';
import { charsetByName, UTF8 } from './charset';
import { formatHl7DateTime } from './datetime';
import { DEFAULT_DELIMITERS, delimitersFrom, type Delimiters } from './delimiters';
import { Hl7Message } from './message';

export interface MessageHeader {
  /** MSH-9 as written, e.g. `ORU^R01^ORU_R01` (raw: components separated by the component character). */
  messageType: string;
  /** MSH-10; a fresh unique id when omitted. */
  controlId?: string;
  /** MSH-3..6 (HD, raw: `LIS^1.2.3^ISO` is allowed). */
  sendingApplication?: string;
  sendingFacility?: string;
  receivingApplication?: string;
  receivingFacility?: string;
  /** MSH-7; now when omitted. */
  timestamp?: Date | string;
  /** MSH-11, default `P`. */
  processingId?: string;
  /** MSH-12, default `2.5.1`. */
  version?: string;
  /** MSH-15 / MSH-16 (enhanced acknowledgement mode when either is set). */
  acceptAckType?: string;
  applicationAckType?: string;
  /** MSH-17, e.g. `VNM`. */
  countryCode?: string;
  /**
   * MSH-18 and the charset the bytes are written in. Default `UNICODE UTF-8`; `''` declares nothing
   * (7-bit ASCII, encoded as UTF-8 so nothing is lost).
   */
  charset?: string;
  /** MSH-21 message profile (raw). */
  profile?: string;
  /** Own delimiters (default `|` and `^~\&`). */
  delimiters?: { field: string; encoding: string };
}

let prefix = '';
let counter = 0;

function newPrefix(): string {
  // Start time plus randomness: ids stay unique across restarts and between engines.
  return Date.now().toString(36).toUpperCase() + crypto.randomBytes(2).toString('hex').toUpperCase().slice(0, 3);
}

/** A message control id unique across restarts and processes, at most 20 characters (v2.5 MSH-10 length). */
export function newControlId(): string {
  if (prefix === '' || counter >= 36 ** 6 - 1) {
    prefix = newPrefix();
    counter = 0;
  }
  counter++;
  return prefix + counter.toString(36).toUpperCase().padStart(6, '0');
}

export function createMessage(header: MessageHeader): Hl7Message {
  const delimiters: Delimiters = header.delimiters ? delimitersFrom(header.delimiters.field, header.delimiters.encoding) : DEFAULT_DELIMITERS;
  const declared = header.charset ?? 'UNICODE UTF-8';
  const charset = declared === '' ? UTF8 : charsetByName(declared);
  if (!charset) throw new Error(`charset "${declared}" is not supported`);
  const message = Hl7Message.empty(delimiters, charset);
  const ts = header.timestamp === undefined ? formatHl7DateTime() : typeof header.timestamp === 'string' ? header.timestamp : formatHl7DateTime(header.timestamp);
  const raw = (v: string | undefined) => (v === undefined || v === '' ? undefined : { raw: v });
  const msh18 = declared === '' ? undefined : charset.hl7Name || declared;
  message.addSegment('MSH', [
    undefined,
    undefined,
    raw(header.sendingApplication),
    raw(header.sendingFacility),
    raw(header.receivingApplication),
    raw(header.receivingFacility),
    ts,
    undefined,
    raw(header.messageType),
    header.controlId ?? newControlId(),
    raw(header.processingId ?? 'P'),
    header.version ?? '2.5.1',
    undefined,
    undefined,
    header.acceptAckType,
    header.applicationAckType,
    header.countryCode,
    msh18,
    undefined,
    undefined,
    raw(header.profile),
  ]);
  return message;
}

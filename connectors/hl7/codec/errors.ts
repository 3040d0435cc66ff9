// Errors that name the place in the message: the segment, its position, the field and the byte
// offset. The same location goes into the ERR segment of the NAK, so the sender sees what we saw.

/** HL7 table 0357 (message error condition codes) – the ones a receiver actually reports. */
export const Hl7ErrorCodes = {
  accepted: '0',
  segmentSequenceError: '100',
  requiredFieldMissing: '101',
  dataTypeError: '102',
  tableValueNotFound: '103',
  unsupportedMessageType: '200',
  unsupportedEventCode: '201',
  unsupportedProcessingId: '202',
  unsupportedVersionId: '203',
  unknownKeyIdentifier: '204',
  duplicateKeyIdentifier: '205',
  applicationRecordLocked: '206',
  applicationInternalError: '207',
} as const;

export type Hl7ErrorCode = (typeof Hl7ErrorCodes)[keyof typeof Hl7ErrorCodes];

const errorCodeNames: Record<string, string> = {
  '0': 'Message accepted',
  '100': 'Segment sequence error',
  '101': 'Required field missing',
  '102': 'Data type error',
  '103': 'Table value not found',
  '200': 'Unsupported message type',
  '201': 'Unsupported event code',
  '202': 'Unsupported processing id',
  '203': 'Unsupported version id',
  '204': 'Unknown key identifier',
  '205': 'Duplicate key identifier',
  '206': 'Application record locked',
  '207': 'Application internal error',
};

export function errorCodeName(code: string): string {
  return errorCodeNames[code] ?? 'Error';
}

/** Where a problem is (HL7 ERL data type: segment ID, segment sequence, field, repetition, component, subcomponent). */
export interface Hl7ErrorLocation {
  segment?: string;
  /** 1-based position of the segment among segments with the same ID (OBX #3 → 3). */
  sequence?: number;
  field?: number;
  repetition?: number;
  component?: number;
  subcomponent?: number;
  /** Byte offset in the received bytes, when known. */
  byteOffset?: number;
}

export function describeLocation(location: Hl7ErrorLocation): string {
  const parts: string[] = [];
  if (location.segment) {
    let s = location.segment;
    if (location.sequence && location.sequence > 1) s += `[${location.sequence}]`;
    if (location.field !== undefined) {
      s += `-${location.field}`;
      if (location.repetition && location.repetition > 1) s += `[${location.repetition}]`;
      if (location.component !== undefined) s += `.${location.component}`;
      if (location.subcomponent !== undefined) s += `.${location.subcomponent}`;
    }
    parts.push(s);
  }
  if (location.byteOffset !== undefined) parts.push(`byte ${location.byteOffset}`);
  return parts.join(', ');
}

/** Any HL7 decoding problem. `reject` (AR) means the header itself is unusable; otherwise AE. */
export class Hl7Error extends Error {
  constructor(
    readonly problem: string,
    readonly location: Hl7ErrorLocation = {},
    readonly code: Hl7ErrorCode = Hl7ErrorCodes.dataTypeError,
    readonly reject = false,
  ) {
    const where = describeLocation(location);
    // Bad input is routine (and a flood of it must stay cheap): the stack of a data error says nothing.
    const limit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    super(where ? `${where}: ${problem}` : problem);
    Error.stackTraceLimit = limit;
    this.name = 'Hl7Error';
  }
}

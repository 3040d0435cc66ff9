// Splits a DICOM Upper Layer byte stream into PDUs (PS3.8 9.3): a 6-byte header (type, reserved,
// 32-bit big-endian length) and a body. Bytes may arrive split or coalesced across reads in any
// way; chunks are kept in a list and each PDU is copied at most once (zero copies when one chunk
// holds it whole). A declared length above the limit is refused before any of it is buffered.

export const PduType = {
  AssociateRq: 0x01,
  AssociateAc: 0x02,
  AssociateRj: 0x03,
  PDataTf: 0x04,
  ReleaseRq: 0x05,
  ReleaseRp: 0x06,
  Abort: 0x07,
} as const;

const knownTypes = new Set<number>(Object.values(PduType));

export class PduError extends Error {
  constructor(
    message: string,
    /** A-ABORT reason to send (PS3.8 9.3.8): 1 unrecognized PDU, 2 unexpected PDU, 6 invalid PDU parameter. */
    readonly abortReason: number,
  ) {
    super(message);
    this.name = 'PduError';
  }
}

export interface Pdu {
  type: number;
  /** The whole PDU including its 6-byte header (what dcmjs-dimse's RawPdu expects). */
  bytes: Buffer;
}

export class PduFramer {
  /** Unconsumed chunks are chunks[head..]; consumed ones are dropped in batches (no O(n) shift per PDU). */
  private chunks: Buffer[] = [];
  private head = 0;
  private buffered = 0;
  private bytesSeen = 0;
  /** Largest P-DATA-TF body we accept: our advertised Maximum Length once an association exists. */
  maxPDataLength: number;
  /** Largest body of any other PDU (an A-ASSOCIATE-RQ with 128 contexts is well under 64 KiB). */
  readonly maxControlLength: number;

  constructor(options: { maxPDataLength: number; maxControlLength?: number }) {
    this.maxPDataLength = options.maxPDataLength;
    this.maxControlLength = options.maxControlLength ?? 1024 * 1024;
  }

  /** Feeds bytes in; returns the PDUs they complete. Throws PduError on a bad header. */
  push(chunk: Buffer): Pdu[] {
    const out: Pdu[] = [];
    if (chunk.length === 0) return out;
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    for (;;) {
      if (this.buffered < 6) break;
      const header = this.peekHeader();
      const type = header.readUInt8(0);
      const length = header.readUInt32BE(2);
      const at = this.bytesSeen;
      if (!knownTypes.has(type)) {
        throw new PduError(`unrecognised PDU type 0x${type.toString(16).padStart(2, '0')} at stream byte ${at}`, 1);
      }
      const limit = type === PduType.PDataTf ? this.maxPDataLength : this.maxControlLength;
      if (length > limit) {
        throw new PduError(
          `${type === PduType.PDataTf ? 'P-DATA-TF' : `PDU type ${type}`} at stream byte ${at} declares ${length} bytes, above the negotiated maximum of ${limit}`,
          6,
        );
      }
      const total = 6 + length;
      if (this.buffered < total) break;
      out.push({ type, bytes: this.take(total) });
      this.bytesSeen += total;
    }
    if (this.head > 64 && this.head * 2 > this.chunks.length) {
      this.chunks = this.chunks.slice(this.head);
      this.head = 0;
    }
    return out;
  }

  /** Bytes of an incomplete PDU still held (dropped when the peer vanishes). */
  get pending(): number {
    return this.buffered;
  }

  private peekHeader(): Buffer {
    const first = this.chunks[this.head];
    if (first.length >= 6) return first;
    const header = Buffer.alloc(6);
    let filled = 0;
    for (let i = this.head; filled < 6; i++) {
      const c = this.chunks[i];
      const n = Math.min(6 - filled, c.length);
      c.copy(header, filled, 0, n);
      filled += n;
    }
    return header;
  }

  private take(n: number): Buffer {
    const first = this.chunks[this.head];
    let result: Buffer;
    if (first.length >= n) {
      result = first.subarray(0, n);
      if (first.length === n) this.chunks[this.head++] = EMPTY;
      else this.chunks[this.head] = first.subarray(n);
    } else {
      result = Buffer.allocUnsafe(n);
      let filled = 0;
      while (filled < n) {
        const c = this.chunks[this.head];
        const need = n - filled;
        if (c.length <= need) {
          c.copy(result, filled);
          filled += c.length;
          this.chunks[this.head++] = EMPTY;
        } else {
          c.copy(result, filled, 0, need);
          this.chunks[this.head] = c.subarray(need);
          filled += need;
        }
      }
    }
    this.buffered -= n;
    if (this.buffered === 0) {
      this.chunks = [];
      this.head = 0;
    }
    return result;
  }
}

const EMPTY = Buffer.alloc(0);

/** One Presentation Data Value item of a P-DATA-TF PDU (PS3.8 9.3.5.1, E.2). */
export interface Pdv {
  contextId: number;
  isCommand: boolean;
  isLast: boolean;
  value: Buffer;
}

/** The PDV items of a complete P-DATA-TF PDU; throws PduError (invalid PDU parameter) on a bad item length. */
export function readPdvs(pdu: Buffer): Pdv[] {
  const pdvs: Pdv[] = [];
  const end = pdu.length;
  let offset = 6;
  while (offset < end) {
    if (offset + 6 > end) throw new PduError(`P-DATA-TF item header truncated at PDU byte ${offset}`, 6);
    const itemLength = pdu.readUInt32BE(offset);
    if (itemLength < 2 || offset + 4 + itemLength > end) {
      throw new PduError(`P-DATA-TF item at PDU byte ${offset} declares length ${itemLength}, beyond the ${end}-byte PDU`, 6);
    }
    const contextId = pdu.readUInt8(offset + 4);
    const control = pdu.readUInt8(offset + 5);
    pdvs.push({ contextId, isCommand: (control & 1) === 1, isLast: (control & 2) === 2, value: pdu.subarray(offset + 6, offset + 4 + itemLength) });
    offset += 4 + itemLength;
  }
  if (pdvs.length === 0) throw new PduError('P-DATA-TF PDU without any PDV item', 6);
  return pdvs;
}

/**
 * Builds P-DATA-TF PDUs carrying `value` on `contextId`, each at most `maxPduLength` bytes of body
 * (0 = unlimited). `endsMessage` false leaves the "last fragment" bit clear on the final PDV too
 * (the caller sends more of the same dataset afterwards).
 */
export function writePDataTf(contextId: number, isCommand: boolean, value: Buffer, maxPduLength: number, endsMessage = true): Buffer[] {
  const maxValue = (maxPduLength > 0 ? maxPduLength : 1 << 30) - 6; // 4-byte item length + id + control
  const pdus: Buffer[] = [];
  let offset = 0;
  do {
    const n = Math.min(maxValue, value.length - offset);
    const last = endsMessage && offset + n >= value.length;
    const header = Buffer.allocUnsafe(12);
    header.writeUInt8(PduType.PDataTf, 0);
    header.writeUInt8(0, 1);
    header.writeUInt32BE(6 + n, 2);
    header.writeUInt32BE(2 + n, 6);
    header.writeUInt8(contextId, 10);
    header.writeUInt8((isCommand ? 1 : 0) | (last ? 2 : 0), 11);
    pdus.push(header, value.subarray(offset, offset + n));
    offset += n;
  } while (offset < value.length);
  return pdus;
}

// Frame encoding (standards.md §1.4 Transfer): <STX> FN text <ETB|ETX> C1 C2 <CR> <LF>.
import { CR, ETB, ETX, LF, STX } from './constants';

/** Sum of the bytes from FN to ETX/ETB inclusive, low 8 bits, as two upper-case hex digits. */
export function checksumOf(bytes: Uint8Array, start = 0, end = bytes.length): string {
  let sum = 0;
  for (let i = start; i < end; i++) sum = (sum + bytes[i]) & 0xff;
  return sum.toString(16).toUpperCase().padStart(2, '0');
}

/** One frame with frame number `fn` (0..7); `final` ends it with ETX, otherwise ETB. */
export function encodeFrame(fn: number, text: Uint8Array, final: boolean): Buffer {
  const frame = Buffer.allocUnsafe(text.length + 7);
  frame[0] = STX;
  frame[1] = 0x30 + (fn & 7);
  frame.set(text, 2);
  frame[text.length + 2] = final ? ETX : ETB;
  frame.write(checksumOf(frame, 1, text.length + 3), text.length + 3, 'latin1');
  frame[text.length + 5] = CR;
  frame[text.length + 6] = LF;
  return frame;
}

/**
 * Cuts message text into frame texts of at most `maxText` bytes. `unit: 'record'` starts every record
 * in a new frame sequence ending ETX (LIS1-A strict: one LIS2 record is one LIS1 "message");
 * `unit: 'message'` chains the whole text with ETB and ends only the last frame with ETX
 * (Roche "cobas type", Sysmex). Returns [text, final] pairs; numbering is the sender's job.
 */
export function splitFrames(records: Buffer[], maxText: number, unit: 'record' | 'message'): Array<[Buffer, boolean]> {
  if (maxText < 1) throw new Error(`frame size must be at least 1 character, got ${maxText}`);
  const out: Array<[Buffer, boolean]> = [];
  const cut = (text: Buffer) => {
    for (let offset = 0; offset < text.length; offset += maxText) {
      const end = Math.min(text.length, offset + maxText);
      out.push([text.subarray(offset, end), end === text.length]);
    }
  };
  if (unit === 'record') for (const record of records) cut(record);
  else {
    cut(Buffer.concat(records));
  }
  return out;
}

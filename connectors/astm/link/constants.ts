// LIS1-A (formerly ASTM E1381) control characters and limits (standards.md §1.1, §1.2).
export const STX = 0x02;
export const ETX = 0x03;
export const EOT = 0x04;
export const ENQ = 0x05;
export const ACK = 0x06;
export const NAK = 0x15;
export const ETB = 0x17;
export const LF = 0x0a;
export const CR = 0x0d;

/** Characters that may not appear in frame text (LF is tolerated, see frameScanner). */
export const RESTRICTED = new Set([0x01, STX, ETX, EOT, ENQ, ACK, 0x10, NAK, 0x16, ETB, 0x11, 0x12, 0x13, 0x14]);

/** LIS1-A: a frame holds at most 64 000 characters including overhead; we accept that much text. */
export const MAX_RECEIVE_FRAME_TEXT = 64_000;
/** E1381-91/95 and most analyser manuals: 240 text characters per frame (247 bytes with overhead). */
export const DEFAULT_SEND_FRAME_TEXT = 240;

const names: Record<number, string> = {
  [STX]: 'STX',
  [ETX]: 'ETX',
  [EOT]: 'EOT',
  [ENQ]: 'ENQ',
  [ACK]: 'ACK',
  [NAK]: 'NAK',
  [ETB]: 'ETB',
  [LF]: 'LF',
  [CR]: 'CR',
};

/** A byte as people read it in a capture: `ACK`, `0x41 'A'`. */
export function byteName(byte: number): string {
  if (names[byte]) return names[byte];
  const hex = '0x' + byte.toString(16).toUpperCase().padStart(2, '0');
  return byte >= 0x20 && byte < 0x7f ? `${hex} '${String.fromCharCode(byte)}'` : hex;
}

// The five characters a message declares for itself in MSH-1 and MSH-2 (FHS/BHS for batches).
// Nothing in the codec assumes `|^~\&`: every split and every escape uses these.
import { Hl7Error, Hl7ErrorCodes } from './errors';

export interface Delimiters {
  field: string;
  component: string;
  repetition: string;
  escape: string;
  subcomponent: string;
  /** v2.7 truncation character (5th encoding character), when declared. */
  truncation: string;
  /** MSH-2 exactly as declared (1 to 5 characters). */
  encodingCharacters: string;
}

export const DEFAULT_DELIMITERS: Readonly<Delimiters> = Object.freeze({
  field: '|',
  component: '^',
  repetition: '~',
  escape: '\\',
  subcomponent: '&',
  truncation: '',
  encodingCharacters: '^~\\&',
});

/** Builds delimiters for a new message from MSH-1 and MSH-2 text (validated like a received header). */
export function delimitersFrom(field: string, encoding: string): Delimiters {
  return readDelimiters(`MSH${field}${encoding}${field}`);
}

function isForbidden(ch: string): boolean {
  const c = ch.charCodeAt(0);
  // Delimiters are printable ASCII (v2.5 §2.5.4): not letters, digits, space, CR/LF, MLLP bytes or anything past 0x7E.
  return (
    c < 0x21 ||
    c > 0x7e ||
    (c >= 0x30 && c <= 0x39) ||
    (c >= 0x41 && c <= 0x5a) ||
    (c >= 0x61 && c <= 0x7a) ||
    c === 0x0d ||
    c === 0x0a ||
    c === 0x0b ||
    c === 0x1c ||
    c === 0x20
  );
}

/**
 * Reads MSH-1/MSH-2 from the start of a header segment (`MSH`, `FHS` or `BHS`). Throws an Hl7Error
 * naming the byte when a delimiter is missing, repeated or not allowed.
 */
export function readDelimiters(text: string, start = 0, segment = 'MSH'): Delimiters {
  const field = text.charAt(start + 3);
  if (field === '') {
    throw new Hl7Error(`${segment} ends before MSH-1 (the field separator)`, { segment, field: 1, byteOffset: start + 3 }, Hl7ErrorCodes.requiredFieldMissing, true);
  }
  if (isForbidden(field)) {
    throw new Hl7Error(`field separator ${JSON.stringify(field)} is not allowed (delimiters are printable ASCII other than letters and digits)`, { segment, field: 1, byteOffset: start + 3 }, Hl7ErrorCodes.dataTypeError, true);
  }
  let end = start + 4;
  while (end < text.length && end < start + 9) {
    const ch = text.charAt(end);
    if (ch === field || ch === '\r' || ch === '\n') break;
    end++;
  }
  const chars = text.slice(start + 4, end);
  if (chars.length < 1) {
    throw new Hl7Error('MSH-2 (encoding characters) is empty', { segment, field: 2, byteOffset: start + 4 }, Hl7ErrorCodes.requiredFieldMissing, true);
  }
  if (chars.length > 5) {
    throw new Hl7Error(`MSH-2 (encoding characters) ${JSON.stringify(chars)} is longer than 5 characters`, { segment, field: 2, byteOffset: start + 4 }, Hl7ErrorCodes.dataTypeError, true);
  }
  const seen = new Set<string>([field]);
  for (let i = 0; i < chars.length; i++) {
    const ch = chars.charAt(i);
    if (isForbidden(ch) || seen.has(ch)) {
      throw new Hl7Error(
        `encoding character ${JSON.stringify(ch)} in MSH-2 ${JSON.stringify(chars)} is ${seen.has(ch) ? 'used twice' : 'not allowed'}`,
        { segment, field: 2, byteOffset: start + 4 + i },
        Hl7ErrorCodes.dataTypeError,
        true,
      );
    }
    seen.add(ch);
  }
  // Missing trailing characters mean "not used": an impossible character keeps splits from matching.
  return {
    field,
    component: chars.charAt(0),
    repetition: chars.charAt(1) || '\u0000',
    escape: chars.charAt(2) || '\u0000',
    subcomponent: chars.charAt(3) || '\u0000',
    truncation: chars.charAt(4),
    encodingCharacters: chars,
  };
}

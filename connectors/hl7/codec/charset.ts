// Character sets: the names HL7 table 0211 uses in MSH-18, plus the legacy Vietnamese encodings a
// sender may use without declaring them (configured per source). Every charset here is byte-oriented
// and keeps VT, FS and CR as themselves, so MLLP framing and segment splitting work on the raw bytes.
import { isUtf8 } from 'node:buffer';
import { foldVietnamese } from '../../../engine/text/vietnamese';
import { TCVN5712_1, VISCII } from './charsets/legacy-vietnamese-tables';

export interface Charset {
  /** Our canonical name (what the `charset` option accepts). */
  name: string;
  /** The MSH-18 value to declare for this charset ('' = none: 7-bit ASCII). */
  hl7Name: string;
  /** Decodes bytes; returns the byte offset of the first invalid byte instead of text when strict. */
  decode(bytes: Buffer): string | { invalidAt: number };
  /** Offset of the first byte that is not valid in this charset, -1 when all are. */
  check(bytes: Buffer): number;
  /** Decodes a range already checked (lazy per-segment decoding). */
  text(bytes: Buffer, start: number, end: number): string;
  /** Encodes text; returns the index of the first character this charset cannot represent. */
  encode(text: string): Buffer | { unencodableAt: number };
}

/** Offset of the first byte that does not start or continue a valid UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Buffer): number {
  let i = 0;
  const n = bytes.length;
  while (i < n) {
    const b = bytes[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    let need: number;
    let min: number;
    if (b >= 0xc2 && b <= 0xdf) (need = 1), (min = 0x80);
    else if (b >= 0xe0 && b <= 0xef) (need = 2), (min = 0x800);
    else if (b >= 0xf0 && b <= 0xf4) (need = 3), (min = 0x10000);
    else return i;
    if (i + need >= n) return i; // sequence cut off by the end of the bytes
    let cp = b & (0x3f >> need);
    for (let k = 1; k <= need; k++) {
      const c = bytes[i + k];
      if (c === undefined || (c & 0xc0) !== 0x80) return i;
      cp = (cp << 6) | (c & 0x3f);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return i;
    i += need + 1;
  }
  return -1;
}

const utf8: Charset = {
  name: 'utf-8',
  hl7Name: 'UNICODE UTF-8',
  decode(bytes) {
    if (isUtf8(bytes)) return bytes.toString('utf8');
    return { invalidAt: firstInvalidUtf8(bytes) };
  },
  check: (bytes) => (isUtf8(bytes) ? -1 : firstInvalidUtf8(bytes)),
  text: (bytes, start, end) => bytes.toString('utf8', start, end),
  encode: (text) => Buffer.from(text, 'utf8'),
};

const ascii: Charset = {
  name: 'ascii',
  hl7Name: '',
  decode(bytes) {
    const bad = ascii.check(bytes);
    return bad >= 0 ? { invalidAt: bad } : bytes.toString('latin1');
  },
  check(bytes) {
    for (let i = 0; i < bytes.length; i++) if (bytes[i] > 0x7f) return i;
    return -1;
  },
  text: (bytes, start, end) => bytes.toString('latin1', start, end),
  encode(text) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return { unencodableAt: i };
    return Buffer.from(text, 'latin1');
  },
};

/** ASCII on the wire, Vietnamese folded first (for receivers that take only ASCII). Outbound only. */
const asciiFolded: Charset = {
  name: 'ascii-folded',
  hl7Name: '',
  decode: (bytes) => ascii.decode(bytes),
  check: (bytes) => ascii.check(bytes),
  text: (bytes, start, end) => bytes.toString('latin1', start, end),
  encode: (text) => ascii.encode(foldVietnamese(text)),
};

const latin1: Charset = {
  name: 'iso-8859-1',
  hl7Name: '8859/1',
  decode: (bytes) => bytes.toString('latin1'),
  check: () => -1,
  text: (bytes, start, end) => bytes.toString('latin1', start, end),
  encode(text) {
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0xff) return { unencodableAt: i };
    return Buffer.from(text, 'latin1');
  },
};

/**
 * A single-byte charset from a 256-entry table. Decoded text is NFC-normalised (windows-1258 and
 * TCVN write tones as combining marks); encoding decomposes a letter the table lacks into a base the
 * table has plus combining marks (ế → ê + U+0301), which is how those charsets spell it.
 */
function singleByte(name: string, hl7Name: string, table: readonly number[]): Charset {
  const decodeTable = table.map((cp) => String.fromCodePoint(cp));
  const encodeTable = new Map<string, number>();
  for (let b = 255; b >= 0; b--) if (table[b] !== 0xfffd) encodeTable.set(decodeTable[b], b);
  const hasCombining = table.some((cp) => cp >= 0x300 && cp <= 0x36f);
  return {
    name,
    hl7Name,
    decode(bytes) {
      const bad = this.check(bytes);
      return bad >= 0 ? { invalidAt: bad } : this.text(bytes, 0, bytes.length);
    },
    check(bytes) {
      for (let i = 0; i < bytes.length; i++) if (decodeTable[bytes[i]] === '\ufffd') return i;
      return -1;
    },
    text(bytes, start, end) {
      let out = '';
      for (let i = start; i < end; i++) out += decodeTable[bytes[i]];
      return hasCombining ? out.normalize('NFC') : out;
    },
    encode(text) {
      const bytes: number[] = [];
      for (let i = 0; i < text.length; i++) {
        const ch = text.charAt(i);
        const direct = encodeTable.get(ch);
        if (direct !== undefined) {
          bytes.push(direct);
          continue;
        }
        const parts = [...ch.normalize('NFD')];
        // Longest base the table knows (e.g. "ê" from "e"+U+0302), then the remaining marks one by one.
        let taken = 0;
        for (let k = parts.length; k >= 1; k--) {
          const base = parts.slice(0, k).join('').normalize('NFC');
          const b = encodeTable.get(base);
          if (b !== undefined) {
            bytes.push(b);
            taken = k;
            break;
          }
        }
        if (taken === 0) return { unencodableAt: i };
        for (const mark of parts.slice(taken)) {
          const b = encodeTable.get(mark);
          if (b === undefined) return { unencodableAt: i };
          bytes.push(b);
        }
      }
      return Buffer.from(bytes);
    },
  };
}

function tableFromTextDecoder(label: string): number[] {
  const decoder = new TextDecoder(label);
  const table: number[] = [];
  for (let b = 0; b < 256; b++) {
    const s = decoder.decode(Uint8Array.of(b));
    table.push(s.length === 1 ? s.charCodeAt(0) : 0xfffd);
  }
  return table;
}

const cache = new Map<string, Charset>();

function build(name: string): Charset | undefined {
  switch (name) {
    case 'utf-8':
      return utf8;
    case 'ascii':
      return ascii;
    case 'ascii-folded':
      return asciiFolded;
    case 'iso-8859-1':
      return latin1;
    case 'windows-1258':
      return singleByte('windows-1258', 'WINDOWS-1258', tableFromTextDecoder('windows-1258'));
    case 'tcvn3':
      return singleByte('tcvn3', 'TCVN3', TCVN5712_1);
    case 'viscii':
      return singleByte('viscii', 'VISCII', VISCII);
  }
  const m = /^iso-8859-(2|3|4|5|6|7|8|9|15)$/.exec(name);
  if (m) return singleByte(name, `8859/${m[1]}`, tableFromTextDecoder(name));
  return undefined;
}

/** Names (and aliases) accepted by the `charset` options, lower-case. */
const aliases: Record<string, string> = {
  'utf-8': 'utf-8',
  utf8: 'utf-8',
  'unicode utf-8': 'utf-8',
  // Table 0211 "UNICODE" (v2.3): analysers (e.g. Mindray) declare it and send UTF-8 bytes; they are checked as such.
  unicode: 'utf-8',
  ascii: 'ascii',
  'us-ascii': 'ascii',
  'iso ir6': 'ascii',
  'ascii-folded': 'ascii-folded',
  latin1: 'iso-8859-1',
  'iso-8859-1': 'iso-8859-1',
  '8859/1': 'iso-8859-1',
  'iso ir100': 'iso-8859-1',
  'windows-1258': 'windows-1258',
  cp1258: 'windows-1258',
  tcvn3: 'tcvn3',
  tcvn: 'tcvn3',
  'tcvn5712-1': 'tcvn3',
  'tcvn 5712': 'tcvn3',
  vn3: 'tcvn3',
  abc: 'tcvn3',
  viscii: 'viscii',
};
for (const n of ['2', '3', '4', '5', '6', '7', '8', '9', '15']) {
  aliases[`8859/${n}`] = `iso-8859-${n}`;
  aliases[`iso-8859-${n}`] = `iso-8859-${n}`;
}

/** Every name `charsetByName` accepts (for documentation and error messages). */
export const supportedCharsetNames = Object.keys(aliases);

/** Finds a charset by option name or MSH-18 value (case-insensitive); undefined when unsupported. */
export function charsetByName(name: string): Charset | undefined {
  const key = aliases[name.trim().toLowerCase()];
  if (!key) return undefined;
  let charset = cache.get(key);
  if (!charset) {
    charset = build(key);
    if (charset) cache.set(key, charset);
  }
  return charset;
}

export const UTF8 = utf8;

// Byte-level stages in front of the tokenizer: strict UTF-8 decoding (with a precise error for the
// Windows-1258 / TCVN3 / UTF-16 files older HIS software writes) and incremental base64 decoding
// (NOIDUNGFILE, and the whole envelope as uploaded). Both work on chunks of any size.

export class EncodingError extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'EncodingError';
  }
}

const encodingHint = 'BHYT XML must be UTF-8 (QĐ 130 Điều 1); the file is probably in Windows-1258, TCVN3 (ABC) or VNI: convert it to UTF-8';

/** Decodes UTF-8 strictly; throws EncodingError naming the byte offset of the first invalid sequence. */
export class Utf8Stage {
  private readonly decoder = new TextDecoder('utf-8', { fatal: true });
  private offset = 0;
  private first = true;
  bomSeen = false;

  write(bytes: Uint8Array): string {
    if (this.first && bytes.length > 0) {
      this.first = false;
      checkStart(bytes);
      if (bytes.length >= 3 && bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) this.bomSeen = true;
    }
    let text: string;
    try {
      text = this.decoder.decode(bytes, { stream: true });
    } catch {
      const bad = findInvalidUtf8(bytes);
      const at = this.offset + bad;
      const shown = Array.from(bytes.subarray(bad, bad + 3), (b) => `0x${b.toString(16).toUpperCase().padStart(2, '0')}`).join(' ');
      throw new EncodingError(`byte ${shown} at offset ${at} is not valid UTF-8. ${encodingHint}`);
    }
    this.offset += bytes.length;
    return text;
  }

  end(): string {
    try {
      return this.decoder.decode();
    } catch {
      throw new EncodingError(`the file ends in the middle of a UTF-8 character (offset ${this.offset}). ${encodingHint}`);
    }
  }
}

function checkStart(bytes: Uint8Array): void {
  const b0 = bytes[0];
  const b1 = bytes[1];
  if ((b0 === 0xff && b1 === 0xfe) || (b0 === 0xfe && b1 === 0xff)) throw new EncodingError(`the file starts with a UTF-16 byte-order mark. ${encodingHint.replace('Windows-1258, TCVN3 (ABC) or VNI', 'UTF-16')}`);
  if (bytes.length > 1 && ((b0 === 0x3c && b1 === 0x00) || (b0 === 0x00 && b1 === 0x3c))) throw new EncodingError(`the file looks like UTF-16 without a byte-order mark. ${encodingHint.replace('Windows-1258, TCVN3 (ABC) or VNI', 'UTF-16')}`);
}

/** Offset of the first byte that starts an invalid UTF-8 sequence (continuation bytes at the very start are skipped: they finish a character of the previous chunk). */
export function findInvalidUtf8(bytes: Uint8Array): number {
  let i = 0;
  while (i < bytes.length && i < 3 && (bytes[i] & 0xc0) === 0x80) i++;
  while (i < bytes.length) {
    const b = bytes[i];
    let n: number;
    if (b < 0x80) n = 0;
    else if (b >= 0xc2 && b <= 0xdf) n = 1;
    else if (b >= 0xe0 && b <= 0xef) n = 2;
    else if (b >= 0xf0 && b <= 0xf4) n = 3;
    else return i;
    for (let k = 1; k <= n; k++) {
      if (i + k >= bytes.length) return bytes.length; // incomplete at the end: the next chunk decides
      if ((bytes[i + k] & 0xc0) !== 0x80) return i;
    }
    i += n + 1;
  }
  return Math.max(0, bytes.length - 1);
}

export class Base64Error extends Error {
  constructor(readonly reason: string) {
    super(reason);
    this.name = 'Base64Error';
  }
}

const base64Chars = /^[A-Za-z0-9+/]*$/;
const whitespace = /[\s]+/g;

/** Incremental standard base64 decoder (whitespace ignored, padding only at the end). */
export class Base64Decoder {
  private pending = '';
  private seen = 0;
  private ended = false;
  decodedBytes = 0;

  write(text: string): Buffer {
    if (this.ended) {
      // Only more padding may follow the first '=' (it can arrive in the next chunk).
      const rest = text.replace(whitespace, '');
      if (!/^=*$/.test(rest)) throw new Base64Error(`data after the base64 padding (character ${this.seen})`);
      this.padding += rest.length;
      if (this.padding > 2) throw new Base64Error(`more than two '=' at the end of the base64 text`);
      return Buffer.alloc(0);
    }
    let body = text;
    const pad = text.indexOf('=');
    if (pad >= 0) {
      const tail = text.slice(pad).replace(whitespace, '');
      if (!/^={1,2}$/.test(tail)) throw new Base64Error(`misplaced '=' in base64 at character ${this.seen + pad}`);
      body = text.slice(0, pad);
      this.ended = true;
      this.padding = tail.length;
    }
    const all = this.pending + body;
    const usable = all.length - (all.length % 4);
    // Fast path: Node's decoder skips what is not base64, so a clean chunk decodes to exactly 3/4 of
    // its length; anything else (line breaks, bad characters) takes the checking path below.
    const out = usable > 0 ? Buffer.from(all.slice(0, usable), 'base64') : Buffer.alloc(0);
    const rest = all.slice(usable);
    if (out.length === (usable / 4) * 3 && !/[^A-Za-z0-9+/]/.test(rest)) {
      this.pending = rest;
      this.seen += body.length;
      this.decodedBytes += out.length;
      return out;
    }
    return this.writeChecked(body);
  }

  /** Strips whitespace, names the first character that is not base64, decodes the rest. */
  private writeChecked(body: string): Buffer {
    const clean = body.replace(whitespace, '');
    if (!base64Chars.test(clean)) {
      const bad = clean.search(/[^A-Za-z0-9+/]/);
      throw new Base64Error(`character "${clean[bad]}" at position ${this.seen + bad} is not base64`);
    }
    this.seen += clean.length;
    const all = this.pending + clean;
    const usable = all.length - (all.length % 4);
    this.pending = all.slice(usable);
    const out = usable > 0 ? Buffer.from(all.slice(0, usable), 'base64') : Buffer.alloc(0);
    this.decodedBytes += out.length;
    return out;
  }

  private padding = 0;

  end(): Buffer {
    const rest = this.pending.length;
    if (this.padding > 0 && (rest + this.padding) % 4 !== 0) throw new Base64Error(`base64 length is not a multiple of 4 (${this.seen} characters and ${this.padding} '=')`);
    if (rest === 0) return Buffer.alloc(0);
    if (rest % 4 === 1) throw new Base64Error(`base64 text is truncated (${this.seen} characters)`);
    // Unpadded base64 with 2 or 3 trailing characters is accepted (some encoders drop '=').
    const out = Buffer.from(this.pending, 'base64');
    this.pending = '';
    this.decodedBytes += out.length;
    return out;
  }
}

// One segment. It keeps its raw text and splits it into fields only when a field is first read, and
// it keeps values escaped until they are read; writing re-joins with the same delimiters, so an
// untouched segment serialises to exactly the bytes it came from.
import type { Delimiters } from './delimiters';
import { escapeValue, unescapeValue, type BytesDecoder } from './escape';

/** What a segment needs from its message. */
export interface SegmentOwner {
  readonly delimiters: Delimiters;
  readonly decodeBytes: BytesDecoder;
  /** Called when the segment changes (the message then re-serialises instead of returning its input). */
  touched(): void;
  /** Decodes a byte range of the message's input (segments of a message parsed from bytes decode on first read). */
  decodeRange(start: number, end: number): string;
}

/** Segments whose field 1 is the field separator itself (MSH-1) and field 2 the encoding characters. */
export function isHeaderSegment(name: string): boolean {
  return name === 'MSH' || name === 'FHS' || name === 'BHS';
}

/** The n-th (1-based) piece of `s` split by `sep`, without allocating an array. */
export function piece(s: string, sep: string, n: number): string {
  let start = 0;
  for (let k = 1; k < n; k++) {
    const i = s.indexOf(sep, start);
    if (i < 0) return '';
    start = i + 1;
  }
  const end = s.indexOf(sep, start);
  if (end < 0) return start === 0 ? s : s.slice(start);
  return s.slice(start, end);
}

function countPieces(s: string, sep: string): number {
  if (s === '') return 0;
  let n = 1;
  let i = s.indexOf(sep);
  while (i >= 0) {
    n++;
    i = s.indexOf(sep, i + 1);
  }
  return n;
}

function replacePiece(s: string, sep: string, n: number, value: string): string {
  const parts = s === '' ? [''] : s.split(sep);
  while (parts.length < n) parts.push('');
  parts[n - 1] = value;
  // Trailing empty pieces carry no meaning and HL7 says to leave them out.
  while (parts.length > 1 && parts[parts.length - 1] === '') parts.pop();
  return parts.join(sep);
}

export class Hl7Segment {
  private text: string | undefined;
  /** Field texts, only once the segment was changed (reading works on `text` and `seps`). */
  private parts: string[] | undefined;
  /** Positions of the field separators in `text`, found on first read: no substring is made until a field is asked for. */
  private seps: number[] | undefined;
  private sepsComplete = false;
  private readonly header: boolean;

  /** Byte range of the segment in the input, while its text has not been decoded yet. */
  private rangeStart = -1;
  private rangeEnd = -1;

  /**
   * @param name segment ID (`PID`)
   * @param text raw segment text without its terminator, or the byte range to decode it from on first read
   * @param tail what followed the segment in the input (its terminator, blank lines): kept for lossless output
   * @param offset offset of the segment in the input (bytes when parsed from bytes), for error locations
   */
  constructor(
    private readonly owner: SegmentOwner,
    readonly name: string,
    text: string | { start: number; end: number },
    public tail = '\r',
    readonly offset = -1,
  ) {
    if (typeof text === 'string') this.text = text;
    else {
      this.rangeStart = text.start;
      this.rangeEnd = text.end;
    }
    this.header = isHeaderSegment(name);
  }

  /** The segment's source text, decoded from the input bytes on first use. */
  private source(): string {
    let t = this.text;
    if (t === undefined) t = this.text = this.owner.decodeRange(this.rangeStart, this.rangeEnd);
    return t;
  }

  /** Separator positions, scanned only as far as the highest field asked for so far. */
  private separators(upTo = Infinity): number[] {
    let seps = this.seps;
    if (seps === undefined) seps = this.seps = [];
    else if (this.sepsComplete || seps.length >= upTo) return seps;
    const text = this.source();
    const fs = this.owner.delimiters.field;
    let i = text.indexOf(fs, seps.length === 0 ? 0 : seps[seps.length - 1] + 1);
    while (i >= 0) {
      seps.push(i);
      if (seps.length >= upTo) return seps;
      i = text.indexOf(fs, i + 1);
    }
    this.sepsComplete = true;
    return seps;
  }

  /** The raw text of field n without splitting the segment. */
  private field(n: number): string | undefined {
    if (this.parts !== undefined) return this.parts[n];
    const text = this.source();
    if (this.header) {
      if (n === 1) return this.owner.delimiters.field;
      n -= 1; // MSH-2 is the first piece after MSH-1
    }
    if (n < 1) return undefined;
    const seps = this.separators(n + 1);
    if (n > seps.length) return undefined;
    const start = seps[n - 1] + 1;
    const end = n < seps.length ? seps[n] : text.length;
    return text.slice(start, end);
  }

  private fields(): string[] {
    if (this.parts === undefined) {
      const fs = this.owner.delimiters.field;
      const parts = this.source().split(fs);
      if (this.header) parts.splice(1, 0, fs);
      this.parts = parts;
      this.seps = undefined;
      this.sepsComplete = false;
    }
    return this.parts;
  }

  /** The highest field number present (MSH counts MSH-1). */
  get fieldCount(): number {
    if (this.parts !== undefined) return this.parts.length - 1;
    return this.separators().length + (this.header ? 1 : 0);
  }

  /** Field `n` exactly as written (escaped, all repetitions and components); '' when absent. */
  raw(field: number): string {
    return this.field(field) ?? '';
  }

  /**
   * A decoded value: component and subcomponent default to 1, repetition to 1 (HAPI Terser rules),
   * so `get(5)` on `Nguyễn^Văn An` is `Nguyễn`. MSH-1 and MSH-2 are returned as written.
   */
  get(field: number, component = 1, subcomponent = 1, repetition = 1): string {
    const f = this.field(field);
    if (f === undefined || f === '') return '';
    if (field <= 2 && this.header) return f;
    const d = this.owner.delimiters;
    let s = f;
    if (repetition > 1 || s.indexOf(d.repetition) >= 0) s = piece(s, d.repetition, repetition);
    if (component > 1 || s.indexOf(d.component) >= 0) s = piece(s, d.component, component);
    if (subcomponent > 1 || s.indexOf(d.subcomponent) >= 0) s = piece(s, d.subcomponent, subcomponent);
    return s.indexOf(d.escape) < 0 ? s : unescapeValue(s, d, this.owner.decodeBytes);
  }

  /** The raw text of one repetition / component / subcomponent (escaped, undivided below that level). */
  rawAt(field: number, repetition = 1, component?: number, subcomponent?: number): string {
    const d = this.owner.delimiters;
    const f = this.raw(field);
    if (field <= 2 && this.header) return f;
    let s = piece(f, d.repetition, repetition);
    if (component !== undefined) s = piece(s, d.component, component);
    if (subcomponent !== undefined && component !== undefined) s = piece(s, d.subcomponent, subcomponent);
    return s;
  }

  repetitionCount(field: number): number {
    if (field <= 2 && this.header) return this.raw(field) === '' ? 0 : 1;
    return countPieces(this.raw(field), this.owner.delimiters.repetition);
  }

  componentCount(field: number, repetition = 1): number {
    return countPieces(this.rawAt(field, repetition), this.owner.delimiters.component);
  }

  /** Decoded components of one repetition: `['Nguyễn', 'Văn An']`. */
  components(field: number, repetition = 1): string[] {
    const d = this.owner.delimiters;
    const r = this.rawAt(field, repetition);
    if (r === '') return [];
    return r.split(d.component).map((c) => unescapeValue(piece(c, d.subcomponent, 1), d, this.owner.decodeBytes));
  }

  /** Writes a plain-text value (escaped here) at field / component / subcomponent / repetition. */
  set(field: number, value: string, component?: number, subcomponent?: number, repetition = 1): this {
    return this.setRaw(field, escapeValue(value, this.owner.delimiters), component, subcomponent, repetition);
  }

  /** Writes already-escaped text (it may contain delimiters on purpose, e.g. `Nguyễn^Văn An`). */
  setRaw(field: number, raw: string, component?: number, subcomponent?: number, repetition = 1): this {
    if (!Number.isSafeInteger(field) || field < 1) throw new Error(`${this.name}: field number must be 1 or more, got ${field}`);
    if (field <= 2 && this.header) throw new Error(`${this.name}-${field} holds the delimiters and cannot be changed`);
    const d = this.owner.delimiters;
    const parts = this.fields();
    while (parts.length <= field) parts.push('');
    let value = raw;
    if (component !== undefined) {
      const rep = piece(parts[field], d.repetition, repetition);
      let comp = value;
      if (subcomponent !== undefined) comp = replacePiece(piece(rep, d.component, component), d.subcomponent, subcomponent, value);
      value = replacePiece(rep, d.component, component, comp);
    }
    parts[field] = repetition > 1 || component !== undefined ? replacePiece(parts[field], d.repetition, repetition, value) : value;
    while (parts.length > 1 && parts[parts.length - 1] === '' && parts.length - 1 > (this.header ? 2 : 0)) parts.pop();
    this.text = undefined; // rebuilt from parts on the next toString()
    this.owner.touched();
    return this;
  }

  /** The segment text (no terminator). */
  toString(): string {
    if (this.parts === undefined) return this.source();
    if (this.text === undefined) this.text = this.rebuild();
    return this.text;
  }

  /** Re-joins the fields (used to prove serialisation is lossless; toString reuses the input when untouched). */
  rebuild(): string {
    const parts = this.fields();
    const fs = this.owner.delimiters.field;
    if (this.header) return parts[0] + fs + parts.slice(2).join(fs);
    return parts.join(fs);
  }
}

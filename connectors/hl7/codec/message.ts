// An HL7 v2 message (ER7). Parsing only finds segment boundaries and reads the delimiters; fields are
// split on first access and unescaped on read, so routing on MSH costs one split. An untouched
// message serialises to its input (same string, same bytes); a changed one re-joins its segments with
// the delimiters and terminators it came with.
import { charsetByName, supportedCharsetNames, UTF8, type Charset } from './charset';
import { DEFAULT_DELIMITERS, readDelimiters, type Delimiters } from './delimiters';
import { Hl7Error, Hl7ErrorCodes } from './errors';
import type { BytesDecoder } from './escape';
import { parsePath } from './path';
import { Hl7Segment, isHeaderSegment, piece, type SegmentOwner } from './segment';
import { groupSegments, type Hl7Group } from './structure';

export interface ParseOptions {
  /**
   * Charset of the bytes. Default: what MSH-18 declares, else UTF-8. Set it for a legacy sender that
   * writes e.g. windows-1258 or TCVN3 without declaring it (it then wins over MSH-18).
   */
  charset?: string;
}

function isIdChar(c: number): boolean {
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39);
}

function isBlank(text: string, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    if (c !== 0x20 && c !== 0x09 && c !== 0x0d && c !== 0x0a) return false;
  }
  return true;
}

/** `MSH|^~\\&|`: the delimiters nearly every sender uses, recognised without building a string. */
function isStandardHeader(b: Buffer): boolean {
  return b.length > 8 && b[3] === 0x7c && b[4] === 0x5e && b[5] === 0x7e && b[6] === 0x5c && b[7] === 0x26 && b[8] === 0x7c;
}

function afterByteTerminator(bytes: Buffer, end: number, term: number): number {
  if (end >= bytes.length) return bytes.length;
  return term === 0x0d && bytes[end + 1] === 0x0a ? end + 2 : end + 1;
}

// Segment IDs repeat across messages: one string per ID instead of one per segment read.
const names = new Map<number, string>();
function segmentName(a: number, b: number, c: number): string {
  const key = (a << 16) | (b << 8) | c;
  let name = names.get(key);
  if (name === undefined) {
    name = String.fromCharCode(a, b, c);
    if (names.size < 4096) names.set(key, name);
  }
  return name;
}

/** Reads MSH-18 (first repetition) straight from the bytes, before the charset is known. */
export function declaredCharsetOf(bytes: Buffer): string {
  if (bytes.length < 9) return '';
  const fs = bytes[3];
  const comp = bytes[4];
  const rep = bytes[5] === fs ? -1 : bytes[5];
  // Walk MSH to its 17th field separator; MSH-18 follows (the header line is short: a loop beats indexOf calls).
  let count = 1; // the separator at byte 3 (MSH-1) is the first
  let i = 4;
  const n = Math.min(bytes.length, 8192);
  for (; i < n; i++) {
    const b = bytes[i];
    if (b === 0x0d || b === 0x0a) return '';
    if (b === fs && ++count === 17) break;
  }
  if (count < 17) return '';
  let end = i + 1;
  while (end < n) {
    const b = bytes[end];
    if (b === fs || b === comp || b === rep || b === 0x0d || b === 0x0a) break;
    end++;
  }
  return end > i + 1 ? bytes.toString('latin1', i + 1, end).trim() : '';
}

/** Segment, field and repetition containing a byte offset (for naming where invalid bytes are). */
function locateByte(bytes: Buffer, offset: number): { segment: string; sequence: number; field: number } {
  const text = bytes.toString('latin1', 0, offset);
  const fs = text.charAt(3) || '|';
  const segStart = Math.max(text.lastIndexOf('\r'), text.lastIndexOf('\n')) + 1;
  const segText = text.slice(segStart);
  const name = segText.slice(0, 3);
  let field = 0;
  for (let i = 0; i < segText.length; i++) if (segText.charAt(i) === fs) field++;
  if (isHeaderSegment(name)) field++;
  let sequence = 0;
  for (const line of text.slice(0, segStart).split(/\r\n?|\n/)) if (line.startsWith(name)) sequence++;
  return { segment: name, sequence: sequence + 1, field };
}

export class Hl7Message implements SegmentOwner {
  readonly delimiters: Delimiters;
  readonly charset: Charset;
  readonly decodeBytes: BytesDecoder;
  private readonly segmentList: Hl7Segment[];
  private byName: Map<string, Hl7Segment[]> | undefined;
  private sourceText: string | undefined;
  private readonly sourceBytes: Buffer | undefined;
  private changed = false;

  private constructor(delimiters: Delimiters, charset: Charset, text: string | undefined, bytes: Buffer | undefined) {
    this.delimiters = delimiters;
    this.charset = charset;
    this.decodeBytes = (b: Buffer) => {
      const r = charset.decode(b);
      return typeof r === 'string' ? r : b.toString('latin1');
    };
    this.sourceText = text;
    this.sourceBytes = bytes;
    this.segmentList = [];
  }

  /**
   * Parses a message from text or bytes. Throws an Hl7Error naming the segment, field and byte for
   * anything that is not a message: no MSH, bad delimiters, a malformed segment ID, bytes that are
   * not valid in the charset.
   */
  static parse(input: string | Buffer, options: ParseOptions = {}): Hl7Message {
    if (typeof input === 'string') {
      const charset = (options.charset && charsetByName(options.charset)) || charsetFromDeclaration(declaredFromText(input)) || UTF8;
      return Hl7Message.fromText(input, charset, undefined);
    }
    // Not a message at all (no MSH) is a reject, whatever bytes follow: say that before any charset complaint.
    if (input.length < 3 || input[0] !== 0x4d || input[1] !== 0x53 || input[2] !== 0x48) {
      const found = input.toString('latin1', 0, 3).replace(/[^\x20-\x7e]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
      throw new Hl7Error(input.length === 0 ? 'the message is empty' : `the message must start with MSH, found "${found}"`, { byteOffset: 0 }, Hl7ErrorCodes.requiredFieldMissing, true);
    }
    const charset = resolveCharset(input, options.charset);
    const invalidAt = charset.check(input);
    if (invalidAt >= 0) {
      const where = locateByte(input, invalidAt);
      throw new Hl7Error(
        `byte 0x${input[invalidAt].toString(16).padStart(2, '0')} is not valid ${charset.name}${charset === UTF8 ? " (declare the sender's charset in MSH-18 or in the source's charset option)" : ''}`,
        { ...where, byteOffset: invalidAt },
        Hl7ErrorCodes.dataTypeError,
      );
    }
    const delimiters = isStandardHeader(input) ? DEFAULT_DELIMITERS : readDelimiters(input.toString('latin1', 0, Math.min(input.length, 12)), 0, 'MSH');
    const message = new Hl7Message(delimiters, charset, undefined, input);
    message.splitBytes(input);
    return message;
  }

  private static fromText(text: string, charset: Charset, bytes: Buffer | undefined): Hl7Message {
    if (!text.startsWith('MSH')) {
      const found = text.slice(0, 3);
      throw new Hl7Error(found.length === 0 ? 'the message is empty' : `the message must start with MSH, found ${JSON.stringify(found)}`, { byteOffset: 0 }, Hl7ErrorCodes.requiredFieldMissing, true);
    }
    const delimiters = text.startsWith('MSH|^~\\&|') ? DEFAULT_DELIMITERS : readDelimiters(text, 0, 'MSH');
    const message = new Hl7Message(delimiters, charset, text, bytes);
    message.split(text);
    return message;
  }

  /** Decodes part of the input bytes: segments of a message parsed from bytes are decoded when first read. */
  decodeRange(start: number, end: number): string {
    return this.charset.text(this.sourceBytes as Buffer, start, end);
  }

  /** Segment boundaries found in the bytes themselves (CR, LF and the delimiters are ASCII in every supported charset). */
  private splitBytes(bytes: Buffer): void {
    const term = bytes.indexOf(0x0d) >= 0 ? 0x0d : 0x0a;
    const fs = this.delimiters.field.charCodeAt(0);
    const len = bytes.length;
    let pos = 0;
    let seq = 0;
    while (pos < len) {
      let end = bytes.indexOf(term, pos);
      if (end < 0) end = len;
      let next = afterByteTerminator(bytes, end, term);
      while (next < len) {
        const c = bytes[next];
        if (c === 0x0d || c === 0x0a) {
          next++;
          continue;
        }
        if (c !== 0x20 && c !== 0x09) break;
        let lineEnd = bytes.indexOf(term, next);
        if (lineEnd < 0) lineEnd = len;
        let blank = true;
        for (let i = next; i < lineEnd && blank; i++) blank = bytes[i] === 0x20 || bytes[i] === 0x09;
        if (!blank) break;
        next = afterByteTerminator(bytes, lineEnd, term);
      }
      seq++;
      if (!(end - pos >= 3 && isIdChar(bytes[pos]) && isIdChar(bytes[pos + 1]) && isIdChar(bytes[pos + 2]) && (end - pos === 3 || bytes[pos + 3] === fs))) {
        const shown = this.charset.text(bytes, pos, Math.min(end, pos + 12));
        throw new Hl7Error(
          `segment ${seq} does not start with a segment ID (3 upper-case letters or digits followed by ${JSON.stringify(this.delimiters.field)}): ${JSON.stringify(shown)}`,
          { segment: seq === 1 ? 'MSH' : undefined, byteOffset: pos, sequence: seq },
          Hl7ErrorCodes.segmentSequenceError,
        );
      }
      const name = segmentName(bytes[pos], bytes[pos + 1], bytes[pos + 2]);
      if (seq > 1 && name === 'MSH') {
        throw new Hl7Error(`a second MSH starts at segment ${seq}: two messages in one frame (send a batch with BHS/BTS, or one message per frame)`, { segment: 'MSH', sequence: 2, byteOffset: pos }, Hl7ErrorCodes.segmentSequenceError);
      }
      const tail = next - end === 1 ? (term === 0x0d ? '\r' : '\n') : next === end ? '' : next - end === 2 && term === 0x0d && bytes[end + 1] === 0x0a ? '\r\n' : bytes.toString('latin1', end, next);
      this.segmentList.push(new Hl7Segment(this, name, { start: pos, end }, tail, pos));
      pos = next;
    }
  }

  /** Starts a new message with an MSH built from `header` (see `createMessage` in builder.ts for the friendly form). */
  static empty(delimiters: Delimiters = DEFAULT_DELIMITERS, charset: Charset = UTF8): Hl7Message {
    return new Hl7Message(delimiters, charset, undefined, undefined);
  }

  private split(text: string): void {
    // CR is the HL7 terminator; files often use CRLF or LF. With any CR present, CR (plus an LF right
    // after it) ends a segment and a lone LF is data; without CR, LF ends segments.
    const term = text.indexOf('\r') >= 0 ? '\r' : '\n';
    const len = text.length;
    let pos = 0;
    let seq = 0;
    while (pos < len) {
      let end = text.indexOf(term, pos);
      if (end < 0) end = len;
      let next = this.afterTerminator(text, end, term);
      // Blank lines and trailing whitespace belong to the previous segment's tail.
      while (next < len) {
        const c = text.charCodeAt(next);
        if (c === 0x0d || c === 0x0a) {
          next++;
          continue;
        }
        if (c !== 0x20 && c !== 0x09) break;
        let lineEnd = text.indexOf(term, next);
        if (lineEnd < 0) lineEnd = len;
        if (!isBlank(text, next, lineEnd)) break;
        next = this.afterTerminator(text, lineEnd, term);
      }
      seq++;
      if (!(end - pos >= 3 && isIdChar(text.charCodeAt(pos)) && isIdChar(text.charCodeAt(pos + 1)) && isIdChar(text.charCodeAt(pos + 2)) && (end - pos === 3 || text.charAt(pos + 3) === this.delimiters.field))) {
        const shown = text.slice(pos, Math.min(end, pos + 12));
        throw new Hl7Error(
          `segment ${seq} does not start with a segment ID (3 upper-case letters or digits followed by ${JSON.stringify(this.delimiters.field)}): ${JSON.stringify(shown)}`,
          { segment: seq === 1 ? 'MSH' : undefined, byteOffset: pos, sequence: seq },
          Hl7ErrorCodes.segmentSequenceError,
        );
      }
      const name = text.slice(pos, pos + 3);
      if (seq > 1 && name === 'MSH') {
        throw new Hl7Error(`a second MSH starts at segment ${seq}: two messages in one frame (send a batch with BHS/BTS, or one message per frame)`, { segment: 'MSH', sequence: 2, byteOffset: pos }, Hl7ErrorCodes.segmentSequenceError);
      }
      this.segmentList.push(new Hl7Segment(this, name, text.slice(pos, end), text.slice(end, next), pos));
      pos = next;
    }
  }

  private afterTerminator(text: string, end: number, term: string): number {
    if (end >= text.length) return text.length;
    return term === '\r' && text.charCodeAt(end + 1) === 0x0a ? end + 2 : end + 1;
  }

  touched(): void {
    this.changed = true;
  }

  /** True once anything was set, added or removed (serialisation then rebuilds instead of reusing the input). */
  get modified(): boolean {
    return this.changed;
  }

  /** All segments in order (the live list: do not push to it, use addSegment). */
  get segments(): readonly Hl7Segment[] {
    return this.segmentList;
  }

  private index(): Map<string, Hl7Segment[]> {
    if (!this.byName) {
      const map = new Map<string, Hl7Segment[]>();
      for (const s of this.segmentList) {
        const list = map.get(s.name);
        if (list) list.push(s);
        else map.set(s.name, [s]);
      }
      this.byName = map;
    }
    return this.byName;
  }

  /** The n-th (1-based) segment with this ID. */
  segment(name: string, n = 1): Hl7Segment | undefined {
    const list = this.segmentList;
    if (list.length > 24) return this.index().get(name)?.[n - 1];
    // Small messages: a scan is cheaper than building the index.
    for (let i = 0; i < list.length; i++) if (list[i].name === name && --n === 0) return list[i];
    return undefined;
  }

  /** Every segment with this ID, in order. */
  segmentsNamed(name: string): Hl7Segment[] {
    return this.index().get(name) ?? [];
  }

  /** A decoded value by path: `get('PID-5.1')`, `get('OBX[3]-5')`; '' when absent. */
  get(path: string): string {
    const p = parsePath(path);
    const seg = this.segment(p.segment, p.segmentIndex ?? 1);
    if (!seg || p.field === undefined) return seg && p.field === undefined ? seg.toString() : '';
    return seg.get(p.field, p.component ?? 1, p.subcomponent ?? 1, p.repetition ?? 1);
  }

  /** Raw (escaped) text at a path, undivided below the level the path names. */
  getRaw(path: string): string {
    const p = parsePath(path);
    const seg = this.segment(p.segment, p.segmentIndex ?? 1);
    if (!seg) return '';
    if (p.field === undefined) return seg.toString();
    if (p.repetition === undefined && p.component === undefined) return seg.raw(p.field);
    return seg.rawAt(p.field, p.repetition ?? 1, p.component, p.subcomponent);
  }

  /**
   * Every value a path matches: without a segment index, across all segments with that ID; without a
   * repetition, across all repetitions. `getAll('OBX-3.1')` lists every observation code.
   */
  getAll(path: string): string[] {
    const p = parsePath(path);
    if (p.field === undefined) throw new Error(`"${path}": getAll needs a field`);
    const segs = p.segmentIndex !== undefined ? [this.segment(p.segment, p.segmentIndex)].filter((s): s is Hl7Segment => !!s) : this.segmentsNamed(p.segment);
    const out: string[] = [];
    for (const seg of segs) {
      if (p.repetition !== undefined) out.push(seg.get(p.field, p.component ?? 1, p.subcomponent ?? 1, p.repetition));
      else {
        const n = seg.repetitionCount(p.field);
        for (let r = 1; r <= n; r++) out.push(seg.get(p.field, p.component ?? 1, p.subcomponent ?? 1, r));
      }
    }
    return out;
  }

  /** Writes a plain-text value at a path, creating the segment (appended) when it does not exist. */
  set(path: string, value: string): this {
    const p = parsePath(path);
    if (p.field === undefined) throw new Error(`"${path}": set needs a field`);
    const seg = this.ensureSegment(p.segment, p.segmentIndex ?? 1);
    seg.set(p.field, value, p.component, p.subcomponent, p.repetition ?? 1);
    return this;
  }

  /** Writes raw (already escaped) text at a path. */
  setRaw(path: string, raw: string): this {
    const p = parsePath(path);
    if (p.field === undefined) throw new Error(`"${path}": setRaw needs a field`);
    this.ensureSegment(p.segment, p.segmentIndex ?? 1).setRaw(p.field, raw, p.component, p.subcomponent, p.repetition ?? 1);
    return this;
  }

  private ensureSegment(name: string, n: number): Hl7Segment {
    let seg = this.segment(name, n);
    while (!seg) {
      this.addSegment(name);
      seg = this.segment(name, n);
    }
    return seg;
  }

  /**
   * Appends a segment (or inserts it before index `before`). Field values are plain text and are
   * escaped; pass `{ raw: '…' }` for a value that carries components on purpose.
   */
  addSegment(name: string, fields: Array<string | { raw: string } | undefined> = [], before?: number): Hl7Segment {
    if (!/^[A-Z0-9]{3}$/.test(name)) throw new Error(`"${name}" is not a segment ID (3 upper-case letters or digits)`);
    const d = this.delimiters;
    let text = name;
    if (isHeaderSegment(name)) {
      text += d.field + d.encodingCharacters;
      fields = fields.slice(2);
    }
    if (fields.length > 0) {
      const seg0 = new Hl7Segment(this, name, text, '\r');
      // Positions in `fields` are field numbers minus one (fields[0] = field 1).
      const offset = isHeaderSegment(name) ? 3 : 1;
      fields.forEach((f, i) => {
        if (f === undefined || f === '') return;
        if (typeof f === 'string') seg0.set(i + offset, f);
        else seg0.setRaw(i + offset, f.raw);
      });
      text = seg0.toString();
    }
    const segment = new Hl7Segment(this, name, text, '\r');
    const list = this.segmentList;
    const at = before === undefined ? list.length : Math.max(0, Math.min(before, list.length));
    // The segment that used to end the message may have had no terminator: give it one.
    if (at > 0 && list[at - 1].tail === '') list[at - 1].tail = this.defaultTerminator();
    list.splice(at, 0, segment);
    this.byName = undefined;
    this.changed = true;
    return segment;
  }

  /** Removes a segment (by object); returns whether it was there. */
  removeSegment(segment: Hl7Segment): boolean {
    const i = this.segmentList.indexOf(segment);
    if (i < 0 || i === 0) return false;
    this.segmentList.splice(i, 1);
    this.byName = undefined;
    this.changed = true;
    return true;
  }

  private defaultTerminator(): string {
    const first = this.segmentList[0]?.tail;
    if (first && first.startsWith('\r\n')) return '\r\n';
    if (first && first.startsWith('\n')) return '\n';
    return '\r';
  }

  /** The segments arranged in the groups of the message structure (ORU_R01 → PATIENT_RESULT → …). */
  structure(structureId?: string): Hl7Group {
    return groupSegments(this, structureId);
  }

  // ---- header shortcuts ---------------------------------------------------------------------------

  /** MSH-9 as `ORU^R01` (type and trigger event). */
  get messageType(): string {
    const msh = this.segmentList[0];
    if (!msh) return '';
    const event = msh.get(9, 2);
    return event ? `${msh.get(9, 1)}^${event}` : msh.get(9, 1);
  }

  /** MSH-9.3, or the structure HL7 assigns to the type and event (`ADT^A04` → `ADT_A01`). */
  get structureId(): string {
    const declared = this.segmentList[0]?.get(9, 3) ?? '';
    return declared || defaultStructure(this.messageType);
  }

  get controlId(): string {
    return this.segmentList[0]?.get(10) ?? '';
  }

  get version(): string {
    return this.segmentList[0]?.get(12) ?? '';
  }

  /** MSH-18 as written (first repetition). */
  get declaredCharset(): string {
    return this.segmentList[0]?.get(18) ?? '';
  }

  // ---- output -------------------------------------------------------------------------------------

  /** The message text. Untouched: the input itself. `rebuild: true` re-joins every segment from its fields. */
  toString(options: { rebuild?: boolean } = {}): string {
    if (!this.changed && !options.rebuild) {
      if (this.sourceText !== undefined) return this.sourceText;
      if (this.sourceBytes) return (this.sourceText = this.charset.text(this.sourceBytes, 0, this.sourceBytes.length));
    }
    let out = '';
    for (const s of this.segmentList) out += (options.rebuild ? s.rebuild() : s.toString()) + s.tail;
    return out;
  }

  /**
   * The message bytes in its charset. Untouched and parsed from bytes: the very same bytes. Throws when
   * a character cannot be written in the charset (e.g. Vietnamese in 8859/1), naming it.
   */
  toBuffer(options: { rebuild?: boolean } = {}): Buffer {
    if (!this.changed && !options.rebuild && this.sourceBytes) return this.sourceBytes;
    return encodeText(this.toString(options), this.charset);
  }
}

/** Encodes text in a charset, naming the first character that does not fit. */
export function encodeText(text: string, charset: Charset): Buffer {
  const r = charset.encode(text);
  if (Buffer.isBuffer(r)) return r;
  const ch = String.fromCodePoint(text.codePointAt(r.unencodableAt) ?? 0xfffd);
  const before = text.slice(0, r.unencodableAt);
  const seg = before.slice(Math.max(before.lastIndexOf('\r'), before.lastIndexOf('\n')) + 1, Math.max(before.lastIndexOf('\r'), before.lastIndexOf('\n')) + 4);
  throw new Error(`character ${JSON.stringify(ch)} (U+${ch.codePointAt(0)!.toString(16).toUpperCase().padStart(4, '0')}) in segment ${seg || 'MSH'} cannot be written in ${charset.name}`);
}

function declaredFromText(text: string): string {
  return declaredCharsetOf(Buffer.from(text.slice(0, Math.min(text.length, 4096)), 'latin1'));
}

function charsetFromDeclaration(declared: string): Charset | undefined {
  return declared ? charsetByName(declared) : undefined;
}

/** Which charset decodes these bytes: the configured one, else MSH-18, else UTF-8. */
export function resolveCharset(bytes: Buffer, configured?: string): Charset {
  if (configured) {
    const c = charsetByName(configured);
    if (!c) throw new Error(`charset "${configured}" is not supported (supported: ${supportedCharsetNames.join(', ')})`);
    return c;
  }
  const declared = declaredCharsetOf(bytes);
  if (!declared) return UTF8;
  const c = charsetByName(declared);
  if (!c) {
    throw new Hl7Error(
      `character set ${JSON.stringify(declared)} is not supported (supported: UNICODE UTF-8, ASCII, 8859/1…8859/9, 8859/15, and by configuration windows-1258, TCVN3, VISCII)`,
      { segment: 'MSH', sequence: 1, field: 18 },
      Hl7ErrorCodes.tableValueNotFound,
    );
  }
  return c;
}

/** HL7 message structures for type^event pairs that share one (v2.5 table 0354, the ones we meet). */
const structures: Record<string, string> = {
  'ADT^A01': 'ADT_A01',
  'ADT^A04': 'ADT_A01',
  'ADT^A08': 'ADT_A01',
  'ADT^A13': 'ADT_A01',
  'ADT^A02': 'ADT_A02',
  'ADT^A03': 'ADT_A03',
  'ADT^A05': 'ADT_A05',
  'ADT^A14': 'ADT_A05',
  'ADT^A28': 'ADT_A05',
  'ADT^A31': 'ADT_A05',
  'ADT^A40': 'ADT_A39',
  'ORM^O01': 'ORM_O01',
  'OML^O21': 'OML_O21',
  'OML^O33': 'OML_O33',
  'ORU^R01': 'ORU_R01',
  'OUL^R22': 'OUL_R22',
  'ORL^O22': 'ORL_O22',
  'ORR^O02': 'ORR_O02',
  'OMI^O23': 'OMI_O23',
};

export function defaultStructure(messageType: string): string {
  if (messageType.startsWith('ACK')) return 'ACK';
  return structures[messageType] ?? messageType.replace('^', '_');
}

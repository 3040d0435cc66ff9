// Streaming reader for claim files: a GIAMDINHHS envelope (plain or base64 as uploaded), a single
// inner table document, or a check-in (XML0) document. Bytes go in chunk by chunk; the reader hands
// out one episode (HOSO) at a time, so memory holds one episode's records, never the whole file.
// Each NOIDUNGFILE is base64-decoded, UTF-8-decoded and tokenized as it streams in.
import type { ClaimRecord, Episode, EpisodeTables, Finding } from '../model';
import { tableSpec } from '../spec/registry';
import type { FormatVersion, TableId } from '../spec/types';
import { type Layout, layoutForRoot, looks4210 } from './layouts';
import { Base64Decoder, Base64Error, EncodingError, Utf8Stage } from './streams';
import { DeclaredEncodingError, XmlSyntaxError, XmlTokenizer, type XmlEvents } from './tokenizer';

export interface ReaderOptions {
  /** Version that 130-family files are read as (4210 files are recognised by their layout). */
  version: FormatVersion;
  /** Largest decoded inner document accepted (bytes). */
  maxInnerFileBytes?: number;
  /** Largest amount of field text kept for one episode (characters). */
  maxEpisodeChars?: number;
  /** Longest single field value (characters). */
  maxFieldChars?: number;
}

export interface EnvelopeInfo {
  kind: 'envelope' | 'table' | 'checkin' | 'unknown';
  rootName?: string;
  maCskcb?: string;
  ngayLap?: string;
  soLuongHoSo?: string;
  /** Number of HOSO elements seen. */
  hosoCount: number;
  /** CHUKYDONVI present and not empty. */
  signed: boolean;
  hasSignatureSlot: boolean;
  /** The file was the base64 form of the document (as uploaded to the gateway). */
  base64Wrapped: boolean;
  utf8Bom: boolean;
}

export interface ReaderSink {
  /** One episode, complete. `partial` = a single table file (cross-table checks do not apply). */
  episode(episode: Episode, context: { partial: boolean; envelope: EnvelopeInfo }): void;
  finding(finding: Finding): void;
}

const MiB = 1024 * 1024;

/** Collects the records of one inner table document. */
class TableCollector implements XmlEvents {
  layout?: Layout;
  readonly records: ClaimRecord[] = [];
  signed = false;
  private depth = 0;
  private recordDepth = 0;
  private current?: ClaimRecord;
  private field?: string;
  private fieldText = '';
  private fieldDepth = 0;
  private skipDepth = 0;
  private inSignature = false;
  chars = 0;
  truncated = false;

  constructor(
    private readonly report: (rule: string, message: string, line?: number, severity?: 'error' | 'warning') => void,
    private readonly limits: { maxFieldChars: number; maxChars: number },
  ) {}

  open(name: string, _attrs: Record<string, string> | undefined, line: number): void {
    this.depth++;
    if (this.skipDepth) return;
    if (this.depth === 1) {
      this.layout = layoutForRoot(name);
      if (!this.layout) throw new UnknownRootError(name);
      this.recordDepth = this.layout.repeating ? (this.layout.list ? 3 : 2) : 1;
      if (this.recordDepth === 1) this.startRecord(line);
      return;
    }
    const layout = this.layout!;
    if (this.inSignature) {
      this.signed = true;
      return;
    }
    if (this.depth === 2 && name === 'CHUKYDONVI' && layout.signatureSlot) {
      this.inSignature = true;
      this.signatureDepth = this.depth;
      return;
    }
    if (this.current && this.depth === this.recordDepth + 1) {
      this.field = name;
      this.fieldText = '';
      this.fieldDepth = this.depth;
      return;
    }
    if (this.current && this.field && this.depth > this.fieldDepth) {
      (this.current.nested ??= []).includes(this.field) || this.current.nested.push(this.field);
      this.skipDepth = this.depth;
      return;
    }
    if (layout.list && this.depth === 2 && name === layout.list) return;
    if (this.depth === this.recordDepth && name === layout.record) {
      this.startRecord(line);
      return;
    }
    this.report('table.unexpected-element', `unexpected element <${name}> in ${layout.root} (expected ${this.depth === 2 && layout.list ? `<${layout.list}>` : `<${layout.record}>`}); its content is ignored`, line, 'error');
    this.skipDepth = this.depth;
  }

  private signatureDepth = 0;

  private startRecord(line: number): void {
    this.current = { fields: {}, index: this.records.length + 1, line };
  }

  text(text: string): void {
    if (this.skipDepth) return;
    if (this.inSignature) {
      if (text.trim()) this.signed = true;
      return;
    }
    if (this.field && this.depth === this.fieldDepth) {
      if (this.fieldText.length + text.length > this.limits.maxFieldChars) {
        throw new LimitError(`field ${this.field} is longer than ${this.limits.maxFieldChars} characters`);
      }
      this.fieldText += text;
    }
  }

  close(name: string): void {
    const depth = this.depth--;
    if (this.skipDepth) {
      if (depth === this.skipDepth) this.skipDepth = 0;
      return;
    }
    if (this.inSignature) {
      if (depth === this.signatureDepth) this.inSignature = false;
      return;
    }
    if (this.field && depth === this.fieldDepth) {
      const rec = this.current!;
      if (name in rec.fields) (rec.duplicates ??= []).includes(name) || rec.duplicates.push(name);
      else if (!this.truncated) {
        rec.fields[name] = this.fieldText;
        this.chars += this.fieldText.length + name.length;
        if (this.chars > this.limits.maxChars) this.truncated = true;
      }
      this.field = undefined;
      this.fieldText = '';
      return;
    }
    if (this.current && depth === this.recordDepth) {
      if (!this.truncated) this.records.push(this.current);
      this.current = undefined;
    }
  }
}

class UnknownRootError extends Error {
  constructor(readonly root: string) {
    super(`unknown root element <${root}>`);
  }
}

class LimitError extends Error {}

interface InnerFile {
  base64: Base64Decoder;
  utf8: Utf8Stage;
  tokenizer: XmlTokenizer;
  collector: TableCollector;
  failed: boolean;
}

interface HosoState {
  index: number;
  tables: EpisodeTables;
  files: Array<{ loaiHoSo?: string; table?: TableId }>;
  loaiHoSo?: string;
  inner?: InnerFile;
  innerResult?: { table: TableId; records: ClaimRecord[]; family: '4210' | '130' } | null;
  chars: number;
  tooLarge: boolean;
}

/** Feeds bytes of a claim file through the stages and reports episodes and structural findings. */
export class ClaimFileReader {
  private readonly utf8 = new Utf8Stage();
  private tokenizer?: XmlTokenizer;
  private base64Outer?: Base64Decoder;
  private decided = false;
  private readonly info: EnvelopeInfo = { kind: 'unknown', hosoCount: 0, signed: false, hasSignatureSlot: false, base64Wrapped: false, utf8Bom: false };
  private fatal = false;
  private readonly opts: Required<ReaderOptions>;
  private handler?: EnvelopeEvents | SingleTableEvents;

  constructor(
    private readonly sink: ReaderSink,
    options: ReaderOptions,
  ) {
    this.opts = {
      version: options.version,
      maxInnerFileBytes: options.maxInnerFileBytes ?? 64 * MiB,
      maxEpisodeChars: options.maxEpisodeChars ?? 64 * MiB,
      maxFieldChars: options.maxFieldChars ?? 1 * MiB,
    };
  }

  get envelope(): EnvelopeInfo {
    return this.info;
  }

  /** True once a fatal error (encoding, well-formedness) stopped reading. */
  get failed(): boolean {
    return this.fatal;
  }

  write(chunk: Uint8Array): void {
    if (this.fatal) return;
    try {
      if (!this.decided) {
        const first = chunk.find((b) => b !== 0x20 && b !== 0x0a && b !== 0x0d && b !== 0x09);
        if (first === undefined) return;
        this.decided = true;
        const isBase64Start = (first >= 0x41 && first <= 0x5a) || (first >= 0x61 && first <= 0x7a) || (first >= 0x30 && first <= 0x39) || first === 0x2b || first === 0x2f;
        if (isBase64Start) {
          this.base64Outer = new Base64Decoder();
          this.info.base64Wrapped = true;
        }
      }
      if (this.base64Outer) {
        const bytes = this.base64Outer.write(Buffer.from(chunk).toString('latin1'));
        if (bytes.length) this.feed(bytes);
      } else this.feed(chunk);
    } catch (err) {
      this.onFatal(err);
    }
  }

  end(): void {
    if (this.fatal) return;
    try {
      if (!this.decided) {
        this.sink.finding({ severity: 'error', rule: 'file.empty', table: 'FILE', message: 'the file is empty' });
        this.fatal = true;
        return;
      }
      if (this.base64Outer) {
        const bytes = this.base64Outer.end();
        if (bytes.length) this.feed(bytes);
      }
      const rest = this.utf8.end();
      if (rest) this.tok().write(rest);
      this.tok().end();
      this.handler?.finish();
    } catch (err) {
      this.onFatal(err);
    }
  }

  private tok(): XmlTokenizer {
    if (!this.tokenizer) {
      const dispatcher: XmlEvents = {
        open: (name, attrs, line) => {
          if (!this.handler) {
            this.info.rootName = name;
            if (name === 'GIAMDINHHS') {
              this.info.kind = 'envelope';
              this.handler = new EnvelopeEvents(this.sink, this.info, this.opts);
            } else {
              this.handler = new SingleTableEvents(this.sink, this.info, this.opts);
            }
          }
          this.handler.open(name, attrs, line);
        },
        text: (t) => this.handler?.text(t),
        close: (n) => this.handler?.close(n),
      };
      this.tokenizer = new XmlTokenizer(dispatcher);
    }
    return this.tokenizer;
  }

  private feed(bytes: Uint8Array): void {
    const text = this.utf8.write(bytes);
    this.info.utf8Bom = this.utf8.bomSeen;
    if (text) this.tok().write(text);
  }

  private onFatal(err: unknown): void {
    this.fatal = true;
    const wrapped = this.info.base64Wrapped ? ' (in the base64-decoded document)' : '';
    if (err instanceof EncodingError || err instanceof DeclaredEncodingError) this.sink.finding({ severity: 'error', rule: 'file.encoding', table: 'FILE', message: err.reason + wrapped });
    else if (err instanceof XmlSyntaxError) this.sink.finding({ severity: 'error', rule: 'file.xml', table: 'FILE', line: err.line, message: `not well-formed XML${wrapped} at line ${err.line}, column ${err.column}: ${err.reason}` });
    else if (err instanceof Base64Error) this.sink.finding({ severity: 'error', rule: 'file.base64', table: 'FILE', message: `the file is neither XML nor valid base64: ${err.reason}` });
    else if (err instanceof UnknownRootError) this.sink.finding({ severity: 'error', rule: 'file.root', table: 'FILE', message: `<${err.root}> is not a BHYT claim document (expected GIAMDINHHS, a table root such as TONG_HOP or CHITIEU_CHITIET_THUOC, or CHI_TIEU_TRANG_THAI_KCB)` });
    else if (err instanceof LimitError) this.sink.finding({ severity: 'error', rule: 'file.too-large', table: 'FILE', message: err.message });
    else throw err;
  }
}

/** A file that is one inner table document (or a check-in document). */
class SingleTableEvents implements XmlEvents {
  private readonly collector: TableCollector;

  constructor(
    private readonly sink: ReaderSink,
    private readonly info: EnvelopeInfo,
    private readonly opts: Required<ReaderOptions>,
  ) {
    this.collector = new TableCollector(
      (rule, message, line, severity = 'error') => sink.finding({ severity, rule, table: this.collector.layout?.table ?? 'FILE', line, message }),
      { maxFieldChars: opts.maxFieldChars, maxChars: opts.maxEpisodeChars },
    );
  }

  open(name: string, attrs: Record<string, string> | undefined, line: number): void {
    this.collector.open(name, attrs, line);
    if (this.collector.layout && this.info.kind === 'unknown') {
      this.info.kind = this.collector.layout.table === 'XML0' ? 'checkin' : 'table';
      this.info.hasSignatureSlot = this.collector.layout.signatureSlot;
    }
  }

  text(t: string): void {
    this.collector.text(t);
  }

  close(n: string): void {
    this.collector.close(n);
  }

  finish(): void {
    const layout = this.collector.layout!;
    this.info.signed = this.collector.signed;
    if (this.collector.truncated) {
      this.sink.finding({ severity: 'error', rule: 'file.too-large', table: layout.table, message: `the document holds more than ${this.opts.maxEpisodeChars} characters of field text; validation stopped` });
      return;
    }
    const version = versionFor(layout, this.collector.records, this.opts.version);
    this.sink.episode({ version, tables: { [layout.table]: this.collector.records } }, { partial: true, envelope: this.info });
  }
}

function versionFor(layout: Layout, records: ClaimRecord[], requested: FormatVersion): FormatVersion {
  if (layout.family === '4210') return '4210';
  if (layout.table === 'XML1' && records[0] && looks4210(records[0].fields)) return '4210';
  return requested === '4210' ? '3176' : requested;
}

/** GIAMDINHHS: header, then HOSO after HOSO, each with its FILEHOSO documents. */
class EnvelopeEvents implements XmlEvents {
  private readonly path: string[] = [];
  private text_ = '';
  private hoso?: HosoState;
  private hosoIndex = 0;
  private fileLine = 0;
  private readonly seenHeader = new Set<string>();

  constructor(
    private readonly sink: ReaderSink,
    private readonly info: EnvelopeInfo,
    private readonly opts: Required<ReaderOptions>,
  ) {}

  private envFinding(rule: string, message: string, severity: 'error' | 'warning' = 'error', hoso?: number): void {
    this.sink.finding({ severity, rule, table: 'ENVELOPE', hoso, message });
  }

  private get where(): string {
    return this.path.join('/');
  }

  open(name: string, _attrs: Record<string, string> | undefined, line: number): void {
    const depth = this.path.length + 1;
    const parent = this.path[this.path.length - 1];
    this.path.push(name);
    this.text_ = '';
    const inner = this.hoso?.inner;
    if (depth === 1) return;
    if (depth === 2) {
      if (name === 'CHUKYDONVI') this.info.hasSignatureSlot = true;
      else if (name !== 'THONGTINDONVI' && name !== 'THONGTINHOSO') this.envFinding('envelope.unknown-element', `unexpected element <${name}> in GIAMDINHHS (expected THONGTINDONVI, THONGTINHOSO, CHUKYDONVI)`, 'warning');
      return;
    }
    if (this.path[1] === 'CHUKYDONVI') {
      this.info.signed = true;
      return;
    }
    if (inner && parent === 'NOIDUNGFILE') {
      if (!inner.failed) {
        inner.failed = true;
        this.sink.finding({ severity: 'error', rule: 'file.base64', table: 'ENVELOPE', hoso: this.hoso!.index, line, message: `NOIDUNGFILE of the FILEHOSO at envelope line ${this.fileLine} contains the element <${name}>: it must hold the table document encoded in base64` });
      }
      return;
    }
    if (depth === 3 && this.path[1] === 'THONGTINDONVI' && name === 'MACSKCB') return;
    if (depth === 3 && this.path[1] === 'THONGTINHOSO' && ['NGAYLAP', 'SOLUONGHOSO', 'DANHSACHHOSO'].includes(name)) return;
    if (depth === 4 && parent === 'DANHSACHHOSO' && name === 'HOSO') {
      this.hoso = { index: ++this.hosoIndex, tables: {}, files: [], chars: 0, tooLarge: false };
      this.info.hosoCount = this.hosoIndex;
      return;
    }
    if (depth === 5 && parent === 'HOSO' && name === 'FILEHOSO') {
      this.hoso!.loaiHoSo = undefined;
      this.hoso!.innerResult = undefined;
      this.fileLine = line;
      return;
    }
    if (depth === 6 && parent === 'FILEHOSO' && name === 'LOAIHOSO') return;
    if (depth === 6 && parent === 'FILEHOSO' && name === 'NOIDUNGFILE') {
      const hoso = this.hoso!;
      const collector = new TableCollector(
        (rule, message, l, severity = 'error') =>
          this.sink.finding({ severity, rule, table: collector.layout?.table ?? 'FILE', hoso: hoso.index, line: l, message: `${message} (NOIDUNGFILE of the FILEHOSO at envelope line ${this.fileLine})` }),
        { maxFieldChars: this.opts.maxFieldChars, maxChars: Math.max(0, this.opts.maxEpisodeChars - hoso.chars) },
      );
      hoso.inner = { base64: new Base64Decoder(), utf8: new Utf8Stage(), tokenizer: new XmlTokenizer(collector), collector, failed: false };
      return;
    }
    this.envFinding('envelope.unknown-element', `unexpected element <${name}> in ${this.where.split('/').slice(0, -1).join('/')}`, 'warning', this.hoso?.index);
  }

  text(t: string): void {
    const inner = this.hoso?.inner;
    if (inner && this.path[this.path.length - 1] === 'NOIDUNGFILE') {
      if (inner.failed) return;
      try {
        const bytes = inner.base64.write(t);
        if (inner.base64.decodedBytes > this.opts.maxInnerFileBytes) throw new LimitError(`decoded content is larger than ${this.opts.maxInnerFileBytes} bytes`);
        if (bytes.length) {
          const s = inner.utf8.write(bytes);
          if (s) inner.tokenizer.write(s);
        }
      } catch (err) {
        this.innerFailed(err);
      }
      return;
    }
    if (this.text_.length < 4096) this.text_ += t;
  }

  private innerFailed(err: unknown): void {
    const hoso = this.hoso!;
    const inner = hoso.inner!;
    inner.failed = true;
    const where = `NOIDUNGFILE of the FILEHOSO at envelope line ${this.fileLine}`;
    const table = inner.collector.layout?.table ?? 'FILE';
    const f = (rule: string, message: string, line?: number) => this.sink.finding({ severity: 'error', rule, table, hoso: hoso.index, line, message });
    if (err instanceof Base64Error) f('file.base64', `${where} is not valid base64: ${err.reason}`);
    else if (err instanceof EncodingError || err instanceof DeclaredEncodingError) f('file.encoding', `${where}: ${err.reason}`);
    else if (err instanceof XmlSyntaxError) f('file.xml', `${where} is not well-formed XML at line ${err.line}, column ${err.column}: ${err.reason}`, err.line);
    else if (err instanceof UnknownRootError) f('file.root', `${where}: <${err.root}> is not a BHYT table document`);
    else if (err instanceof LimitError) {
      f('file.too-large', `${where}: ${err.message}; the episode is not validated`);
      hoso.tooLarge = true;
    } else throw err;
  }

  close(name: string): void {
    const depth = this.path.length;
    const parent = this.path[depth - 2];
    const text = this.text_.trim();
    this.path.pop();
    this.text_ = '';
    if (depth >= 3 && this.path[1] === 'CHUKYDONVI') return;
    if (depth === 2 && name === 'CHUKYDONVI') return;
    if (depth === 3 && name === 'MACSKCB') this.header('MACSKCB', text);
    else if (depth === 3 && name === 'NGAYLAP') this.header('NGAYLAP', text);
    else if (depth === 3 && name === 'SOLUONGHOSO') this.header('SOLUONGHOSO', text);
    else if (depth === 6 && name === 'LOAIHOSO') this.hoso!.loaiHoSo = text;
    else if (depth === 6 && name === 'NOIDUNGFILE' && parent === 'FILEHOSO') this.finishInner();
    else if (depth === 5 && name === 'FILEHOSO') this.finishFile();
    else if (depth === 4 && name === 'HOSO') this.finishHoso();
  }

  private header(name: 'MACSKCB' | 'NGAYLAP' | 'SOLUONGHOSO', value: string): void {
    if (this.seenHeader.has(name)) this.envFinding('envelope.header', `${name} appears twice`);
    this.seenHeader.add(name);
    if (name === 'MACSKCB') this.info.maCskcb = value;
    if (name === 'NGAYLAP') this.info.ngayLap = value;
    if (name === 'SOLUONGHOSO') this.info.soLuongHoSo = value;
  }

  private finishInner(): void {
    const hoso = this.hoso!;
    const inner = hoso.inner!;
    hoso.inner = undefined;
    if (inner.failed) {
      hoso.innerResult = null;
      return;
    }
    try {
      const tail = inner.base64.end();
      const s = inner.utf8.write(tail) + inner.utf8.end();
      if (s) inner.tokenizer.write(s);
      if (inner.base64.decodedBytes === 0) {
        this.sink.finding({ severity: 'error', rule: 'envelope.empty-file', table: 'ENVELOPE', hoso: hoso.index, message: `NOIDUNGFILE of the FILEHOSO at envelope line ${this.fileLine} is empty` });
        hoso.innerResult = null;
        return;
      }
      inner.tokenizer.end();
    } catch (err) {
      hoso.inner = inner;
      this.innerFailed(err);
      hoso.inner = undefined;
      hoso.innerResult = null;
      return;
    }
    const c = inner.collector;
    hoso.chars += c.chars;
    if (c.truncated) {
      hoso.tooLarge = true;
      this.sink.finding({ severity: 'error', rule: 'file.too-large', table: c.layout!.table, hoso: hoso.index, message: `episode holds more than ${this.opts.maxEpisodeChars} characters of field text; it is not validated` });
    }
    hoso.innerResult = { table: c.layout!.table, records: c.records, family: c.layout!.family };
  }

  private finishFile(): void {
    const hoso = this.hoso!;
    const loai = hoso.loaiHoSo;
    const result = hoso.innerResult;
    hoso.files.push({ loaiHoSo: loai, table: result?.table });
    if (result === undefined) {
      this.envFinding('envelope.missing-content', `the FILEHOSO at envelope line ${this.fileLine}${loai ? ` (LOAIHOSO ${loai})` : ''} has no NOIDUNGFILE`, 'error', hoso.index);
      return;
    }
    if (loai === undefined || loai === '') this.envFinding('envelope.loaihoso', `the FILEHOSO at envelope line ${this.fileLine} has no LOAIHOSO`, 'error', hoso.index);
    if (result === null) return;
    const { table, records } = result;
    if (loai && loai !== table) {
      this.envFinding('envelope.loaihoso', `LOAIHOSO "${loai}" does not match its content: NOIDUNGFILE is a ${table} document (<${layoutName(table)}>)`, 'error', hoso.index);
    }
    if (table === 'XML0' || table === 'XML12') {
      this.envFinding('envelope.table-not-allowed', `${table} does not belong in GIAMDINHHS: it is sent to its own endpoint`, 'error', hoso.index);
      return;
    }
    if (hoso.tables[table]) {
      this.envFinding('envelope.duplicate-table', `${table} appears twice in this HOSO; the second one is ignored`, 'error', hoso.index);
      return;
    }
    hoso.tables[table] = records;
    if (result.family === '4210') (hoso as HosoState & { is4210?: boolean }).is4210 = true;
  }

  private finishHoso(): void {
    const hoso = this.hoso!;
    this.hoso = undefined;
    if (hoso.files.length === 0) {
      this.envFinding('envelope.empty-hoso', 'HOSO has no FILEHOSO', 'error', hoso.index);
      return;
    }
    if (hoso.tooLarge) return;
    const xml1 = hoso.tables.XML1?.[0];
    const is4210 = (hoso as HosoState & { is4210?: boolean }).is4210 || (xml1 !== undefined && looks4210(xml1.fields));
    const version: FormatVersion = is4210 ? '4210' : this.opts.version === '4210' ? '3176' : this.opts.version;
    this.sink.episode({ version, tables: hoso.tables, hoso: hoso.index }, { partial: false, envelope: this.info });
  }

  finish(): void {
    if (this.info.hosoCount === 0) this.envFinding('envelope.empty', 'the envelope contains no HOSO');
  }
}

function layoutName(table: TableId): string {
  return tableSpec('4750', table)?.root ?? table;
}

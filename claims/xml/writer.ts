// Writes claim tables as the gateway wants them: each inner table a UTF-8 XML document (no BOM)
// with every field in the official order, each document base64 in NOIDUNGFILE, and the GIAMDINHHS
// envelope with an empty CHUKYDONVI slot for the facility signature. The envelope is written in
// canonical form (no attributes, no self-closing tags, no whitespace between elements) so that its
// bytes are their own Exclusive-C14N form, which is what makes signing cheap (see signer/).
import type { ClaimRecord, Episode } from '../model';
import { formatSpec } from '../spec/registry';
import type { TableId, TableSpec } from '../spec/types';

const xmlDeclaration = '<?xml version="1.0" encoding="utf-8"?>\n';

export function escapeXml(text: string): string {
  if (!/[&<>\r]/.test(text)) return text;
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/\r/g, '&#xD;');
}

export interface SerializeOptions {
  /** Leave absent and empty optional fields out instead of writing <FIELD/> (the BHXH templates show every element). */
  omitEmpty?: boolean;
}

/** Per table: each field's open tag, close tag and empty element, made once (they are written millions of times). */
const tagCache = new WeakMap<TableSpec, Array<{ name: string; open: string; close: string; empty: string }>>();
function tagsOf(spec: TableSpec) {
  let tags = tagCache.get(spec);
  if (!tags) tagCache.set(spec, (tags = spec.fields.map((f) => ({ name: f.name, open: `<${f.name}>`, close: `</${f.name}>`, empty: `<${f.name}/>` }))));
  return tags;
}

function writeRecord(spec: TableSpec, record: ClaimRecord, options: SerializeOptions): string {
  const fields = record.fields;
  let out = '';
  for (const t of tagsOf(spec)) {
    const value = fields[t.name];
    if (value === undefined || value === '') {
      if (!options.omitEmpty) out += t.empty;
    } else out += t.open + escapeXml(value) + t.close;
  }
  return out;
}

/** One inner table document (UTF-8 text; encode with Buffer.from(text, 'utf8')). */
export function serializeTable(spec: TableSpec, records: ClaimRecord[], options: SerializeOptions = {}): string {
  let out = `${xmlDeclaration}<${spec.root}>`;
  if (!spec.repeating) {
    if (records.length !== 1) throw new Error(`${spec.id} holds exactly one record (got ${records.length})`);
    out += writeRecord(spec, records[0], options);
  } else {
    if (spec.list) out += `<${spec.list}>`;
    for (const r of records) out += `<${spec.record}>${writeRecord(spec, r, options)}</${spec.record}>`;
    if (spec.list) out += `</${spec.list}>`;
  }
  if (spec.signatureSlot) out += '<CHUKYDONVI></CHUKYDONVI>';
  return `${out}</${spec.root}>`;
}

export interface InnerFile {
  loaiHoSo: TableId;
  /** The inner document as text (it is UTF-8 encoded here) or as bytes already. */
  document: string | Buffer;
}

/** The FILEHOSO list of one episode, tables in the order XML1, XML2, … as the guides show. */
export function episodeFiles(episode: Episode, options: SerializeOptions = {}): InnerFile[] {
  const spec = formatSpec(episode.version);
  const files: InnerFile[] = [];
  for (const table of spec.tables) {
    if (!table.inEnvelope) continue;
    const records = episode.tables[table.id];
    if (!records || records.length === 0) continue;
    if (!table.repeating) {
      // XML7 may be issued once per baby: a single-record table with several records becomes several files.
      for (const r of records) files.push({ loaiHoSo: table.id, document: serializeTable(table, [r], options) });
    } else files.push({ loaiHoSo: table.id, document: serializeTable(table, records, options) });
  }
  return files;
}

export interface EnvelopeInput {
  /** 5-character code of the sending facility. */
  maCskcb: string;
  /** File date yyyyMMdd. */
  ngayLap: string;
  hoso: InnerFile[][];
}

/** The GIAMDINHHS document with an empty <CHUKYDONVI></CHUKYDONVI> slot. */
export function buildEnvelope(input: EnvelopeInput): string {
  const out: string[] = [
    xmlDeclaration,
    '<GIAMDINHHS><THONGTINDONVI><MACSKCB>',
    escapeXml(input.maCskcb),
    '</MACSKCB></THONGTINDONVI><THONGTINHOSO><NGAYLAP>',
    escapeXml(input.ngayLap),
    '</NGAYLAP><SOLUONGHOSO>',
    String(input.hoso.length),
    '</SOLUONGHOSO><DANHSACHHOSO>',
  ];
  for (const files of input.hoso) {
    out.push('<HOSO>');
    for (const f of files) {
      const bytes = typeof f.document === 'string' ? Buffer.from(f.document, 'utf8') : f.document;
      out.push('<FILEHOSO><LOAIHOSO>', f.loaiHoSo, '</LOAIHOSO><NOIDUNGFILE>', bytes.toString('base64'), '</NOIDUNGFILE></FILEHOSO>');
    }
    out.push('</HOSO>');
  }
  out.push('</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI></CHUKYDONVI></GIAMDINHHS>');
  return out.join('');
}

/**
 * buildEnvelope() as UTF-8 bytes, written straight into one buffer: the base64 of each inner
 * document is copied in, never joined into a second string (a claim batch writes gigabytes).
 */
export function buildEnvelopeBytes(input: EnvelopeInput): Buffer {
  const head = `${xmlDeclaration}<GIAMDINHHS><THONGTINDONVI><MACSKCB>${escapeXml(input.maCskcb)}</MACSKCB></THONGTINDONVI><THONGTINHOSO><NGAYLAP>${escapeXml(input.ngayLap)}</NGAYLAP><SOLUONGHOSO>${input.hoso.length}</SOLUONGHOSO><DANHSACHHOSO>`;
  const tail = '</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI></CHUKYDONVI></GIAMDINHHS>';
  // Everything but the header is ASCII (tags, table ids, base64), so its byte length is its length.
  const parts: string[] = [];
  let size = Buffer.byteLength(head, 'utf8') + tail.length;
  for (const files of input.hoso) {
    parts.push('<HOSO>');
    for (const f of files) {
      const bytes = typeof f.document === 'string' ? Buffer.from(f.document, 'utf8') : f.document;
      parts.push(`<FILEHOSO><LOAIHOSO>${f.loaiHoSo}</LOAIHOSO><NOIDUNGFILE>`, bytes.toString('base64'), '</NOIDUNGFILE></FILEHOSO>');
    }
    parts.push('</HOSO>');
  }
  for (const p of parts) size += p.length;
  const out = Buffer.allocUnsafe(size);
  let at = out.write(head, 0, 'utf8');
  for (const p of parts) at += out.write(p, at, 'latin1');
  out.write(tail, at, 'latin1');
  return out;
}

/** The check-in (XML0) document for one or more visits, with its own CHUKYDONVI slot. */
export function buildCheckIn(records: ClaimRecord[], version: Exclude<Episode['version'], '4210'> = '3176'): string {
  const spec = formatSpec(version).tables.find((t) => t.id === 'XML0')!;
  return serializeTable(spec, records);
}

/**
 * The medical-assessment document (XML12) of an episode, with its own CHUKYDONVI slot: it is sent to
 * its own endpoint (guiDuLieuGdykQd130, loaiHoSo 12), never inside GIAMDINHHS. Undefined when the
 * episode has none.
 */
export function assessmentDocument(episode: Episode, options: SerializeOptions = {}): string | undefined {
  const records = episode.tables.XML12;
  if (!records?.length || episode.version === '4210') return undefined;
  return serializeTable(formatSpec(episode.version).tables.find((t) => t.id === 'XML12')!, records, options);
}

/** What is uploaded: base64 of the whole (signed) envelope, one line, standard alphabet. */
export function envelopeForUpload(envelope: string | Buffer): string {
  return (typeof envelope === 'string' ? Buffer.from(envelope, 'utf8') : envelope).toString('base64');
}

// Our dataset codec for the hot paths (C-FIND identifiers and responses, MPPS, commitment): the
// same naturalized form dcmjs uses (keyword → value, PN as [{Alphabetic}], sequences as arrays of
// objects), about 100× faster than dcmjs's generic reader/writer (measured here: dcmjs 2.8 ms to
// read and 3.8 ms to write one worklist item). Decoding walks the bytes with dicom-parser (which
// checks every length) and converts values with the dataset's character set; encoding writes
// Little Endian (explicit or implicit VR) with defined lengths and pads per VR.
import type * as dicomParser from 'dicom-parser';
import { TextEncoder } from 'node:util';
import { parseDataset } from './metadata';
import { decodeDicomText, encodingFor } from './charset';
import { TransferSyntax } from '../dimse/uids';

export type Naturalized = Record<string, unknown>;

interface DictEntry {
  keyword: string;
  tag: number;
  vr: string;
}

// dcmjs ships no type declarations: we take only its data dictionary.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const nameMap = (require('dcmjs') as { data: { DicomMetaDictionary: { nameMap: Record<string, { tag: string; vr: string }> } } }).data.DicomMetaDictionary.nameMap;

const byKeyword = new Map<string, DictEntry>();
const byTag = new Map<number, DictEntry>();
for (const [keyword, entry] of Object.entries(nameMap)) {
  const m = /^\(([0-9A-F]{4}),([0-9A-F]{4})\)$/i.exec(entry.tag);
  if (!m) continue; // repeating groups such as (50xx,0010)
  const tag = (parseInt(m[1], 16) << 16) | parseInt(m[2], 16);
  const vr = entry.vr.split(/ or |\|/)[0].trim();
  const e = { keyword, tag: tag >>> 0, vr };
  byKeyword.set(keyword, e);
  if (!byTag.has(e.tag)) byTag.set(e.tag, e);
}

export function keywordVr(keyword: string): string | undefined {
  return byKeyword.get(keyword)?.vr;
}

const longVrs = new Set(['OB', 'OD', 'OF', 'OL', 'OV', 'OW', 'SQ', 'SV', 'UC', 'UN', 'UR', 'UT', 'UV']);
const textVrs = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);
/** Text VRs whose value is one free-text string (no backslash splitting). */
const singleTextVrs = new Set(['LT', 'ST', 'UT', 'UR']);
/** VRs restricted to the default repertoire: never affected by the character set. */
const asciiVrs = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'TM', 'UI', 'UR']);

export class CodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CodecError';
  }
}

// ---------------------------------------------------------------- decoding

/** Reads a dataset (no Part 10 header) into naturalized form; throws DatasetParseError on bad bytes. */
export function decodeDataset(bytes: Buffer, transferSyntax: string): Naturalized {
  const { dataSet } = parseDataset(bytes, transferSyntax);
  const littleEndian = transferSyntax !== TransferSyntax.ExplicitVRBigEndian;
  return naturalizeDataSet(dataSet, undefined, littleEndian);
}

function naturalizeDataSet(ds: dicomParser.DataSet, inheritedCharset: string | undefined, littleEndian: boolean): Naturalized {
  const out: Naturalized = {};
  const charsetElement = ds.elements.x00080005;
  const charset = charsetElement ? ds.string('x00080005') ?? inheritedCharset : inheritedCharset;
  for (const key of Object.keys(ds.elements)) {
    const element = ds.elements[key];
    const tag = parseInt(key.slice(1), 16) >>> 0;
    if (tag >>> 16 === 0xfffe) continue; // item/delimitation tags
    const known = byTag.get(tag);
    const keyword = known?.keyword ?? key.slice(1).toUpperCase();
    const vr = element.vr ?? (element.items ? 'SQ' : (known?.vr ?? 'UN'));
    out[keyword] = naturalizeValue(ds, element, vr, charset, littleEndian);
  }
  return out;
}

function naturalizeValue(ds: dicomParser.DataSet, element: dicomParser.Element, vr: string, charset: string | undefined, littleEndian: boolean): unknown {
  if (vr === 'SQ' || element.items) {
    return (element.items ?? []).map((item) => (item.dataSet ? naturalizeDataSet(item.dataSet, charset, littleEndian) : {}));
  }
  if (element.length === 0 || element.length === 0xffffffff) return vr === 'SQ' ? [] : '';
  const bytes = ds.byteArray.subarray(element.dataOffset, element.dataOffset + element.length);
  if (textVrs.has(vr)) {
    const raw = asciiVrs.has(vr) ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1') : decodeDicomText(bytes, charset);
    if (singleTextVrs.has(vr)) return raw.replace(/[\0 ]+$/, '');
    const values = raw.split('\\').map((v) => (vr === 'UI' ? v.replace(/[\0 ]+$/, '').trim() : v.replace(/[\0 ]+$/, '').replace(/^ +/, '')));
    if (vr === 'PN') return values.map(personNameObject);
    return values.length === 1 ? values[0] : values;
  }
  const view = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const numbers = (size: number, read: (offset: number) => number) => {
    const n = Math.floor(view.length / size);
    const values = Array.from({ length: n }, (_, i) => read(i * size));
    return values.length === 1 ? values[0] : values;
  };
  switch (vr) {
    case 'US':
      return numbers(2, (o) => (littleEndian ? view.readUInt16LE(o) : view.readUInt16BE(o)));
    case 'SS':
      return numbers(2, (o) => (littleEndian ? view.readInt16LE(o) : view.readInt16BE(o)));
    case 'UL':
      return numbers(4, (o) => (littleEndian ? view.readUInt32LE(o) : view.readUInt32BE(o)));
    case 'SL':
      return numbers(4, (o) => (littleEndian ? view.readInt32LE(o) : view.readInt32BE(o)));
    case 'FL':
      return numbers(4, (o) => (littleEndian ? view.readFloatLE(o) : view.readFloatBE(o)));
    case 'FD':
      return numbers(8, (o) => (littleEndian ? view.readDoubleLE(o) : view.readDoubleBE(o)));
    case 'AT': {
      const tags = [];
      for (let o = 0; o + 4 <= view.length; o += 4) {
        const g = littleEndian ? view.readUInt16LE(o) : view.readUInt16BE(o);
        const e = littleEndian ? view.readUInt16LE(o + 2) : view.readUInt16BE(o + 2);
        tags.push(hex4(g) + hex4(e));
      }
      return tags.length === 1 ? tags[0] : tags;
    }
    default: {
      // Binary (OB, OW, UN…): a copy, so the value does not pin the received PDU.
      const copy = new ArrayBuffer(view.length);
      new Uint8Array(copy).set(view);
      return copy;
    }
  }
}

function personNameObject(value: string): { Alphabetic?: string; Ideographic?: string; Phonetic?: string } {
  const [alphabetic, ideographic, phonetic] = value.split('=');
  const out: { Alphabetic?: string; Ideographic?: string; Phonetic?: string } = { Alphabetic: alphabetic };
  if (ideographic) out.Ideographic = ideographic;
  if (phonetic) out.Phonetic = phonetic;
  return out;
}

// ---------------------------------------------------------------- encoding

const utf8 = new TextEncoder();

/** Writes a naturalized dataset in Explicit or Implicit VR Little Endian. */
export function encodeDataset(elements: Naturalized, transferSyntax: string): Buffer {
  if (transferSyntax !== TransferSyntax.ExplicitVRLittleEndian && transferSyntax !== TransferSyntax.ImplicitVRLittleEndian) {
    throw new CodecError(`cannot encode datasets in transfer syntax ${transferSyntax}`);
  }
  const parts: Buffer[] = [];
  writeElements(elements, transferSyntax === TransferSyntax.ExplicitVRLittleEndian, textCharset(elements.SpecificCharacterSet, undefined), parts);
  return Buffer.concat(parts);
}

function textCharset(value: unknown, inherited: string | undefined): string | undefined {
  if (value === undefined) return inherited;
  return Array.isArray(value) ? value.join('\\') : String(value);
}

function writeElements(elements: Naturalized, explicit: boolean, charset: string | undefined, out: Buffer[]): void {
  const vrMap = (elements._vrMap ?? {}) as Record<string, string>;
  const entries: Array<{ tag: number; vr: string; value: unknown; keyword: string }> = [];
  for (const [keyword, value] of Object.entries(elements)) {
    if (keyword === '_vrMap' || keyword === '_meta') continue;
    const known = byKeyword.get(keyword);
    let tag: number;
    let vr: string;
    if (known) {
      tag = known.tag;
      vr = vrMap[keyword] ?? known.vr;
    } else if (/^[0-9A-Fa-f]{8}$/.test(keyword)) {
      tag = parseInt(keyword, 16) >>> 0;
      vr = vrMap[keyword] ?? (Array.isArray(value) && value.some((v) => v && typeof v === 'object' && !('Alphabetic' in v) && !(v instanceof ArrayBuffer)) ? 'SQ' : 'UN');
    } else {
      throw new CodecError(`"${keyword}" is not a DICOM keyword`);
    }
    if (vr === 'xs' || vr === 'ox') vr = vr === 'xs' ? 'US' : 'OW';
    entries.push({ tag, vr, value, keyword });
  }
  entries.sort((a, b) => a.tag - b.tag);
  const localCharset = textCharset(elements.SpecificCharacterSet, charset);
  for (const e of entries) {
    if (e.vr === 'SQ') {
      const items: Buffer[] = [];
      for (const item of Array.isArray(e.value) ? e.value : []) {
        const body: Buffer[] = [];
        writeElements((item ?? {}) as Naturalized, explicit, localCharset, body);
        const bodyBytes = Buffer.concat(body);
        const head = Buffer.allocUnsafe(8);
        head.writeUInt16LE(0xfffe, 0);
        head.writeUInt16LE(0xe000, 2);
        head.writeUInt32LE(bodyBytes.length, 4);
        items.push(head, bodyBytes);
      }
      const value = Buffer.concat(items);
      out.push(elementHeader(e.tag, 'SQ', value.length, explicit), value);
      continue;
    }
    const value = encodeValue(e.vr, e.value, localCharset, e.keyword);
    out.push(elementHeader(e.tag, e.vr, value.length, explicit), value);
  }
}

function elementHeader(tag: number, vr: string, length: number, explicit: boolean): Buffer {
  if (!explicit) {
    const h = Buffer.allocUnsafe(8);
    h.writeUInt16LE(tag >>> 16, 0);
    h.writeUInt16LE(tag & 0xffff, 2);
    h.writeUInt32LE(length, 4);
    return h;
  }
  if (longVrs.has(vr)) {
    const h = Buffer.allocUnsafe(12);
    h.writeUInt16LE(tag >>> 16, 0);
    h.writeUInt16LE(tag & 0xffff, 2);
    h.write(vr, 4, 'latin1');
    h.writeUInt16LE(0, 6);
    h.writeUInt32LE(length, 8);
    return h;
  }
  if (length > 0xffff) throw new CodecError(`(${hex4(tag >>> 16)},${hex4(tag & 0xffff)}) ${vr} value of ${length} bytes exceeds the 16-bit length of its VR`);
  const h = Buffer.allocUnsafe(8);
  h.writeUInt16LE(tag >>> 16, 0);
  h.writeUInt16LE(tag & 0xffff, 2);
  h.write(vr, 4, 'latin1');
  h.writeUInt16LE(length, 6);
  return h;
}

function isEmpty(value: unknown): boolean {
  return value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);
}

function encodeValue(vr: string, value: unknown, charset: string | undefined, keyword: string): Buffer {
  if (isEmpty(value)) return Buffer.alloc(0);
  if (textVrs.has(vr)) {
    const values = Array.isArray(value) ? value : [value];
    const text = values
      .map((v) => {
        if (v && typeof v === 'object') {
          const pn = v as { Alphabetic?: string; Ideographic?: string; Phonetic?: string };
          return [pn.Alphabetic ?? '', pn.Ideographic ?? '', pn.Phonetic ?? ''].join('=').replace(/=+$/, '');
        }
        return String(v);
      })
      .join('\\');
    const bytes = asciiVrs.has(vr) || encodingFor(charset) !== 'utf-8' ? Buffer.from(text, 'latin1') : Buffer.from(utf8.encode(text));
    if (bytes.length % 2 === 0) return bytes;
    return Buffer.concat([bytes, Buffer.from([vr === 'UI' ? 0 : 0x20])]);
  }
  const numbers = (Array.isArray(value) ? value : [value]).map(Number);
  const pack = (size: number, write: (b: Buffer, v: number, o: number) => void) => {
    const b = Buffer.allocUnsafe(numbers.length * size);
    numbers.forEach((v, i) => write(b, v, i * size));
    return b;
  };
  switch (vr) {
    case 'US':
      return pack(2, (b, v, o) => b.writeUInt16LE(v & 0xffff, o));
    case 'SS':
      return pack(2, (b, v, o) => b.writeInt16LE(v, o));
    case 'UL':
      return pack(4, (b, v, o) => b.writeUInt32LE(v >>> 0, o));
    case 'SL':
      return pack(4, (b, v, o) => b.writeInt32LE(v | 0, o));
    case 'FL':
      return pack(4, (b, v, o) => b.writeFloatLE(v, o));
    case 'FD':
      return pack(8, (b, v, o) => b.writeDoubleLE(v, o));
    case 'AT': {
      const tags = (Array.isArray(value) ? value : [value]).map((t) => String(t).replace(/[^0-9a-fA-F]/g, ''));
      const b = Buffer.allocUnsafe(tags.length * 4);
      tags.forEach((t, i) => {
        b.writeUInt16LE(parseInt(t.slice(0, 4), 16), i * 4);
        b.writeUInt16LE(parseInt(t.slice(4, 8), 16), i * 4 + 2);
      });
      return b;
    }
    default: {
      const first = Array.isArray(value) ? value[0] : value;
      let bytes: Buffer;
      if (first instanceof ArrayBuffer) bytes = Buffer.from(first);
      else if (ArrayBuffer.isView(first)) bytes = Buffer.from(first.buffer, first.byteOffset, first.byteLength);
      else throw new CodecError(`${keyword} (${vr}) needs binary data, got ${typeof first}`);
      return bytes.length % 2 ? Buffer.concat([bytes, Buffer.alloc(1)]) : bytes;
    }
  }
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

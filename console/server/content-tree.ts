// Turns one stored message stage into a tree a person can read: HL7 v2 (segments → fields →
// repetitions → components → subcomponents, with v2.5.1 names), ASTM LIS2-A2 (records → fields →
// components, with LIS2-A2 names), DICOM (the stored event record plus, when the instance file is in
// the engine's data folder, its header elements with their dictionary keywords), JSON and XML.
// It runs on the server (GET /api/messages/{id}/tree) so the project's own codecs decode the bytes
// with the sender's charset, and the browser bundle stays small.
import fs from 'node:fs';
import path from 'node:path';
import { parseMessage as parseAstm } from '../../connectors/astm/codec/message';
import type { AstmRecord } from '../../connectors/astm/codec/record';
import { splitBatch } from '../../connectors/hl7/codec/batch';
import { unescapeValue } from '../../connectors/hl7/codec/escape';
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { isHeaderSegment, type Hl7Segment } from '../../connectors/hl7/codec/segment';
import { astmComponentName, astmFieldName, astmRecords } from './astm-dictionary';
import { dataTypes, fieldInfo, segmentNames } from './hl7-dictionary';

export interface TreeNode {
  label: string;
  name?: string;
  value?: string;
  children?: TreeNode[];
}

export type TreeFormat = 'hl7v2' | 'astm' | 'dicom' | 'json' | 'xml' | 'text' | 'binary';

export interface ContentTree {
  stage: string;
  format: TreeFormat;
  /** One line about the content (message type and control id, record count…). */
  summary: string | null;
  /** Why the content could not be decoded as its format (it is then shown as text). */
  error: string | null;
  nodes: TreeNode[];
}

export interface StageInput {
  stage: string;
  contentType: string;
  data: Buffer;
}

/** Bounds so a huge message cannot make a huge answer. */
const MAX_NODES = 20_000;

export function detectFormat(contentType: string, data: Buffer): TreeFormat {
  const type = contentType.toLowerCase();
  const head = data.subarray(0, 8).toString('latin1');
  if (type.includes('dicom')) return 'dicom';
  if (type.includes('hl7') && !type.includes('fhir') && !type.includes('json') && !type.includes('xml')) return 'hl7v2';
  if (type.includes('astm')) return 'astm';
  if (type.includes('json')) return 'json';
  if (type.includes('xml')) return 'xml';
  if (head.startsWith('MSH') || head.startsWith('FHS') || head.startsWith('BHS')) return 'hl7v2';
  if (/^\d?H[|]/.test(head) || /^\x02?\dH\|/.test(head)) return 'astm';
  if (head.trimStart().startsWith('{') || head.trimStart().startsWith('[')) return 'json';
  if (head.trimStart().startsWith('<')) return 'xml';
  return data.subarray(0, 512).includes(0) ? 'binary' : 'text';
}

export function decodeContentTree(content: StageInput, options: { dataDir?: string; hl7Charset?: string } = {}): ContentTree {
  const format = detectFormat(content.contentType, content.data);
  const base = { stage: content.stage, format, summary: null, error: null, nodes: [] } as ContentTree;
  try {
    switch (format) {
      case 'hl7v2':
        return { ...base, ...hl7Tree(content.data, options.hl7Charset) };
      case 'astm':
        return { ...base, ...astmTree(content.data.toString('utf8')) };
      case 'dicom':
        return { ...base, ...dicomTree(content.data, options.dataDir) };
      case 'json':
        return { ...base, nodes: jsonNodes(JSON.parse(content.data.toString('utf8'))) };
      case 'xml':
        return { ...base, ...xmlTree(content.data.toString('utf8')) };
      default:
        return base;
    }
  } catch (error) {
    return { ...base, error: (error as Error).message };
  }
}

// ------------------------------------------------------------------ HL7 v2

function hl7Tree(data: Buffer, charset?: string): Pick<ContentTree, 'nodes' | 'summary' | 'error'> {
  const head = data.subarray(0, 3).toString('latin1');
  if (head === 'FHS' || head === 'BHS') {
    const batch = splitBatch(data);
    const nodes: TreeNode[] = [];
    if (batch.fileHeader) nodes.push({ label: 'FHS', name: segmentNames.FHS.name, value: batch.fileHeader });
    batch.batchHeaders.forEach((line, i) => nodes.push({ label: `BHS[${i + 1}]`, name: segmentNames.BHS.name, value: line }));
    batch.messages.forEach((m, i) => {
      const message = Hl7Message.parse(m.bytes);
      nodes.push({ label: `#${i + 1}`, name: `${message.messageType} ${message.controlId}`, children: hl7Segments(message) });
    });
    return { nodes, summary: `${batch.messages.length} message(s) in a batch`, error: batch.problems.length ? batch.problems.join('; ') : null };
  }
  let message: Hl7Message;
  let error: string | null = null;
  try {
    message = Hl7Message.parse(data, { charset });
  } catch (parseError) {
    // Bytes not valid in the declared charset: still show the structure, read as Latin-1, and say so.
    if (data.subarray(0, 3).toString('latin1') !== 'MSH') throw parseError;
    message = Hl7Message.parse(data.toString('latin1'));
    error = `${(parseError as Error).message}; shown decoded as Latin-1`;
  }
  const shownCharset = message.declaredCharset || charset || message.charset.name;
  return {
    nodes: hl7Segments(message),
    summary: `${message.messageType || '?'} · ${message.controlId || '?'} · v${message.version || '?'}${shownCharset ? ` · ${shownCharset}` : ''}`,
    error,
  };
}

function hl7Segments(message: Hl7Message): TreeNode[] {
  const counts = new Map<string, number>();
  let budget = MAX_NODES;
  return message.segments.map((segment) => {
    const n = (counts.get(segment.name) ?? 0) + 1;
    counts.set(segment.name, n);
    const label = message.segmentsNamed(segment.name).length > 1 ? `${segment.name}[${n}]` : segment.name;
    const children: TreeNode[] = [];
    const obxType = segment.name === 'OBX' ? segment.get(2) : undefined;
    for (let f = 1; f <= segment.fieldCount && budget > 0; f++) {
      const raw = segment.raw(f);
      if (raw === '') continue;
      budget--;
      children.push(hl7Field(message, segment, f, obxType));
    }
    return { label, name: segmentNames[segment.name]?.name, children };
  });
}

function hl7Field(message: Hl7Message, segment: Hl7Segment, f: number, obxType: string | undefined): TreeNode {
  const d = message.delimiters;
  const { name, type } = fieldInfo(segment.name, f, obxType);
  const label = `${segment.name}-${f}`;
  if (f <= 2 && isHeaderSegment(segment.name)) return { label, name, value: segment.raw(f) };
  const decode = (raw: string) => unescapeValue(raw, d, message.decodeBytes);
  const repetitions = segment.repetitionCount(f);
  const components = (rep: number, prefix: string): TreeNode[] | undefined => {
    const raw = segment.rawAt(f, rep);
    if (raw.indexOf(d.component) < 0 && raw.indexOf(d.subcomponent) < 0) return undefined;
    const names = type ? dataTypes[type] : undefined;
    return raw.split(d.component).flatMap((comp, i) => {
      if (comp === '') return [];
      const node: TreeNode = { label: `${prefix}.${i + 1}`, name: names?.[i], value: decode(comp.split(d.subcomponent).join(d.subcomponent === '&' ? ' & ' : d.subcomponent)) };
      if (comp.indexOf(d.subcomponent) >= 0) {
        node.value = undefined;
        node.children = comp.split(d.subcomponent).flatMap((sub, j) => (sub === '' ? [] : [{ label: `${prefix}.${i + 1}.${j + 1}`, value: decode(sub) }]));
      }
      return [node];
    });
  };
  // A field with components is shown as written (delimiters kept), as HL7 people read it.
  const valueOf = (rep: number) => decode(segment.rawAt(f, rep));
  if (repetitions <= 1) {
    const children = components(1, label);
    return { label, name: type ? `${name} (${type})` : name, value: valueOf(1), children };
  }
  const children: TreeNode[] = [];
  for (let r = 1; r <= repetitions; r++) {
    if (segment.rawAt(f, r) === '') continue;
    children.push({ label: `${label}[${r}]`, value: valueOf(r), children: components(r, `${label}[${r}]`) });
  }
  return { label, name: type ? `${name} (${type})` : name, value: `${repetitions} ×`, children };
}

// ------------------------------------------------------------------ ASTM

function astmTree(text: string): Pick<ContentTree, 'nodes' | 'summary' | 'error'> {
  const message = parseAstm(text.replace(/\r\n/g, '\r'));
  const counts = new Map<string, number>();
  const nodes = message.records.map((record) => {
    const n = (counts.get(record.type) ?? 0) + 1;
    counts.set(record.type, n);
    return astmRecordNode(record, n);
  });
  const header = message.records.find((r) => r.type === 'H');
  const sender = header ? header.value(5) : '';
  return {
    nodes,
    summary: `${message.records.length} record(s)${sender ? ` · ${sender}` : ''}`,
    error: message.errors.length ? message.errors.join('; ') : null,
  };
}

function astmRecordNode(record: AstmRecord, n: number): TreeNode {
  const children: TreeNode[] = [];
  for (let f = 2; f <= record.fieldCount; f++) {
    const raw = record.field(f);
    if (raw === '') continue;
    const label = `${record.type}-${f}`;
    const name = astmFieldName(record.type, f);
    if (record.type === 'H' && f === 2) {
      children.push({ label, name, value: raw });
      continue;
    }
    const repeats = record.repeats(f);
    const componentNodes = (components: string[], prefix: string): TreeNode[] | undefined =>
      components.length > 1 ? components.flatMap((c, i) => (c === '' ? [] : [{ label: `${prefix}.${i + 1}`, name: astmComponentName(record.type, f, i + 1), value: c }])) : undefined;
    if (repeats.length <= 1) {
      const comps = repeats[0] ?? [];
      children.push({ label, name, value: comps.join(record.delimiters.component), children: componentNodes(comps, label) });
    } else {
      children.push({ label, name, value: `${repeats.length} ×`, children: repeats.map((comps, r) => ({ label: `${label}[${r + 1}]`, value: comps.join(record.delimiters.component), children: componentNodes(comps, `${label}[${r + 1}]`) })) });
    }
  }
  return { label: `${record.type}[${n}]`, name: astmRecords[record.type]?.name ?? 'Unknown record type', children };
}

// ------------------------------------------------------------------ DICOM

function dicomTree(data: Buffer, dataDir?: string): Pick<ContentTree, 'nodes' | 'summary' | 'error'> {
  const text = data.toString('utf8');
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(text);
  } catch {
    // A Part 10 file itself.
    return { nodes: dicomElements(data), summary: 'DICOM Part 10', error: null };
  }
  const nodes: TreeNode[] = [{ label: 'event', name: String(record.type ?? 'DICOM'), children: jsonNodes(record) }];
  let error: string | null = null;
  const file = typeof record.file === 'string' ? record.file : undefined;
  if (file && dataDir) {
    const resolved = path.resolve(file);
    const root = path.resolve(dataDir) + path.sep;
    if (!resolved.startsWith(root)) error = `instance file ${file} is outside the engine's data folder: not read`;
    else if (!fs.existsSync(resolved)) error = `instance file ${file} is no longer there`;
    else nodes.push({ label: 'dataset', name: path.basename(resolved), children: dicomElements(readHead(resolved)) });
  }
  const summary = [record.modality, record.patientName, record.accessionNumber, record.status].filter((v) => typeof v === 'string' && v).join(' · ') || null;
  return { nodes, summary, error };
}

/** The start of an instance file: the header is what matters, not megabytes of pixels. */
function readHead(file: string): Buffer {
  const handle = fs.openSync(file, 'r');
  try {
    const size = fs.fstatSync(handle).size;
    const length = Math.min(size, 4 * 1024 * 1024);
    const buffer = Buffer.alloc(length);
    fs.readSync(handle, buffer, 0, length, 0);
    return buffer;
  } finally {
    fs.closeSync(handle);
  }
}

let dictionary: Record<string, { name: string; vr: string }> | undefined;
function dicomDictionary(): Record<string, { name: string; vr: string }> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  dictionary ??= require('dcmjs').data.DicomMetaDictionary.dictionary;
  return dictionary!;
}

function dicomElements(data: Buffer): TreeNode[] {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const dicomParser = require('dicom-parser') as typeof import('dicom-parser');
  const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  let dataSet: import('dicom-parser').DataSet;
  try {
    dataSet = dicomParser.parseDicom(bytes, { untilTag: 'x7fe00010' });
  } catch (error) {
    const message = typeof error === 'string' ? error : (error as Error).message ?? String(error);
    throw new Error(`DICOM header: ${message}`);
  }
  const charset = dataSet.string('x00080005');
  return elementsOf(dataSet, charset, dicomParser, 0);
}

function elementsOf(dataSet: import('dicom-parser').DataSet, charset: string | undefined, dicomParser: typeof import('dicom-parser'), depth: number): TreeNode[] {
  const dict = dicomDictionary();
  const nodes: TreeNode[] = [];
  for (const tag of Object.keys(dataSet.elements).sort()) {
    const element = dataSet.elements[tag];
    const group = tag.slice(1, 5).toUpperCase();
    const elementNo = tag.slice(5, 9).toUpperCase();
    const key = `(${group},${elementNo})`;
    const entry = dict[key];
    const vr = element.vr ?? entry?.vr ?? 'UN';
    const label = key;
    const name = `${entry?.name ?? (parseInt(group, 16) % 2 === 1 ? 'Private' : 'Unknown')} [${vr}]`;
    if (element.items && depth < 4) {
      nodes.push({ label, name, value: `${element.items.length} item(s)`, children: element.items.map((item, i) => ({ label: `item ${i + 1}`, children: item.dataSet ? elementsOf(item.dataSet, charset, dicomParser, depth + 1) : [] })) });
      continue;
    }
    nodes.push({ label, name, value: dicomValue(dataSet, tag, vr, element.length) });
  }
  return nodes;
}

const TEXT_VRS = new Set(['AE', 'AS', 'CS', 'DA', 'DS', 'DT', 'IS', 'LO', 'LT', 'PN', 'SH', 'ST', 'TM', 'UC', 'UI', 'UR', 'UT']);

function dicomValue(dataSet: import('dicom-parser').DataSet, tag: string, vr: string, length: number): string {
  if (tag === 'x7fe00010') return `(${length} bytes of pixel data, not shown)`;
  if (TEXT_VRS.has(vr)) {
    const element = dataSet.elements[tag];
    const raw = Buffer.from(dataSet.byteArray.buffer, dataSet.byteArray.byteOffset + element.dataOffset, element.length);
    const text = ['PN', 'LO', 'SH', 'ST', 'LT', 'UT', 'UC'].includes(vr) ? decodeText(raw, dataSet.string('x00080005')) : raw.toString('latin1');
    return text.replace(/[\0 ]+$/, '');
  }
  const read = (fn: (t: string, i: number) => number | undefined, size: number) => {
    const count = Math.min(Math.floor(length / size), 16);
    const values: number[] = [];
    for (let i = 0; i < count; i++) {
      const v = fn.call(dataSet, tag, i);
      if (v !== undefined) values.push(v);
    }
    return values.join('\\') + (length / size > 16 ? ' …' : '');
  };
  switch (vr) {
    case 'US':
      return read(dataSet.uint16, 2);
    case 'SS':
      return read(dataSet.int16, 2);
    case 'UL':
      return read(dataSet.uint32, 4);
    case 'SL':
      return read(dataSet.int32, 4);
    case 'FL':
      return read(dataSet.float, 4);
    case 'FD':
      return read(dataSet.double, 8);
    case 'AT': {
      const g = dataSet.uint16(tag, 0);
      const e = dataSet.uint16(tag, 1);
      return g !== undefined && e !== undefined ? `(${g.toString(16).padStart(4, '0')},${e.toString(16).padStart(4, '0')})` : '';
    }
    default:
      return `(${length} bytes)`;
  }
}

function decodeText(raw: Buffer, specificCharacterSet: string | undefined): string {
  try {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const { decodeDicomText } = require('../../connectors/dicom/dataset/charset') as typeof import('../../connectors/dicom/dataset/charset');
    return decodeDicomText(raw, specificCharacterSet);
  } catch {
    return raw.toString('utf8');
  }
}

// ------------------------------------------------------------------ JSON and XML

export function jsonNodes(value: unknown, depth = 0): TreeNode[] {
  if (value === null || typeof value !== 'object') return [{ label: 'value', value: String(value) }];
  const entries = Array.isArray(value) ? value.map((v, i) => [`[${i}]`, v] as const) : Object.entries(value as Record<string, unknown>);
  return entries.slice(0, 2000).map(([key, v]) => {
    if (v !== null && typeof v === 'object' && depth < 12) {
      const size = Array.isArray(v) ? `${v.length} item(s)` : undefined;
      return { label: key, value: size, children: jsonNodes(v, depth + 1) };
    }
    return { label: key, value: v === null ? 'null' : String(v) };
  });
}

/** A light XML outline (elements, attributes, text) without a DOM: CDA and FHIR XML read fine. */
function xmlTree(text: string): Pick<ContentTree, 'nodes' | 'summary' | 'error'> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { XMLParser } = require('fast-xml-parser') as typeof import('fast-xml-parser');
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '@', processEntities: false, allowBooleanAttributes: true });
  const parsed = parser.parse(text);
  const root = Object.keys(parsed).find((k) => !k.startsWith('?'));
  return { nodes: jsonNodes(parsed), summary: root ? `<${root}>` : null, error: null };
}

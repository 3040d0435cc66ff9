// Picks the adapter for a payload: by the topic's {format} level or the content type when given,
// otherwise by the first bytes ('{' JSON contract, '[' compact array, 'MSH' HL7 v2 ORU).
import { VitalsInputError, type DeviceMessage, type PayloadFormat } from '../types';
import { readCompact } from './compact';
import { readJsonContract } from './json';

/** Reads an HL7 v2 ORU (IHE PCD-01) payload; registered by ./hl7 once the HL7 codec is loaded. */
export type Hl7Reader = (bytes: Buffer) => DeviceMessage[];
let hl7Reader: Hl7Reader | undefined;
export function registerHl7Reader(reader: Hl7Reader): void {
  hl7Reader = reader;
}

export const DEFAULT_MAX_PAYLOAD_BYTES = 64 * 1024;

export interface PayloadHints {
  /** The topic's {format} level: `vitals` (JSON contract), `compact`, `hl7`. */
  topicFormat?: string;
  contentType?: string;
  maxBytes?: number;
}

export function detectFormat(raw: Buffer, hints: PayloadHints = {}): PayloadFormat {
  const byTopic: Record<string, PayloadFormat> = { vitals: 'json', json: 'json', compact: 'compact', hl7: 'hl7-pcd01', pcd01: 'hl7-pcd01' };
  if (hints.topicFormat && byTopic[hints.topicFormat]) return byTopic[hints.topicFormat];
  const ct = hints.contentType?.toLowerCase() ?? '';
  if (ct.includes('hl7')) return 'hl7-pcd01';
  if (ct.includes('compact')) return 'compact';
  let i = 0;
  while (i < raw.length && (raw[i] === 0x20 || raw[i] === 0x09 || raw[i] === 0x0a || raw[i] === 0x0d || raw[i] === 0x0b || raw[i] === 0xef || raw[i] === 0xbb || raw[i] === 0xbf)) i++;
  const first = raw[i];
  if (first === 0x7b) return 'json';
  if (first === 0x5b) return 'compact';
  if (raw.subarray(i, i + 3).toString('latin1') === 'MSH') return 'hl7-pcd01';
  const sample = JSON.stringify(raw.subarray(i, i + 16).toString('latin1'));
  throw new VitalsInputError(`payload is neither the JSON contract ('{'), the compact array ('[') nor HL7 v2 ('MSH'): starts with ${sample} at byte ${i}`, 'format');
}

/** Reads a device payload into one or more device messages (a compact batch or an HL7 batch has several). */
export function readDevicePayload(raw: Buffer, hints: PayloadHints = {}): DeviceMessage[] {
  const max = hints.maxBytes ?? DEFAULT_MAX_PAYLOAD_BYTES;
  if (raw.length > max) throw new VitalsInputError(`payload of ${raw.length} bytes exceeds the ${max}-byte limit`, 'too-large');
  if (raw.length === 0) throw new VitalsInputError('empty payload', 'syntax');
  const format = detectFormat(raw, hints);
  if (format === 'hl7-pcd01') {
    if (!hl7Reader) throw new VitalsInputError('HL7 PCD-01 payloads need the HL7 adapter (iomt/adapters/hl7), which is not loaded', 'format');
    return hl7Reader(raw);
  }
  const text = raw.toString('utf8');
  if (text.includes('\uFFFD') && !Buffer.from(text, 'utf8').equals(raw)) {
    throw new VitalsInputError('payload is not valid UTF-8', 'syntax');
  }
  return format === 'json' ? [readJsonContract(text.replace(/^\uFEFF/, ''))] : readCompact(text.replace(/^\uFEFF/, ''));
}

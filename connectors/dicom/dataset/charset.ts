// Specific Character Set (0008,0005) → text (PS3.5 6.1, PS3.3 C.12.1.1.2). Vietnamese only survives
// in ISO_IR 192 (UTF-8); the single-byte sets are decoded so foreign files still read sensibly.
// ISO 2022 code extensions (escape sequences inside values) are decoded for their default set only.

import { TextDecoder } from 'node:util';

const decoders = new Map<string, TextDecoder>();

const encodingByTerm: Record<string, string> = {
  'ISO_IR 192': 'utf-8',
  'ISO_IR 100': 'latin1',
  'ISO 2022 IR 100': 'latin1',
  'ISO_IR 101': 'iso-8859-2',
  'ISO 2022 IR 101': 'iso-8859-2',
  'ISO_IR 109': 'iso-8859-3',
  'ISO_IR 110': 'iso-8859-4',
  'ISO_IR 144': 'iso-8859-5',
  'ISO 2022 IR 144': 'iso-8859-5',
  'ISO_IR 127': 'iso-8859-6',
  'ISO_IR 126': 'iso-8859-7',
  'ISO_IR 138': 'iso-8859-8',
  'ISO_IR 148': 'iso-8859-9',
  'ISO_IR 166': 'windows-874',
  'ISO_IR 13': 'shift_jis',
  GB18030: 'gb18030',
  GBK: 'gbk',
};

/** The TextDecoder label for a (possibly multi-valued) Specific Character Set value; default repertoire → latin1. */
export function encodingFor(specificCharacterSet: string | undefined): string {
  if (!specificCharacterSet) return 'latin1';
  const first = specificCharacterSet.split('\\').map((s) => s.trim()).find((s) => s !== '') ?? '';
  return encodingByTerm[first] ?? (specificCharacterSet.includes('ISO_IR 192') ? 'utf-8' : 'latin1');
}

export function decodeDicomText(bytes: Uint8Array, specificCharacterSet: string | undefined): string {
  const encoding = encodingFor(specificCharacterSet);
  if (encoding === 'latin1') return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('latin1');
  let decoder = decoders.get(encoding);
  if (!decoder) {
    decoder = new TextDecoder(encoding);
    decoders.set(encoding, decoder);
  }
  return decoder.decode(bytes);
}

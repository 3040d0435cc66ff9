// DIMSE command sets (group 0000, always Implicit VR Little Endian, PS3.7 6.3 and Annex E) encoded
// and decoded by hand: they are tiny and fixed, and going through dcmjs's generic dataset codec
// costs more than the rest of a small C-STORE together. Element names match dcmjs's dictionary, so
// dcmjs-dimse's request/response getters read what we decode.

import { foldVietnamese } from '../../../engine/text/vietnamese';

type CommandVr = 'UL' | 'US' | 'UI' | 'AE' | 'LO' | 'AT';

const commandElements: Record<number, { name: string; vr: CommandVr }> = {
  0x0000: { name: 'CommandGroupLength', vr: 'UL' },
  0x0002: { name: 'AffectedSOPClassUID', vr: 'UI' },
  0x0003: { name: 'RequestedSOPClassUID', vr: 'UI' },
  0x0100: { name: 'CommandField', vr: 'US' },
  0x0110: { name: 'MessageID', vr: 'US' },
  0x0120: { name: 'MessageIDBeingRespondedTo', vr: 'US' },
  0x0600: { name: 'MoveDestination', vr: 'AE' },
  0x0700: { name: 'Priority', vr: 'US' },
  0x0800: { name: 'CommandDataSetType', vr: 'US' },
  0x0900: { name: 'Status', vr: 'US' },
  0x0901: { name: 'OffendingElement', vr: 'AT' },
  0x0902: { name: 'ErrorComment', vr: 'LO' },
  0x0903: { name: 'ErrorID', vr: 'US' },
  0x1000: { name: 'AffectedSOPInstanceUID', vr: 'UI' },
  0x1001: { name: 'RequestedSOPInstanceUID', vr: 'UI' },
  0x1002: { name: 'EventTypeID', vr: 'US' },
  0x1005: { name: 'AttributeIdentifierList', vr: 'AT' },
  0x1008: { name: 'ActionTypeID', vr: 'US' },
  0x1020: { name: 'NumberOfRemainingSuboperations', vr: 'US' },
  0x1021: { name: 'NumberOfCompletedSuboperations', vr: 'US' },
  0x1022: { name: 'NumberOfFailedSuboperations', vr: 'US' },
  0x1023: { name: 'NumberOfWarningSuboperations', vr: 'US' },
  0x1030: { name: 'MoveOriginatorApplicationEntityTitle', vr: 'AE' },
  0x1031: { name: 'MoveOriginatorMessageID', vr: 'US' },
};

const elementByName = new Map(Object.entries(commandElements).map(([element, def]) => [def.name, { element: Number(element), vr: def.vr }]));

export class CommandCodecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CommandCodecError';
  }
}

/** Values as dcmjs naturalizes them: strings for text and UIDs, numbers for US/UL, `GGGGEEEE` strings for AT. */
export type CommandElements = Record<string, string | number | string[] | undefined>;

export function decodeCommand(bytes: Buffer): CommandElements {
  const out: CommandElements = {};
  let offset = 0;
  while (offset < bytes.length) {
    if (offset + 8 > bytes.length) throw new CommandCodecError(`command set truncated at byte ${offset} (element header needs 8 bytes, ${bytes.length - offset} left)`);
    const group = bytes.readUInt16LE(offset);
    const element = bytes.readUInt16LE(offset + 2);
    const length = bytes.readUInt32LE(offset + 4);
    const tag = `(${hex4(group)},${hex4(element)})`;
    if (group !== 0) throw new CommandCodecError(`command set holds element ${tag} at byte ${offset}: only group 0000 is allowed`);
    if (length === 0xffffffff || offset + 8 + length > bytes.length) {
      throw new CommandCodecError(`command element ${tag} at byte ${offset} declares length ${length}, beyond the ${bytes.length}-byte command set`);
    }
    const value = bytes.subarray(offset + 8, offset + 8 + length);
    const def = commandElements[element];
    if (def) out[def.name] = decodeValue(def.vr, value, tag);
    offset += 8 + length;
  }
  if (typeof out.CommandField !== 'number') throw new CommandCodecError('command set has no Command Field (0000,0100)');
  return out;
}

function decodeValue(vr: CommandVr, value: Buffer, tag: string): string | number | string[] {
  switch (vr) {
    case 'US':
      if (value.length !== 2) throw new CommandCodecError(`command element ${tag} (US) has length ${value.length}, expected 2`);
      return value.readUInt16LE(0);
    case 'UL':
      if (value.length !== 4) throw new CommandCodecError(`command element ${tag} (UL) has length ${value.length}, expected 4`);
      return value.readUInt32LE(0);
    case 'AT': {
      if (value.length % 4 !== 0) throw new CommandCodecError(`command element ${tag} (AT) has length ${value.length}, not a multiple of 4`);
      const tags: string[] = [];
      for (let i = 0; i < value.length; i += 4) tags.push(hex4(value.readUInt16LE(i)) + hex4(value.readUInt16LE(i + 2)));
      return tags;
    }
    case 'UI':
      return value.toString('latin1').replace(/[\0 ]+$/, '');
    default:
      return value.toString('latin1').trim();
  }
}

export function encodeCommand(elements: CommandElements): Buffer {
  const parts: Array<{ element: number; bytes: Buffer }> = [];
  for (const [name, value] of Object.entries(elements)) {
    if (value === undefined || value === null || name === 'CommandGroupLength') continue;
    const def = elementByName.get(name);
    if (!def) throw new CommandCodecError(`"${name}" is not a DIMSE command element`);
    parts.push({ element: def.element, bytes: encodeValue(def.vr, value, name) });
  }
  parts.sort((a, b) => a.element - b.element);
  const bodyLength = parts.reduce((sum, p) => sum + 8 + p.bytes.length, 0);
  const out = Buffer.allocUnsafe(12 + bodyLength);
  out.writeUInt32LE(0x00000000, 0); // (0000,0000)
  out.writeUInt32LE(4, 4);
  out.writeUInt32LE(bodyLength, 8);
  let offset = 12;
  for (const part of parts) {
    out.writeUInt16LE(0, offset);
    out.writeUInt16LE(part.element, offset + 2);
    out.writeUInt32LE(part.bytes.length, offset + 4);
    part.bytes.copy(out, offset + 8);
    offset += 8 + part.bytes.length;
  }
  return out;
}

function encodeValue(vr: CommandVr, value: string | number | string[], name: string): Buffer {
  switch (vr) {
    case 'US': {
      const b = Buffer.allocUnsafe(2);
      b.writeUInt16LE(Number(value) & 0xffff, 0);
      return b;
    }
    case 'UL': {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32LE(Number(value) >>> 0, 0);
      return b;
    }
    case 'AT': {
      const tags = Array.isArray(value) ? value : [String(value)];
      const b = Buffer.allocUnsafe(tags.length * 4);
      tags.forEach((t, i) => {
        const clean = t.replace(/[^0-9a-fA-F]/g, '');
        if (clean.length !== 8) throw new CommandCodecError(`${name}: "${t}" is not a tag`);
        b.writeUInt16LE(parseInt(clean.slice(0, 4), 16), i * 4);
        b.writeUInt16LE(parseInt(clean.slice(4), 16), i * 4 + 2);
      });
      return b;
    }
    case 'UI': {
      const s = String(value);
      return Buffer.from(s.length % 2 ? s + '\0' : s, 'latin1');
    }
    default: {
      // ErrorComment is LO (64 chars max) in the default repertoire: fold to ASCII so every peer can print it.
      let s = foldVietnamese(String(value)).replace(/[^\x20-\x7e]/g, '?');
      if (vr === 'LO') s = s.slice(0, 64);
      if (vr === 'AE') s = s.slice(0, 16);
      return Buffer.from(s.length % 2 ? s + ' ' : s, 'latin1');
    }
  }
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

// DICOM Part 10 files (PS3.10 7.1): a 128-byte preamble, "DICM", the File Meta Information (group
// 0002, always Explicit VR Little Endian), then the dataset exactly as it came off the wire. We
// write the header ourselves so a received dataset is stored byte for byte, never re-encoded.
import { DatasetParseError } from './metadata';
import { IMPLEMENTATION_CLASS_UID, IMPLEMENTATION_VERSION } from './uid';

export interface FileMeta {
  sopClassUid: string;
  sopInstanceUid: string;
  transferSyntax: string;
  sourceAeTitle?: string;
  implementationClassUid?: string;
  implementationVersion?: string;
}

/**
 * The elements around the SOP Instance UID depend only on the SOP class, transfer syntax and sender,
 * which stay the same for a whole series: they are encoded once per combination and reused (a
 * C-STORE stream of small instances builds one header per instance).
 */
const fixedMetaParts = new Map<string, { before: Buffer; after: Buffer }>();
const PREAMBLE_AND_PREFIX = (() => {
  const b = Buffer.alloc(132);
  b.write('DICM', 128, 'latin1');
  return b;
})();

export function buildFileMetaHeader(meta: FileMeta): Buffer {
  const implementationClassUid = meta.implementationClassUid ?? IMPLEMENTATION_CLASS_UID;
  const implementationVersion = meta.implementationVersion ?? IMPLEMENTATION_VERSION;
  const key = `${meta.sopClassUid}\0${meta.transferSyntax}\0${meta.sourceAeTitle ?? ''}\0${implementationClassUid}\0${implementationVersion}`;
  let fixed = fixedMetaParts.get(key);
  if (!fixed) {
    const after = [element(0x0010, 'UI', uiBytes(meta.transferSyntax)), element(0x0012, 'UI', uiBytes(implementationClassUid)), element(0x0013, 'SH', textBytes(implementationVersion))];
    if (meta.sourceAeTitle) after.push(element(0x0016, 'AE', textBytes(meta.sourceAeTitle.slice(0, 16))));
    fixed = { before: Buffer.concat([element(0x0001, 'OB', Buffer.from([0x00, 0x01])), element(0x0002, 'UI', uiBytes(meta.sopClassUid))]), after: Buffer.concat(after) };
    if (fixedMetaParts.size >= 256) fixedMetaParts.clear();
    fixedMetaParts.set(key, fixed);
  }
  const instance = element(0x0003, 'UI', uiBytes(meta.sopInstanceUid));
  const bodyLength = fixed.before.length + instance.length + fixed.after.length;
  return Buffer.concat([PREAMBLE_AND_PREFIX, element(0x0000, 'UL', uint32(bodyLength)), fixed.before, instance, fixed.after], 132 + 12 + bodyLength);
}

export interface Part10Layout {
  meta: FileMeta;
  /** Offset of the dataset (after the meta group). */
  datasetOffset: number;
}

/** Reads the File Meta Information; throws DatasetParseError naming what is wrong. */
export function readPart10Layout(bytes: Uint8Array): Part10Layout {
  const b = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (b.length < 132) throw new DatasetParseError(`not a DICOM Part 10 file: ${b.length} bytes, shorter than the 132-byte preamble and prefix`);
  if (b.toString('latin1', 128, 132) !== 'DICM') throw new DatasetParseError('not a DICOM Part 10 file: no "DICM" prefix at byte 128');
  let offset = 132;
  const values: Record<number, string> = {};
  while (offset + 8 <= b.length && b.readUInt16LE(offset) === 0x0002) {
    const elementNo = b.readUInt16LE(offset + 2);
    const vr = b.toString('latin1', offset + 4, offset + 6);
    let length: number;
    let header: number;
    if (['OB', 'OW', 'OF', 'SQ', 'UT', 'UN'].includes(vr)) {
      if (offset + 12 > b.length) throw new DatasetParseError(`file meta element (0002,${hex4(elementNo)}) truncated at byte ${offset}`);
      length = b.readUInt32LE(offset + 8);
      header = 12;
    } else if (/^[A-Z]{2}$/.test(vr)) {
      length = b.readUInt16LE(offset + 6);
      header = 8;
    } else {
      throw new DatasetParseError(`file meta element (0002,${hex4(elementNo)}) at byte ${offset} has no valid VR ("${vr}"): meta information must be Explicit VR`);
    }
    if (offset + header + length > b.length) throw new DatasetParseError(`file meta element (0002,${hex4(elementNo)}) at byte ${offset} declares ${length} bytes, beyond the end of the file`);
    if (vr === 'UI' || vr === 'AE' || vr === 'SH') values[elementNo] = b.toString('latin1', offset + header, offset + header + length).replace(/[\0 ]+$/, '').trim();
    offset += header + length;
  }
  const transferSyntax = values[0x0010];
  if (!transferSyntax) throw new DatasetParseError('file meta information has no Transfer Syntax UID (0002,0010)');
  return {
    meta: {
      sopClassUid: values[0x0002] ?? '',
      sopInstanceUid: values[0x0003] ?? '',
      transferSyntax,
      sourceAeTitle: values[0x0016],
      implementationClassUid: values[0x0012],
      implementationVersion: values[0x0013],
    },
    datasetOffset: offset,
  };
}

function element(elementNo: number, vr: string, value: Buffer): Buffer {
  const long = vr === 'OB';
  const header = Buffer.alloc(long ? 12 : 8);
  header.writeUInt16LE(0x0002, 0);
  header.writeUInt16LE(elementNo, 2);
  header.write(vr, 4, 'latin1');
  if (long) header.writeUInt32LE(value.length, 8);
  else header.writeUInt16LE(value.length, 6);
  return Buffer.concat([header, value]);
}

function uiBytes(uid: string): Buffer {
  return Buffer.from(uid.length % 2 ? `${uid}\0` : uid, 'latin1');
}

function textBytes(text: string): Buffer {
  return Buffer.from(text.length % 2 ? `${text} ` : text, 'latin1');
}

function uint32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n, 0);
  return b;
}

function hex4(n: number): string {
  return n.toString(16).toUpperCase().padStart(4, '0');
}

/** The layout of a Part 10 file on disk and its size, reading only the start of it. */
export async function readPart10FileLayout(file: string): Promise<Part10Layout & { size: number }> {
  const { open } = await import('node:fs/promises');
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    let want = Math.min(size, 64 * 1024);
    for (;;) {
      const head = Buffer.allocUnsafe(want);
      await handle.read(head, 0, want, 0);
      try {
        const layout = readPart10Layout(head);
        // A meta group that reaches the end of what we read may continue: read more.
        if (layout.datasetOffset >= want - 8 && want < size) throw new DatasetParseError('meta information longer than the read window');
        return { ...layout, size };
      } catch (err) {
        if (want >= size || want >= 16 * 1024 * 1024) throw err;
        want = Math.min(size, want * 8);
      }
    }
  } finally {
    await handle.close();
  }
}

// Fast read path for received instances (dicom-parser, ~30k parses/s): walks the dataset up to the
// Pixel Data element, checks every element length on the way (a malformed dataset fails here with
// the byte offset), and extracts what the index, reconciliation and thumbnails need. Text values
// are decoded with the dataset's Specific Character Set, so UTF-8 (ISO_IR 192) names stay intact.
import * as dicomParser from 'dicom-parser';
import { TransferSyntax } from '../dimse/uids';
import { decodeDicomText } from './charset';

export class DatasetParseError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DatasetParseError';
  }
}

/** Everything we keep about one instance (all strings trimmed; absent values are undefined). */
export interface InstanceHeader {
  sopClassUid?: string;
  sopInstanceUid?: string;
  studyInstanceUid?: string;
  seriesInstanceUid?: string;
  specificCharacterSet?: string;
  patientId?: string;
  patientName?: string;
  patientBirthDate?: string;
  patientSex?: string;
  accessionNumber?: string;
  studyDate?: string;
  studyTime?: string;
  studyDescription?: string;
  studyId?: string;
  seriesNumber?: number;
  seriesDescription?: string;
  modality?: string;
  instanceNumber?: number;
  bodyPartExamined?: string;
  stationName?: string;
  /** Requested Procedure ID / accession of the worklist item the modality used (Request Attributes Sequence). */
  requestAttributes: Array<{ accessionNumber?: string; requestedProcedureId?: string; scheduledProcedureStepId?: string }>;
  /** SOP Instance UID of the MPPS this image belongs to (Referenced Performed Procedure Step Sequence). */
  performedProcedureStepUid?: string;
  image?: ImageGeometry;
}

export interface ImageGeometry {
  rows: number;
  columns: number;
  bitsAllocated: number;
  bitsStored: number;
  pixelRepresentation: number;
  samplesPerPixel: number;
  photometricInterpretation: string;
  planarConfiguration: number;
  numberOfFrames: number;
  rescaleSlope: number;
  rescaleIntercept: number;
  windowCenter?: number;
  windowWidth?: number;
  /** Offset and length of the Pixel Data value in the parsed bytes (undefined length when encapsulated). */
  pixelDataOffset?: number;
  pixelDataLength?: number;
  encapsulated: boolean;
}

export interface ParsedDataset {
  dataSet: dicomParser.DataSet;
  /** True when parsing stopped at Pixel Data (its value was not read). */
  stoppedAtPixelData: boolean;
}

/** Parses a dataset (no Part 10 header) in the given transfer syntax, stopping after the Pixel Data element header. */
export function parseDataset(bytes: Uint8Array, transferSyntax: string, options: { untilPixelData?: boolean } = {}): ParsedDataset {
  const byteArray = bytes instanceof Buffer ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
  const bigEndian = transferSyntax === TransferSyntax.ExplicitVRBigEndian;
  const parser = bigEndian ? dicomParser.bigEndianByteArrayParser : dicomParser.littleEndianByteArrayParser;
  const dataSet = new (dicomParser as any).DataSet(parser, byteArray, {}) as dicomParser.DataSet;
  const stream = new dicomParser.ByteStream(parser, byteArray, 0);
  const untilTag = options.untilPixelData ? 'x7fe00010' : undefined;
  try {
    if (transferSyntax === TransferSyntax.ImplicitVRLittleEndian) {
      dicomParser.parseDicomDataSetImplicit(dataSet, stream, byteArray.length, untilTag ? { untilTag } : (undefined as any));
    } else if (transferSyntax === TransferSyntax.DeflatedExplicitVRLittleEndian) {
      throw new DatasetParseError('deflated datasets are not parsed (transfer syntax 1.2.840.10008.1.2.1.99)');
    } else {
      dicomParser.parseDicomDataSetExplicit(dataSet, stream, byteArray.length, untilTag ? { untilTag } : (undefined as any));
    }
  } catch (err) {
    if (err instanceof DatasetParseError) throw err;
    const text = typeof err === 'string' ? err : (err as Error).message;
    throw new DatasetParseError(`malformed dataset near byte ${stream.position} of ${byteArray.length}: ${text.replace(/^dicomParser\.\w+: /, '')}`);
  }
  const pixel = dataSet.elements.x7fe00010;
  return { dataSet, stoppedAtPixelData: !!(untilTag && pixel) };
}

/** Extracts the header fields from a parsed dataset. */
export function readInstanceHeader(parsed: ParsedDataset): InstanceHeader {
  const ds = parsed.dataSet;
  const charset = str(ds, 'x00080005');
  const text = (tag: string) => textOf(ds, tag, charset);
  const header: InstanceHeader = {
    sopClassUid: uid(ds, 'x00080016'),
    sopInstanceUid: uid(ds, 'x00080018'),
    studyInstanceUid: uid(ds, 'x0020000d'),
    seriesInstanceUid: uid(ds, 'x0020000e'),
    specificCharacterSet: charset,
    patientId: text('x00100020'),
    patientName: text('x00100010'),
    patientBirthDate: str(ds, 'x00100030'),
    patientSex: str(ds, 'x00100040'),
    accessionNumber: text('x00080050'),
    studyDate: str(ds, 'x00080020'),
    studyTime: str(ds, 'x00080030'),
    studyDescription: text('x00081030'),
    studyId: text('x00200010'),
    seriesNumber: int(ds, 'x00200011'),
    seriesDescription: text('x0008103e'),
    modality: str(ds, 'x00080060'),
    instanceNumber: int(ds, 'x00200013'),
    bodyPartExamined: str(ds, 'x00180015'),
    stationName: text('x00081010'),
    requestAttributes: [],
  };
  for (const item of ds.elements.x00400275?.items ?? []) {
    const d = item.dataSet;
    if (!d) continue;
    header.requestAttributes.push({
      accessionNumber: textOf(d, 'x00080050', charset),
      requestedProcedureId: textOf(d, 'x00401001', charset),
      scheduledProcedureStepId: textOf(d, 'x00400009', charset),
    });
  }
  const pps = ds.elements.x00081111?.items?.[0]?.dataSet;
  if (pps) header.performedProcedureStepUid = uid(pps, 'x00081155');
  const rows = ds.uint16('x00280010');
  const columns = ds.uint16('x00280011');
  const pixel = ds.elements.x7fe00010;
  if (rows && columns) {
    header.image = {
      rows,
      columns,
      bitsAllocated: ds.uint16('x00280100') ?? 16,
      bitsStored: ds.uint16('x00280101') ?? ds.uint16('x00280100') ?? 16,
      pixelRepresentation: ds.uint16('x00280103') ?? 0,
      samplesPerPixel: ds.uint16('x00280002') ?? 1,
      photometricInterpretation: str(ds, 'x00280004') ?? 'MONOCHROME2',
      planarConfiguration: ds.uint16('x00280006') ?? 0,
      numberOfFrames: int(ds, 'x00280008') ?? 1,
      rescaleSlope: float(ds, 'x00281053') ?? 1,
      rescaleIntercept: float(ds, 'x00281052') ?? 0,
      windowCenter: float(ds, 'x00281050'),
      windowWidth: float(ds, 'x00281051'),
      pixelDataOffset: pixel?.dataOffset,
      pixelDataLength: pixel && pixel.length !== 0xffffffff && !pixel.encapsulatedPixelData ? pixel.length : undefined,
      encapsulated: !!pixel && (pixel.length === 0xffffffff || !!pixel.encapsulatedPixelData || !!pixel.hadUndefinedLength),
    };
  }
  return header;
}

function str(ds: dicomParser.DataSet, tag: string): string | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  const v = ds.string(tag);
  return v === undefined || v === '' ? undefined : v;
}

function uid(ds: dicomParser.DataSet, tag: string): string | undefined {
  const v = str(ds, tag);
  return v?.replace(/\0/g, '').trim() || undefined;
}

function int(ds: dicomParser.DataSet, tag: string): number | undefined {
  const v = str(ds, tag);
  if (v === undefined) return undefined;
  const n = parseInt(v, 10);
  return Number.isFinite(n) ? n : undefined;
}

function float(ds: dicomParser.DataSet, tag: string): number | undefined {
  const v = str(ds, tag);
  if (v === undefined) return undefined;
  const n = parseFloat(v.split('\\')[0]);
  return Number.isFinite(n) ? n : undefined;
}

/** A text element decoded with the character set (raw bytes, not dicom-parser's Latin-1 string). */
export function textOf(ds: dicomParser.DataSet, tag: string, charset: string | undefined): string | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0 || el.length === 0xffffffff) return undefined;
  const bytes = ds.byteArray.subarray(el.dataOffset, el.dataOffset + el.length);
  const v = decodeDicomText(bytes, charset).replace(/[\0 ]+$/, '').replace(/^ +/, '');
  return v === '' ? undefined : v;
}

// Synthetic images for the modality simulator, tests and benchmarks: a valid Part 10 file built with
// dcmjs for the header and our own Pixel Data element (fast for 0.5 MB CT slices). The pixel data
// is a deterministic phantom (a body ellipse with an organ and a bone ring), so thumbnails show
// something recognisable and every slice differs.
import { Dataset } from '../dimse/library';
import { buildFileMetaHeader } from './part10';
import { newUid } from './uid';
import { SopClass, TransferSyntax } from '../dimse/uids';

export interface SyntheticPatient {
  patientId: string;
  /** DICOM PN, e.g. `Nguyễn^Văn An`. */
  patientName: string;
  birthDate?: string;
  sex?: string;
}

export interface SyntheticStudy extends SyntheticPatient {
  studyInstanceUid: string;
  accessionNumber?: string;
  studyDate?: string;
  studyTime?: string;
  studyDescription?: string;
  modality: string;
  requestedProcedureId?: string;
  scheduledProcedureStepId?: string;
  performedProcedureStepUid?: string;
  referringPhysician?: string;
}

export interface SyntheticImageOptions {
  seriesInstanceUid: string;
  seriesNumber?: number;
  instanceNumber: number;
  sopInstanceUid?: string;
  /** Image size; default 512×512 16-bit (a CT slice, ~0.5 MB). */
  rows?: number;
  columns?: number;
  /** `Secondary Capture` 8-bit small images for throughput tests. */
  kind?: 'ct' | 'small';
  transferSyntax?: typeof TransferSyntax.ExplicitVRLittleEndian | typeof TransferSyntax.ImplicitVRLittleEndian;
}

export interface SyntheticImage {
  sopClassUid: string;
  sopInstanceUid: string;
  bytes: Buffer;
}

export function syntheticImage(study: SyntheticStudy, options: SyntheticImageOptions): SyntheticImage {
  const kind = options.kind ?? 'ct';
  const rows = options.rows ?? (kind === 'ct' ? 512 : 8);
  const columns = options.columns ?? (kind === 'ct' ? 512 : 8);
  const transferSyntax = options.transferSyntax ?? TransferSyntax.ExplicitVRLittleEndian;
  const sopInstanceUid = options.sopInstanceUid ?? newUid();
  const ct = kind === 'ct';
  const sopClassUid = ct ? SopClass.CtImageStorage : SopClass.SecondaryCaptureImageStorage;
  const elements: Record<string, unknown> = {
    SpecificCharacterSet: 'ISO_IR 192',
    ImageType: ['ORIGINAL', 'PRIMARY', ct ? 'AXIAL' : 'OTHER'],
    SOPClassUID: sopClassUid,
    SOPInstanceUID: sopInstanceUid,
    StudyDate: study.studyDate ?? '',
    StudyTime: study.studyTime ?? '',
    AccessionNumber: study.accessionNumber ?? '',
    Modality: study.modality,
    Manufacturer: 'hisbridge simulator',
    ReferringPhysicianName: study.referringPhysician ? [{ Alphabetic: study.referringPhysician }] : '',
    StudyDescription: study.studyDescription ?? '',
    PatientName: [{ Alphabetic: study.patientName }],
    PatientID: study.patientId,
    PatientBirthDate: study.birthDate ?? '',
    PatientSex: study.sex ?? '',
    StudyInstanceUID: study.studyInstanceUid,
    SeriesInstanceUID: options.seriesInstanceUid,
    StudyID: (study.accessionNumber ?? '1').slice(0, 16),
    SeriesNumber: String(options.seriesNumber ?? 1),
    InstanceNumber: String(options.instanceNumber),
    SamplesPerPixel: 1,
    PhotometricInterpretation: 'MONOCHROME2',
    Rows: rows,
    Columns: columns,
    BitsAllocated: ct ? 16 : 8,
    BitsStored: ct ? 16 : 8,
    HighBit: ct ? 15 : 7,
    PixelRepresentation: ct ? 1 : 0,
  };
  if (ct) {
    Object.assign(elements, {
      FrameOfReferenceUID: `${study.studyInstanceUid}.1`.slice(0, 64),
      SliceThickness: '5',
      ImagePositionPatient: ['-250', '-250', String(-options.instanceNumber * 5)],
      ImageOrientationPatient: ['1', '0', '0', '0', '1', '0'],
      PixelSpacing: ['0.9765625', '0.9765625'],
      RescaleIntercept: '-1024',
      RescaleSlope: '1',
      WindowCenter: '40',
      WindowWidth: '400',
    });
  }
  if (study.accessionNumber || study.requestedProcedureId) {
    elements.RequestAttributesSequence = [
      {
        AccessionNumber: study.accessionNumber ?? '',
        RequestedProcedureID: study.requestedProcedureId ?? study.accessionNumber ?? '',
        ScheduledProcedureStepID: study.scheduledProcedureStepId ?? '',
      },
    ];
  }
  if (study.performedProcedureStepUid) {
    elements.ReferencedPerformedProcedureStepSequence = [
      { ReferencedSOPClassUID: SopClass.ModalityPerformedProcedureStep, ReferencedSOPInstanceUID: study.performedProcedureStepUid },
    ];
  }
  const header = new Dataset(elements, transferSyntax).getDenaturalizedDataset();
  const pixels = ct ? ctPhantom(rows, columns, options.instanceNumber) : smallPattern(rows, columns, options.instanceNumber);
  const pixelElement = pixelDataElement(pixels, ct ? 'OW' : 'OB', transferSyntax);
  const meta = buildFileMetaHeader({ sopClassUid, sopInstanceUid, transferSyntax });
  return { sopClassUid, sopInstanceUid, bytes: Buffer.concat([meta, header, pixelElement]) };
}

function pixelDataElement(pixels: Buffer, vr: 'OW' | 'OB', transferSyntax: string): Buffer {
  const padded = pixels.length % 2 ? Buffer.concat([pixels, Buffer.alloc(1)]) : pixels;
  if (transferSyntax === TransferSyntax.ImplicitVRLittleEndian) {
    const h = Buffer.alloc(8);
    h.writeUInt16LE(0x7fe0, 0);
    h.writeUInt16LE(0x0010, 2);
    h.writeUInt32LE(padded.length, 4);
    return Buffer.concat([h, padded]);
  }
  const h = Buffer.alloc(12);
  h.writeUInt16LE(0x7fe0, 0);
  h.writeUInt16LE(0x0010, 2);
  h.write(vr, 4, 'latin1');
  h.writeUInt32LE(padded.length, 8);
  return Buffer.concat([h, padded]);
}

/** 16-bit signed stored values (HU + 1024): air outside, soft tissue body, a brighter organ, a bone ring. */
function ctPhantom(rows: number, columns: number, slice: number): Buffer {
  const out = Buffer.allocUnsafe(rows * columns * 2);
  const cx = columns / 2;
  const cy = rows / 2;
  const organX = cx + Math.sin(slice / 7) * columns * 0.12;
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < columns; x++) {
      const bx = (x - cx) / (columns * 0.42);
      const by = (y - cy) / (rows * 0.33);
      const body = bx * bx + by * by;
      let hu = -1000;
      if (body <= 1) {
        hu = 40;
        if (body > 0.85) hu = 700; // bone ring
        const ox = (x - organX) / (columns * 0.1);
        const oy = (y - cy) / (rows * 0.12);
        if (ox * ox + oy * oy <= 1) hu = 120;
      }
      out.writeInt16LE(hu + 1024, (y * columns + x) * 2);
    }
  }
  return out;
}

function smallPattern(rows: number, columns: number, seed: number): Buffer {
  const out = Buffer.allocUnsafe(rows * columns);
  for (let i = 0; i < out.length; i++) out[i] = (i * 7 + seed * 13) & 0xff;
  return out;
}

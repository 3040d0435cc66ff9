// A PNG thumbnail of the first frame of a native (uncompressed) image: stored values → Modality LUT
// (rescale slope/intercept) → window (the file's, else the frame's min/max) → 8 bits → box-filtered
// down to `maxSize`. Encapsulated (JPEG, JPEG 2000, RLE) pixel data is not decoded here: the caller
// gets a ThumbnailError saying so.
import { open } from 'node:fs/promises';
import { readPart10Layout } from '../dataset/part10';
import { parseDataset, readInstanceHeader, type ImageGeometry } from '../dataset/metadata';
import { TransferSyntax } from '../dimse/uids';
import { encodePng } from './png';

export class ThumbnailError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ThumbnailError';
  }
}

const nativeSyntaxes = new Set<string>([TransferSyntax.ImplicitVRLittleEndian, TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ExplicitVRBigEndian]);

export async function renderThumbnailFromFile(file: string, maxSize = 256, maxFileBytes = 256 * 1024 * 1024): Promise<Buffer> {
  const handle = await open(file, 'r');
  let bytes: Buffer;
  try {
    const { size } = await handle.stat();
    if (size > maxFileBytes) throw new ThumbnailError(`${file} is ${size} bytes, above the ${maxFileBytes}-byte thumbnail limit`);
    bytes = Buffer.allocUnsafe(size);
    await handle.read(bytes, 0, size, 0);
  } finally {
    await handle.close();
  }
  return renderThumbnail(bytes, maxSize);
}

export function renderThumbnail(part10: Buffer, maxSize = 256): Buffer {
  const layout = readPart10Layout(part10);
  const ts = layout.meta.transferSyntax;
  if (!nativeSyntaxes.has(ts)) throw new ThumbnailError(`pixel data in transfer syntax ${ts} is compressed: no thumbnail is rendered for it`);
  const dataset = part10.subarray(layout.datasetOffset);
  const header = readInstanceHeader(parseDataset(dataset, ts, { untilPixelData: true }));
  const image = header.image;
  if (!image || image.pixelDataOffset === undefined) throw new ThumbnailError('no image: Rows, Columns or Pixel Data missing');
  if (image.encapsulated) throw new ThumbnailError('encapsulated pixel data: no thumbnail');
  const bigEndian = ts === TransferSyntax.ExplicitVRBigEndian;
  const { rows, columns } = image;
  if (image.samplesPerPixel === 1) {
    const values = readMonochrome(dataset, image, bigEndian);
    const out = windowTo8Bit(values, image);
    const { width, height, pixels } = shrink(out, columns, rows, 1, maxSize);
    return encodePng(width, height, 1, pixels);
  }
  if (image.samplesPerPixel === 3 && image.bitsAllocated === 8) {
    const frame = rows * columns * 3;
    const start = image.pixelDataOffset;
    if (start + frame > dataset.length) throw new ThumbnailError(`Pixel Data holds fewer than ${frame} bytes for one ${columns}×${rows} RGB frame`);
    const src = dataset.subarray(start, start + frame);
    const rgb = new Uint8Array(frame);
    if (image.planarConfiguration === 1) {
      const plane = rows * columns;
      for (let i = 0; i < plane; i++) {
        rgb[i * 3] = src[i];
        rgb[i * 3 + 1] = src[plane + i];
        rgb[i * 3 + 2] = src[2 * plane + i];
      }
    } else rgb.set(src);
    const { width, height, pixels } = shrink(rgb, columns, rows, 3, maxSize);
    return encodePng(width, height, 3, pixels);
  }
  throw new ThumbnailError(`${image.samplesPerPixel} samples per pixel at ${image.bitsAllocated} bits (${image.photometricInterpretation}) is not rendered`);
}

function readMonochrome(dataset: Buffer, image: ImageGeometry, bigEndian: boolean): Float64Array {
  const count = image.rows * image.columns;
  const start = image.pixelDataOffset!;
  const bytesPer = image.bitsAllocated / 8;
  if (![1, 2, 4].includes(bytesPer)) throw new ThumbnailError(`Bits Allocated ${image.bitsAllocated} is not rendered`);
  if (start + count * bytesPer > dataset.length) throw new ThumbnailError(`Pixel Data holds fewer than ${count * bytesPer} bytes for one ${image.columns}×${image.rows} frame`);
  const out = new Float64Array(count);
  const signed = image.pixelRepresentation === 1;
  const stored = image.bitsStored;
  const mask = stored >= 32 ? 0xffffffff : (1 << stored) - 1;
  const signBit = stored >= 32 ? 0x80000000 : 1 << (stored - 1);
  for (let i = 0; i < count; i++) {
    const at = start + i * bytesPer;
    let raw = bytesPer === 1 ? dataset[at] : bytesPer === 2 ? (bigEndian ? dataset.readUInt16BE(at) : dataset.readUInt16LE(at)) : bigEndian ? dataset.readUInt32BE(at) : dataset.readUInt32LE(at);
    raw = (raw & mask) >>> 0;
    const value = signed && raw & signBit ? raw - (mask + 1) : raw;
    out[i] = value * image.rescaleSlope + image.rescaleIntercept;
  }
  return out;
}

function windowTo8Bit(values: Float64Array, image: ImageGeometry): Uint8Array {
  let center = image.windowCenter;
  let width = image.windowWidth;
  if (center === undefined || width === undefined || width <= 0) {
    let min = Infinity;
    let max = -Infinity;
    for (const v of values) {
      if (v < min) min = v;
      if (v > max) max = v;
    }
    center = (min + max) / 2;
    width = Math.max(1, max - min);
  }
  const lo = center - width / 2;
  const out = new Uint8Array(values.length);
  const invert = image.photometricInterpretation === 'MONOCHROME1';
  for (let i = 0; i < values.length; i++) {
    let v = Math.round(((values[i] - lo) / width) * 255);
    v = v < 0 ? 0 : v > 255 ? 255 : v;
    out[i] = invert ? 255 - v : v;
  }
  return out;
}

/** Box filter down so the longer side is at most maxSize (never enlarges). */
function shrink(src: Uint8Array, width: number, height: number, channels: number, maxSize: number): { width: number; height: number; pixels: Uint8Array } {
  const scale = Math.max(width, height) / maxSize;
  if (scale <= 1) return { width, height, pixels: src };
  const w = Math.max(1, Math.round(width / scale));
  const h = Math.max(1, Math.round(height / scale));
  const out = new Uint8Array(w * h * channels);
  for (let y = 0; y < h; y++) {
    const y0 = Math.floor((y * height) / h);
    const y1 = Math.max(y0 + 1, Math.floor(((y + 1) * height) / h));
    for (let x = 0; x < w; x++) {
      const x0 = Math.floor((x * width) / w);
      const x1 = Math.max(x0 + 1, Math.floor(((x + 1) * width) / w));
      for (let c = 0; c < channels; c++) {
        let sum = 0;
        for (let yy = y0; yy < y1; yy++) for (let xx = x0; xx < x1; xx++) sum += src[(yy * width + xx) * channels + c];
        out[(y * w + x) * channels + c] = Math.round(sum / ((y1 - y0) * (x1 - x0)));
      }
    }
  }
  return { width: w, height: h, pixels: out };
}

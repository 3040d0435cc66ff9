// MLLP framing as a stream transform: bytes in, frames out. A frame is VT <payload> FS CR; frames may
// arrive split over many reads or several in one read, and both are handled by construction (the
// decoder only ever looks for the next VT or FS from where it stopped). Bad framing becomes events,
// never exceptions: bytes outside a frame, a frame cut by a new VT, a frame over the size limit.
import { Transform, type TransformCallback } from 'node:stream';

export const VT = 0x0b;
export const FS = 0x1c;
export const CR = 0x0d;

export type MllpEvent =
  /** A complete frame (payload without VT / FS CR). */
  | { kind: 'frame'; payload: Buffer }
  /** A frame longer than the limit: its first bytes (to read MSH from), its full size; the rest was dropped. */
  | { kind: 'oversized'; head: Buffer; size: number }
  /** A frame that a new VT interrupted before its FS: what had arrived of it. */
  | { kind: 'interrupted'; partial: Buffer }
  /** Bytes that arrived outside any frame (whitespace between frames is not reported). */
  | { kind: 'junk'; sample: Buffer; size: number };

export interface MllpDecoderOptions {
  /** Largest payload accepted, in bytes (default 16 MiB). */
  maxMessageBytes?: number;
  /** How much of an oversized frame is kept for the error record (default 64 KiB). */
  keepOversizedBytes?: number;
}

function isWhitespace(chunk: Buffer, start: number, end: number): boolean {
  for (let i = start; i < end; i++) {
    const b = chunk[i];
    if (b !== CR && b !== 0x0a && b !== 0x20 && b !== 0x09 && b !== 0x00) return false;
  }
  return true;
}

export class MllpDecoder extends Transform {
  private readonly maxBytes: number;
  private readonly keepBytes: number;
  private inFrame = false;
  private parts: Buffer[] = [];
  private size = 0;
  private oversized = false;
  /** The previous chunk ended with FS: a CR first in the next chunk still belongs to that frame. */
  private swallowCr = false;
  private junkSample: Buffer[] = [];
  private junkSize = 0;

  constructor(options: MllpDecoderOptions = {}) {
    super({ readableObjectMode: true, readableHighWaterMark: 32 });
    this.maxBytes = options.maxMessageBytes ?? 16 * 1024 * 1024;
    this.keepBytes = Math.min(options.keepOversizedBytes ?? 64 * 1024, this.maxBytes);
  }

  /** True while part of a frame has arrived and its end has not (for the frame timeout). */
  get midFrame(): boolean {
    return this.inFrame;
  }

  /** Bytes of the frame received so far. */
  get pendingBytes(): number {
    return this.size;
  }

  /** Takes what arrived of an unfinished frame (after a timeout or at end of stream) and resets. */
  takePartial(): Buffer | undefined {
    if (!this.inFrame) return undefined;
    const partial = Buffer.concat(this.parts);
    this.resetFrame();
    return partial;
  }

  private resetFrame(): void {
    this.inFrame = false;
    this.parts = [];
    this.size = 0;
    this.oversized = false;
  }

  private addJunk(chunk: Buffer, start: number, end: number): void {
    if (end <= start || isWhitespace(chunk, start, end)) return;
    if (this.junkSize < 256) this.junkSample.push(chunk.subarray(start, Math.min(end, start + 256 - this.junkSize)));
    this.junkSize += end - start;
  }

  private flushJunk(): void {
    if (this.junkSize === 0) return;
    this.push({ kind: 'junk', sample: Buffer.concat(this.junkSample), size: this.junkSize } satisfies MllpEvent);
    this.junkSample = [];
    this.junkSize = 0;
  }

  private append(chunk: Buffer, start: number, end: number): void {
    const n = end - start;
    if (n <= 0) return;
    if (!this.oversized && this.size + n > this.maxBytes) {
      // Keep only the head; everything up to the FS is counted and dropped.
      this.oversized = true;
      const head = Buffer.concat(this.parts);
      this.parts = [head.subarray(0, this.keepBytes)];
      const room = this.keepBytes - this.parts[0].length;
      if (room > 0) this.parts.push(chunk.subarray(start, start + Math.min(room, n)));
    } else if (!this.oversized) {
      this.parts.push(chunk.subarray(start, end));
    } else {
      const kept = this.parts.reduce((s, p) => s + p.length, 0);
      if (kept < this.keepBytes) this.parts.push(chunk.subarray(start, start + Math.min(this.keepBytes - kept, n)));
    }
    this.size += n;
  }

  private endFrame(): void {
    if (this.oversized) {
      this.push({ kind: 'oversized', head: Buffer.concat(this.parts), size: this.size } satisfies MllpEvent);
    } else {
      // Copy: a subarray would keep the whole socket read buffer alive while the message waits.
      const payload = this.parts.length === 1 ? Buffer.from(this.parts[0]) : Buffer.concat(this.parts, this.size);
      this.push({ kind: 'frame', payload } satisfies MllpEvent);
    }
    this.resetFrame();
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, done: TransformCallback): void {
    let i = 0;
    const n = chunk.length;
    if (this.swallowCr && n > 0) {
      this.swallowCr = false;
      if (chunk[0] === CR) i = 1;
    }
    while (i < n) {
      if (!this.inFrame) {
        const vt = chunk.indexOf(VT, i);
        if (vt < 0) {
          this.addJunk(chunk, i, n);
          break;
        }
        this.addJunk(chunk, i, vt);
        this.flushJunk();
        this.inFrame = true;
        i = vt + 1;
        continue;
      }
      const fs = chunk.indexOf(FS, i);
      const end = fs < 0 ? n : fs;
      const vt = chunk.indexOf(VT, i);
      if (vt >= 0 && vt < end) {
        // A new frame starts before this one ended: report what we had and start over at the VT.
        this.append(chunk, i, vt);
        const partial = Buffer.concat(this.parts);
        this.resetFrame();
        this.push({ kind: 'interrupted', partial } satisfies MllpEvent);
        i = vt; // picked up as a frame start on the next turn
        continue;
      }
      this.append(chunk, i, end);
      if (fs < 0) break;
      this.endFrame();
      i = fs + 1;
      // FS must be followed by CR; tolerate a sender that sends FS alone.
      if (i < n) {
        if (chunk[i] === CR) i++;
      } else this.swallowCr = true;
    }
    this.flushJunk();
    done();
  }

  override _flush(done: TransformCallback): void {
    this.flushJunk();
    done();
  }
}

/** Wraps a payload in VT … FS CR. */
export function encodeFrame(payload: Buffer | string): Buffer {
  const body = typeof payload === 'string' ? Buffer.from(payload, 'utf8') : payload;
  const out = Buffer.allocUnsafe(body.length + 3);
  out[0] = VT;
  body.copy(out, 1);
  out[body.length + 1] = FS;
  out[body.length + 2] = CR;
  return out;
}

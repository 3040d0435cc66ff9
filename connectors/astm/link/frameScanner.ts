// Turns the bytes of a LIS1-A line into events: control characters, complete frames (checked) and
// noise. A push parser: bytes may arrive split or coalesced across reads in any way; the scanner
// keeps only the state of the frame in progress, bounded by the 64 000-character frame limit.
import { Transform, type TransformCallback } from 'node:stream';
import { ACK, CR, ENQ, EOT, ETB, ETX, LF, MAX_RECEIVE_FRAME_TEXT, NAK, RESTRICTED, STX, byteName } from './constants';
import { checksumOf } from './frame';

export type ControlByte = typeof ENQ | typeof EOT | typeof ACK | typeof NAK;

export type LinkEvent =
  | { kind: 'control'; byte: ControlByte }
  /** A frame that arrived whole. `error` says why it must be rejected (NAK); otherwise it is good. */
  | { kind: 'frame'; fn: number; text: Buffer; final: boolean; checksum: string; error?: string; offset: number }
  /** A frame cut short by STX/ENQ/EOT, or bytes outside any frame (neither can be acknowledged). */
  | { kind: 'noise'; bytes: Buffer; reason: string; offset: number };

const HEX = /^[0-9A-Fa-f]{2}$/;

/** Bytes that need a decision inside a frame (terminators, control characters, restricted ones). */
const SPECIAL = new Uint8Array(256);
for (const b of [STX, ETX, ETB, ENQ, EOT, ...RESTRICTED]) SPECIAL[b] = 1;

type State = 'outside' | 'frame' | 'checksum';

export interface FrameScannerOptions {
  maxFrameText?: number;
}

export class FrameScanner {
  private state: State = 'outside';
  private readonly maxFrameText: number;
  /** Frame bytes from FN to ETX/ETB inclusive (what the checksum covers). */
  private frame: Buffer;
  private frameLength = 0;
  private overflow = 0;
  private restricted?: string;
  private checksumChars = '';
  private noise: number[] = [];
  /** Byte offsets (since the scanner was created) of the current frame's STX and of the first noise byte. */
  private position = 0;
  private frameStart = 0;
  private noiseStart = 0;

  constructor(options: FrameScannerOptions = {}) {
    this.maxFrameText = options.maxFrameText ?? MAX_RECEIVE_FRAME_TEXT;
    this.frame = Buffer.allocUnsafe(Math.min(this.maxFrameText + 2, 4096));
  }

  /** True while a frame has started but not ended (the link must not time out a receiver too eagerly). */
  get inFrame(): boolean {
    return this.state !== 'outside';
  }

  push(chunk: Uint8Array): LinkEvent[] {
    const events: LinkEvent[] = [];
    const base = this.position;
    this.position += chunk.length;
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i];
      switch (this.state) {
        case 'outside':
          if (b === STX) {
            this.flushNoise(events);
            this.beginFrame();
            this.frameStart = base + i;
          } else if (b === ENQ || b === EOT || b === ACK || b === NAK) {
            this.flushNoise(events);
            events.push({ kind: 'control', byte: b });
          } else if (b === CR || b === LF) {
            // Frame trailers (CR LF, lone CR or lone LF, as captures show) are not noise.
          } else {
            if (this.noise.length === 0) this.noiseStart = base + i;
            if (this.noise.length < 4096) this.noise.push(b);
          }
          break;
        case 'frame':
          if (!SPECIAL[b]) {
            // Copy the whole run of ordinary text at once: frames can be 64 000 characters.
            let end = i + 1;
            while (end < chunk.length && !SPECIAL[chunk[end]]) end++;
            this.appendRun(chunk, i, end);
            i = end - 1;
            break;
          }
          if (b === ETX || b === ETB) {
            this.append(b);
            this.state = 'checksum';
            this.checksumChars = '';
          } else if (b === STX || b === ENQ || b === EOT) {
            this.abandonFrame(events, `frame cut short by ${byteName(b)} before ETX/ETB`);
            i--; // handle the byte again from the outside state
          } else {
            if (this.frameLength > 0 && RESTRICTED.has(b) && this.restricted === undefined) {
              this.restricted = `restricted character ${byteName(b)} in frame text at offset ${this.frameLength - 1}`;
            }
            this.append(b);
          }
          break;
        case 'checksum':
          if (b === STX || b === ENQ || b === EOT) {
            this.abandonFrame(events, `frame cut short by ${byteName(b)} inside its checksum`);
            i--;
            break;
          }
          this.checksumChars += String.fromCharCode(b);
          if (this.checksumChars.length === 2) {
            events.push(this.finishFrame());
            this.state = 'outside';
          }
          break;
      }
    }
    // Noise is reported once the read ends so one burst of garbage is one event.
    this.flushNoise(events);
    return events;
  }

  /** Forgets a partial frame (link reset, session timeout); returns what was dropped, if anything. */
  reset(): LinkEvent | undefined {
    let dropped: LinkEvent | undefined;
    if (this.state !== 'outside') {
      dropped = { kind: 'noise', bytes: Buffer.from(this.frame.subarray(0, this.frameLength)), reason: 'frame incomplete when the link was reset', offset: this.frameStart };
    }
    this.state = 'outside';
    this.frameLength = 0;
    this.noise = [];
    return dropped;
  }

  private beginFrame(): void {
    this.state = 'frame';
    this.frameLength = 0;
    this.overflow = 0;
    this.restricted = undefined;
  }

  private append(b: number): void {
    // FN + text + terminator; anything beyond the limit is counted, not stored.
    if (this.frameLength >= this.maxFrameText + 2) {
      this.overflow++;
      if (b === ETX || b === ETB) {
        // keep the terminator so the frame can still be reported
        this.frame[this.frameLength - 1] = b;
      }
      return;
    }
    if (this.frameLength === this.frame.length) {
      const bigger = Buffer.allocUnsafe(Math.min(this.frame.length * 2, this.maxFrameText + 2));
      this.frame.copy(bigger, 0, 0, this.frameLength);
      this.frame = bigger;
    }
    this.frame[this.frameLength++] = b;
  }

  private appendRun(chunk: Uint8Array, start: number, end: number): void {
    const room = this.maxFrameText + 2 - this.frameLength;
    const take = Math.min(room, end - start);
    if (take < end - start) this.overflow += end - start - take;
    if (take <= 0) return;
    if (this.frameLength + take > this.frame.length) {
      let size = this.frame.length;
      while (size < this.frameLength + take) size *= 2;
      const bigger = Buffer.allocUnsafe(Math.min(size, this.maxFrameText + 2));
      this.frame.copy(bigger, 0, 0, this.frameLength);
      this.frame = bigger;
    }
    this.frame.set(chunk.subarray(start, start + take), this.frameLength);
    this.frameLength += take;
  }

  private finishFrame(): LinkEvent {
    const bytes = this.frame.subarray(0, this.frameLength);
    const terminator = bytes[bytes.length - 1];
    const final = terminator === ETX;
    const fnByte = bytes[0];
    const fn = fnByte >= 0x30 && fnByte <= 0x37 ? fnByte - 0x30 : -1;
    const text = Buffer.from(bytes.subarray(1, bytes.length - 1));
    const received = this.checksumChars;
    let error: string | undefined;
    if (this.overflow > 0) {
      error = `frame text longer than ${this.maxFrameText} characters (${this.frameLength - 2 + this.overflow} received)`;
    } else if (fn < 0) {
      error = `frame number ${fnByte === ETX || fnByte === ETB ? 'missing' : byteName(fnByte)} is not a digit 0-7`;
    } else if (this.restricted) {
      error = this.restricted;
    } else if (!HEX.test(received)) {
      error = `checksum characters ${JSON.stringify(received)} are not two hex digits`;
    } else {
      const expected = checksumOf(bytes);
      if (received.toUpperCase() !== expected) error = `checksum mismatch: received ${received}, computed ${expected}`;
    }
    this.frameLength = 0;
    return { kind: 'frame', fn, text, final, checksum: received, offset: this.frameStart, ...(error ? { error } : {}) };
  }

  private abandonFrame(events: LinkEvent[], reason: string): void {
    events.push({ kind: 'noise', bytes: Buffer.from([STX, ...this.frame.subarray(0, this.frameLength)]), reason, offset: this.frameStart });
    this.state = 'outside';
    this.frameLength = 0;
  }

  private flushNoise(events: LinkEvent[]): void {
    if (this.noise.length === 0) return;
    const bytes = Buffer.from(this.noise);
    this.noise = [];
    events.push({ kind: 'noise', bytes, reason: `${bytes.length} unexpected byte(s) outside a frame, first ${byteName(bytes[0])}`, offset: this.noiseStart });
  }
}

/** The scanner as an object-mode stream transform (bytes in, LinkEvents out), e.g. for reading captures. */
export class FrameDecoderStream extends Transform {
  private readonly scanner: FrameScanner;
  constructor(options: FrameScannerOptions = {}) {
    super({ readableObjectMode: true });
    this.scanner = new FrameScanner(options);
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    for (const event of this.scanner.push(chunk)) this.push(event);
    done();
  }
  override _flush(done: TransformCallback): void {
    const dropped = this.scanner.reset();
    if (dropped) this.push({ ...dropped, reason: 'input ended inside a frame (no ETX/ETB or checksum)' });
    done();
  }
}

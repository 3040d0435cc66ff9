import assert from 'node:assert/strict';
import { encodeFrame, MllpDecoder, type MllpEvent } from '../../connectors/hl7/mllp/framer';
import { frame } from './helpers';

function decode(chunks: Buffer[], options?: ConstructorParameters<typeof MllpDecoder>[0]): MllpEvent[] {
  const d = new MllpDecoder(options);
  const events: MllpEvent[] = [];
  d.on('data', (e: MllpEvent) => events.push(e));
  for (const c of chunks) d.write(c);
  d.end();
  return events;
}

describe('hl7 MLLP framer', () => {
  const a = 'MSH|^~\\&|A\rPID|1\r';
  const b = 'MSH|^~\\&|B\rPID|2||Nguyễn\r';

  it('encodes VT payload FS CR', () => {
    assert.deepEqual([...encodeFrame('X')], [0x0b, 0x58, 0x1c, 0x0d]);
  });

  it('decodes frames split at every possible byte boundary', () => {
    const wire = Buffer.concat([frame(a), frame(b)]);
    for (let cut = 1; cut < wire.length; cut++) {
      const events = decode([wire.subarray(0, cut), wire.subarray(cut)]);
      assert.deepEqual(
        events.map((e) => (e.kind === 'frame' ? e.payload.toString() : e.kind)),
        [a, b],
        `cut at ${cut}`,
      );
    }
  });

  it('decodes byte-by-byte delivery and many frames coalesced in one read', () => {
    const wire = Buffer.concat(Array.from({ length: 50 }, (_, i) => frame(`MSH|^~\\&|${i}\r`)));
    const single = decode([wire]);
    const bytewise = decode([...wire].map((x) => Buffer.from([x])));
    assert.equal(single.length, 50);
    assert.deepEqual(single, bytewise);
    assert.equal((single[49] as { payload: Buffer }).payload.toString(), 'MSH|^~\\&|49\r');
  });

  it('reports bytes outside frames (not whitespace between frames)', () => {
    const events = decode([Buffer.from('\r\n'), frame(a), Buffer.from('MSH|no framing\r'), frame(b)]);
    assert.deepEqual(events.map((e) => e.kind), ['frame', 'junk', 'frame']);
    assert.equal((events[1] as { sample: Buffer }).sample.toString(), 'MSH|no framing\r');
  });

  it('a frame interrupted by a new VT is reported and the next frame still decodes', () => {
    const events = decode([Buffer.concat([Buffer.from([0x0b]), Buffer.from('MSH|^~\\&|cut'), frame(b)])]);
    assert.deepEqual(events.map((e) => e.kind), ['interrupted', 'frame']);
    assert.equal((events[0] as { partial: Buffer }).partial.toString(), 'MSH|^~\\&|cut');
  });

  it('a frame over the size limit is dropped (its head kept), and framing recovers for the next one', () => {
    const big = 'MSH|^~\\&|BIG\r' + 'OBX|1|TX|||' + 'x'.repeat(5000) + '\r';
    const events = decode([frame(big).subarray(0, 100), frame(big).subarray(100), frame(a)], { maxMessageBytes: 2048, keepOversizedBytes: 64 });
    assert.equal(events[0].kind, 'oversized');
    const o = events[0] as { head: Buffer; size: number };
    assert.equal(o.size, Buffer.byteLength(big));
    assert.equal(o.head.length, 64);
    assert.ok(o.head.toString().startsWith('MSH|^~\\&|BIG'));
    assert.equal(events[1].kind, 'frame');
  });

  it('tolerates FS without CR, and a CR arriving in the next read', () => {
    const noCr = Buffer.concat([Buffer.from([0x0b]), Buffer.from(a), Buffer.from([0x1c]), frame(b)]);
    assert.deepEqual(decode([noCr]).map((e) => e.kind), ['frame', 'frame']);
    const fsThenCr = [Buffer.concat([Buffer.from([0x0b]), Buffer.from(a), Buffer.from([0x1c])]), Buffer.from([0x0d])];
    assert.deepEqual(decode(fsThenCr).map((e) => e.kind), ['frame']);
  });

  it('exposes an unfinished frame for the frame timeout', () => {
    const d = new MllpDecoder();
    d.write(Buffer.from([0x0b, 0x4d, 0x53]));
    assert.equal(d.midFrame, true);
    assert.equal(d.pendingBytes, 2);
    assert.equal(d.takePartial()!.toString(), 'MS');
    assert.equal(d.midFrame, false);
  });
});

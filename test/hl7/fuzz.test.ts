// Fuzzing with inputs mutated from the real fixtures: the codec must parse or refuse with an Hl7Error
// (never a TypeError or a hang), a parsed message must re-serialise to its exact bytes, and over MLLP
// every complete frame must be stored and answered, in order, whatever is inside it.
import assert from 'node:assert/strict';
import { buildAck, headerOf, scrapeHeader } from '../../connectors/hl7/codec/ack';
import { Hl7Error } from '../../connectors/hl7/codec/errors';
import { DEFAULT_DELIMITERS } from '../../connectors/hl7/codec/delimiters';
import { escapeValue } from '../../connectors/hl7/codec/escape';
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { readAdt, readOrders, readResults } from '../../connectors/hl7/views';
import { correlationOf, metaOf } from '../../connectors/hl7/correlation';
import { MllpSource, mllpSourceSchema } from '../../connectors/hl7/source';
import { fixture, fixtureNames, frame, RawMllpClient, recordingContext } from './helpers';
import { seededRandom } from '../../engine/util/seeded-random';

const INTERESTING = [0x0d, 0x0a, 0x7c, 0x5e, 0x7e, 0x5c, 0x26, 0x0b, 0x1c, 0x00, 0xff, 0xc3, 0xe1, 0x80, 0x23];
const TOKENS = ['\\X', '\\XE1BB85\\', '\\F\\', '\\.br\\', '\\', '^^^^', '~~', '&&', '\r', '\rMSH|^~\\&|', '\rZZZ|', '\rOBX|1|NM|', '\rPID|', '\r\r\n', 'MSH|^~\\&|', '|||||||||||||||||||||', 'UNICODE UTF-8', '8859/1', 'KLINGON'];

function mutate(input: Buffer, rnd: () => number, sources: Buffer[]): Buffer {
  let b = Buffer.from(input);
  const n = 1 + Math.floor(rnd() * 4);
  for (let k = 0; k < n; k++) {
    const at = Math.floor(rnd() * (b.length + 1));
    switch (Math.floor(rnd() * 9)) {
      case 0: // flip a byte
        if (b.length) b[Math.min(at, b.length - 1)] = Math.floor(rnd() * 256);
        break;
      case 1: // insert an interesting byte
        b = Buffer.concat([b.subarray(0, at), Buffer.from([INTERESTING[Math.floor(rnd() * INTERESTING.length)]]), b.subarray(at)]);
        break;
      case 2: // delete a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + Math.floor(rnd() * 40)))]);
        break;
      case 3: // duplicate a range
        b = Buffer.concat([b.subarray(0, at), b.subarray(at, at + Math.floor(rnd() * 80)), b.subarray(at)]);
        break;
      case 4: // truncate
        b = b.subarray(0, at);
        break;
      case 5: // insert a token (escape, delimiters, segment starts)
        b = Buffer.concat([b.subarray(0, at), Buffer.from(TOKENS[Math.floor(rnd() * TOKENS.length)]), b.subarray(at)]);
        break;
      case 6: // change a delimiter in MSH-1/MSH-2
        if (b.length > 8) b[3 + Math.floor(rnd() * 5)] = INTERESTING[Math.floor(rnd() * INTERESTING.length)];
        break;
      case 7: {
        // splice in a piece of another fixture
        const other = sources[Math.floor(rnd() * sources.length)];
        const from = Math.floor(rnd() * other.length);
        b = Buffer.concat([b.subarray(0, at), other.subarray(from, from + Math.floor(rnd() * 200)), b.subarray(at)]);
        break;
      }
      default: {
        // random bytes
        const junk = Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 8) }, () => Math.floor(rnd() * 256)));
        b = Buffer.concat([b.subarray(0, at), junk, b.subarray(at)]);
      }
    }
  }
  return b;
}

function assertNotABug(err: unknown, input: Buffer, where: string): void {
  if (err instanceof TypeError || err instanceof RangeError || err instanceof ReferenceError || !(err instanceof Error)) {
    throw new Error(`${where} threw ${(err as Error)?.name}: ${(err as Error)?.message} on input ${JSON.stringify(input.toString('latin1').slice(0, 300))}`);
  }
}

const FRAMES = Number(process.env.HL7_FUZZ_FRAMES ?? 50_000);

describe('hl7 fuzz', function () {
  // A few seconds of CPU each; generous wall-clock limits because CI machines are shared.
  this.timeout(180_000);
  const seeds = fixtureNames()
    .filter((n) => !n.startsWith('batch'))
    .map((n) => fixture(n));

  it('codec: 50,000 mutated messages parse or fail with an Hl7Error; parsed ones round-trip byte for byte and can be answered', () => {
    const rnd = seededRandom(20261122);
    let parsed = 0;
    let refused = 0;
    for (let i = 0; i < 50_000; i++) {
      const input = mutate(seeds[i % seeds.length], rnd, seeds);
      let message: Hl7Message | undefined;
      try {
        message = Hl7Message.parse(input);
      } catch (err) {
        if (!(err instanceof Hl7Error)) assertNotABug(err, input, 'parse');
        if (!(err instanceof Hl7Error)) throw new Error(`parse threw ${(err as Error).name} instead of an Hl7Error: ${(err as Error).message}`);
        refused++;
        const header = scrapeHeader(input);
        const nak = buildAck(header, { code: err.reject ? 'AR' : 'AE', error: { problem: err.problem, location: err.location, code: err.code } });
        const nakBytes = nak.toBuffer();
        if (i % 5 === 0) assert.ok(['AE', 'AR'].includes(Hl7Message.parse(nakBytes).get('MSA-1')));
        continue;
      }
      parsed++;
      // Every parsed input must round-trip and be answerable; the deep reads (every field, groups, views) run on one in five.
      const deep = i % 5 === 0;
      try {
        for (const seg of deep ? message.segments : []) {
          for (let f = 1; f <= Math.min(seg.fieldCount, 30); f++) {
            seg.get(f);
            seg.get(f, 2, 2, 2);
            seg.components(f);
          }
        }
        assert.ok(message.toBuffer({ rebuild: true }).equals(input), 'lossless re-serialisation');
        correlationOf(message);
        metaOf(message);
        if (deep) message.structure();
        const ack = buildAck(headerOf(message), { code: 'AA' }).toBuffer();
        if (deep) assert.equal(Hl7Message.parse(ack).get('MSA-1'), 'AA');
      } catch (err) {
        assertNotABug(err, input, 'reading a parsed message');
        throw err;
      }
      for (const view of deep ? [readAdt, readOrders, readResults] : []) {
        try {
          view(message);
        } catch (err) {
          assertNotABug(err, input, view.name);
        }
      }
    }
    assert.equal(parsed + refused, 50_000);
    assert.ok(parsed > 5_000 && refused > 5_000, `both paths exercised: ${parsed} parsed, ${refused} refused`);
  });

  it('framer + source: 50,000 mutated frames, split at random, each stored and answered in order', async () => {
    const ctx = recordingContext();
    const source = new MllpSource(mllpSourceSchema.parse({ host: '127.0.0.1', port: 0, maxMessageBytes: 8192 }));
    await source.start(ctx);
    try {
      const rnd = seededRandom(7);
      const frames: Buffer[] = [];
      /** What MSA-2 may read for each frame (undefined: the frame is not a message, any answer will do). */
      const expected: Array<string[] | undefined> = [];
      while (frames.length < FRAMES) {
        // VT and FS cannot occur inside a frame's payload; a sender asking for no accept ACK (MSH-15) gets none, so those are left out.
        const payload = mutate(seeds[frames.length % seeds.length], rnd, seeds);
        for (let b = 0; b < payload.length; b++) if (payload[b] === 0x0b || payload[b] === 0x1c) payload[b] = 0x3f;
        let h = scrapeHeader(payload);
        let ids: string[] | undefined;
        try {
          const m = Hl7Message.parse(payload);
          h = headerOf(m);
          // MSA-2 is MSH-10 as written, or escaped when we answered in our delimiters (theirs lacked an escape character).
          if (m.controlId !== '') ids = [m.getRaw('MSH-10'), escapeValue(m.getRaw('MSH-10'), DEFAULT_DELIMITERS)];
        } catch {
          /* not a message: the scraped header is what the listener sees too */
        }
        if (h && (h.acceptAckType !== '' || h.applicationAckType !== '')) continue;
        frames.push(payload);
        expected.push(ids);
      }
      const clients = await Promise.all([0, 1, 2, 3].map(() => RawMllpClient.connect(source.address().port)));
      const perClient = FRAMES / clients.length;
      clients.forEach((client, c) => {
        const wire = Buffer.concat(frames.slice(c * perClient, (c + 1) * perClient).map(frame));
        // Random read boundaries: from single bytes to many frames per write.
        for (let at = 0; at < wire.length; ) {
          const size = rnd() < 0.1 ? 1 + Math.floor(rnd() * 3) : 1 + Math.floor(rnd() * 20_000);
          client.write(wire.subarray(at, at + size));
          at += size;
        }
      });
      const answers = await Promise.all(clients.map((client) => client.waitFrames(perClient, 150_000)));
      answers.forEach((acks, c) => {
        acks.forEach((bytes, k) => {
          const i = c * perClient + k;
          const text = bytes.toString('utf8');
          const at = text.indexOf('\rMSA') + 4;
          const fs = text.charAt(at);
          const [code, acknowledges] = text.slice(at + 1).split('\r')[0].split(fs);
          assert.ok(['AA', 'AE', 'AR'].includes(code), `frame ${i}: MSA-1 ${code}`);
          // (An ACK in a declared non-UTF-8 charset is decoded properly before comparing.)
          if (expected[i] && !expected[i]!.includes(acknowledges)) {
            const decoded = Hl7Message.parse(bytes).getRaw('MSA-2');
            assert.ok(expected[i]!.includes(decoded), `frame ${i} answered in order: ${decoded} vs ${expected[i]}`);
          }
        });
      });
      assert.equal(ctx.received.length, FRAMES, 'every frame reached the store');
      clients.forEach((c) => c.close());
    } finally {
      await source.stop();
    }
  });

  it('framing garbage (stray VT/FS, never-ending frames) never takes the listener down', async () => {
    const ctx = recordingContext();
    const source = new MllpSource(mllpSourceSchema.parse({ host: '127.0.0.1', port: 0, maxMessageBytes: 4096, frameTimeoutMs: 100 }));
    await source.start(ctx);
    try {
      const rnd = seededRandom(99);
      const clients = await Promise.all(Array.from({ length: 8 }, () => RawMllpClient.connect(source.address().port)));
      for (const client of clients) {
        const parts: Buffer[] = [];
        for (let i = 0; i < 300; i++) {
          const m = mutate(seeds[i % seeds.length], rnd, seeds);
          const r = rnd();
          parts.push(r < 0.6 ? frame(m) : r < 0.8 ? m : Buffer.concat([Buffer.from([0x0b]), m]));
        }
        // Every stream ends in a frame that never ends: the listener must answer it and close the connection.
        parts.push(Buffer.from('\x0bMSH|^~\\&|NEVER|ENDS'));
        client.write(Buffer.concat(parts));
      }
      await Promise.all(clients.map((c) => c.waitClosed(60_000)));
      const fresh = await RawMllpClient.connect(source.address().port);
      fresh.write(frame(fixture('adt-a04-vn.hl7')));
      const [a] = await fresh.waitFrames(1);
      assert.equal(Hl7Message.parse(a).get('MSA-1'), 'AA');
      fresh.close();
      assert.ok(ctx.received.length > 0);
    } finally {
      await source.stop();
    }
  });
});

// Fuzzing (issue 5: ≥ 50 000 mutated inputs): the link layer and the record codec take mutated real
// transcripts in random chunkings and must never throw, hang or answer with anything but a control
// character; everything a session receives comes out either as a message or as an errored item.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { toCanonical } from '../../connectors/astm/canonical';
import { messageText, parseMessage } from '../../connectors/astm/codec/message';
import { defaultCodeMapFiles, loadCodeMap } from '../../connectors/astm/codeMap';
import { interpretMessage } from '../../connectors/astm/interpret';
import { ManualClock } from '../../connectors/astm/link/clock';
import { AstmSession, type ReceivedItem } from '../../connectors/astm/session';
import { loadProfiles } from '../../devices/analyzers/profile';
import { frame } from './helpers';
import { seededRandom } from '../../engine/util/seeded-random';

const fixtures = path.join(__dirname, '..', 'fixtures', 'astm');

const INTERESTING = [0x02, 0x03, 0x04, 0x05, 0x06, 0x15, 0x17, 0x0d, 0x0a, 0x7c, 0x5c, 0x5e, 0x26, 0x00, 0xff, 0x30, 0x37, 0x38];

function mutate(input: Buffer, random: () => number): Buffer {
  const bytes = [...input];
  const edits = 1 + Math.floor(random() * 4);
  for (let e = 0; e < edits; e++) {
    const at = Math.floor(random() * (bytes.length + 1));
    const pick = () => (random() < 0.6 ? INTERESTING[Math.floor(random() * INTERESTING.length)] : Math.floor(random() * 256));
    switch (Math.floor(random() * 7)) {
      case 0:
        bytes[at] = pick();
        break;
      case 1:
        bytes.splice(at, 0, pick());
        break;
      case 2:
        bytes.splice(at, 1 + Math.floor(random() * 8));
        break;
      case 3: {
        const len = 1 + Math.floor(random() * 40);
        bytes.splice(at, 0, ...bytes.slice(Math.max(0, at - len), at));
        break;
      }
      case 4:
        bytes.length = Math.min(bytes.length, at);
        break;
      case 5:
        if (at < bytes.length) bytes[at] ^= 1 << Math.floor(random() * 8);
        break;
      default:
        bytes.splice(at, 0, ...Array.from({ length: 1 + Math.floor(random() * 20) }, () => Math.floor(random() * 256)));
    }
  }
  return Buffer.from(bytes);
}

function unframe(raw: string): string {
  return [...raw.matchAll(/\x02[0-7]([^\x03\x17]*)[\x03\x17]/g)].map((m) => m[1]).join('');
}

const profiles = [...loadProfiles().values()];
const seeds = fs
  .readdirSync(fixtures)
  .filter((f) => /\.(astm|txt)$/.test(f))
  .map((f) => {
    const raw = fs.readFileSync(path.join(fixtures, f)).toString('latin1');
    return f.endsWith('.astm') ? unframe(raw) : raw;
  });

/** A whole instrument session for each seed: ENQ, one frame per record, EOT. */
const sessions = seeds.map((text) =>
  Buffer.concat([Buffer.from([0x05]), ...text.split('\r').filter(Boolean).map((r, i) => frame((i + 1) & 7, r + '\r', true)), Buffer.from([0x04])]),
);

describe('astm fuzzing', function () {
  this.timeout(120_000);

  it('link layer + session: 30 000 mutated sessions in random chunks, no crash, no hang, only control replies', () => {
    const random = seededRandom(0xa57);
    const clock = new ManualClock();
    let items = 0;
    let frames = 0;
    for (let n = 0; n < 30_000; n++) {
      const input = mutate(sessions[n % sessions.length], random);
      const written: number[] = [];
      const stored: ReceivedItem[] = [];
      const profile = profiles[n % profiles.length];
      const session = new AstmSession((b) => written.push(...b), {
        profile,
        clock,
        store: async (item) => {
          stored.push(item);
          return true;
        },
      });
      for (let i = 0; i < input.length; ) {
        const size = 1 + Math.floor(random() * 64);
        session.receive(input.subarray(i, i + size));
        i += size;
      }
      clock.advance(31_000); // receiver timeout: whatever is pending is set aside
      session.close();
      for (const b of written) assert.ok(b === 0x06 || b === 0x15 || b === 0x04, `reply byte 0x${b.toString(16)} for input ${n}`);
      for (const item of stored) assert.ok(item.report || item.error, `item without report or error for input ${n}`);
      items += stored.length;
      frames += written.length;
    }
    assert.equal(clock.pending(), 0, 'no timer left behind');
    assert.ok(items > 10_000 && frames > 100_000, `${items} items, ${frames} replies`);
  });

  it('record codec: 30 000 mutated messages parse, interpret and map without throwing; well-formed text round-trips exactly', () => {
    const random = seededRandom(0xc0dec);
    const codeMaps = new Map(profiles.map((p) => [p.id, loadCodeMap(defaultCodeMapFiles(p.id))]));
    let roundTrips = 0;
    for (let n = 0; n < 30_000; n++) {
      const text = mutate(Buffer.from(seeds[n % seeds.length], 'latin1'), random).toString('latin1');
      const message = parseMessage(text);
      const profile = profiles[n % profiles.length];
      const report = interpretMessage(message, profile);
      toCanonical(report, { codeMap: codeMaps.get(profile.id)!, analyserIds: [profile.id], device: { id: profile.id }, fallbackTime: '2026-11-22T08:00:00+07:00' });
      // Lossless: text made of CR-terminated, non-empty, LF-free records comes back byte for byte.
      if (!text.includes('\n') && !text.includes('\r\r') && text.endsWith('\r') && !text.startsWith('\r')) {
        assert.equal(messageText(message.records), text, `round trip of input ${n}`);
        roundTrips++;
      }
    }
    assert.ok(roundTrips > 5_000, `${roundTrips} round trips checked`);
  });
});

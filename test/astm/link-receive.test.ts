// LIS1-A receiver side, every timer on a manual clock (standards.md §1.4, §1.5).
import assert from 'node:assert/strict';
import { ACK, ENQ, EOT, NAK, bytes, flushMicrotasks, frame, linkHarness } from './helpers';

describe('astm link layer: receiving', () => {
  it('receives the LIS1-A sample exchange of standards.md §1.6 byte for byte and ACKs each frame', () => {
    const h = linkHarness();
    const hex = [
      '02 31 48 7C 5C 5E 26 7C 7C 7C 4C 49 53 2D 45 4E 47 49 4E 45 5E 31 2E 30 7C 7C 7C 7C 7C 7C 7C 50 7C 4C 49 53 32 2D 41 32 7C 32 30 32 35 30 31 31 35 30 38 33 30 30 30 0D 03 33 32 0D 0A',
      '02 32 50 7C 31 7C 7C 50 49 44 30 30 30 31 7C 7C 4E 67 75 79 65 6E 5E 56 61 6E 20 41 6E 7C 7C 31 39 38 35 30 33 31 35 7C 4D 0D 03 46 36 0D 0A',
      '02 33 4F 7C 31 7C 53 49 44 31 32 33 34 35 7C 7C 5E 5E 5E 47 4C 55 5C 5E 5E 5E 43 52 45 41 7C 52 7C 7C 7C 7C 7C 7C 4E 7C 7C 7C 7C 53 65 72 75 6D 0D 03 32 35 0D 0A',
      '02 34 52 7C 31 7C 5E 5E 5E 47 4C 55 7C 35 2E 36 7C 6D 6D 6F 6C 2F 4C 7C 33 2E 39 20 74 6F 20 36 2E 34 7C 4E 7C 7C 46 7C 7C 7C 7C 32 30 32 35 30 31 31 35 30 38 32 39 30 30 0D 03 30 45 0D 0A',
      '02 35 4C 7C 31 7C 4E 0D 03 30 38 0D 0A',
    ].map((s) => Buffer.from(s.replace(/ /g, ''), 'hex'));
    h.link.receive(bytes(ENQ));
    assert.equal(h.written(), ACK);
    for (const f of hex) {
      h.link.receive(f);
      assert.equal(h.written(), ACK);
    }
    h.link.receive(bytes(EOT));
    assert.equal(h.written(), '');
    assert.deepEqual(h.ends, ['eot']);
    assert.deepEqual(
      h.frames.map((f) => f.text.split('|')[0]),
      ['H', 'P', 'O', 'R', 'L'],
    );
    assert.equal(h.frames[3].text, 'R|1|^^^GLU|5.6|mmol/L|3.9 to 6.4|N||F||||20250115082900\r');
    assert.equal(h.link.currentState, 'neutral');
  });

  it('handles bytes split one at a time and frames coalesced into one read identically', () => {
    const session = Buffer.concat([bytes(ENQ), frame(1, 'H|\\^&\r'), frame(2, 'L|1|N\r'), bytes(EOT)]);
    const one = linkHarness();
    for (const b of session) one.link.receive(Buffer.from([b]));
    const all = linkHarness();
    // The peer waits for replies, but a coalesced read must still be processed frame by frame.
    all.link.receive(session);
    assert.deepEqual(one.frames, all.frames);
    assert.equal(one.written(), ACK + ACK + ACK);
    assert.equal(all.written(), ACK + ACK + ACK);
  });

  it('NAKs a bad checksum and accepts the retransmission', () => {
    const h = linkHarness();
    h.link.receive(bytes(ENQ));
    const good = frame(1, 'H|\\^&\r');
    const bad = Buffer.from(good);
    bad[bad.length - 3] = bad[bad.length - 3] === 0x30 ? 0x31 : 0x30; // corrupt C2
    h.written();
    h.link.receive(bad);
    assert.equal(h.written(), NAK);
    assert.match(h.problems[0].detail, /checksum mismatch: received .., computed ../);
    h.link.receive(good);
    assert.equal(h.written(), ACK);
    assert.equal(h.frames.length, 1);
  });

  it('acknowledges and discards a duplicate frame (our ACK was lost)', () => {
    const h = linkHarness();
    h.link.receive(Buffer.concat([bytes(ENQ), frame(1, 'H|\\^&\r'), frame(1, 'H|\\^&\r'), frame(2, 'L|1|N\r')]));
    assert.equal(h.written(), ACK + ACK + ACK + ACK);
    assert.equal(h.frames.length, 2);
    assert.equal(h.link.counters.duplicateFrames, 1);
    assert.equal(h.problems[0].code, 'duplicate-frame');
  });

  it('NAKs a frame number that is neither the last one nor the next, and a first frame other than 1', () => {
    const h = linkHarness();
    h.link.receive(Buffer.concat([bytes(ENQ), frame(2, 'H|\\^&\r')]));
    assert.equal(h.written(), ACK + NAK);
    assert.match(h.problems[0].detail, /frame number 2, expected 1/);
    h.link.receive(frame(1, 'H|\\^&\r'));
    h.link.receive(frame(3, 'P|1\r'));
    assert.equal(h.written(), ACK + NAK);
    assert.match(h.problems[1].detail, /frame number 3, expected 2/);
    const lenient = linkHarness({ lenientFirstFrameNumber: true });
    lenient.link.receive(Buffer.concat([bytes(ENQ), frame(0, 'H|\\^&\r')]));
    assert.equal(lenient.written(), ACK + ACK);
  });

  it('numbers frames 1..7 then 0 (not 1, the OpenELIS error)', () => {
    const h = linkHarness();
    h.link.receive(bytes(ENQ));
    const fns = [1, 2, 3, 4, 5, 6, 7, 0, 1, 2];
    for (const fn of fns) h.link.receive(frame(fn, `C|1|I|${fn}|G\r`, true));
    assert.equal(h.written(), ACK.repeat(fns.length + 1));
    assert.equal(h.frames.length, fns.length);
  });

  it('accepts a 64 000-character frame and NAKs one character more', () => {
    const h = linkHarness();
    h.link.receive(bytes(ENQ));
    const big = 'C|1|I|' + 'x'.repeat(64_000 - 6 - 1) + '\r';
    assert.equal(big.length, 64_000);
    h.link.receive(frame(1, big));
    assert.equal(h.written(), ACK + ACK);
    assert.equal(h.frames[0].text.length, 64_000);
    h.link.receive(frame(2, big + 'y'));
    assert.equal(h.written(), NAK);
    assert.match(h.problems.at(-1)!.detail, /longer than 64000 characters \(64001 received\)/);
  });

  it('sets the incomplete message aside after 30 s without a frame or EOT (fake clock)', () => {
    const h = linkHarness();
    h.link.receive(Buffer.concat([bytes(ENQ), frame(1, 'H|\\^&\r')]));
    h.clock.advance(29_999);
    assert.deepEqual(h.ends, []);
    h.clock.advance(1);
    assert.deepEqual(h.ends, ['timeout']);
    assert.equal(h.link.currentState, 'neutral');
    assert.equal(h.problems.at(-1)!.code, 'receiver-timeout');
    // Each reply re-arms the 30 s timer.
    const k = linkHarness();
    k.link.receive(bytes(ENQ));
    k.clock.advance(20_000);
    k.link.receive(frame(1, 'H|\\^&\r'));
    k.clock.advance(20_000);
    assert.deepEqual(k.ends, []);
    k.clock.advance(10_000);
    assert.deepEqual(k.ends, ['timeout']);
  });

  it('treats ENQ in the middle of a transfer as the sender restarting: set aside, ACK, numbering from 1', () => {
    const h = linkHarness();
    h.link.receive(Buffer.concat([bytes(ENQ), frame(1, 'H|\\^&\r'), frame(2, 'P|1\r')]));
    h.link.receive(Buffer.concat([bytes(ENQ), frame(1, 'H|\\^&\r')]));
    assert.equal(h.written(), ACK + ACK + ACK + ACK + ACK);
    assert.deepEqual(h.ends, ['restart']);
    assert.equal(h.problems[0].code, 'session-restarted');
  });

  it('holds the reply to a frame until its handler settles: true → ACK, false → NAK, rejection → NAK', async () => {
    const h = linkHarness();
    let release!: (ok: boolean) => void;
    h.verdict = () => new Promise<boolean>((r) => (release = r));
    h.link.receive(Buffer.concat([bytes(ENQ), frame(1, 'L|1|N\r')]));
    assert.equal(h.written(), ACK);
    // Bytes arriving meanwhile wait their turn.
    h.link.receive(bytes(EOT));
    await flushMicrotasks();
    assert.equal(h.written(), '');
    assert.deepEqual(h.ends, []);
    release(false);
    await flushMicrotasks();
    assert.equal(h.written(), NAK);
    assert.deepEqual(h.ends, ['eot']);

    const k = linkHarness();
    k.verdict = () => Promise.reject(new Error('store is full'));
    k.link.receive(Buffer.concat([bytes(ENQ), frame(1, 'L|1|N\r')]));
    await flushMicrotasks();
    assert.equal(k.written(), ACK + NAK);
    assert.match(k.problems[0].detail, /store is full/);

    const ok = linkHarness();
    ok.verdict = () => Promise.resolve(true);
    ok.link.receive(Buffer.concat([bytes(ENQ), frame(1, 'L|1|N\r')]));
    await flushMicrotasks();
    assert.equal(ok.written(), ACK + ACK);
  });

  it('does not reply while storing and the receiver timer does not run meanwhile', async () => {
    const h = linkHarness();
    let release!: (ok: boolean) => void;
    h.verdict = () => new Promise<boolean>((r) => (release = r));
    h.link.receive(Buffer.concat([bytes(ENQ), frame(1, 'L|1|N\r')]));
    h.clock.advance(60_000);
    assert.deepEqual(h.ends, []);
    release(true);
    await flushMicrotasks();
    assert.equal(h.written(), ACK + ACK);
    h.clock.advance(30_000);
    assert.deepEqual(h.ends, ['timeout']);
  });

  it('answers with EOT instead of ACK when a receiver interrupt is requested', () => {
    const h = linkHarness();
    h.link.receive(Buffer.concat([bytes(ENQ), frame(1, 'H|\\^&\r')]));
    h.link.requestInterrupt();
    h.link.receive(frame(2, 'P|1\r'));
    assert.equal(h.written(), ACK + ACK + EOT);
    h.link.receive(frame(3, 'O|1\r'));
    assert.equal(h.written(), ACK, 'the interrupt applies to one frame');
  });

  it('ignores noise on a neutral line and reports it with the bytes', () => {
    const h = linkHarness();
    h.link.receive(bytes('garbage'));
    assert.equal(h.written(), '');
    assert.equal(h.problems[0].code, 'noise');
    assert.equal(h.problems[0].bytes?.toString(), 'garbage');
    assert.match(h.problems[0].detail, /7 unexpected byte\(s\) outside a frame, first 0x67 'g'/);
  });

  it('NAKs frames with restricted characters, a missing frame number or a bad checksum format', () => {
    const h = linkHarness();
    h.link.receive(bytes(ENQ));
    h.written();
    h.link.receive(frame(1, 'H|\x11^&\r'));
    assert.match(h.problems.at(-1)!.detail, /restricted character 0x11 in frame text/);
    h.link.receive(bytes('\x02XH|\x03ZZ\r\n'));
    assert.match(h.problems.at(-1)!.detail, /frame number 0x58 'X' is not a digit 0-7/);
    h.link.receive(bytes('\x021H|\x03G1\r\n'));
    assert.match(h.problems.at(-1)!.detail, /checksum characters "G1" are not two hex digits/);
    assert.equal(h.written(), NAK + NAK + NAK);
    // A lower-case checksum is accepted (defensive, standards.md §1.4).
    const good = frame(1, 'H|\\^&\r').toString('latin1').replace(/([0-9A-F]{2})\r\n$/, (m) => m.toLowerCase());
    h.link.receive(bytes(good));
    assert.equal(h.written(), ACK);
  });
});

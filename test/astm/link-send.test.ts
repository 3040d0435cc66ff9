// LIS1-A sender side: establishment, frames, retries, aborts, contention, busy and interrupt, with a
// manual clock so every timer of standards.md §1.5 is checked at its exact value.
import assert from 'node:assert/strict';
import { ACK, ENQ, EOT, ETB, ETX, NAK, STX, bytes, flushMicrotasks, frame, linkHarness } from './helpers';

const recs = (...r: string[]) => r.map((x) => bytes(x + '\r'));

describe('astm link layer: sending', () => {
  it('sends ENQ, then one frame per record numbered from 1, then EOT, and resolves', async () => {
    const h = linkHarness();
    const sent = h.link.send(recs('H|\\^&|||LIS-ENGINE^1.0|||||||P|LIS2-A2|20250115083000', 'P|1||PID0001||Nguyen^Van An||19850315|M', 'L|1|N'));
    assert.equal(h.written(), ENQ);
    h.link.receive(bytes(ACK));
    // Byte-exact against standards.md §1.6 (checksums 32 and F6 computed there).
    assert.equal(h.written(), `${STX}1H|\\^&|||LIS-ENGINE^1.0|||||||P|LIS2-A2|20250115083000\r${ETX}32\r\n`);
    h.link.receive(bytes(ACK));
    assert.equal(h.written(), `${STX}2P|1||PID0001||Nguyen^Van An||19850315|M\r${ETX}F6\r\n`);
    h.link.receive(bytes(ACK));
    assert.equal(h.written(), frame(3, 'L|1|N\r').toString('latin1'));
    h.link.receive(bytes(ACK));
    assert.equal(h.written(), EOT);
    await sent;
    assert.equal(h.link.currentState, 'neutral');
    assert.equal(h.link.counters.messagesSent, 1);
  });

  it('cuts a long record into 240-character frames ending ETB, the last ending ETX, numbers wrapping 7 → 0', async () => {
    const h = linkHarness();
    const long = 'R|1|^^^X|' + 'v'.repeat(314 - 9);
    const records = recs('H|\\^&', 'P|1', 'O|1', 'R|1', 'C|1', 'M|1', long, 'L|1|N');
    const sent = h.link.send(records);
    h.written();
    const frames: string[] = [];
    for (let i = 0; i < 10; i++) {
      h.link.receive(bytes(ACK));
      frames.push(h.written());
    }
    await sent;
    assert.equal(frames.at(-1), EOT);
    const data = frames.slice(0, -1);
    assert.deepEqual(data.map((f) => f[1]), ['1', '2', '3', '4', '5', '6', '7', '0', '1']);
    // The 315-character record (incl. CR) is frame 7 (240 chars, ETB) + frame 0 (75 chars, ETX).
    assert.equal(data[6].length, 247);
    assert.equal(data[6][242], ETB);
    assert.equal(data[7].length, 75 + 7);
    assert.equal(data[7][data[7].length - 5], ETX);
    assert.equal(data[6].slice(2, 242) + data[7].slice(2, 77), long + '\r');
  });

  it("chains the whole message with ETB when the profile's frame unit is the message", async () => {
    const h = linkHarness({ frameUnit: 'message', maxSendFrameText: 10 });
    const sent = h.link.send(recs('H|\\^&', 'P|1', 'L|1|N'));
    h.written();
    h.link.receive(bytes(ACK));
    const first = h.written();
    assert.equal(first, frame(1, 'H|\\^&\rP|1\r', false).toString('latin1'));
    h.link.receive(bytes(ACK));
    assert.equal(h.written(), frame(2, 'L|1|N\r', true).toString('latin1'));
    h.link.receive(bytes(ACK));
    await sent;
  });

  it('retransmits a NAKed frame with the same number; the 6th failed transmission aborts with EOT', async () => {
    const h = linkHarness({ maxMessageAttempts: 1 });
    const sent = h.link.send(recs('H|\\^&', 'L|1|N'));
    h.link.receive(bytes(ACK));
    h.written();
    const first = frame(1, 'H|\\^&\r').toString('latin1');
    for (let i = 1; i <= 5; i++) {
      h.link.receive(bytes(NAK));
      assert.equal(h.written(), first, `retransmission ${i} keeps frame number 1`);
    }
    h.link.receive(bytes(NAK));
    assert.equal(h.written(), EOT);
    await assert.rejects(sent, /frame 1 not accepted after 6 transmissions \(last reply: NAK\); gave up after 1 attempt/);
    assert.equal(h.link.counters.aborts, 1);
    assert.equal(h.link.counters.retransmissions, 5);
  });

  it('counts any reply other than ACK or EOT as a NAK (standards.md §1.5)', () => {
    const h = linkHarness();
    void h.link.send(recs('H|\\^&', 'L|1|N')).catch(() => undefined);
    h.link.receive(bytes(ACK));
    h.written();
    h.link.receive(bytes('?'));
    assert.equal(h.written(), frame(1, 'H|\\^&\r').toString('latin1'));
    assert.equal(h.link.counters.retransmissions, 1);
  });

  it('keeps an aborted message, waits 10 s and resends it in full, and rejects after the attempt limit', async () => {
    const h = linkHarness({ maxMessageAttempts: 2 });
    const sent = h.link.send(recs('H|\\^&', 'L|1|N'));
    h.link.receive(bytes(ACK));
    h.link.receive(bytes(ACK)); // frame 1 accepted
    for (let i = 0; i < 6; i++) h.link.receive(bytes(NAK)); // frame 2 refused 6 times
    h.written();
    assert.equal(h.problems.at(-1)!.code, 'send-aborted');
    h.clock.advance(9_999);
    assert.equal(h.written(), '');
    h.clock.advance(1);
    assert.equal(h.written(), ENQ, 'second attempt starts with a new establishment');
    h.link.receive(bytes(ACK));
    assert.equal(h.written(), frame(1, 'H|\\^&\r').toString('latin1'), 'the message is resent from its first frame');
    h.link.receive(bytes(ACK));
    for (let i = 0; i < 6; i++) h.link.receive(bytes(NAK));
    await assert.rejects(sent, /frame 2 not accepted after 6 transmissions.*gave up after 2 attempt/);
  });

  it('aborts with EOT when a frame gets no reply within 15 s', async () => {
    const h = linkHarness({ maxMessageAttempts: 1 });
    const sent = h.link.send(recs('H|\\^&', 'L|1|N'));
    h.link.receive(bytes(ACK));
    h.written();
    h.clock.advance(14_999);
    assert.equal(h.written(), '');
    h.clock.advance(1);
    assert.equal(h.written(), EOT);
    await assert.rejects(sent, /no reply to frame 1 within 15 s/);
  });

  it('sends EOT when ENQ gets no reply within 15 s', async () => {
    const h = linkHarness({ maxMessageAttempts: 1 });
    const sent = h.link.send(recs('H|\\^&', 'L|1|N'));
    assert.equal(h.written(), ENQ);
    h.clock.advance(14_999);
    assert.equal(h.written(), '');
    h.clock.advance(1);
    assert.equal(h.written(), EOT);
    await assert.rejects(sent, /no reply to ENQ within 15 s/);
  });

  it('waits at least 10 s after a busy NAK before the next ENQ; 6 busy replies fail the attempt', async () => {
    const h = linkHarness({ maxMessageAttempts: 1 });
    const sent = h.link.send(recs('H|\\^&', 'L|1|N'));
    h.written();
    for (let i = 1; i < 6; i++) {
      h.link.receive(bytes(NAK));
      h.clock.advance(9_999);
      assert.equal(h.written(), '', `no ENQ before 10 s (busy ${i})`);
      h.clock.advance(1);
      assert.equal(h.written(), ENQ);
    }
    h.link.receive(bytes(NAK));
    await assert.rejects(sent, /receiver busy: 6 ENQs answered with NAK/);
  });

  it('contention as the computer: the instrument wins; the host waits for its next ENQ and ACKs it', async () => {
    const h = linkHarness({ role: 'computer' });
    const sent = h.link.send(recs('H|\\^&', 'L|1|N'));
    assert.equal(h.written(), ENQ);
    h.link.receive(bytes(ENQ)); // the instrument's ENQ crossed ours
    assert.equal(h.written(), '', 'the crossing ENQ is not answered');
    assert.equal(h.link.currentState, 'contention');
    h.clock.advance(1_000);
    h.link.receive(bytes(ENQ)); // the instrument tries again after its 1 s
    assert.equal(h.written(), ACK);
    h.link.receive(Buffer.concat([frame(1, 'H|\\^&\r'), frame(2, 'L|1|N\r'), bytes(EOT)]));
    assert.equal(h.written(), ACK + ACK + ENQ, 'our message goes out once the line is neutral again');
    h.link.receive(bytes(ACK));
    h.link.receive(bytes(ACK));
    h.link.receive(bytes(ACK));
    assert.equal(h.written(), frame(1, 'H|\\^&\r').toString('latin1') + frame(2, 'L|1|N\r').toString('latin1') + EOT);
    await sent;
    assert.equal(h.frames.length, 2);
  });

  it('contention as the computer: with no instrument ENQ within 20 s the line is neutral and the host tries again', () => {
    const h = linkHarness({ role: 'computer' });
    void h.link.send(recs('H|\\^&', 'L|1|N'));
    h.written();
    h.link.receive(bytes(ENQ));
    h.clock.advance(19_999);
    assert.equal(h.written(), '');
    h.clock.advance(1);
    assert.equal(h.written(), ENQ);
  });

  it('contention as the instrument: waits 1 s, then sends ENQ again', () => {
    const h = linkHarness({ role: 'instrument' });
    void h.link.send(recs('H|\\^&', 'L|1|N'));
    h.written();
    h.link.receive(bytes(ENQ));
    h.clock.advance(999);
    assert.equal(h.written(), '');
    h.clock.advance(1);
    assert.equal(h.written(), ENQ);
  });

  it('receiver interrupt: on EOT in reply the sender terminates, holds off 15 s, then resends the whole message', async () => {
    const h = linkHarness();
    const sent = h.link.send(recs('H|\\^&', 'P|1', 'L|1|N'));
    h.link.receive(bytes(ACK));
    h.link.receive(bytes(ACK));
    h.written();
    h.link.receive(bytes(EOT)); // interrupt after frame 2
    assert.equal(h.written(), EOT);
    assert.equal(h.problems.at(-1)!.code, 'interrupted');
    h.clock.advance(14_999);
    assert.equal(h.written(), '');
    h.clock.advance(1);
    assert.equal(h.written(), ENQ);
    h.link.receive(bytes(ACK));
    assert.equal(h.written()[1], '1', 'resent from frame 1');
    h.link.receive(bytes(ACK));
    h.link.receive(bytes(ACK));
    h.link.receive(bytes(ACK));
    await sent;
  });

  it('receiver interrupt: the hold-off ends as soon as the receiver has sent its message', async () => {
    const h = linkHarness();
    const sent = h.link.send(recs('H|\\^&', 'P|1', 'L|1|N'));
    h.link.receive(bytes(ACK));
    h.link.receive(bytes(EOT));
    h.written();
    h.clock.advance(3_000);
    h.link.receive(Buffer.concat([bytes(ENQ), frame(1, 'H|\\^&\r'), frame(2, 'L|1|N\r'), bytes(EOT)]));
    assert.equal(h.written(), ACK + ACK + ACK + ENQ);
    h.link.receive(bytes(ACK));
    for (let i = 0; i < 3; i++) h.link.receive(bytes(ACK));
    await sent;
  });

  it('an EOT reply to the last frame completes the message', async () => {
    const h = linkHarness();
    const sent = h.link.send(recs('H|\\^&', 'L|1|N'));
    h.link.receive(bytes(ACK));
    h.link.receive(bytes(ACK));
    h.written();
    h.link.receive(bytes(EOT));
    assert.equal(h.written(), EOT);
    await sent;
  });

  it('honourInterrupt false treats an EOT reply as ACK', async () => {
    const h = linkHarness({ honourInterrupt: false });
    const sent = h.link.send(recs('H|\\^&', 'L|1|N'));
    h.link.receive(bytes(ACK));
    h.written();
    h.link.receive(bytes(EOT));
    assert.equal(h.written(), frame(2, 'L|1|N\r').toString('latin1'));
    h.link.receive(bytes(ACK));
    await sent;
  });

  it('close() rejects queued messages and ends a receiving session', async () => {
    const h = linkHarness();
    h.link.receive(bytes(ENQ));
    const sent = h.link.send(recs('H|\\^&', 'L|1|N'));
    h.link.close('socket closed by peer');
    await assert.rejects(sent, /socket closed by peer/);
    assert.deepEqual(h.ends, ['closed']);
    await flushMicrotasks();
    assert.equal(h.clock.pending(), 0, 'no timer left armed');
  });
});

describe('astm link layer: two links wired together', () => {
  it('instrument → computer and computer → instrument with synchronous in-process writes', async () => {
    const { AstmLink } = await import('../../connectors/astm/link/link');
    const { ManualClock } = await import('../../connectors/astm/link/clock');
    const clock = new ManualClock();
    const got: Record<string, string[]> = { computer: [], instrument: [] };
    const links: Record<string, InstanceType<typeof AstmLink>> = {};
    for (const role of ['computer', 'instrument'] as const) {
      const other = role === 'computer' ? 'instrument' : 'computer';
      links[role] = new AstmLink((b) => links[other].receive(b), { onFrame: (t) => (got[role].push(t.toString('latin1')), true), onSessionEnd: () => undefined }, { role, clock });
    }
    const up = links.instrument.send(recs('H|\\^&', 'R|1|^^^GLU|5.6', 'L|1|N'));
    const down = links.computer.send(recs('H|\\^&', 'O|1|S1', 'L|1|F'));
    await Promise.all([up, down]);
    clock.advance(2_000);
    assert.deepEqual(got.computer, ['H|\\^&\r', 'R|1|^^^GLU|5.6\r', 'L|1|N\r']);
    assert.deepEqual(got.instrument, ['H|\\^&\r', 'O|1|S1\r', 'L|1|F\r']);
  });
});

import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import tls from 'node:tls';
import type { ReceiptResult } from '../../engine/connectors/types';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { MllpDecoder, type MllpEvent } from '../../connectors/hl7/mllp/framer';
import { MllpSource, mllpSourceSchema, type MllpSourceConfig } from '../../connectors/hl7/source';
import { fixture, frame, msg, RawMllpClient, recordingContext, type RecordingContext } from './helpers';

async function startSource(config: Partial<MllpSourceConfig> = {}, ctx = recordingContext()): Promise<{ source: MllpSource; ctx: RecordingContext; port: number }> {
  const source = new MllpSource(mllpSourceSchema.parse({ host: '127.0.0.1', port: 0, ...config }));
  await source.start(ctx);
  return { source, ctx, port: source.address().port };
}

function ack(frameBytes: Buffer): Hl7Message {
  return Hl7Message.parse(frameBytes);
}

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setImmediate(r));
  }
}

describe('hl7 MLLP source', function () {
  this.timeout(20_000);
  const running: MllpSource[] = [];
  const clients: RawMllpClient[] = [];
  afterEach(async () => {
    clients.splice(0).forEach((c) => c.close());
    await Promise.all(running.splice(0).map((s) => s.stop()));
  });
  async function start(config: Partial<MllpSourceConfig> = {}, ctx?: RecordingContext) {
    const r = await startSource(config, ctx);
    running.push(r.source);
    return r;
  }
  async function connect(port: number) {
    const c = await RawMllpClient.connect(port);
    clients.push(c);
    return c;
  }

  it('acknowledges only after the engine stored the message, with AA and MSA-2 = MSH-10', async () => {
    const ctx = recordingContext();
    let release!: (r: ReceiptResult) => void;
    ctx.answer = () => new Promise((resolve) => (release = resolve));
    const { port } = await start({}, ctx);
    const client = await connect(port);
    client.write(frame(msg('C1')));
    await until(() => ctx.received.length === 1, 'receive');
    assert.equal(client.frames.length, 0, 'no ACK while the store has not answered');
    const inbound = ctx.received[0].message;
    assert.equal(inbound.contentType, 'application/hl7-v2');
    assert.deepEqual(inbound.correlation, { controlId: 'C1', messageType: 'ADT^A04', patientId: 'P1' });
    assert.ok(inbound.parsed instanceof Hl7Message);
    assert.equal(inbound.meta?.patientName, 'Nguyễn Văn An');
    assert.equal(inbound.origin?.remoteAddress, '127.0.0.1');
    assert.equal(ctx.received[0].options?.waitFor, 'stored');
    release({ status: 'accepted', messageId: 1 });
    const [a] = await client.waitFrames(1);
    assert.equal(ack(a).get('MSA-1'), 'AA');
    assert.equal(ack(a).get('MSA-2'), 'C1');
    assert.equal(ack(a).get('MSH-9'), 'ACK');
    assert.equal(ack(a).get('MSH-9.2'), 'A04');
  });

  it('turns every engine outcome into the right acknowledgement code', async () => {
    const ctx = recordingContext();
    const answers: ReceiptResult[] = [
      { status: 'accepted', messageId: 1 },
      { status: 'filtered', messageId: 2, reason: 'not for us' },
      { status: 'errored', messageId: 3, error: 'transformer: OBX-5 is not numeric' },
      { status: 'unavailable', error: 'disk full' },
      { status: 'failed', messageId: 5, error: 'his-out: AR' },
    ];
    ctx.answer = (_m, i) => answers[i];
    const { port } = await start({}, ctx);
    const client = await connect(port);
    for (let i = 0; i < answers.length; i++) client.write(frame(msg(`O${i}`)));
    const acks = (await client.waitFrames(5)).map(ack);
    assert.deepEqual(acks.map((a) => a.get('MSA-1')), ['AA', 'AA', 'AE', 'AR', 'AE']);
    assert.deepEqual(acks.map((a) => a.get('MSA-2')), ['O0', 'O1', 'O2', 'O3', 'O4']);
    assert.match(acks[1].get('MSA-3'), /filtered: not for us/);
    assert.match(acks[2].get('ERR-8'), /OBX-5 is not numeric/);
    assert.match(acks[3].get('ERR-8'), /not stored, send it again later: disk full/);
  });

  it('answers enhanced-mode senders with CA/CE per MSH-15', async () => {
    const { port } = await start();
    const client = await connect(port);
    client.write(frame(fixture('vn-oru-r01-enhanced.hl7')));
    const [a] = await client.waitFrames(1);
    assert.equal(ack(a).get('MSA-1'), 'CA');
    assert.equal(ack(a).get('MSA-2'), 'MSG00001');
  });

  it('bad input: stored as errored with the raw bytes and answered AR/AE naming the place; the connection stays', async () => {
    const { port, ctx } = await start();
    const client = await connect(port);
    const invalidUtf8 = Buffer.concat([Buffer.from('MSH|^~\\&|HIS|BV_A|LIS|BV_A|2025||ADT^A04|BAD1|P|2.5.1\rPID|1||X||Nguy'), Buffer.from([0xc3, 0x28]), Buffer.from('n\r')]);
    const garbage = Buffer.from([0x00, 0x13, 0x37, 0xfe, 0x42]);
    client.write(frame(garbage));
    client.write(frame(invalidUtf8));
    client.write(frame('MSH|^~\\&|HIS|BV_A|LIS|BV_A|2025||ADT^A04||P|2.5.1\rPID|1\r'));
    client.write(frame('MSH|^~\\&|HIS|BV_A|LIS|BV_A|2025||ADT^A04|BAD3|P|2.5.1\rPI\r'));
    client.write(frame(msg('GOOD')));
    const acks = (await client.waitFrames(5)).map(ack);
    assert.deepEqual(acks.map((a) => a.get('MSA-1')), ['AR', 'AE', 'AE', 'AE', 'AA']);
    assert.deepEqual(acks.map((a) => a.get('MSA-2')), ['', 'BAD1', '', 'BAD3', 'GOOD']);
    assert.equal(acks[1].getRaw('ERR-2'), 'PID^1^5');
    assert.match(acks[1].get('ERR-8'), /byte 0xc3 is not valid utf-8/);
    assert.equal(acks[2].getRaw('ERR-2'), 'MSH^1^10');
    assert.match(acks[3].get('ERR-8'), /segment 2 does not start with a segment ID/);
    assert.equal(ctx.received.length, 5);
    assert.ok(ctx.received[0].message.raw.equals(garbage));
    assert.ok(ctx.received[1].message.raw.equals(invalidUtf8));
    for (const r of ctx.received.slice(0, 4)) {
      assert.ok(r.message.meta?.parseError, 'marked for the store as errored');
      assert.equal(r.message.contentType, 'application/hl7-v2');
      assert.equal(r.message.parsed, undefined);
    }
    assert.deepEqual(ctx.received[1].message.correlation, { controlId: 'BAD1', messageType: 'ADT^A04' });
    assert.equal(ctx.received[4].message.meta?.parseError, undefined);
  });

  it('oversized messages are refused with AE, their head kept, and the next message on the connection is served', async () => {
    const { port, ctx } = await start({ maxMessageBytes: 4096 });
    const client = await connect(port);
    const big = msg('BIG') + 'OBX|1|TX|||' + 'x'.repeat(20_000) + '\r';
    client.write(frame(big));
    client.write(frame(msg('AFTER')));
    const acks = (await client.waitFrames(2)).map(ack);
    assert.equal(acks[0].get('MSA-1'), 'AE');
    assert.equal(acks[0].get('MSA-2'), 'BIG');
    assert.match(acks[0].get('ERR-8'), /exceeds the limit of 4096 bytes/);
    assert.equal(acks[1].get('MSA-1'), 'AA');
    assert.match(ctx.received[0].message.meta!.parseError, /message of \d+ bytes exceeds/);
    assert.equal(ctx.received[0].message.origin?.framing, 'oversized');
    assert.ok(ctx.received[0].message.raw.length <= 4096);
  });

  it('a frame that never ends is kept, NAKed and the connection closed cleanly', async () => {
    const { port, ctx } = await start({ frameTimeoutMs: 150 });
    const client = await connect(port);
    client.write(Buffer.concat([frame(msg('OK1')), Buffer.from([0x0b]), Buffer.from(msg('HANG'))]));
    await client.waitClosed();
    const acks = client.frames.map(ack);
    assert.deepEqual(acks.map((a) => a.get('MSA-1')), ['AA', 'AE']);
    assert.equal(acks[1].get('MSA-2'), 'HANG');
    assert.match(acks[1].get('ERR-8'), /frame not ended/);
    assert.equal(ctx.received[1].message.raw.toString(), msg('HANG'));
    assert.equal(ctx.received[1].message.origin?.framing, 'timeout');
  });

  it('a connection closed in the middle of a frame leaves the partial bytes stored as errored', async () => {
    const { port, ctx } = await start();
    const client = await connect(port);
    client.write(Buffer.concat([Buffer.from([0x0b]), Buffer.from('MSH|^~\\&|HIS|BV_A|LIS|BV_A|2025||ORU^R01|CUT|P')]));
    await until(() => (ctx.connections.size > 1 ? true : false), 'connection reported');
    client.socket.end();
    await until(() => ctx.received.length === 1, 'partial stored');
    assert.match(ctx.received[0].message.meta!.parseError, /closed in the middle of a frame/);
    assert.equal(ctx.received[0].message.correlation?.controlId, 'CUT');
  });

  it('keeps per-connection order with pipelined frames while the store answers at different speeds', async () => {
    const ctx = recordingContext();
    ctx.answer = (_m, i) => new Promise((resolve) => setTimeout(() => resolve({ status: 'accepted', messageId: i + 1 }), (i * 7) % 5));
    const { port } = await start({}, ctx);
    const client = await connect(port);
    const n = 200;
    client.write(Buffer.concat(Array.from({ length: n }, (_, i) => frame(msg(`P${i}`)))));
    const acks = (await client.waitFrames(n, 15_000)).map(ack);
    assert.deepEqual(acks.map((a) => a.get('MSA-2')), Array.from({ length: n }, (_, i) => `P${i}`));
    assert.deepEqual(ctx.received.map((r) => r.message.correlation?.controlId), Array.from({ length: n }, (_, i) => `P${i}`));
  });

  it('pipelining senders: several frames in flight per connection, ACKs in wire order, each patient stored in order', async () => {
    const ctx = recordingContext();
    let pending = 0;
    let maxPending = 0;
    const resolved: string[] = [];
    ctx.answer = (m, i) =>
      new Promise((resolve) => {
        pending++;
        maxPending = Math.max(maxPending, pending);
        // Later frames often finish first: only the gating keeps one patient's messages in order.
        setTimeout(() => {
          pending--;
          resolved.push(`${m.correlation?.patientId ?? '-'}:${m.correlation?.controlId ?? '?'}`);
          resolve({ status: 'accepted', messageId: i + 1 });
        }, 1 + ((i * 7919) % 9));
      });
    const { port } = await start({ maxInFlightPerConnection: 8 }, ctx);
    const client = await connect(port);
    const wire: string[] = [];
    const frames: Buffer[] = [];
    for (let i = 0; i < 60; i++) {
      if (i === 30) {
        frames.push(frame('garbage without a header'));
        wire.push('');
        continue;
      }
      const patient = `PAT${i % 3}`;
      frames.push(frame(msg(`Q${i}`, patient)));
      wire.push(`Q${i}`);
    }
    client.write(Buffer.concat(frames));
    const acks = (await client.waitFrames(60)).map(ack);
    assert.deepEqual(acks.map((a) => a.get('MSA-2')), wire, 'ACKs in wire order');
    assert.ok(maxPending > 1, `frames were in flight together (${maxPending})`);
    for (const p of ['PAT0', 'PAT1', 'PAT2']) {
      const order = resolved.filter((r) => r.startsWith(p + ':')).map((r) => r.split(':')[1]);
      assert.deepEqual(order, wire.filter((id, i) => id && i % 3 === Number(p.slice(3))), `${p} stored in order`);
    }
    // The frame without a patient waited for everything before it, and everything after waited for it.
    const garbageAt = resolved.indexOf('-:?');
    assert.ok(resolved.slice(0, garbageAt).every((r) => Number(r.split(':Q')[1]) < 30));
    assert.ok(resolved.slice(garbageAt + 1).every((r) => Number(r.split(':Q')[1]) > 30));
  });

  it('serves many connections at once, each in its own order, and reports per-connection statistics', async () => {
    const { port, ctx } = await start();
    const conns = await Promise.all(Array.from({ length: 20 }, () => connect(port)));
    conns.forEach((c, k) => {
      for (let i = 0; i < 25; i++) c.write(frame(msg(`K${k}-${i}`, `PAT${k}`)));
    });
    const all = await Promise.all(conns.map((c) => c.waitFrames(25)));
    all.forEach((frames, k) => assert.deepEqual(frames.map((f) => ack(f).get('MSA-2')), Array.from({ length: 25 }, (_, i) => `K${k}-${i}`)));
    assert.equal(ctx.received.length, 500);
    const listener = ctx.connections.get('test-channel/mllp')!;
    assert.equal(listener.state, 'listening');
    assert.match(listener.detail!, /^mllp:\/\/127\.0\.0\.1:\d+$/);
    conns[0].close();
    await until(() => ctx.stoppedConnections.length >= 1, 'closed connection reported');
    const closed = ctx.stoppedConnections[0];
    assert.equal(closed.counters?.frames, 25);
    assert.equal(closed.counters?.accepted, 25);
    assert.equal(closed.counters?.acks, 25);
    assert.ok(closed.counters!.bytesIn > 25 * 100);
  });

  it('ackMode never: stores and stays silent; delivered: waits for delivery', async () => {
    const silent = await start({ ackMode: 'never' });
    const c1 = await connect(silent.port);
    c1.write(frame(msg('N1')));
    c1.write(frame(msg('N2')));
    await until(() => silent.ctx.received.length === 2, 'both stored');
    const endToEnd = await start({ ackMode: 'delivered' });
    const c2 = await connect(endToEnd.port);
    c2.write(frame(msg('D1')));
    await c2.waitFrames(1);
    assert.equal(endToEnd.ctx.received[0].options?.waitFor, 'delivered');
    // The silent source answered nothing for N1/N2 although it stored them before D1 was even sent.
    assert.equal(c1.frames.length, 0);
  });

  it('decodes a legacy sender with the configured charset (windows-1258)', async () => {
    const { port, ctx } = await start({ charset: 'windows-1258' });
    const client = await connect(port);
    client.write(frame(fixture('legacy-adt-windows-1258.hl7')));
    const [a] = await client.waitFrames(1);
    assert.equal(ack(a).get('MSA-1'), 'AA');
    const parsed = ctx.received[0].message.parsed as Hl7Message;
    assert.equal(parsed.get('PID-5.2'), 'Thị Hằng');
    assert.equal(ctx.received[0].message.meta?.charset, 'windows-1258');
  });

  it('refuses addresses outside allowAddresses', async () => {
    const refused = await start({ allowAddresses: ['10.0.0.0/8'] });
    const c = await connect(refused.port);
    c.write(frame(msg('X')));
    await c.waitClosed();
    assert.equal(c.frames.length, 0);
    assert.equal(refused.ctx.received.length, 0);
    const allowed = await start({ allowAddresses: ['127.0.0.0/8', '::1'] });
    const ok = await connect(allowed.port);
    ok.write(frame(msg('Y')));
    assert.equal(ack((await ok.waitFrames(1))[0]).get('MSA-1'), 'AA');
    assert.throws(() => mllpSourceSchema.parse({ port: 1, allowAddresses: ['nonsense'] }) && new MllpSource(mllpSourceSchema.parse({ port: 1, allowAddresses: ['nonsense'] })), /not an IP address or CIDR/);
  });

  it('reports a port already in use clearly', async () => {
    const { port } = await start();
    const second = new MllpSource(mllpSourceSchema.parse({ host: '127.0.0.1', port }));
    await assert.rejects(second.start(recordingContext()), /cannot listen on 127\.0\.0\.1:\d+: .*EADDRINUSE/);
  });

  describe('TLS', () => {
    let dir: string;
    const ca = createTestCa('hl7 test CA');
    const otherCa = createTestCa('someone else');
    const server = issueCertificate(ca, { commonName: 'localhost', altNames: ['localhost', '127.0.0.1'], usage: 'server' });
    const lab = issueCertificate(ca, { commonName: 'lab-analyser-01', usage: 'client' });
    const stranger = issueCertificate(otherCa, { commonName: 'lab-analyser-01', usage: 'client' });
    const otherLab = issueCertificate(ca, { commonName: 'ward-gateway', usage: 'client' });

    before(() => {
      dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hl7-tls-'));
      fs.writeFileSync(path.join(dir, 'ca.crt'), ca.certPem);
      fs.writeFileSync(path.join(dir, 'server.crt'), server.certPem);
      fs.writeFileSync(path.join(dir, 'server.key'), server.keyPem);
    });
    after(() => fs.rmSync(dir, { recursive: true, force: true }));

    function tlsSend(port: number, options: tls.ConnectionOptions): Promise<{ ack?: Hl7Message; error?: string }> {
      return new Promise((resolve) => {
        const socket = tls.connect({ host: '127.0.0.1', port, ca: ca.certPem, servername: 'localhost', ...options });
        const decoder = new MllpDecoder();
        socket.pipe(decoder);
        decoder.on('data', (ev: MllpEvent) => {
          if (ev.kind === 'frame') {
            resolve({ ack: ack(ev.payload) });
            socket.destroy();
          }
        });
        socket.on('secureConnect', () => socket.write(frame(msg('TLS1'))));
        socket.on('error', (err) => resolve({ error: err.message }));
        socket.on('close', () => resolve({ error: 'closed without an ACK' }));
      });
    }

    it('serves over TLS with the certificates from the certs folder', async () => {
      const { port, ctx } = await start({ tls: { enabled: true, clientCertificates: 'none', rejectUnauthorized: true, minVersion: 'TLSv1.2' } }, recordingContext('/tmp', dir));
      const r = await tlsSend(port, {});
      assert.equal(r.ack?.get('MSA-1'), 'AA', r.error);
      assert.match(ctx.connections.get('test-channel/mllp')!.detail!, /^mllps:/);
    });

    it('mutual TLS: a client with a valid certificate is served; without one, or from another CA, refused', async () => {
      const { port, ctx } = await start({ tls: { enabled: true, clientCertificates: 'required', rejectUnauthorized: true, minVersion: 'TLSv1.2' } }, recordingContext('/tmp', dir));
      const good = await tlsSend(port, { cert: lab.certPem, key: lab.keyPem });
      assert.equal(good.ack?.get('MSA-1'), 'AA', good.error);
      assert.equal(ctx.received[0].message.origin?.tlsSubject, 'lab-analyser-01');
      const noCert = await tlsSend(port, {});
      assert.equal(noCert.ack, undefined);
      assert.ok(noCert.error, 'refused');
      const wrongCa = await tlsSend(port, { cert: stranger.certPem, key: stranger.keyPem });
      assert.equal(wrongCa.ack, undefined);
      assert.equal(ctx.received.length, 1, 'nothing from refused clients reached the engine');
    });

    it('allowSubjects admits only the named certificate subjects', async () => {
      const { port, ctx } = await start(
        { allowSubjects: ['lab-analyser-01'], tls: { enabled: true, clientCertificates: 'required', rejectUnauthorized: true, minVersion: 'TLSv1.2' } },
        recordingContext('/tmp', dir),
      );
      assert.equal((await tlsSend(port, { cert: lab.certPem, key: lab.keyPem })).ack?.get('MSA-1'), 'AA');
      const other = await tlsSend(port, { cert: otherLab.certPem, key: otherLab.keyPem });
      assert.equal(other.ack, undefined);
      assert.equal(ctx.received.length, 1);
    });
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { PermanentDeliveryError, type DeliveryContext, type OutboundMessage } from '../../engine/connectors/types';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import { createLogger } from '../../engine/log';
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { MllpDestination, mllpDestinationSchema, type MllpDestinationConfig } from '../../connectors/hl7/destination';
import { fixture, msg } from './helpers';
import { TestReceiver } from './receiver';

function outbound(content: string | Buffer, messageId = 1): OutboundMessage {
  return { content: typeof content === 'string' ? Buffer.from(content) : content, contentType: 'application/hl7-v2', messageId, channelId: 'c', correlation: {} };
}

function delivery(key = '1.0.out', attempt = 1): DeliveryContext {
  return { idempotencyKey: key, attempt, destination: 'out', signal: new AbortController().signal };
}

describe('hl7 MLLP destination', function () {
  this.timeout(20_000);
  const receivers: TestReceiver[] = [];
  const destinations: MllpDestination[] = [];
  afterEach(async () => {
    await Promise.all(destinations.splice(0).map((d) => d.stop()));
    await Promise.all(receivers.splice(0).map((r) => r.stop()));
  });
  async function receiver(tlsOptions?: ConstructorParameters<typeof TestReceiver>[0]) {
    const r = await new TestReceiver(tlsOptions).start();
    receivers.push(r);
    return r;
  }
  async function destination(config: Partial<MllpDestinationConfig> & { port: number }, certsDir = '/tmp') {
    const d = new MllpDestination(mllpDestinationSchema.parse({ host: '127.0.0.1', ...config }));
    await d.start({ log: createLogger({ console: false }), dataDir: '/tmp', certsDir, lookup: () => undefined });
    destinations.push(d);
    return d;
  }

  it('sends over one persistent connection and returns the AA as the response', async () => {
    const r = await receiver();
    const d = await destination({ port: r.port });
    for (let i = 0; i < 5; i++) {
      const result = await d.send(outbound(msg(`S${i}`)), delivery());
      assert.match(result.response!, new RegExp(`MSA\\|AA\\|S${i}`));
    }
    assert.equal(r.connections, 1);
    assert.ok(r.received[0].raw.equals(Buffer.from(msg('S0'))), 'bytes sent as given');
  });

  it('pipelines up to the window and matches each ACK by MSA-2 even when ACKs come back out of order', async () => {
    const r = await receiver();
    let outstanding = 0;
    let maxOutstanding = 0;
    r.reply = (_m, i) => {
      outstanding++;
      maxOutstanding = Math.max(maxOutstanding, outstanding);
      const delayMs = 5 + ((i * 13) % 17);
      setTimeout(() => outstanding--, delayMs);
      return { code: 'AA', delayMs };
    };
    const d = await destination({ port: r.port, window: 8 });
    const results = await Promise.all(Array.from({ length: 60 }, (_, i) => d.send(outbound(msg(`W${i}`)), delivery())));
    results.forEach((res, i) => assert.match(res.response!, new RegExp(`MSA\\|AA\\|W${i}\\r`)));
    assert.ok(maxOutstanding <= 8, `at most 8 in flight, saw ${maxOutstanding}`);
    assert.ok(maxOutstanding >= 4, `pipelining happened (saw ${maxOutstanding} in flight)`);
    assert.equal(r.connections, 1);
  });

  it('AE dead-letters by default (retry when configured); AR retries by default (dead-letter when configured)', async () => {
    const r = await receiver();
    r.reply = (m) => ({ code: m.controlId.startsWith('E') ? 'AE' : 'AR', text: 'PID-3 unknown' });
    const d = await destination({ port: r.port });
    await assert.rejects(d.send(outbound(msg('E1')), delivery()), (e: unknown) => e instanceof PermanentDeliveryError && /AE: PID-3 unknown/.test(e.message) && /MSA\|AE/.test(e.response!));
    await assert.rejects(d.send(outbound(msg('R1')), delivery()), (e: unknown) => !(e instanceof PermanentDeliveryError) && /AR: PID-3 unknown/.test((e as Error).message));
    const flipped = await destination({ port: r.port, onApplicationError: 'retry', onReject: 'dead-letter' });
    await assert.rejects(flipped.send(outbound(msg('E2')), delivery()), (e: unknown) => !(e instanceof PermanentDeliveryError));
    await assert.rejects(flipped.send(outbound(msg('R2')), delivery()), (e: unknown) => e instanceof PermanentDeliveryError);
  });

  it('an ACK that never comes times out, the connection is replaced, and the next send goes through', async () => {
    const r = await receiver();
    r.reply = (m) => (m.controlId === 'LOST' ? 'none' : { code: 'AA' });
    const d = await destination({ port: r.port, ackTimeoutMs: 200 });
    await assert.rejects(d.send(outbound(msg('LOST')), delivery()), /no ACK from 127\.0\.0\.1:\d+ for control id LOST within 200 ms/);
    const ok = await d.send(outbound(msg('NEXT')), delivery());
    assert.match(ok.response!, /MSA\|AA\|NEXT/);
    assert.equal(r.connections, 2);
  });

  it('a receiver that is down: fails fast, backs off, and reconnects once it is back on the same port', async () => {
    const r = await receiver();
    const port = r.port;
    const d = await destination({ port, reconnectInitialMs: 100, reconnectMaxMs: 400 });
    await d.send(outbound(msg('UP1')), delivery());
    await r.stop();
    await assert.rejects(d.send(outbound(msg('DOWN1')), delivery()), /lost before the ACK|cannot connect/);
    const attempts: string[] = [];
    for (let i = 0; i < 2; i++) await d.send(outbound(msg('DOWN2')), delivery()).catch((e) => attempts.push((e as Error).message));
    assert.ok(attempts.some((a) => /next attempt in \d+ ms/.test(a)), attempts.join(' | '));
    await r.start(port);
    const deadline = Date.now() + 5000;
    let result: { response?: string } | undefined;
    while (!result && Date.now() < deadline) {
      result = await d.send(outbound(msg('BACK')), delivery()).catch(() => new Promise<undefined>((res) => setTimeout(() => res(undefined), 50)));
    }
    assert.match(result!.response!, /MSA\|AA\|BACK/);
  });

  it('a connection dropped before the ACK fails the messages in flight (the engine retries them)', async () => {
    const r = await receiver();
    r.reply = (m) => (m.controlId === 'DROP' ? 'close' : { code: 'AA' });
    const d = await destination({ port: r.port });
    await assert.rejects(d.send(outbound(msg('DROP')), delivery()), /lost before the ACK arrived/);
    assert.match((await d.send(outbound(msg('AFTER')), delivery())).response!, /MSA\|AA\|AFTER/);
  });

  it('controlId: idempotency-key writes the delivery key into MSH-10, so retries carry the same id', async () => {
    const r = await receiver();
    const d = await destination({ port: r.port, controlId: 'idempotency-key' });
    await d.send(outbound(msg('ORIGINAL')), delivery('42.0.his-out', 1));
    await d.send(outbound(msg('ORIGINAL')), delivery('42.0.his-out', 2));
    assert.deepEqual(r.received.map((x) => x.message.controlId), ['42.0.his-out', '42.0.his-out']);
    assert.equal(r.unique.size, 1);
  });

  it('content that is not HL7 is dead-lettered at once, naming why', async () => {
    const r = await receiver();
    const d = await destination({ port: r.port });
    await assert.rejects(d.send({ ...outbound('{"a":1}'), contentType: 'application/json' }, delivery()), (e: unknown) => e instanceof PermanentDeliveryError && /not an HL7 v2 message \(content type application\/json\).*must start with MSH/.test(e.message));
    assert.equal(r.received.length, 0);
  });

  it('re-encodes for legacy receivers: ascii-folded and windows-1258 (checked with iconv)', async () => {
    const r = await receiver();
    const source = fixture('legacy-adt-utf8.hl7');
    const folded = await destination({ port: r.port, charset: 'ascii-folded' });
    await folded.send(outbound(source), delivery());
    assert.equal(r.received[0].message.get('PID-5.2'), 'Thi Hang');
    assert.equal(r.received[0].message.get('MSH-18'), '');
    const cp1258 = await destination({ port: r.port, charset: 'windows-1258' });
    await cp1258.send(outbound(source), delivery());
    const sent = r.received[1].raw;
    const viaIconv = execFileSync('iconv', ['-f', 'WINDOWS-1258', '-t', 'UTF-8'], { input: sent }).toString('utf8');
    assert.equal(Hl7Message.parse(viaIconv).get('PID-11'), 'Số 5 Đường Hàm Nghi');
    assert.equal(r.received[1].message.get('MSH-18'), 'WINDOWS-1258');
  });

  it('matchAcks: order serves receivers that do not echo the control id', async () => {
    const r = await receiver();
    const d = await destination({ port: r.port, matchAcks: 'order', window: 4 });
    r.reply = () => ({ code: 'AA' });
    const originalReply = r.reply;
    r.reply = (m, i) => {
      // A receiver that writes its own id into MSA-2.
      m.set('MSH-10', `THEIRS${i}`);
      return originalReply(m, i);
    };
    const results = await Promise.all([1, 2, 3].map((i) => d.send(outbound(msg(`M${i}`)), delivery())));
    assert.deepEqual(results.map((x) => /MSA\|AA\|(THEIRS\d)/.exec(x.response!)![1]), ['THEIRS0', 'THEIRS1', 'THEIRS2']);
  });

  it('sends over TLS, verifying the receiver against the configured CA', async () => {
    const ca = createTestCa('dest CA');
    const server = issueCertificate(ca, { commonName: 'localhost', altNames: ['127.0.0.1', 'localhost'], usage: 'server' });
    const r = await receiver({ key: server.keyPem, cert: server.certPem });
    const trusted = await destination({ port: r.port, tls: { enabled: true, caPem: ca.certPem, clientCertificates: 'none', rejectUnauthorized: true, minVersion: 'TLSv1.2' } });
    assert.match((await trusted.send(outbound(msg('T1')), delivery())).response!, /MSA\|AA\|T1/);
    const untrusted = await destination({ port: r.port, tls: { enabled: true, clientCertificates: 'none', rejectUnauthorized: true, minVersion: 'TLSv1.2' } });
    await assert.rejects(untrusted.send(outbound(msg('T2')), delivery()), /cannot connect.*certificate/);
  });
});

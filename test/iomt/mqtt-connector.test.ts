// The `mqtt` source and `mqtt-publish` destination against the embedded aedes broker and a private
// Mosquitto: PUBACK only after the store, persistent sessions across restarts, redelivery of what was
// not acknowledged, mosquitto_pub as a foreign publisher, MQTT 5, TLS with client certificates and
// username/password.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import mqtt from 'mqtt';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import type { InboundMessage, ReceiptResult } from '../../engine/connectors/types';
import { mqttConnector, mqttPublishConnector, MqttSource } from '../../connectors/mqtt';
import { startEmbeddedBroker, type EmbeddedBroker } from '../../iomt/broker';
import { requirePeers } from '../helpers/peers';
import { testContext } from './context';
import { tempDir, waitFor } from './helpers';
import { MosquittoProcess } from './mosquitto-runner';

const run = promisify(execFile);
const TEMPLATE = 'hospital/{site}/ward/{ward}/bed/{bed}/device/{deviceId}/{format}';

function source(url: string, extra: Record<string, unknown> = {}): MqttSource {
  return mqttConnector.createSource!(mqttConnector.configSchema.parse({ url, topics: [TEMPLATE], clientId: `test-src-${Math.random().toString(36).slice(2, 8)}`, connectTimeoutMs: 5000, ...extra })) as MqttSource;
}

describe('connectors/mqtt: source and publisher on the embedded aedes broker', () => {
  let broker: EmbeddedBroker;
  before(async () => {
    broker = await startEmbeddedBroker({ port: 0 });
  });
  after(async () => {
    await broker.close();
  });

  it('the embedded broker defaults to port 1884, never 1883', async () => {
    const { EMBEDDED_BROKER_DEFAULT_PORT } = await import('../../iomt/broker');
    assert.equal(EMBEDDED_BROKER_DEFAULT_PORT, 1884);
  });

  it('passes payload, topic levels and deviceId to the engine, and acknowledges only after receive resolved', async () => {
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const ctx = testContext(async () => {
      await held;
      return { status: 'accepted', messageId: 1 };
    });
    const src = source(broker.url, { clientId: 'src-ack-1' });
    await src.start(ctx);
    // The broker tells us when a client acknowledges a message it delivered (our PUBACK).
    const acks: string[] = [];
    const onAck = (packet: { topic?: string }, client: { id: string }) => {
      if (client?.id === 'src-ack-1' && packet?.topic) acks.push(packet.topic);
    };
    broker.aedes.on('ack', onAck as never);
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'test-pub-1' });
    try {
      await pub.publishAsync('hospital/hn1/ward/ICU/bed/B01/device/MON-1/vitals', '{"x":1}', { qos: 1 });
      await waitFor(() => ctx.received.length === 1, 5000, 'the message to reach receive');
      const m = ctx.received[0];
      assert.equal(m.raw.toString(), '{"x":1}');
      assert.equal(m.contentType, 'application/json');
      assert.deepEqual(m.correlation, { deviceId: 'MON-1' });
      assert.equal(m.origin?.topic, 'hospital/hn1/ward/ICU/bed/B01/device/MON-1/vitals');
      assert.deepEqual([m.origin?.site, m.origin?.ward, m.origin?.bed, m.origin?.format], ['hn1', 'ICU', 'B01', 'vitals']);
      // A second message makes a full round trip while the first is still unstored.
      await pub.publishAsync('hospital/hn1/ward/ICU/bed/B01/device/MON-1/vitals', '{"x":2}', { qos: 1 });
      await waitFor(() => ctx.received.length === 2);
      assert.deepEqual(acks, [], 'PUBACK sent before the message was stored');
      release();
      await waitFor(() => acks.length === 2, 5000, 'both PUBACKs');
      assert.equal(ctx.connections.get('broker')?.state, 'connected');
    } finally {
      broker.aedes.off('ack', onAck as never);
      await pub.endAsync();
      await src.stop();
    }
  });

  it('retries a message the store refused (unavailable) and acknowledges it once stored', async () => {
    let calls = 0;
    const ctx = testContext((): ReceiptResult => (++calls < 3 ? { status: 'unavailable', error: 'disk full' } : { status: 'accepted', messageId: 9 }));
    const src = source(broker.url);
    await src.start(ctx);
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'test-pub-2' });
    try {
      await pub.publishAsync('hospital/hn1/ward/ICU/bed/B02/device/MON-2/vitals', '{}', { qos: 1 });
      await waitFor(() => src.counters.acknowledged === 1, 5000, 'the acknowledgement after the retries');
      assert.equal(calls, 3);
      assert.equal(src.counters.retried, 2);
    } finally {
      await pub.endAsync();
      await src.stop();
    }
  });

  it('hands an oversized payload on as a flagged 1 KiB sample, never whole', async () => {
    const ctx = testContext();
    const src = source(broker.url, { maxPayloadBytes: 4096 });
    await src.start(ctx);
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'test-pub-3' });
    try {
      await pub.publishAsync('hospital/hn1/ward/ICU/bed/B03/device/MON-3/vitals', Buffer.alloc(100_000, 0x41), { qos: 1 });
      await waitFor(() => ctx.received.length === 1);
      const m = ctx.received[0];
      assert.equal(m.raw.length, 1024);
      assert.equal(m.contentType, 'application/vnd.hisbridge.rejected');
      assert.match(m.origin!.rejected, /payload of 100000 bytes exceeds maxPayloadBytes 4096/);
    } finally {
      await pub.endAsync();
      await src.stop();
    }
  });

  it('keeps many messages in flight (not one at a time) and still acknowledges in order', async () => {
    const ctx = testContext(async () => {
      await new Promise((r) => setTimeout(r, 20)); // a slow store
      return { status: 'accepted', messageId: 1 };
    });
    const src = source(broker.url);
    await src.start(ctx);
    const pub = await mqtt.connectAsync(broker.url, { clientId: 'test-pub-4' });
    try {
      const started = Date.now();
      await Promise.all(Array.from({ length: 200 }, (_, i) => pub.publishAsync(`hospital/hn1/ward/ICU/bed/B04/device/MON-${i}/vitals`, String(i), { qos: 1 })));
      await waitFor(() => src.counters.acknowledged === 200, 5000, '200 acknowledgements');
      // 200 × 20 ms one at a time would be 4 s.
      assert.ok(Date.now() - started < 2500, `took ${Date.now() - started} ms`);
      assert.equal(ctx.received.length, 200);
      assert.equal(src.counters.acknowledged, 200);
    } finally {
      await pub.endAsync();
      await src.stop();
    }
  });

  it('mqtt-publish fills the topic from the message and waits for the PUBACK; fails fast when the broker is gone', async () => {
    const sub = await mqtt.connectAsync(broker.url, { clientId: 'test-sub-5' });
    const got: Array<[string, string]> = [];
    sub.on('message', (t, p) => got.push([t, p.toString()]));
    await sub.subscribeAsync('hospital/+/ward/+/alerts', { qos: 1 });
    const config = mqttPublishConnector.configSchema.parse({ url: broker.url, topic: 'hospital/{site}/ward/{ward}/alerts', connectTimeoutMs: 3000, reconnectMs: 60_000 });
    const dest = mqttPublishConnector.createDestination!(config);
    await dest.start!({ log: testContext().log, dataDir: '/x', certsDir: '/x', lookup: () => undefined });
    try {
      const body = Buffer.from(JSON.stringify({ event: 'raised', alert: { site: 'hn1', ward: 'ICU', message: 'NEWS2 7' } }));
      const r = await dest.send(
        { content: body, contentType: 'application/json', messageId: 1, channelId: 'c', correlation: {} },
        { idempotencyKey: 'k1', attempt: 1, destination: 'd', signal: new AbortController().signal },
      );
      assert.equal(r.response, 'published to hospital/hn1/ward/ICU/alerts');
      await waitFor(() => got.length === 1);
      assert.equal(got[0][0], 'hospital/hn1/ward/ICU/alerts');
      await assert.rejects(
        dest.send({ content: Buffer.from('{}'), contentType: 'application/json', messageId: 2, channelId: 'c', correlation: {} }, { idempotencyKey: 'k2', attempt: 1, destination: 'd', signal: new AbortController().signal }),
        (err: Error) => err.name === 'PermanentDeliveryError' && /needs \{site\}/.test(err.message),
      );
    } finally {
      await sub.endAsync();
    }
    const other = await startEmbeddedBroker({ port: 0 });
    const d2 = mqttPublishConnector.createDestination!(mqttPublishConnector.configSchema.parse({ url: other.url, topic: 'x', connectTimeoutMs: 3000, reconnectMs: 60_000 }));
    await d2.start!({ log: testContext().log, dataDir: '/x', certsDir: '/x', lookup: () => undefined });
    await other.close();
    await waitFor(() => !(d2 as unknown as { publisher: { connected: boolean } }).publisher.connected);
    await assert.rejects(
      d2.send({ content: Buffer.from('x'), contentType: 'text/plain', messageId: 3, channelId: 'c', correlation: {} }, { idempotencyKey: 'k3', attempt: 1, destination: 'd', signal: new AbortController().signal }),
      /not connected to mqtt:\/\/127\.0\.0\.1/,
    );
    await d2.stop!();
    await dest.stop!();
  });

  it('rejects credentials the broker does not know (embedded broker with users)', async () => {
    const secure = await startEmbeddedBroker({ port: 0, users: { engine: 's3cret-pass' } });
    try {
      const ok = testContext();
      const src = source(secure.url, { username: 'engine', password: 's3cret-pass' });
      await src.start(ok);
      assert.equal(ok.connections.get('broker')?.state, 'connected');
      await src.stop();
      const bad = testContext();
      const src2 = source(secure.url, { username: 'engine', password: 'wrong', connectTimeoutMs: 1000 });
      await src2.start(bad);
      assert.notEqual(bad.connections.get('broker')?.state, 'connected');
      assert.match(bad.connections.get('broker')?.detail ?? '', /Bad username or password|Not authorized/i);
      await src2.stop();
    } finally {
      await secure.close();
    }
  });
});

describe('connectors/mqtt: against Mosquitto', function () {
  let mosq: MosquittoProcess;
  before(async function () {
    requirePeers(this, 'mosquitto', 'mosquitto_pub');
    mosq = new MosquittoProcess();
    await mosq.start();
  });
  after(async () => {
    await mosq?.dispose();
  });

  it('receives what Debian mosquitto_pub publishes (a client that is not ours)', async function () {
    const ctx = testContext();
    const src = source(mosq.url);
    await src.start(ctx);
    try {
      const body = JSON.stringify({ deviceId: 'MON-P', messageId: 1, time: new Date().toISOString(), measurements: [{ code: 'hr', value: 70, unit: '/min' }] });
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mosq.port), '-q', '1', '-t', 'hospital/hn1/ward/W2/bed/07/device/MON-P/vitals', '-m', body]);
      await waitFor(() => ctx.received.length === 1);
      assert.equal(ctx.received[0].raw.toString(), body);
      assert.equal(ctx.received[0].origin?.bed, '07');
    } finally {
      await src.stop();
    }
  });

  for (const protocolVersion of [4, 5] as const) {
    it(`persistent session (MQTT ${protocolVersion === 4 ? '3.1.1' : '5'}): messages published while the engine is down arrive after it restarts`, async () => {
      const clientId = `persist-${protocolVersion}`;
      const ctx1 = testContext();
      const src1 = source(mosq.url, { clientId, protocolVersion });
      await src1.start(ctx1);
      await src1.stop();
      const pub = await mqtt.connectAsync(mosq.url, { clientId: `pub-${clientId}`, protocolVersion });
      for (let i = 0; i < 50; i++) await pub.publishAsync(`hospital/hn1/ward/W/bed/1/device/D${i}/vitals`, String(i), { qos: 1 });
      await pub.endAsync();
      const ctx2 = testContext();
      const src2 = source(mosq.url, { clientId, protocolVersion });
      await src2.start(ctx2);
      try {
        await waitFor(() => ctx2.received.length === 50, 10_000, '50 queued messages');
        assert.deepEqual(ctx2.received.map((m) => m.raw.toString()), Array.from({ length: 50 }, (_, i) => String(i)));
        assert.equal(src2.counters.sessionResumed, 1);
      } finally {
        await src2.stop();
      }
    });
  }

  it('re-sends what was received but not stored when the engine died, and the broker restart keeps the session', async () => {
    const clientId = 'redeliver-1';
    let hang = true;
    const ctx1 = testContext(() => (hang ? new Promise<ReceiptResult>(() => {}) : { status: 'accepted', messageId: 1 }));
    const src1 = source(mosq.url, { clientId });
    await src1.start(ctx1);
    const pub = await mqtt.connectAsync(mosq.url, { clientId: 'pub-redeliver' });
    for (let i = 0; i < 20; i++) pub.publish(`hospital/hn1/ward/W/bed/1/device/R${i}/vitals`, String(i), { qos: 1 });
    await waitFor(() => ctx1.received.length === 20);
    await pub.endAsync();
    await src1.kill(); // the store never answered: nothing was acknowledged
    // The broker itself restarts too (persistence on): the session and its unacknowledged messages survive.
    await mosq.restart();
    hang = false;
    const ctx2 = testContext();
    const src2 = source(mosq.url, { clientId });
    await src2.start(ctx2);
    try {
      await waitFor(() => ctx2.received.length === 20, 10_000, 'redelivery');
      assert.deepEqual(ctx2.received.map((m) => m.raw.toString()).sort((a, b) => +a - +b), Array.from({ length: 20 }, (_, i) => String(i)));
      assert.ok(ctx2.received.every((m) => m.origin?.dup === 'true'), 'redelivered with DUP set');
    } finally {
      await src2.stop();
    }
  });

  it('MQTT 5: uses the content-type property of each message', async () => {
    const ctx = testContext();
    const src = source(mosq.url, { protocolVersion: 5 });
    await src.start(ctx);
    const pub = await mqtt.connectAsync(mosq.url, { protocolVersion: 5 });
    try {
      await pub.publishAsync('hospital/hn1/ward/W/bed/1/device/H1/hl7', 'MSH|^~\\&|', { qos: 1, properties: { contentType: 'application/hl7-v2', userProperties: { gateway: 'pic-ix' } } });
      await waitFor(() => ctx.received.length === 1);
      assert.equal(ctx.received[0].contentType, 'application/hl7-v2');
      assert.equal(ctx.received[0].origin?.['user.gateway'], 'pic-ix');
    } finally {
      await pub.endAsync();
      await src.stop();
    }
  });
});

describe('connectors/mqtt: TLS against Mosquitto', function () {
  let tmp: ReturnType<typeof tempDir>;
  let mosq: MosquittoProcess;
  let tlsPort: number;
  let files: Record<string, string>;
  before(async function () {
    requirePeers(this, 'mosquitto', 'mosquitto_passwd');
    tmp = tempDir();
    fs.chmodSync(tmp.dir, 0o755); // Mosquitto (dropped to its own user) reads the certificates and password file
    const ca = createTestCa('iomt test CA');
    const server = issueCertificate(ca, { commonName: 'localhost', altNames: ['localhost', '127.0.0.1'], usage: 'server' });
    const client = issueCertificate(ca, { commonName: 'hisbridge-engine', usage: 'client' });
    files = {
      ca: path.join(tmp.dir, 'ca.crt'),
      serverCert: path.join(tmp.dir, 'server.crt'),
      serverKey: path.join(tmp.dir, 'server.key'),
      clientCert: path.join(tmp.dir, 'client.crt'),
      clientKey: path.join(tmp.dir, 'client.key'),
      passwd: path.join(tmp.dir, 'passwd'),
    };
    fs.writeFileSync(files.ca, ca.certPem);
    fs.writeFileSync(files.serverCert, server.certPem);
    fs.writeFileSync(files.serverKey, server.keyPem);
    fs.writeFileSync(files.clientCert, client.certPem);
    fs.writeFileSync(files.clientKey, client.keyPem);
    execFileSync('mosquitto_passwd', ['-c', '-b', files.passwd, 'engine', 'tls-pass-123']);
    for (const f of Object.values(files)) fs.chmodSync(f, 0o644);
    const { freePort } = await import('./mosquitto-runner');
    tlsPort = await freePort();
    mosq = new MosquittoProcess({ passwordFile: files.passwd, tls: { port: tlsPort, cafile: files.ca, certfile: files.serverCert, keyfile: files.serverKey, requireCertificate: false } });
    await mosq.start();
  });
  after(async () => {
    await mosq?.dispose();
    tmp?.cleanup();
  });

  it('connects over TLS with username/password, verifying the broker against the CA', async () => {
    const ctx = testContext();
    const src = source(`mqtts://127.0.0.1:${tlsPort}`, { username: 'engine', password: 'tls-pass-123', tls: { caFile: files.ca, servername: 'localhost' } });
    await src.start(ctx);
    try {
      assert.equal(ctx.connections.get('broker')?.state, 'connected');
      await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(tlsPort), '--cafile', files.ca, '--insecure', '-u', 'engine', '-P', 'tls-pass-123', '-q', '1', '-t', 'hospital/a/ward/b/bed/c/device/TLS1/vitals', '-m', 'over tls']);
      await waitFor(() => ctx.received.length === 1);
      assert.equal(ctx.received[0].raw.toString(), 'over tls');
    } finally {
      await src.stop();
    }
  });

  it('refuses a broker whose certificate is not signed by the configured CA', async () => {
    const other = createTestCa('someone else');
    const otherCa = path.join(tmp.dir, 'other-ca.crt');
    fs.writeFileSync(otherCa, other.certPem);
    const ctx = testContext();
    const src = source(`mqtts://127.0.0.1:${tlsPort}`, { username: 'engine', password: 'tls-pass-123', tls: { caFile: otherCa, servername: 'localhost' }, connectTimeoutMs: 1500 });
    await src.start(ctx);
    try {
      assert.notEqual(ctx.connections.get('broker')?.state, 'connected');
      assert.match(ctx.connections.get('broker')?.detail ?? '', /certificate/i);
    } finally {
      await src.stop();
    }
  });

  it('authenticates with a client certificate where the broker requires one', async () => {
    const certPort = (await import('./mosquitto-runner')).freePort;
    const port = await certPort();
    const m2 = new MosquittoProcess({ allowAnonymous: true, tls: { port, cafile: files.ca, certfile: files.serverCert, keyfile: files.serverKey, requireCertificate: true } });
    await m2.start();
    try {
      const noCert = testContext();
      const s1 = source(`mqtts://127.0.0.1:${port}`, { tls: { caFile: files.ca, servername: 'localhost' }, connectTimeoutMs: 1500 });
      await s1.start(noCert);
      assert.notEqual(noCert.connections.get('broker')?.state, 'connected');
      await s1.stop();
      const withCert = testContext();
      const s2 = source(`mqtts://127.0.0.1:${port}`, { tls: { caFile: files.ca, certFile: files.clientCert, keyFile: files.clientKey, servername: 'localhost' } });
      await s2.start(withCert);
      assert.equal(withCert.connections.get('broker')?.state, 'connected');
      await s2.stop();
    } finally {
      await m2.dispose();
    }
  });

  it('names the missing file when a TLS setting points nowhere', () => {
    const src = source(`mqtts://127.0.0.1:${tlsPort}`, { tls: { caFile: '/nonexistent/ca.pem' } });
    return assert.rejects(src.start(testContext()), /cannot read tls\.caFile \/nonexistent\/ca\.pem/);
  });
});

// Keeps the InboundMessage import used for readers of this file.
export type _Inbound = InboundMessage;

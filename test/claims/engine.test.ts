// End to end through the engine: an http source receives envelopes (or {"maLk"}), the bhyt-gateway
// destination signs, stores and submits them through the engine's queue to the gateway simulator;
// redelivery never sends a claim twice and a rejection goes to the dead-letter queue.
import assert from 'node:assert/strict';
import path from 'node:path';
import { GatewaySimulator } from '../../claims/gateway/simulator';
import { prepareClaim } from '../../claims/pipeline';
import { ClaimSigner, verifyDocument } from '../../claims/signer/sign';
import { CLAIMS_SERVICE, ClaimsService } from '../../claims/service';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import { freePort, post, startTestEngine, waitFor, type TestEngine } from '../helpers/engine';
import { emergencySource, inpatientSource } from './sources';

describe('claims through the engine (bhyt-gateway destination)', function () {
  this.timeout(60_000);
  let t: TestEngine;
  let sim: GatewaySimulator;
  let service: ClaimsService;
  let port: number;
  let ca: ReturnType<typeof createTestCa>;

  before(async () => {
    ca = createTestCa('engine claims CA');
    sim = new GatewaySimulator({ username: '01999_BV', password: 'pw' });
    const url = await sim.start();
    t = await startTestEngine();
    service = new ClaimsService({
      dataDir: path.join(t.dataDir, 'claims-test'),
      certsDir: path.join(t.dataDir, 'certs'),
      config: { maCskcb: '01999', gateway: { host: url, profile: 'default', timeoutMs: 5000, maxAttempts: 1, backoffMs: 10 } },
      signer: new ClaimSigner(issueCertificate(ca, { commonName: 'Benh vien Demo', usage: 'signing' })),
    });
    service.setCredentials({ username: '01999_BV', password: 'pw' });
    t.engine.registerService(CLAIMS_SERVICE, service);
    port = await freePort();
    await t.engine.deployChannel({
      id: 'claims-out',
      name: 'Claims to BHXH',
      source: { connector: 'http', config: { port } },
      destinations: [{ name: 'bhxh', connector: 'bhyt-gateway', config: {}, queue: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 100, orderBy: 'none' } }],
    } as never);
  });

  after(async () => {
    await t?.cleanup();
    service?.close();
    await sim?.stop();
  });

  it('signs and sends an unsigned envelope once, even when the same message arrives twice', async () => {
    const prepared = await prepareClaim(inpatientSource(), { signerHealthId: '0101234567', ngayLap: '20250314' });
    const envelope = prepared.envelope!.toString('utf8');
    assert.equal((await post(`http://127.0.0.1:${port}/`, envelope, { 'content-type': 'application/xml' })).status, 200);
    await waitFor(() => service.store.get('LK-IN-1')?.status === 'accepted', 20_000, 'claim accepted');
    assert.equal(sim.receivedFor('LK-IN-1').length, 1);
    const sent = service.store.envelope('LK-IN-1', 1)!.toString('utf8');
    assert.equal(verifyDocument(sent, { trustedCaPem: [ca.certPem] }).valid, true);
    // The same envelope again (a re-sent message): already accepted, nothing goes out.
    await post(`http://127.0.0.1:${port}/`, envelope, { 'content-type': 'application/xml' });
    await waitFor(async () => (await t.engine.store.search({ channelId: 'claims-out', status: 'SENT' })).length === 2, 20_000, 'second message delivered');
    assert.equal(sim.receivedFor('LK-IN-1').length, 1);
    assert.equal(service.store.versions('LK-IN-1').length, 1);
  });

  it('dead-letters a rejected claim and keeps the gateway message', async () => {
    sim.options.decide = ({ maLks }) => (maLks.includes('LK-ER-1') ? { accept: false, maKetQua: '052', thongDiep: 'Mã tỉnh của thẻ không đúng' } : undefined);
    const prepared = await prepareClaim(emergencySource(), { signerHealthId: '0101234567' });
    await post(`http://127.0.0.1:${port}/`, prepared.envelope!, { 'content-type': 'application/xml' });
    await waitFor(() => service.store.get('LK-ER-1')?.status === 'rejected', 20_000, 'claim rejected');
    await waitFor(async () => (await t.engine.store.search({ channelId: 'claims-out', status: 'DEAD' })).length === 1, 20_000, 'dead letter');
    assert.equal(service.store.get('LK-ER-1')!.lastError, 'Mã tỉnh của thẻ không đúng');
    assert.equal(sim.receivedFor('LK-ER-1').length, 1);
  });
});

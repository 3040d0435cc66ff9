// Submission to the gateway simulator: accepted, rejected and network-failure paths, receipts kept,
// and retries that never send the same claim version twice.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { GatewayClient, parseExpiry } from '../../claims/gateway/client';
import { gatewayPasswordHash, loadCredentials, SecretBox, storeCredentials } from '../../claims/gateway/credentials';
import { GatewaySimulator } from '../../claims/gateway/simulator';
import { prepareClaim, saveClaim } from '../../claims/pipeline';
import { ClaimSigner } from '../../claims/signer/sign';
import { ClaimStore } from '../../claims/store';
import { ClaimSubmitter } from '../../claims/submit';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import { emergencySource, inpatientSource, outpatientSource } from './sources';

async function deadPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((r) => server.close(() => r()));
  return port;
}

describe('claims gateway: client, simulator, submitter', () => {
  let dir: string;
  let store: ClaimStore;
  let sim: GatewaySimulator;
  let url: string;
  let signer: ClaimSigner;
  const credentials = { username: '01999_BV', password: 'Mật-khẩu 1' };
  const client = (baseUrl = url, password = credentials.password) => new GatewayClient({ baseUrl, credentials: { ...credentials, password }, maCskcb: '01999', timeoutMs: 5000 });

  before(() => {
    const ca = createTestCa('gateway test CA');
    signer = new ClaimSigner(issueCertificate(ca, { commonName: 'Benh vien Demo', usage: 'signing' }));
  });

  beforeEach(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'claims-gw-'));
    store = ClaimStore.inDataDir(dir);
    sim = new GatewaySimulator({ username: credentials.username, password: credentials.password });
    url = await sim.start();
  });

  afterEach(async () => {
    await sim.stop();
    store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  async function stored(source = inpatientSource()) {
    const prepared = await prepareClaim(source, { signer, signerHealthId: '0101234567', ngayLap: '20250314' });
    assert.equal(prepared.errors, 0, JSON.stringify(prepared.findings));
    return saveClaim(store, prepared);
  }

  it('logs in with the upper-case MD5 password and sends a signed claim: accepted, receipt kept', async () => {
    assert.equal(gatewayPasswordHash('abc'), '900150983CD24FB0D6963F7D28E17F72');
    await stored();
    const out = await new ClaimSubmitter(store, client()).submit('LK-IN-1');
    assert.equal(out.status, 'accepted');
    assert.equal(sim.logins, 1);
    assert.equal(sim.received.length, 1);
    const got = sim.received[0];
    assert.deepEqual([got.endpoint, got.loaiHoSo, got.maCskcb, got.maTinh, got.maLks, got.accepted], ['/api/qd130/guiHoSoXmlQD3176', '130', '01999', '01', ['LK-IN-1'], true]);
    const [receipt] = store.receipts('LK-IN-1');
    assert.deepEqual([receipt.outcome, receipt.maKetQua, receipt.maGiaoDich, receipt.thongDiep, receipt.attempt], ['accepted', '200', got.maGiaoDich, 'Tiếp nhận thành công', 1]);
    assert.match(receipt.thoiGianTiepNhan!, /^\d{14}$/);
    assert.equal(receipt.envelopeSha256, store.get('LK-IN-1')!.envelopeSha256);
  });

  it('never sends an accepted version again', async () => {
    await stored();
    const submitter = new ClaimSubmitter(store, client());
    await submitter.submit('LK-IN-1');
    const again = await submitter.submit('LK-IN-1');
    assert.equal(again.skipped, 'already accepted by the gateway (receipt kept); a correction is a new version');
    assert.deepEqual(await submitter.submitPending({ backoffMs: 1 }), []);
    assert.equal(sim.receivedFor('LK-IN-1').length, 1);
    // Rebuilding the same data changes nothing; corrected data becomes version 2.
    assert.equal((await stored()).action, 'unchanged');
    const src = inpatientSource();
    src.visit.dischargeDiagnosisText = 'Viêm phổi thùy dưới phải; Tăng huyết áp';
    assert.deepEqual(await stored(src), { version: 2, action: 'created', status: 'ready' });
    assert.equal((await submitter.submit('LK-IN-1')).status, 'accepted');
    assert.deepEqual(sim.receivedFor('LK-IN-1').map((r) => r.accepted), [true, true]);
  });

  it('keeps a rejection with the gateway message, lists it for correction, and sends the corrected version', async () => {
    sim.options.decide = ({ maLks }) => (maLks.includes('LK-ER-1') ? { accept: false, maKetQua: '052', thongDiep: 'Mã tỉnh (ký tự 4,5) của thẻ không đúng' } : undefined);
    await stored(emergencySource());
    const submitter = new ClaimSubmitter(store, client());
    const out = await submitter.submit('LK-ER-1');
    assert.equal(out.status, 'rejected');
    assert.deepEqual(store.list({ status: 'rejected' }).map((c) => [c.maLk, c.version, c.lastError]), [['LK-ER-1', 1, 'Mã tỉnh (ký tự 4,5) của thẻ không đúng']]);
    assert.equal((await submitter.submit('LK-ER-1')).skipped, 'the gateway rejected this version: correct the data and rebuild (a new version), or reopen it');
    sim.options.decide = undefined;
    const src = emergencySource();
    src.visit.coverage!.cardNumber = 'HT3790987654322';
    assert.equal((await stored(src)).version, 2);
    assert.equal((await submitter.submit('LK-ER-1')).status, 'accepted');
    assert.deepEqual(store.receipts('LK-ER-1').map((r) => [r.version, r.outcome, r.maKetQua]), [[1, 'rejected', '052'], [2, 'accepted', '200']]);
  });

  it('the simulator validates: a claim with errors is rejected with the findings', async () => {
    const prepared = await prepareClaim(outpatientSource(), { signerHealthId: '0101234567' });
    const reply = await client().sendClaim(prepared.envelope!.toString('utf8').replace('<SOLUONGHOSO>1</SOLUONGHOSO>', '<SOLUONGHOSO>3</SOLUONGHOSO>'));
    assert.equal(reply.maKetQua, '202');
    assert.equal(reply.thongDiep, 'Hồ sơ có 1 lỗi: ERROR ENVELOPE [envelope.count]: SOLUONGHOSO is «3» but the envelope holds 1 HOSO');
  });

  it('network failure before sending: failed, retried later, accepted once', async () => {
    await stored();
    const down = await new ClaimSubmitter(store, client(`http://127.0.0.1:${await deadPort()}`)).submit('LK-IN-1');
    assert.equal(down.status, 'failed');
    assert.equal(down.retryable, true);
    assert.match(store.receipts('LK-IN-1')[0].error!, /ECONNREFUSED/);
    const outcomes = await new ClaimSubmitter(store, client()).submitPending({ backoffMs: 1 });
    assert.deepEqual(outcomes.map((o) => [o.maLk, o.status]), [['LK-IN-1', 'accepted']]);
    assert.equal(sim.receivedFor('LK-IN-1').length, 1);
    assert.deepEqual(store.receipts('LK-IN-1').map((r) => [r.attempt, r.outcome]), [[1, 'failed'], [2, 'accepted']]);
  });

  it('HTTP 503 (nothing stored by the gateway) is retried with backoff and accepted once', async () => {
    await stored();
    sim.failNext = 2;
    const outcomes = await new ClaimSubmitter(store, client()).submitPending({ backoffMs: 5, maxAttempts: 3 });
    assert.equal(outcomes[0].status, 'accepted');
    assert.deepEqual(store.receipts('LK-IN-1').map((r) => [r.outcome, r.httpStatus]), [['failed', 503], ['failed', 503], ['accepted', 200]]);
    assert.equal(sim.receivedFor('LK-IN-1').length, 1);
  });

  it('a lost answer after sending makes the claim unconfirmed: retries do not resend it', async () => {
    await stored();
    sim.dropNext = 1;
    const submitter = new ClaimSubmitter(store, client());
    const out = await submitter.submit('LK-IN-1');
    assert.equal(out.status, 'unconfirmed');
    assert.equal(out.retryable, false);
    assert.deepEqual(await submitter.submitPending({ backoffMs: 1 }), []);
    assert.equal((await submitter.submit('LK-IN-1')).skipped, 'a previous send may have reached the gateway: check the portal, then confirm received or not received');
    assert.equal(sim.receivedFor('LK-IN-1').length, 1, 'the gateway got it exactly once');
    // The operator finds it on the portal.
    assert.equal(store.confirmReceived('LK-IN-1', 1, sim.received[0].maGiaoDich), true);
    assert.equal(store.get('LK-IN-1')!.status, 'accepted');
    assert.deepEqual(store.receipts('LK-IN-1').map((r) => r.outcome), ['unconfirmed', 'accepted']);
  });

  it('concurrent submissions of one claim send it once', async () => {
    await stored();
    const submitter = new ClaimSubmitter(store, client());
    const results = await Promise.all([submitter.submit('LK-IN-1'), submitter.submit('LK-IN-1'), new ClaimSubmitter(store, client()).submit('LK-IN-1')]);
    assert.deepEqual(results.map((r) => r.status).sort(), ['accepted', 'sending', 'sending']);
    assert.equal(sim.received.length, 1);
  });

  it('a version left in "sending" by a crash becomes unconfirmed, never resent automatically', async () => {
    await stored();
    assert.ok(store.beginSend('LK-IN-1', 1));
    assert.equal(store.recoverInterrupted(), 1);
    assert.equal(store.get('LK-IN-1')!.status, 'unconfirmed');
    assert.equal(store.confirmNotReceived('LK-IN-1', 1), true);
    assert.equal((await new ClaimSubmitter(store, client()).submit('LK-IN-1')).status, 'accepted');
    assert.equal(sim.received.length, 1);
  });

  it('logs in again when the token has expired, and refuses a wrong password', async () => {
    await stored();
    sim.expireNextTokens = 1;
    assert.equal((await new ClaimSubmitter(store, client()).submit('LK-IN-1')).status, 'accepted');
    assert.equal(sim.logins, 2);
    await assert.rejects(client(url, 'wrong').takeToken(), /login refused: HTTP 200, maKetQua 401, Sai tên đăng nhập hoặc mật khẩu/);
    assert.equal(parseExpiry('2025-03-14 10:00:00', 0), Date.UTC(2025, 2, 14, 10));
    assert.equal(parseExpiry(3600, 1000), 3_601_000);
  });

  it('sends a check-in to its own endpoint', async () => {
    const { buildCheckInRecord } = await import('../../claims/builder/checkin');
    const { buildCheckIn } = await import('../../claims/xml/writer');
    const xml0 = await signer.signCanonical(buildCheckIn([buildCheckInRecord(inpatientSource())]));
    const reply = await client().checkIn(xml0);
    assert.equal(reply.maKetQua, '200', reply.thongDiep);
    assert.deepEqual(sim.checkIns.map((c) => [c.endpoint, c.loaiHoSo, c.maLks]), [['/api/qd130/checkInKcbQd3176', '0', ['LK-IN-1']]]);
  });

  it('stores the gateway password encrypted with a key generated in the data dir', () => {
    const box = SecretBox.forDataDir(dir);
    storeCredentials(store, box, 'production', credentials);
    const keyFile = path.join(dir, 'claims-secret.key');
    assert.equal(statSync(keyFile).mode & 0o777, 0o600);
    assert.deepEqual(loadCredentials(store, box, 'production'), credentials);
    assert.ok(!readFileSync(path.join(dir, 'claims.sqlite')).includes(Buffer.from(credentials.password)));
    assert.ok(!store.credentials('production')!.passwordEncrypted.includes(credentials.password));
    rmSync(keyFile);
    assert.throws(() => loadCredentials(store, SecretBox.forDataDir(dir), 'production'), /cannot be decrypted with claims-secret.key/);
  });

  it('keeps receipts permanently: the database refuses to delete or change them', async () => {
    await stored();
    await new ClaimSubmitter(store, client()).submit('LK-IN-1');
    assert.throws(() => store.db.prepare('DELETE FROM receipts').run(), /receipts are kept permanently/);
    assert.throws(() => store.db.prepare("UPDATE receipts SET outcome = 'rejected'").run(), /receipts are kept permanently/);
  });
});

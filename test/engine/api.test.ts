import assert from 'node:assert/strict';
import { openApiDocument } from '../../engine/api/openapi';
import { freePort, post, startRecorder, waitFor } from '../helpers/engine';
import { startTestApp, type TestApp } from '../helpers/app';

const channelFile = (port: number, url: string) => `
import { defineChannel } from ${JSON.stringify(require.resolve('../../engine/channel/definition'))};
export default defineChannel({
  id: 'api-lab',
  name: 'API lab',
  source: { connector: 'http', config: { port: ${port}, correlationHeaders: { 'x-patient-id': 'patientId' } } },
  destinations: [{ name: 'out', connector: 'http', config: { url: ${JSON.stringify(url)} }, queue: { maxAttempts: 1 } }],
});
`;

describe('REST API: authentication, authorisation, audit', function () {
  let app: TestApp;
  let recorder: Awaited<ReturnType<typeof startRecorder>>;
  let port: number;
  let refuse = false;

  before(async () => {
    recorder = await startRecorder(() => (refuse ? 500 : 200));
    port = await freePort();
    app = await startTestApp({
      channels: {
        'lab.channel.ts': channelFile(port, recorder.url),
        'broken.channel.ts': `export default { id: 'Broken Id', name: '', source: { connector: 'nope' } };`,
      },
    });
  });
  after(async () => {
    await app.cleanup();
    await recorder.close();
  });

  it('generates an admin password at first start (no default password)', () => {
    assert.ok(app.initialAdminPassword && app.initialAdminPassword.length >= 20);
    assert.equal(app.security.checkPassword('admin', 'admin'), undefined);
  });

  it('answers 401 without a token and with a wrong one; /health needs none', async () => {
    assert.equal((await app.api('GET', '/api/channels')).status, 401);
    assert.equal((await app.api('GET', '/api/channels', 'hb_s_wrong')).status, 401);
    assert.equal((await app.api('GET', '/metrics')).status, 401);
    assert.equal((await app.api('GET', '/health')).status, 200);
    assert.equal((await app.api('POST', '/api/auth/login', undefined, { username: 'admin', password: 'admin' })).status, 401);
  });

  it('refuses a broken channel file with file, field and reason while the others run', async () => {
    const token = await app.tokenFor('viewer');
    const { body } = await app.api('GET', '/api/channels', token);
    assert.deepEqual(body.channels.map((c: any) => c.id), ['api-lab']);
    const fields = body.problems.map((p: any) => `${p.file.split('/').pop()}:${p.field}`);
    assert.ok(fields.includes('broken.channel.ts:id'), fields.join(' '));
    assert.ok(fields.includes('broken.channel.ts:name'), fields.join(' '));
    assert.match(body.problems.find((p: any) => p.field === 'id').message, /lower-case/);
  });

  it('a viewer cannot reprocess (403); an operator can; reading a message is audited with the patient', async () => {
    const sent = await post(`http://127.0.0.1:${port}/`, 'OBX|1|NM|glucose', { 'x-patient-id': 'BN-42' });
    assert.equal(sent.status, 200);
    const viewer = await app.tokenFor('viewer');
    const operator = await app.tokenFor('operator');
    const admin = await app.tokenFor('admin');
    const denied = await app.api('POST', '/api/messages/reprocess', viewer, { ids: [sent.body.messageId] });
    assert.equal(denied.status, 403);
    assert.match(denied.body.error, /messages:reprocess/);
    const asViewer = await app.api('GET', `/api/messages/${sent.body.messageId}`, viewer);
    assert.equal(asViewer.status, 200);
    assert.equal(asViewer.body.contentHidden, true);
    assert.deepEqual(asViewer.body.contents, []);
    const asOperator = await app.api('GET', `/api/messages/${sent.body.messageId}`, operator);
    assert.equal(asOperator.body.contents[0].text, 'OBX|1|NM|glucose');
    const audit = await app.api('GET', '/api/audit?action=read-message', admin);
    const entry = audit.body.entries.find((e: any) => e.target === `message:${sent.body.messageId}`);
    assert.ok(entry, 'audit row for the read');
    assert.equal(entry.patientId, 'BN-42');
    assert.match(entry.username, /^operator-/);
    const ok = await app.api('POST', '/api/messages/reprocess', operator, { ids: [sent.body.messageId] });
    assert.equal(ok.status, 200);
    assert.equal(ok.body.results[0].ok, true);
    await waitFor(() => recorder.received.length === 2, 5000, 'original + reprocessed delivery');
    assert.equal((await app.api('GET', '/api/audit', viewer)).status, 403);
  });

  it('bad input names the field: a 400 with `field`', async () => {
    const operator = await app.tokenFor('operator');
    const res = await app.api('POST', '/api/messages/reprocess', operator, { ids: ['x'] });
    assert.equal(res.status, 400);
    assert.equal(res.body.field, 'ids.0');
    const search = await app.api('GET', '/api/messages?status=NOPE', operator);
    assert.equal(search.status, 400);
    assert.equal(search.body.field, 'status');
  });

  it('searches, lists dead letters, replays and discards them (audited)', async () => {
    refuse = true;
    const sent = await post(`http://127.0.0.1:${port}/`, 'to-die', { 'x-patient-id': 'BN-43' });
    const operator = await app.tokenFor('operator');
    await waitFor(async () => (await app.api('GET', '/api/dlq', operator)).body.deadLetters.length === 1, 5000, 'dead letter');
    const { body } = await app.api('GET', '/api/dlq', operator);
    assert.equal(body.deadLetters[0].messageId, sent.body.messageId);
    const found = await app.api('GET', '/api/messages?patientId=BN-43', operator);
    assert.deepEqual(found.body.messages.map((m: any) => m.id), [sent.body.messageId]);
    refuse = false;
    const replay = await app.api('POST', '/api/dlq/replay', operator, { ids: [body.deadLetters[0].queueId] });
    assert.equal(replay.body.replayed, 1);
    await waitFor(() => recorder.received.some((r) => r.body === 'to-die'), 5000, 'replayed');
    const admin = await app.tokenFor('admin');
    const audit = await app.api('GET', '/api/audit?action=dlq-replay', admin);
    assert.equal(audit.body.entries.length, 1);
    refuse = true;
    await post(`http://127.0.0.1:${port}/`, 'to-discard');
    await waitFor(async () => (await app.api('GET', '/api/dlq', operator)).body.deadLetters.length === 1, 5000, 'second dead letter');
    const [second] = (await app.api('GET', '/api/dlq', operator)).body.deadLetters;
    refuse = false;
    assert.equal((await app.api('POST', '/api/dlq/discard', operator, { ids: [second.queueId] })).body.discarded, 1);
    assert.equal((await app.api('GET', '/api/dlq', operator)).body.deadLetters.length, 0);
    assert.equal((await app.api('GET', `/api/messages/${second.messageId}`, operator)).body.destinations[0].status, 'DISCARDED');
    assert.equal((await app.api('GET', '/api/audit?action=dlq-discard', admin)).body.entries.length, 1);
  });

  it('pause stops the source; resume starts it again', async () => {
    const operator = await app.tokenFor('operator');
    assert.equal((await app.api('POST', '/api/channels/api-lab/pause', operator)).body.channel.state, 'paused');
    await assert.rejects(post(`http://127.0.0.1:${port}/`, 'x'));
    assert.equal((await app.api('POST', '/api/channels/api-lab/resume', operator)).body.channel.state, 'started');
    assert.equal((await post(`http://127.0.0.1:${port}/`, 'x')).status, 200);
  });

  it('API tokens work as bearer tokens and can be revoked', async () => {
    const operator = await app.tokenFor('operator');
    const issued = await app.api('POST', '/api/tokens', operator, { name: 'ci' });
    assert.equal(issued.status, 201);
    assert.equal((await app.api('GET', '/api/stats', issued.body.token)).status, 200);
    assert.equal((await app.api('DELETE', `/api/tokens/${issued.body.id}`, operator)).status, 200);
    assert.equal((await app.api('GET', '/api/stats', issued.body.token)).status, 401);
  });

  it('serves Prometheus metrics and an OpenAPI document whose paths exist', async () => {
    const admin = await app.tokenFor('admin');
    const metrics = await app.api('GET', '/metrics', admin);
    assert.match(metrics.body, /hisbridge_channel_events_total\{channel="api-lab",event="received"/);
    const doc = await app.api('GET', '/api/openapi.json');
    assert.equal(doc.body.openapi, '3.0.3');
    for (const [route, ops] of Object.entries(openApiDocument.paths)) {
      if (route.includes('{') || route === '/api/events') continue;
      for (const method of Object.keys(ops)) {
        if (method !== 'get') continue;
        const res = await app.api('GET', route, admin);
        assert.notEqual(res.status, 404, `${route} documented but missing`);
      }
    }
  });
});

describe('certificates', () => {
  it('issue certificates with Vietnamese names that Node reads back intact', async () => {
    const crypto = await import('node:crypto');
    const { createTestCa, issueCertificate } = await import('../../engine/certs/certificates');
    const ca = createTestCa('CA Bệnh viện Đa khoa Tỉnh');
    const signing = issueCertificate(ca, { commonName: 'Bệnh viện Trung ương Demo', usage: 'signing' });
    const cert = new crypto.X509Certificate(signing.certPem);
    assert.match(cert.subject, /CN=Bệnh viện Trung ương Demo/);
    assert.match(cert.issuer, /CN=CA Bệnh viện Đa khoa Tỉnh/);
    assert.ok(cert.verify(new crypto.X509Certificate(ca.certPem).publicKey));
  });
});

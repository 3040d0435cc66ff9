// The message trees the console shows (HL7 v2, ASTM, DICOM, JSON, XML with field names), the
// GET /api/messages/{id}/tree endpoint (permission, audit, the channel's charset), and how the
// engine serves the built console (cache headers, SPA fallback).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { decodeContentTree, detectFormat, type TreeNode } from '../../console/server/content-tree';
import { syntheticImage } from '../../connectors/dicom/dataset/synthetic';
import { startTestApp, type TestApp } from '../helpers/app';
import { freePort, post, tempDir } from '../helpers/engine';
import { buildConsoleForTest } from './helpers';

const fixture = (...p: string[]) => fs.readFileSync(path.join(__dirname, '..', 'fixtures', ...p));
const tree = (data: Buffer | string, contentType: string, options = {}) => decodeContentTree({ stage: 'raw', contentType, data: Buffer.from(data) }, options);

function find(nodes: TreeNode[], label: string): TreeNode | undefined {
  for (const node of nodes) {
    if (node.label === label) return node;
    const inner = node.children && find(node.children, label);
    if (inner) return inner;
  }
  return undefined;
}

describe('console message trees', () => {
  it('HL7 v2: segments, fields and components with v2.5.1 names; Vietnamese text intact', () => {
    const result = tree(fixture('hl7', 'adt-a01-vn.hl7'), 'application/hl7-v2');
    assert.equal(result.format, 'hl7v2');
    assert.equal(result.error, null);
    assert.match(result.summary!, /^ADT\^A01 · ADT0001 · v2\.5\.1/);
    assert.equal(find(result.nodes, 'PID')?.name, 'Patient Identification');
    assert.equal(find(result.nodes, 'PID-5')?.name, 'Patient Name (XPN)');
    assert.deepEqual(find(result.nodes, 'PID-5.1'), { label: 'PID-5.1', name: 'Family Name', value: 'Nguyễn' });
    assert.equal(find(result.nodes, 'PID-5.2')?.value, 'Văn An');
    assert.equal(find(result.nodes, 'MSH-9.2')?.name, 'Trigger Event');
    assert.equal(find(result.nodes, 'PV1-3.1')?.name, 'Point of Care');
  });

  it('HL7 v2: repetitions, subcomponents and escapes are split and unescaped', () => {
    const text = 'MSH|^~\\&|A|B|C|D|20260101||ORU^R01|X1|P|2.5.1\rPID|1||BN1^^^BV&1.2.3&ISO^MR~CCCD123^^^BCA^NI||Trần^Thị \\T\\ Hà\rOBX|1|NM|2345-7^Glucose^LN||5.4|mmol/L\r';
    const result = tree(text, 'application/hl7-v2');
    const pid3 = find(result.nodes, 'PID-3')!;
    assert.equal(pid3.value, '2 ×');
    assert.equal(find(result.nodes, 'PID-3[2].1')?.value, 'CCCD123');
    assert.equal(find(result.nodes, 'PID-3[1].4.2')?.value, '1.2.3');
    assert.equal(find(result.nodes, 'PID-5.2')?.value, 'Thị & Hà');
    // OBX-5's type comes from OBX-2.
    assert.equal(find(result.nodes, 'OBX-5')?.name, 'Observation Value (NM)');
    assert.equal(find(result.nodes, 'OBX-3.2')?.name, 'Text');
  });

  it('HL7 v2: a legacy charset decodes with the channel charset, or is shown as Latin-1 with the reason', () => {
    const bytes = fixture('hl7', 'legacy-adt-windows-1258.hl7');
    const withCharset = tree(bytes, 'application/hl7-v2', { hl7Charset: 'windows-1258' });
    assert.equal(withCharset.error, null);
    assert.equal(find(withCharset.nodes, 'PID-5.1')?.value, 'Nguyễn');
    const without = tree(bytes, 'application/hl7-v2');
    assert.match(without.error!, /PID-5, byte \d+: byte 0x[0-9a-f]{2} is not valid utf-8.*shown decoded as Latin-1/);
    assert.ok(find(without.nodes, 'PID-5'), 'the structure is still shown');
  });

  it('HL7 v2: batch files list each message; content that is not HL7 gets an error, not an exception', () => {
    const batch = tree(fixture('hl7', 'batch-adt.hl7'), 'application/hl7-v2');
    assert.match(batch.summary!, /^3 message\(s\) in a batch$/);
    assert.equal(batch.nodes.filter((n) => n.label.startsWith('#')).length, 3);
    const bad = tree('hello', 'application/hl7-v2');
    assert.equal(bad.format, 'hl7v2');
    assert.match(bad.error!, /must start with MSH/);
    assert.deepEqual(bad.nodes, []);
  });

  it('ASTM: records and fields with LIS2-A2 names, the Universal Test ID components named', () => {
    const result = tree(fixture('astm', 'beckman-dxh-results.txt'), 'application/astm');
    assert.equal(result.format, 'astm');
    assert.match(result.summary!, /record\(s\) · DxH/);
    assert.equal(find(result.nodes, 'H[1]')?.name, 'Message Header');
    assert.equal(find(result.nodes, 'R[1]')?.name, 'Result');
    const r1 = find(result.nodes, 'R[1]')!;
    const value = r1.children!.find((c) => c.label === 'R-4')!;
    assert.equal(value.name, 'Data or Measurement Value');
    assert.equal(value.value, '7.4');
    assert.equal(find(r1.children!, 'R-3.4')?.name, "Manufacturer's Local Code");
    assert.equal(find(r1.children!, 'R-3.4')?.value, 'WBC');
  });

  it('DICOM: the event record, and the instance header with dictionary keywords when the file is in the data folder', () => {
    const dataDir = tempDir('hisbridge-tree-');
    try {
      const image = syntheticImage(
        { patientId: 'BN-CT-1', patientName: 'Lê^Thị Hồng', studyInstanceUid: '1.2.826.0.1.3680043.10.543.1', accessionNumber: 'CT2026-7', modality: 'CT' },
        { seriesInstanceUid: '1.2.826.0.1.3680043.10.543.1.1', instanceNumber: 1, kind: 'small' },
      );
      const file = path.join(dataDir, 'dicom', 'instance.dcm');
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(file, image.bytes);
      const record = { type: 'dicom-instance', file, patientId: 'BN-CT-1', patientName: 'Lê^Thị Hồng', accessionNumber: 'CT2026-7', modality: 'CT' };
      const result = tree(JSON.stringify(record), 'application/vnd.hisbridge.dicom-instance+json', { dataDir });
      assert.equal(result.format, 'dicom');
      assert.equal(result.error, null);
      assert.equal(result.summary, 'CT · Lê^Thị Hồng · CT2026-7');
      const dataset = result.nodes.find((n) => n.label === 'dataset')!;
      assert.deepEqual(find(dataset.children!, '(0010,0010)'), { label: '(0010,0010)', name: 'PatientName [PN]', value: 'Lê^Thị Hồng' });
      assert.equal(find(dataset.children!, '(0008,0050)')?.value, 'CT2026-7');
      assert.equal(find(dataset.children!, '(0028,0010)')?.name, 'Rows [US]');
      assert.equal(find(dataset.children!, '(0028,0010)')?.value, '8');

      // A record naming a file outside the data folder is not read.
      const outside = tree(JSON.stringify({ ...record, file: '/etc/passwd' }), 'application/vnd.hisbridge.dicom-instance+json', { dataDir });
      assert.match(outside.error!, /outside the engine's data folder/);
      assert.equal(outside.nodes.some((n) => n.label === 'dataset'), false);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });

  it('JSON and XML become key/value trees; formats are detected from content when the type says little', () => {
    const json = tree('{"patient":{"id":"BN1","names":["A","B"]}}', 'application/json');
    assert.equal(find(json.nodes, 'id')?.value, 'BN1');
    assert.equal(find(json.nodes, 'names')?.value, '2 item(s)');
    const xml = tree('<ClinicalDocument><id root="1.2"/><title>Tóm tắt</title></ClinicalDocument>', 'application/xml');
    assert.equal(xml.summary, '<ClinicalDocument>');
    assert.equal(find(xml.nodes, 'title')?.value, 'Tóm tắt');
    assert.equal(find(xml.nodes, '@root')?.value, '1.2');
    assert.equal(detectFormat('text/plain', Buffer.from('MSH|^~\\&|')), 'hl7v2');
    assert.equal(detectFormat('application/octet-stream', Buffer.from('H|\\^&|||')), 'astm');
    assert.equal(detectFormat('application/octet-stream', Buffer.from([1, 0, 2])), 'binary');
    assert.deepEqual(tree('{not json', 'application/json').nodes, []);
    assert.match(tree('{not json', 'application/json').error!, /JSON/);
  });
});

describe('console API: message tree endpoint and console serving', function () {
  let app: TestApp;
  let built: { dir: string; cleanup(): void };
  let port: number;

  before(async () => {
    built = await buildConsoleForTest();
    port = await freePort();
    app = await startTestApp({
      consoleDir: built.dir,
      channels: {
        'legacy.channel.ts': `
import { defineChannel } from ${JSON.stringify(require.resolve('../../engine/channel/definition'))};
export default defineChannel({
  id: 'legacy-his',
  name: 'Legacy HIS',
  source: { connector: 'http', config: { port: ${port}, correlationHeaders: { 'x-patient-id': 'patientId' } } },
  destinations: [{ name: 'out', connector: 'file', config: { directory: ${JSON.stringify(path.join(require('node:os').tmpdir(), 'hisbridge-console-out-' + process.pid))} } }],
});
`,
      },
    });
  });
  after(async () => {
    await app?.cleanup();
    built?.cleanup();
    fs.rmSync(path.join(require('node:os').tmpdir(), 'hisbridge-console-out-' + process.pid), { recursive: true, force: true });
  });

  it('returns the decoded tree to an operator (audited with the patient), 403 to a viewer, 404 for a missing stage', async () => {
    const sent = await post(`http://127.0.0.1:${port}/`, fixture('hl7', 'oru-r01-1kb.hl7'), { 'content-type': 'application/hl7-v2', 'x-patient-id': 'BN-TREE' });
    assert.equal(sent.status, 200);
    const id = sent.body.messageId;
    const operator = await app.tokenFor('operator');
    const viewer = await app.tokenFor('viewer');
    const admin = await app.tokenFor('admin');
    const ok = await app.api('GET', `/api/messages/${id}/tree?stage=raw`, operator);
    assert.equal(ok.status, 200);
    assert.equal(ok.body.format, 'hl7v2');
    assert.equal(find(ok.body.nodes, 'PID')?.name, 'Patient Identification');
    const denied = await app.api('GET', `/api/messages/${id}/tree`, viewer);
    assert.equal(denied.status, 403);
    assert.match(denied.body.error, /messages:content/);
    const missing = await app.api('GET', `/api/messages/${id}/tree?stage=response:nowhere`, operator);
    assert.equal(missing.status, 404);
    assert.match(missing.body.error, /no stored "response:nowhere" content/);
    assert.equal((await app.api('GET', '/api/messages/999999/tree', operator)).status, 404);
    assert.equal((await app.api('GET', '/api/messages/abc/tree', operator)).status, 400);
    const audit = await app.api('GET', '/api/audit?patientId=BN-TREE', admin);
    const entry = audit.body.entries.find((e: any) => e.detail === 'tree raw');
    assert.ok(entry, 'the tree read is audited');
    assert.equal(entry.action, 'read-message');
    assert.equal(entry.target, `message:${id}`);
  });

  it('serves the console: index.html revalidated, hashed bundles cached, deep links fall back to the app, /api stays JSON', async () => {
    const index = await fetch(`${app.apiUrl}/`);
    assert.equal(index.status, 200);
    assert.equal(index.headers.get('cache-control'), 'no-cache');
    const html = await index.text();
    const script = /src="(\/app-[0-9a-f]{10}\.js)"/.exec(html)?.[1];
    const style = /href="(\/app-[0-9a-f]{10}\.css)"/.exec(html)?.[1];
    assert.ok(script && style, html);
    const js = await fetch(`${app.apiUrl}${script}`);
    assert.equal(js.status, 200);
    assert.match(js.headers.get('cache-control') ?? '', /max-age=3600/);
    assert.match(js.headers.get('content-type') ?? '', /javascript/);
    const deep = await fetch(`${app.apiUrl}/messages/42?channel=x`);
    assert.equal(deep.status, 200);
    assert.equal(await deep.text(), html);
    const api = await app.api('GET', '/api/nothing-here', await app.tokenFor('viewer'));
    assert.equal(api.status, 404);
    assert.match(api.body.error, /no API route/);
    assert.equal((await app.api('GET', '/api/nothing-here')).status, 401);
  });
});

// Conformance with an independent peer: Debian's python3-hl7 `mllp_send` sends to the engine's MLLP
// source; its printed ACKs and the engine's store are checked.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { freePort, startTestEngine, tempDir, type TestEngine } from '../helpers/engine';
import { requirePeers } from '../helpers/peers';
import { fixture } from './helpers';

function mllpSend(args: string[]): Promise<{ code: number; stdout: Buffer; stderr: string }> {
  return new Promise((resolve) => {
    execFile('mllp_send', args, { timeout: 30_000, encoding: 'buffer' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code?: unknown }).code as number) : 1) : 0;
      resolve({ code, stdout, stderr: stderr.toString() });
    });
  });
}

/** mllp_send prints each ACK as received (VT … FS CR) followed by a newline. */
function acksIn(stdout: Buffer): Hl7Message[] {
  return stdout
    .toString('utf8')
    .split('\x1c')
    .map((chunk) => chunk.replace(/^[\s\x0b]+/, '').replace(/\s+$/, ''))
    .filter((chunk) => chunk.startsWith('MSH'))
    .map((chunk) => Hl7Message.parse(chunk));
}

describe('hl7 conformance with mllp_send (python3-hl7)', function () {
  this.timeout(60_000);
  let t: TestEngine;
  let port: number;
  let dir: string;

  before(async function () {
    requirePeers(this, 'mllp_send');
    t = await startTestEngine();
    port = await freePort();
    dir = tempDir('hl7-mllp-send-');
    await t.engine.deployChannel({ id: 'hl7-in', name: 'HL7 in', source: { connector: 'mllp', config: { host: '127.0.0.1', port } } });
  });
  after(async () => {
    await t?.cleanup();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('acknowledges each message of a file with AA and MSA-2 = its MSH-10, and stores them', async () => {
    const names = ['nist-oru-r01-2.5.1.hl7', 'adt-a01-vn.hl7', 'orm-o01-imaging.hl7', 'oru-r01-1kb.hl7'];
    // mllp_send splits its input on FS (0x1C) and strips VT/CR around each message.
    const file = path.join(dir, 'messages.hl7');
    fs.writeFileSync(file, Buffer.concat(names.flatMap((n) => [fixture(n), Buffer.from([0x1c])])));
    const r = await mllpSend(['-p', String(port), '-f', file, '127.0.0.1']);
    assert.equal(r.code, 0, r.stderr);
    const acks = acksIn(r.stdout);
    const ids = names.map((n) => Hl7Message.parse(fixture(n)).controlId);
    assert.deepEqual(acks.map((a) => a.get('MSA-1')), ['AA', 'AA', 'AA', 'AA']);
    assert.deepEqual(acks.map((a) => a.get('MSA-2')), ids);
    for (const id of ids) {
      const [stored] = await t.engine.store.search({ channelId: 'hl7-in', controlId: id });
      assert.ok(stored, `message ${id} stored`);
      assert.equal(stored.contentType, 'application/hl7-v2');
    }
    const [vn] = await t.engine.store.search({ channelId: 'hl7-in', text: 'nguyen van an' });
    assert.ok(vn, 'Vietnamese name searchable (UTF-8 intact)');
  });

  it('--loose: a CRLF text file with several messages', async () => {
    const file = path.join(dir, 'loose.txt');
    const text = ['adt-a04-vn.hl7', 'adt-a08-vn.hl7'].map((n) => fixture(n).toString('utf8').replace(/\r/g, '\r\n')).join('');
    fs.writeFileSync(file, text);
    const r = await mllpSend(['--loose', '-p', String(port), '-f', file, '127.0.0.1']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(acksIn(r.stdout).map((a) => `${a.get('MSA-1')} ${a.get('MSA-2')}`), ['AA ADT0002', 'AA ADT0003']);
  });

  it('bad input gets AR/AE with an ERR segment, and is kept as errored', async () => {
    const file = path.join(dir, 'bad.hl7');
    const invalidUtf8 = Buffer.concat([Buffer.from('MSH|^~\\&|HIS|BV_A|LIS|BV_A|20250115||ADT^A04|CONF-BAD|P|2.5.1\rPID|1||X||Nguy'), Buffer.from([0xff]), Buffer.from('n')]);
    fs.writeFileSync(file, Buffer.concat([Buffer.from('PID|1||no header'), Buffer.from([0x1c]), invalidUtf8, Buffer.from([0x1c])]));
    const r = await mllpSend(['-p', String(port), '-f', file, '127.0.0.1']);
    assert.equal(r.code, 0, r.stderr);
    const [noHeader, badBytes] = acksIn(r.stdout);
    assert.equal(noHeader.get('MSA-1'), 'AR');
    assert.match(noHeader.get('ERR-8'), /must start with MSH/);
    assert.equal(badBytes.get('MSA-1'), 'AE');
    assert.equal(badBytes.get('MSA-2'), 'CONF-BAD');
    assert.equal(badBytes.getRaw('ERR-2'), 'PID^1^5');
    const [stored] = await t.engine.store.search({ channelId: 'hl7-in', controlId: 'CONF-BAD' });
    assert.equal(stored.status, 'ERROR');
    const detail = await t.engine.store.get(stored.id);
    assert.ok(detail!.contents.find((c) => c.stage === 'raw')!.data.equals(invalidUtf8), 'raw bytes kept as received');
  });
});

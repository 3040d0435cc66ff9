import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { batchFileSourceSchema, Hl7BatchFileSource, type BatchFileSourceConfig } from '../../connectors/hl7/batch-file-source';
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { fixture, recordingContext } from './helpers';

async function until(condition: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

describe('hl7 batch-file source', function () {
  this.timeout(15_000);
  let root: string;
  let inbox: string;
  let dataDir: string;
  const sources: Hl7BatchFileSource[] = [];
  beforeEach(() => {
    root = fs.mkdtempSync(path.join(os.tmpdir(), 'hl7-batch-'));
    inbox = path.join(root, 'inbox');
    dataDir = path.join(root, 'data');
    fs.mkdirSync(inbox);
    fs.mkdirSync(dataDir);
  });
  afterEach(async () => {
    await Promise.all(sources.splice(0).map((s) => s.stop()));
    fs.rmSync(root, { recursive: true, force: true });
  });
  function source(config: Partial<BatchFileSourceConfig> = {}) {
    const s = new Hl7BatchFileSource(batchFileSourceSchema.parse({ directory: inbox, pollIntervalMs: 50, minAgeMs: 0, ...config }));
    sources.push(s);
    return s;
  }

  it('stores each message of an FHS/BHS batch in order with its exact bytes, then moves the file', async () => {
    const bytes = fixture('batch-adt.hl7');
    fs.writeFileSync(path.join(inbox, 'export-001.hl7'), bytes);
    const ctx = recordingContext(dataDir);
    await source().start(ctx);
    await until(() => fs.existsSync(path.join(inbox, 'processed', 'export-001.hl7')), 'file moved to processed/');
    assert.deepEqual(ctx.received.map((r) => r.message.correlation?.controlId), ['B1M1', 'B1M2', 'B2M1']);
    const first = ctx.received[0].message;
    assert.equal(first.contentType, 'application/hl7-v2');
    assert.deepEqual(first.origin, { file: 'export-001.hl7', index: '1', byteOffset: String(bytes.indexOf('MSH')), batch: '1' });
    assert.ok(bytes.includes(first.raw));
    assert.ok(first.parsed instanceof Hl7Message);
    assert.equal(ctx.received[2].message.meta?.patientName, 'Đặng Văn Ba');
    assert.equal(ctx.connections.get('test-channel/hl7-batch-file')?.counters?.messages, 3);
  });

  it('resumes after the store was unavailable without storing the first messages twice', async () => {
    fs.writeFileSync(path.join(inbox, 'b.hl7'), fixture('batch-adt.hl7'));
    const ctx = recordingContext(dataDir);
    let storeDown = true;
    ctx.answer = (m, i) => (m.correlation?.controlId === 'B1M2' && storeDown ? { status: 'unavailable', error: 'disk full' } : { status: 'accepted', messageId: i + 1 });
    const s = source();
    await s.start(ctx);
    await until(() => ctx.received.length >= 2, 'second message attempted');
    assert.ok(fs.existsSync(path.join(inbox, 'b.hl7')), 'the file stays until every message is stored');
    storeDown = false;
    await until(() => fs.existsSync(path.join(inbox, 'processed', 'b.hl7')), 'file finished');
    // B1M2 was offered until the store took it; B1M1 (already stored) was never offered again.
    const ids = ctx.received.map((r) => r.message.correlation?.controlId);
    assert.equal(ids.filter((id) => id === 'B1M1').length, 1, `B1M1 stored once: ${ids.join(',')}`);
    assert.ok(ids.filter((id) => id === 'B1M2').length >= 2);
    assert.deepEqual(ids.slice(-2), ['B1M2', 'B2M1']);
  });

  it('resumes from the progress file after a restart', async () => {
    const file = path.join(inbox, 'c.hl7');
    fs.writeFileSync(file, fixture('batch-adt.hl7'));
    const stat = fs.statSync(file);
    fs.mkdirSync(path.join(dataDir, 'hl7-batch-file'), { recursive: true });
    fs.writeFileSync(path.join(dataDir, 'hl7-batch-file', 'test-channel.json'), JSON.stringify({ file, size: stat.size, mtimeMs: stat.mtimeMs, next: 2 }));
    const ctx = recordingContext(dataDir);
    await source().start(ctx);
    await until(() => fs.existsSync(path.join(inbox, 'processed', 'c.hl7')), 'file finished');
    assert.deepEqual(ctx.received.map((r) => r.message.correlation?.controlId), ['B2M1']);
  });

  it('keeps broken messages as errored, flags count mismatches, and sends files with no message to error/', async () => {
    fs.writeFileSync(path.join(inbox, 'd.hl7'), 'BHS|^~\\&\rMSH|^~\\&|A|B|C|D|2025||ADT^A04|OK1|P|2.5\rPID|1||X\rMSH|^~\\&|A|B|C|D|2025||ADT^A04|BAD|P|2.5\rP@D|1\rBTS|3\r');
    fs.writeFileSync(path.join(inbox, 'e.txt'), 'not hl7 at all');
    const ctx = recordingContext(dataDir);
    await source().start(ctx);
    await until(() => fs.existsSync(path.join(inbox, 'processed', 'd.hl7')) && fs.existsSync(path.join(inbox, 'error', 'e.txt')), 'both files handled');
    const [ok, bad, empty] = ctx.received.map((r) => r.message);
    assert.equal(ok.meta?.parseError, undefined);
    assert.match(ok.meta!.batchWarning, /BTS-1 at byte \d+ says 3 messages, batch 1 holds 2/);
    assert.match(bad.meta!.parseError, /segment 2 does not start with a segment ID/);
    assert.equal(bad.correlation?.controlId, 'BAD');
    assert.match(empty.meta!.parseError, /no HL7 message/);
    assert.equal(empty.raw.toString(), 'not hl7 at all');
  });

  it('decodes legacy files with the configured charset', async () => {
    fs.writeFileSync(path.join(inbox, 'old.hl7'), fixture('legacy-adt-viscii.hl7'));
    const ctx = recordingContext(dataDir);
    await source({ charset: 'viscii', afterProcessing: 'delete' }).start(ctx);
    await until(() => !fs.existsSync(path.join(inbox, 'old.hl7')), 'file deleted');
    assert.equal((ctx.received[0].message.parsed as Hl7Message).get('PID-5.2'), 'Thị Hằng');
  });
});

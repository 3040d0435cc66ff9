// HL7 v2 ORU from monitor gateways: the verbatim Philips IHE PCD-01 sample and the Mindray eGateway
// sample (standards.md §6.2), read with the project's HL7 codec; and end to end from Debian's
// mllp_send through the engine's MLLP source into the IoMT service.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { readHl7Oru } from '../../iomt/adapters/hl7';
import { vitalsEnvelope, VITALS_ENVELOPE_TYPE } from '../../iomt/channel';
import { normaliseDeviceMessage } from '../../iomt/normalise';
import { IOMT_SERVICE, IomtService } from '../../iomt/service';
import { freePort, startTestEngine, type TestEngine } from '../helpers/engine';
import { requirePeers } from '../helpers/peers';
import { tempDir, waitFor } from './helpers';

const fixture = (name: string) => fs.readFileSync(path.join(__dirname, '../fixtures/iomt', name));
const run = promisify(execFile);

describe('iomt/adapters/hl7: monitor gateway ORU', () => {
  it('reads the Philips IHE PCD-01 sample: EUI-64 device, MDC heart rate in /min, device rows and rhythm text skipped', () => {
    const [m] = readHl7Oru(fixture('pcd01-philips.hl7'));
    assert.equal(m.deviceId, 'EUI64:0009FBFFFF9B42B3');
    assert.equal(m.messageId, 'HP0425230332.872USDANRMMD1NBR488');
    assert.equal(m.patientId, '12345');
    assert.equal(m.measurements.length, 1);
    const n = normaliseDeviceMessage(m, { now: Date.parse('2021-04-26T03:04:00Z') });
    assert.deepEqual(n.observations.map((o) => [o.sign, o.value, o.unit, o.codings.map((c) => c.code).join(',')]), [['heart-rate', 60, '/min', '8867-4,147842']]);
    assert.equal(n.time, '2021-04-26T03:03:31.496Z', 'OBR-7 with its -0400 offset');
  });

  it('reads the Mindray eGateway sample: proprietary codes, no units (implied), the bed as device', () => {
    const [m] = readHl7Oru(fixture('oru-mindray.hl7'));
    assert.equal(m.deviceId, 'Mindray:ICU-Bed5');
    const n = normaliseDeviceMessage(m, { now: Date.parse('2009-12-03T05:20:00Z') });
    assert.deepEqual(n.observations.map((o) => [o.codings[0].code, o.value, o.unit]), [['8867-4', 60, '/min'], ['9279-1', 20, '/min'], ['8310-5', 37, 'Cel']]);
    assert.equal(n.time, '2009-12-03T05:16:31.000Z', 'no offset: hospital time UTC+7');
  });

  it('rejects an unknown MDC code with its label, refuses a non-ORU and broken HL7 naming the place', () => {
    const text = fixture('pcd01-philips.hl7').toString('latin1').replace('147842^MDC_ECG_CARD_BEAT_RATE', '999999^MDC_SOMETHING_ELSE');
    const n = normaliseDeviceMessage(readHl7Oru(text)[0], { now: Date.parse('2021-04-26T03:04:00Z') });
    assert.match(n.rejected[0].reason, /OBX\[4\]: unknown code "999999" in system urn:iso:std:iso:11073:10101 \(MDC_SOMETHING_ELSE\)/);
    assert.throws(() => readHl7Oru('MSH|^~\\&|A|B|||20260101||ADT^A01|1|P|2.5\rPID|1'), /MSH-9 is ADT\^A01: a monitor observation is ORU\^R01/);
    assert.throws(() => readHl7Oru('MSH|'), /HL7: /);
  });

  it('reads a batch of two ORUs', () => {
    const one = fixture('oru-mindray.hl7').toString('latin1');
    const two = one.replace('|2|P|2.3.1|', '|3|P|2.3.1|');
    const messages = readHl7Oru(one + two);
    assert.deepEqual(messages.map((m) => m.messageId), ['2', '3']);
  });
});

describe('iomt: HL7 ORU from a monitor gateway over MLLP through the engine', function () {
  let te: TestEngine;
  let iomt: IomtService;
  let port: number;
  let tmp: ReturnType<typeof tempDir>;

  before(async function () {
    requirePeers(this, 'mllp_send');
    tmp = tempDir();
    te = await startTestEngine();
    iomt = new IomtService({ dataDir: te.dataDir, config: { batch: { maxDelayMs: 2 } } });
    te.engine.registerService(IOMT_SERVICE, iomt);
    port = await freePort();
    await te.engine.deployChannel({
      id: 'monitor-gateway',
      name: 'Monitor gateway ORU (MLLP)',
      source: { connector: 'mllp', config: { host: '127.0.0.1', port } },
      transformer: (m, ctx) => vitalsEnvelope(m, ctx) as unknown as object,
      contentType: VITALS_ENVELOPE_TYPE,
      destinations: [{ name: 'iomt', connector: 'iomt-vitals', queue: { orderBy: 'none' } }],
    });
  });
  after(async () => {
    await te?.cleanup();
    await iomt?.stop();
    tmp?.cleanup();
  });

  it('mllp_send delivers a current PCD-01 ORU; the bound monitor\'s heart rate reaches the patient', async () => {
    iomt.registry.upsertDevice({ id: 'EUI64:0009FBFFFF9B42B3', ward: 'ICU', bed: 'Bed1' });
    iomt.registry.bind({ deviceId: 'EUI64:0009FBFFFF9B42B3', visitId: 'VH1', patientId: '12345', from: Date.now() - 3600_000 });
    // The sample, re-timed to now (hospital time) so it is within the lateness limit.
    const now = new Date(Date.now() + 7 * 3600_000).toISOString().replace(/[-:T]/g, '').slice(0, 14);
    const text = fixture('pcd01-philips.hl7').toString('latin1').replace(/20210425230331\.496-0400/g, now).replace(/20210425230332\.872-0400/g, now);
    const file = path.join(tmp.dir, 'oru.hl7');
    fs.writeFileSync(file, text, 'latin1');
    const { stdout } = await run('mllp_send', ['--loose', '-p', String(port), '-f', file, '127.0.0.1']);
    assert.match(stdout, /MSA\|(AA|CA)\|HP0425230332/); // MSH-15 AL asks for a commit accept
    await waitFor(() => (iomt.db.prepare("SELECT COUNT(*) AS n FROM readings WHERE visit_id = 'VH1'").get() as { n: number }).n === 1, 10_000, 'the reading');
    const row = iomt.db.prepare("SELECT hr, device_id FROM readings WHERE visit_id = 'VH1'").get() as { hr: number; device_id: string };
    assert.deepEqual(row, { hr: 60, device_id: 'EUI64:0009FBFFFF9B42B3' });
  });
});

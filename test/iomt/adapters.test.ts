// Device payload adapters and normalisation: the JSON contract (the fast validator agrees with the
// schema), the compact array, format detection, device time formats, unit conversion and rounding.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { detectFormat, readDevicePayload } from '../../iomt/adapters';
import { readJsonContract } from '../../iomt/adapters/json';
import { vitalsMessageSchema } from '../../iomt/contract';
import { normaliseDeviceMessage, parseDeviceTime } from '../../iomt/normalise';
import { VitalsInputError } from '../../iomt/types';

const NOW = Date.parse('2026-11-22T08:30:00+07:00');
const valid = () => ({
  v: 1,
  deviceId: 'MON-ICU-05',
  messageId: 'a1',
  time: '2026-11-22T08:29:58+07:00',
  measurements: [
    { code: '8867-4', value: 72, unit: '/min' },
    { code: 'spo2', value: 97, unit: '%' },
    { code: '150456', system: 'MDC', value: 96, unit: '%', time: 1795311000 },
  ],
});

describe('iomt/adapters: JSON contract', () => {
  it('reads a valid message into device measurements with their paths', () => {
    const m = readJsonContract(JSON.stringify(valid()));
    assert.equal(m.deviceId, 'MON-ICU-05');
    assert.equal(m.messageId, 'a1');
    assert.deepEqual(m.measurements.map((x) => x.path), ['measurements[0]', 'measurements[1]', 'measurements[2]']);
  });

  it('the fast validator accepts exactly what the schema accepts (1,000 mutated payloads)', () => {
    // Deterministic pseudo-random mutations of a valid message: each is checked against zod.
    let seed = 42;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
    const junk = [null, 0, -1, 1.5, '', 'x', 'x'.repeat(200), true, [], {}, '2026-11-22T08:00:00Z', 12345678901];
    const pick = <T>(a: T[]): T => a[Math.floor(rnd() * a.length)];
    let accepted = 0;
    for (let i = 0; i < 1000; i++) {
      const msg = valid() as Record<string, any>;
      const n = 1 + Math.floor(rnd() * 3);
      for (let k = 0; k < n; k++) {
        const where = rnd();
        if (where < 0.4) msg[pick(['v', 'deviceId', 'messageId', 'time', 'patientId', 'measurements', 'extra'])] = pick(junk);
        else {
          const list = Array.isArray(msg.measurements) ? msg.measurements : (msg.measurements = [{}]);
          const item = (list[Math.floor(rnd() * list.length)] ??= {});
          if (typeof item === 'object' && item !== null) item[pick(['code', 'system', 'value', 'unit', 'time'])] = pick(junk);
        }
      }
      const zodOk = vitalsMessageSchema.safeParse(msg).success;
      let ours = true;
      try {
        readJsonContract(JSON.stringify(msg));
      } catch (err) {
        assert.ok(err instanceof VitalsInputError);
        ours = false;
      }
      assert.equal(ours, zodOk, `disagree on ${JSON.stringify(msg)}`);
      if (ours) accepted++;
    }
    assert.ok(accepted > 50 && accepted < 950, `the mutations exercise both outcomes (accepted ${accepted})`);
  });

  it('names the failing field', () => {
    assert.throws(() => readJsonContract(JSON.stringify({ ...valid(), deviceId: 'bad id!' })), /JSON contract: deviceId: device id: 1-64 characters/);
    assert.throws(() => readJsonContract(JSON.stringify({ ...valid(), measurements: [] })), /measurements: Too small/i);
    assert.throws(() => readJsonContract('{"deviceId":'), /invalid JSON/);
  });

  it('the JSON Schema file is well-formed and its example payload passes the contract', () => {
    const schema = JSON.parse(fs.readFileSync(path.join(__dirname, '../../iomt/contract/vitals.schema.json'), 'utf8'));
    assert.deepEqual(schema.required, ['deviceId', 'messageId', 'time', 'measurements']);
    assert.equal(schema.properties.deviceId.pattern, '^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$');
    const example = JSON.parse(fs.readFileSync(path.join(__dirname, '../fixtures/iomt/vitals-message.json'), 'utf8'));
    assert.equal(readJsonContract(JSON.stringify(example)).measurements.length, example.measurements.length);
  });
});

describe('iomt/adapters: compact array and detection', () => {
  it('detects the format from the topic, the content type, or the first byte', () => {
    assert.equal(detectFormat(Buffer.from('  {"a":1}')), 'json');
    assert.equal(detectFormat(Buffer.from('\uFEFF["W",1,2,3]')), 'compact');
    assert.equal(detectFormat(Buffer.from('MSH|^~\\&|')), 'hl7-pcd01');
    assert.equal(detectFormat(Buffer.from('{}'), { topicFormat: 'compact' }), 'compact');
    assert.equal(detectFormat(Buffer.from('xx'), { contentType: 'application/hl7-v2' }), 'hl7-pcd01');
    assert.throws(() => detectFormat(Buffer.from('<xml/>')), /starts with "<xml\/>" at byte 0/);
  });

  it('maps positions to codes and units; null means not measured', () => {
    const [m] = readDevicePayload(Buffer.from('["WB-7", 12, 1795311000, 80, null, 18, 37.5]'));
    assert.equal(m.messageId, '12@1795311000');
    assert.deepEqual(m.measurements.map((x) => [x.code, x.value, x.unit]), [['hr', 80, '/min'], ['rr', 18, '/min'], ['temp', 37.5, 'Cel']]);
    const n = normaliseDeviceMessage(m, { now: 1795311000 * 1000 });
    assert.deepEqual(n.observations.map((o) => o.codings[0].code), ['8867-4', '9279-1', '8310-5']);
  });

  it('refuses malformed rows with the position', () => {
    assert.throws(() => readDevicePayload(Buffer.from('["WB-7", 1, 1795311000]')), /at least \[deviceId, seq, time, hr\]/);
    assert.throws(() => readDevicePayload(Buffer.from('["WB-7", 1, "yesterday", 80]')), /compact format\[2\]: time must be Unix seconds/);
    assert.throws(() => readDevicePayload(Buffer.from('["WB-7", 1, 1795311000, 80, 1, 2, 3, 4, 5, 6]')), /10 elements, at most 9/);
    assert.throws(() => readDevicePayload(Buffer.from(JSON.stringify(Array.from({ length: 1001 }, () => ['W', 1, 2, 3])))), /1001 rows exceed the 1000-row batch limit/);
  });

  it('refuses a payload over the size limit before parsing it', () => {
    assert.throws(() => readDevicePayload(Buffer.alloc(70_000, 0x7b)), /70000 bytes exceeds the 65536-byte limit/);
  });
});

describe('iomt/normalise', () => {
  it('reads ISO with and without offset (UTC+7 assumed), HL7 TS, Unix seconds and milliseconds', () => {
    assert.equal(parseDeviceTime('2026-11-22T08:30:00+07:00'), NOW);
    assert.equal(parseDeviceTime('2026-11-22T08:30:00'), NOW);
    assert.equal(parseDeviceTime('2026-11-22T01:30:00Z'), NOW);
    assert.equal(parseDeviceTime('20261122083000'), NOW);
    assert.equal(parseDeviceTime('20261122013000+0000'), NOW);
    assert.equal(parseDeviceTime('20261122083000.250'), NOW + 250);
    assert.equal(parseDeviceTime(NOW / 1000), NOW);
    assert.equal(parseDeviceTime(NOW), NOW);
    assert.equal(parseDeviceTime('yesterday'), undefined);
  });

  it('converts °F and kPa, rounds to resolution, carries LOINC plus the device coding', () => {
    const n = normaliseDeviceMessage(
      {
        format: 'json',
        deviceId: 'D',
        messageId: '1',
        time: NOW,
        measurements: [
          { path: 'a', code: '8310-5', value: 100.4, unit: '[degF]' },
          { path: 'b', code: '8480-6', value: 16, unit: 'kPa' },
          { path: 'c', code: '150456', system: 'MDC', label: 'MDC_PULS_OXIM_SAT_O2', value: '95.6', unit: '%' },
          { path: 'd', code: 'o2-flow', value: 2, unit: 'L/min' },
        ],
      },
      { now: NOW },
    );
    const by = Object.fromEntries(n.observations.map((o) => [o.sign, o]));
    assert.equal(by.temperature.value, 38);
    assert.equal(by['systolic-bp'].value, 120);
    assert.equal(by.spo2.value, 96);
    assert.deepEqual(by.spo2.codings.map((c) => c.code), ['59408-5', '2708-6', '150456']);
    assert.equal(by['supplemental-oxygen'].value, true, 'an O2 flow implies supplemental oxygen');
    assert.equal(by.spo2.effective, '2026-11-22T01:30:00.000Z');
  });

  it('rejects readings from the future and beyond the lateness limit, keeping the rest', () => {
    const n = normaliseDeviceMessage(
      {
        format: 'json',
        deviceId: 'D',
        messageId: '1',
        time: NOW,
        measurements: [
          { path: 'a', code: 'hr', value: 70, unit: '/min', time: NOW + 10 * 60_000 },
          { path: 'b', code: 'hr', value: 70, unit: '/min', time: NOW - 48 * 3600_000 },
          { path: 'c', code: 'rr', value: 14, unit: '/min' },
        ],
      },
      { now: NOW },
    );
    assert.deepEqual(n.rejected.map((r) => r.reason), [
      'a: timestamp 2026-11-22T01:40:00.000Z is 600 s in the future (device clock?)',
      'b: timestamp 2026-11-20T01:30:00.000Z is older than the 24 h lateness limit',
    ]);
    assert.equal(n.observations.length, 1);
  });

  it('rejects a diastolic not below the systolic as a cuff artefact', () => {
    const n = normaliseDeviceMessage(
      { format: 'json', deviceId: 'D', time: NOW, measurements: [{ path: 's', code: 'sbp', value: 80, unit: 'mm[Hg]' }, { path: 'd', code: 'dbp', value: 95, unit: 'mm[Hg]' }] },
      { now: NOW },
    );
    assert.equal(n.observations.length, 0);
    assert.match(n.rejected[0].reason, /diastolic 95 mm\[Hg\] is not below systolic 80/);
    assert.equal(n.messageId, `t:${NOW}`, 'no message id: the timestamp stands in');
  });
});

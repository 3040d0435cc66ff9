// The IoMT service against a real SQLite file: binding, unassigned holding, idempotency, bad input,
// rate limits, NEWS2 alerts with de-duplication / acknowledgement, silent devices, HIS bed assignment.
import assert from 'node:assert/strict';
import { IomtService, type IngestOutcome } from '../../iomt/service';
import { NORMAL_SET, payload, tempDir, topicFor, type M } from './helpers';

const MIN = 60_000;

describe('iomt/service', () => {
  let tmp: ReturnType<typeof tempDir>;
  let svc: IomtService;

  beforeEach(() => {
    tmp = tempDir();
    svc = new IomtService({ dataDir: tmp.dir, config: { batch: { maxDelayMs: 1, maxSize: 500 } } });
  });
  afterEach(async () => {
    await svc.stop();
    tmp.cleanup();
  });

  const ingest = async (deviceId: string, id: string | number, t: number, ms: M[], bed = 'B01', extra: Record<string, unknown> = {}): Promise<IngestOutcome> => {
    const [o] = await svc.ingestPayload(payload(deviceId, id, t, ms, extra), { topic: topicFor(deviceId, bed) });
    return o;
  };
  const readingsOf = (visitId: string) => (svc.db.prepare('SELECT COUNT(*) AS n FROM readings WHERE visit_id = ?').get(visitId) as { n: number }).n;
  const allReadings = () => (svc.db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;

  it('stores a bound device message as one row per time, with LOINC-mapped columns, and the series reads it back', async () => {
    svc.registry.upsertDevice({ id: 'MON-1', ward: 'ICU', bed: 'B01' });
    const t0 = Date.now() - 10 * MIN;
    svc.registry.bind({ deviceId: 'MON-1', visitId: 'V1', patientId: 'P1', from: t0 });
    const o = await ingest('MON-1', 'm1', Date.now(), NORMAL_SET);
    assert.equal(o.status, 'stored');
    assert.deepEqual(o.status === 'stored' && o.visitIds, ['V1']);
    const row = svc.db.prepare('SELECT * FROM readings WHERE visit_id = ?').get('V1') as Record<string, unknown>;
    assert.deepEqual([row.hr, row.rr, row.spo2, row.sbp, row.dbp, row.temp, row.acvpu, row.o2], [72, 16, 97, 125, 80, 36.8, 'A', 0]);
    const raw = svc.series('V1', 'heart-rate', t0, Date.now() + MIN, 0);
    assert.equal(raw.length, 1);
    const perMinute = svc.series('V1', 'spo2', t0, Date.now() + MIN, MIN) as Array<{ mean: number; n: number }>;
    assert.deepEqual([perMinute.length, perMinute[0].n, perMinute[0].mean], [1, 1, 97]);
  });

  it('stores a repeated message id once (duplicate), whatever the payload says the second time', async () => {
    svc.registry.upsertDevice({ id: 'MON-1' });
    svc.registry.bind({ deviceId: 'MON-1', visitId: 'V1', patientId: 'P1', from: Date.now() - MIN });
    const t = Date.now();
    assert.equal((await ingest('MON-1', 'same', t, NORMAL_SET)).status, 'stored');
    assert.equal((await ingest('MON-1', 'same', t, NORMAL_SET)).status, 'duplicate');
    assert.equal((await ingest('MON-1', 'same', t, [{ code: 'hr', value: 99, unit: '/min' }])).status, 'duplicate');
    assert.equal(readingsOf('V1'), 1);
  });

  it('holds readings of an unbound device as unassigned with the reason; they never reach a patient', async () => {
    svc.registry.upsertDevice({ id: 'MON-2', ward: 'ICU', bed: 'B02' });
    const o = await ingest('MON-2', 1, Date.now() - 5000, NORMAL_SET, 'B02');
    assert.equal(o.status, 'unassigned');
    assert.match(o.status === 'unassigned' ? o.reason : '', /MON-2 is not bound to any visit/);
    // An unknown device is discovered, never bound.
    const u = await ingest('STRANGER', 1, Date.now() - 5000, NORMAL_SET, 'B09');
    assert.equal(u.status, 'unassigned');
    assert.equal(svc.registry.device('STRANGER')?.status, 'discovered');
    assert.equal(allReadings(), 0);
    // Binding later attaches only readings taken after the binding started.
    svc.registry.bind({ deviceId: 'MON-2', visitId: 'V2', patientId: 'P2' });
    const early = await ingest('MON-2', 2, Date.now() - 60_000, NORMAL_SET, 'B02');
    assert.equal(early.status, 'unassigned');
    assert.match(early.status === 'unassigned' ? early.reason : '', /was not bound at .* \(first binding starts/);
    assert.equal((await ingest('MON-2', 3, Date.now(), NORMAL_SET, 'B02')).status, 'stored');
    assert.equal(readingsOf('V2'), 1);
    const held = svc.listUnassigned({ deviceId: 'MON-2' });
    assert.equal(held.length, 2);
    assert.ok(held.every((h) => typeof h.reason === 'string' && (h.reason as string).length > 0));
    assert.equal(svc.alerts.activeAlert('unassigned:STRANGER')?.kind, 'unassigned-data');
  });

  it('attributes a late reading by its own timestamp: before an unbind it goes to the earlier patient', async () => {
    svc.registry.upsertDevice({ id: 'MON-3' });
    const now = Date.now();
    svc.registry.bind({ deviceId: 'MON-3', visitId: 'VA', patientId: 'PA', from: now - 30 * MIN });
    svc.registry.unbind('MON-3', { at: now - 10 * MIN, reason: 'patient discharged' });
    svc.registry.bind({ deviceId: 'MON-3', visitId: 'VB', patientId: 'PB', from: now - 5 * MIN });
    // Arrives now, taken 20 min ago (store-and-forward after a network outage): belongs to VA.
    const late = await ingest('MON-3', 'late', now - 20 * MIN, NORMAL_SET);
    assert.deepEqual(late.status === 'stored' && late.visitIds, ['VA']);
    // Taken between the two bindings: nobody's.
    const gap = await ingest('MON-3', 'gap', now - 7 * MIN, NORMAL_SET);
    assert.equal(gap.status, 'unassigned');
    assert.match(gap.status === 'unassigned' ? gap.reason : '', /binding to visit VA ended .*patient discharged/);
    const current = await ingest('MON-3', 'now', now, NORMAL_SET);
    assert.deepEqual(current.status === 'stored' && current.visitIds, ['VB']);
    // Out of order: an older value does not replace the newer one in the NEWS2 state.
    await ingest('MON-3', 'older', now - 1 * MIN, [{ code: 'hr', value: 150, unit: '/min' }]);
    assert.equal(svc.news2.latest('VB')['heart-rate']?.value, 72);
  });

  it('refuses overlapping bindings and binding a device already bound elsewhere', () => {
    svc.registry.upsertDevice({ id: 'MON-4' });
    svc.registry.bind({ deviceId: 'MON-4', visitId: 'V1', patientId: 'P1' });
    assert.throws(() => svc.registry.bind({ deviceId: 'MON-4', visitId: 'V2', patientId: 'P2' }), /bound to visit V1 .*unbind it first/);
    assert.equal(svc.registry.bind({ deviceId: 'MON-4', visitId: 'V1', patientId: 'P1' }).visitId, 'V1'); // repeat is harmless
    assert.throws(() => svc.registry.bind({ deviceId: 'NOPE', visitId: 'V1', patientId: 'P1' }), /not registered/);
    const b = svc.registry.bind({ deviceId: 'MON-4', visitId: 'V2', patientId: 'P2', replace: true });
    assert.equal(b.visitId, 'V2');
    assert.equal(svc.registry.listBindings({ deviceId: 'MON-4' }).length, 2);
  });

  it('quarantines what cannot be read, with a reason naming the field, and keeps the bytes', async () => {
    svc.registry.upsertDevice({ id: 'MON-5' });
    const q1 = (await svc.ingestPayload(Buffer.from('{"deviceId": "MON-5", '), { topic: topicFor('MON-5') }))[0];
    assert.equal(q1.status, 'quarantined');
    assert.match(q1.status === 'quarantined' ? q1.reason : '', /invalid JSON/);
    const q2 = (await svc.ingestPayload(Buffer.from(JSON.stringify({ deviceId: 'MON-5', messageId: 1, time: new Date().toISOString(), measurements: [{ code: 'hr' }] })), { topic: topicFor('MON-5') }))[0];
    assert.match(q2.status === 'quarantined' ? q2.reason : '', /measurements\[0\]\.value/);
    const huge = Buffer.alloc(200_000, 0x20);
    huge.write('{"deviceId":"MON-5"');
    const q3 = (await svc.ingestPayload(huge, { topic: topicFor('MON-5') }))[0];
    assert.match(q3.status === 'quarantined' ? q3.reason : '', /200000 bytes exceeds the 65536-byte limit/);
    const q4 = (await svc.ingestPayload(Buffer.from('hello'), { topic: 'gateway/MON-5' }))[0];
    assert.match(q4.status === 'quarantined' ? q4.reason : '', /neither the JSON contract/);
    const q5 = (await svc.ingestPayload(payload('OTHER', 1, Date.now(), NORMAL_SET), { topic: topicFor('MON-5') }))[0];
    assert.match(q5.status === 'quarantined' ? q5.reason : '', /deviceId "OTHER" does not match the topic's device "MON-5"/);
    const rows = svc.listQuarantine({ deviceId: 'MON-5' });
    assert.equal(rows.length, 4);
    assert.ok(rows.some((r) => r.payload === '{"deviceId": "MON-5", '), 'the bad bytes are kept');
    assert.equal((rows.find((r) => r.kind === 'too-large') as { payload_size: number }).payload_size, 200_000);
    assert.equal(svc.alerts.activeAlert('invalid:MON-5')?.kind, 'invalid-payload');
  });

  it('rejects impossible values, unknown codes and wrong units one by one; the rest of the message is stored', async () => {
    svc.registry.upsertDevice({ id: 'MON-6' });
    svc.registry.bind({ deviceId: 'MON-6', visitId: 'V6', patientId: 'P6', from: Date.now() - MIN });
    const o = await ingest('MON-6', 'bad', Date.now(), [
      { code: '59408-5', value: 130, unit: '%' },
      { code: '8867-4', value: -5, unit: '/min' },
      { code: '9279-1', value: 18, unit: 'mm[Hg]' },
      { code: '12345-6', value: 1, unit: 'x' },
      { code: '8310-5', value: 98.6, unit: '[degF]' },
      { code: '8480-6', value: 120, unit: 'mmHg' },
    ]);
    assert.equal(o.status, 'stored');
    const reasons = o.status === 'stored' ? o.rejected.map((r) => r.reason) : [];
    assert.equal(reasons.length, 4);
    assert.match(reasons[0], /measurements\[0\]: Oxygen saturation by pulse oximetry 130 % is outside the possible range 0–100 %/);
    assert.match(reasons[1], /measurements\[1\]: Heart rate -5 \/min is outside the possible range 0–350/);
    assert.match(reasons[2], /measurements\[2\]: unit "mm\[Hg\]" is not valid for 9279-1 \(Respiratory rate\); expected \/min/);
    assert.match(reasons[3], /measurements\[3\]: unknown code "12345-6"/);
    const row = svc.db.prepare('SELECT temp, sbp, hr, spo2 FROM readings WHERE visit_id = ?').get('V6') as Record<string, unknown>;
    assert.deepEqual(row, { temp: 37, sbp: 120, hr: null, spo2: null });
    assert.equal(svc.listQuarantine({ deviceId: 'MON-6' }).length, 4);
    assert.equal(svc.alerts.activeAlert('implausible:MON-6:spo2')?.category, 'technical');
    // A plausible value of the same parameter clears the technical alert.
    await ingest('MON-6', 'good', Date.now(), [{ code: '59408-5', value: 96, unit: '%' }]);
    assert.equal(svc.alerts.activeAlert('implausible:MON-6:spo2'), undefined);
  });

  it('rate-limits a flooding device; another device keeps streaming; the drop is reported once with a count', async () => {
    await svc.stop();
    svc = new IomtService({ dataDir: tmp.dir, config: { rateLimit: { ratePerSecond: 5, burst: 10 }, batch: { maxDelayMs: 1 } } });
    svc.registry.upsertDevice({ id: 'FLOOD' });
    svc.registry.upsertDevice({ id: 'CALM' });
    svc.registry.bind({ deviceId: 'FLOOD', visitId: 'VF', patientId: 'PF', from: Date.now() - MIN });
    svc.registry.bind({ deviceId: 'CALM', visitId: 'VC', patientId: 'PC', from: Date.now() - MIN });
    const t = Date.now();
    const flood = await Promise.all(Array.from({ length: 200 }, (_, i) => ingest('FLOOD', `f${i}`, t - i, [{ code: 'hr', value: 80, unit: '/min' }])));
    const calm = await Promise.all(Array.from({ length: 5 }, (_, i) => ingest('CALM', `c${i}`, t - i * 1000, [{ code: 'hr', value: 70, unit: '/min' }])));
    const stored = flood.filter((o) => o.status === 'stored').length;
    assert.ok(stored >= 10 && stored <= 12, `burst of ~10 stored, got ${stored}`);
    assert.match((flood.find((o) => o.status === 'rate-limited') as { reason: string }).reason, /FLOOD exceeded 5 messages\/s/);
    assert.ok(calm.every((o) => o.status === 'stored'), 'the other device is not limited');
    svc.housekeeping();
    const report = svc.listQuarantine({ deviceId: 'FLOOD', kind: 'rate-limit' });
    assert.equal(report.length, 1);
    assert.equal(report[0].occurrences, 200 - stored);
    assert.equal(svc.alerts.activeAlert('flood:FLOOD')?.kind, 'device-flood');
  });

  it('does not mistake a backlog re-sent after an outage for a flood (limits run on the device clock)', async () => {
    await svc.stop();
    svc = new IomtService({ dataDir: tmp.dir, config: { rateLimit: { ratePerSecond: 2, burst: 5 }, batch: { maxDelayMs: 1 } } });
    svc.registry.upsertDevice({ id: 'BACKLOG' });
    const t0 = Date.now() - 20 * MIN;
    svc.registry.bind({ deviceId: 'BACKLOG', visitId: 'VB', patientId: 'PB', from: t0 - MIN });
    // 20 minutes of one-per-second readings arrive within a moment.
    const outcomes = await Promise.all(Array.from({ length: 1200 }, (_, i) => ingest('BACKLOG', `b${i}`, t0 + i * 1000, [{ code: 'hr', value: 75, unit: '/min' }])));
    assert.equal(outcomes.filter((o) => o.status === 'stored').length, 1200);
  });

  it('reads the compact wearable array (single row and batch) with seq@time message ids', async () => {
    svc.registry.upsertDevice({ id: 'WB-1' });
    svc.registry.bind({ deviceId: 'WB-1', visitId: 'VW', patientId: 'PW', from: Date.now() - 10 * MIN });
    const s = Math.floor(Date.now() / 1000);
    const single = await svc.ingestPayload(Buffer.from(JSON.stringify(['WB-1', 7, s, 88, 95, 18, 37.2, null, null])), { topic: topicFor('WB-1', 'B01', 'ICU', 'compact') });
    assert.equal(single[0].status, 'stored');
    const batch = await svc.ingestPayload(Buffer.from(JSON.stringify([['WB-1', 8, s - 60, 90, 94], ['WB-1', 9, s - 30, 91, 93], ['WB-1', 7, s, 88, 95, 18, 37.2]])));
    assert.deepEqual(batch.map((o) => o.status), ['stored', 'stored', 'duplicate']);
    assert.equal(readingsOf('VW'), 3);
    const bad = await svc.ingestPayload(Buffer.from(JSON.stringify(['WB-1', -1, s, 88])));
    assert.match(bad[0].status === 'quarantined' ? bad[0].reason : '', /compact format\[1\]: sequence must be a non-negative integer/);
  });

  it('holds a reading unassigned when the device reports another patient, or reports from another bed than registered (bed mode)', async () => {
    svc.registry.upsertDevice({ id: 'MON-7', ward: 'ICU', bed: 'B07', bindMode: 'bed' });
    svc.registry.bind({ deviceId: 'MON-7', visitId: 'V7', patientId: 'P7', from: Date.now() - MIN });
    const wrongPatient = await ingest('MON-7', 1, Date.now(), NORMAL_SET, 'B07', { patientId: 'SOMEONE-ELSE' });
    assert.match(wrongPatient.status === 'unassigned' ? wrongPatient.reason : '', /reports patient SOMEONE-ELSE but is bound to visit V7 of patient P7/);
    const moved = await ingest('MON-7', 2, Date.now(), NORMAL_SET, 'B09');
    assert.match(moved.status === 'unassigned' ? moved.reason : '', /topic says bed ICU\/B09 but device MON-7 is registered at ICU\/B07/);
    assert.equal((await ingest('MON-7', 3, Date.now(), NORMAL_SET, 'B07', { patientId: 'P7' })).status, 'stored');
    assert.equal(readingsOf('V7'), 1);
  });

  it('follows HIS bed assignments: admit binds bed devices, transfer moves, discharge unbinds; manual devices are untouched', async () => {
    svc.registry.upsertDevice({ id: 'BED1-MON', ward: 'W1', bed: '01', bindMode: 'bed' });
    svc.registry.upsertDevice({ id: 'BED2-MON', ward: 'W1', bed: '02', bindMode: 'bed' });
    svc.registry.upsertDevice({ id: 'WEAR', ward: 'W1', bed: '01', bindMode: 'manual' });
    const t = Date.now() - 30 * MIN;
    const a = svc.registry.applyBedAssignment({ visitId: 'VX', patientId: 'PX', ward: 'W1', bed: '01', event: 'assign', at: t });
    assert.deepEqual(a.bound.map((b) => b.deviceId), ['BED1-MON']);
    assert.equal(svc.registry.openBinding('WEAR'), undefined);
    // Repeating the same assignment (a HIS poll) changes nothing.
    assert.deepEqual(svc.registry.applyBedAssignment({ visitId: 'VX', patientId: 'PX', ward: 'W1', bed: '01', event: 'assign', at: t + MIN }).bound, []);
    // Transfer to bed 02.
    const tr = svc.registry.applyBedAssignment({ visitId: 'VX', patientId: 'PX', ward: 'W1', bed: '02', event: 'assign', at: t + 10 * MIN });
    assert.deepEqual(tr.unbound.map((b) => b.deviceId), ['BED1-MON']);
    assert.deepEqual(tr.bound.map((b) => b.deviceId), ['BED2-MON']);
    // Another patient takes bed 01.
    svc.registry.applyBedAssignment({ visitId: 'VY', patientId: 'PY', ward: 'W1', bed: '01', event: 'assign', at: t + 12 * MIN });
    assert.equal(svc.registry.openBinding('BED1-MON')?.visitId, 'VY');
    // Readings go by time: bed-01 monitor 5 min after admission → VX; after VY arrived → VY.
    const r1 = await ingest('BED1-MON', 'a', t + 5 * MIN, NORMAL_SET, '01');
    const r2 = await ingest('BED1-MON', 'b', t + 20 * MIN, NORMAL_SET, '01');
    assert.deepEqual([r1.status === 'stored' && r1.visitIds[0], r2.status === 'stored' && r2.visitIds[0]], ['VX', 'VY']);
    const rel = svc.registry.applyBedAssignment({ visitId: 'VX', patientId: 'PX', ward: 'W1', bed: '02', event: 'release', at: t + 25 * MIN });
    assert.deepEqual(rel.unbound.map((b) => b.deviceId), ['BED2-MON']);
    assert.equal(svc.registry.openBinding('BED2-MON'), undefined);
  });

  it('NEWS2: alerts from a complete set, de-duplicates repeats, escalates, takes an acknowledgement and resolves', async () => {
    await svc.stop();
    svc = new IomtService({ dataDir: tmp.dir, config: { batch: { maxDelayMs: 1 }, news2: { resolveAfterMs: 2 * MIN } } });
    const events: string[] = [];
    svc.alerts.listeners.push((e, a) => events.push(`${e}:${a.level ?? a.kind}`));
    svc.registry.upsertDevice({ id: 'MON-8', ward: 'ICU', bed: 'B08' });
    const t0 = Date.now() - 20 * MIN;
    svc.registry.bind({ deviceId: 'MON-8', visitId: 'V8', patientId: 'P8', patientName: 'Nguyễn Văn An', from: t0 });
    const set = (over: Record<string, number | string | boolean>) => NORMAL_SET.map((m) => (m.code in over ? { ...m, value: over[m.code] } : m));
    // Without ACVPU and oxygen there is no complete set: no score.
    await ingest('MON-8', 0, t0 + MIN, NORMAL_SET.slice(0, 6), 'B08');
    assert.equal(svc.currentNews2('V8').complete, false);
    assert.deepEqual((svc.currentNews2('V8') as { missing: string[] }).missing, ['consciousness', 'supplemental-oxygen']);
    await ingest('MON-8', 1, t0 + 2 * MIN, NORMAL_SET, 'B08');
    assert.equal((svc.currentNews2('V8') as { result: { total: number } }).result.total, 0);
    // A single red score (new confusion): low-medium.
    await ingest('MON-8', 2, t0 + 3 * MIN, set({ acvpu: 'C' }), 'B08');
    await ingest('MON-8', 3, t0 + 4 * MIN, set({ acvpu: 'C' }), 'B08');
    const alert = svc.alerts.activeAlert('news2:V8')!;
    assert.equal(alert.level, 'low-medium');
    assert.equal(alert.occurrences, 2);
    assert.match(alert.message, /NEWS2 3 \(low-medium risk, single parameter scored 3\) for patient P8 Nguyễn Văn An, visit V8, bed ICU\/B08/);
    svc.alerts.acknowledge(alert.id, 'nurse.lan');
    assert.equal(svc.alerts.activeAlert('news2:V8')?.status, 'acknowledged');
    // Same level again: still acknowledged, no new notification.
    await ingest('MON-8', 4, t0 + 5 * MIN, set({ acvpu: 'C' }), 'B08');
    assert.equal(svc.alerts.activeAlert('news2:V8')?.status, 'acknowledged');
    // Deterioration to high: escalates (needs a new acknowledgement).
    await ingest('MON-8', 5, t0 + 6 * MIN, set({ acvpu: 'C', '9279-1': 26, '8867-4': 125, '59408-5': 93 }), 'B08');
    const high = svc.alerts.activeAlert('news2:V8')!;
    assert.deepEqual([high.level, high.severity, high.status, high.id], ['high', 'emergency', 'open', alert.id]);
    // Recovery: resolves only after the score stayed below the threshold for resolveAfterMs.
    await ingest('MON-8', 6, t0 + 7 * MIN, NORMAL_SET, 'B08');
    assert.ok(svc.alerts.activeAlert('news2:V8'));
    await ingest('MON-8', 7, t0 + 10 * MIN, NORMAL_SET, 'B08');
    assert.equal(svc.alerts.activeAlert('news2:V8'), undefined);
    assert.deepEqual(events.filter((e) => !e.startsWith('raised:unassigned')), ['raised:low-medium', 'acknowledged:low-medium', 'escalated:high', 'resolved:high']);
    // Stored when the score changes or a minute after the last stored one (readings here are a minute apart).
    const history = svc.news2History('V8', t0, Date.now());
    assert.deepEqual(history.map((h) => h.total), [0, 3, 3, 3, 10, 0, 0]);
  });

  it('NEWS2 uses the visit\'s SpO2 scale (scale 2 set by a clinician)', async () => {
    svc.registry.upsertDevice({ id: 'MON-9' });
    svc.registry.bind({ deviceId: 'MON-9', visitId: 'V9', patientId: 'P9', from: Date.now() - MIN });
    await ingest('MON-9', 1, Date.now(), NORMAL_SET.map((m) => (m.code === '59408-5' ? { ...m, value: 89 } : m)));
    assert.equal((svc.currentNews2('V9') as { result: { components: { spo2: number } } }).result.components.spo2, 3);
    assert.equal(svc.alerts.activeAlert('news2:V9')?.level, 'low-medium');
    svc.setSpo2Scale('V9', 2, 'dr.minh');
    const ev = svc.currentNews2('V9') as { result: { components: { spo2: number }; spo2Scale: number } };
    assert.deepEqual([ev.result.components.spo2, ev.result.spo2Scale], [0, 2]);
  });

  it('raises a technical alert for a bound device that went silent, and clears it when data resumes', async () => {
    svc.registry.upsertDevice({ id: 'MON-10', silentAfterMs: 60_000 });
    svc.registry.bind({ deviceId: 'MON-10', visitId: 'V10', patientId: 'P10', from: Date.now() - 10 * MIN });
    await ingest('MON-10', 1, Date.now() - 5 * MIN, NORMAL_SET);
    svc.checkSilentDevices(Date.now() + 5 * MIN);
    const a = svc.alerts.activeAlert('silent:MON-10');
    assert.equal(a?.kind, 'device-silent');
    assert.match(a!.message, /MON-10 \(bound to visit V10\) has sent nothing for/);
    await ingest('MON-10', 2, Date.now(), NORMAL_SET);
    assert.equal(svc.alerts.activeAlert('silent:MON-10'), undefined);
  });

  it('recovers rollups and NEWS2 state after a restart without double counting', async () => {
    svc.registry.upsertDevice({ id: 'MON-11' });
    const t0 = Date.now() - 3 * MIN;
    svc.registry.bind({ deviceId: 'MON-11', visitId: 'V11', patientId: 'P11', from: t0 - MIN });
    for (let i = 0; i < 30; i++) await ingest('MON-11', i, t0 + i * 5000, [{ code: 'hr', value: 60 + i, unit: '/min' }]);
    const before = svc.series('V11', 'heart-rate', t0 - MIN, Date.now() + MIN, 5 * MIN) as Array<{ n: number; mean: number }>;
    assert.equal(before.reduce((s, p) => s + p.n, 0), 30);
    // Simulate a crash: no orderly stop (in-memory minutes are lost), reopen the same file.
    svc.db.close();
    svc = new IomtService({ dataDir: tmp.dir, config: { batch: { maxDelayMs: 1 } } });
    const after = svc.series('V11', 'heart-rate', t0 - MIN, Date.now() + MIN, 5 * MIN) as Array<{ n: number; mean: number }>;
    assert.deepEqual(after, before);
    assert.equal(svc.news2.latest('V11')['heart-rate']?.value, 89);
    // Redelivery after the restart is still a duplicate.
    assert.equal((await ingest('MON-11', 29, t0 + 29 * 5000, [{ code: 'hr', value: 89, unit: '/min' }])).status, 'duplicate');
    svc.housekeeping(Date.now() + 5 * MIN);
    const flushed = svc.series('V11', 'heart-rate', t0 - MIN, Date.now() + MIN, MIN) as Array<{ n: number }>;
    assert.equal(flushed.reduce((s, p) => s + p.n, 0), 30);
  });

  it('retention drops old readings and idempotency keys without touching recent ones', async () => {
    svc.registry.upsertDevice({ id: 'MON-14' });
    svc.registry.bind({ deviceId: 'MON-14', visitId: 'V14', patientId: 'P14', from: Date.now() - 3 * 3600_000 });
    for (let i = 0; i < 20; i++) await ingest('MON-14', `old${i}`, Date.now() - 2 * 3600_000 + i * 1000, [{ code: 'hr', value: 70, unit: '/min' }]);
    await ingest('MON-14', 'new', Date.now(), [{ code: 'hr', value: 71, unit: '/min' }]);
    const seenBefore = (svc.db.prepare('SELECT COUNT(*) AS n FROM seen_messages').get() as { n: number }).n;
    // 90 days of retention, seen 2 days later: the two-hour-old readings go, today's stay.
    svc.prune(Date.now() + 90 * 86_400_000 - 3600_000);
    assert.equal(readingsOf('V14'), 1);
    svc.prune(Date.now() + 3 * 86_400_000);
    assert.ok((svc.db.prepare('SELECT COUNT(*) AS n FROM seen_messages').get() as { n: number }).n < seenBefore);
  });

  it('assigns held readings to a visit only on an explicit operator action', async () => {
    svc.registry.upsertDevice({ id: 'MON-12' });
    const t = Date.now() - 2 * MIN;
    await ingest('MON-12', 1, t, NORMAL_SET);
    await ingest('MON-12', 2, t + 1000, NORMAL_SET);
    assert.equal(readingsOf('V12'), 0);
    assert.equal(svc.assignUnassigned({ deviceId: 'MON-12', from: t, to: t + 2000, visitId: 'V12', patientId: 'P12', by: 'nurse.lan' }), 2);
    assert.equal(readingsOf('V12'), 2);
    assert.equal(svc.listUnassigned({ deviceId: 'MON-12' }).length, 0);
  });

  it('records nurse-entered ACVPU and oxygen for a visit', async () => {
    svc.registry.upsertDevice({ id: 'MON-13' });
    svc.registry.bind({ deviceId: 'MON-13', visitId: 'V13', patientId: 'P13', from: Date.now() - MIN });
    await ingest('MON-13', 1, Date.now() - 1000, NORMAL_SET.slice(0, 6));
    const o = await svc.recordManual('V13', [{ sign: 'consciousness', value: 'V' }, { sign: 'supplemental-oxygen', value: true }], 'nurse.hoa');
    assert.equal(o.status, 'stored');
    const ev = svc.currentNews2('V13') as { complete: boolean; result: { total: number } };
    assert.equal(ev.complete, true);
    assert.equal(ev.result.total, 5); // V (3) + oxygen (2)
  });
});

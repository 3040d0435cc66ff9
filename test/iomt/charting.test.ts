// Charting into the HIS through the real HIS database connector (SQLite, demo HIS schema): at the
// interval, at once on a significant change, blood pressure as a panel, nothing twice after a restart.
import assert from 'node:assert/strict';
import { HisDatabase } from '../../connectors/his-db/his-database';
import { installHis } from '../../his/demo';
import { loadMapping } from '../../his/mapping/load';
import { VitalsCharter } from '../../iomt/charting';
import { IomtService } from '../../iomt/service';
import { TEST_NOW, createTestDatabase, type TestDatabase } from '../his/helpers';
import { NORMAL_SET, payload, tempDir, topicFor } from './helpers';

const MIN = 60_000;

describe('iomt/charting: vitals into the HIS', function () {
  this.timeout(120_000);
  let tdb: TestDatabase;
  let his: HisDatabase;
  let tmp: ReturnType<typeof tempDir>;
  let svc: IomtService;
  let visit: { maLk: string; patientId: string };

  before(async function () {
    tdb = await createTestDatabase(this, 'sqlite');
    await installHis(tdb.connection, { layout: 'demo-his', seed: 3, visits: 20, today: TEST_NOW });
    his = await HisDatabase.open(tdb.connection, loadMapping('demo-his'), { now: () => TEST_NOW });
    [visit] = await his.visitsForClaims({ from: '2026-01-01T00:00:00+07:00', to: '2027-01-01T00:00:00+07:00', limit: 1 });
  });
  after(async () => {
    await his?.close();
    await tdb?.drop();
  });
  beforeEach(() => {
    tmp = tempDir();
    svc = new IomtService({ dataDir: tmp.dir, config: { batch: { maxDelayMs: 1 } } });
  });
  afterEach(async () => {
    await svc.stop();
    tmp.cleanup();
  });

  const mine = async () => (await his.observationsForVisit(visit.maLk)).filter((o) => o.device?.id === 'MON-C1');

  it('charts the latest values at the interval and on a significant change, once each', async () => {
    const t0 = Date.now() - 30 * MIN;
    svc.registry.upsertDevice({ id: 'MON-C1', ward: 'ICU', bed: 'B01' });
    svc.registry.bind({ deviceId: 'MON-C1', visitId: visit.maLk, patientId: visit.patientId, from: t0 - MIN });
    const charter = new VitalsCharter(svc, () => his, { intervalMs: 15 * MIN, minIntervalMs: MIN });
    for (let i = 0; i < 5; i++) await svc.ingestPayload(payload('MON-C1', `c${i}`, t0 + i * MIN, NORMAL_SET), { topic: topicFor('MON-C1') });

    await charter.tick(t0 + 5 * MIN);
    let stored = await mine();
    // Heart rate, respiratory rate, SpO2, temperature, and systolic + diastolic as the BP panel.
    assert.equal(stored.length, 6);
    const hr = stored.find((o) => o.loinc === '8867-4')!;
    assert.equal(hr.value, 72);
    assert.equal(Date.parse(hr.effectiveAt), Math.floor((t0 + 4 * MIN) / 1000) * 1000);

    // Small changes inside the interval: nothing new is charted.
    await svc.ingestPayload(payload('MON-C1', 'c5', t0 + 6 * MIN, NORMAL_SET.map((m) => (m.code === '8867-4' ? { ...m, value: 80 } : m))), { topic: topicFor('MON-C1') });
    await charter.tick(t0 + 7 * MIN);
    assert.equal((await mine()).length, 6);

    // A significant change (heart rate +40) is charted at once.
    await svc.ingestPayload(payload('MON-C1', 'c6', t0 + 8 * MIN, NORMAL_SET.map((m) => (m.code === '8867-4' ? { ...m, value: 112 } : m))), { topic: topicFor('MON-C1') });
    await charter.tick(t0 + 9 * MIN);
    stored = await mine();
    assert.ok(stored.some((o) => o.loinc === '8867-4' && o.value === 112));

    // After a restart (a new charter, same IoMT database) nothing is written twice.
    const before = stored.length;
    const again = new VitalsCharter(svc, () => his, { intervalMs: 15 * MIN, minIntervalMs: MIN });
    await again.tick(t0 + 10 * MIN);
    assert.equal((await mine()).length, before);

    // At the interval, the latest values are charted again.
    await svc.ingestPayload(payload('MON-C1', 'c7', t0 + 20 * MIN, NORMAL_SET), { topic: topicFor('MON-C1') });
    await again.tick(t0 + 25 * MIN);
    assert.ok((await mine()).length > before);
  });

  it('keeps trying when the HIS write fails, and charts once it works', async () => {
    svc.registry.upsertDevice({ id: 'MON-C1' });
    svc.registry.bind({ deviceId: 'MON-C1', visitId: 'NO-SUCH-VISIT', patientId: 'NOBODY', from: Date.now() - 10 * MIN });
    await svc.ingestPayload(payload('MON-C1', 'x', Date.now() - MIN, NORMAL_SET), { topic: topicFor('MON-C1') });
    let failing = true;
    const charter = new VitalsCharter(svc, () => ({
      writeObservations: (o) => (failing ? Promise.reject(new Error('HIS database unreachable')) : his.writeObservations(o.map((x) => ({ ...x, patientId: visit.patientId, maLk: visit.maLk })))),
    }));
    await charter.tick();
    assert.equal(charter.counters.failures, 1);
    failing = false;
    await charter.tick(Date.now() + 2 * MIN);
    assert.equal(charter.counters.writes, 1);
  });
});

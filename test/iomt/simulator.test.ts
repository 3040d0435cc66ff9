// `hisbridge sim monitors`: realistic vitals the IoMT service accepts, deteriorating patients reaching a
// high NEWS2, and the CLI verb publishing to a broker.
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import { MonitorFleet, monitorsSimVerb, parseRate } from '../../devices/simulators/monitors';
import { startEmbeddedBroker } from '../../iomt/broker';
import { computeNews2 } from '../../iomt/news2';
import { IomtService } from '../../iomt/service';
import { tempDir, waitFor } from './helpers';

describe('devices/simulators/monitors', () => {
  it('parses rates', () => {
    assert.equal(parseRate('1/s'), 1);
    assert.equal(parseRate('30/min'), 0.5);
    assert.equal(parseRate('2'), 2);
    assert.throws(() => parseRate('fast'), /use e.g. 1\/s/);
  });

  it('produces messages the IoMT service stores without rejection, in both formats', async () => {
    const tmp = tempDir();
    const svc = new IomtService({ dataDir: tmp.dir, config: { batch: { maxDelayMs: 1 } } });
    try {
      const fleet = new MonitorFleet({ count: 30, format: 'mixed' });
      for (const p of fleet.patients) {
        svc.registry.upsertDevice({ id: p.deviceId, ward: p.ward, bed: p.bed });
        svc.registry.bind({ deviceId: p.deviceId, visitId: `V-${p.deviceId}`, patientId: `P-${p.deviceId}`, from: Date.now() - 60_000 });
      }
      const outcomes = [];
      for (let k = 0; k < 5; k++) for (const p of fleet.patients) outcomes.push(...(await svc.ingestPayload(fleet.message(p, Date.now() - (5 - k) * 1000), { topic: fleet.topic(p) })));
      assert.deepEqual([...new Set(outcomes.map((o) => o.status))], ['stored']);
      assert.ok(outcomes.every((o) => o.status === 'stored' && o.rejected.length === 0));
      assert.ok(fleet.patients.some((p) => p.format === 'compact') && fleet.patients.some((p) => p.format === 'json'));
    } finally {
      await svc.stop();
      tmp.cleanup();
    }
  });

  it('deteriorating patients go from low to high NEWS2 over the deterioration time; stable ones stay low', () => {
    const start = Date.now();
    const fleet = new MonitorFleet({ count: 20, deterioratingShare: 0.1, deteriorationMinutes: 10 }, start);
    const sick = fleet.patients.filter((p) => p.deteriorating);
    assert.equal(sick.length, 2);
    const score = (p: (typeof fleet.patients)[number], t: number) => {
      const v = fleet.vitals(p, t);
      return computeNews2({ respiratoryRate: v.rr, spo2: v.spo2, onOxygen: v.onOxygen, systolicBp: v.sbp, pulse: v.hr, consciousness: v.acvpu, temperature: v.temp });
    };
    for (const p of sick) {
      assert.ok(score(p, start).total <= 4, 'starts low');
      assert.equal(score(p, start + 12 * 60_000).risk, 'high');
    }
    for (const p of fleet.patients.filter((x) => !x.deteriorating)) assert.ok(score(p, start + 12 * 60_000).total <= 4, `${p.deviceId} stays low`);
  });

  it('the CLI verb publishes count × messages over MQTT and prints the totals', async () => {
    const broker = await startEmbeddedBroker({ port: 0 });
    const sub = await mqtt.connectAsync(broker.url);
    let got = 0;
    sub.on('message', () => got++);
    await sub.subscribeAsync('hospital/#', { qos: 1 });
    const out: string[] = [];
    const write = process.stdout.write.bind(process.stdout);
    const errWrite = process.stderr.write.bind(process.stderr);
    (process.stdout as { write: unknown }).write = (s: string) => (out.push(String(s)), true);
    (process.stderr as { write: unknown }).write = () => true;
    let code: number;
    try {
      code = await monitorsSimVerb.run(['--count', '8', '--rate', '20/s', '--messages', '3', '--url', broker.url, '--format', 'mixed']);
    } finally {
      (process.stdout as { write: unknown }).write = write;
      (process.stderr as { write: unknown }).write = errWrite;
    }
    try {
      assert.equal(code, 0);
      const stats = JSON.parse(out.join(''));
      assert.deepEqual([stats.published, stats.acknowledged, stats.failed, stats.devices], [24, 24, 0, 8]);
      await waitFor(() => got === 24);
      assert.equal(await monitorsSimVerb.run(['--format', 'xml']), 2);
    } finally {
      await sub.endAsync();
      await broker.close();
    }
  });
});

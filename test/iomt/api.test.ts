// The /api/iomt routes in a whole application (engine, users, the IoMT module with its embedded broker):
// role checks, device registration and binding, vitals series, NEWS2, alert acknowledgement and the
// MQTT alert topic ward displays read.
import assert from 'node:assert/strict';
import mqtt from 'mqtt';
import type { EmbeddedBroker } from '../../iomt/broker';
import { IOMT_BROKER_SERVICE, iomtModule } from '../../iomt/module';
import { startTestApp, type TestApp } from '../helpers/app';
import { NORMAL_SET, payload, topicFor, waitFor } from './helpers';

describe('iomt/api: /api/iomt in the application', function () {
  let app: TestApp;
  let broker: EmbeddedBroker;
  let operator: string;
  let viewer: string;

  before(async () => {
    app = await startTestApp({ modules: [iomtModule({ broker: { port: 0 }, config: { batch: { maxDelayMs: 2 } } })] });
    broker = app.engine.lookup<EmbeddedBroker>(IOMT_BROKER_SERVICE)!;
    operator = await app.tokenFor('operator');
    viewer = await app.tokenFor('viewer');
  });
  after(async () => {
    await app?.cleanup();
  });

  it('needs a token, and a role that may manage devices', async () => {
    assert.equal((await app.api('GET', '/api/iomt/devices')).status, 401);
    assert.equal((await app.api('GET', '/api/iomt/devices', viewer)).status, 403);
    assert.equal((await app.api('GET', '/api/iomt/devices', operator)).status, 200);
  });

  it('registers and binds a monitor, streams vitals over the embedded broker, charts them and alerts ward displays', async () => {
    const put = await app.api('PUT', '/api/iomt/devices/MON-A1', operator, { ward: 'ICU', bed: 'B01', model: 'IntelliVue MX500' });
    assert.equal(put.status, 200);
    assert.equal(put.body.device.status, 'registered');
    const badBind = await app.api('POST', '/api/iomt/bindings', operator, { deviceId: 'MON-A1', visitId: 'VA1' });
    assert.deepEqual([badBind.status, badBind.body.field], [400, 'patientId']);
    const from = Date.now() - 10 * 60_000;
    const bind = await app.api('POST', '/api/iomt/bindings', operator, { deviceId: 'MON-A1', visitId: 'VA1', patientId: 'PA1', patientName: 'Lê Văn Cường', from: new Date(from).toISOString() });
    assert.equal(bind.status, 201);
    const again = await app.api('POST', '/api/iomt/bindings', operator, { deviceId: 'MON-A1', visitId: 'VA2', patientId: 'PA2' });
    assert.equal(again.status, 409);
    assert.match(again.body.error, /bound to visit VA1/);

    // A ward display listens for alerts.
    const display = await mqtt.connectAsync(broker.url, { clientId: 'ward-display' });
    const shown: Array<{ event: string; alert: { level?: string; ward?: string } }> = [];
    display.on('message', (_t, p) => shown.push(JSON.parse(p.toString())));
    await display.subscribeAsync('hospital/+/ward/ICU/alerts', { qos: 1 });

    const device = await mqtt.connectAsync(broker.url, { clientId: 'MON-A1' });
    const deteriorating = NORMAL_SET.map((m) => (m.code === '9279-1' ? { ...m, value: 27 } : m.code === '8867-4' ? { ...m, value: 135 } : m));
    for (let i = 0; i < 5; i++) await device.publishAsync(topicFor('MON-A1', 'B01'), payload('MON-A1', `a${i}`, from + 60_000 * (i + 1), i < 3 ? NORMAL_SET : deteriorating), { qos: 1 });
    await device.endAsync();
    await waitFor(async () => (await app.api('GET', '/api/iomt/visits/VA1/vitals?sign=heart-rate&resolution=raw', operator)).body.series['heart-rate'].length === 5, 10_000, '5 readings');

    const perMinute = await app.api('GET', `/api/iomt/visits/VA1/vitals?resolution=1h&from=${from}`, operator);
    assert.equal(perMinute.status, 200);
    const hr = perMinute.body.series['heart-rate'] as Array<{ n: number; max: number }>;
    assert.equal(hr.reduce((s, p) => s + p.n, 0), 5);
    assert.equal(Math.max(...hr.map((p) => p.max)), 135);

    const news2 = await app.api('GET', '/api/iomt/visits/VA1/news2', operator);
    assert.equal(news2.body.current.complete, true);
    assert.equal(news2.body.current.result.total, 6); // RR 27 (3) + pulse 135 (3)
    assert.equal(news2.body.current.result.risk, 'medium');

    const alerts = await app.api('GET', '/api/iomt/alerts?status=active&category=clinical', operator);
    assert.equal(alerts.body.alerts.length, 1);
    const alert = alerts.body.alerts[0];
    assert.equal(alert.level, 'medium');
    const ack = await app.api('POST', `/api/iomt/alerts/${alert.id}/acknowledge`, operator);
    assert.equal(ack.body.alert.status, 'acknowledged');
    assert.equal((await app.api('POST', '/api/iomt/alerts/99999/acknowledge', operator)).status, 404);

    await waitFor(() => shown.some((s) => s.event === 'acknowledged'), 10_000, 'the ward display to see the acknowledgement');
    assert.deepEqual(shown.filter((s) => s.alert.level).map((s) => `${s.event}:${s.alert.level}`), ['raised:medium', 'acknowledged:medium']);
    await display.endAsync();

    // SpO2 scale 2 is a clinical choice, recorded and applied at once.
    const scale = await app.api('PUT', '/api/iomt/visits/VA1/spo2-scale', operator, { scale: 2 });
    assert.equal(scale.body.current.result.spo2Scale, 2);
    // The audit log names who bound the device to which patient.
    const audit = await app.api('GET', '/api/audit?action=iomt-bind', await app.tokenFor('admin'));
    assert.ok(audit.body.entries.some((e: { patientId: string }) => e.patientId === 'PA1'));
  });

  it('lists held readings and the quarantine; unbinding stops attribution', async () => {
    const device = await mqtt.connectAsync(broker.url, { clientId: 'MON-A9' });
    await device.publishAsync(topicFor('MON-A9', 'B09'), payload('MON-A9', 'x1', Date.now(), NORMAL_SET), { qos: 1 });
    await device.publishAsync(topicFor('MON-A9', 'B09'), Buffer.from('{not json'), { qos: 1 });
    await device.endAsync();
    await waitFor(async () => (await app.api('GET', '/api/iomt/unassigned?deviceId=MON-A9', operator)).body.readings.length === 1, 10_000, 'held reading');
    await waitFor(async () => (await app.api('GET', '/api/iomt/quarantine?deviceId=MON-A9', operator)).body.entries.length === 1, 10_000, 'quarantine');
    const discovered = await app.api('GET', '/api/iomt/devices?status=discovered', operator);
    assert.ok(discovered.body.devices.some((d: { id: string }) => d.id === 'MON-A9'));
    const unbind = await app.api('POST', '/api/iomt/devices/MON-A1/unbind', operator, { reason: 'patient discharged' });
    assert.equal(unbind.body.binding.endedReason, 'patient discharged');
    assert.equal((await app.api('POST', '/api/iomt/devices/MON-A1/unbind', operator, {})).status, 409);
    assert.equal((await app.api('GET', '/api/iomt/nothing', operator)).status, 404);
  });
});

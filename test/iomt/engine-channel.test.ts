// End to end through the Engine: mosquitto_pub → Mosquitto → mqtt source → engine store →
// iomt-vitals → IoMT service; HIS bed assignments through an HTTP channel → iomt-bed-assignment.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { iomtVitalsChannel } from '../../iomt/channel';
import { IOMT_SERVICE, IomtService } from '../../iomt/service';
import { freePort, post, startTestEngine, type TestEngine } from '../helpers/engine';
import { requirePeers } from '../helpers/peers';
import { NORMAL_SET, payload, topicFor, waitFor } from './helpers';
import { MosquittoProcess } from './mosquitto-runner';

const run = promisify(execFile);

describe('iomt: vitals channel through the engine', function () {
  let mosq: MosquittoProcess;
  let te: TestEngine;
  let iomt: IomtService;
  let httpPort: number;

  before(async function () {
    requirePeers(this, 'mosquitto', 'mosquitto_pub');
    mosq = new MosquittoProcess();
    await mosq.start();
    te = await startTestEngine();
    iomt = new IomtService({ dataDir: te.dataDir, config: { batch: { maxDelayMs: 2 } } });
    te.engine.registerService(IOMT_SERVICE, iomt);
    await te.engine.deployChannel(iomtVitalsChannel({ mqtt: { url: mosq.url, clientId: 'engine-e2e' } }));
    httpPort = await freePort();
    await te.engine.deployChannel({
      id: 'his-beds',
      name: 'HIS bed assignments',
      source: { connector: 'http', config: { port: httpPort } },
      destinations: [{ name: 'beds', connector: 'iomt-bed-assignment', queue: { orderBy: 'channel' } }],
    });
  });
  after(async () => {
    await te?.cleanup();
    await iomt?.stop();
    await mosq?.dispose();
  });

  const readings = (visitId: string) => (iomt.db.prepare('SELECT COUNT(*) AS n FROM readings WHERE visit_id = ?').get(visitId) as { n: number }).n;

  it('a bed assignment from the HIS binds the bed monitor; mosquitto_pub readings reach that patient only', async () => {
    iomt.registry.upsertDevice({ id: 'MON-E1', ward: 'ICU', bed: 'B01', bindMode: 'bed' });
    const at = new Date(Date.now() - 60_000).toISOString();
    const res = await post(`http://127.0.0.1:${httpPort}/`, JSON.stringify({ visitId: 'VE1', patientId: 'PE1', patientName: 'Trần Thị Bình', ward: 'ICU', bed: 'B01', event: 'assign', at }), { 'content-type': 'application/json' });
    assert.equal(res.status, 200);
    await waitFor(() => iomt.registry.openBinding('MON-E1')?.visitId === 'VE1', 10_000, 'the bed binding');
    const body = payload('MON-E1', 'e1-1', Date.now(), NORMAL_SET).toString();
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mosq.port), '-q', '1', '-t', topicFor('MON-E1', 'B01'), '-m', body]);
    await waitFor(() => readings('VE1') === 1, 10_000, 'the reading');
    // The engine kept the raw device message, and the destination's answer says what happened.
    const found = await te.engine.store.search({ channelId: 'iomt-vitals', limit: 10 });
    assert.ok(JSON.stringify(found).includes('MON-E1'));
  });

  it('an unbound monitor\'s readings are held unassigned; a bad payload is quarantined; neither reaches a patient', async () => {
    iomt.registry.upsertDevice({ id: 'MON-E2', ward: 'ICU', bed: 'B02' });
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mosq.port), '-q', '1', '-t', topicFor('MON-E2', 'B02'), '-m', payload('MON-E2', 'e2-1', Date.now(), NORMAL_SET).toString()]);
    await run('mosquitto_pub', ['-h', '127.0.0.1', '-p', String(mosq.port), '-q', '1', '-t', topicFor('MON-E2', 'B02'), '-m', '{"deviceId":"MON-E2","measurements":[{"code":"hr","value":"fast"}]']);
    await waitFor(() => iomt.listUnassigned({ deviceId: 'MON-E2' }).length === 1 && iomt.listQuarantine({ deviceId: 'MON-E2' }).length === 1, 10_000, 'held and quarantined');
    assert.match(String(iomt.listUnassigned({ deviceId: 'MON-E2' })[0].reason), /MON-E2 is not bound to any visit/);
    assert.match(String(iomt.listQuarantine({ deviceId: 'MON-E2' })[0].reason), /invalid JSON/);
    assert.equal((iomt.db.prepare("SELECT COUNT(*) AS n FROM readings WHERE device_id = 'MON-E2'").get() as { n: number }).n, 0);
  });
});

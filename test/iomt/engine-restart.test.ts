// Acceptance: an engine restart during a 200-device stream loses no reading and stores none twice.
// 200 monitors (one MQTT client each) publish through a private Mosquitto to a real Engine process
// (mqtt source → iomt-vitals), which is killed with SIGKILL twice mid-stream and started again. The
// persistent session re-sends what the engine had not acknowledged; the IoMT store keeps each
// (device, message id) once.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import Database from 'better-sqlite3';
import mqtt, { type MqttClient } from 'mqtt';
import { IomtService } from '../../iomt/service';
import { requirePeers } from '../helpers/peers';
import { NORMAL_SET, payload, tempDir, topicFor, waitFor } from './helpers';
import { MosquittoProcess } from './mosquitto-runner';

const DEVICES = 200;
const MESSAGES_PER_DEVICE = 25;
const INTERVAL_MS = 100; // 10 messages/s per device, 2,000/s in all
const KILLS = 2;

function startEngine(dataDir: string, url: string, mode: 'engine' | 'direct'): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../fixtures/iomt/engine-child.ts'), dataDir, url, 'hisbridge-iomt-restart', mode], { stdio: ['ignore', 'pipe', 'inherit'] });
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('READY') && resolve(child));
    child.once('exit', (code) => reject(new Error(`engine child exited with ${code} before READY`)));
  });
}

describe('iomt: engine restart during a 200-device stream', function () {
  this.timeout(120_000);

  for (const mode of ['engine', 'direct'] as const) it(`${mode === 'engine' ? 'through the engine channel' : 'on the direct path'}: loses no reading and stores none twice across ${KILLS} SIGKILLs (${DEVICES} devices × ${MESSAGES_PER_DEVICE} messages)`, async function () {
    requirePeers(this, 'mosquitto');
    const tmp = tempDir();
    const mosq = new MosquittoProcess();
    const clients: MqttClient[] = [];
    let child: ChildProcess | undefined;
    try {
      await mosq.start();
      const dataDir = path.join(tmp.dir, 'data');
      // Register and bind the 200 monitors before the stream starts.
      const setup = new IomtService({ dataDir });
      const boundFrom = Date.now() - 60_000;
      for (let d = 0; d < DEVICES; d++) {
        const id = `MON-${String(d).padStart(3, '0')}`;
        setup.registry.upsertDevice({ id, ward: 'ICU', bed: `B${d}` });
        setup.registry.bind({ deviceId: id, visitId: `V${d}`, patientId: `P${d}`, from: boundFrom });
      }
      await setup.stop();

      child = await startEngine(dataDir, mosq.url, mode);
      for (let d = 0; d < DEVICES; d++) clients.push(await mqtt.connectAsync(mosq.url, { clientId: `dev-${d}`, reconnectPeriod: 200 }));

      // Each device publishes every INTERVAL_MS; a kill happens at two random moments in between.
      const started = Date.now();
      const killer = (async () => {
        for (let k = 0; k < KILLS; k++) {
          await new Promise((r) => setTimeout(r, 800 + Math.random() * 1200));
          const c = child!;
          c.kill('SIGKILL');
          await new Promise((r) => c.once('exit', r));
          await new Promise((r) => setTimeout(r, 200)); // the broker queues meanwhile
          child = await startEngine(dataDir, mosq.url, mode);
        }
      })();
      await Promise.all(
        clients.map(async (client, d) => {
          const id = `MON-${String(d).padStart(3, '0')}`;
          for (let i = 0; i < MESSAGES_PER_DEVICE; i++) {
            const t = started + i * INTERVAL_MS;
            const wait = t - Date.now();
            if (wait > 0) await new Promise((r) => setTimeout(r, wait));
            await client.publishAsync(topicFor(id, `B${d}`), payload(id, `${id}-${i}`, t, NORMAL_SET.slice(0, 6)), { qos: 1 });
          }
        }),
      );
      await killer;

      const total = DEVICES * MESSAGES_PER_DEVICE;
      const db = new Database(path.join(dataDir, 'iomt', 'iomt.sqlite'), { readonly: true });
      try {
        const count = () => (db.prepare('SELECT COUNT(*) AS n FROM readings').get() as { n: number }).n;
        await waitFor(() => count() >= total, 60_000, `${total} readings (have ${count()})`);
        const stats = db.prepare('SELECT COUNT(*) AS n, COUNT(DISTINCT device_id || \'/\' || message_id) AS distinctMessages FROM readings').get() as { n: number; distinctMessages: number };
        assert.equal(stats.n, total, 'a reading was stored twice');
        assert.equal(stats.distinctMessages, total);
        // Every device's every message, at its own visit.
        const perVisit = db.prepare('SELECT visit_id, COUNT(*) AS n, MIN(device_id) AS d, MAX(device_id) AS d2 FROM readings GROUP BY visit_id').all() as Array<{ visit_id: string; n: number; d: string; d2: string }>;
        assert.equal(perVisit.length, DEVICES);
        for (const v of perVisit) {
          assert.equal(v.n, MESSAGES_PER_DEVICE, `visit ${v.visit_id}`);
          assert.equal(v.d, v.d2);
          assert.equal(`V${Number(v.d.slice(4))}`, v.visit_id, 'a reading reached the wrong patient');
        }
        assert.equal((db.prepare('SELECT COUNT(*) AS n FROM unassigned').get() as { n: number }).n, 0);
        assert.equal((db.prepare('SELECT COUNT(*) AS n FROM quarantine').get() as { n: number }).n, 0);
      } finally {
        db.close();
      }
    } finally {
      await Promise.all(clients.map((c) => c.endAsync().catch(() => undefined)));
      if (child && child.exitCode === null) {
        const c = child;
        await new Promise<void>((resolve) => {
          c.once('exit', () => resolve());
          c.kill('SIGTERM');
          setTimeout(() => c.kill('SIGKILL'), 10_000).unref();
        });
      }
      await mosq.dispose();
      tmp.cleanup();
    }
  });
});

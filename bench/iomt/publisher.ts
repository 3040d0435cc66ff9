// Bench publisher (its own process): 500 simulated devices publishing JSON-contract vitals (8
// measurements, a complete NEWS2 set) with QoS 1 at a fixed total rate for a fixed time.
//   node --import tsx bench/iomt/publisher.ts <url> <devices> <rate/s> <seconds> <connections> <runId>
// Prints one JSON line: published, acknowledged, timing.
import mqtt, { type MqttClient } from 'mqtt';

const [url, devicesArg, rateArg, secondsArg, connectionsArg, runId] = process.argv.slice(2);
const devices = Number(devicesArg);
const rate = Number(rateArg);
const seconds = Number(secondsArg);
const connections = Number(connectionsArg);
const MAX_IN_FLIGHT = 2000;

const ids = Array.from({ length: devices }, (_, i) => `BENCH-${String(i).padStart(4, '0')}`);
const topics = ids.map((id, i) => `hospital/bench/ward/W${String(Math.floor(i / 25)).padStart(2, '0')}/bed/${String(i % 25).padStart(2, '0')}/device/${id}/vitals`);

function body(i: number, seq: number, t: number): string {
  // A stable patient with small variation: cheap to build, realistic to parse.
  const hr = 70 + ((seq + i) % 9);
  return `{"v":1,"deviceId":"${ids[i]}","messageId":"${runId}-${seq}","time":"${new Date(t).toISOString()}","measurements":[{"code":"8867-4","value":${hr},"unit":"/min"},{"code":"9279-1","value":${14 + (seq % 4)},"unit":"/min"},{"code":"59408-5","value":${96 + (seq % 3)},"unit":"%"},{"code":"8480-6","value":${118 + (seq % 7)},"unit":"mm[Hg]"},{"code":"8462-4","value":${76 + (seq % 5)},"unit":"mm[Hg]"},{"code":"8310-5","value":36.${6 + (seq % 4)},"unit":"Cel"},{"code":"acvpu","value":"A"},{"code":"o2","value":false}]}`;
}

(async () => {
  const clients: MqttClient[] = [];
  for (let c = 0; c < connections; c++) clients.push(await mqtt.connectAsync(url, { clientId: `bench-pub-${runId}-${c}`, clean: true, reconnectPeriod: 0 }));
  const total = Math.round(rate * seconds);
  let published = 0;
  let acknowledged = 0;
  let failed = 0;
  const inFlight = new Array<number>(connections).fill(0);
  const started = Date.now();
  await new Promise<void>((resolve) => {
    const tick = () => {
      const due = Math.min(total, Math.floor(((Date.now() - started) / 1000) * rate));
      while (published < due) {
        const seq = published;
        const device = seq % devices;
        const c = device % connections;
        if (inFlight[c] >= MAX_IN_FLIGHT) break; // the broker is not keeping up with this connection
        inFlight[c]++;
        published++;
        clients[c].publish(topics[device], body(device, seq, Date.now()), { qos: 1 }, (err) => {
          inFlight[c]--;
          if (err) failed++;
          else acknowledged++;
          if (acknowledged + failed === total) resolve();
        });
      }
      if (published < total) setTimeout(tick, 5);
    };
    tick();
  });
  const finished = Date.now();
  await Promise.all(clients.map((c) => c.endAsync()));
  process.stdout.write(JSON.stringify({ published, acknowledged, failed, startedAt: started, finishedAt: finished, achievedRate: Math.round(published / ((finished - started) / 1000)) }) + '\n');
})().catch((err) => {
  console.error(err);
  process.exit(1);
});

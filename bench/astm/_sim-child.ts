// One simulated Sysmex XN on a serial device for bench/astm/pty8.ts, run in its own process so the
// engine's CPU time is measured alone. Paces uploads to the byte rate of the given baud (8N1 = 10 bits
// a byte), because a PTY does not throttle to a baud rate by itself.
import { loadProfile } from '../../devices/analyzers/profile';
import { AnalyzerSimulator, buildResults } from '../../devices/simulators/analyzer';

const [path, secondsArg, baudArg, indexArg, startAtArg] = process.argv.slice(2);
const seconds = Number(secondsArg);
const bytesPerSecond = Number(baudArg) / 10;
const index = Number(indexArg);

(async () => {
  const profile = loadProfile('sysmex-xn');
  const sim = new AnalyzerSimulator({ profile });
  await sim.openSerial(path, { ...profile.transport.serial, baudRate: Number(baudArg) });
  // Every simulator starts streaming at the same moment, whatever its own start-up time.
  const wait = Number(startAtArg) - Date.now();
  if (wait > 0) await new Promise((r) => setTimeout(r, wait));
  const codes = ['WBC', 'RBC', 'HGB', 'HCT', 'PLT', 'MCV', 'MCH', 'MCHC', 'RDW-SD', 'RDW-CV', 'NEUT#', 'LYMPH#', 'MONO#', 'EO#', 'BASO#', 'NEUT%', 'LYMPH%', 'MONO%', 'EO%', 'BASO%'];
  const start = Date.now();
  let messages = 0;
  let results = 0;
  let bytes = 0;
  while (Date.now() - start < seconds * 1000) {
    const specimenId = `A${index}-${String(messages + 1).padStart(6, '0')}`;
    const text = buildResults(profile, [{ specimenId, results: codes.map((code, i) => ({ code, value: (i + messages * 0.01).toFixed(2), units: '10*3/uL' })) }]);
    await sim.send(text);
    messages++;
    results += codes.length;
    bytes += text.length + Math.ceil(text.length / 240) * 7 + 3; // frames + ENQ/EOT
    const ahead = bytes / bytesPerSecond - (Date.now() - start) / 1000;
    if (ahead > 0) await new Promise((r) => setTimeout(r, ahead * 1000));
  }
  sim.close();
  // A closed PTY can keep the process alive; the result is written, so leave.
  process.stdout.write(JSON.stringify({ messages, results, bytes, seconds: (Date.now() - start) / 1000 }) + '\n', () => process.exit(0));
})().catch((error) => {
  process.stderr.write(`sim ${index}: ${error.message}\n`);
  process.exit(1);
});

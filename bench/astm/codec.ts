// bench/astm/codec: LIS2-A2 decoding speed on a 100-result session (H, P, O, 100 R, L = 104 records).
// Measures parse (records split, delimiters from H, hierarchy checked) and parse + interpret (results
// read through the Sysmex XN profile), against a naive eager split (records → fields → repeats →
// components, no escapes, no checks) measured in the same run.
import { parseMessage } from '../../connectors/astm/codec/message';
import { interpretMessage } from '../../connectors/astm/interpret';
import { buildResults } from '../../devices/simulators/analyzer';
import { loadProfile } from '../../devices/analyzers/profile';

const profile = loadProfile('sysmex-xn');
const codes = ['WBC', 'RBC', 'HGB', 'HCT', 'MCV', 'MCH', 'MCHC', 'PLT', 'RDW-SD', 'RDW-CV'];
const text = buildResults(profile, [
  { specimenId: 'S000001', patientId: 'BN0001', results: Array.from({ length: 100 }, (_, i) => ({ code: `${codes[i % 10]}${i >= 10 ? '-' + i : ''}`, value: (i * 1.37).toFixed(2), units: '10*3/uL', flag: i % 7 ? 'N' : 'H' })) },
]);
const records = text.split('\r').filter(Boolean).length;

function naive(t: string): number {
  let n = 0;
  for (const r of t.split('\r')) {
    if (!r) continue;
    const fields = r.split('|').map((f) => f.split('\\').map((rep) => rep.split('^')));
    n += fields.length > 0 ? 1 : 0;
  }
  return n;
}

// Rates are per CPU second of this process (process.cpuUsage), so a busy machine slows the run but
// not the figure; wall-clock rates are printed too.
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

function measure(name: string, fn: () => number, cpuBudget = 1.5): number {
  for (let i = 0; i < 200; i++) fn(); // warm up
  let sessions = 0;
  let sink = 0;
  const cpu0 = cpuSeconds();
  const wall0 = performance.now();
  while (cpuSeconds() - cpu0 < cpuBudget) {
    for (let i = 0; i < 50; i++) sink += fn();
    sessions += 50;
  }
  const cpu = cpuSeconds() - cpu0;
  const wall = (performance.now() - wall0) / 1000;
  const perSecond = (sessions * records) / cpu;
  console.log(
    `${name.padEnd(44)} ${Math.round(perSecond).toLocaleString('en-US').padStart(12)} records per CPU-s  (${Math.round(sessions / cpu).toLocaleString('en-US')} sessions/CPU-s; wall ${Math.round((sessions * records) / wall).toLocaleString('en-US')} records/s)${sink < 0 ? '' : ''}`,
  );
  return perSecond;
}

console.log(`session: ${records} records, ${text.length} characters`);
const baseline = measure('baseline: naive eager split', () => naive(text));
const parse = measure('parseMessage (delimiters, hierarchy)', () => parseMessage(text).records.length);
const full = measure('parseMessage + interpretMessage (results)', () => interpretMessage(parseMessage(text), profile).specimens[0].results.length);
console.log(`ratio parse / baseline: ${(parse / baseline).toFixed(2)}; parse+interpret / baseline: ${(full / baseline).toFixed(2)}`);
console.log(`target ≥ 200,000 records/s (per CPU second) for parse+interpret: ${full >= 200_000 ? 'met' : 'NOT met'}`);

// NEWS2 against the RCP 2017 chart (standards.md §6.3): every band boundary of every parameter, both SpO2
// scales, the oxygen score, rounding to device resolution, and the clinical-risk bands.
import assert from 'node:assert/strict';
import {
  computeNews2,
  riskOf,
  scoreAirOrOxygen,
  scoreConsciousness,
  scorePulse,
  scoreRespiratoryRate,
  scoreSpO2Scale1,
  scoreSpO2Scale2,
  scoreSystolicBp,
  scoreTemperature,
  type News2Input,
} from '../../iomt/news2';

// [input, expected score] pairs: both sides of every boundary in the chart.
const respiratoryRate: Array<[number, number]> = [
  [0, 3], [8, 3], [9, 1], [11, 1], [12, 0], [20, 0], [21, 2], [24, 2], [25, 3], [60, 3],
  [8.4, 3], [8.5, 1], [20.4, 0], [20.5, 2],
];
const spo2Scale1: Array<[number, number]> = [
  [50, 3], [91, 3], [92, 2], [93, 2], [94, 1], [95, 1], [96, 0], [100, 0], [91.4, 3], [91.5, 2], [95.5, 0],
];
// Scale 2: [spo2, onOxygen, expected]
const spo2Scale2: Array<[number, boolean, number]> = [
  [70, false, 3], [83, false, 3], [84, false, 2], [85, false, 2], [86, false, 1], [87, false, 1], [88, false, 0], [92, false, 0],
  [93, false, 0], [97, false, 0], [100, false, 0],
  [83, true, 3], [84, true, 2], [85, true, 2], [86, true, 1], [87, true, 1], [88, true, 0], [92, true, 0],
  [93, true, 1], [94, true, 1], [95, true, 2], [96, true, 2], [97, true, 3], [100, true, 3],
  [92.4, true, 0], [92.5, true, 1],
];
const systolicBp: Array<[number, number]> = [
  [40, 3], [90, 3], [91, 2], [100, 2], [101, 1], [110, 1], [111, 0], [219, 0], [220, 3], [280, 3], [90.5, 2], [219.5, 3],
];
const pulse: Array<[number, number]> = [
  [0, 3], [40, 3], [41, 1], [50, 1], [51, 0], [90, 0], [91, 1], [110, 1], [111, 2], [130, 2], [131, 3], [200, 3], [40.5, 1],
];
const temperature: Array<[number, number]> = [
  [30, 3], [35.0, 3], [35.1, 1], [36.0, 1], [36.1, 0], [38.0, 0], [38.1, 1], [39.0, 1], [39.1, 2], [41, 2],
  [35.04, 3], [35.05, 1], [36.05, 0], [38.04, 0], [38.05, 1], [39.05, 2],
];

describe('iomt/news2: RCP 2017 bands', () => {
  it('respiration rate: every boundary (≤8, 9–11, 12–20, 21–24, ≥25)', () => {
    for (const [v, want] of respiratoryRate) assert.equal(scoreRespiratoryRate(v), want, `RR ${v}`);
  });
  it('SpO2 scale 1: every boundary (≤91, 92–93, 94–95, ≥96)', () => {
    for (const [v, want] of spo2Scale1) assert.equal(scoreSpO2Scale1(v), want, `SpO2 ${v}`);
  });
  it('SpO2 scale 2: every boundary on air and on oxygen (≥93 on air scores 0)', () => {
    for (const [v, o2, want] of spo2Scale2) assert.equal(scoreSpO2Scale2(v, o2), want, `SpO2 ${v} ${o2 ? 'on O2' : 'on air'}`);
  });
  it('air or oxygen: oxygen scores 2, air 0', () => {
    assert.equal(scoreAirOrOxygen(true), 2);
    assert.equal(scoreAirOrOxygen(false), 0);
  });
  it('systolic BP: every boundary (≤90, 91–100, 101–110, 111–219, ≥220)', () => {
    for (const [v, want] of systolicBp) assert.equal(scoreSystolicBp(v), want, `SBP ${v}`);
  });
  it('pulse: every boundary (≤40, 41–50, 51–90, 91–110, 111–130, ≥131)', () => {
    for (const [v, want] of pulse) assert.equal(scorePulse(v), want, `pulse ${v}`);
  });
  it('consciousness: Alert 0, new Confusion / Voice / Pain / Unresponsive 3', () => {
    assert.equal(scoreConsciousness('A'), 0);
    for (const c of ['C', 'V', 'P', 'U'] as const) assert.equal(scoreConsciousness(c), 3, c);
  });
  it('temperature: every boundary at 0.1 °C (≤35.0, 35.1–36.0, 36.1–38.0, 38.1–39.0, ≥39.1), rounding half up', () => {
    for (const [v, want] of temperature) assert.equal(scoreTemperature(v), want, `T ${v}`);
  });
});

describe('iomt/news2: aggregate score and clinical risk', () => {
  const normal: News2Input = { respiratoryRate: 16, spo2: 97, onOxygen: false, systolicBp: 125, pulse: 72, consciousness: 'A', temperature: 36.8 };

  it('a normal set scores 0, low risk, 12-hourly', () => {
    const r = computeNews2(normal);
    assert.equal(r.total, 0);
    assert.equal(r.risk, 'low');
    assert.equal(r.redScore, false);
    assert.match(r.response, /12-hourly/);
  });

  it('risk bands: 1–4 low, a single 3 low-medium, 5–6 medium, ≥7 high', () => {
    assert.equal(riskOf(0, false), 'low');
    assert.equal(riskOf(4, false), 'low');
    assert.equal(riskOf(3, true), 'low-medium');
    assert.equal(riskOf(4, true), 'low-medium');
    assert.equal(riskOf(5, false), 'medium');
    assert.equal(riskOf(5, true), 'medium');
    assert.equal(riskOf(6, true), 'medium');
    assert.equal(riskOf(7, false), 'high');
    assert.equal(riskOf(20, true), 'high');
  });

  it('total 4 without a red score is low; a single red 3 is low-medium', () => {
    // RR 22 (2) + pulse 115 (2) = 4
    const four = computeNews2({ ...normal, respiratoryRate: 22, pulse: 115 });
    assert.deepEqual([four.total, four.risk], [4, 'low']);
    const red = computeNews2({ ...normal, consciousness: 'C' });
    assert.deepEqual([red.total, red.risk, red.redScore], [3, 'low-medium', true]);
  });

  it('5 and 6 are medium; 7 is high', () => {
    // O2 (2) + SpO2 92 scale 1 (2) + temp 38.5 (1) = 5
    const five = computeNews2({ ...normal, onOxygen: true, spo2: 92, temperature: 38.5 });
    assert.deepEqual([five.total, five.risk], [5, 'medium']);
    const six = computeNews2({ ...normal, onOxygen: true, spo2: 92, temperature: 39.5 });
    assert.deepEqual([six.total, six.risk], [6, 'medium']);
    const seven = computeNews2({ ...normal, onOxygen: true, spo2: 92, temperature: 39.5, pulse: 95 });
    assert.deepEqual([seven.total, seven.risk], [7, 'high']);
  });

  it('maximum deterioration scores 20', () => {
    const r = computeNews2({ respiratoryRate: 30, spo2: 85, onOxygen: true, systolicBp: 85, pulse: 140, consciousness: 'U', temperature: 34 });
    assert.equal(r.total, 20);
    assert.deepEqual(r.components, { respiratoryRate: 3, spo2: 3, airOrOxygen: 2, systolicBp: 3, pulse: 3, consciousness: 3, temperature: 3 });
    assert.equal(r.risk, 'high');
  });

  it('scale 2 scores a hypercapnic patient at 90 % on air as 0 where scale 1 gives 3', () => {
    const s1 = computeNews2({ ...normal, spo2: 90 });
    const s2 = computeNews2({ ...normal, spo2: 90, spo2Scale: 2 });
    assert.deepEqual([s1.components.spo2, s1.risk], [3, 'low-medium']);
    assert.deepEqual([s2.components.spo2, s2.risk, s2.spo2Scale], [0, 'low', 2]);
  });

  it('scale 2 on oxygen at 97 % scores 3 + 2 for oxygen', () => {
    const r = computeNews2({ ...normal, spo2: 97, onOxygen: true, spo2Scale: 2 });
    assert.equal(r.components.spo2, 3);
    assert.equal(r.components.airOrOxygen, 2);
    assert.equal(r.total, 5);
  });

  it('refuses a non-numeric or non-finite input by name', () => {
    assert.throws(() => computeNews2({ ...normal, pulse: Number.NaN }), /pulse must be a finite number/);
    assert.throws(() => computeNews2({ ...normal, temperature: undefined as unknown as number }), /temperature must be a finite number/);
  });
});

// The NEWS2 score zones of each charted parameter (RCP 2017 chart 1), for shading vitals charts:
// each band is [from, to) in the parameter's unit with the score a value there gets. The bounds sit
// halfway between the device-resolution values the scoring rounds to (whole numbers; 0.1 °C), so
// they agree with iomt/news2.ts (test/emr/news2-bands.test.ts checks every value).

export interface ScoreBand {
  from: number;
  to: number;
  score: 0 | 1 | 2 | 3;
}

export interface ParameterBands {
  loinc: string[];
  unit: string;
  label: { vi: string; en: string };
  /** Axis range that shows every band. */
  axis: [number, number];
  bands: ScoreBand[];
}

export const NEWS2_BANDS: Record<'respiratoryRate' | 'spo2' | 'systolic' | 'pulse' | 'temperature', ParameterBands> = {
  respiratoryRate: {
    loinc: ['9279-1'],
    unit: '/min',
    label: { vi: 'Nhịp thở (lần/phút)', en: 'Respiratory rate (/min)' },
    axis: [4, 36],
    bands: [
      { from: -Infinity, to: 8.5, score: 3 },
      { from: 8.5, to: 11.5, score: 1 },
      { from: 11.5, to: 20.5, score: 0 },
      { from: 20.5, to: 24.5, score: 2 },
      { from: 24.5, to: Infinity, score: 3 },
    ],
  },
  spo2: {
    loinc: ['59408-5', '2708-6'],
    unit: '%',
    label: { vi: 'SpO₂ (%), thang 1', en: 'SpO₂ (%), scale 1' },
    axis: [80, 100],
    bands: [
      { from: -Infinity, to: 91.5, score: 3 },
      { from: 91.5, to: 93.5, score: 2 },
      { from: 93.5, to: 95.5, score: 1 },
      { from: 95.5, to: Infinity, score: 0 },
    ],
  },
  systolic: {
    loinc: ['8480-6'],
    unit: 'mm[Hg]',
    label: { vi: 'Huyết áp tâm thu (mmHg)', en: 'Systolic BP (mmHg)' },
    axis: [70, 230],
    bands: [
      { from: -Infinity, to: 90.5, score: 3 },
      { from: 90.5, to: 100.5, score: 2 },
      { from: 100.5, to: 110.5, score: 1 },
      { from: 110.5, to: 219.5, score: 0 },
      { from: 219.5, to: Infinity, score: 3 },
    ],
  },
  pulse: {
    loinc: ['8867-4', '8889-8'],
    unit: '/min',
    label: { vi: 'Mạch (lần/phút)', en: 'Pulse (/min)' },
    axis: [30, 150],
    bands: [
      { from: -Infinity, to: 40.5, score: 3 },
      { from: 40.5, to: 50.5, score: 1 },
      { from: 50.5, to: 90.5, score: 0 },
      { from: 90.5, to: 110.5, score: 1 },
      { from: 110.5, to: 130.5, score: 2 },
      { from: 130.5, to: Infinity, score: 3 },
    ],
  },
  temperature: {
    loinc: ['8310-5'],
    unit: 'Cel',
    label: { vi: 'Nhiệt độ (°C)', en: 'Temperature (°C)' },
    axis: [34, 41],
    bands: [
      { from: -Infinity, to: 35.05, score: 3 },
      { from: 35.05, to: 36.05, score: 1 },
      { from: 36.05, to: 38.05, score: 0 },
      { from: 38.05, to: 39.05, score: 1 },
      { from: 39.05, to: Infinity, score: 2 },
    ],
  },
};

export function bandScore(bands: ScoreBand[], value: number): number {
  return bands.find((b) => value >= b.from && value < b.to)?.score ?? 0;
}

/** JSON-safe bands (±Infinity become null). */
export function bandsForJson() {
  return Object.fromEntries(
    Object.entries(NEWS2_BANDS).map(([key, p]) => [key, { ...p, bands: p.bands.map((b) => ({ from: Number.isFinite(b.from) ? b.from : null, to: Number.isFinite(b.to) ? b.to : null, score: b.score })) }]),
  );
}

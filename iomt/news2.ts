// NEWS2 (Royal College of Physicians, 2017): the aggregate score and the clinical-risk band it maps to.
// Bands are from the RCP chart (shared/specs/standards.md §6.3). Inputs are rounded to device resolution
// first: whole numbers for rates, saturation and pressure, 0.1 °C for temperature, so a reading never
// falls between two bands.
import type { Acvpu } from './vitals';

export type SpO2Scale = 1 | 2;

export interface News2Input {
  respiratoryRate: number;
  spo2: number;
  /** true when the patient is on supplemental oxygen (any device, any flow). */
  onOxygen: boolean;
  systolicBp: number;
  pulse: number;
  consciousness: Acvpu;
  temperature: number;
  /** Scale 2 only for hypercapnic respiratory failure, chosen by a clinician (default 1). */
  spo2Scale?: SpO2Scale;
}

export interface News2Components {
  respiratoryRate: number;
  spo2: number;
  airOrOxygen: number;
  systolicBp: number;
  pulse: number;
  consciousness: number;
  temperature: number;
}

/** RCP clinical risk: low (0-4), low-medium (a single parameter scoring 3), medium (5-6), high (≥7). */
export type News2Risk = 'low' | 'low-medium' | 'medium' | 'high';
export const NEWS2_RISK_ORDER: readonly News2Risk[] = ['low', 'low-medium', 'medium', 'high'];

export interface News2Result {
  total: number;
  components: News2Components;
  spo2Scale: SpO2Scale;
  /** A single parameter scored 3 (a "red score"). */
  redScore: boolean;
  risk: News2Risk;
  /** Minimum monitoring frequency and response from the RCP chart 4. */
  response: string;
}

// Round half up on the decimal value: the small nudge absorbs binary artefacts (35.05 * 10 = 350.4999…).
const round0 = (v: number): number => Math.round(v + 1e-9);
/** Temperature in tenths of a degree, as an integer, so comparisons are exact. */
const tenths = (v: number): number => Math.round(v * 10 + 1e-9);

export function scoreRespiratoryRate(rr: number): number {
  const v = round0(rr);
  if (v <= 8) return 3;
  if (v <= 11) return 1;
  if (v <= 20) return 0;
  if (v <= 24) return 2;
  return 3;
}

export function scoreSpO2Scale1(spo2: number): number {
  const v = round0(spo2);
  if (v <= 91) return 3;
  if (v <= 93) return 2;
  if (v <= 95) return 1;
  return 0;
}

export function scoreSpO2Scale2(spo2: number, onOxygen: boolean): number {
  const v = round0(spo2);
  if (v <= 83) return 3;
  if (v <= 85) return 2;
  if (v <= 87) return 1;
  if (v <= 92) return 0;
  // ≥93: on air it is the patient's own (acceptable) saturation; on oxygen it means over-oxygenation.
  if (!onOxygen) return 0;
  if (v <= 94) return 1;
  if (v <= 96) return 2;
  return 3;
}

export function scoreAirOrOxygen(onOxygen: boolean): number {
  return onOxygen ? 2 : 0;
}

export function scoreSystolicBp(sbp: number): number {
  const v = round0(sbp);
  if (v <= 90) return 3;
  if (v <= 100) return 2;
  if (v <= 110) return 1;
  if (v <= 219) return 0;
  return 3;
}

export function scorePulse(pulse: number): number {
  const v = round0(pulse);
  if (v <= 40) return 3;
  if (v <= 50) return 1;
  if (v <= 90) return 0;
  if (v <= 110) return 1;
  if (v <= 130) return 2;
  return 3;
}

export function scoreConsciousness(acvpu: Acvpu): number {
  return acvpu === 'A' ? 0 : 3;
}

export function scoreTemperature(celsius: number): number {
  const t = tenths(celsius);
  if (t <= 350) return 3;
  if (t <= 360) return 1;
  if (t <= 380) return 0;
  if (t <= 390) return 1;
  return 2;
}

export function riskOf(total: number, redScore: boolean): News2Risk {
  if (total >= 7) return 'high';
  if (total >= 5) return 'medium';
  if (redScore) return 'low-medium';
  return 'low';
}

const RESPONSES: Record<News2Risk, (total: number) => string> = {
  low: (total) =>
    total === 0
      ? 'Minimum 12-hourly observations; continue routine NEWS monitoring'
      : 'Minimum 4-6-hourly observations; registered nurse to assess and decide on frequency and escalation',
  'low-medium': () => 'Minimum 1-hourly observations; registered nurse to inform the medical team urgently (single parameter scored 3)',
  medium: () => 'Minimum 1-hourly observations; urgent assessment by a clinician competent in assessing acutely ill patients',
  high: () =>
    'Continuous monitoring of vital signs; emergency assessment by a team with critical-care competencies; consider transfer to HDU/ICU',
};

export function computeNews2(input: News2Input): News2Result {
  const scale: SpO2Scale = input.spo2Scale ?? 1;
  requireFinite('respiratoryRate', input.respiratoryRate);
  requireFinite('spo2', input.spo2);
  requireFinite('systolicBp', input.systolicBp);
  requireFinite('pulse', input.pulse);
  requireFinite('temperature', input.temperature);
  const components: News2Components = {
    respiratoryRate: scoreRespiratoryRate(input.respiratoryRate),
    spo2: scale === 2 ? scoreSpO2Scale2(input.spo2, input.onOxygen) : scoreSpO2Scale1(input.spo2),
    airOrOxygen: scoreAirOrOxygen(input.onOxygen),
    systolicBp: scoreSystolicBp(input.systolicBp),
    pulse: scorePulse(input.pulse),
    consciousness: scoreConsciousness(input.consciousness),
    temperature: scoreTemperature(input.temperature),
  };
  const c = components;
  const total = c.respiratoryRate + c.spo2 + c.airOrOxygen + c.systolicBp + c.pulse + c.consciousness + c.temperature;
  const redScore = c.respiratoryRate === 3 || c.spo2 === 3 || c.systolicBp === 3 || c.pulse === 3 || c.consciousness === 3 || c.temperature === 3;
  const risk = riskOf(total, redScore);
  return { total, components, spo2Scale: scale, redScore, risk, response: RESPONSES[risk](total) };
}

function requireFinite(name: string, value: unknown): void {
  if (typeof value !== 'number' || !Number.isFinite(value)) throw new RangeError(`NEWS2 input ${name} must be a finite number, got ${String(value)}`);
}

export function riskRank(risk: News2Risk): number {
  return NEWS2_RISK_ORDER.indexOf(risk);
}

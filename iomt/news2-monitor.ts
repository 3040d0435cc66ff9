// Keeps the latest value of each NEWS2 parameter per visit and scores a visit when a complete set exists
// within the windows: monitor parameters (RR, SpO2, BP, pulse) must be recent; consciousness, oxygen and
// temperature are often charted by nurses less often and get a longer window.
import { computeNews2, type News2Result, type SpO2Scale } from './news2';
import type { Acvpu, VitalSign } from './vitals';

export interface News2Windows {
  /** RR, SpO2, systolic BP, pulse (default 15 minutes). */
  monitorMs: number;
  /** Temperature (default 4 hours). */
  temperatureMs: number;
  /** ACVPU and air/oxygen (default 4 hours). */
  assessmentMs: number;
}

export const DEFAULT_NEWS2_WINDOWS: News2Windows = { monitorMs: 15 * 60_000, temperatureMs: 4 * 3600_000, assessmentMs: 4 * 3600_000 };

interface Latest {
  value: number | string | boolean;
  t: number;
}

export type News2Evaluation =
  | { complete: true; result: News2Result; t: number; inputs: Record<string, { value: number | string | boolean; t: number }> }
  | { complete: false; missing: string[] };

const NEWS2_SIGNS: VitalSign[] = ['respiratory-rate', 'spo2', 'systolic-bp', 'heart-rate', 'pulse-rate', 'temperature', 'consciousness', 'supplemental-oxygen'];

export class News2Monitor {
  private readonly state = new Map<string, Map<VitalSign, Latest>>();

  constructor(readonly windows: News2Windows = DEFAULT_NEWS2_WINDOWS) {}

  static isNews2Sign(sign: VitalSign): boolean {
    return NEWS2_SIGNS.includes(sign);
  }

  /** Records a value; an older (late, out-of-order) value never replaces a newer one. */
  update(visitId: string, sign: VitalSign, value: number | string | boolean, t: number): boolean {
    if (!NEWS2_SIGNS.includes(sign)) return false;
    let m = this.state.get(visitId);
    if (!m) this.state.set(visitId, (m = new Map()));
    const cur = m.get(sign);
    if (cur && cur.t > t) return false;
    m.set(sign, { value, t });
    return true;
  }

  latest(visitId: string): Partial<Record<VitalSign, Latest>> {
    return Object.fromEntries(this.state.get(visitId) ?? []);
  }

  forget(visitId: string): void {
    this.state.delete(visitId);
  }

  visits(): string[] {
    return [...this.state.keys()];
  }

  evaluate(visitId: string, scale: SpO2Scale = 1): News2Evaluation {
    const m = this.state.get(visitId);
    if (!m) return { complete: false, missing: ['all parameters'] };
    // Score as of the newest value: every parameter must be recent relative to it.
    let now = 0;
    for (const v of m.values()) now = Math.max(now, v.t);
    const fresh = (sign: VitalSign, windowMs: number): Latest | undefined => {
      const v = m.get(sign);
      return v && now - v.t <= windowMs ? v : undefined;
    };
    const w = this.windows;
    const rr = fresh('respiratory-rate', w.monitorMs);
    const spo2 = fresh('spo2', w.monitorMs);
    const sbp = fresh('systolic-bp', w.monitorMs);
    const pulse = fresh('heart-rate', w.monitorMs) ?? fresh('pulse-rate', w.monitorMs);
    const temp = fresh('temperature', w.temperatureMs);
    const acvpu = fresh('consciousness', w.assessmentMs);
    const o2 = fresh('supplemental-oxygen', w.assessmentMs);
    const missing: string[] = [];
    if (!rr) missing.push('respiratory-rate');
    if (!spo2) missing.push('spo2');
    if (!sbp) missing.push('systolic-bp');
    if (!pulse) missing.push('pulse');
    if (!temp) missing.push('temperature');
    if (!acvpu) missing.push('consciousness');
    if (!o2) missing.push('supplemental-oxygen');
    if (missing.length > 0 || !rr || !spo2 || !sbp || !pulse || !temp || !acvpu || !o2) return { complete: false, missing };
    const result = computeNews2({
      respiratoryRate: rr.value as number,
      spo2: spo2.value as number,
      onOxygen: o2.value === true,
      systolicBp: sbp.value as number,
      pulse: pulse.value as number,
      consciousness: acvpu.value as Acvpu,
      temperature: temp.value as number,
      spo2Scale: scale,
    });
    return {
      complete: true,
      result,
      t: now,
      inputs: { respiratoryRate: rr, spo2, systolicBp: sbp, pulse, temperature: temp, consciousness: acvpu, supplementalOxygen: o2 },
    };
  }
}

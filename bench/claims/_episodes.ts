// Synthetic claim sources for the claims benchmarks: the four hand-checked test episodes
// (outpatient, inpatient, emergency, off-route), each copy with its own MA_LK, patient and amounts.
import type { ClaimSource } from '../../claims/builder/build';
import { emergencySource, inpatientSource, offRouteSource, outpatientSource } from '../../test/claims/sources';

const templates = [outpatientSource, inpatientSource, emergencySource, offRouteSource];

export function syntheticSources(count: number): ClaimSource[] {
  const out: ClaimSource[] = [];
  for (let i = 0; i < count; i++) {
    const src = templates[i % templates.length]();
    const maLk = `BENCH${String(i).padStart(8, '0')}`;
    src.visit = { ...src.visit, maLk, patientId: `BN${i}`, medicalRecordNumber: `HS-${i}` };
    src.patient = { ...src.patient, id: `BN${i}` };
    src.lines = src.lines.map((l, k) => ({ ...l, maLk, quantity: l.kind === 'bed' ? l.quantity : String(Number(l.quantity) + ((i + k) % 3)) }));
    src.observations = src.observations?.map((o) => ({ ...o, maLk }));
    out.push(src);
  }
  return out;
}

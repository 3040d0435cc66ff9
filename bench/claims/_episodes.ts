// Synthetic claim sources for the claims benchmarks: the four hand-checked test episodes
// (outpatient, inpatient, emergency, off-route), each copy with its own MA_LK, patient and amounts.
import type { ClaimSource } from '../../claims/builder/build';
import { emergencySource, inpatientSource, offRouteSource, outpatientSource } from '../../test/claims/sources';

const templates = [outpatientSource, inpatientSource, emergencySource, offRouteSource];

/**
 * The same object with every key of `keys` present, in that order (absent ones undefined), as the
 * HIS database connector returns rows: one object shape per kind of record. The hand-written test
 * templates each have their own optional fields, which would otherwise give the builder four shapes of
 * every object and keep V8 re-optimising it — a cost real HIS data does not have.
 */
function shaped<T extends object>(value: T, keys: string[]): T {
  const out: Record<string, unknown> = {};
  for (const k of keys) out[k] = (value as Record<string, unknown>)[k];
  return out as T;
}

function keysOf(objects: object[]): string[] {
  const keys = new Set<string>();
  for (const o of objects) for (const k of Object.keys(o)) keys.add(k);
  return [...keys].sort();
}

export function syntheticSources(count: number): ClaimSource[] {
  const all = templates.map((t) => t());
  const lineKeys = keysOf(all.flatMap((s) => s.lines));
  const drugKeys = keysOf(all.flatMap((s) => s.lines.map((l) => l.drug).filter((d) => d !== undefined)));
  const visitKeys = keysOf(all.map((s) => s.visit));
  const coverageKeys = keysOf(all.map((s) => s.visit.coverage).filter((c) => c !== undefined));
  const patientKeys = keysOf(all.map((s) => s.patient));
  const observationKeys = keysOf(all.flatMap((s) => s.observations ?? []));
  const out: ClaimSource[] = [];
  for (let i = 0; i < count; i++) {
    const src = templates[i % templates.length]();
    const maLk = `BENCH${String(i).padStart(8, '0')}`;
    src.visit = shaped({ ...src.visit, maLk, patientId: `BN${i}`, medicalRecordNumber: `HS-${i}`, coverage: src.visit.coverage && shaped(src.visit.coverage, coverageKeys) }, visitKeys);
    src.patient = shaped({ ...src.patient, id: `BN${i}` }, patientKeys);
    src.lines = src.lines.map((l, k) => shaped({ ...l, maLk, quantity: l.kind === 'bed' ? l.quantity : String(Number(l.quantity) + ((i + k) % 3)), drug: l.drug && shaped(l.drug, drugKeys) }, lineKeys));
    src.observations = src.observations?.map((o) => shaped({ ...o, maLk }, observationKeys));
    out.push(src);
  }
  return out;
}

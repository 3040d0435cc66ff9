// Terse paths into a message, in the notation interface people write on whiteboards:
//   PID-3            field 3 of the first PID
//   PID-3[2].1       component 1 of the 2nd repetition of PID-3
//   OBX[3]-5         field 5 of the 3rd OBX
//   PID-3.4.2        subcomponent 2 of component 4
// `PID.3.1` (dots only) is accepted too. Parsed paths are cached: routing code reuses a handful.
export interface Hl7Path {
  segment: string;
  /** 1-based; undefined = first (get) or every one (getAll). */
  segmentIndex?: number;
  field?: number;
  repetition?: number;
  component?: number;
  subcomponent?: number;
}

const PATTERN = /^([A-Z0-9]{3})(?:\[(\d+)\])?(?:[-.](\d+)(?:\[(\d+)\])?(?:\.(\d+)(?:\.(\d+))?)?)?$/;
const cache = new Map<string, Hl7Path>();

export function parsePath(path: string): Hl7Path {
  const cached = cache.get(path);
  if (cached) return cached;
  const m = PATTERN.exec(path.trim());
  if (!m) throw new Error(`"${path}" is not an HL7 path (examples: PID-3, PID-3[2].1, OBX[3]-5, MSH-9.2)`);
  const num = (s: string | undefined, what: string): number | undefined => {
    if (s === undefined) return undefined;
    const n = Number(s);
    if (!Number.isSafeInteger(n) || n < 1) throw new Error(`"${path}": ${what} must be 1 or more`);
    return n;
  };
  const parsed: Hl7Path = {
    segment: m[1],
    segmentIndex: num(m[2], 'segment index'),
    field: num(m[3], 'field'),
    repetition: num(m[4], 'repetition'),
    component: num(m[5], 'component'),
    subcomponent: num(m[6], 'subcomponent'),
  };
  if (cache.size < 10_000) cache.set(path, parsed);
  return parsed;
}

export function formatPath(p: Hl7Path): string {
  let s = p.segment;
  if (p.segmentIndex !== undefined) s += `[${p.segmentIndex}]`;
  if (p.field === undefined) return s;
  s += `-${p.field}`;
  if (p.repetition !== undefined) s += `[${p.repetition}]`;
  if (p.component !== undefined) s += `.${p.component}`;
  if (p.subcomponent !== undefined) s += `.${p.subcomponent}`;
  return s;
}

// The vital signs hisbridge understands: one catalogue entry per parameter, with its LOINC (or SNOMED /
// local) coding, UCUM unit, the unit spellings devices send that mean the same, conversions from other
// units, and the physiologically possible range. Everything that normalises device data reads this table.

export type VitalSign =
  | 'heart-rate'
  | 'pulse-rate'
  | 'respiratory-rate'
  | 'spo2'
  | 'temperature'
  | 'systolic-bp'
  | 'diastolic-bp'
  | 'mean-bp'
  | 'consciousness'
  | 'supplemental-oxygen'
  | 'oxygen-flow';

export const LOINC = 'http://loinc.org';
export const SNOMED = 'http://snomed.info/sct';
export const UCUM = 'http://unitsofmeasure.org';
export const MDC = 'urn:iso:std:iso:11073:10101';
/** hisbridge's own code system for parameters no standard code covers (documented in docs/iomt.md). */
export const LOCAL = 'urn:hisbridge:iomt';

export interface Coding {
  system: string;
  code: string;
  display?: string;
}

/** ACVPU: Alert, new Confusion, Voice, Pain, Unresponsive. */
export type Acvpu = 'A' | 'C' | 'V' | 'P' | 'U';
export const ACVPU_VALUES: readonly Acvpu[] = ['A', 'C', 'V', 'P', 'U'];

interface NumericVital {
  kind: 'quantity';
  unit: string;
  /** Other spellings of the same unit (case-insensitive match). */
  aliases: string[];
  /** Units converted on the way in. */
  conversions: Record<string, (v: number) => number>;
  /** Outside this range a value cannot be a real measurement (device fault or wrong unit). */
  plausible: [number, number];
  /** Resolution values are rounded to before storing and scoring. */
  decimals: number;
}

interface CodedVital {
  kind: 'acvpu' | 'boolean';
}

export type VitalDefinition = {
  sign: VitalSign;
  display: string;
  /** The coding a canonical observation carries first (LOINC where one exists). */
  coding: Coding;
  /** Further codings it also carries (e.g. SpO2 by pulse oximetry also carries 2708-6). */
  extraCodings: Coding[];
} & (NumericVital | CodedVital);

const perMinute = ['/min', '{beats}/min', '{breaths}/min', 'bpm', 'beats/min', 'breaths/min', 'rpm', '1/min', 'min-1'];

export const VITALS: Record<VitalSign, VitalDefinition> = {
  'heart-rate': {
    sign: 'heart-rate',
    display: 'Heart rate',
    coding: { system: LOINC, code: '8867-4', display: 'Heart rate' },
    extraCodings: [],
    kind: 'quantity',
    unit: '/min',
    aliases: perMinute,
    conversions: {},
    // 0 is asystole (a real and urgent reading); above 350 no human heart beats.
    plausible: [0, 350],
    decimals: 0,
  },
  'pulse-rate': {
    sign: 'pulse-rate',
    display: 'Pulse rate (from pulse oximetry)',
    coding: { system: LOINC, code: '8889-8', display: 'Heart rate by Pulse oximetry' },
    extraCodings: [],
    kind: 'quantity',
    unit: '/min',
    aliases: perMinute,
    conversions: {},
    plausible: [0, 350],
    decimals: 0,
  },
  'respiratory-rate': {
    sign: 'respiratory-rate',
    display: 'Respiratory rate',
    coding: { system: LOINC, code: '9279-1', display: 'Respiratory rate' },
    extraCodings: [],
    kind: 'quantity',
    unit: '/min',
    aliases: perMinute,
    conversions: {},
    plausible: [0, 120],
    decimals: 0,
  },
  spo2: {
    sign: 'spo2',
    display: 'Oxygen saturation by pulse oximetry',
    coding: { system: LOINC, code: '59408-5', display: 'Oxygen saturation in Arterial blood by Pulse oximetry' },
    extraCodings: [{ system: LOINC, code: '2708-6', display: 'Oxygen saturation in Arterial blood' }],
    kind: 'quantity',
    unit: '%',
    aliases: ['%', 'percent', 'pct'],
    conversions: {},
    plausible: [0, 100],
    decimals: 0,
  },
  temperature: {
    sign: 'temperature',
    display: 'Body temperature',
    coding: { system: LOINC, code: '8310-5', display: 'Body temperature' },
    extraCodings: [],
    kind: 'quantity',
    unit: 'Cel',
    aliases: ['Cel', '°C', 'C', 'degC', 'celsius', 'deg C'],
    conversions: { '[degF]': (f) => ((f - 32) * 5) / 9, '°F': (f) => ((f - 32) * 5) / 9, degF: (f) => ((f - 32) * 5) / 9 },
    // Survivable core temperatures; a probe in room air reads ~22-28 and is caught here.
    plausible: [25, 45],
    decimals: 1,
  },
  'systolic-bp': {
    sign: 'systolic-bp',
    display: 'Systolic blood pressure',
    coding: { system: LOINC, code: '8480-6', display: 'Systolic blood pressure' },
    extraCodings: [],
    kind: 'quantity',
    unit: 'mm[Hg]',
    aliases: ['mm[Hg]', 'mmHg', 'mm Hg', 'mmhg'],
    conversions: { kPa: (k) => k * 7.50062 },
    plausible: [20, 300],
    decimals: 0,
  },
  'diastolic-bp': {
    sign: 'diastolic-bp',
    display: 'Diastolic blood pressure',
    coding: { system: LOINC, code: '8462-4', display: 'Diastolic blood pressure' },
    extraCodings: [],
    kind: 'quantity',
    unit: 'mm[Hg]',
    aliases: ['mm[Hg]', 'mmHg', 'mm Hg', 'mmhg'],
    conversions: { kPa: (k) => k * 7.50062 },
    plausible: [10, 250],
    decimals: 0,
  },
  'mean-bp': {
    sign: 'mean-bp',
    display: 'Mean blood pressure',
    coding: { system: LOINC, code: '8478-0', display: 'Mean blood pressure' },
    extraCodings: [],
    kind: 'quantity',
    unit: 'mm[Hg]',
    aliases: ['mm[Hg]', 'mmHg', 'mm Hg', 'mmhg'],
    conversions: { kPa: (k) => k * 7.50062 },
    plausible: [10, 280],
    decimals: 0,
  },
  consciousness: {
    sign: 'consciousness',
    display: 'ACVPU scale',
    coding: { system: SNOMED, code: '1104441000000107', display: 'ACVPU (Alert Confusion Voice Pain Unresponsive) scale score' },
    extraCodings: [],
    kind: 'acvpu',
  },
  'supplemental-oxygen': {
    sign: 'supplemental-oxygen',
    display: 'On supplemental oxygen',
    coding: { system: LOCAL, code: 'supplemental-oxygen', display: 'Patient is receiving supplemental oxygen' },
    extraCodings: [],
    kind: 'boolean',
  },
  'oxygen-flow': {
    sign: 'oxygen-flow',
    display: 'Inhaled oxygen flow rate',
    coding: { system: LOINC, code: '3151-8', display: 'Inhaled oxygen flow rate' },
    extraCodings: [],
    kind: 'quantity',
    unit: 'L/min',
    aliases: ['L/min', 'l/min', 'lpm'],
    conversions: {},
    plausible: [0, 70],
    decimals: 1,
  },
};

export const VITAL_SIGNS = Object.keys(VITALS) as VitalSign[];

/** Every code that names a vital sign, per code system, including the device vocabularies we map. */
const byCode = new Map<string, Map<string, VitalSign>>();
function addCode(system: string, code: string, sign: VitalSign): void {
  let codes = byCode.get(system);
  if (!codes) byCode.set(system, (codes = new Map()));
  codes.set(code, sign);
}
for (const def of Object.values(VITALS)) {
  addCode(def.coding.system, def.coding.code, def.sign);
  for (const c of def.extraCodings) addCode(c.system, c.code, def.sign);
}
// A plain LOINC SpO2 (2708-6) sent on its own is still a saturation reading.
addCode(LOINC, '2708-6', 'spo2');
addCode(LOINC, '8478-0', 'mean-bp');
addCode(LOINC, '3150-0', 'supplemental-oxygen'); // inhaled O2 concentration: handled as "on oxygen" when > 21 %
// Short names accepted in the JSON contract (documented list).
const shortNames: Record<string, VitalSign> = {
  hr: 'heart-rate',
  'heart-rate': 'heart-rate',
  pr: 'pulse-rate',
  'pulse-rate': 'pulse-rate',
  rr: 'respiratory-rate',
  'respiratory-rate': 'respiratory-rate',
  spo2: 'spo2',
  temp: 'temperature',
  temperature: 'temperature',
  sbp: 'systolic-bp',
  'systolic-bp': 'systolic-bp',
  dbp: 'diastolic-bp',
  'diastolic-bp': 'diastolic-bp',
  map: 'mean-bp',
  'mean-bp': 'mean-bp',
  acvpu: 'consciousness',
  consciousness: 'consciousness',
  o2: 'supplemental-oxygen',
  'supplemental-oxygen': 'supplemental-oxygen',
  'o2-flow': 'oxygen-flow',
  'oxygen-flow': 'oxygen-flow',
};
for (const [name, sign] of Object.entries(shortNames)) addCode(LOCAL, name, sign);

// ISO/IEEE 11073-10101 (MDC) codes monitors send in IHE PCD-01 (standards.md §6.2).
const mdcCodes: Record<string, VitalSign> = {
  '147842': 'heart-rate', // MDC_ECG_HEART_RATE / MDC_ECG_CARD_BEAT_RATE
  '149530': 'pulse-rate', // MDC_PULS_OXIM_PULS_RATE
  '150456': 'spo2', // MDC_PULS_OXIM_SAT_O2
  '151562': 'respiratory-rate', // MDC_RESP_RATE
  '151570': 'respiratory-rate', // MDC_AWAY_RESP_RATE
  '150344': 'temperature', // MDC_TEMP
  '150364': 'temperature', // MDC_TEMP_BODY
  '150021': 'systolic-bp', // MDC_PRESS_BLD_NONINV_SYS
  '150022': 'diastolic-bp', // MDC_PRESS_BLD_NONINV_DIA
  '150023': 'mean-bp', // MDC_PRESS_BLD_NONINV_MEAN
  '150301': 'systolic-bp', // MDC_PRESS_CUFF_SYS
  '150302': 'diastolic-bp', // MDC_PRESS_CUFF_DIA
  '150303': 'mean-bp', // MDC_PRESS_CUFF_MEAN
};
for (const [code, sign] of Object.entries(mdcCodes)) addCode(MDC, code, sign);

/** MDC unit codes (OBX-6) and the UCUM unit they mean. */
export const MDC_UNITS: Record<string, string> = {
  '264864': '/min', // MDC_DIM_BEAT_PER_MIN
  '264928': '/min', // MDC_DIM_RESP_PER_MIN
  '262688': '%', // MDC_DIM_PERCENT
  '266016': 'mm[Hg]', // MDC_DIM_MMHG
  '268192': 'Cel', // MDC_DIM_DEGC
  '266560': '[degF]', // MDC_DIM_FAHR
  '265248': 'L/min', // MDC_DIM_X_L_PER_MIN
};

/** Mindray eGateway proprietary OBX-3 codes (standards.md §6.2; from third-party code). */
export const MINDRAY_CODES: Record<string, VitalSign> = {
  '101': 'heart-rate',
  '151': 'respiratory-rate',
  '160': 'spo2',
  '161': 'pulse-rate',
  '170': 'systolic-bp',
  '171': 'diastolic-bp',
  '172': 'mean-bp',
  '200': 'temperature',
};

/** The vital sign a code names, or undefined. `system` may be omitted for LOINC codes and short names. */
export function vitalForCode(system: string | undefined, code: string): VitalSign | undefined {
  if (system) return byCode.get(normaliseSystem(system))?.get(code);
  return byCode.get(LOINC)!.get(code) ?? byCode.get(LOCAL)!.get(code.toLowerCase());
}

/** Accepts the spellings of code systems devices use (`LN`, `LOINC`, `MDC`, `SCT`…). */
export function normaliseSystem(system: string): string {
  if (system === LOINC || system === MDC || system === SNOMED || system === LOCAL) return system;
  const s = system.trim();
  switch (s.toUpperCase()) {
    case 'LN':
    case 'LOINC':
    case 'HTTP://LOINC.ORG':
      return LOINC;
    case 'MDC':
    case 'URN:ISO:STD:ISO:11073:10101':
      return MDC;
    case 'SCT':
    case 'SNOMED':
    case 'SNOMED-CT':
    case 'HTTP://SNOMED.INFO/SCT':
      return SNOMED;
    case 'LOCAL':
    case 'HISBRIDGE':
    case 'URN:HISBRIDGE:IOMT':
      return LOCAL;
    default:
      return s;
  }
}

const ALIASES = new Map<VitalSign, Set<string>>(
  Object.values(VITALS).map((d) => [d.sign, new Set(d.kind === 'quantity' ? [d.unit, ...d.aliases].map((a) => a.toLowerCase()) : [])]),
);

export type UnitResult = { ok: true; value: number } | { ok: false; reason: string };

/** Converts a value in the unit a device sent to the catalogue's UCUM unit, or says why it cannot. */
export function toCanonicalUnit(sign: VitalSign, value: number, unit: string | undefined): UnitResult {
  const def = VITALS[sign];
  if (def.kind !== 'quantity') return { ok: true, value };
  if (unit === undefined || unit === '') return { ok: false, reason: `unit missing for ${def.coding.code} (${def.display}); expected ${def.unit}` };
  if (unit === def.unit) return { ok: true, value };
  const u = unit.trim();
  if (ALIASES.get(sign)!.has(u.toLowerCase())) return { ok: true, value };
  const convert = def.conversions[u];
  if (convert) return { ok: true, value: convert(value) };
  return { ok: false, reason: `unit "${u}" is not valid for ${def.coding.code} (${def.display}); expected ${def.unit}` };
}

/** Rounds to the parameter's resolution (NEWS2 bands are defined on whole numbers, temperature on 0.1 °C). */
export function roundToResolution(sign: VitalSign, value: number): number {
  const def = VITALS[sign];
  if (def.kind !== 'quantity') return value;
  const f = 10 ** def.decimals;
  // Round half away from zero on the decimal representation (avoid 36.05 → 36.0 binary artefacts).
  return Math.round((value + Math.sign(value) * Number.EPSILON) * f) / f;
}

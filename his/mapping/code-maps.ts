// Code maps kept as data under mappings/codes/: analyser test code ↔ HIS service code ↔ LOINC,
// the ICD-10 list, and basic BHYT code lists. Loaded and validated with zod; a bad row names its
// file and index.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';

export const MAPPINGS_DIR = path.resolve(__dirname, '..', '..', 'mappings');

const code = z.union([z.string(), z.number()]).transform(String);

const labTestEntry = z.object({
  /** Analyser id this row applies to, `*` for every analyser. */
  analyser: z.string().min(1).default('*'),
  analyserCode: code.pipe(z.string().min(1)),
  hisServiceCode: code.pipe(z.string().min(1)),
  bhytServiceCode: code.optional(),
  loinc: code.pipe(z.string().regex(/^\d{1,7}-\d$/, 'LOINC looks like 2345-7')).optional(),
  name: z.string().min(1),
  unit: z.string().default(''),
  low: code.optional(),
  high: code.optional(),
  specimen: z.string().optional(),
});
export type LabTestEntry = z.infer<typeof labTestEntry>;

const labTestsFile = z.object({ kind: z.literal('lab-tests'), entries: z.array(labTestEntry).min(1) });

const icdFile = z.object({
  kind: z.literal('icd10'),
  entries: z.array(z.object({ code: code.pipe(z.string().regex(/^[A-Z]\d{2}(\.\d{1,2})?$/, 'ICD-10 looks like J18.9')), name: z.string().min(1) })),
});

const bhytBasicsFile = z.object({ kind: z.literal('bhyt-basics'), lists: z.record(z.string(), z.record(z.string(), z.string())) });

function readYaml<T>(file: string, schema: z.ZodType<T>): T {
  let data: unknown;
  try {
    data = parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
  const parsed = schema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${file}: ${issue.path.join('.') || '(root)'}: ${issue.message}`);
  }
  return parsed.data;
}

/** Translates lab codes in every direction; rows for a named analyser win over `*` rows. */
export class LabCodeMap {
  private readonly byAnalyserCode = new Map<string, LabTestEntry>();
  private readonly byLoinc = new Map<string, LabTestEntry>();
  private readonly byHisCode = new Map<string, LabTestEntry[]>();

  constructor(readonly entries: LabTestEntry[]) {
    for (const e of entries) {
      const key = `${e.analyser}\u0000${e.analyserCode}`;
      if (this.byAnalyserCode.has(key)) throw new Error(`lab code map: analyser ${e.analyser} code ${e.analyserCode} appears twice`);
      this.byAnalyserCode.set(key, e);
      if (e.loinc && e.analyser === '*' && !this.byLoinc.has(e.loinc)) this.byLoinc.set(e.loinc, e);
      const list = this.byHisCode.get(e.hisServiceCode) ?? [];
      list.push(e);
      this.byHisCode.set(e.hisServiceCode, list);
    }
  }

  static load(file = path.join(MAPPINGS_DIR, 'codes', 'lab-tests.yaml')): LabCodeMap {
    return new LabCodeMap(readYaml(file, labTestsFile).entries);
  }

  /** The entry for an analyser's test code (its own row first, then the `*` row). */
  fromAnalyser(code: string, analyserId?: string): LabTestEntry | undefined {
    return (analyserId && this.byAnalyserCode.get(`${analyserId}\u0000${code}`)) || this.byAnalyserCode.get(`*\u0000${code}`);
  }

  fromLoinc(loinc: string): LabTestEntry | undefined {
    return this.byLoinc.get(loinc);
  }

  /** All analytes filed under one HIS service (a panel such as the blood count has several). */
  forHisService(hisServiceCode: string, analyserId?: string): LabTestEntry[] {
    const all = this.byHisCode.get(hisServiceCode) ?? [];
    const own = analyserId ? all.filter((e) => e.analyser === analyserId) : [];
    const ownCodes = new Set(own.map((e) => e.loinc ?? e.analyserCode));
    return [...own, ...all.filter((e) => e.analyser === '*' && !ownCodes.has(e.loinc ?? e.analyserCode))];
  }
}

export interface IcdEntry {
  code: string;
  name: string;
}

export function loadIcd10(file = path.join(MAPPINGS_DIR, 'codes', 'icd10.yaml')): Map<string, IcdEntry> {
  return new Map(readYaml(file, icdFile).entries.map((e) => [e.code, e]));
}

export function loadBhytBasics(file = path.join(MAPPINGS_DIR, 'codes', 'bhyt-basics.yaml')): Record<string, Record<string, string>> {
  return readYaml(file, bhytBasicsFile).lists;
}

export { readYaml };

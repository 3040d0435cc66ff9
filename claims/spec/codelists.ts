// Code lists (mappings/bhyt/*.json) and the MUC_HUONG policy, loaded once. A hospital can point
// `dir` at its own copy to add codes (e.g. the official QĐ 3276 MA_DOITUONG_KCB list) without a release.
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FormatVersion } from './types';

export interface CodeEntry {
  code: string;
  vi?: string;
  en?: string;
  note?: string;
  /** Versions the code exists in (all versions when absent). */
  versions?: FormatVersion[];
}

export interface CodeList {
  name: string;
  title: string;
  fields: string[];
  source: string;
  /** false = the project's list is known to be partial: an unknown code is a warning, not an error. */
  complete: boolean;
  /** Shape every code must have even when the list is partial. */
  pattern?: string;
  codes: CodeEntry[];
}

export type FacilityLevel = 'central' | 'provincial' | 'district' | 'commune';

export interface BenefitPolicy {
  cardLevels: Record<string, number>;
  routeByCategoryFamily: Record<string, 'on-route' | 'emergency' | 'off-route' | 'withdrawal' | 'not-insured' | 'other'>;
  offRouteRate: Record<FacilityLevel, { inpatient: number; outpatient: number }> & { note?: string };
  inpatientCareTypes: string[];
  /** Base salary (mức lương cơ sở) history, oldest first. */
  baseSalaries: Array<{ amount: string; from: string }>;
  smallCostPercentOfBaseSalary: number;
}

export const defaultMappingsDir = path.resolve(__dirname, '..', '..', 'mappings', 'bhyt');

export class CodeLists {
  private readonly lists = new Map<string, CodeList>();
  private readonly index = new Map<string, Map<string, CodeEntry>>();
  readonly benefit: BenefitPolicy;

  constructor(readonly dir: string = defaultMappingsDir) {
    for (const file of readdirSync(dir).filter((f) => f.endsWith('.json')).sort()) {
      const data = JSON.parse(readFileSync(path.join(dir, file), 'utf8'));
      if (file === 'benefit-policy.json') continue;
      const list = data as CodeList;
      if (!list.name || !Array.isArray(list.codes)) throw new Error(`${path.join(dir, file)} is not a code list (needs name and codes)`);
      this.lists.set(list.name, list);
      this.index.set(list.name, new Map(list.codes.map((c) => [c.code, c])));
    }
    this.benefit = JSON.parse(readFileSync(path.join(dir, 'benefit-policy.json'), 'utf8')) as BenefitPolicy;
  }

  list(name: string): CodeList | undefined {
    return this.lists.get(name);
  }

  names(): string[] {
    return [...this.lists.keys()];
  }

  /** The entry for a code valid in `version`, or undefined. */
  lookup(name: string, code: string, version: FormatVersion): CodeEntry | undefined {
    const entry = this.index.get(name)?.get(code);
    if (!entry) return undefined;
    if (entry.versions && !entry.versions.includes(version)) return undefined;
    return entry;
  }

  /** Codes valid in `version`, for messages. */
  codes(name: string, version: FormatVersion): string[] {
    return (this.lists.get(name)?.codes ?? []).filter((c) => !c.versions || c.versions.includes(version)).map((c) => c.code);
  }
}

let shared: CodeLists | undefined;

export function defaultCodeLists(): CodeLists {
  shared ??= new CodeLists();
  return shared;
}

import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { LabCodeMap, MAPPINGS_DIR, type LabTestEntry } from './code-maps';
import { mappingSchema, type HisMapping } from './schema';

export interface LoadedMapping {
  mapping: HisMapping;
  file: string;
  labCodes: LabCodeMap;
}

/** Resolves a mapping name (`demo-his`, `example-english`) or path to a file. */
export function mappingFile(nameOrPath: string): string {
  if (nameOrPath.endsWith('.yaml') || nameOrPath.endsWith('.yml') || nameOrPath.includes('/')) return path.resolve(nameOrPath);
  return path.join(MAPPINGS_DIR, `${nameOrPath}.yaml`);
}

/** Parses and validates a mapping; errors name the file and the path inside it. */
export function parseMapping(text: string, file = '(inline)'): HisMapping {
  let data: unknown;
  try {
    data = parse(text, { merge: true });
  } catch (err) {
    throw new Error(`${file}: YAML: ${(err as Error).message}`);
  }
  const parsed = mappingSchema.safeParse(data);
  if (!parsed.success) {
    const lines = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new Error(`${file}: invalid mapping: ${lines.join('; ')}`);
  }
  return parsed.data;
}

export function loadMapping(nameOrPath: string): LoadedMapping {
  const file = mappingFile(nameOrPath);
  if (!existsSync(file)) throw new Error(`mapping file not found: ${file}`);
  const mapping = parseMapping(readFileSync(file, 'utf8'), file);
  const entries: LabTestEntry[] = [];
  for (const rel of mapping.codeMaps.files) entries.push(...LabCodeMap.load(path.resolve(path.dirname(file), rel)).entries);
  return { mapping, file, labCodes: new LabCodeMap(entries) };
}

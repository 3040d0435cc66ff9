// The analyser ↔ HIS service ↔ LOINC code map for one analyser: the shared rows of
// mappings/codes/lab-tests.yaml plus the analyser's own file mappings/analyzers/<profile>.yaml (same
// format, rows keyed by the profile id), which win for that analyser.
import fs from 'node:fs';
import path from 'node:path';
import { LabCodeMap, MAPPINGS_DIR, type LabTestEntry } from '../../his/mapping/code-maps';

const cache = new Map<string, LabCodeMap>();

/** Code-map files for a profile: the shared lab-test map, then the profile's own when present. */
export function defaultCodeMapFiles(profileId: string, mappingsDir = MAPPINGS_DIR): string[] {
  const files = [path.join(mappingsDir, 'codes', 'lab-tests.yaml')];
  const own = path.join(mappingsDir, 'analyzers', `${profileId}.yaml`);
  if (fs.existsSync(own)) files.push(own);
  return files;
}

/** Loads and merges code-map files (cached by file list); errors name the file and row. */
export function loadCodeMap(files: string[]): LabCodeMap {
  const key = files.join('\u0000');
  const hit = cache.get(key);
  if (hit) return hit;
  const entries: LabTestEntry[] = [];
  for (const file of files) entries.push(...LabCodeMap.load(file).entries);
  const map = new LabCodeMap(entries);
  cache.set(key, map);
  return map;
}

/** Rows for an analyser id are looked up under the configured device id first, then the profile id. */
export function entryFor(map: LabCodeMap, code: string, ids: string[], loinc?: string): LabTestEntry | undefined {
  for (const id of ids) {
    const own = map.entries.find((e) => e.analyser === id && e.analyserCode === code);
    if (own) return own;
  }
  return map.fromAnalyser(code) ?? (loinc ? map.fromLoinc(loinc) : undefined);
}

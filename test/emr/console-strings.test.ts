// The viewer's strings: both languages have the same keys (none empty, same placeholders) and every
// key the EMR pages use exists. (The console's own dictionary test reads only the core dictionaries.)
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { emrEn, emrVi } from '../../console/src/emr/strings';

const dir = path.resolve(__dirname, '..', '..', 'console', 'src', 'emr');

describe('emr: viewer strings', () => {
  it('Vietnamese and English have the same keys and placeholders, and every key the pages use exists', () => {
    assert.deepEqual(Object.keys(emrEn).sort(), Object.keys(emrVi).sort());
    for (const key of Object.keys(emrVi) as Array<keyof typeof emrVi>) {
      assert.ok(emrVi[key].trim() && emrEn[key].trim(), key);
      const names = (s: string) => (s.match(/\{\w+\}/g) ?? []).sort().join(',');
      assert.equal(names(emrEn[key]), names(emrVi[key]), `placeholders of ${key}`);
    }
    const used = new Set<string>();
    for (const file of fs.readdirSync(dir).filter((f) => f.endsWith('.ts'))) {
      const text = fs.readFileSync(path.join(dir, file), 'utf8');
      for (const m of text.matchAll(/\btx\('([a-zA-Z0-9_.-]+)'/g)) used.add(m[1]);
      for (const m of text.matchAll(/TITLE_KEY = '([a-z.]+)'/g)) used.add(m[1]);
    }
    // Keys built from values.
    const families: Record<string, string[]> = {
      'emr.type': ['lab-report', 'imaging-report', 'vital-signs', 'discharge-summary'],
      'emr.sex': ['male', 'female', 'other', 'unknown'],
      'emr.labs.flag': ['N', 'L', 'H', 'LL', 'HH', 'A'],
      'emr.tab': ['timeline', 'labs', 'vitals', 'imaging'],
      'emr.risk': ['low', 'low-medium', 'medium', 'high'],
      'emr.missing': ['respiratoryRate', 'spo2', 'systolicBp', 'pulse', 'temperature', 'consciousness', 'onOxygen'],
    };
    for (const [prefix, values] of Object.entries(families)) for (const v of values) used.add(`${prefix}.${v}`);
    const missing = [...used].filter((k) => !(k in emrVi));
    assert.deepEqual(missing, []);
    assert.ok(used.size > 80, `${used.size} keys in use`);
  });
});

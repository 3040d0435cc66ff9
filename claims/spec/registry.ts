// Loads the table descriptions of one format version: a base version (4210, 130) is read as is,
// an amending version (4750, 3176) is its base with the recorded changes applied, in order.
import qd4210 from './data/qd4210.json';
import qd130 from './data/qd130.json';
import qd4750 from './data/qd4750.json';
import qd3176 from './data/qd3176.json';
import type { FieldSpec, FormatSpec, FormatVersion, SpecChange, SpecFile, TableId, TableSpec } from './types';
import { formatVersions } from './types';

const files: Record<FormatVersion, SpecFile> = {
  '4210': qd4210 as unknown as SpecFile,
  '130': qd130 as unknown as SpecFile,
  '4750': qd4750 as unknown as SpecFile,
  '3176': qd3176 as unknown as SpecFile,
};

/** The version a new claim is built in today (the gateway runs 3176 since 01/01/2025). */
export const currentVersion: FormatVersion = '3176';

const cache = new Map<FormatVersion, FormatSpec>();

export function isFormatVersion(value: string): value is FormatVersion {
  return (formatVersions as readonly string[]).includes(value);
}

/** The specification file of a version as stored (a base or a list of changes). */
export function specFile(version: FormatVersion): SpecFile {
  return files[version];
}

export function formatSpec(version: FormatVersion): FormatSpec {
  const hit = cache.get(version);
  if (hit) return hit;
  const file = files[version];
  let tables: TableSpec[];
  if (file.tables) tables = structuredClone(file.tables);
  else if (file.amends) {
    tables = structuredClone(formatSpec(file.amends).tables);
    for (const change of file.changes ?? []) applyChange(tables, change, version);
  } else throw new Error(`spec ${version} has neither tables nor a base version`);
  const spec: FormatSpec = {
    version,
    title: file.title,
    effectiveFrom: file.effectiveFrom,
    effectiveTo: file.effectiveTo,
    tables,
    endpoints: file.endpoints,
  };
  cache.set(version, spec);
  return spec;
}

export function tableSpec(version: FormatVersion, table: TableId): TableSpec | undefined {
  return formatSpec(version).tables.find((t) => t.id === table);
}

function applyChange(tables: TableSpec[], change: SpecChange, version: FormatVersion): void {
  if (change.op === 'addTable') {
    if (tables.some((t) => t.id === change.table.id)) throw new Error(`${version}: table ${change.table.id} added twice`);
    tables.push(structuredClone(change.table));
    tables.sort((a, b) => Number(a.id.slice(3)) - Number(b.id.slice(3)));
    return;
  }
  const table = tables.find((t) => t.id === change.table);
  if (!table) throw new Error(`${version}: change to unknown table ${change.table}`);
  const index = (name: string) => {
    const i = table.fields.findIndex((f) => f.name === name);
    if (i < 0) throw new Error(`${version}: change to unknown field ${change.table}.${name}`);
    return i;
  };
  switch (change.op) {
    case 'add': {
      const at = change.after === null ? 0 : index(change.after) + 1;
      table.fields.splice(at, 0, structuredClone(change.field));
      return;
    }
    case 'remove':
      table.fields.splice(index(change.field), 1);
      return;
    case 'retype': {
      const field = table.fields[index(change.field)];
      field.type = change.to;
      // A code that became a string (to keep leading zeros or dots, e.g. "01", "1.11") is no longer an integer.
      if (change.to === 'string' && field.format === 'integer') field.format = 'text';
      return;
    }
    case 'resize':
      table.fields[index(change.field)].maxLength = change.to;
      return;
    case 'rename': {
      const field = table.fields[index(change.field)];
      field.name = change.to;
      if (change.maxLength !== undefined) field.maxLength = change.maxLength;
      if (change.list !== undefined) field.list = change.list;
      return;
    }
    case 'amend':
      table.fields[index(change.field)].amendment = change.amendment;
      return;
    case 'set':
      Object.assign(table.fields[index(change.field)], change.attributes);
      return;
  }
}

/** One line per difference between two versions' tables (used by docs and the CLI). */
export function describeDifferences(from: FormatVersion, to: FormatVersion): string[] {
  const a = formatSpec(from);
  const b = formatSpec(to);
  const out: string[] = [];
  for (const tb of b.tables) {
    const ta = a.tables.find((t) => t.id === tb.id);
    if (!ta) {
      out.push(`${tb.id}: new table (${tb.fields.length} fields)`);
      continue;
    }
    if (ta.root !== tb.root || ta.list !== tb.list || ta.record !== tb.record) {
      out.push(`${tb.id}: layout ${ta.root}/${ta.list ?? '-'}/${ta.record} → ${tb.root}/${tb.list ?? '-'}/${tb.record}`);
    }
    const byName = new Map<string, FieldSpec>(ta.fields.map((f) => [f.name, f]));
    for (const fb of tb.fields) {
      const fa = byName.get(fb.name);
      if (!fa) {
        out.push(`${tb.id}.${fb.name}: added`);
        continue;
      }
      if (fa.type !== fb.type) out.push(`${tb.id}.${fb.name}: type ${fa.type} → ${fb.type}`);
      if (fa.maxLength !== fb.maxLength) out.push(`${tb.id}.${fb.name}: max length ${fa.maxLength ?? 'n'} → ${fb.maxLength ?? 'n'}`);
    }
    for (const fa of ta.fields) if (!tb.fields.some((f) => f.name === fa.name)) out.push(`${tb.id}.${fa.name}: removed`);
  }
  for (const ta of a.tables) if (!b.tables.some((t) => t.id === ta.id)) out.push(`${ta.id}: removed`);
  return out;
}

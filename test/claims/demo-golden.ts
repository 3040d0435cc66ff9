// Shared by the golden test and the script that (re)writes its expected files: the demo hospital
// the golden episodes come from, and how an episode's tables are written as readable expected XML.
import path from 'node:path';
import { HisDatabase } from '../../connectors/his-db/his-database';
import { createDemoHis } from '../../his/demo';
import { loadMapping } from '../../his/mapping/load';
import type { ClaimSource } from '../../claims/builder/build';
import type { ClaimRecord, Episode } from '../../claims/model';
import { loadClaimSource } from '../../claims/pipeline';
import { formatSpec } from '../../claims/spec/registry';
import { escapeXml } from '../../claims/xml/writer';

/** Demo hospital parameters: the same seed, size and "today" always give the same rows. */
export const DEMO = { visits: 1500, seed: 7, today: new Date('2025-03-20T10:00:00+07:00') } as const;

/** The golden episodes: outpatient, inpatient with drugs, services, supplies and beds, emergency, off-route inpatient (32 = 80 × 40 %). */
export const GOLDEN = [
  { name: 'outpatient', maLk: 'LK00000185' },
  { name: 'inpatient', maLk: 'LK00000122' },
  { name: 'emergency', maLk: 'LK00000193' },
  { name: 'off-route', maLk: 'LK00000037' },
] as const;

export const goldenDir = path.join(__dirname, '..', 'fixtures', 'claims', 'golden');

export async function openGoldenHis(dir: string): Promise<{ his: HisDatabase; file: string }> {
  const { file } = await createDemoHis({ file: path.join(dir, 'his.sqlite'), ...DEMO });
  return { his: await HisDatabase.open({ type: 'sqlite', file }, loadMapping('demo-his')), file };
}

/** The claim source of a golden episode, read through the real HIS database connector and the demo-his mapping. */
export function goldenSource(his: HisDatabase, maLk: string): Promise<ClaimSource> {
  return loadClaimSource(his, maLk);
}

/** One table as readable XML: one field per line (compared field by field with the built tables). */
export function prettyTable(episode: Episode, table: keyof Episode['tables']): string {
  const spec = formatSpec(episode.version).tables.find((t) => t.id === table)!;
  const records = episode.tables[table]!;
  const rec = (r: ClaimRecord, indent: string) => Object.entries(r.fields).map(([k, v]) => (v === '' ? `${indent}<${k}/>` : `${indent}<${k}>${escapeXml(v)}</${k}>`)).join('\n');
  const lines = ['<?xml version="1.0" encoding="utf-8"?>', `<${spec.root}>`];
  if (!spec.repeating) lines.push(rec(records[0], '  '));
  else {
    if (spec.list) lines.push(`  <${spec.list}>`);
    for (const r of records) lines.push(`    <${spec.record}>`, rec(r, '      '), `    </${spec.record}>`);
    if (spec.list) lines.push(`  </${spec.list}>`);
  }
  lines.push(`</${spec.root}>`, '');
  return lines.join('\n');
}

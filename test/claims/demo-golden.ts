// Shared by the golden test and the script that (re)writes its expected files: the demo hospital
// the golden episodes come from, and how an episode's tables are written as readable expected XML.
import path from 'node:path';
import { HisDatabase } from '../../connectors/his-db/his-database';
import { createDemoHis, installHis } from '../../his/demo';
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

/**
 * A second demo hospital for the documents tables: 20 days of history, so that inpatient stays (births,
 * transfers, sick leave of inpatients) are discharged and claimable.
 */
export const DOCUMENTS_DEMO = { visits: 2000, seed: 7, days: 20, today: new Date('2025-03-20T10:00:00+07:00') } as const;

/** One golden episode per documents table (XML13, XML9, XML10, XML11, XML6, XML15, XML12). */
export const DOCUMENT_GOLDEN = [
  { name: 'referral', maLk: 'LK00000004', table: 'XML13' },
  { name: 'birth', maLk: 'LK00000047', table: 'XML9' },
  { name: 'pregnancy-rest', maLk: 'LK00001033', table: 'XML10' },
  { name: 'sick-leave', maLk: 'LK00000028', table: 'XML11' },
  { name: 'hiv', maLk: 'LK00000575', table: 'XML6' },
  { name: 'tb', maLk: 'LK00001391', table: 'XML15' },
  { name: 'assessment', maLk: 'LK00000160', table: 'XML12' },
] as const;

export const documentsGoldenDir = path.join(__dirname, '..', 'fixtures', 'claims', 'golden-documents');

export async function openDocumentsHis(dir: string): Promise<{ his: HisDatabase; file: string }> {
  const file = path.join(dir, 'his-documents.sqlite');
  await installHis({ type: 'sqlite', file }, DOCUMENTS_DEMO);
  return { his: await HisDatabase.open({ type: 'sqlite', file }, loadMapping('demo-his')), file };
}

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

// Validating a ~100 MB GIAMDINHHS envelope (thousands of episodes) must stay within 200 MB RSS.
// The envelope is generated on disk as a stream; the validator and a baseline (read + UTF-8 decode
// only) each run in their own child process, which reports its time and peak RSS.
//   node --import tsx bench/claims/validate-large.ts        (SIZE_MB=100)
import { spawnSync } from 'node:child_process';
import { createWriteStream, mkdtempSync, rmSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildEpisode } from '../../claims/builder/build';
import { episodeFiles } from '../../claims/xml/writer';
import { syntheticSources } from './_episodes';

const SIZE_MB = Number(process.env.SIZE_MB ?? 100);

async function writeEnvelope(file: string): Promise<{ hoso: number; bytes: number }> {
  const out = createWriteStream(file);
  const write = (s: string) => (out.write(s) ? Promise.resolve() : new Promise<void>((r) => out.once('drain', () => r())));
  const target = SIZE_MB * 1024 * 1024;
  // The HOSO count goes in the header, so estimate it from one sample first.
  const templates = syntheticSources(400).map((s) => buildEpisode(s, { signerHealthId: '0101234567' }).episode);
  const hosoXml = (i: number) => {
    const ep = structuredClone(templates[i % templates.length]);
    const maLk = `BIG${String(i).padStart(9, '0')}`;
    for (const rs of Object.values(ep.tables)) for (const r of rs ?? []) if ('MA_LK' in r.fields) r.fields.MA_LK = maLk;
    return `<HOSO>${episodeFiles(ep).map((f) => `<FILEHOSO><LOAIHOSO>${f.loaiHoSo}</LOAIHOSO><NOIDUNGFILE>${Buffer.from(f.document as string, 'utf8').toString('base64')}</NOIDUNGFILE></FILEHOSO>`).join('')}</HOSO>`;
  };
  let sample = 0;
  for (let i = 0; i < templates.length; i++) sample += hosoXml(i).length;
  const count = Math.ceil(target / (sample / templates.length));
  await write(`<?xml version="1.0" encoding="utf-8"?>\n<GIAMDINHHS><THONGTINDONVI><MACSKCB>01999</MACSKCB></THONGTINDONVI><THONGTINHOSO><NGAYLAP>20250320</NGAYLAP><SOLUONGHOSO>${count}</SOLUONGHOSO><DANHSACHHOSO>`);
  for (let i = 0; i < count; i++) await write(hosoXml(i));
  await write('</DANHSACHHOSO></THONGTINHOSO><CHUKYDONVI></CHUKYDONVI></GIAMDINHHS>');
  await new Promise<void>((r) => out.end(() => r()));
  return { hoso: count, bytes: statSync(file).size };
}

function child(file: string, baseline: boolean): Record<string, unknown> & { ms: number; cpuMs: number; maxRssMb: number } {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(__dirname, '_validate-child.ts'), file, ...(baseline ? ['--baseline'] : [])], { encoding: 'utf8', maxBuffer: 1 << 20 });
  if (r.status !== 0) throw new Error(`child failed: ${r.stderr}`);
  return JSON.parse(r.stdout);
}

async function main() {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'claims-bench-'));
  try {
    const file = path.join(dir, 'big.xml');
    const { hoso, bytes } = await writeEnvelope(file);
    const base = child(file, true);
    const full = child(file, false);
    const mb = bytes / 1024 / 1024;
    console.log(`machine: ${os.cpus().length} cores, Node ${process.version}, load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
    console.log(`envelope: ${mb.toFixed(1)} MB, ${hoso} episodes (HOSO), unsigned`);
    const line = (label: string, r: typeof base, extra = '') =>
      console.log(`${label}: wall ${(r.ms / 1000).toFixed(2)} s (${(mb / (r.ms / 1000)).toFixed(1)} MB/s), CPU ${(r.cpuMs / 1000).toFixed(2)} s (${(mb / (r.cpuMs / 1000)).toFixed(1)} MB per CPU-s), peak RSS ${r.maxRssMb.toFixed(0)} MB${extra}`);
    line('baseline  read + UTF-8 decode (process incl. tsx)', base);
    line('validate  stream, one episode at a time           ', full, `; ${full.episodes} episodes (${Math.round(hoso / (full.cpuMs / 1000))} per CPU-s), ${full.errors} errors, ${full.warnings} warnings ${JSON.stringify(full.rules)}`);
    console.log(`ratio baseline / validate (CPU): ${(base.cpuMs / full.cpuMs).toFixed(3)}; RSS limit 200 MB: ${full.maxRssMb <= 200 ? 'met' : 'NOT met'}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});

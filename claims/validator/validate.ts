// The validator: field checks from the table descriptions, then the episode rules. Works on
// episodes the builder made and, through the streaming reader, on files from any software.
import { createReadStream } from 'node:fs';
import type { Readable } from 'node:stream';
import { type Episode, type Finding, formatFinding } from '../model';
import { currentVersion } from '../spec/registry';
import type { FormatVersion, TableId } from '../spec/types';
import { ClaimFileReader, type EnvelopeInfo } from '../xml/reader';
import { RuleContext, type ValidationOptions } from './context';
import { checkRecordFields } from './fields';
import { checkBenefit, checkCards, checkDates, checkIcd, checkLineMoney, checkLinks, checkServices, checkTablePresence, checkTotals } from './rules';

export type { ValidationOptions } from './context';

export interface EpisodeResult {
  findings: Finding[];
  errors: number;
  warnings: number;
}

export interface EpisodeValidationContext {
  /** A file holding one table: rules that need XML1 or several tables are skipped. */
  partial?: boolean;
  /** MACSKCB of the envelope the episode came in. */
  envelopeMaCskcb?: string;
}

export function validateEpisode(episode: Episode, options: ValidationOptions = {}, context: EpisodeValidationContext = {}): EpisodeResult {
  const ctx = new RuleContext(episode, options, context.partial ?? false);
  for (const [id, records] of Object.entries(episode.tables) as Array<[TableId, NonNullable<Episode['tables'][TableId]>]>) {
    const spec = ctx.table(id);
    if (!spec) continue; // reported by tables.version
    for (const r of records) checkRecordFields(ctx, spec, r);
  }
  checkTablePresence(ctx);
  checkLinks(ctx, context.envelopeMaCskcb);
  checkCards(ctx);
  checkIcd(ctx);
  checkDates(ctx);
  checkLineMoney(ctx);
  checkTotals(ctx);
  checkBenefit(ctx);
  checkServices(ctx);
  return { findings: ctx.reporter.findings, errors: ctx.reporter.errors, warnings: ctx.reporter.warnings };
}

export interface FileValidationOptions extends ValidationOptions {
  /** Version 130-family files are read as (default: the current version, 3176). */
  version?: FormatVersion;
  /** Called for every finding as soon as it is known (the CLI prints them as it goes). */
  onFinding?(finding: Finding): void;
  /** Called after each episode with its MA_LK and counts. */
  onEpisode?(summary: EpisodeSummary): void;
  /** How many findings the result keeps (all are counted and passed to onFinding). Default 10,000. */
  keepFindings?: number;
  maxInnerFileBytes?: number;
  maxEpisodeChars?: number;
}

export interface EpisodeSummary {
  hoso?: number;
  maLk?: string;
  /** Every MA_LK in the episode (a check-in file can hold several visits). */
  maLks: string[];
  version: FormatVersion;
  errors: number;
  warnings: number;
}

export interface FileResult {
  envelope: EnvelopeInfo;
  episodes: EpisodeSummary[];
  findings: Finding[];
  errors: number;
  warnings: number;
  /** Reading stopped early (bad encoding, malformed XML…). */
  fatal: boolean;
}

/** Validates a claim file from a stream of bytes, one episode at a time. */
export async function validateStream(input: Readable | AsyncIterable<Uint8Array> | Iterable<Uint8Array>, options: FileValidationOptions = {}): Promise<FileResult> {
  const keep = options.keepFindings ?? 10_000;
  const result: FileResult = { envelope: undefined as unknown as EnvelopeInfo, episodes: [], findings: [], errors: 0, warnings: 0, fatal: false };
  const add = (f: Finding) => {
    if (f.severity === 'error') result.errors++;
    else result.warnings++;
    if (result.findings.length < keep) result.findings.push(f);
    options.onFinding?.(f);
  };
  const reader = new ClaimFileReader(
    {
      finding: add,
      episode: (episode, { partial, envelope }) => {
        const r = validateEpisode(episode, options, { partial, envelopeMaCskcb: envelope.kind === 'envelope' ? envelope.maCskcb : undefined });
        for (const f of r.findings) {
          if (result.findings.length < keep) result.findings.push(f);
          options.onFinding?.(f);
        }
        result.errors += r.errors;
        result.warnings += r.warnings;
        const maLks = [...new Set(Object.values(episode.tables).flatMap((rs) => (rs ?? []).map((rec) => rec.fields.MA_LK)).filter((m): m is string => !!m))];
        const summary: EpisodeSummary = { hoso: episode.hoso, maLk: episode.tables.XML1?.[0]?.fields.MA_LK ?? maLks[0], maLks, version: episode.version, errors: r.errors, warnings: r.warnings };
        result.episodes.push(summary);
        options.onEpisode?.(summary);
      },
    },
    { version: options.version ?? currentVersion, maxInnerFileBytes: options.maxInnerFileBytes, maxEpisodeChars: options.maxEpisodeChars },
  );
  for await (const chunk of input as AsyncIterable<Uint8Array | string>) {
    reader.write(typeof chunk === 'string' ? Buffer.from(chunk) : chunk);
    if (reader.failed) break;
  }
  reader.end();
  result.envelope = reader.envelope;
  result.fatal = reader.failed;
  if (!reader.failed) for (const f of envelopeFindings(reader.envelope, options.version ?? currentVersion)) add(f);
  return result;
}

export function validateFile(file: string, options: FileValidationOptions = {}): Promise<FileResult> {
  // 64 KiB chunks: their decoded text is a young-generation string that the next scavenge frees. With
  // 1 MiB chunks every chunk's text went to V8's large-object space, which only a full GC empties, and
  // a 100 MB envelope then peaked above 200 MB RSS (bench/claims/validate-large.ts) at the same speed.
  return validateStream(createReadStream(file, { highWaterMark: 1 << 16 }), options);
}

export function validateBuffer(data: Buffer | string, options: FileValidationOptions = {}): Promise<FileResult> {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
  return validateStream([bytes], options);
}

function envelopeFindings(env: EnvelopeInfo, version: FormatVersion): Finding[] {
  const out: Finding[] = [];
  const f = (rule: string, message: string, severity: Finding['severity'] = 'error') => out.push({ severity, rule, table: env.kind === 'envelope' ? 'ENVELOPE' : 'FILE', message });
  if (env.utf8Bom) f('file.bom', 'the document starts with a UTF-8 byte-order mark; write UTF-8 without BOM', 'warning');
  if (env.kind !== 'envelope') {
    if (env.kind === 'checkin' && !env.signed) f('envelope.not-signed', 'CHUKYDONVI is empty: the check-in is not signed by the facility', 'warning');
    return out;
  }
  if (env.maCskcb === undefined || env.maCskcb === '') f('envelope.header', 'THONGTINDONVI/MACSKCB is missing or empty');
  else if (!/^[0-9]{5}$/.test(env.maCskcb)) f('envelope.header', `MACSKCB «${env.maCskcb}» is not a 5-digit facility code`);
  if (env.ngayLap === undefined || env.ngayLap === '') f('envelope.header', 'THONGTINHOSO/NGAYLAP is missing or empty');
  else if (!/^\d{8}$/.test(env.ngayLap)) f('envelope.header', `NGAYLAP «${env.ngayLap}» is not a date yyyyMMdd`);
  if (env.soLuongHoSo === undefined || env.soLuongHoSo === '') f('envelope.header', 'THONGTINHOSO/SOLUONGHOSO is missing or empty');
  else if (!/^\d+$/.test(env.soLuongHoSo) || Number(env.soLuongHoSo) !== env.hosoCount) f('envelope.count', `SOLUONGHOSO is «${env.soLuongHoSo}» but the envelope holds ${env.hosoCount} HOSO`);
  if (version === '3176' && env.hosoCount > 1) f('envelope.one-per-file', `${env.hosoCount} HOSO in one file; the 3176 guide asks for one episode per upload`, 'warning');
  if (!env.hasSignatureSlot) f('envelope.not-signed', 'GIAMDINHHS has no CHUKYDONVI element: the facility signature is missing', 'warning');
  else if (!env.signed) f('envelope.not-signed', 'CHUKYDONVI is empty: the facility signature is missing', 'warning');
  return out;
}

export { formatFinding };

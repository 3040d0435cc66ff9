// Analyser results → the canonical model: each patient specimen becomes a ResultBatch (HIS service
// codes from the lab code map, ASTM flags and statuses translated), each control specimen a QcBatch
// that never names a patient. Results the map does not know are listed, not guessed.
import type { AbnormalFlag, DeviceRef, ReferenceRange, Result, ResultBatch, ResultStatus } from '../../model';
import { fromHospitalParts, toHospitalDateTime } from '../../model/datetime';
import type { LabCodeMap } from '../../his/mapping/code-maps';
import { entryFor } from './codeMap';
import type { AnalyserReport, AnalyserResult, SpecimenReport } from './interpret';

export interface QcBatch {
  /** The control's id as the analyser sent it (lot / level). */
  controlId: string;
  reason: string;
  device: DeviceRef;
  results: Result[];
}

export interface UnfiledResult {
  specimenId: string;
  code: string;
  value: string;
  reason: string;
}

/** What the ASTM channel transformer hands to destinations. */
export interface AstmResultsOutput {
  kind: 'astm-results';
  device: DeviceRef;
  /** Patient results, one batch per specimen (for the HIS result destination). */
  batches: ResultBatch[];
  /** Control results (for the QC output, never onto a patient). */
  qc: QcBatch[];
  /** Results left out, each with the reason (unknown code, no value, pending). */
  unfiled: UnfiledResult[];
  /** Host queries in this message (answered by the source; nothing to file). */
  queries: number;
}

/** ASTM `YYYYMMDD[HHMM[SS]][±HHMM]` → ISO 8601 with offset (hospital time when the analyser gives none). */
export function astmDateTime(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const m = /^(\d{4})(\d{2})(\d{2})(?:(\d{2})(\d{2})(\d{2})?)?([+-]\d{4})?$/.exec(value.trim());
  if (!m) return undefined;
  const [, y, mo, d, h = '00', mi = '00', s = '00', zone] = m;
  if (!zone) return toHospitalDateTime(fromHospitalParts(+y, +mo, +d, +h, +mi, +s));
  const sign = zone[0] === '-' ? -1 : 1;
  const offset = sign * (parseInt(zone.slice(1, 3), 10) * 60 + parseInt(zone.slice(3), 10));
  const instant = new Date(Date.UTC(+y, +mo - 1, +d, +h, +mi, +s) - offset * 60_000);
  return toHospitalDateTime(instant);
}

const FLAG_MAP: Record<string, AbnormalFlag | undefined> = { N: 'N', L: 'L', H: 'H', LL: 'LL', HH: 'HH', A: 'A', AA: 'A', '<': 'L', '>': 'H' };

/** R-7 flags → one canonical abnormal flag (the most severe); delta flags U/D/B/W are not abnormality. */
export function abnormalFlag(flags: string[]): AbnormalFlag | undefined {
  const order: AbnormalFlag[] = ['LL', 'HH', 'L', 'H', 'A', 'N'];
  const mapped = flags.map((f) => FLAG_MAP[f.toUpperCase()]).filter((f): f is AbnormalFlag => f !== undefined);
  return order.find((f) => mapped.includes(f));
}

/** R-9 → canonical status; undefined means "not a reportable result" (pending, new-order info). */
export function resultStatus(code: string): ResultStatus | undefined {
  switch (code.toUpperCase()) {
    case '':
    case 'F':
    case 'V':
    case 'R':
    case 'Q':
    case 'M':
      return 'final';
    case 'C':
      return 'corrected';
    case 'P':
    case 'S':
    case 'W':
      return 'preliminary';
    case 'X':
      return 'cancelled';
    default:
      return undefined; // I (pending), N (info for a new order)
  }
}

/** `3.8 to 11.8`, `3.8-11.8`, `<5`, `>0.9` → low/high; the text is always kept. */
export function referenceRange(text: string): ReferenceRange | undefined {
  const t = text.trim();
  if (t === '') return undefined;
  let m = /^(-?\d+(?:\.\d+)?)\s*(?:to|-|–)\s*(-?\d+(?:\.\d+)?)$/i.exec(t);
  if (m) return { low: m[1], high: m[2], text: t };
  m = /^<=?\s*(-?\d+(?:\.\d+)?)$/.exec(t);
  if (m) return { high: m[1], text: t };
  m = /^>=?\s*(-?\d+(?:\.\d+)?)$/.exec(t);
  if (m) return { low: m[1], text: t };
  return { text: t };
}

const NUMERIC = /^[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$/;

export interface CanonicalOptions {
  codeMap: LabCodeMap;
  /** Ids the code map's analyser-specific rows may be keyed by (device id, then profile id). */
  analyserIds: string[];
  /** Analyser codes of results that repeat an earlier result for the same specimen (reruns). */
  reruns?: Set<string>;
  device: DeviceRef;
  /** Used when an R record has no completion time (the message time, else the receive time). */
  fallbackTime: string;
}

export function toCanonical(report: AnalyserReport, options: CanonicalOptions): AstmResultsOutput {
  const out: AstmResultsOutput = { kind: 'astm-results', device: options.device, batches: [], qc: [], unfiled: [], queries: report.queries.length };
  const messageTime = astmDateTime(report.messageTime) ?? options.fallbackTime;
  for (const specimen of report.specimens) {
    const results: Result[] = [];
    for (const r of specimen.results) {
      const result = toResult(specimen, r, options, messageTime, out.unfiled, !!specimen.qcReason);
      if (result) results.push(result);
    }
    if (specimen.qcReason) {
      if (results.length) out.qc.push({ controlId: specimen.specimenId, reason: specimen.qcReason, device: options.device, results });
      continue;
    }
    if (results.length === 0) continue;
    out.batches.push({ specimenId: specimen.specimenId, results });
  }
  return out;
}

function toResult(specimen: SpecimenReport, r: AnalyserResult, options: CanonicalOptions, messageTime: string, unfiled: UnfiledResult[], qc: boolean): Result | undefined {
  const skip = (reason: string) => {
    unfiled.push({ specimenId: specimen.specimenId, code: r.code, value: r.value, reason });
    return undefined;
  };
  const status = resultStatus(r.status);
  if (!status) return skip(`result status ${JSON.stringify(r.status)} is not a reportable result`);
  if (r.value === '' && status !== 'cancelled') return skip('no value (a flag or message from the analyser)');
  const entry = entryFor(options.codeMap, r.code, options.analyserIds, r.loinc);
  if (!entry && !qc) return skip(`analyser code ${JSON.stringify(r.code)} is not in the lab code map for ${options.analyserIds.join(' / ')}`);
  const comments = [...r.comments];
  // A rerun supersedes the earlier result; the HIS keeps the earlier one as superseded.
  const rerun = !qc && status === 'final' && options.reruns?.has(r.code);
  if (rerun) comments.push('Rerun: supersedes the earlier result');
  if (r.interpretation) comments.unshift(`Interpretation: ${r.interpretation}`);
  const extraFlags = r.flags.filter((f) => !FLAG_MAP[f.toUpperCase()]);
  if (extraFlags.length) comments.push(`Analyser flags: ${extraFlags.join(' ')}`);
  const result: Result = {
    code: r.code,
    value: r.value,
    valueType: NUMERIC.test(r.value) ? 'numeric' : 'text',
    status: rerun ? 'corrected' : status,
    observedAt: astmDateTime(r.completedAt) ?? astmDateTime(r.startedAt) ?? messageTime,
    device: r.instrument ? { ...options.device, name: [options.device.name, r.instrument].filter(Boolean).join(' ') } : options.device,
  };
  if (entry) {
    result.hisServiceCode = entry.hisServiceCode;
    result.name = entry.name;
  }
  const loinc = r.loinc ?? entry?.loinc;
  if (loinc) result.loinc = loinc;
  if (r.units) result.unit = r.units;
  const range = referenceRange(r.referenceRange);
  if (range) result.referenceRange = range;
  const flag = abnormalFlag(r.flags);
  if (flag) result.abnormalFlag = flag;
  if (r.operator && r.operator !== '$SYS$') result.operator = { id: r.operator };
  if (r.verifier) result.verifiedBy = { id: r.verifier };
  if (comments.length) result.comment = comments.join('; ');
  return result;
}

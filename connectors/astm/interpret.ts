// What an analyser said, read through its profile: specimens with their results (or a host query),
// with the vendor-specific places of sample id, rack, position, test code and result type resolved.
// Still analyser vocabulary (test codes, ASTM flags); canonical.ts maps it to the HIS's.
import type { AnalyzerProfile, FieldRef } from '../../devices/analyzers/profile';
import type { AstmMessage } from './codec/message';
import { unescapeValue } from './codec/escape';
import type { AstmRecord } from './codec/record';

export interface AnalyserResult {
  /** R-2 sequence number as sent. */
  sequence: string;
  /** The analyser's test code (from the profile's code component). */
  code: string;
  /** The Universal Test ID as sent (raw field text). */
  universalTestId: string;
  loinc?: string;
  value: string;
  units: string;
  referenceRange: string;
  /** R-7 abnormal flags as sent (repeats split). */
  flags: string[];
  /** R-9 result status code as sent (F, C, P, R, X…). */
  status: string;
  operator?: string;
  verifier?: string;
  startedAt?: string;
  completedAt?: string;
  instrument?: string;
  /** Result type component (Abbott F/I/P, Centaur DOSE/RLU…), when the profile names one. */
  resultType?: string;
  /** Interpretation sent as a separate R record of the same test (Abbott I, Centaur INTERP). */
  interpretation?: string;
  comments: string[];
}

export interface SpecimenReport {
  specimenId: string;
  instrumentSpecimenId?: string;
  rack?: string;
  position?: string;
  patientId?: string;
  patientName?: string;
  /** Set when this specimen is a control: says why (pattern, H-12, O-12). */
  qcReason?: string;
  actionCode: string;
  reportType: string;
  priority: string;
  results: AnalyserResult[];
  /** R records the profile keeps but does not file (e.g. raw RLU), by code. */
  unfiled: AnalyserResult[];
  comments: string[];
}

export interface HostQuery {
  sequence: string;
  specimenIds: string[];
  /** The Q-3 field as sent, to echo. */
  startingRange: string;
  tests: string[] | 'ALL';
  statusCode: string;
}

export interface AnalyserReport {
  sender: { name: string; version?: string; serial?: string };
  controlId: string;
  processingId: string;
  version: string;
  messageTime?: string;
  terminationCode: string;
  specimens: SpecimenReport[];
  queries: HostQuery[];
  /** Problems that make the report untrustworthy (the message is kept as errored). */
  errors: string[];
}

/** First non-blank value among the profile's places, looked up in the given records. */
export function pick(refs: FieldRef[] | undefined, records: Partial<Record<string, AstmRecord | undefined>>): string | undefined {
  if (!refs) return undefined;
  for (const ref of refs) {
    const record = records[ref.record];
    if (!record) continue;
    const value = record.value(ref.field, ref.component, ref.repeat).trim();
    if (value !== '') return value;
  }
  return undefined;
}

/** Test code from a Universal Test ID repeat's components, per the profile. */
export function testCode(components: string[], profile: AnalyzerProfile): string {
  let code = (components[profile.tests.codeComponent - 1] ?? '').trim();
  const stop = profile.tests.codeTerminator;
  if (stop && code.includes(stop)) code = code.slice(0, code.indexOf(stop));
  return code;
}

export function interpretMessage(message: AstmMessage, profile: AnalyzerProfile): AnalyserReport {
  const errors = [...message.errors];
  const header = message.records[0]?.type === 'H' ? message.records[0] : undefined;
  const terminator = message.records.find((r) => r.type === 'L');
  const report: AnalyserReport = {
    sender: { name: header?.value(5, 1).trim() ?? '', version: blank(header?.value(5, 2)), serial: blank(header?.value(5, 3)) },
    controlId: header?.value(3) ?? '',
    processingId: header?.value(12) ?? '',
    version: header?.value(13) ?? '',
    messageTime: blank(header?.value(14)),
    terminationCode: terminator?.value(3) ?? '',
    specimens: [],
    queries: [],
    errors,
  };
  if (report.terminationCode === 'T') errors.push('the sender aborted this message (L-3 = T)');
  if (report.terminationCode === 'E') errors.push('the sender reports an unknown system error (L-3 = E)');

  let patient: AstmRecord | undefined;
  let specimen: SpecimenReport | undefined;
  let lastResult: AnalyserResult | undefined;
  let lastNonComment: AstmRecord | undefined;
  const qcRegexes = profile.qc.specimenPatterns.map((p) => new RegExp(p));
  const messageIsQc = profile.qc.processingIdQ && report.processingId.toUpperCase() === 'Q';

  for (const record of message.records) {
    switch (record.type) {
      case 'P':
        patient = record;
        specimen = undefined;
        lastResult = undefined;
        break;
      case 'O': {
        const refs = { H: header, P: patient, O: record };
        const specimenId = pick(profile.identifiers.specimenId, refs) ?? '';
        const actionCode = record.value(12).trim();
        specimen = {
          specimenId,
          instrumentSpecimenId: pick(profile.identifiers.instrumentSpecimenId, refs),
          rack: pick(profile.identifiers.rack, refs),
          position: pick(profile.identifiers.position, refs),
          patientId: pick(profile.identifiers.patientId, refs),
          patientName: patient ? blank(patient.components(6).map((c) => c.trim()).filter(Boolean).join(' ')) : undefined,
          actionCode,
          reportType: record.value(26).trim(),
          priority: record.value(6).trim(),
          results: [],
          unfiled: [],
          comments: [],
        };
        specimen.qcReason = qcReason(specimen, record, refs, profile, qcRegexes, messageIsQc);
        if (specimenId === '') errors.push(`O record ${record.value(2) || '?'}: no specimen id where the ${profile.id} profile looks for it`);
        report.specimens.push(specimen);
        lastResult = undefined;
        break;
      }
      case 'R': {
        if (!specimen) break; // reported by the hierarchy check
        const result = readResult(record, profile);
        lastResult = result;
        const type = profile.tests.resultType;
        if (!type) specimen.results.push(result);
        else if (type.value.includes(result.resultType ?? '')) specimen.results.push(result);
        else if (type.interpretation.includes(result.resultType ?? '')) {
          const target = specimen.results.find((r) => r.code === result.code);
          if (target) target.interpretation = result.value;
          else specimen.unfiled.push(result);
        } else specimen.unfiled.push(result);
        break;
      }
      case 'C': {
        const text = record.repeats(4).map((rep) => rep.filter((c) => c.trim() !== '').join(' ')).join(' ').trim();
        if (text !== '') {
          if (lastNonComment?.type === 'R' && lastResult) lastResult.comments.push(text);
          else if (lastNonComment?.type === 'O' && specimen) specimen.comments.push(text);
        }
        break;
      }
      case 'Q':
        report.queries.push(readQuery(record, profile));
        break;
    }
    if (record.type !== 'C' && record.type !== 'M') lastNonComment = record;
  }
  return report;
}

function readResult(record: AstmRecord, profile: AnalyzerProfile): AnalyserResult {
  const idComponents = record.components(3);
  const type = profile.tests.resultType;
  const f = profile.tests.resultFields;
  const operator = record.components(f.operator);
  return {
    sequence: record.value(2),
    code: testCode(idComponents, profile),
    universalTestId: record.field(3),
    loinc: profile.tests.loincComponent ? blank(idComponents[profile.tests.loincComponent - 1]?.trim()) : undefined,
    value: record.value(f.value, profile.tests.valueComponent).trim(),
    // Units are one string even when they contain the component delimiter (DxH `10^9/L` is fine, `^` is not its delimiter).
    units: unescapeValue(record.field(f.units), record.delimiters).trim(),
    referenceRange: record.repeats(f.range).map((rep) => rep.join(' ').trim()).filter(Boolean).join('; '),
    flags: record.repeats(f.flags).map((rep) => rep[0].trim()).filter(Boolean),
    status: record.value(f.status).trim(),
    operator: blank(operator[0]?.trim()),
    verifier: blank(operator[1]?.trim()),
    startedAt: blank(record.value(f.started).trim()),
    completedAt: blank(record.value(f.completed).trim()),
    instrument: blank(record.value(f.instrument).trim()),
    resultType: type ? (idComponents[type.component - 1] ?? '').trim() : undefined,
    comments: [],
  };
}

function readQuery(record: AstmRecord, profile: AnalyzerProfile): HostQuery {
  const specimenIds: string[] = [];
  const repeats = record.repeats(3);
  // Each repeat of Q-3 may name one specimen; read each through the profile's component.
  for (let i = 1; i <= Math.max(1, repeats.length); i++) {
    for (const ref of profile.identifiers.querySpecimenId) {
      const v = record.value(ref.field, ref.component, i).trim();
      if (v !== '') {
        specimenIds.push(v);
        break;
      }
    }
  }
  const testRepeats = record.repeats(5);
  const all = testRepeats.length === 0 || testRepeats.some((rep) => rep.some((c) => c.trim().toUpperCase() === 'ALL'));
  return {
    sequence: record.value(2),
    specimenIds,
    startingRange: record.field(3),
    tests: all ? 'ALL' : testRepeats.map((rep) => testCode(rep, profile)).filter(Boolean),
    statusCode: record.value(13).trim(),
  };
}

function qcReason(
  specimen: SpecimenReport,
  order: AstmRecord,
  refs: Partial<Record<string, AstmRecord | undefined>>,
  profile: AnalyzerProfile,
  regexes: RegExp[],
  messageIsQc: boolean,
): string | undefined {
  if (messageIsQc) return 'H-12 processing id is Q (quality control)';
  if (profile.qc.actionCodeQ && specimen.actionCode.toUpperCase() === 'Q') return 'O-12 action code is Q (QC specimen)';
  for (const re of regexes) if (re.test(specimen.specimenId)) return `specimen id ${JSON.stringify(specimen.specimenId)} matches QC pattern ${re.source}`;
  for (const f of profile.qc.fields) {
    const record = refs[f.record];
    const value = record?.value(f.field, f.component, f.repeat) ?? '';
    if (new RegExp(f.pattern).test(value)) return `${f.record}-${f.field}.${f.component} ${JSON.stringify(value)} matches QC pattern ${f.pattern}`;
  }
  void order;
  return undefined;
}

function blank(v: string | undefined): string | undefined {
  return v === undefined || v.trim() === '' ? undefined : v;
}

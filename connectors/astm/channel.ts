// Channel building blocks for ASTM: the transformer that turns a stored ASTM message into canonical
// results (patient batches for the HIS, control results for the QC output), and the destination
// filters/transformers that route them. QC never reaches a patient: the HIS destination only ever
// sees `batches`, which hold no control specimen.
import type { ChannelMessage, DestinationInput, TransformContext } from '../../engine/channel/definition';
import { RESULT_CONTENT_TYPE } from '../../his/messages';
import { loadProfile, type AnalyzerProfile } from '../../devices/analyzers/profile';
import { toHospitalDateTime } from '../../model/datetime';
import { toCanonical, type AstmResultsOutput } from './canonical';
import { parseMessage } from './codec/message';
import { defaultCodeMapFiles, loadCodeMap } from './codeMap';
import { interpretMessage } from './interpret';
import type { AstmParsed } from './source';

export interface AstmTransformerOptions {
  profileDir?: string;
  /** Code-map files (default per profile: mappings/codes/lab-tests.yaml + mappings/analyzers/<profile>.yaml). */
  codeMapFiles?: string[];
}

export const QC_CONTENT_TYPE = 'application/vnd.hisbridge.qc+json';

/**
 * Channel transformer: stored ASTM message → AstmResultsOutput. Works from `parsed` when the source
 * gave it, else re-reads the raw text with the profile named in the message's origin (reprocessing).
 * Throws, naming the problem, when the message cannot be trusted: the engine keeps it as errored.
 */
export function astmResultsTransformer(options: AstmTransformerOptions = {}) {
  const profiles = new Map<string, AnalyzerProfile>();
  return (message: ChannelMessage, context: TransformContext): AstmResultsOutput => {
    const parsed = message.parsed as AstmParsed | undefined;
    const profileId = parsed?.profileId ?? message.origin.profile;
    if (!profileId) throw new Error('ASTM message without a profile in its origin: cannot tell which analyser sent it');
    let profile = profiles.get(profileId);
    if (!profile) {
      profile = loadProfile(profileId, options.profileDir);
      profiles.set(profileId, profile);
    }
    const analyzerId = parsed?.analyzerId ?? message.origin.analyzer ?? profileId;
    const report = parsed?.report ?? interpretMessage(parseMessage(message.raw.toString('utf8')), profile);
    if (report.errors.length) throw new Error(`ASTM from ${analyzerId}: ${report.errors.join('; ')}`);
    const reruns = parsed?.reruns ?? (message.meta.reruns ? message.meta.reruns.split(' ') : []);
    const output = toCanonical(report, {
      codeMap: loadCodeMap(options.codeMapFiles ?? defaultCodeMapFiles(profile.id)),
      analyserIds: [...new Set([analyzerId, profile.id])],
      device: { id: analyzerId, name: [report.sender.name, report.sender.serial].filter(Boolean).join(' ') || profile.name },
      fallbackTime: toHospitalDateTime(message.receivedAt),
      reruns: new Set(reruns),
    });
    const specimen = output.batches[0]?.specimenId;
    if (specimen) context.setCorrelation({ specimenId: specimen });
    if (output.unfiled.length) context.setMeta('unfiled', output.unfiled.map((u) => `${u.code}: ${u.reason}`).join('; '));
    if (output.qc.length) context.setMeta('qc', output.qc.map((q) => `${q.controlId} (${q.reason})`).join('; '));
    return output;
  };
}

function outputOf(input: DestinationInput): AstmResultsOutput {
  const value = input.value as AstmResultsOutput;
  if (value?.kind !== 'astm-results') throw new Error('this destination expects the output of astmResultsTransformer');
  return value;
}

/** HIS destination filter: only messages with patient results. */
export function hasPatientResults(input: DestinationInput): boolean | string {
  return outputOf(input).batches.length > 0 || 'no patient results (QC, query or nothing mapped)';
}

/** HIS destination transformer: the one ResultBatch of this message, as the his-db destination expects. */
export function toHisResultBatch(input: DestinationInput): string {
  const out = outputOf(input);
  if (out.batches.length !== 1) {
    throw new Error(`${out.batches.length} specimens in one message: enable splitBySpecimen on the astm source so each specimen is one HIS transaction`);
  }
  return JSON.stringify(out.batches[0]);
}

/** QC destination filter: only messages with control results. */
export function hasQcResults(input: DestinationInput): boolean | string {
  return outputOf(input).qc.length > 0 || 'no QC results';
}

/** QC destination transformer: control results with the analyser, never a patient. */
export function toQcRecord(input: DestinationInput): string {
  const out = outputOf(input);
  return JSON.stringify({ device: out.device, controls: out.qc });
}

export { RESULT_CONTENT_TYPE };

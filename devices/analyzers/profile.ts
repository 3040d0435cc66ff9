// Analyser profiles as data: one YAML file per analyser family under devices/analyzers/. A profile
// says how the analyser talks (transport defaults, link-layer quirks, delimiters), where it puts the
// sample id, rack and position, how its test ids are built, what marks a QC sample, and whether it
// asks the host for orders. Adding an analyser means adding a file, not code.
import fs from 'node:fs';
import path from 'node:path';
import YAML from 'yaml';
import { z } from 'zod';

const recordType = z.enum(['H', 'P', 'O', 'R', 'Q', 'C', 'L']);

/** Where a value is: record type, field position (1 = record type id), component, repeat. */
export const fieldRefSchema = z.object({
  record: recordType,
  field: z.number().int().min(1).max(64),
  component: z.number().int().min(1).max(32).default(1),
  repeat: z.number().int().min(1).default(1),
});
export type FieldRef = z.infer<typeof fieldRefSchema>;

/** Several places tried in order; the first non-blank value wins. */
const fieldRefs = z.array(fieldRefSchema).min(1);

const delimiterChar = z.string().length(1);

const timersSchema = z
  .object({
    enqReplyMs: z.number().int().positive(),
    contentionWaitMs: z.number().int().positive(),
    busyBackoffMs: z.number().int().positive(),
    contentionBackoffMs: z.number().int().positive(),
    frameReplyMs: z.number().int().positive(),
    receiverIdleMs: z.number().int().positive(),
    interruptHoldoffMs: z.number().int().positive(),
    retryAfterAbortMs: z.number().int().positive(),
  })
  .partial();

export const serialSettingsSchema = z.object({
  baudRate: z.number().int().positive().default(9600),
  dataBits: z.union([z.literal(7), z.literal(8)]).default(8),
  parity: z.enum(['none', 'even', 'odd']).default('none'),
  stopBits: z.union([z.literal(1), z.literal(2)]).default(1),
  flowControl: z.enum(['none', 'rtscts', 'xonxoff']).default('none'),
});
export type SerialSettings = z.infer<typeof serialSettingsSchema>;

export const analyzerProfileSchema = z
  .object({
    id: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and dashes'),
    name: z.string().min(1),
    vendor: z.string().min(1),
    models: z.array(z.string()).default([]),
    notes: z.string().optional(),
    /** Regular expressions matched against a message's H record to recognise this analyser (CLI decode). */
    detect: z.array(z.string()).default([]),
    transport: z
      .object({
        default: z.enum(['serial', 'tcp']).default('serial'),
        serial: serialSettingsSchema.default({ baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, flowControl: 'none' }),
        /** `server`: the engine listens (LIS1-A §8, the usual case); `client`: the analyser listens. */
        tcpRole: z.enum(['server', 'client']).default('server'),
        tcpPort: z.number().int().min(1).max(65535).optional(),
      })
      .default({ default: 'serial', serial: { baudRate: 9600, dataBits: 8, parity: 'none', stopBits: 1, flowControl: 'none' }, tcpRole: 'server' }),
    link: z
      .object({
        /** `lis1a`: ENQ/frames/ACK (E1381); `raw`: bare CR-terminated records, no link layer. */
        mode: z.enum(['lis1a', 'raw']).default('lis1a'),
        /** How we frame what we send: one record per frame sequence, or the whole message chained. */
        frameUnit: z.enum(['record', 'message']).default('record'),
        maxSendFrameText: z.number().int().min(16).max(63_993).default(240),
        maxReceiveFrameText: z.number().int().min(240).max(64_000).default(64_000),
        lenientFirstFrameNumber: z.boolean().default(false),
        honourInterrupt: z.boolean().default(true),
        maxFrameAttempts: z.number().int().min(1).max(20).default(6),
        timers: timersSchema.default({}),
      })
      .default({ mode: 'lis1a', frameUnit: 'record', maxSendFrameText: 240, maxReceiveFrameText: 64_000, lenientFirstFrameNumber: false, honourInterrupt: true, maxFrameAttempts: 6, timers: {} }),
    /** Wire character set: LIS2-A2 says ISO 8859-1. */
    encoding: z.enum(['latin1', 'utf8']).default('latin1'),
    /** What we put in the records we send. */
    send: z
      .object({
        delimiters: z
          .object({ field: delimiterChar, repeat: delimiterChar, component: delimiterChar, escape: delimiterChar })
          .default({ field: '|', repeat: '\\', component: '^', escape: '&' }),
        senderName: z.string().default('HISBRIDGE'),
        receiverId: z.string().optional(),
        version: z.string().optional(),
        /** Fold Vietnamese to ASCII (Nguyễn → Nguyen) in what we send; LIS2-A2 is ISO 8859-1 only. */
        foldToAscii: z.boolean().default(true),
      })
      .default({ delimiters: { field: '|', repeat: '\\', component: '^', escape: '&' }, senderName: 'HISBRIDGE', foldToAscii: true }),
    identifiers: z.object({
      specimenId: fieldRefs,
      instrumentSpecimenId: fieldRefs.optional(),
      rack: fieldRefs.optional(),
      position: fieldRefs.optional(),
      patientId: fieldRefs.optional(),
      /** Where a Q record carries the sample id / barcode (LIS2-A2: Q-3 component 2). */
      querySpecimenId: fieldRefs.default([{ record: 'Q', field: 3, component: 2, repeat: 1 }]),
    }),
    tests: z
      .object({
        /** Component of the Universal Test ID that holds the analyser's test code (LIS2-A2: 4). */
        codeComponent: z.number().int().min(1).max(16).default(4),
        /** Characters after which the code ends (Roche `685/` → `685`). */
        codeTerminator: z.string().optional(),
        /** Component that carries a LOINC code (Beckman DxH: 5). */
        loincComponent: z.number().int().min(1).max(16).optional(),
        /** Component of R-4 holding the value (DxH puts flags in component 2). */
        valueComponent: z.number().int().min(1).default(1),
        /**
         * Analysers that send several results per test (Abbott F/I/P, Centaur RLU/COFF/DOSE): the
         * component naming the result type, which types are the reported value, which are an
         * interpretation attached to it; any other type is kept in the message but not filed.
         */
        resultType: z
          .object({
            component: z.number().int().min(1).max(16),
            value: z.array(z.string()).min(1),
            interpretation: z.array(z.string()).default([]),
          })
          .optional(),
        /** Extra components after the code when we send a test id (Sysmex: `^^^^WBC^1`). */
        sendSuffix: z.array(z.string()).default([]),
        /**
         * R record field positions, when the analyser departs from LIS2-A2 (the DxH inserts an empty
         * field after the units, shifting range, flags, status, operator and times by one).
         */
        resultFields: z
          .object({
            value: z.number().int().min(2).default(4),
            units: z.number().int().min(2).default(5),
            range: z.number().int().min(2).default(6),
            flags: z.number().int().min(2).default(7),
            status: z.number().int().min(2).default(9),
            operator: z.number().int().min(2).default(11),
            started: z.number().int().min(2).default(12),
            completed: z.number().int().min(2).default(13),
            instrument: z.number().int().min(2).default(14),
          })
          .default({ value: 4, units: 5, range: 6, flags: 7, status: 9, operator: 11, started: 12, completed: 13, instrument: 14 }),
        /** Appended to the code itself when we send it (Roche: `685` → `685/`, dilution left empty). */
        sendCodeAppend: z.string().default(''),
      })
      .default({ codeComponent: 4, valueComponent: 1, sendSuffix: [], sendCodeAppend: '', resultFields: { value: 4, units: 5, range: 6, flags: 7, status: 9, operator: 11, started: 12, completed: 13, instrument: 14 } }),
    qc: z
      .object({
        /** Regular expressions on the specimen id that mark a QC sample. */
        specimenPatterns: z.array(z.string()).default([]),
        /** H-12 processing id `Q` marks the whole message as QC. */
        processingIdQ: z.boolean().default(true),
        /** O-12 action code `Q` marks the order as QC. */
        actionCodeQ: z.boolean().default(true),
        /** Vendor field patterns, e.g. a QC flag in O-16. */
        fields: z.array(fieldRefSchema.extend({ pattern: z.string() })).default([]),
      })
      .default({ specimenPatterns: [], processingIdQ: true, actionCodeQ: true, fields: [] }),
    hostQuery: z
      .object({
        enabled: z.boolean().default(false),
        /** O-26 in the reply, as repeats: `[Q]` (response to query), `[O, Q]` (Centaur `O\Q`), `[]` (DxH leaves it empty). */
        reportType: z.array(z.string()).default(['Q']),
        /** L-3 when the query was answered with orders. */
        answeredTermination: z.string().default('F'),
        /** An unknown specimen: `Y` (O with report type Y), `Z` (no such patient), or `I` (L-3 I, no P/O). */
        unknownSpecimen: z.enum(['Y', 'Z', 'I']).default('I'),
        /** Echo H-3 message control id of the query in the reply header (DxH). */
        echoControlId: z.boolean().default(false),
        /** Which P field gets the HIS patient id: 3 practice-assigned, 4 laboratory-assigned. */
        patientIdField: z.union([z.literal(3), z.literal(4)]).default(3),
        /** Which O field gets the specimen id: 3 specimen id or 4 instrument specimen id. */
        specimenField: z.union([z.literal(3), z.literal(4)]).default(3),
        /** Component of that O field that gets the specimen id (Sysmex: 3). */
        specimenComponent: z.number().int().min(1).default(1),
        /** O-16 specimen descriptor sent with orders, when the analyser wants one. */
        specimenDescriptor: z.string().optional(),
      })
      .default({ enabled: false, reportType: ['Q'], answeredTermination: 'F', unknownSpecimen: 'I', echoControlId: false, patientIdField: 3, specimenField: 3, specimenComponent: 1 }),
    /** Batch download: the analyser accepts unsolicited H,P,O,L orders from the host. */
    orderDownload: z.boolean().default(false),
  })
  .strict();

export type AnalyzerProfile = z.infer<typeof analyzerProfileSchema>;

export const ANALYZER_PROFILE_DIR = __dirname;

export class ProfileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ProfileError';
  }
}

/** Parses and validates a profile from YAML text; errors name the file and the field. */
export function parseProfile(text: string, source = 'profile'): AnalyzerProfile {
  let data: unknown;
  try {
    data = YAML.parse(text);
  } catch (error) {
    throw new ProfileError(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  const result = analyzerProfileSchema.safeParse(data);
  if (!result.success) {
    const problems = result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
    throw new ProfileError(`${source}: ${problems.join('; ')}`);
  }
  for (const pattern of [...result.data.detect, ...result.data.qc.specimenPatterns, ...result.data.qc.fields.map((f) => f.pattern)]) {
    try {
      new RegExp(pattern);
    } catch (error) {
      throw new ProfileError(`${source}: qc pattern ${JSON.stringify(pattern)} is not a valid regular expression: ${(error as Error).message}`);
    }
  }
  return result.data;
}

export function loadProfileFile(file: string): AnalyzerProfile {
  const profile = parseProfile(fs.readFileSync(file, 'utf8'), file);
  const expected = path.basename(file).replace(/\.ya?ml$/, '');
  if (profile.id !== expected) throw new ProfileError(`${file}: id "${profile.id}" must match the file name "${expected}"`);
  return profile;
}

/** Every profile in a folder (default: devices/analyzers), by id. */
export function loadProfiles(dir = ANALYZER_PROFILE_DIR): Map<string, AnalyzerProfile> {
  const out = new Map<string, AnalyzerProfile>();
  for (const name of fs.readdirSync(dir).sort()) {
    if (!/\.ya?ml$/.test(name)) continue;
    const profile = loadProfileFile(path.join(dir, name));
    out.set(profile.id, profile);
  }
  return out;
}

/** One profile by id, from `dir` (default devices/analyzers); the error lists the known ids. */
export function loadProfile(id: string, dir = ANALYZER_PROFILE_DIR): AnalyzerProfile {
  for (const ext of ['.yaml', '.yml']) {
    const file = path.join(dir, id + ext);
    if (fs.existsSync(file)) return loadProfileFile(file);
  }
  const known = fs.existsSync(dir) ? fs.readdirSync(dir).filter((n) => /\.ya?ml$/.test(n)).map((n) => n.replace(/\.ya?ml$/, '')) : [];
  throw new ProfileError(`no analyser profile "${id}" in ${dir} (known: ${known.join(', ') || 'none'})`);
}

/** The profile whose `detect` patterns match an H record's text, if exactly one does. */
export function detectProfile(headerText: string, profiles: Iterable<AnalyzerProfile>): AnalyzerProfile | undefined {
  const hits = [...profiles].filter((p) => p.detect.some((pattern) => new RegExp(pattern).test(headerText)));
  return hits.length === 1 ? hits[0] : undefined;
}

// Acknowledgements (v2.5 §2.9): original mode AA/AE/AR, enhanced mode commit CA/CE/CR when the sender
// asked for it in MSH-15/16. Every ACK gets its own unique MSH-10, echoes the original MSH-10 in MSA-2,
// swaps sender and receiver, and on error carries an ERR segment naming segment, field and problem.
import { foldVietnamese } from '../../../engine/text/vietnamese';
import { newControlId } from './builder';
import { charsetByName, UTF8 } from './charset';
import { formatHl7DateTime } from './datetime';
import { DEFAULT_DELIMITERS, readDelimiters, type Delimiters } from './delimiters';
import { errorCodeName, Hl7ErrorCodes, type Hl7ErrorCode, type Hl7ErrorLocation } from './errors';
import { Hl7Message } from './message';
import { piece } from './segment';

export type AckCode = 'AA' | 'AE' | 'AR' | 'CA' | 'CE' | 'CR';
export type Outcome = 'accept' | 'error' | 'reject';

/** The header values an ACK needs, read from a parsed message or scraped from one that did not parse. */
export interface OriginalHeader {
  delimiters: Delimiters;
  sendingApplication: string;
  sendingFacility: string;
  receivingApplication: string;
  receivingFacility: string;
  messageType: string;
  event: string;
  controlId: string;
  processingId: string;
  version: string;
  acceptAckType: string;
  applicationAckType: string;
  countryCode: string;
  charset: string;
}

export function headerOf(message: Hl7Message): OriginalHeader {
  const msh = message.segment('MSH');
  const raw = (n: number) => msh?.raw(n) ?? '';
  return {
    delimiters: message.delimiters,
    sendingApplication: raw(3),
    sendingFacility: raw(4),
    receivingApplication: raw(5),
    receivingFacility: raw(6),
    messageType: msh?.get(9, 1) ?? '',
    event: msh?.get(9, 2) ?? '',
    controlId: raw(10),
    processingId: raw(11),
    version: msh?.get(12) ?? '',
    acceptAckType: msh?.get(15) ?? '',
    applicationAckType: msh?.get(16) ?? '',
    countryCode: raw(17),
    charset: raw(18),
  };
}

/**
 * Best effort for input that did not parse: whatever of MSH can be read from the first line, so the
 * NAK still names the control id when it is there. Never throws.
 */
export function scrapeHeader(bytes: Buffer | string): OriginalHeader | undefined {
  const text = typeof bytes === 'string' ? bytes.slice(0, 4096) : bytes.toString('latin1', 0, Math.min(bytes.length, 4096));
  const start = text.indexOf('MSH');
  if (start < 0) return undefined;
  let delimiters: Delimiters;
  try {
    delimiters = readDelimiters(text, start);
  } catch {
    return undefined;
  }
  let end = text.slice(start).search(/[\r\n]/);
  end = end < 0 ? text.length : start + end;
  const line = text.slice(start, end);
  const fields = line.split(delimiters.field);
  const raw = (n: number) => fields[n - 1] ?? '';
  // Values that end up in our MSH must not carry CR/LF or non-ASCII garbage from a broken frame.
  const clean = (s: string) => s.replace(/[^\x20-\x7e]/g, '').slice(0, 199);
  const comp = (s: string, n: number) => clean(piece(s, delimiters.component, n));
  return {
    delimiters,
    sendingApplication: clean(raw(3)),
    sendingFacility: clean(raw(4)),
    receivingApplication: clean(raw(5)),
    receivingFacility: clean(raw(6)),
    messageType: comp(raw(9), 1),
    event: comp(raw(9), 2),
    controlId: clean(raw(10)),
    processingId: clean(raw(11)),
    version: comp(raw(12), 1),
    acceptAckType: clean(raw(15)),
    applicationAckType: clean(raw(16)),
    countryCode: clean(raw(17)),
    charset: clean(raw(18)),
  };
}

export interface AckError {
  problem: string;
  location?: Hl7ErrorLocation;
  code?: Hl7ErrorCode;
  /** E error (default), W warning, I information. */
  severity?: 'E' | 'W' | 'I';
}

export interface AckOptions {
  code: AckCode;
  /** MSA-3 (kept short: ≤ 80 characters). */
  text?: string;
  error?: AckError;
  /** Our MSH-10 (default: a fresh unique id). */
  controlId?: string;
  timestamp?: Date;
  /** MSH-3/4 to use when the original named no receiver (or could not be read). */
  application?: string;
  facility?: string;
}

/** Original or enhanced mode, and whether an accept ACK is due for this outcome (MSH-15 rules). */
export function acknowledgementFor(header: OriginalHeader | undefined, outcome: Outcome): { code: AckCode; send: boolean } {
  const enhanced = !!header && (header.acceptAckType !== '' || header.applicationAckType !== '');
  if (!enhanced) return { code: outcome === 'accept' ? 'AA' : outcome === 'error' ? 'AE' : 'AR', send: true };
  const code: AckCode = outcome === 'accept' ? 'CA' : outcome === 'error' ? 'CE' : 'CR';
  // Table 0155: AL always, NE never, ER only on error, SU only on success. Empty MSH-15 in enhanced mode: always.
  const when = header!.acceptAckType.toUpperCase();
  const send = when === 'NE' ? false : when === 'ER' ? outcome !== 'accept' : when === 'SU' ? outcome === 'accept' : true;
  return { code, send };
}

function isV25OrLater(version: string): boolean {
  const m = /^2\.(\d+)/.exec(version);
  return !m || Number(m[1]) >= 5;
}

/** Builds the ACK message for an original (parsed, scraped, or unknown when nothing was readable). */
export function buildAck(original: Hl7Message | OriginalHeader | undefined, options: AckOptions): Hl7Message {
  const h = original instanceof Hl7Message ? headerOf(original) : original;
  const d = h?.delimiters ?? DEFAULT_DELIMITERS;
  const charset = (h?.charset && charsetByName(piece(piece(h.charset, d.repetition, 1), d.component, 1))) || UTF8;
  const message = Hl7Message.empty(d, charset);
  const version = h?.version || '2.5.1';
  const enhancedCommit = options.code.startsWith('C');
  const raw = (v: string | undefined) => (v ? { raw: v } : undefined);
  message.addSegment('MSH', [
    undefined,
    undefined,
    raw(h?.receivingApplication || options.application || 'HISBRIDGE'),
    raw(h?.receivingFacility || options.facility),
    raw(h?.sendingApplication),
    raw(h?.sendingFacility),
    formatHl7DateTime(options.timestamp),
    undefined,
    { raw: ['ACK', h?.event ?? '', 'ACK'].join(d.component) },
    options.controlId ?? newControlId(),
    raw(h?.processingId || 'P'),
    version,
    undefined,
    undefined,
    // An ACK is never acknowledged itself.
    enhancedCommit ? 'NE' : undefined,
    enhancedCommit ? 'NE' : undefined,
    raw(h?.countryCode),
    raw(h?.charset),
  ]);
  // Text we write must fit the ACK's charset (an 8859/1 sender gets no Vietnamese back).
  const fit = (s: string) => (charset === UTF8 ? s : foldVietnamese(s).replace(/[^\x20-\x7e]/g, '?'));
  const text = options.text ?? options.error?.problem;
  message.addSegment('MSA', [options.code, { raw: h?.controlId ?? '' }, text === undefined ? undefined : truncate(fit(text), 80)]);
  if (options.error) addErr(message, { ...options.error, problem: fit(options.error.problem) }, version);
  return message;
}

function truncate(s: string, n: number): string {
  const oneLine = s.replace(/[\r\n]+/g, ' ');
  return oneLine.length <= n ? oneLine : oneLine.slice(0, n - 1) + '…';
}

function addErr(message: Hl7Message, error: AckError, version: string): void {
  const loc = error.location ?? {};
  const code = error.code ?? Hl7ErrorCodes.applicationInternalError;
  const err = message.addSegment('ERR');
  if (isV25OrLater(version)) {
    // ERR-2 ERL: segment ID ^ sequence ^ field ^ repetition ^ component ^ subcomponent.
    if (loc.segment) {
      err.set(2, loc.segment, 1);
      if (loc.sequence !== undefined) err.set(2, String(loc.sequence), 2);
      if (loc.field !== undefined) err.set(2, String(loc.field), 3);
      if (loc.repetition !== undefined) err.set(2, String(loc.repetition), 4);
      if (loc.component !== undefined) err.set(2, String(loc.component), 5);
      if (loc.subcomponent !== undefined) err.set(2, String(loc.subcomponent), 6);
    }
    err.set(3, code, 1).set(3, errorCodeName(code), 2).set(3, 'HL70357', 3);
    err.set(4, error.severity ?? 'E');
    err.set(7, error.problem.replace(/[\r\n]+/g, ' '));
    err.set(8, truncate(error.problem, 250));
  } else {
    // v2.1–2.4: ERR-1 ELD = segment ^ sequence ^ field ^ code&text&HL70357.
    err.set(1, loc.segment ?? '', 1);
    if (loc.sequence !== undefined) err.set(1, String(loc.sequence), 2);
    if (loc.field !== undefined) err.set(1, String(loc.field), 3);
    err.set(1, code, 4, 1).set(1, truncate(error.problem, 200), 4, 2).set(1, 'HL70357', 4, 3);
  }
}

/** Reads an ACK: code (MSA-1), the control id it acknowledges (MSA-2), and the error text if any. */
export function readAck(message: Hl7Message): { code: string; acknowledges: string; text: string; error: string } {
  const err = message.segment('ERR');
  const errorText = err ? err.get(8) || err.get(7) || err.get(3, 2) || err.get(1, 4, 2) : '';
  return { code: message.get('MSA-1'), acknowledges: message.get('MSA-2'), text: message.get('MSA-3'), error: errorText };
}

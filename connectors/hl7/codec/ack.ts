// Acknowledgements (v2.5 §2.9): original mode AA/AE/AR, enhanced mode commit CA/CE/CR when the sender
// asked for it in MSH-15/16. Every ACK gets its own unique MSH-10, echoes the original MSH-10 in MSA-2,
// swaps sender and receiver, and on error carries an ERR segment naming segment, field and problem.
import { foldVietnamese } from '../../../engine/text/vietnamese';
import { newControlId } from './builder';
import { escapeValue } from './escape';
import { charsetByName, UTF8, type Charset } from './charset';
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
  const text = typeof bytes === 'string' ? bytes.slice(0, 4096) : bytes.toString('latin1', 0, headerWindow(bytes));
  const start = text.indexOf('MSH');
  if (start < 0) return undefined;
  let delimiters: Delimiters;
  try {
    delimiters = readDelimiters(text, start);
  } catch {
    return undefined;
  }
  // Same rule as the parser: with any CR in the message, CR ends segments and LF is data.
  const term = text.includes('\r') ? '\r' : '\n';
  let end = text.indexOf(term, start);
  if (end < 0) end = text.length;
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

/** How much of the bytes can hold the MSH line: up to the second line break (a junk line may come first), at most 4 KiB. */
function headerWindow(bytes: Buffer): number {
  const max = Math.min(bytes.length, 4096);
  let breaks = 0;
  for (let i = 0; i < max; i++) if ((bytes[i] === 0x0d || bytes[i] === 0x0a) && ++breaks === 2) return i;
  return max;
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
  // The sender's delimiters, unless they leave something out (no escape character: our error text could not be written safely).
  const theirs = h?.delimiters;
  const d = theirs && theirs.escape !== '\u0000' && theirs.subcomponent !== '\u0000' && theirs.repetition !== '\u0000' ? theirs : DEFAULT_DELIMITERS;
  // Answer in the sender's declared charset when we know it; an unknown declaration is not echoed.
  const declared = h?.charset ? charsetByName(piece(piece(h.charset, d.repetition, 1), d.component, 1)) : undefined;
  const charset = declared ?? UTF8;
  const version = h?.version || '2.5.1';
  const enhancedCommit = options.code.startsWith('C');
  const same = d === theirs;
  // Assembled as text (this runs once per received message): MSH-3…MSH-18, then MSA.
  const msh = [
    copyField(h?.receivingApplication, d, same) || escapeValue(options.application ?? 'HISBRIDGE', d),
    copyField(h?.receivingFacility, d, same) || escapeValue(options.facility ?? '', d),
    copyField(h?.sendingApplication, d, same),
    copyField(h?.sendingFacility, d, same),
    formatHl7DateTime(options.timestamp),
    '',
    `ACK${d.component}${escapeValue(h?.event ?? '', d)}${d.component}ACK`,
    escapeValue(options.controlId ?? newControlId(), d),
    copyField(h?.processingId, d, same) || 'P',
    escapeValue(version, d),
    '',
    '',
    // An ACK is never acknowledged itself.
    enhancedCommit ? 'NE' : '',
    enhancedCommit ? 'NE' : '',
    copyField(h?.countryCode, d, same),
    declared ? copyField(h?.charset, d, same) : '',
  ];
  const text = options.text ?? options.error?.problem;
  const msa = [options.code, copyField(h?.controlId, d, same), text === undefined ? '' : escapeValue(truncate(fitCharset(text, charset), 80), d)];
  let joined = `MSH${d.field}${d.encodingCharacters}${d.field}${trimEmpty(msh).join(d.field)}\rMSA${d.field}${trimEmpty(msa).join(d.field)}\r`;
  if (options.error) joined += errText({ ...options.error, problem: fitCharset(options.error.problem, charset) }, version, d) + '\r';
  return Hl7Message.parse(joined, { charset: charset.name });
}

/** Their header values are copied as written when we answer in their delimiters; otherwise as plain text. */
function copyField(value: string | undefined, d: Delimiters, sameDelimiters: boolean): string {
  return value ? (sameDelimiters ? value : escapeValue(value, d)) : '';
}

/** Text we write must fit the ACK's charset (an 8859/1 sender gets no Vietnamese back). */
function fitCharset(text: string, charset: Charset): string {
  return charset === UTF8 ? text : foldVietnamese(text).replace(/[^\x20-\x7e]/g, '?');
}

function trimEmpty(fields: string[]): string[] {
  let n = fields.length;
  while (n > 0 && fields[n - 1] === '') n--;
  return fields.slice(0, n);
}

function truncate(s: string, n: number): string {
  const oneLine = s.replace(/[\r\n]+/g, ' ');
  return oneLine.length <= n ? oneLine : oneLine.slice(0, n - 1) + '…';
}

/** The ERR segment text: v2.5+ ERR-2/3/4/7/8, or v2.1–2.4 ERR-1 (ELD). */
function errText(error: AckError, version: string, d: Delimiters): string {
  const loc = error.location ?? {};
  const code = error.code ?? Hl7ErrorCodes.applicationInternalError;
  const esc = (v: string) => escapeValue(v, d);
  const num = (n: number | undefined) => (n === undefined ? '' : String(n));
  const c = d.component;
  if (isV25OrLater(version)) {
    // ERR-2 ERL: segment ID ^ sequence ^ field ^ repetition ^ component ^ subcomponent.
    const erl = loc.segment ? trimEmpty([esc(loc.segment), num(loc.sequence), num(loc.field), num(loc.repetition), num(loc.component), num(loc.subcomponent)]).join(c) : '';
    const fields = ['', erl, [code, esc(errorCodeName(code)), 'HL70357'].join(c), error.severity ?? 'E', '', '', esc(error.problem.replace(/[\r\n]+/g, ' ')), esc(truncate(error.problem, 250))];
    return 'ERR' + d.field + fields.join(d.field);
  }
  const eld = [esc(loc.segment ?? ''), num(loc.sequence), num(loc.field), [code, esc(truncate(error.problem, 200)), 'HL70357'].join(d.subcomponent)].join(c);
  return 'ERR' + d.field + eld;
}

/** Reads an ACK: code (MSA-1), the control id it acknowledges (MSA-2), and the error text if any. */
export function readAck(message: Hl7Message): { code: string; acknowledges: string; text: string; error: string } {
  const err = message.segment('ERR');
  const errorText = err ? err.get(8) || err.get(7) || err.get(3, 2) || err.get(1, 4, 2) : '';
  return { code: message.get('MSA-1'), acknowledges: message.get('MSA-2'), text: message.get('MSA-3'), error: errorText };
}

// A LIS2-A2 message (H … L): records split on CR, delimiters from the H record, and the record
// hierarchy checked (standards.md §2.3). Problems are collected as precise sentences, never thrown,
// so a bad message is still kept whole and can be shown to a person.
import { AstmSyntaxError, DEFAULT_DELIMITERS, type Delimiters, delimitersFromHeader } from './delimiters';
import { AstmRecord, RECORD_TYPES } from './record';

export interface AstmMessage {
  /** The message text as received: records each followed by CR. */
  text: string;
  delimiters: Delimiters;
  records: AstmRecord[];
  /** Precise problems (missing H, unknown record type, hierarchy, missing L…); empty when the message is sound. */
  errors: string[];
}

const LEVEL: Record<string, number> = { H: 0, P: 1, Q: 1, S: 1, O: 2, R: 3, L: 0 };
const KNOWN = new Set<string>(RECORD_TYPES);
const TERMINATION_CODES = new Set(['', 'N', 'T', 'R', 'E', 'Q', 'I', 'F']);

/** Splits on CR (a CR LF pair counts as one terminator); reports records separated by bare LF. */
export function splitRecords(text: string, errors: string[]): string[] {
  const out: string[] = [];
  const parts = text.split('\r');
  for (let i = 0; i < parts.length; i++) {
    let part = parts[i];
    if (part.charCodeAt(0) === 10) part = part.slice(1);
    if (part === '') continue;
    if (part.indexOf('\n') >= 0) {
      errors.push(`record ${out.length + 1} is terminated by LF (0x0A) instead of CR (0x0D)`);
      for (const piece of part.split('\n')) if (piece !== '') out.push(piece);
      continue;
    }
    out.push(part);
  }
  return out;
}

/** Parses one message's text. Never throws: problems land in `errors`. */
export function parseMessage(text: string, fallback: Delimiters = DEFAULT_DELIMITERS): AstmMessage {
  const errors: string[] = [];
  const lines = splitRecords(text, errors);
  let delimiters = fallback;
  if (lines.length === 0) errors.push('message has no records');
  else if (lines[0][0] !== 'H' && lines[0][0] !== 'h') {
    errors.push(`missing H record: the message starts with record type ${JSON.stringify(lines[0][0])}`);
  } else {
    try {
      delimiters = delimitersFromHeader(lines[0]);
    } catch (error) {
      errors.push((error as AstmSyntaxError).message);
    }
  }
  const records = lines.map((line) => AstmRecord.parse(line, delimiters));
  checkHierarchy(records, errors);
  return { text, delimiters, records, errors };
}

/** LIS2-A2 §4.1: O under P, R under O, L last; unknown record types are errors. */
export function checkHierarchy(records: AstmRecord[], errors: string[]): void {
  let level = -1;
  let sawL = false;
  records.forEach((record, i) => {
    const n = i + 1;
    const type = record.type;
    if (!KNOWN.has(type)) {
      errors.push(`record ${n}: unknown record type ${JSON.stringify(record.fields[0])}`);
      return;
    }
    if (sawL) {
      errors.push(`record ${n} (${type}) follows the L record that ended the message`);
      return;
    }
    if (type === 'C' || type === 'M') {
      if (i === 0) errors.push(`record 1: ${type} record has no preceding record to attach to`);
      return;
    }
    const want = LEVEL[type];
    if (type === 'H') {
      if (i > 0) errors.push(`record ${n}: second H record inside one message`);
      level = 0;
      return;
    }
    if (type === 'L') {
      sawL = true;
      const code = record.value(3);
      if (!TERMINATION_CODES.has(code)) errors.push(`record ${n}: L-3 termination code ${JSON.stringify(code)} is not one of N T R E Q I F`);
      return;
    }
    if (level < 0) return; // already reported as missing H
    if (want > level + 1) {
      const parent = type === 'O' ? 'P' : type === 'R' ? 'O' : 'H';
      errors.push(`record ${n}: ${type} record without a preceding ${parent} record`);
    }
    level = want;
  });
  if (records.length > 0 && !sawL) errors.push(`message ends without an L record (last record is ${JSON.stringify(records[records.length - 1].fields[0])})`);
}

/** The text of records as a message: each followed by CR. */
export function messageText(records: AstmRecord[]): string {
  let out = '';
  for (const r of records) out += r.toString() + '\r';
  return out;
}

// Decoding a capture file: framed LIS1-A bytes (STX…ETX C1C2, possibly with both directions' ENQ,
// ACK, NAK and EOT) or bare CR-separated records. Frames are checked (checksum, numbering); a frame
// answered NAK in the capture is the rejected copy of a retransmission and is skipped. Every problem
// is reported with the byte offset, so a person can find it in a hex dump.
import { detectProfile, type AnalyzerProfile } from '../../devices/analyzers/profile';
import { MessageAssembler, type AssemblyEvent } from './codec/assembler';
import { parseMessage } from './codec/message';
import { interpretMessage, type AnalyserReport } from './interpret';
import { ENQ, EOT, NAK, STX } from './link/constants';
import { FrameScanner, type LinkEvent } from './link/frameScanner';

export interface DecodedMessage {
  profile?: string;
  records: Array<{ type: string; fields: string[] }>;
  report?: AnalyserReport;
  errors: string[];
}

export interface DecodedCapture {
  format: 'framed' | 'records';
  frames: number;
  messages: DecodedMessage[];
  /** Problems with the capture itself (frames, checksums, stray bytes): any makes the decode fail. */
  problems: string[];
  /** Things worth knowing that are not errors (rejected frames that were retransmitted…). */
  notes: string[];
}

export function decodeCapture(bytes: Buffer, profiles: AnalyzerProfile[], options: { profile?: AnalyzerProfile; encoding?: 'latin1' | 'utf8' } = {}): DecodedCapture {
  const encoding = options.encoding ?? options.profile?.encoding ?? 'latin1';
  const problems: string[] = [];
  const notes: string[] = [];
  const assembler = new MessageAssembler();
  const events: AssemblyEvent[] = [];
  let frames = 0;
  const framed = bytes.includes(STX);
  if (framed) {
    const scanner = new FrameScanner();
    const linkEvents = scanner.push(bytes);
    const tail = scanner.reset();
    if (tail) linkEvents.push({ ...tail, reason: 'capture ends inside a frame (no ETX/ETB or checksum)' } as LinkEvent);
    let expected = 1;
    let last: number | undefined;
    for (let i = 0; i < linkEvents.length; i++) {
      const event = linkEvents[i];
      const next = linkEvents[i + 1];
      if (event.kind === 'control') {
        if (event.byte === ENQ) {
          expected = 1;
          last = undefined;
        } else if (event.byte === EOT) {
          const rest = assembler.flush('the session ended (EOT) before the L record');
          if (rest) events.push(rest);
        }
        continue;
      }
      if (event.kind === 'noise') {
        problems.push(`byte offset ${event.offset}: ${event.reason}`);
        continue;
      }
      frames++;
      const rejectedInCapture = next?.kind === 'control' && next.byte === NAK;
      const where = `frame ${event.fn >= 0 ? event.fn : '?'} at byte offset ${event.offset}`;
      if (rejectedInCapture) {
        notes.push(`${where} was answered NAK in the capture${event.error ? ` (${event.error})` : ''}; its retransmission is used`);
        continue;
      }
      if (event.error) {
        problems.push(`${where}: ${event.error}`);
        continue;
      }
      if (last !== undefined && event.fn === last) {
        notes.push(`${where} repeats the previous frame number (a retransmission); skipped`);
        continue;
      }
      if (event.fn !== expected) problems.push(`${where}: frame number ${event.fn}, expected ${expected}`);
      last = event.fn;
      expected = (event.fn + 1) & 7;
      events.push(...assembler.push(decode(event.text, encoding), event.final));
    }
  } else {
    events.push(...assembler.push(decode(bytes, encoding), true));
  }
  const rest = assembler.flush('the capture ends before the L record');
  if (rest) events.push(rest);
  if (events.length === 0 && problems.length === 0) problems.push('no ASTM records found in the input');

  const messages = events.map((event): DecodedMessage => {
    const message = parseMessage(event.text);
    const errors = event.kind === 'incomplete' ? [event.reason, ...message.errors.filter((e) => !e.startsWith('message ends without an L'))] : [...message.errors];
    const header = message.records[0]?.type === 'H' ? message.records[0].toString() : '';
    const profile = options.profile ?? detectProfile(header, profiles);
    const decoded: DecodedMessage = { profile: profile?.id, records: message.records.map((r) => ({ type: r.type, fields: r.fields })), errors };
    if (profile && event.kind === 'message') {
      decoded.report = interpretMessage(message, profile);
      for (const e of decoded.report.errors) if (!errors.includes(e)) errors.push(e);
    }
    return decoded;
  });
  return { format: framed ? 'framed' : 'records', frames, messages, problems, notes };
}

function decode(bytes: Buffer, encoding: 'latin1' | 'utf8'): string {
  return bytes.toString(encoding);
}

// One stored message per specimen: an upload carrying several specimens (batch mode) is split into
// self-contained LIS2-A2 messages H, P, O, R…, L, repeating the parent records as LIS2-A2 §4.2 does
// for recovery. Each part is then one HIS transaction, reprocessed and retried on its own. Every
// record is kept exactly as received; nothing is invented.
import { messageText, type AstmMessage } from './codec/message';
import type { AstmRecord } from './codec/record';

export function splitBySpecimen(message: AstmMessage): string[] {
  const orders = message.records.filter((r) => r.type === 'O').length;
  if (orders < 2 || message.errors.length > 0 || message.records.some((r) => r.type === 'Q' || r.type === 'S')) return [message.text];
  const header = message.records[0];
  const terminator = message.records[message.records.length - 1];
  const parts: AstmRecord[][] = [];
  let patient: AstmRecord[] = [];
  let current: AstmRecord[] | undefined;
  let lastTop: 'P' | 'O' | undefined;
  for (const record of message.records.slice(1, -1)) {
    if (record.type === 'P') {
      patient = [record];
      current = undefined;
      lastTop = 'P';
    } else if (record.type === 'O') {
      current = [header, ...patient, record];
      parts.push(current);
      lastTop = 'O';
    } else if (lastTop === 'P' && !current) patient.push(record); // C/M about the patient
    else current?.push(record);
  }
  return parts.map((records) => messageText([...records, terminator]));
}

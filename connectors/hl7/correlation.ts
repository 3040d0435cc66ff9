// The keys the engine indexes and orders deliveries by, read cheaply from a parsed message (MSH, PID,
// and the first order segment): only the segments needed are split.
import type { Correlation } from '../../engine/connectors/types';
import type { Hl7Message } from './codec/message';
import type { OriginalHeader } from './codec/ack';

/** PID-3 repetition typed MR / PI / PT (the hospital's own number), else the first one. */
export function patientIdOf(message: Hl7Message): string {
  const pid = message.segment('PID');
  if (!pid) return '';
  const n = pid.repetitionCount(3);
  for (let r = 1; r <= n; r++) {
    const type = pid.get(3, 5, 1, r);
    if (type === 'MR' || type === 'PI' || type === 'PT') return pid.get(3, 1, 1, r);
  }
  return pid.get(3, 1, 1, 1) || pid.get(2); // PID-2 is the pre-2.5 external id
}

export function correlationOf(message: Hl7Message): Correlation {
  const c: Correlation = { controlId: message.controlId, messageType: message.messageType };
  const patientId = patientIdOf(message);
  if (patientId) c.patientId = patientId;
  // Accession: imaging puts it in OBR-18 (IHE SWF); labs key on the placer order number.
  const obr = message.segment('OBR');
  const orc = message.segment('ORC');
  const accession = obr?.get(18) || orc?.get(2) || obr?.get(2) || '';
  if (accession) c.accession = accession;
  const specimen = message.segment('SPM')?.get(2, 1) || message.segment('SAC')?.get(3) || '';
  if (specimen) c.specimenId = specimen;
  return c;
}

export function metaOf(message: Hl7Message): Record<string, string> {
  const meta: Record<string, string> = {};
  const msh = message.segment('MSH');
  if (msh) {
    const put = (k: string, v: string) => {
      if (v) meta[k] = v;
    };
    put('sendingApplication', msh.get(3));
    put('sendingFacility', msh.get(4));
    put('version', msh.get(12));
    put('charset', message.charset.name);
  }
  const pid = message.segment('PID');
  if (pid) {
    const name = [pid.get(5, 1), pid.get(5, 2), pid.get(5, 3)].filter(Boolean).join(' ');
    if (name) meta.patientName = name;
  }
  return meta;
}

/** What can be said about input that did not parse, from its scraped header. */
export function correlationOfHeader(header: OriginalHeader | undefined): Correlation {
  if (!header) return {};
  const c: Correlation = {};
  if (header.controlId) c.controlId = header.controlId;
  if (header.messageType) c.messageType = header.event ? `${header.messageType}^${header.event}` : header.messageType;
  return c;
}

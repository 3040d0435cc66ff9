// Shared pieces for the ASTM tests: a link driven by a manual clock whose output is captured, and
// frame builders (written independently of the production encoder: sum of bytes, two hex digits).
import type { LabOrder, Patient } from '../../model';
import { ManualClock } from '../../connectors/astm/link/clock';
import { AstmLink, type LinkHandler, type LinkOptions, type LinkProblem, type SessionEnd } from '../../connectors/astm/link/link';

export const STX = '\x02';
export const ETX = '\x03';
export const EOT = '\x04';
export const ENQ = '\x05';
export const ACK = '\x06';
export const NAK = '\x15';
export const ETB = '\x17';

/** A frame built by hand: STX FN text ETX|ETB C1 C2 CR LF. */
export function frame(fn: number, text: string, final = true): Buffer {
  const body = Buffer.from(`${fn}${text}${final ? ETX : ETB}`, 'latin1');
  let sum = 0;
  for (const b of body) sum += b;
  const cs = (sum & 0xff).toString(16).toUpperCase().padStart(2, '0');
  return Buffer.concat([Buffer.from(STX, 'latin1'), body, Buffer.from(`${cs}\r\n`, 'latin1')]);
}

export function bytes(s: string): Buffer {
  return Buffer.from(s, 'latin1');
}

export interface LinkHarness {
  clock: ManualClock;
  link: AstmLink;
  frames: Array<{ text: string; final: boolean }>;
  ends: SessionEnd[];
  problems: LinkProblem[];
  /** Everything the link wrote since the last call, as a latin1 string. */
  written(): string;
  verdict: LinkHandler['onFrame'];
}

export function linkHarness(options: Partial<LinkOptions> = {}): LinkHarness {
  const clock = new ManualClock();
  const out: Buffer[] = [];
  const h: LinkHarness = {
    clock,
    link: undefined as unknown as AstmLink,
    frames: [],
    ends: [],
    problems: [],
    written: () => Buffer.concat(out.splice(0)).toString('latin1'),
    verdict: () => true,
  };
  h.link = new AstmLink(
    (b) => out.push(Buffer.from(b)),
    {
      onFrame: (text, final) => {
        h.frames.push({ text: text.toString('latin1'), final });
        return h.verdict(text, final);
      },
      onSessionEnd: (how) => h.ends.push(how),
      onProblem: (p) => h.problems.push(p),
    },
    { role: 'computer', clock, ...options },
  );
  return h;
}

/** Lets promise callbacks run (deferred ACKs). */
export function flushMicrotasks(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A patient and lab orders for host-query and download tests (Vietnamese name on purpose). */
export const demoPatient: Patient = {
  id: 'BN0001',
  identifiers: [{ system: 'MA_BN', value: 'BN0001' }],
  name: { full: 'Nguyễn Thị Minh Khai', family: 'Nguyễn', given: 'Thị Minh Khai' },
  birthDate: '1985-03-15',
  sex: 'female',
};

export function labOrder(id: string, specimenId: string, services: string[]): LabOrder {
  return {
    kind: 'lab',
    id,
    maLk: 'LK' + id,
    patientId: 'BN0001',
    status: 'ordered',
    priority: 'routine',
    orderedAt: '2026-11-22T07:00:00+07:00',
    updatedAt: '2026-11-22T07:00:00+07:00',
    departmentCode: 'K01',
    specimen: { id: specimenId },
    tests: services.map((s) => ({ hisServiceCode: s, name: s })),
  };
}

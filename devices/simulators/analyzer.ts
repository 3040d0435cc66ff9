// An analyser simulator: plays the instrument side of LIS1-A/LIS2-A2 over TCP or a serial port,
// using the same link layer in the `instrument` role. It uploads results (replayed from a capture or
// generated from the profile), asks host queries and collects the host's replies, and injects faults
// at the byte level: corrupted checksums, NAKs to the host's frames, silence (timeouts), garbage
// bytes and a dropped connection.
import net from 'node:net';
import type { Duplex } from 'node:stream';
import { SerialPort } from 'serialport';
import type { AnalyzerProfile, SerialSettings } from '../analyzers/profile';
import { AstmRecord } from '../../connectors/astm/codec/record';
import { messageText } from '../../connectors/astm/codec/message';
import type { Clock } from '../../connectors/astm/link/clock';
import { ACK, ETB, ETX, NAK, STX } from '../../connectors/astm/link/constants';
import { FrameScanner } from '../../connectors/astm/link/frameScanner';
import type { LinkOptions, LinkProblem } from '../../connectors/astm/link/link';
import { AstmSession, type ReceivedItem } from '../../connectors/astm/session';
import { astmNow } from '../../connectors/astm/hostQuery';

export interface SimulatorFaults {
  /** Corrupt the checksum of the first transmission of this many frames (the host must NAK them). */
  badChecksum?: number;
  /** Answer this many of the host's frames with NAK instead of ACK (the host must retransmit). */
  nak?: number;
  /** Never answer the host's frames (the host times out and aborts). */
  silent?: boolean;
  /** Send these bytes before the first ENQ (line noise). */
  garbage?: string;
  /** Close the connection after sending this many frames (mid-message). */
  dropAfterFrames?: number;
}

export interface SimulatorOptions {
  profile: AnalyzerProfile;
  faults?: SimulatorFaults;
  clock?: Clock;
  link?: Partial<LinkOptions>;
  log?: (line: string) => void;
}

export interface SimulatedSpecimen {
  specimenId: string;
  patientId?: string;
  /** Analyser test codes with values; units/flags optional. */
  results: Array<{ code: string; value: string; units?: string; flag?: string; status?: string }>;
  qc?: boolean;
}

export class AnalyzerSimulator {
  /** Messages the host sent us (query replies, order downloads). */
  readonly received: ReceivedItem[] = [];
  readonly problems: LinkProblem[] = [];
  private session?: AstmSession;
  private stream?: Duplex;
  private waiters: Array<(item: ReceivedItem) => void> = [];
  private readonly faults: Required<Pick<SimulatorFaults, 'badChecksum' | 'nak'>> & SimulatorFaults;
  private framesSent = 0;
  private frameRepliesDue = 0;
  private garbageSent = false;
  closed = false;

  constructor(private readonly options: SimulatorOptions) {
    this.faults = { badChecksum: 0, nak: 0, ...options.faults };
  }

  get profile(): AnalyzerProfile {
    return this.options.profile;
  }

  /** Uses an already open byte stream (a socket or serial port). */
  attach(stream: Duplex): void {
    this.stream = stream;
    const spy = new FrameScanner();
    this.session = new AstmSession((bytes) => this.write(bytes), {
      profile: this.options.profile,
      role: 'instrument',
      clock: this.options.clock,
      link: this.options.link,
      store: async (item) => {
        this.received.push(item);
        const waiters = this.waiters.splice(0);
        for (const w of waiters) w(item);
        return true;
      },
      onProblem: (p) => {
        this.problems.push(p);
        this.options.log?.(`${p.code}: ${p.detail}`);
      },
    });
    stream.on('data', (chunk: Buffer) => {
      this.frameRepliesDue += spy.push(chunk).filter((e) => e.kind === 'frame').length;
      this.session!.receive(chunk);
    });
    stream.on('close', () => {
      this.closed = true;
      this.session?.close('connection closed');
    });
    stream.on('error', (e) => this.options.log?.(`line error: ${e.message}`));
  }

  async connectTcp(host: string, port: number): Promise<void> {
    const socket = net.connect({ host, port });
    socket.setNoDelay(true);
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    this.attach(socket);
  }

  async openSerial(path: string, settings: SerialSettings = this.profile.transport.serial): Promise<void> {
    const port = new SerialPort({
      path,
      baudRate: settings.baudRate,
      dataBits: settings.dataBits,
      parity: settings.parity,
      stopBits: settings.stopBits,
      rtscts: settings.flowControl === 'rtscts',
      autoOpen: false,
    });
    await new Promise<void>((resolve, reject) => port.open((e) => (e ? reject(e) : resolve())));
    this.attach(port);
  }

  /** Uploads one message (records separated by CR); resolves once the host acknowledged every frame. */
  async send(text: string): Promise<void> {
    if (!this.session) throw new Error('simulator is not connected');
    const records = text.split('\r').filter((r) => r !== '').map((r) => AstmRecord.parse(r, this.profile.send.delimiters));
    await this.session.send(records);
  }

  /** Sends H, Q, L for the specimens and resolves with the host's reply (or rejects after `timeoutMs`). */
  async query(specimenIds: string[], timeoutMs = 10_000): Promise<ReceivedItem> {
    const reply = this.nextMessage(timeoutMs);
    await this.send(buildQuery(this.profile, specimenIds));
    return reply;
  }

  /** Resolves with the next message the host sends. */
  nextMessage(timeoutMs = 10_000): Promise<ReceivedItem> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w !== done);
        reject(new Error(`no message from the host within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (item: ReceivedItem) => {
        clearTimeout(timer);
        resolve(item);
      };
      this.waiters.push(done);
    });
  }

  close(): void {
    this.closed = true;
    this.session?.close('simulator closed');
    this.stream?.destroy();
  }

  /** Every byte we send passes here: this is where faults are injected. */
  private write(bytes: Buffer): void {
    if (!this.stream || this.closed) return;
    let out = bytes;
    if (this.faults.garbage && !this.garbageSent) {
      this.garbageSent = true;
      this.stream.write(Buffer.from(this.faults.garbage, 'latin1'));
    }
    if (out[0] === STX) {
      this.framesSent++;
      if (this.faults.badChecksum > 0) {
        this.faults.badChecksum--;
        out = Buffer.from(out);
        const at = out.indexOf(ETX) >= 0 ? out.lastIndexOf(ETX) : out.lastIndexOf(ETB);
        out[at + 2] = out[at + 2] === 0x30 ? 0x31 : 0x30; // second checksum digit
      }
    } else if (out.length === 1 && (out[0] === ACK || out[0] === NAK) && this.frameRepliesDue > 0) {
      this.frameRepliesDue--;
      if (this.faults.silent) return;
      if (out[0] === ACK && this.faults.nak > 0) {
        this.faults.nak--;
        out = Buffer.from([NAK]);
      }
    }
    this.stream.write(out);
    if (this.faults.dropAfterFrames !== undefined && this.framesSent >= this.faults.dropAfterFrames) {
      this.faults.dropAfterFrames = undefined;
      setImmediate(() => this.stream?.destroy());
    }
  }
}

/** H, Q, L asking for the orders of some specimens, in the profile's delimiters and Q-3 layout. */
export function buildQuery(profile: AnalyzerProfile, specimenIds: string[]): string {
  const d = profile.send.delimiters;
  const ref = profile.identifiers.querySpecimenId[0];
  const range = specimenIds.map((id) => {
    const components = new Array(ref.component - 1).fill('');
    components.push(id);
    return components;
  });
  return messageText([
    AstmRecord.build('H', [null, '', null, simulatorName(profile), null, null, null, null, 'LIS', null, 'P', '1', astmNow()], d),
    AstmRecord.build('Q', ['1', range, null, 'ALL', null, null, null, null, null, null, null, 'O'], d),
    AstmRecord.build('L', ['1', 'N'], d),
  ]);
}

/** An upload in the profile's layout: the specimen id, test ids and result fields where its analyser puts them. */
export function buildResults(profile: AnalyzerProfile, specimens: SimulatedSpecimen[], when = new Date()): string {
  const d = profile.send.delimiters;
  const t = astmNow(when);
  const records: AstmRecord[] = [AstmRecord.build('H', [null, '', null, simulatorName(profile), null, null, null, null, 'LIS', null, specimens.every((s) => s.qc) && specimens.length ? 'Q' : 'P', '1', t], d)];
  specimens.forEach((s, i) => {
    records.push(AstmRecord.build('P', [String(i + 1), s.patientId ?? ''], d));
    const ref = profile.identifiers.specimenId.find((r) => r.record === 'O') ?? { field: 3, component: 1 };
    const o: Array<string | string[] | null> = new Array(25).fill(null);
    o[0] = '1';
    o[ref.field - 2] = ref.component === 1 ? s.specimenId : [...new Array(ref.component - 1).fill(''), s.specimenId];
    o[3] = null;
    o[4] = 'R';
    o[10] = s.qc ? 'Q' : 'N';
    o[24] = 'F';
    records.push(AstmRecord.build('O', o, d));
    const f = profile.tests.resultFields;
    s.results.forEach((r, j) => {
      const fields: Array<string | string[] | null> = new Array(Math.max(f.instrument, f.completed) - 1).fill(null);
      fields[0] = String(j + 1);
      const id = new Array(profile.tests.codeComponent - 1).fill('');
      id.push(r.code + profile.tests.sendCodeAppend);
      if (profile.tests.resultType) {
        while (id.length < profile.tests.resultType.component - 1) id.push('');
        id.push(profile.tests.resultType.value[0]);
      }
      fields[1] = id;
      fields[f.value - 2] = r.value;
      fields[f.units - 2] = r.units ?? '';
      fields[f.flags - 2] = r.flag ?? 'N';
      fields[f.status - 2] = r.status ?? 'F';
      fields[f.completed - 2] = t;
      records.push(AstmRecord.build('R', fields, d));
    });
  });
  records.push(AstmRecord.build('L', ['1', 'N'], d));
  return messageText(records);
}

function simulatorName(profile: AnalyzerProfile): string {
  return `${profile.models[0] ?? profile.name} SIM`;
}

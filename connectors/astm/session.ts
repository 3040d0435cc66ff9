// One analyser line: the link layer (LIS1-A or raw) below, message assembly and the record codec
// above, and the rule that makes it dependable: the frame that completes a message is acknowledged
// only after that message is durably stored. If storing fails the frame is NAKed and the analyser
// sends it again; if the line dies first, the analyser resends the whole message later. Nothing
// received is dropped: incomplete messages and stray bytes are stored as errored, with the reason.
import { TextDecoder } from 'node:util';
import type { AnalyzerProfile } from '../../devices/analyzers/profile';
import { MessageAssembler, type AssemblyEvent } from './codec/assembler';
import { parseMessage, type AstmMessage } from './codec/message';
import type { AstmRecord } from './codec/record';
import { interpretMessage, type AnalyserReport } from './interpret';
import type { Clock, TimerHandle } from './link/clock';
import { systemClock } from './link/clock';
import { byteName } from './link/constants';
import { AstmLink, type LinkOptions, type LinkProblem, type LinkRole, type SessionEnd } from './link/link';
import { RawLink } from './link/rawLink';

export interface ReceivedItem {
  /** The message text as received (records each ending CR), decoded per the profile's encoding. */
  text: string;
  message: AstmMessage;
  report?: AnalyserReport;
  /** Why the message cannot be trusted (incomplete, malformed…); such messages are kept as errored. */
  error?: string;
}

export interface SessionOptions {
  profile: AnalyzerProfile;
  /** `computer` for the engine; the simulator uses `instrument`. */
  role?: LinkRole;
  clock?: Clock;
  /** Overrides on top of the profile's link settings (timers, frame size…). */
  link?: Partial<LinkOptions>;
  /** Stores one message; resolve true once it is durable (its last frame is then ACKed), false to NAK. */
  store(item: ReceivedItem): Promise<boolean>;
  /** Builds the reply to a message holding host queries; undefined sends nothing. */
  answer?(report: AnalyserReport, item: ReceivedItem): Promise<AstmRecord[] | undefined>;
  onProblem?(problem: LinkProblem): void;
  /** A reply or download could not be sent. */
  onSendError?(error: Error): void;
  /** Quiet time after stray bytes before they are stored as one errored item (default 2 s). */
  noiseFlushMs?: number;
}

const END_REASON: Record<SessionEnd, string> = {
  eot: 'the sender ended the session (EOT) before the L record',
  timeout: 'no frame or EOT arrived within the receiver timeout before the L record',
  restart: 'the sender restarted the session (ENQ) before the L record',
  closed: 'the connection closed before the L record',
};

export class AstmSession {
  readonly link: AstmLink | RawLink;
  private readonly assembler = new MessageAssembler();
  private readonly clock: Clock;
  private readonly decoder: TextDecoder | undefined;
  private readonly pending = new Set<Promise<unknown>>();
  private noise: Buffer[] = [];
  private noiseReasons: string[] = [];
  private noiseTimer?: TimerHandle;
  private closed = false;

  constructor(
    write: (bytes: Buffer) => void,
    private readonly options: SessionOptions,
  ) {
    const p = options.profile;
    this.clock = options.clock ?? systemClock;
    this.decoder = p.encoding === 'utf8' ? new TextDecoder('utf-8') : undefined;
    if (p.link.mode === 'raw') {
      this.link = new RawLink(
        write,
        {
          onText: (bytes) => this.track(this.storeEvents(this.assembler.push(this.decode(bytes)))),
          onIdle: () => this.flush(END_REASON.timeout),
        },
        p.link.timers.receiverIdleMs ?? 30_000,
        this.clock,
      );
    } else {
      this.link = new AstmLink(
        write,
        {
          onFrame: (text, final) => this.onFrame(text, final),
          onSessionEnd: (how) => this.flush(END_REASON[how]),
          onProblem: (problem) => this.onProblem(problem),
        },
        {
          role: options.role ?? 'computer',
          clock: this.clock,
          timers: p.link.timers,
          maxSendFrameText: p.link.maxSendFrameText,
          maxReceiveFrameText: p.link.maxReceiveFrameText,
          frameUnit: p.link.frameUnit,
          maxFrameAttempts: p.link.maxFrameAttempts,
          honourInterrupt: p.link.honourInterrupt,
          lenientFirstFrameNumber: p.link.lenientFirstFrameNumber,
          ...options.link,
        },
      );
    }
  }

  receive(chunk: Uint8Array): void {
    this.link.receive(chunk);
  }

  /** Sends one message (its records) to the analyser; resolves once it was acknowledged. */
  send(records: AstmRecord[]): Promise<void> {
    const latin1 = this.options.profile.encoding === 'latin1';
    return this.link.send(records.map((r) => encodeText(r.toString() + '\r', latin1)));
  }

  /** The line is gone: what was pending is stored as incomplete. */
  close(reason = 'connection closed'): void {
    if (this.closed) return;
    this.closed = true;
    this.link.close(reason);
    if (this.link instanceof RawLink) this.flush(END_REASON.closed);
    this.flushNoise();
  }

  /** Resolves when every store and reply started so far has finished (graceful stop, tests). */
  async settled(): Promise<void> {
    while (this.pending.size > 0) await Promise.allSettled([...this.pending]);
  }

  private decode(bytes: Buffer): string {
    return this.decoder ? this.decoder.decode(bytes, { stream: true }) : bytes.toString('latin1');
  }

  private onFrame(bytes: Buffer, final: boolean): boolean | Promise<boolean> {
    this.flushNoise();
    const snapshot = this.assembler.snapshot();
    const events = this.assembler.push(this.decode(bytes), final);
    if (events.length === 0) return true;
    const stored = this.storeEvents(events).then(
      (ok) => {
        if (!ok) this.assembler.restore(snapshot);
        return ok;
      },
      (error) => {
        this.assembler.restore(snapshot);
        throw error;
      },
    );
    this.track(stored);
    return stored;
  }

  private flush(reason: string): void {
    const event = this.assembler.flush(reason);
    if (event) this.track(this.storeEvents([event]));
  }

  private async storeEvents(events: AssemblyEvent[]): Promise<boolean> {
    for (const event of events) {
      const item = this.toItem(event);
      if (!(await this.options.store(item))) return false;
      if (item.report && item.report.queries.length > 0 && !item.error && this.options.answer) {
        this.track(this.reply(item.report, item));
      }
    }
    return true;
  }

  private toItem(event: AssemblyEvent): ReceivedItem {
    const message = parseMessage(event.text);
    if (event.kind === 'incomplete') {
      return { text: event.text, message, error: [event.reason, ...message.errors.filter((e) => !e.startsWith('message ends without an L'))].join('; ') };
    }
    const report = interpretMessage(message, this.options.profile);
    return { text: event.text, message, report, ...(report.errors.length ? { error: report.errors.join('; ') } : {}) };
  }

  private async reply(report: AnalyserReport, item: ReceivedItem): Promise<void> {
    try {
      const records = await this.options.answer!(report, item);
      if (records && !this.closed) await this.send(records);
    } catch (error) {
      this.options.onSendError?.(error as Error);
    }
  }

  private onProblem(problem: LinkProblem): void {
    this.options.onProblem?.(problem);
    if (problem.code !== 'noise' || !problem.bytes) return;
    // Stray bytes are kept: a misconfigured analyser (e.g. raw records on a LIS1-A line) must show up.
    this.noise.push(problem.bytes);
    if (this.noiseReasons.length < 5) this.noiseReasons.push(problem.detail);
    this.noiseTimer?.cancel();
    this.noiseTimer = this.clock.setTimer(this.options.noiseFlushMs ?? 2_000, () => this.flushNoise());
  }

  private flushNoise(): void {
    this.noiseTimer?.cancel();
    this.noiseTimer = undefined;
    if (this.noise.length === 0) return;
    const bytes = Buffer.concat(this.noise);
    const reasons = this.noiseReasons;
    this.noise = [];
    this.noiseReasons = [];
    const text = bytes.toString('latin1');
    const hint = /^[\r\n]*[HhPpOoRrLl][|]/.test(text.replace(/[\x00-\x09\x0b\x0c\x0e-\x1f]/g, '')) ? '; the bytes look like bare ASTM records: if this analyser sends without the LIS1-A link layer, set link.mode: raw in its profile' : '';
    const error = `${bytes.length} byte(s) received outside an ASTM frame (first ${byteName(bytes[0])}): ${reasons.join('; ')}${hint}`;
    this.track(this.options.store({ text, message: parseMessage(''), error }));
  }

  private track<T>(promise: Promise<T>): Promise<T> {
    this.pending.add(promise);
    promise.finally(() => this.pending.delete(promise)).catch(() => undefined);
    return promise;
  }
}

/** ISO 8859-1 bytes; characters outside it become `?` rather than being silently mangled. */
export function encodeText(text: string, latin1: boolean): Buffer {
  if (!latin1) return Buffer.from(text, 'utf8');
  let safe = text;
  for (let i = 0; i < text.length; i++) {
    if (text.charCodeAt(i) > 0xff) {
      safe = text.replace(/[^\u0000-\u00ff]/g, '?');
      break;
    }
  }
  return Buffer.from(safe, 'latin1');
}

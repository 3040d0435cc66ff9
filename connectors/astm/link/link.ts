// The LIS1-A (E1381) data-link layer for one line (a serial port or one TCP connection), both
// directions: establishment (ENQ), transfer (numbered, checksummed frames with ACK/NAK/EOT replies),
// termination (EOT), contention, receiver interrupt, duplicate frames, retransmission limits and every
// timer of standards.md §1.5. Bytes come in through `receive()` and go out through `write`; what a
// frame means is the handler's business, so the same class serves the engine and the simulators.
import type { Clock, TimerHandle } from './clock';
import { systemClock } from './clock';
import { ACK, DEFAULT_SEND_FRAME_TEXT, ENQ, EOT, MAX_RECEIVE_FRAME_TEXT, NAK, byteName } from './constants';
import { encodeFrame, splitFrames } from './frame';
import { FrameScanner, type LinkEvent } from './frameScanner';

export type LinkRole = 'computer' | 'instrument';

/** Timer values in milliseconds; defaults are LIS1-A's (standards.md §1.5). */
export interface LinkTimers {
  /** Sender: wait for ACK/NAK/ENQ after sending ENQ, then send EOT. */
  enqReplyMs: number;
  /** Computer: after contention, wait this long for the instrument's ENQ before the line is neutral. */
  contentionWaitMs: number;
  /** Sender: wait after a busy NAK before the next ENQ. */
  busyBackoffMs: number;
  /** Instrument: wait after contention before sending ENQ again. */
  contentionBackoffMs: number;
  /** Sender: wait for the reply to a frame, then abort. */
  frameReplyMs: number;
  /** Receiver: wait for the next frame or EOT, then discard the incomplete message. */
  receiverIdleMs: number;
  /** Sender that honoured a receiver interrupt: wait before a new establishment. */
  interruptHoldoffMs: number;
  /** Sender: wait after an aborted attempt before trying the message again. */
  retryAfterAbortMs: number;
}

export const LIS1A_TIMERS: LinkTimers = {
  enqReplyMs: 15_000,
  contentionWaitMs: 20_000,
  busyBackoffMs: 10_000,
  contentionBackoffMs: 1_000,
  frameReplyMs: 15_000,
  receiverIdleMs: 30_000,
  interruptHoldoffMs: 15_000,
  retryAfterAbortMs: 10_000,
};

export interface LinkOptions {
  role: LinkRole;
  clock?: Clock;
  timers?: Partial<LinkTimers>;
  /** Text characters per sent frame (default 240). */
  maxSendFrameText?: number;
  /** Longest frame text accepted (default 64 000). */
  maxReceiveFrameText?: number;
  /** `record`: every record its own frame sequence (LIS1-A strict); `message`: the whole message chained with ETB. */
  frameUnit?: 'record' | 'message';
  /** Transmissions of one frame before the message is aborted (default 6). */
  maxFrameAttempts?: number;
  /** Busy NAKs to an ENQ before the attempt counts as failed (default 6). */
  maxEnqAttempts?: number;
  /** Attempts (establishment to termination) at one message before `send` rejects (default 3). */
  maxMessageAttempts?: number;
  /** Honour a receiver interrupt (EOT in reply to a frame); default true. */
  honourInterrupt?: boolean;
  /** Accept a first frame numbered other than 1 (some instruments start at 0); default false. */
  lenientFirstFrameNumber?: boolean;
}

export type SessionEnd = 'eot' | 'timeout' | 'restart' | 'closed';

export interface LinkProblem {
  code:
    | 'frame-rejected'
    | 'frame-out-of-sequence'
    | 'duplicate-frame'
    | 'noise'
    | 'frame-handler-failed'
    | 'receiver-timeout'
    | 'session-restarted'
    | 'send-aborted'
    | 'send-failed'
    | 'interrupted';
  detail: string;
  /** The bytes concerned, for noise (kept so nothing received is lost). */
  bytes?: Buffer;
}

export interface LinkHandler {
  /**
   * A good, new frame. Return true/false, or a promise of it, to ACK/NAK: the reply waits for the
   * promise, which is how a message is stored before its last frame is acknowledged.
   */
  onFrame(text: Buffer, final: boolean): boolean | Promise<boolean>;
  /** The receiving session ended (EOT, idle timeout, the sender restarting with ENQ, or the line closing). */
  onSessionEnd(how: SessionEnd): void;
  onProblem?(problem: LinkProblem): void;
}

type State = 'neutral' | 'awaitEnqReply' | 'awaitFrameReply' | 'receiving' | 'contention' | 'waiting' | 'closed';

interface Outgoing {
  records: Buffer[];
  attempts: number;
  resolve: () => void;
  reject: (error: Error) => void;
}

export interface LinkCounters {
  sessionsReceived: number;
  framesReceived: number;
  framesRejected: number;
  duplicateFrames: number;
  framesSent: number;
  retransmissions: number;
  aborts: number;
  messagesSent: number;
}

export class AstmLink {
  private state: State = 'neutral';
  private readonly scanner: FrameScanner;
  private readonly clock: Clock;
  private readonly timers: LinkTimers;
  private timer?: TimerHandle;
  private timerFn?: () => void;
  private timerDeadline = 0;
  private timerFiresAt = 0;
  private readonly queue: Outgoing[] = [];
  private backlog: LinkEvent[] = [];
  private processing = false;
  private draining = false;
  /** Receiving: number of the last accepted frame, and whether one was accepted in this session. */
  private lastFn = 0;
  private acceptedAny = false;
  private interruptRequested = false;
  /** Sending: frames of the current attempt, which one is out, its number and transmissions. */
  private frames: Array<[Buffer, boolean]> = [];
  private frameIndex = 0;
  private fn = 1;
  private frameAttempts = 0;
  private enqAttempts = 0;
  private holdUntil = 0;
  readonly counters: LinkCounters = {
    sessionsReceived: 0,
    framesReceived: 0,
    framesRejected: 0,
    duplicateFrames: 0,
    framesSent: 0,
    retransmissions: 0,
    aborts: 0,
    messagesSent: 0,
  };

  constructor(
    private readonly write: (bytes: Buffer) => void,
    private readonly handler: LinkHandler,
    private readonly options: LinkOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.timers = { ...LIS1A_TIMERS, ...options.timers };
    this.scanner = new FrameScanner({ maxFrameText: options.maxReceiveFrameText ?? MAX_RECEIVE_FRAME_TEXT });
  }

  /** `neutral`, `receiving`, `awaitFrameReply`… (for status pages and tests). */
  get currentState(): string {
    return this.state;
  }

  /** Messages waiting to be sent, including the one going out. */
  get pendingSends(): number {
    return this.queue.length;
  }

  /** Bytes from the line, in any split. */
  receive(chunk: Uint8Array): void {
    if (this.state === 'closed') return;
    this.backlog.push(...this.scanner.push(chunk));
    this.drain();
  }

  /**
   * Queues one message (its records, each ending CR) and resolves once every frame was acknowledged,
   * or rejects after `maxMessageAttempts` aborted attempts. The records are resent in full after an abort.
   */
  send(records: Buffer[]): Promise<void> {
    if (this.state === 'closed') return Promise.reject(new Error('link closed'));
    if (records.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.queue.push({ records, attempts: 0, resolve, reject });
      this.run(() => this.kick());
    });
  }

  /** As receiver: answer the next good frame with EOT instead of ACK (LIS1-A receiver interrupt). */
  requestInterrupt(): void {
    this.interruptRequested = true;
  }

  /** The line is gone: stop timers, end a receiving session, fail queued sends. */
  close(reason = 'link closed'): void {
    if (this.state === 'closed') return;
    const wasReceiving = this.state === 'receiving';
    this.cancelTimer();
    this.timer?.cancel();
    this.timer = undefined;
    this.state = 'closed';
    this.backlog = [];
    if (wasReceiving) this.handler.onSessionEnd('closed');
    for (const item of this.queue.splice(0)) item.reject(new Error(reason));
  }

  // ---- event dispatch (serial: a frame being stored holds back everything after it) ----

  private drain(): void {
    if (this.processing || this.draining) return;
    this.draining = true;
    try {
      while (this.backlog.length > 0 && this.state !== 'closed') {
        const event = this.backlog.shift()!;
        const pending = this.handle(event);
        if (pending) {
          this.processing = true;
          pending.finally(() => {
            this.processing = false;
            this.drain();
          });
          return;
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * Runs a state change from outside the event loop (send, timers, a stored frame's verdict). A reply
   * written here may come back synchronously (in-process peers); it waits in the backlog until the
   * state change is complete, so timers and states are never overtaken by their own replies.
   */
  private run(fn: () => void): void {
    if (this.draining) {
      fn();
      return;
    }
    this.draining = true;
    try {
      fn();
    } finally {
      this.draining = false;
    }
    this.drain();
  }

  private handle(event: LinkEvent): Promise<void> | undefined {
    switch (this.state) {
      case 'neutral':
      case 'waiting':
        if (event.kind === 'control' && event.byte === ENQ) this.beginReceiving();
        else if (event.kind === 'noise') this.problem('noise', `${event.reason} while the line is neutral`, event.bytes);
        else if (event.kind === 'frame') this.problem('noise', `frame ${event.fn} received while the line is neutral (no ENQ first); ignored`);
        return undefined;
      case 'contention':
        if (event.kind === 'control' && event.byte === ENQ) this.beginReceiving();
        return undefined;
      case 'receiving':
        return this.handleWhileReceiving(event);
      case 'awaitEnqReply':
        this.handleEnqReply(event);
        return undefined;
      case 'awaitFrameReply':
        this.handleFrameReply(event);
        return undefined;
      default:
        return undefined;
    }
  }

  // ---- receiver ----

  private beginReceiving(): void {
    this.cancelTimer();
    this.state = 'receiving';
    this.lastFn = 0;
    this.acceptedAny = false;
    this.counters.sessionsReceived++;
    this.write(Buffer.from([ACK]));
    this.armIdle();
  }

  private armIdle(): void {
    this.setTimer(this.timers.receiverIdleMs, () => {
      this.problem('receiver-timeout', `no frame or EOT within ${this.timers.receiverIdleMs / 1000} s; incomplete message set aside`);
      const dropped = this.scanner.reset();
      if (dropped && dropped.kind === 'noise') this.problem('noise', `${dropped.reason} (${dropped.bytes.length} bytes)`);
      this.endReceiving('timeout');
    });
  }

  private endReceiving(how: SessionEnd): void {
    this.cancelTimer();
    this.state = 'neutral';
    this.interruptRequested = false;
    // The receiver has sent its message and the line is neutral: an interrupt hold-off ends here.
    this.holdUntil = 0;
    this.handler.onSessionEnd(how);
    this.kick();
  }

  private handleWhileReceiving(event: LinkEvent): Promise<void> | undefined {
    if (event.kind === 'control') {
      if (event.byte === EOT) this.endReceiving('eot');
      else if (event.byte === ENQ) {
        // The sender started over (restarted, or lost our reply): what came so far is set aside.
        this.problem('session-restarted', 'sender sent ENQ in the middle of a transfer; incomplete message set aside');
        this.handler.onSessionEnd('restart');
        this.beginReceiving();
      }
      return undefined;
    }
    if (event.kind === 'noise') {
      this.problem('noise', event.reason, event.bytes);
      return undefined;
    }
    this.counters.framesReceived++;
    if (event.error) {
      this.counters.framesRejected++;
      this.problem('frame-rejected', `frame ${event.fn >= 0 ? event.fn : '?'}: ${event.error}`);
      return this.reply(NAK);
    }
    if (this.acceptedAny && event.fn === this.lastFn) {
      this.counters.duplicateFrames++;
      this.problem('duplicate-frame', `frame ${event.fn} received again (our ACK was lost); acknowledged and discarded`);
      return this.reply(ACK);
    }
    const expected = (this.lastFn + 1) & 7;
    if (event.fn !== expected && (this.acceptedAny || !this.options.lenientFirstFrameNumber)) {
      this.counters.framesRejected++;
      this.problem('frame-out-of-sequence', `frame number ${event.fn}, expected ${expected}`);
      return this.reply(NAK);
    }
    this.cancelTimer(); // the receiver-processing time is ours until we reply
    let verdict: boolean | Promise<boolean>;
    try {
      verdict = this.handler.onFrame(event.text, event.final);
    } catch (error) {
      verdict = false;
      this.problem('frame-handler-failed', (error as Error).message);
    }
    const settle = (ok: boolean) => {
      if (this.state !== 'receiving') return;
      if (ok) {
        this.lastFn = event.fn;
        this.acceptedAny = true;
        const interrupt = this.interruptRequested;
        this.interruptRequested = false;
        this.write(Buffer.from([interrupt ? EOT : ACK]));
      } else {
        this.counters.framesRejected++;
        this.write(Buffer.from([NAK]));
      }
      this.armIdle();
    };
    if (typeof verdict === 'boolean') {
      settle(verdict);
      return undefined;
    }
    return verdict.then(
      (ok) => this.run(() => settle(ok)),
      (error: Error) => {
        this.problem('frame-handler-failed', error.message);
        this.run(() => settle(false));
      },
    );
  }

  private reply(byte: number): undefined {
    this.write(Buffer.from([byte]));
    this.armIdle();
    return undefined;
  }

  // ---- sender ----

  private kick(): void {
    if (this.state !== 'neutral' || this.queue.length === 0) return;
    const wait = this.holdUntil - this.clock.now();
    if (wait > 0) {
      this.state = 'waiting';
      this.setTimer(wait, () => this.backToNeutral());
      return;
    }
    this.state = 'awaitEnqReply';
    this.write(Buffer.from([ENQ]));
    this.setTimer(this.timers.enqReplyMs, () => {
      this.write(Buffer.from([EOT]));
      this.attemptFailed(`no reply to ENQ within ${this.timers.enqReplyMs / 1000} s`);
    });
  }

  private backToNeutral(): void {
    this.cancelTimer();
    this.state = 'neutral';
    this.kick();
  }

  private waitThenRetry(ms: number): void {
    this.state = 'waiting';
    this.setTimer(ms, () => this.backToNeutral());
  }

  private handleEnqReply(event: LinkEvent): void {
    if (event.kind !== 'control') return; // everything but ACK, NAK and ENQ is ignored here
    if (event.byte === ACK) {
      this.cancelTimer();
      this.enqAttempts = 0;
      const item = this.queue[0];
      this.frames = splitFrames(item.records, this.options.maxSendFrameText ?? DEFAULT_SEND_FRAME_TEXT, this.options.frameUnit ?? 'record');
      this.frameIndex = 0;
      this.fn = 1;
      this.frameAttempts = 0;
      this.state = 'awaitFrameReply';
      this.sendFrame();
    } else if (event.byte === NAK) {
      this.cancelTimer();
      this.enqAttempts++;
      if (this.enqAttempts >= (this.options.maxEnqAttempts ?? 6)) {
        this.enqAttempts = 0;
        this.attemptFailed(`receiver busy: ${this.options.maxEnqAttempts ?? 6} ENQs answered with NAK`);
      } else this.waitThenRetry(this.timers.busyBackoffMs);
    } else if (event.byte === ENQ) {
      this.cancelTimer();
      if (this.options.role === 'computer') {
        // Contention: the instrument wins; wait for its next ENQ.
        this.state = 'contention';
        this.setTimer(this.timers.contentionWaitMs, () => this.backToNeutral());
      } else {
        this.waitThenRetry(this.timers.contentionBackoffMs);
      }
    }
  }

  private sendFrame(): void {
    const [text, final] = this.frames[this.frameIndex];
    this.frameAttempts++;
    if (this.frameAttempts > 1) this.counters.retransmissions++;
    this.counters.framesSent++;
    this.write(encodeFrame(this.fn, text, final));
    this.setTimer(this.timers.frameReplyMs, () => {
      this.write(Buffer.from([EOT]));
      this.attemptFailed(`no reply to frame ${this.fn} within ${this.timers.frameReplyMs / 1000} s`);
    });
  }

  private handleFrameReply(event: LinkEvent): void {
    const replyByte = event.kind === 'control' ? event.byte : undefined;
    if (replyByte === ACK || (replyByte === EOT && !(this.options.honourInterrupt ?? true))) {
      this.cancelTimer();
      this.nextFrame();
      return;
    }
    if (replyByte === EOT) {
      this.cancelTimer();
      const last = this.frameIndex === this.frames.length - 1;
      this.write(Buffer.from([EOT]));
      if (last) {
        this.messageDone();
        return;
      }
      this.problem('interrupted', `receiver interrupt after frame ${this.fn}; message will be resent in full`);
      this.state = 'neutral';
      this.holdUntil = this.clock.now() + this.timers.interruptHoldoffMs;
      this.kick();
      return;
    }
    // NAK or anything else: retransmit the same frame (same number) up to the limit.
    const what = replyByte === NAK ? 'NAK' : event.kind === 'control' ? byteName(event.byte) : event.kind === 'frame' ? 'a frame' : 'noise';
    this.cancelTimer();
    if (this.frameAttempts >= (this.options.maxFrameAttempts ?? 6)) {
      this.counters.aborts++;
      this.write(Buffer.from([EOT]));
      this.attemptFailed(`frame ${this.fn} not accepted after ${this.frameAttempts} transmissions (last reply: ${what})`);
      return;
    }
    this.sendFrame();
  }

  private nextFrame(): void {
    this.frameIndex++;
    this.fn = (this.fn + 1) & 7;
    this.frameAttempts = 0;
    if (this.frameIndex < this.frames.length) {
      this.sendFrame();
      return;
    }
    this.write(Buffer.from([EOT]));
    this.messageDone();
  }

  private messageDone(): void {
    const item = this.queue.shift()!;
    this.counters.messagesSent++;
    this.state = 'neutral';
    item.resolve();
    this.kick();
  }

  private attemptFailed(reason: string): void {
    this.cancelTimer();
    const item = this.queue[0];
    item.attempts++;
    const max = this.options.maxMessageAttempts ?? 3;
    if (item.attempts >= max) {
      this.queue.shift();
      this.problem('send-failed', `${reason}; gave up after ${item.attempts} attempt(s)`);
      item.reject(new Error(`${reason}; gave up after ${item.attempts} attempt(s)`));
      this.state = 'neutral';
      this.kick();
      return;
    }
    this.problem('send-aborted', `${reason}; message kept, attempt ${item.attempts + 1} of ${max} in ${this.timers.retryAfterAbortMs / 1000} s`);
    this.waitThenRetry(this.timers.retryAfterAbortMs);
  }

  // ---- timers and reporting ----

  /**
   * One armed timer at a time. Re-arming for a later deadline (the receiver's 30 s timer after every
   * frame) keeps the underlying clock timer and moves the deadline, so a busy line does not create and
   * cancel a timer per frame; when it fires early it re-arms for the rest.
   */
  private setTimer(ms: number, fn: () => void): void {
    const deadline = this.clock.now() + ms;
    this.timerFn = fn;
    this.timerDeadline = deadline;
    if (this.timer && this.timerFiresAt <= deadline) return;
    this.timer?.cancel();
    this.armUnderlying(ms);
  }

  private armUnderlying(ms: number): void {
    this.timerFiresAt = this.clock.now() + ms;
    const handle = this.clock.setTimer(ms, () => {
      if (this.timer !== handle) return;
      this.timer = undefined;
      const fn = this.timerFn;
      if (!fn) return;
      const remaining = this.timerDeadline - this.clock.now();
      if (remaining > 0) {
        this.armUnderlying(remaining);
        return;
      }
      this.timerFn = undefined;
      this.run(fn);
    });
    this.timer = handle;
  }

  private cancelTimer(): void {
    // The underlying timer may stay armed; with no function it does nothing when it fires.
    this.timerFn = undefined;
  }

  private problem(code: LinkProblem['code'], detail: string, bytes?: Buffer): void {
    this.handler.onProblem?.(bytes ? { code, detail, bytes } : { code, detail });
  }
}

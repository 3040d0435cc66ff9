// Raw mode: analysers that send bare CR-terminated records with no ENQ/frames/ACK. There is no
// acknowledgement to hold back, so a message counts as received when its L record arrives; an
// unfinished message is set aside after the idle time, like the LIS1-A receiver timeout.
import type { Clock, TimerHandle } from './clock';
import { systemClock } from './clock';

export interface RawLinkHandler {
  onText(text: Buffer): void;
  onIdle(): void;
}

export class RawLink {
  private timer?: TimerHandle;
  private closed = false;

  constructor(
    private readonly write: (bytes: Buffer) => void,
    private readonly handler: RawLinkHandler,
    private readonly idleMs = 30_000,
    private readonly clock: Clock = systemClock,
  ) {}

  receive(chunk: Uint8Array): void {
    if (this.closed) return;
    this.handler.onText(Buffer.from(chunk));
    this.timer?.cancel();
    this.timer = this.clock.setTimer(this.idleMs, () => this.handler.onIdle());
  }

  /** Writes the records (each already ending CR) straight to the line. */
  async send(records: Buffer[]): Promise<void> {
    if (this.closed) throw new Error('link closed');
    this.write(Buffer.concat(records));
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
  }
}

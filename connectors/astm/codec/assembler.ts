// Reassembles LIS2-A2 messages from text that arrives in pieces (frame texts, or raw reads): a record
// may span frames (ETB), a frame may hold many records, and a message ends with its L record. What
// cannot form a sound message (records before any H, an H before the previous L, a session that
// ends early) comes out as `incomplete` with the reason, so it is kept rather than lost.
export type AssemblyEvent =
  | { kind: 'message'; text: string }
  | { kind: 'incomplete'; text: string; reason: string };

export interface AssemblerState {
  partial: string;
  records: string[];
  orphan: boolean;
}

export class MessageAssembler {
  private partial = '';
  private records: string[] = [];
  /** The current message began without an H record. */
  private orphan = false;
  /** Guards memory when a sender never sends L. */
  constructor(private readonly maxMessageChars = 16 * 1024 * 1024) {}

  /** Adds text; `endOfRecord` (an ETX frame, or end of input) also ends a record missing its CR. */
  push(text: string, endOfRecord = false): AssemblyEvent[] {
    const events: AssemblyEvent[] = [];
    let start = 0;
    for (;;) {
      const cr = text.indexOf('\r', start);
      if (cr < 0) break;
      this.endRecord(this.partial + text.slice(start, cr), events);
      this.partial = '';
      start = cr + 1;
    }
    this.partial += text.slice(start);
    if (endOfRecord && this.partial !== '') {
      this.endRecord(this.partial, events);
      this.partial = '';
    }
    if (this.size() > this.maxMessageChars) {
      events.push(this.takeIncomplete(`message exceeds ${this.maxMessageChars} characters without an L record`));
    }
    return events;
  }

  /** Ends the current message early (EOT, timeout, restart, closed line); returns it if anything was pending. */
  flush(reason: string): AssemblyEvent | undefined {
    if (this.records.length === 0 && this.partial === '') return undefined;
    return this.takeIncomplete(reason);
  }

  get hasPending(): boolean {
    return this.partial !== '' || this.records.length > 0;
  }

  snapshot(): AssemblerState {
    return { partial: this.partial, records: this.records.slice(), orphan: this.orphan };
  }

  restore(state: AssemblerState): void {
    this.partial = state.partial;
    this.records = state.records.slice();
    this.orphan = state.orphan;
  }

  private size(): number {
    let n = this.partial.length;
    for (const r of this.records) n += r.length + 1;
    return n;
  }

  private endRecord(raw: string, events: AssemblyEvent[]): void {
    const record = raw.charCodeAt(0) === 10 ? raw.slice(1) : raw; // CR LF between records
    if (record === '') return;
    const type = record[0].toUpperCase();
    if (type === 'H') {
      if (this.records.length > 0) {
        events.push(this.takeIncomplete(this.orphan ? 'records arrived before any H record' : 'a new H record arrived before the L record of the previous message'));
      }
      this.records.push(record);
      this.orphan = false;
      return;
    }
    if (this.records.length === 0) this.orphan = true;
    this.records.push(record);
    if (type === 'L') {
      const text = this.records.join('\r') + '\r';
      const orphan = this.orphan;
      this.records = [];
      this.orphan = false;
      events.push(orphan ? { kind: 'incomplete', text, reason: 'missing H record: the message does not start with an H record' } : { kind: 'message', text });
    }
  }

  private takeIncomplete(reason: string): AssemblyEvent {
    let text = '';
    for (const r of this.records) text += r + '\r';
    text += this.partial;
    this.records = [];
    this.partial = '';
    this.orphan = false;
    return { kind: 'incomplete', text, reason };
  }
}

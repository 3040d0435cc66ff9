// Drains one destination's durable queue: at-least-once delivery with an idempotency key, exponential
// backoff with jitter, a dead-letter state after the last attempt, and ordering per key (deliveries
// that share an order key go one at a time, oldest first, while different keys run in parallel).
// Memory stays bounded whatever the backlog: the queue lives in the store and is read in windows.
import type { Logger } from 'winston';
import type { DestinationConnector } from '../connectors/types';
import { PermanentDeliveryError } from '../connectors/types';
import type { MessageStore, QueuedDelivery } from '../store/types';

export interface RetryPolicy {
  maxAttempts: number;
  initialBackoffMs: number;
  maxBackoffMs: number;
  concurrency: number;
}

export interface DeliveryEvent {
  kind: 'sent' | 'retry' | 'dead';
  delivery: QueuedDelivery;
  durationMs: number;
  error?: string;
}

/** Backoff before attempt n+1 after n failures: exponential, capped, with "equal jitter". */
export function backoffDelay(failures: number, policy: Pick<RetryPolicy, 'initialBackoffMs' | 'maxBackoffMs'>, random = Math.random): number {
  const exponential = Math.min(policy.maxBackoffMs, policy.initialBackoffMs * 2 ** Math.max(0, failures - 1));
  return Math.round(exponential / 2 + random() * (exponential / 2));
}

export class DestinationWorker {
  private readonly inFlight = new Map<number, AbortController>();
  private readonly busyKeys = new Set<string>();
  /** Deliveries read from the store, in queue order (in-flight ones included); bounded. */
  private buffer: QueuedDelivery[] = [];
  /** Highest queue id read so far: the store is only asked for what came after it. */
  private cursor = 0;
  /** The store may hold deliveries beyond the cursor (new messages arrived, or the last read was full). */
  private moreInStore = true;
  private readonly bufferLimit: number;
  private pumping = false;
  private pumpAgain = false;
  private stopped = true;
  private paused = false;
  private timer: NodeJS.Timeout | undefined;
  private idleWaiters: Array<() => void> = [];

  constructor(
    private readonly store: MessageStore,
    readonly channelId: string,
    readonly destination: string,
    private readonly connector: DestinationConnector,
    private readonly policy: RetryPolicy,
    private readonly keepSentContent: boolean,
    private readonly log: Logger,
    private readonly onEvent: (event: DeliveryEvent) => void,
  ) {
    this.bufferLimit = Math.max(1024, policy.concurrency * 64);
  }

  start(): void {
    this.stopped = false;
    this.reset();
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
    this.wake();
  }

  get isPaused(): boolean {
    return this.paused;
  }

  get activeCount(): number {
    return this.inFlight.size;
  }

  /** New deliveries were queued: read the store again when there is room. */
  notifyNew(): void {
    this.moreInStore = true;
    this.wake();
  }

  /** Deliveries changed behind the worker's back (dead letters replayed, messages reprocessed): re-read all. */
  reset(): void {
    this.buffer = this.buffer.filter((d) => this.inFlight.has(d.queueId));
    this.cursor = 0;
    this.moreInStore = true;
    this.wake();
  }

  /** Look at the buffer again (coalesced). */
  wake(): void {
    if (this.stopped) return;
    if (this.pumping) {
      this.pumpAgain = true;
      return;
    }
    void this.pump();
  }

  private async pump(): Promise<void> {
    this.pumping = true;
    try {
      do {
        this.pumpAgain = false;
        if (this.stopped || this.paused) break;
        await this.dispatchReady();
      } while (this.pumpAgain);
    } catch (error) {
      this.log.error(`queue ${this.channelId}/${this.destination}: ${(error as Error).message}`);
      this.schedule(1000);
    } finally {
      this.pumping = false;
    }
  }

  private async refill(): Promise<void> {
    const room = this.bufferLimit - this.buffer.length;
    if (!this.moreInStore || room < this.bufferLimit / 2) return;
    const rows = await this.store.readyDeliveries(this.channelId, this.destination, this.cursor, room);
    this.moreInStore = rows.length === room;
    const known = new Set(this.buffer.map((d) => d.queueId));
    for (const row of rows) if (!known.has(row.queueId)) this.buffer.push(row);
    if (rows.length) this.cursor = rows[rows.length - 1].queueId;
    this.buffer.sort((a, b) => a.queueId - b.queueId);
  }

  private async dispatchReady(): Promise<void> {
    if (this.inFlight.size >= this.policy.concurrency) return;
    if (this.store.claimDeliveries) return this.dispatchClaimed(this.store.claimDeliveries.bind(this.store));
    await this.refill();
    const now = Date.now();
    const blockedKeys = new Set<string>();
    let earliestDue = Infinity;
    for (const delivery of this.buffer) {
      if (this.inFlight.size >= this.policy.concurrency) break;
      const key = delivery.orderKey;
      if (this.inFlight.has(delivery.queueId)) {
        if (key !== null) blockedKeys.add(key);
        continue;
      }
      if (key !== null && (blockedKeys.has(key) || this.busyKeys.has(key))) {
        blockedKeys.add(key);
        continue;
      }
      if (delivery.nextAttemptAt > now) {
        earliestDue = Math.min(earliestDue, delivery.nextAttemptAt);
        if (key !== null) blockedKeys.add(key);
        continue;
      }
      this.deliver(delivery);
      if (key !== null) {
        this.busyKeys.add(key);
        blockedKeys.add(key);
      }
    }
    if (this.inFlight.size === 0) {
      if (earliestDue < Infinity) this.schedule(earliestDue - now);
      else if (this.buffer.length === 0 && !this.moreInStore) this.notifyIdle();
      else if (this.buffer.length === 0) this.pumpAgain = true;
    }
  }

  /** Shared stores: the store leases what this node may send (ordering and due times enforced there). */
  private async dispatchClaimed(claim: (channelId: string, destination: string, limit: number) => Promise<QueuedDelivery[]>): Promise<void> {
    // Claim in batches (each claim is a database round trip): wait for a quarter of the slots to free up.
    const free = this.policy.concurrency - this.inFlight.size;
    if (this.inFlight.size > 0 && free < Math.max(1, Math.floor(this.policy.concurrency / 4))) return;
    const claimed = await claim(this.channelId, this.destination, free);
    for (const delivery of claimed) {
      if (this.inFlight.has(delivery.queueId)) continue;
      this.deliver(delivery);
      if (delivery.orderKey !== null) this.busyKeys.add(delivery.orderKey);
    }
    if (claimed.length === 0 && this.inFlight.size === 0) {
      const due = await this.store.nextDueAt(this.channelId, this.destination);
      if (due === null) this.notifyIdle();
      // Other nodes enqueue too, and their leases may expire: look again soon in any case.
      this.schedule(due === null ? 250 : Math.min(250, Math.max(10, due - Date.now())));
    } else if (claimed.length === 0) this.schedule(250);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, Math.max(10, Math.min(delayMs, 60_000)));
    this.timer.unref();
  }

  private deliver(delivery: QueuedDelivery): void {
    const controller = new AbortController();
    this.inFlight.set(delivery.queueId, controller);
    const started = performance.now();
    const message = {
      content: delivery.content,
      contentType: delivery.contentType,
      messageId: delivery.messageId,
      channelId: delivery.channelId,
      correlation: delivery.correlation,
    };
    const context = {
      idempotencyKey: delivery.idempotencyKey,
      attempt: delivery.attempts + 1,
      destination: delivery.destination,
      signal: controller.signal,
    };
    Promise.resolve()
      .then(() => this.connector.send(message, context))
      .then(
        async (result) => {
          const durationMs = Math.round(performance.now() - started);
          await this.store.recordSuccess(delivery, { response: result?.response, durationMs, keepContent: this.keepSentContent });
          this.forget(delivery.queueId);
          this.onEvent({ kind: 'sent', delivery, durationMs });
        },
        async (error: unknown) => {
          const durationMs = Math.round(performance.now() - started);
          const reason = error instanceof Error ? error.message : String(error);
          const attempts = delivery.attempts + 1;
          const permanent = error instanceof PermanentDeliveryError;
          const dead = permanent || attempts >= this.policy.maxAttempts || this.stopped;
          // A stop interrupts delivery: that is not the message's fault, so it is retried at next start.
          const retryAt = this.stopped && !permanent ? Date.now() : dead ? null : Date.now() + backoffDelay(attempts, this.policy);
          await this.store.recordFailure(delivery, {
            error: reason,
            durationMs,
            retryAt,
            response: permanent ? (error as PermanentDeliveryError).response : undefined,
          });
          const kind = retryAt === null ? 'dead' : 'retry';
          if (kind === 'dead' || this.store.claimDeliveries) this.forget(delivery.queueId);
          else {
            delivery.attempts = attempts;
            delivery.nextAttemptAt = retryAt!;
          }
          if (kind === 'dead') this.log.warn(`dead-lettered message ${delivery.messageId} for ${this.channelId}/${this.destination}: ${reason}`, { messageId: delivery.messageId });
          this.onEvent({ kind, delivery, durationMs, error: reason });
        },
      )
      .catch((error: Error) => {
        // The store refused the outcome (e.g. disk full): the row stays READY and is retried later.
        this.log.error(`recording delivery of message ${delivery.messageId} failed: ${error.message}`, { messageId: delivery.messageId });
        this.schedule(1000);
      })
      .finally(() => {
        this.inFlight.delete(delivery.queueId);
        if (delivery.orderKey !== null) this.busyKeys.delete(delivery.orderKey);
        this.wake();
      });
  }

  private forget(queueId: number): void {
    const i = this.buffer.findIndex((d) => d.queueId === queueId);
    if (i >= 0) this.buffer.splice(i, 1);
  }

  /** Resolves when the queue has nothing ready and nothing in flight (used by tests and shutdown). */
  whenIdle(): Promise<void> {
    return new Promise((resolve) => {
      this.idleWaiters.push(resolve);
      this.wake();
    });
  }

  private notifyIdle(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    waiters.forEach((w) => w());
  }

  /** Stops taking new deliveries; waits up to `graceMs` for those in flight, then aborts them. */
  async stop(graceMs = 5000): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    const deadline = Date.now() + graceMs;
    while (this.inFlight.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    for (const controller of this.inFlight.values()) controller.abort();
    while (this.inFlight.size > 0) await new Promise((r) => setTimeout(r, 10));
    this.notifyIdle();
  }
}

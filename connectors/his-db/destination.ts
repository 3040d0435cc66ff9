// Result destination: each message (a ResultBatch or an order-status update, as JSON) is written in
// one transaction. The delivery's idempotency key is stored with the rows, so a redelivery updates
// what the first attempt wrote instead of adding rows. Unreachable database: throw, and the
// engine's queue keeps the message and retries; a message that cannot fit: dead-letter at once.
import type { ConnectorServices, DeliveryContext, DeliveryResult, DestinationConnector, OutboundMessage } from '../../engine/connectors/types';
import { PermanentDeliveryError } from '../../engine/connectors/types';
import { HisMappingError, HisNotFoundError } from '../../his/lookups';
import { parseHisMessage } from '../../his/messages';
import type { HisDbConfig } from './config';
import { acquireHis, resolveConnection, type HisLease } from './pool';

export class HisResultDestination implements DestinationConnector {
  private services?: ConnectorServices;
  private lease?: HisLease;
  private opening?: Promise<HisLease>;

  constructor(private readonly config: HisDbConfig) {}

  async start(services: ConnectorServices): Promise<void> {
    this.services = services;
  }

  private async his() {
    if (this.lease) return this.lease.his;
    this.opening ??= (async () => acquireHis(await resolveConnection(this.config.connection, this.services?.dataDir ?? 'data'), this.config.mapping))();
    try {
      this.lease = await this.opening;
      return this.lease.his;
    } finally {
      this.opening = undefined;
    }
  }

  async send(message: OutboundMessage, context: DeliveryContext): Promise<DeliveryResult> {
    let parsed;
    try {
      parsed = parseHisMessage(message.content);
    } catch (err) {
      throw new PermanentDeliveryError(`message ${message.messageId} is not a HIS result batch: ${(err as Error).message}`);
    }
    let his;
    try {
      his = await this.his();
    } catch (err) {
      throw new Error(`HIS database unreachable: ${(err as Error).message}`);
    }
    try {
      if (parsed.kind === 'status') {
        await his.updateOrderStatus(parsed.update);
        return { response: JSON.stringify({ status: parsed.update.status }) };
      }
      const outcome = await his.writeResults(parsed.batch, { idempotencyKey: context.idempotencyKey });
      return { response: JSON.stringify(outcome) };
    } catch (err) {
      if (err instanceof HisMappingError || err instanceof HisNotFoundError) throw new PermanentDeliveryError(err.message);
      // Anything else (connection lost, lock timeout, server restart) is worth retrying; reopen next time.
      await this.lease?.release().catch(() => undefined);
      this.lease = undefined;
      throw err;
    }
  }

  async stop(): Promise<void> {
    await this.lease?.release();
    this.lease = undefined;
  }
}

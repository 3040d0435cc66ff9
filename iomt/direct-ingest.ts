// The direct vitals path: the MQTT source hands each device message straight to the IoMT service, which
// stores it durably (batched) before the PUBACK goes out. It skips the engine's message log, so it is
// several times faster (bench/iomt) for wards of high-rate monitors, at the price of what the log
// gives: no raw-message browsing, replay or extra destinations for vitals (bad payloads are still
// kept, in the IoMT quarantine). The default through-the-engine channel is iomt/channel.ts.
import winston from 'winston';
import type { Logger } from 'winston';
import { mqttSourceConfigSchema, type MqttSourceConfig } from '../connectors/mqtt/config';
import { MqttSource } from '../connectors/mqtt/source';
import type { ConnectionStatus, InboundMessage, ReceiptResult, SourceContext } from '../engine/connectors/types';
import { DEFAULT_TOPIC_TEMPLATE } from './contract';
import type { IomtService } from './service';

export interface DirectIngestOptions {
  mqtt: Partial<MqttSourceConfig> & { url: string };
  log?: Logger;
  certsDir?: string;
  dataDir?: string;
}

export class DirectVitalsIngest {
  readonly source: MqttSource;
  readonly connections = new Map<string, ConnectionStatus>();
  private readonly log: Logger;

  constructor(
    private readonly service: IomtService,
    private readonly options: DirectIngestOptions,
  ) {
    this.source = new MqttSource(mqttSourceConfigSchema.parse({ topics: [DEFAULT_TOPIC_TEMPLATE], clientId: 'hisbridge-iomt-direct', ...options.mqtt }));
    this.log = options.log ?? winston.createLogger({ transports: [new winston.transports.Console({ silent: true })] });
  }

  private async receive(m: InboundMessage): Promise<ReceiptResult> {
    try {
      const receipt = { topic: m.origin?.topic, contentType: m.contentType, receivedAt: new Date() };
      if (m.origin?.rejected) await this.service.quarantineRejected(m.raw, receipt, m.origin.rejected, Number(m.origin.size));
      else await this.service.ingestPayload(m.raw, receipt);
      return { status: 'accepted', messageId: 0 };
    } catch (err) {
      // Not stored (database error, service stopping): not acknowledged, so the broker keeps it.
      return { status: 'unavailable', error: (err as Error).message };
    }
  }

  async start(): Promise<void> {
    const context: SourceContext = {
      channelId: 'iomt-direct',
      log: this.log,
      dataDir: this.options.dataDir ?? '',
      certsDir: this.options.certsDir ?? '',
      lookup: () => undefined,
      receive: (m) => this.receive(m),
      reportConnection: (status) => {
        if (status.state === 'stopped') this.connections.delete(status.id);
        else this.connections.set(status.id, { ...status, since: status.since ?? new Date().toISOString() });
      },
    };
    await this.source.start(context);
  }

  async stop(): Promise<void> {
    await this.source.stop();
  }
}

// IoMT as an application module: the IoMT service (registered for the iomt-vitals destination), the
// embedded broker on 127.0.0.1:1884 so `npm start` works with nothing else installed, the vitals channel,
// alert sinks (log, webhook, MQTT topic for ward displays) and the REST routes under /api/iomt.
import type { ApplicationModule } from '../engine/app';
import type { MqttSourceConfig } from '../connectors/mqtt/config';
import { MqttPublisher } from '../connectors/mqtt/publish';
import { fillTopic } from '../connectors/mqtt/topics';
import { createIomtRouter } from './api';
import { webhookAlertSink, type AlertSink } from './alerts';
import { VitalsCharter, type ChartingOptions, type ChartWriter } from './charting';
import { HIS_SERVICE } from '../his/lookups';
import { EMBEDDED_BROKER_DEFAULT_PORT, startEmbeddedBroker, type EmbeddedBroker } from './broker';
import { iomtVitalsChannel } from './channel';
import { DirectVitalsIngest } from './direct-ingest';
import type { IomtConfigInput } from './config';
import { DEFAULT_ALERT_TOPIC } from './contract';
import { IOMT_SERVICE, IomtService } from './service';

/** The embedded broker, when running, is registered under this name (its URL for other modules). */
export const IOMT_BROKER_SERVICE = 'iomt-broker';

export interface IomtModuleOptions {
  config?: IomtConfigInput;
  /** The embedded aedes broker (default on, 127.0.0.1:1884). Turn off when devices use Mosquitto. */
  broker?: { enabled?: boolean; host?: string; port?: number; users?: Record<string, string> };
  /** The vitals channel (default: subscribe to the embedded broker); `false` when a channel file defines it. */
  channel?: false | (Partial<MqttSourceConfig> & { url?: string });
  /**
   * `engine` (default): vitals go through an engine channel (message log, replay). `direct`: the MQTT
   * source writes straight into the IoMT store — several times the throughput (iomt/direct-ingest.ts).
   */
  ingest?: 'engine' | 'direct';
  /** Chart bound patients' vitals into the HIS (needs the HIS service); `false` to turn off. */
  charting?: false | ChartingOptions;
  alerts?: {
    webhookUrl?: string;
    /** Publish alert events to ward displays (default: on the vitals broker, `hospital/{site}/ward/{ward}/alerts`). */
    mqtt?: false | { url?: string; topic?: string; username?: string; password?: string };
  };
}

/** Publishes `{event, alert}` for ward displays; alerts without a ward go to ward `unassigned`. */
export function mqttAlertSink(publisher: MqttPublisher, topic = DEFAULT_ALERT_TOPIC): AlertSink {
  return {
    name: 'mqtt',
    async notify(event, alert) {
      const t = fillTopic(topic, { site: alert.site ?? 'default', ward: alert.ward ?? 'unassigned', bed: alert.bed ?? 'none', deviceId: alert.deviceId ?? 'none' });
      await publisher.publish(t, JSON.stringify({ event, alert }), { qos: 1, contentType: 'application/json' });
    },
  };
}

export function iomtModule(options: IomtModuleOptions = {}): ApplicationModule {
  return {
    name: 'iomt',
    async start({ engine, security }) {
      let broker: EmbeddedBroker | undefined;
      if (options.broker?.enabled !== false) {
        broker = await startEmbeddedBroker({ host: options.broker?.host ?? '127.0.0.1', port: options.broker?.port ?? EMBEDDED_BROKER_DEFAULT_PORT, users: options.broker?.users });
        engine.log.info(`IoMT: embedded MQTT broker listening on ${broker.url}`);
        engine.registerService(IOMT_BROKER_SERVICE, broker);
      }
      const channelUrl = options.channel === false ? undefined : (options.channel?.url ?? broker?.url);
      const sinks: AlertSink[] = [];
      if (options.alerts?.webhookUrl) sinks.push(webhookAlertSink(options.alerts.webhookUrl));
      let publisher: MqttPublisher | undefined;
      const mqttAlerts = options.alerts?.mqtt;
      const alertUrl = mqttAlerts === false ? undefined : (mqttAlerts?.url ?? channelUrl);
      if (alertUrl) {
        publisher = new MqttPublisher(
          { url: alertUrl, protocolVersion: 4, qos: 1, retain: false, keepaliveSeconds: 30, reconnectMs: 2000, connectTimeoutMs: 3000, publishTimeoutMs: 5000, username: mqttAlerts ? mqttAlerts.username : undefined, password: mqttAlerts ? mqttAlerts.password : undefined },
          { clientId: `hisbridge-alerts-${process.pid}`, certsDir: engine.certsDir },
        );
        await publisher.connect();
        sinks.push(mqttAlertSink(publisher, (mqttAlerts && mqttAlerts.topic) || DEFAULT_ALERT_TOPIC));
      }
      const service = new IomtService({ dataDir: engine.dataDir, config: options.config, log: engine.log, sinks });
      service.start();
      engine.registerService(IOMT_SERVICE, service);
      let direct: DirectVitalsIngest | undefined;
      if (channelUrl && options.channel !== false) {
        if (options.ingest === 'direct') {
          direct = new DirectVitalsIngest(service, { mqtt: { ...(options.channel || {}), url: channelUrl }, log: engine.log, certsDir: engine.certsDir, dataDir: engine.dataDir });
          await direct.start();
        } else {
          await engine.deployChannel(iomtVitalsChannel({ mqtt: { ...(options.channel || {}), url: channelUrl } }));
        }
      }
      // The HIS connector registers itself as a service; looked up at each check, so start order does not matter.
      const charter = options.charting === false ? undefined : new VitalsCharter(service, () => engine.lookup<ChartWriter>(HIS_SERVICE), options.charting ?? {}, engine.log);
      charter?.start();
      const router = createIomtRouter({
        service,
        audit: (req, action, target, patientId, detail) =>
          security.audit({ username: req.user?.username ?? '(anonymous)', action, target, patientId: patientId ?? null, detail, remote: req.socket.remoteAddress ?? '' }),
      });
      return {
        // The router checks each route's role itself (reading, managing devices, clinical actions).
        extensions: [{ path: 'iomt', permission: 'devices:manage', router }],
        stop: async () => {
          await direct?.stop();
          await charter?.stop();
          await publisher?.close();
          await service.stop();
          await broker?.close();
        },
      };
    },
  };
}

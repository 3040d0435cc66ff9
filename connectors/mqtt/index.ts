// The `mqtt` source and `mqtt-publish` destination connector types.
import type { ConnectorDefinition } from '../../engine/connectors/types';
import { mqttPublishConfigSchema, mqttSourceConfigSchema, type MqttPublishConfig, type MqttSourceConfig } from './config';
import { MqttPublishDestination } from './publish';
import { MqttSource } from './source';

export const mqttConnector: ConnectorDefinition<MqttSourceConfig> = {
  type: 'mqtt',
  description: 'MQTT 3.1.1/5 subscriber (QoS 1, persistent session, PUBACK after the store, TLS/client certificates)',
  configSchema: mqttSourceConfigSchema,
  createSource: (config) => new MqttSource(config),
};

export const mqttPublishConnector: ConnectorDefinition<MqttPublishConfig> = {
  type: 'mqtt-publish',
  description: 'MQTT 3.1.1/5 publisher (QoS 1 with PUBACK, topic filled from the message)',
  configSchema: mqttPublishConfigSchema,
  createDestination: (config) => new MqttPublishDestination(config),
};

export { MqttSource } from './source';
export { MqttPublisher, MqttPublishDestination } from './publish';
export * from './config';
export * from './topics';

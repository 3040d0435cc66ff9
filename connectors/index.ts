// The composition root for connector types: the engine knows none of them; this file registers
// every built-in one. A connector module exports a ConnectorDefinition; add one line here.
import type { ConnectorRegistry } from '../engine/connectors/registry';
import { astmConnector } from './astm/connector';
import { fileConnector } from './file/file';
import { httpConnector } from './http/http';
import { hl7BatchFileConnector, mllpConnector } from './hl7/connectors';
import { dicomConnector, dicomForwardConnector } from './dicom';
import { hisDbConnector } from './his-db';
import { mqttConnector, mqttPublishConnector } from './mqtt';
import { iomtBedAssignmentConnector, iomtVitalsConnector } from '../iomt/channel';
import { bhytGatewayConnector } from '../claims/connector';

export function registerBuiltinConnectors(registry: ConnectorRegistry): ConnectorRegistry {
  registry.register(fileConnector);
  registry.register(httpConnector);
  registry.register(mllpConnector);
  registry.register(hl7BatchFileConnector);
  registry.register(dicomConnector);
  registry.register(dicomForwardConnector);
  registry.register(astmConnector);
  registry.register(hisDbConnector);
  registry.register(mqttConnector);
  registry.register(mqttPublishConnector);
  registry.register(iomtVitalsConnector);
  registry.register(iomtBedAssignmentConnector);
  registry.register(bhytGatewayConnector);
  return registry;
}

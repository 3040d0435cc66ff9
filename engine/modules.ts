// The optional modules `hisbridge start` runs beside the engine core, in order. Each one registers
// services (e.g. the HIS lookups other connectors call) and API routes, and stops with the engine.
// The HIS comes first: the others look it up.
import { claimsModule } from '../claims/module';
import { hisModule } from '../connectors/his-db';
import { demoSimulatorsModule } from '../devices/simulators/demo';
import { emrModule } from '../emr/module';
import { iomtModule } from '../iomt/module';
import type { ApplicationModule } from './app';
import type { EngineConfig } from './config/config';

export function applicationModules(config: EngineConfig): ApplicationModule[] {
  return [
    hisModule(),
    iomtModule({ broker: { enabled: config.demo.enabled, port: config.demo.mqttPort }, channel: config.demo.enabled ? undefined : false, alerts: { webhookUrl: config.alerts.webhookUrl } }),
    claimsModule(),
    emrModule(),
    // Start/stop of the device simulators from the console; mounts /api/demo only when demo.enabled.
    demoSimulatorsModule(),
  ];
}

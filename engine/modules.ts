// The optional modules `hisbridge start` runs beside the engine core, in order. Each one registers
// services (e.g. the HIS lookups other connectors call) and API routes, and stops with the engine.
import type { ApplicationModule } from './app';
import type { EngineConfig } from './config/config';

export function applicationModules(_config: EngineConfig): ApplicationModule[] {
  return [];
}

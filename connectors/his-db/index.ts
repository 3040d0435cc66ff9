// The `his-db` connector type and the HIS application module (first-start demo HIS + the 'his'
// lookups service other connectors call).
import type { ApplicationModule } from '../../engine/app';
import type { ConnectorDefinition } from '../../engine/connectors/types';
import type { ConnectionConfig } from '../../his/db/dialect';
import { HIS_SERVICE } from '../../his/lookups';
import { hisDbConfigSchema, type HisDbConfig } from './config';
import { HisResultDestination } from './destination';
import { acquireHis, resolveConnection } from './pool';
import { HisOrderSource } from './source';

export { HisDatabase } from './his-database';
export { HisOrderSource } from './source';
export { HisResultDestination } from './destination';
export { hisDbConfigSchema, type HisDbConfig } from './config';
export { acquireHis } from './pool';

export const hisDbConnector: ConnectorDefinition<HisDbConfig> = {
  type: 'his-db',
  description: 'HIS database (SQL Server, PostgreSQL, MySQL/MariaDB, SQLite) through a YAML mapping: polls new/changed orders, writes results',
  configSchema: hisDbConfigSchema as unknown as ConnectorDefinition<HisDbConfig>['configSchema'],
  createSource: (config) => new HisOrderSource(hisDbConfigSchema.parse(config)),
  createDestination: (config) => new HisResultDestination(hisDbConfigSchema.parse(config)),
};

export interface HisModuleOptions {
  /** The HIS database; omitted = the demo HIS, created in the data folder at first start. */
  connection?: ConnectionConfig;
  mapping?: string;
}

/**
 * Application module: at start, makes sure the HIS exists (the demo HIS on first start), opens it and
 * registers the HisLookups service as 'his'; releases it at stop.
 */
export function hisModule(options: HisModuleOptions = {}): ApplicationModule {
  return {
    name: 'his',
    async start({ engine }) {
      const connection = await resolveConnection(options.connection, engine.dataDir);
      const lease = await acquireHis(connection, options.mapping ?? 'demo-his');
      engine.registerService(HIS_SERVICE, lease.his);
      engine.log.info(`HIS lookups ready (${connection.type === 'sqlite' ? connection.file : connection.type}, mapping ${options.mapping ?? 'demo-his'})`);
      return { stop: () => lease.release() };
    },
  };
}

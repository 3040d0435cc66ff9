// The claims application module: `hisbridge start` creates the claims service (store, signer,
// gateway client) beside the HIS lookups, registers it as service 'claims' for the gateway
// connector, and contributes the REST routes under /api/claims.
import { requirePermission } from '../engine/api/server';
import type { ApplicationModule } from '../engine/app';
import { HIS_SERVICE, type HisLookups } from '../his/lookups';
import { createClaimsRouter } from './api';
import { type ClaimsConfig, loadClaimsConfig } from './config';
import { CLAIMS_SERVICE, ClaimsService } from './service';

export interface ClaimsModuleOptions {
  /** Settings; default: claims.config.yaml beside the engine configuration, if present. */
  config?: Partial<ClaimsConfig>;
  configFile?: string;
}

export function claimsModule(options: ClaimsModuleOptions = {}): ApplicationModule {
  return {
    name: 'claims',
    async start({ engine, config }) {
      const claimsConfig = options.config ?? loadClaimsConfig(options.configFile, config.baseDir);
      const service = new ClaimsService({ dataDir: config.dataDir, certsDir: config.certsDir, config: claimsConfig, lookups: engine.lookup<HisLookups>(HIS_SERVICE) });
      engine.registerService(CLAIMS_SERVICE, service);
      engine.log.info(`claims ready (QĐ ${service.config.version}, gateway ${service.config.gateway.host}${service.lookups ? '' : ', no HIS: building is disabled'})`);
      return {
        extensions: [{ path: 'claims', permission: 'claims:read', router: createClaimsRouter({ service, requireSubmit: requirePermission('claims:submit') }) }],
        stop: async () => service.close(),
      };
    },
  };
}

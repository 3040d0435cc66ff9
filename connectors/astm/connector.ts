// The `astm` connector type: as a source, one analyser line (results in, host queries answered); as a
// destination, batch order download to an analyser whose source is running.
import { z } from 'zod';
import type { ConnectorDefinition } from '../../engine/connectors/types';
import { astmSourceConfigSchema, type AstmSourceConfig } from './config';
import { astmDownloadConfigSchema, AstmOrderDownload, type AstmDownloadConfig } from './destination';
import { AstmSource } from './source';

type AstmConfig = AstmSourceConfig | AstmDownloadConfig;

/** Source configs name a profile and transport; destination configs name only an analyser id. */
const pick = (value: unknown) =>
  value && typeof value === 'object' && ('profile' in value || 'transport' in value) ? astmSourceConfigSchema : astmDownloadConfigSchema.strict();
const schema = z
  .unknown()
  .superRefine((value, ctx) => {
    const result = pick(value).safeParse(value);
    if (!result.success) for (const issue of result.error.issues) ctx.addIssue({ code: 'custom', path: issue.path as (string | number)[], message: issue.message });
  })
  .transform((value) => pick(value).parse(value) as AstmConfig) as unknown as z.ZodType<AstmConfig>;

export const astmConnector: ConnectorDefinition<AstmConfig> = {
  type: 'astm',
  description: 'ASTM E1381/E1394 (LIS1-A/LIS2-A2) lab analysers over serial or TCP: results in, host query, order download',
  configSchema: schema,
  createSource(config) {
    const parsed = astmSourceConfigSchema.parse(config);
    return new AstmSource(parsed);
  },
  createDestination(config) {
    return new AstmOrderDownload(astmDownloadConfigSchema.parse(config));
  },
};

// Connector types of the HL7 area: `mllp` (listener as a source, sender as a destination) and
// `hl7-batch-file` (FHS/BHS batch files from a folder).
import { z } from 'zod';
import type { ConnectorDefinition } from '../../engine/connectors/types';
import { batchFileSourceSchema, Hl7BatchFileSource } from './batch-file-source';
import { MllpDestination, mllpDestinationSchema } from './destination';
import { MllpSource, mllpSourceSchema } from './source';

function issuesText(error: z.ZodError): string {
  return error.issues.map((i) => `${i.path.join('.') || '(config)'}: ${i.message}`).join('; ');
}

/**
 * One schema for both ends: a config must be valid as a listener or as a sender (unknown keys are
 * refused, so a misspelt option is reported rather than ignored). Each end applies its own defaults.
 */
const mllpConfigSchema = z.looseObject({}).superRefine((config, ctx) => {
  const asSource = mllpSourceSchema.strict().safeParse(config);
  const asDestination = mllpDestinationSchema.strict().safeParse(config);
  if (asSource.success || asDestination.success) return;
  ctx.addIssue({
    code: 'custom',
    message: `not a valid MLLP listener (${issuesText(asSource.error)}) nor sender (${issuesText(asDestination.error)})`,
  });
});

function parseWith<S extends z.ZodType>(schema: S, config: unknown, what: string): z.infer<S> {
  const result = schema.safeParse(config);
  if (!result.success) throw new Error(`${what} configuration: ${issuesText(result.error)}`);
  return result.data;
}

export const mllpConnector: ConnectorDefinition<Record<string, unknown>> = {
  type: 'mllp',
  description: 'HL7 v2 over MLLP (TCP or TLS): a listener that acknowledges what is stored, and a sender with pipelining and ACK checks',
  configSchema: mllpConfigSchema,
  createSource: (config) => new MllpSource(parseWith(mllpSourceSchema.strict(), config, 'mllp source')),
  createDestination: (config) => new MllpDestination(parseWith(mllpDestinationSchema.strict(), config, 'mllp destination')),
};

export const hl7BatchFileConnector: ConnectorDefinition<z.infer<typeof batchFileSourceSchema>> = {
  type: 'hl7-batch-file',
  description: 'HL7 v2 batch files (FHS/BHS … BTS/FTS) picked up from a folder, one stored message per MSH',
  configSchema: batchFileSourceSchema,
  createSource: (config) => new Hl7BatchFileSource(config),
};

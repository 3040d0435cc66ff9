import { z } from 'zod';
import { connectionSchema } from '../../his/db/dialect';
import { orderStatuses } from '../../model';

const list = z.array(z.string().min(1)).optional();

export const hisDbConfigSchema = z.object({
  /** The HIS database; omitted = the demo HIS created in the engine's data folder. */
  connection: connectionSchema.optional(),
  /** Mapping name under mappings/ (`demo-his`, `example-english`) or a path to a YAML file. */
  mapping: z.string().min(1).default('demo-his'),

  // ---- source (order polling)
  /** Name of the watermark (default: the channel id); two sources with the same name share it. */
  watermarkName: z.string().regex(/^[A-Za-z0-9_.-]+$/).optional(),
  orderKinds: z.array(z.enum(['lab', 'imaging'])).min(1).default(['lab', 'imaging']),
  filter: z
    .object({
      departments: list,
      modalities: list,
      analysers: list,
      stationAeTitles: list,
      statuses: z.array(z.enum(orderStatuses as [string, ...string[]])).optional(),
    })
    .default({}),
  pollIntervalMs: z.number().int().min(50).max(3_600_000).default(2000),
  batchSize: z.number().int().min(1).max(10_000).default(500),
  /** Orders handed to the engine at once (its store commits them in one group). */
  receiveConcurrency: z.number().int().min(1).max(1000).default(32),
  /**
   * Seconds of change stamps re-read on every poll, so a row committed late with an older stamp
   * (a long HIS transaction) is still seen; already delivered versions are skipped.
   */
  overlapSeconds: z.number().min(0).max(86_400).default(300),
  /** Where a new source starts: `now` (only later changes), `beginning`, or an ISO date-time. */
  startFrom: z.string().default('now'),
  backoff: z
    .object({ initialMs: z.number().int().min(10).default(1000), maxMs: z.number().int().min(10).default(60_000) })
    .default({ initialMs: 1000, maxMs: 60_000 }),
});

export type HisDbConfig = z.infer<typeof hisDbConfigSchema>;

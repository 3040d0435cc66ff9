// Configuration of an `astm` source endpoint (validated with zod; errors name the field).
import { z } from 'zod';

const serialOverrides = z
  .object({
    baudRate: z.number().int().positive(),
    dataBits: z.union([z.literal(7), z.literal(8)]),
    parity: z.enum(['none', 'even', 'odd']),
    stopBits: z.union([z.literal(1), z.literal(2)]),
    flowControl: z.enum(['none', 'rtscts', 'xonxoff']),
  })
  .partial();

export const astmTransportSchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('tcp-server'), host: z.string().default('0.0.0.0'), port: z.number().int().min(0).max(65535) }),
  z.object({ kind: z.literal('tcp-client'), host: z.string().min(1), port: z.number().int().min(1).max(65535), reconnectMs: z.number().int().min(100).default(5000) }),
  z.object({ kind: z.literal('serial'), path: z.string().min(1, 'name the serial device, e.g. /dev/ttyUSB0'), reopenMs: z.number().int().min(100).default(5000) }).merge(serialOverrides),
]);

export const astmSourceConfigSchema = z
  .object({
    /** Analyser profile id (a file in devices/analyzers/). */
    profile: z.string().min(1, 'name an analyser profile, e.g. sysmex-xn'),
    /** Folder of profiles (default devices/analyzers). */
    profileDir: z.string().optional(),
    /** This analyser's id (device id on results, code-map rows); default the profile id. */
    analyzerId: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'letters, digits, dot, dash, underscore').optional(),
    transport: astmTransportSchema,
    /** Link settings on top of the profile's. */
    link: z
      .object({
        mode: z.enum(['lis1a', 'raw']),
        frameUnit: z.enum(['record', 'message']),
        maxSendFrameText: z.number().int().min(16).max(63_993),
        lenientFirstFrameNumber: z.boolean(),
        timers: z.record(z.string(), z.number().int().positive()),
      })
      .partial()
      .default({}),
    hostQuery: z
      .object({
        /** Default: the profile's setting. */
        enabled: z.boolean().optional(),
        /** Service answering `ordersForSpecimen` (an OrderLookup) or the HIS lookups (`ordersBySpecimen`). */
        lookupService: z.string().default('his'),
      })
      .default({ lookupService: 'his' }),
    /** Code-map files (default: mappings/codes/lab-tests.yaml + mappings/analyzers/<profile>.yaml). */
    codeMapFiles: z.array(z.string()).optional(),
    /** `stored`: ACK once stored (default); `delivered`: once every destination took it. */
    waitFor: z.enum(['stored', 'delivered']).default('stored'),
    /** An identical message received again within this window is acknowledged, not stored twice. */
    dedupeWindowMs: z.number().int().min(0).default(600_000),
    /** Store a multi-specimen upload as one message per specimen (default true). */
    splitBySpecimen: z.boolean().default(true),
    /** Ask the HIS whether a result repeats an earlier one (rerun → corrected, earlier kept as superseded). */
    detectReruns: z.boolean().default(true),
  })
  .strict();

export type AstmSourceConfig = z.infer<typeof astmSourceConfigSchema>;
export type AstmSourceConfigInput = z.input<typeof astmSourceConfigSchema>;

// IoMT service settings (all optional; the defaults suit a ward of bedside monitors publishing every few seconds).
import { z } from 'zod';
import { DEFAULT_TOPIC_TEMPLATE } from './contract';

export const iomtConfigSchema = z.object({
  /** SQLite file; default `<dataDir>/iomt/iomt.sqlite`. */
  dbFile: z.string().optional(),
  /** `full`: fsync every commit (nothing acknowledged is lost on power failure); `normal`: survives process crashes only. */
  synchronous: z.enum(['full', 'normal']).default('full'),
  /** Readings are written in batches: at most `maxSize` messages or `maxDelayMs` after the first. */
  batch: z.object({ maxSize: z.number().int().min(1).max(100_000).default(2000), maxDelayMs: z.number().int().min(0).max(1000).default(10) }).default({ maxSize: 2000, maxDelayMs: 10 }),
  topicTemplate: z.string().default(DEFAULT_TOPIC_TEMPLATE),
  maxPayloadBytes: z.number().int().min(256).max(16 * 1024 * 1024).default(64 * 1024),
  /** Readings timestamped further in the future are rejected (device clock wrong). */
  maxFutureMs: z.number().int().min(0).default(2 * 60_000),
  /** Readings older than this are rejected as too late (store-and-forward limit). */
  maxAgeMs: z.number().int().min(60_000).default(24 * 3600_000),
  /** Record devices that send data before anyone registered them (as `discovered`, never bound). */
  autoDiscover: z.boolean().default(true),
  rateLimit: z.object({ ratePerSecond: z.number().positive().default(20), burst: z.number().int().min(1).default(60) }).default({ ratePerSecond: 20, burst: 60 }),
  /** A bound device silent this long raises a technical alert. */
  silentAfterMs: z.number().int().min(1000).default(5 * 60_000),
  silentCheckMs: z.number().int().min(100).default(30_000),
  news2: z
    .object({
      monitorWindowMs: z.number().int().min(1000).default(15 * 60_000),
      temperatureWindowMs: z.number().int().min(1000).default(4 * 3600_000),
      assessmentWindowMs: z.number().int().min(1000).default(4 * 3600_000),
      /** Lowest risk band that raises a clinical alert. */
      alertFrom: z.enum(['low', 'low-medium', 'medium', 'high']).default('low-medium'),
      /** An alert resolves after the score stayed below `alertFrom` this long. */
      resolveAfterMs: z.number().int().min(0).default(5 * 60_000),
      /** A score is stored when it changes, or at least this often while it does not. */
      recordEveryMs: z.number().int().min(1000).default(60_000),
    })
    .default({ monitorWindowMs: 15 * 60_000, temperatureWindowMs: 4 * 3600_000, assessmentWindowMs: 4 * 3600_000, alertFrom: 'low-medium', resolveAfterMs: 5 * 60_000, recordEveryMs: 60_000 }),
  retention: z
    .object({ readingsDays: z.number().int().min(1).default(90), quarantineDays: z.number().int().min(1).default(30) })
    .default({ readingsDays: 90, quarantineDays: 30 }),
  /** Housekeeping cadence (last-seen, rollups, alert counts, rate-limit reports). */
  housekeepingMs: z.number().int().min(50).default(5000),
});

export type IomtConfig = z.infer<typeof iomtConfigSchema>;
export type IomtConfigInput = z.input<typeof iomtConfigSchema>;

// The hisbridge device contract (docs/iomt.md, iomt/contract/vitals.schema.json): topic layout and the
// JSON payload a monitor or gateway publishes. No vendor or standard defines an MQTT vitals payload
// (standards.md §6.2), so this is ours: one message = one device, one message id, one or more measurements.
import { z } from 'zod';

export const DEFAULT_TOPIC_TEMPLATE = 'hospital/{site}/ward/{ward}/bed/{bed}/device/{deviceId}/{format}';
/** Where ward displays read alerts (published by the alert sink). */
export const DEFAULT_ALERT_TOPIC = 'hospital/{site}/ward/{ward}/alerts';

export const DEVICE_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$/;
export const MAX_MEASUREMENTS = 64;

const deviceId = z.string().regex(DEVICE_ID_PATTERN, 'device id: 1-64 characters A-Z a-z 0-9 . _ : - (starting with a letter or digit)');
const messageId = z.union([z.string().min(1).max(128), z.number().int().nonnegative()]);
/** ISO 8601 with offset (`2026-11-22T08:30:00+07:00`), or Unix time in seconds or milliseconds. */
const time = z.union([z.string().min(10).max(40), z.number().nonnegative()]);

export const measurementSchema = z.object({
  /** LOINC code (default system), MDC code, or a short name (`hr`, `spo2`, `rr`, `temp`, `sbp`, `dbp`, `map`, `acvpu`, `o2`, `o2-flow`). */
  code: z.string().min(1).max(64),
  system: z.string().min(1).max(128).optional(),
  value: z.union([z.number(), z.string().max(32), z.boolean()]),
  unit: z.string().max(32).optional(),
  /** When this measurement was taken, if different from the message time. */
  time: time.optional(),
});

export const vitalsMessageSchema = z.object({
  /** Contract version. */
  v: z.literal(1).optional(),
  deviceId,
  messageId,
  time,
  /** Optional cross-check: the patient the device thinks it is on (never used to bind). */
  patientId: z.string().min(1).max(64).optional(),
  measurements: z.array(measurementSchema).min(1).max(MAX_MEASUREMENTS),
});

export type VitalsMessage = z.infer<typeof vitalsMessageSchema>;
export type MeasurementInput = z.infer<typeof measurementSchema>;

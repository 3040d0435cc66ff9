// Adapter for the compact array format cheap wearables send (documented in docs/iomt.md):
//   [deviceId, seq, unixSeconds, hr, spo2, rr, tempCel, sbp, dbp]
// null or a missing tail means "not measured". A store-and-forward batch is an array of such rows.
// Units are implied by position. The sequence number resets on reboot, so the message id is seq@time.
import { DEVICE_ID_PATTERN } from '../contract';
import { VitalsInputError, type DeviceMessage } from '../types';

/** Positional fields after [deviceId, seq, time]: code (short name) and implied UCUM unit. */
export const COMPACT_FIELDS: ReadonlyArray<{ code: string; unit: string }> = [
  { code: 'hr', unit: '/min' },
  { code: 'spo2', unit: '%' },
  { code: 'rr', unit: '/min' },
  { code: 'temp', unit: 'Cel' },
  { code: 'sbp', unit: 'mm[Hg]' },
  { code: 'dbp', unit: 'mm[Hg]' },
];
export const MAX_COMPACT_ROWS = 1000;

export function readCompact(text: string): DeviceMessage[] {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new VitalsInputError(`invalid JSON in compact array: ${(err as Error).message}`, 'syntax');
  }
  if (!Array.isArray(value) || value.length === 0) throw new VitalsInputError('compact format: expected a non-empty array', 'schema');
  const rows = Array.isArray(value[0]) ? (value as unknown[]) : [value];
  if (rows.length > MAX_COMPACT_ROWS) throw new VitalsInputError(`compact format: ${rows.length} rows exceed the ${MAX_COMPACT_ROWS}-row batch limit`, 'too-large');
  return rows.map((row, r) => readRow(row, rows.length > 1 ? `[${r}]` : ''));
}

function readRow(row: unknown, prefix: string): DeviceMessage {
  if (!Array.isArray(row)) throw new VitalsInputError(`compact format${prefix}: each row must be an array`, 'schema');
  if (row.length < 4) throw new VitalsInputError(`compact format${prefix}: a row needs at least [deviceId, seq, time, hr], got ${row.length} elements`, 'schema');
  if (row.length > 3 + COMPACT_FIELDS.length) throw new VitalsInputError(`compact format${prefix}: ${row.length} elements, at most ${3 + COMPACT_FIELDS.length} are defined`, 'schema');
  const [deviceId, seq, time] = row;
  if (typeof deviceId !== 'string' || !DEVICE_ID_PATTERN.test(deviceId)) throw new VitalsInputError(`compact format${prefix}[0]: device id must match ${DEVICE_ID_PATTERN}, got ${JSON.stringify(deviceId)}`, 'schema');
  if (typeof seq !== 'number' || !Number.isInteger(seq) || seq < 0) throw new VitalsInputError(`compact format${prefix}[1]: sequence must be a non-negative integer, got ${JSON.stringify(seq)}`, 'schema');
  if (typeof time !== 'number' || !Number.isFinite(time) || time <= 0) throw new VitalsInputError(`compact format${prefix}[2]: time must be Unix seconds, got ${JSON.stringify(time)}`, 'schema');
  const measurements = [];
  for (let i = 3; i < row.length; i++) {
    if (row[i] === null) continue;
    const field = COMPACT_FIELDS[i - 3];
    measurements.push({ path: `compact${prefix}[${i}] (${field.code})`, code: field.code, system: 'urn:hisbridge:iomt', value: row[i], unit: field.unit });
  }
  if (measurements.length === 0) throw new VitalsInputError(`compact format${prefix}: no measurement (all values null)`, 'schema');
  return { format: 'compact', deviceId, messageId: `${seq}@${time}`, time, measurements };
}

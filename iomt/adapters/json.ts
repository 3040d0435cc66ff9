// Adapter for the hisbridge JSON contract (iomt/contract.ts).
import { DEVICE_ID_PATTERN, MAX_MEASUREMENTS, vitalsMessageSchema, type VitalsMessage } from '../contract';
import { VitalsInputError, type DeviceMessage } from '../types';
import { describeZodError } from './zod-error';

export function readJsonContract(text: string): DeviceMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new VitalsInputError(`invalid JSON: ${(err as Error).message}`, 'syntax');
  }
  // The common, valid case is checked by hand (fast); zod runs only to explain what is wrong.
  let m: VitalsMessage;
  if (isValidContract(value)) m = value;
  else {
    const parsed = vitalsMessageSchema.safeParse(value);
    if (!parsed.success) throw new VitalsInputError(`JSON contract: ${describeZodError(parsed.error)}`, 'schema');
    m = parsed.data;
  }
  return {
    format: 'json',
    deviceId: m.deviceId,
    messageId: String(m.messageId),
    time: m.time,
    patientId: m.patientId,
    measurements: m.measurements.map((x, i) => ({
      path: `measurements[${i}]`,
      system: x.system,
      code: x.code,
      value: x.value,
      unit: x.unit,
      time: x.time,
    })),
  };
}

const isTime = (t: unknown) => (typeof t === 'string' && t.length >= 10 && t.length <= 40) || (typeof t === 'number' && t >= 0);

/** Same rules as vitalsMessageSchema (kept in step by the contract tests), without allocating. */
function isValidContract(v: unknown): v is VitalsMessage {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) return false;
  const o = v as Record<string, unknown>;
  if (o.v !== undefined && o.v !== 1) return false;
  if (typeof o.deviceId !== 'string' || !DEVICE_ID_PATTERN.test(o.deviceId)) return false;
  const id = o.messageId;
  if (!((typeof id === 'string' && id.length >= 1 && id.length <= 128) || (typeof id === 'number' && Number.isInteger(id) && id >= 0))) return false;
  if (!isTime(o.time)) return false;
  if (o.patientId !== undefined && !(typeof o.patientId === 'string' && o.patientId.length >= 1 && o.patientId.length <= 64)) return false;
  const ms = o.measurements;
  if (!Array.isArray(ms) || ms.length < 1 || ms.length > MAX_MEASUREMENTS) return false;
  for (const x of ms) {
    if (typeof x !== 'object' || x === null || Array.isArray(x)) return false;
    const m = x as Record<string, unknown>;
    if (typeof m.code !== 'string' || m.code.length < 1 || m.code.length > 64) return false;
    if (m.system !== undefined && !(typeof m.system === 'string' && m.system.length >= 1 && m.system.length <= 128)) return false;
    const val = m.value;
    if (!(typeof val === 'number' || typeof val === 'boolean' || (typeof val === 'string' && val.length <= 32))) return false;
    if (m.unit !== undefined && !(typeof m.unit === 'string' && m.unit.length <= 32)) return false;
    if (m.time !== undefined && !isTime(m.time)) return false;
  }
  return true;
}

// Adapter for the hisbridge JSON contract (iomt/contract.ts).
import { vitalsMessageSchema } from '../contract';
import { VitalsInputError, type DeviceMessage } from '../types';
import { describeZodError } from './zod-error';

export function readJsonContract(text: string): DeviceMessage {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (err) {
    throw new VitalsInputError(`invalid JSON: ${(err as Error).message}`, 'syntax');
  }
  const parsed = vitalsMessageSchema.safeParse(value);
  if (!parsed.success) throw new VitalsInputError(`JSON contract: ${describeZodError(parsed.error)}`, 'schema');
  const m = parsed.data;
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

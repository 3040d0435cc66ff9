// The shapes vitals take on their way from a device to a patient's chart:
// device bytes → DeviceMessage (adapter: the device's own vocabulary) → NormalisedMessage (canonical
// observations with LOINC codes and UCUM units) → stored readings (bound to a visit, or held unassigned).
import type { Coding, VitalSign } from './vitals';

export type PayloadFormat = 'json' | 'compact' | 'hl7-pcd01';

/** One measurement as the device described it (before mapping to the catalogue). */
export interface DeviceMeasurement {
  /** Where it sits in the payload, for error messages: `measurements[2]`, `OBX-7`, `[5]`. */
  path: string;
  system?: string;
  code: string;
  /** The device's label for the code, when it sent one (MDC_PULS_OXIM_SAT_O2, SpO2…). */
  label?: string;
  value: unknown;
  unit?: string;
  time?: string | number;
}

/** One device message as an adapter read it. */
export interface DeviceMessage {
  format: PayloadFormat;
  deviceId: string;
  /** Absent when the device sends none: normalisation derives one from the timestamp. */
  messageId?: string;
  time?: string | number;
  patientId?: string;
  measurements: DeviceMeasurement[];
}

/** A canonical vital-sign observation (FHIR vital-signs shape, plain JSON). */
export interface VitalObservation {
  sign: VitalSign;
  /** The catalogue coding first (LOINC where one exists), then any extra and the device's own coding. */
  codings: Coding[];
  value: number | string | boolean;
  /** UCUM unit for quantities. */
  unit?: string;
  /** ISO 8601 UTC. */
  effective: string;
  /** Epoch milliseconds of `effective`. */
  t: number;
}

export type RejectionKind = 'unknown-code' | 'implausible' | 'unit' | 'invalid-value' | 'time';

/** A measurement that was not accepted, with the reason (kept in quarantine, never charted). */
export interface RejectedMeasurement {
  path: string;
  kind: RejectionKind;
  /** The vital sign, when the code was recognised. */
  sign?: VitalSign;
  code?: string;
  value?: unknown;
  unit?: string;
  reason: string;
}

export interface NormalisedMessage {
  format: PayloadFormat;
  deviceId: string;
  messageId: string;
  patientId?: string;
  /** Message time (ISO UTC) — the latest measurement time when measurements carry their own. */
  time: string;
  observations: VitalObservation[];
  rejected: RejectedMeasurement[];
}

/** Where a message came from: MQTT topic levels and the time it arrived. */
export interface ReceiptInfo {
  receivedAt: Date;
  topic?: string;
  site?: string;
  ward?: string;
  bed?: string;
  /** The topic's {deviceId} level, which must match the payload's. */
  topicDeviceId?: string;
}

/** A whole message that cannot be read (the reason names the field, position or byte). */
export class VitalsInputError extends Error {
  constructor(
    message: string,
    readonly kind: 'syntax' | 'schema' | 'format' | 'too-large' | 'device-mismatch' | 'time' | 'rate-limit' = 'schema',
  ) {
    super(message);
    this.name = 'VitalsInputError';
  }
}

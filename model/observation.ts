import type { DateTimeString, DeviceRef } from './common';

/** LOINC codes of the FHIR vital-signs set (standards.md §6.1) with their UCUM units. */
export const VITAL_SIGNS = {
  heartRate: { loinc: '8867-4', name: 'Heart rate', unit: '/min' },
  respiratoryRate: { loinc: '9279-1', name: 'Respiratory rate', unit: '/min' },
  oxygenSaturation: { loinc: '2708-6', name: 'Oxygen saturation in Arterial blood', unit: '%' },
  spo2PulseOximetry: { loinc: '59408-5', name: 'Oxygen saturation in Arterial blood by Pulse oximetry', unit: '%' },
  bodyTemperature: { loinc: '8310-5', name: 'Body temperature', unit: 'Cel' },
  bloodPressurePanel: { loinc: '85354-9', name: 'Blood pressure panel', unit: '' },
  systolic: { loinc: '8480-6', name: 'Systolic blood pressure', unit: 'mm[Hg]' },
  diastolic: { loinc: '8462-4', name: 'Diastolic blood pressure', unit: 'mm[Hg]' },
  bodyWeight: { loinc: '29463-7', name: 'Body weight', unit: 'kg' },
  bodyHeight: { loinc: '8302-2', name: 'Body height', unit: 'cm' },
} as const;

export type VitalSignKey = keyof typeof VITAL_SIGNS;

export interface ObservationComponent {
  loinc: string;
  value: number;
  unit: string;
}

/** A vital sign (or other bedside measurement) for one patient. */
export interface Observation {
  patientId: string;
  maLk?: string;
  /** LOINC code, e.g. `8867-4`. */
  loinc: string;
  name?: string;
  /** Absent for a panel that only has components (blood pressure). */
  value?: number;
  /** UCUM unit: `/min`, `%`, `Cel`, `mm[Hg]`. */
  unit?: string;
  /** Blood pressure: systolic and diastolic as components of 85354-9. */
  components?: ObservationComponent[];
  effectiveAt: DateTimeString;
  device?: DeviceRef;
  /** Where it was taken (bed / department code). */
  location?: string;
  status: 'preliminary' | 'final' | 'entered-in-error';
}

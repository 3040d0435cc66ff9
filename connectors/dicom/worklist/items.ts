// HIS imaging order (+ its patient) → Modality Worklist item (PS3.4 K.6-1 return keys), naturalized
// the way dcmjs writes it. Text stays UTF-8 (sent with ISO_IR 192); `foldItemToAscii` makes the
// ASCII variant for modalities configured without Unicode support.
import { createHash } from 'node:crypto';
import { foldVietnamese } from '../../../engine/text/vietnamese';
import { hospitalParts, parseDateTime } from '../../../model/datetime';
import type { ImagingOrder, Patient } from '../his-port';
import type { Naturalized } from './matching';

export interface WorklistEntry {
  orderId: string;
  accessionNumber: string;
  patientId: string;
  modality: string;
  stationAeTitle: string;
  /** YYYYMMDD of the scheduled start (hospital time), '' when unscheduled. */
  date: string;
  item: Naturalized;
  /** Encoded answers by query shape (filled by the C-FIND handler). */
  encoded?: Map<string, Buffer>;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `Nguyễn^Văn An` from the model's name (family name first, as Vietnamese names are written). */
export function personName(name: { full: string; family?: string; given?: string } | undefined): string {
  if (!name) return '';
  if (name.family || name.given) return `${(name.family ?? '').trim()}^${(name.given ?? '').trim()}`.replace(/\^$/, '');
  const words = name.full.trim().split(/\s+/);
  if (words.length <= 1) return words[0] ?? '';
  return `${words[0]}^${words.slice(1).join(' ')}`;
}

function dicomDate(value: string | undefined): string {
  if (!value) return '';
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value.trim());
  return m ? `${m[1]}${m[2]}${m[3]}` : ''; // partial birth dates (year only) are not valid DA values
}

function sexCode(sex: Patient['sex'] | undefined): string {
  return sex === 'male' ? 'M' : sex === 'female' ? 'F' : sex === 'other' ? 'O' : '';
}

const priorityCode: Record<string, string> = { routine: 'ROUTINE', urgent: 'HIGH', stat: 'STAT' };

/** A Study Instance UID stable for an order (the HIS did not assign one): 2.25 + a hash of the order. */
export function studyUidForOrder(order: Pick<ImagingOrder, 'id' | 'accessionNumber'>): string {
  const digest = createHash('sha256').update(`hisbridge-study:${order.id}:${order.accessionNumber}`).digest('hex').slice(0, 32);
  return `2.25.${BigInt(`0x${digest}`).toString()}`;
}

function sh(value: string | undefined, max = 16): string {
  return (value ?? '').slice(0, max);
}

export function toWorklistEntry(order: ImagingOrder, patient: Patient | undefined): WorklistEntry {
  let date = '';
  let time = '';
  if (order.scheduledAt) {
    const p = hospitalParts(parseDateTime(order.scheduledAt));
    date = `${p.year}${pad(p.month)}${pad(p.day)}`;
    time = `${pad(p.hour)}${pad(p.minute)}${pad(p.second)}`;
  }
  const procedureCode = [
    { CodeValue: sh(order.requestedProcedure.code), CodingSchemeDesignator: 'HIS', CodeMeaning: order.requestedProcedure.description.slice(0, 64) },
  ];
  const stationAe = order.scheduledStationAeTitle ?? '';
  const spsId = order.id.length <= 16 ? order.id : sh(order.accessionNumber);
  const item: Naturalized = {
    AccessionNumber: sh(order.accessionNumber),
    ReferringPhysicianName: order.orderingStaff?.name ? [{ Alphabetic: personName({ full: order.orderingStaff.name }) }] : '',
    RequestingPhysician: order.orderingStaff?.name ? [{ Alphabetic: personName({ full: order.orderingStaff.name }) }] : '',
    PatientName: [{ Alphabetic: personName(patient?.name) }],
    PatientID: patient?.id ?? order.patientId,
    IssuerOfPatientID: 'MA_BN',
    PatientBirthDate: dicomDate(patient?.birthDate),
    PatientSex: sexCode(patient?.sex),
    PatientWeight: '',
    MedicalAlerts: '',
    Allergies: '',
    PregnancyStatus: '',
    SpecialNeeds: '',
    PatientState: '',
    ConfidentialityConstraintOnPatientDataDescription: '',
    AdmissionID: sh(order.maLk, 64),
    CurrentPatientLocation: order.departmentCode ?? '',
    StudyInstanceUID: order.studyInstanceUid ?? studyUidForOrder(order),
    ReferencedStudySequence: [],
    ReferencedPatientSequence: [],
    RequestedProcedureID: sh(order.requestedProcedureId ?? order.accessionNumber),
    RequestedProcedureDescription: order.requestedProcedure.description.slice(0, 64),
    RequestedProcedureCodeSequence: procedureCode,
    RequestedProcedurePriority: priorityCode[order.priority] ?? '',
    PatientTransportArrangements: '',
    ReasonForTheRequestedProcedure: (order.clinicalInfo ?? '').slice(0, 64),
    ScheduledProcedureStepSequence: [
      {
        ScheduledStationAETitle: stationAe,
        ScheduledProcedureStepStartDate: date,
        ScheduledProcedureStepStartTime: time,
        Modality: order.modality,
        ScheduledPerformingPhysicianName: '',
        ScheduledProcedureStepDescription: order.requestedProcedure.description.slice(0, 64),
        ScheduledStationName: sh(order.scheduledStationName),
        ScheduledProcedureStepLocation: order.departmentCode ?? '',
        ScheduledProtocolCodeSequence: procedureCode,
        PreMedication: '',
        ScheduledProcedureStepID: spsId,
        RequestedContrastAgent: '',
        ScheduledProcedureStepStatus: order.status === 'arrived' ? 'ARRIVED' : 'SCHEDULED',
      },
    ],
  };
  return {
    orderId: order.id,
    accessionNumber: sh(order.accessionNumber),
    patientId: String(item.PatientID),
    modality: order.modality,
    stationAeTitle: stationAe,
    date,
    item,
  };
}

/** The item with every text value folded to ASCII (đ→d, diacritics dropped), for modalities without ISO_IR 192. */
export function foldItemToAscii(value: unknown): any {
  if (typeof value === 'string') return foldVietnamese(value).replace(/[^\x00-\x7f]/g, '?');
  if (Array.isArray(value)) return value.map(foldItemToAscii);
  if (value && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = k === '_vrMap' ? v : foldItemToAscii(v);
    return out;
  }
  return value;
}

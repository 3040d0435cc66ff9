// The same data as the CDA documents, as FHIR R4 resources (types from @medplum/fhirtypes):
// Patient, Encounter, Observation (laboratory and vital-signs), DiagnosticReport, ImagingStudy,
// DocumentReference (pointing at the signed CDA) and Bundle. Identifier systems follow the VN Core
// IG where it has one (standards.md §5.7), else urn:oid: of emr/oids.ts.
import type {
  Bundle,
  BundleEntry,
  CodeableConcept,
  DiagnosticReport,
  DocumentReference,
  Encounter,
  Identifier,
  ImagingStudy,
  Observation as FhirObservation,
  Patient as FhirPatient,
  Reference,
  Resource,
} from '@medplum/fhirtypes';
import type { Facility, Patient, Result, Visit } from '../../model';
import { FLAG_TEXT, plainNumber, resultName } from '../cda/entries';
import { groupVitals, news2Of, NEWS2_RISK_TEXT, NEWS2_SNOMED, VITAL_LABELS, type VitalParameter } from '../cda/vital-signs';
import { fhirSystems, type EmrOids } from '../oids';
import type { BuiltDocument, ImagingReportInput, LabReportInput, VitalSignsInput } from '../types';

export type FhirResource = FhirPatient | Encounter | FhirObservation | DiagnosticReport | ImagingStudy | DocumentReference;

/** FHIR ids: [A-Za-z0-9-.]{1,64}. */
export function fhirId(value: string): string {
  const id = value.replace(/[^A-Za-z0-9.-]/g, '-').slice(0, 64);
  return id || 'unknown';
}

const V2_0074 = 'http://terminology.hl7.org/CodeSystem/v2-0074';
const OBS_CATEGORY = 'http://terminology.hl7.org/CodeSystem/observation-category';
const V3_INTERPRETATION = 'http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation';
const V3_ACT_CODE = 'http://terminology.hl7.org/CodeSystem/v3-ActCode';
const V2_0203 = 'http://terminology.hl7.org/CodeSystem/v2-0203';

export function patientRef(patientId: string, display?: string): Reference<FhirPatient> {
  return { reference: `Patient/${fhirId(patientId)}`, display };
}

export function encounterRef(maLk: string): Reference<Encounter> {
  return { reference: `Encounter/${fhirId(maLk)}` };
}

export function patientResource(oids: EmrOids, patient: Patient): FhirPatient {
  const sys = fhirSystems(oids);
  const identifier: Identifier[] = [{ use: 'usual', type: { coding: [{ system: V2_0203, code: 'MR' }] }, system: sys.MA_BN, value: patient.id }];
  for (const i of patient.identifiers) {
    if (i.system === 'MA_BN') continue;
    const type = i.system === 'CCCD' ? 'NI' : i.system === 'PASSPORT' ? 'PPN' : i.system === 'BHYT' ? 'HC' : i.system === 'BHXH' ? 'SB' : 'NNVNM';
    identifier.push({ use: i.system === 'CCCD' ? 'official' : 'secondary', type: { coding: [{ system: V2_0203, code: type }], text: i.system }, system: sys[i.system], value: i.value });
  }
  const a = patient.address;
  return {
    resourceType: 'Patient',
    id: fhirId(patient.id),
    identifier,
    name: [{ use: 'official', text: patient.name.full, family: patient.name.family, given: patient.name.given ? [patient.name.given] : undefined }],
    gender: patient.sex,
    birthDate: /^\d{4}(-\d{2}(-\d{2})?)?$/.test(patient.birthDate) ? patient.birthDate : undefined,
    telecom: patient.phone ? [{ system: 'phone', value: patient.phone, use: 'home' }] : undefined,
    address: a
      ? [{ use: 'home', text: a.text ?? [a.line, a.communeName, a.districtName, a.provinceName].filter(Boolean).join(', '), line: a.line ? [a.line] : undefined, city: a.communeName, district: a.districtName, state: a.provinceName, country: 'VN' }]
      : undefined,
  };
}

export function encounterResource(oids: EmrOids, visit: Visit, facility: Facility): Encounter {
  const sys = fhirSystems(oids);
  const cls = visit.kind === 'inpatient' ? { code: 'IMP', display: 'inpatient encounter' } : visit.kind === 'emergency' ? { code: 'EMER', display: 'emergency' } : { code: 'AMB', display: 'ambulatory' };
  const reasonCode: CodeableConcept[] = visit.diagnoses.filter((d) => d.primary).map((d) => ({ coding: [{ system: sys.ICD10, code: d.icd10, display: d.text }], text: d.text }));
  return {
    resourceType: 'Encounter',
    id: fhirId(visit.maLk),
    identifier: [{ system: sys.MA_LK, value: visit.maLk }],
    status: visit.dischargedAt ? 'finished' : 'in-progress',
    class: { system: V3_ACT_CODE, ...cls },
    subject: patientRef(visit.patientId),
    period: { start: visit.admittedAt, end: visit.dischargedAt },
    reasonCode: reasonCode.length ? reasonCode : undefined,
    participant: visit.attending?.name ? [{ individual: { display: visit.attending.name, identifier: visit.attending.practisingCertificate ? { system: sys.CCHN, value: visit.attending.practisingCertificate } : undefined } }] : undefined,
    serviceProvider: { display: facility.name, identifier: { system: sys.MA_CSKCB, value: facility.code } },
  };
}

function interpretation(flag: Result['abnormalFlag']): CodeableConcept[] | undefined {
  if (!flag) return undefined;
  return [{ coding: [{ system: V3_INTERPRETATION, code: flag, display: FLAG_TEXT[flag].en }], text: FLAG_TEXT[flag].vi }];
}

function observationStatus(result: Result, corrected: boolean): FhirObservation['status'] {
  if (result.status === 'preliminary') return 'preliminary';
  if (result.status === 'cancelled') return 'cancelled';
  if (result.status === 'corrected' || corrected) return 'corrected';
  return 'final';
}

export function labResources(oids: EmrOids, built: BuiltDocument, input: LabReportInput): FhirResource[] {
  const sys = fhirSystems(oids);
  const corrected = built.version > 1;
  const subject = patientRef(built.patientId);
  const encounter = built.maLk ? encounterRef(built.maLk) : undefined;
  const results = input.results.filter((r) => r.status !== 'superseded');
  const observations: FhirObservation[] = results.map((r, i) => {
    const num = r.valueType === 'numeric' ? plainNumber(r.value) : null;
    const low = plainNumber(r.referenceRange?.low);
    const high = plainNumber(r.referenceRange?.high);
    return {
      resourceType: 'Observation',
      id: fhirId(`${built.id}-${i + 1}`),
      status: observationStatus(r, corrected),
      category: [{ coding: [{ system: OBS_CATEGORY, code: 'laboratory', display: 'Laboratory' }] }],
      code: {
        coding: [...(r.loinc ? [{ system: sys.LOINC, code: r.loinc, display: resultName(r) }] : []), { system: sys.HIS_SERVICE, code: r.hisServiceCode ?? r.code, display: resultName(r) }],
        text: resultName(r),
      },
      subject,
      encounter,
      effectiveDateTime: r.observedAt,
      issued: r.resultedAt ? new Date(r.resultedAt).toISOString() : undefined,
      valueQuantity: num !== null ? { value: num, unit: r.unit, system: r.unit ? sys.UCUM : undefined, code: r.unit } : undefined,
      valueString: num === null ? r.value : undefined,
      interpretation: interpretation(r.abnormalFlag),
      referenceRange:
        low !== null || high !== null || r.referenceRange?.text
          ? [{ low: low !== null ? { value: low, unit: r.unit } : undefined, high: high !== null ? { value: high, unit: r.unit } : undefined, text: r.referenceRange?.text }]
          : undefined,
      note: r.comment ? [{ text: r.comment }] : undefined,
      device: r.device ? { display: r.device.name ?? r.device.id } : undefined,
    };
  });
  const report: DiagnosticReport = {
    resourceType: 'DiagnosticReport',
    id: fhirId(built.id),
    identifier: [{ system: sys.DOCUMENT, value: built.id }],
    basedOn: [{ display: `Phiếu chỉ định ${input.order.id}`, identifier: { system: `urn:oid:${oids.orderId}`, value: input.order.id } }],
    status: corrected ? 'corrected' : results.every((r) => r.status !== 'preliminary') ? 'final' : 'partial',
    category: [{ coding: [{ system: V2_0074, code: 'LAB', display: 'Laboratory' }] }],
    code: { coding: [{ system: sys.LOINC, code: '11502-2', display: 'Laboratory report' }], text: built.title },
    subject,
    encounter,
    effectiveDateTime: input.order.specimen?.collectedAt ?? input.order.orderedAt,
    issued: new Date(built.serviceAt).toISOString(),
    performer: [{ display: built.authorName }],
    result: observations.map((o) => ({ reference: `Observation/${o.id}`, display: o.code.text })),
  };
  return [...observations, report];
}

export function imagingResources(oids: EmrOids, built: BuiltDocument, input: ImagingReportInput): FhirResource[] {
  const sys = fhirSystems(oids);
  const subject = patientRef(built.patientId);
  const encounter = built.maLk ? encounterRef(built.maLk) : undefined;
  const { report, order, study } = input;
  const studyUid = study?.studyInstanceUid ?? report.studyInstanceUid ?? order?.studyInstanceUid;
  const modality = study?.modality ?? order?.modality;
  const out: FhirResource[] = [];
  let imagingStudy: ImagingStudy | undefined;
  if (studyUid) {
    imagingStudy = {
      resourceType: 'ImagingStudy',
      id: fhirId(`${built.id}-study`),
      identifier: [
        { system: sys.DICOM_UID, value: `urn:oid:${studyUid}` },
        { type: { coding: [{ system: V2_0203, code: 'ACSN' }] }, system: sys.ACCESSION, value: report.accessionNumber },
      ],
      status: 'available',
      modality: modality ? [{ system: sys.DCM, code: modality }] : undefined,
      subject,
      encounter,
      started: study?.startedAt ?? order?.scheduledAt,
      numberOfSeries: study?.seriesCount,
      numberOfInstances: study?.instanceCount,
      procedureCode: order?.requestedProcedure ? [{ coding: [{ system: sys.HIS_SERVICE, code: order.requestedProcedure.code, display: order.requestedProcedure.description }], text: order.requestedProcedure.description }] : undefined,
      description: study?.description ?? order?.requestedProcedure?.description,
    };
    out.push(imagingStudy);
  }
  out.push({
    resourceType: 'DiagnosticReport',
    id: fhirId(built.id),
    identifier: [{ system: sys.DOCUMENT, value: built.id }],
    status: built.version > 1 ? 'corrected' : report.status === 'preliminary' ? 'preliminary' : 'final',
    category: [{ coding: [{ system: V2_0074, code: 'RAD', display: 'Radiology' }] }],
    code: { coding: [{ system: sys.LOINC, code: '18748-4', display: 'Diagnostic imaging study' }], text: order?.requestedProcedure?.description ?? built.title },
    subject,
    encounter,
    effectiveDateTime: study?.startedAt ?? order?.scheduledAt ?? report.reportedAt,
    issued: new Date(report.reportedAt).toISOString(),
    performer: [{ display: built.authorName }],
    imagingStudy: imagingStudy ? [{ reference: `ImagingStudy/${imagingStudy.id}` }] : undefined,
    conclusion: `${report.findings.trim()}\n\nKết luận: ${report.conclusion.trim()}`,
  });
  return out;
}

export function vitalResources(oids: EmrOids, built: BuiltDocument, input: VitalSignsInput): FhirResource[] {
  const sys = fhirSystems(oids);
  const subject = patientRef(built.patientId);
  const encounter = built.maLk ? encounterRef(built.maLk) : undefined;
  const category = [{ coding: [{ system: OBS_CATEGORY, code: 'vital-signs', display: 'Vital Signs' }] }];
  const out: FhirObservation[] = [];
  let n = 0;
  const id = () => fhirId(`${built.id}-${++n}`);
  const status: FhirObservation['status'] = built.version > 1 ? 'amended' : 'final';
  for (const set of groupVitals(input)) {
    const v = set.values;
    for (const [parameter, value] of Object.entries(v) as Array<[VitalParameter, NonNullable<(typeof v)[VitalParameter]>]>) {
      if (parameter === 'systolic' || parameter === 'diastolic') continue;
      out.push({
        resourceType: 'Observation',
        id: id(),
        status,
        category,
        code: { coding: [{ system: sys.LOINC, code: value.loinc, display: VITAL_LABELS[parameter].en }], text: VITAL_LABELS[parameter].vi },
        subject,
        encounter,
        effectiveDateTime: set.at,
        valueQuantity: { value: value.value, unit: value.unit, system: sys.UCUM, code: value.unit },
      });
    }
    if (v.systolic || v.diastolic) {
      const component = (['systolic', 'diastolic'] as const)
        .filter((p) => v[p])
        .map((p) => ({ code: { coding: [{ system: sys.LOINC, code: v[p]!.loinc, display: VITAL_LABELS[p].en }] }, valueQuantity: { value: v[p]!.value, unit: 'mmHg', system: sys.UCUM, code: 'mm[Hg]' } }));
      out.push({
        resourceType: 'Observation',
        id: id(),
        status,
        category,
        code: { coding: [{ system: sys.LOINC, code: '85354-9', display: 'Blood pressure panel with all children optional' }], text: 'Huyết áp' },
        subject,
        encounter,
        effectiveDateTime: set.at,
        component,
      });
    }
    const news2 = news2Of(set);
    if (news2.complete) {
      out.push({
        resourceType: 'Observation',
        id: id(),
        status,
        category: [{ coding: [{ system: OBS_CATEGORY, code: 'survey', display: 'Survey' }] }],
        code: { coding: [{ system: sys.SNOMED, code: NEWS2_SNOMED.code, display: NEWS2_SNOMED.displayName }], text: 'NEWS2' },
        subject,
        encounter,
        effectiveDateTime: set.at,
        valueInteger: news2.result.total,
        interpretation: [{ text: `${NEWS2_RISK_TEXT[news2.result.risk].vi} / ${NEWS2_RISK_TEXT[news2.result.risk].en}` }],
        note: [{ text: news2.result.response }],
      });
    }
  }
  return out;
}

/** The DocumentReference of a signed CDA document; `url` is relative to the EMR API base. */
export function documentReference(
  oids: EmrOids,
  built: BuiltDocument,
  stored: { size: number; sha1Base64: string; status: 'current' | 'superseded'; facility: Facility; legalAuthenticator?: string },
): DocumentReference {
  const sys = fhirSystems(oids);
  return {
    resourceType: 'DocumentReference',
    id: fhirId(built.id),
    masterIdentifier: { system: sys.DOCUMENT, value: built.id },
    identifier: [{ system: `${sys.DOCUMENT}#set`, value: built.setId }],
    status: stored.status,
    docStatus: built.version > 1 ? 'amended' : 'final',
    type: { coding: [{ system: sys.LOINC, code: built.code }], text: built.title },
    subject: patientRef(built.patientId),
    date: new Date(built.createdAt).toISOString(),
    author: [{ display: built.authorName }],
    authenticator: stored.legalAuthenticator ? { display: stored.legalAuthenticator } : undefined,
    custodian: { display: stored.facility.name, identifier: { system: sys.MA_CSKCB, value: stored.facility.code } },
    relatesTo: built.replaces ? [{ code: 'replaces', target: { reference: `DocumentReference/${fhirId(built.replaces.id)}` } }] : undefined,
    description: `${built.title} (phiên bản ${built.version})`,
    securityLabel: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'N' }] }],
    content: [
      {
        attachment: { contentType: 'application/hl7-cda+xml', language: 'vi-VN', url: `documents/${built.id}/cda`, size: stored.size, hash: stored.sha1Base64, title: built.title, creation: built.createdAt },
        format: { system: 'urn:oid:1.3.6.1.4.1.19376.1.2.3', code: 'urn:hl7-org:sdwg:ccda-structuredBody:1.1', display: 'HL7 CDA R2 structured body' },
      },
    ],
    context: { encounter: built.maLk ? [encounterRef(built.maLk)] : undefined, period: { end: built.serviceAt } },
  };
}

export function bundle(type: Bundle['type'], resources: Resource[], base: string, extra: Partial<Bundle> = {}): Bundle {
  const entry: BundleEntry[] = resources.map((resource) => ({ fullUrl: `${base}/${resource.resourceType}/${resource.id}`, resource, ...(type === 'searchset' ? { search: { mode: 'match' } } : {}) }));
  return { resourceType: 'Bundle', type, timestamp: new Date().toISOString(), ...extra, entry };
}

// Object identifiers (OIDs) the EMR documents use for identifier systems, code systems and templates.
//
// No Vietnamese authority has published OIDs for the CCCD, the BHYT card, MA_BN or MA_CSKCB (the
// "Vietnamese CDA" decision usually cited could not be found: standards.md §5.5), so hisbridge
// allocates its own arc under 2.25 (ITU-T X.667: an OID made from a UUID, which anyone may create
// without registration). The UUID below was generated once for hisbridge and never changes.
// A hospital that is given official OIDs sets them in the EMR configuration (`oids:` overrides);
// every document then uses them. The full table is in docs/emr.md.
import type { IdentifierSystem } from '../model';

/** 2.25 + the decimal value of UUID 5e048e6e-fb0b-43dc-ae13-7de9327743d7. */
export const HISBRIDGE_ROOT_OID = '2.25.124971089686172182588304250932043400151';

/** International code systems (HL7 registered OIDs). */
export const CODE_SYSTEMS = {
  LOINC: '2.16.840.1.113883.6.1',
  /** ICD-10 (WHO), which Vietnam uses for diagnoses (MA_BENH). */
  ICD10: '2.16.840.1.113883.6.3',
  SNOMED: '2.16.840.1.113883.6.96',
  UCUM: '2.16.840.1.113883.6.8',
  /** DICOM Controlled Terminology (modalities, 121070 Findings…). */
  DCM: '1.2.840.10008.2.16.4',
  ADMINISTRATIVE_GENDER: '2.16.840.1.113883.5.1',
  CONFIDENTIALITY: '2.16.840.1.113883.5.25',
  ACT_CODE: '2.16.840.1.113883.5.4',
  OBSERVATION_INTERPRETATION: '2.16.840.1.113883.5.83',
  PARTICIPATION_SIGNATURE: '2.16.840.1.113883.5.89',
  ROUTE_OF_ADMINISTRATION: '2.16.840.1.113883.5.112',
  /** HL7 CDA R2 typeId root. */
  HL7_TYPE_ID: '2.16.840.1.113883.1.3',
} as const;

export interface EmrOids {
  /** Citizen ID, số định danh cá nhân (12 digits). */
  cccd: string;
  /** Health-insurance card number, mã thẻ BHYT (15 characters). */
  bhyt: string;
  /** Social-insurance number, mã số BHXH (10 digits). */
  bhxh: string;
  /** Legacy 9-digit identity card. */
  cmnd: string;
  passport: string;
  /** Practising certificate, chứng chỉ hành nghề (CCHN). */
  cchn: string;
  /** Facility code issued for BHYT, MA_CSKCB. */
  maCskcb: string;
  /** Hospital patient number MA_BN: unique only inside one hospital, so under the hospital's arc. */
  maBn: string;
  /** Visit / treatment episode MA_LK. */
  maLk: string;
  /** Document ids (ClinicalDocument/id and setId roots). */
  document: string;
  /** HIS staff ids. */
  staff: string;
  /** The hospital's own service / lab test codes (HIS catalogue). */
  hisServiceCode: string;
  /** HIS order numbers (số phiếu chỉ định). */
  orderId: string;
  /** Imaging accession numbers. */
  accession: string;
  /** Specimen (tube barcode) ids. */
  specimen: string;
  /** HIS drug codes. */
  hisDrugCode: string;
  /** National BHYT service catalogue (DMDC) codes. */
  bhytService: string;
  /** Ethnicity codes (QĐ 121-TCTK). */
  ethnicity: string;
  /** The hisbridge CDA templates. */
  templates: { labReport: string; imagingReport: string; vitalSigns: string; dischargeSummary: string };
}

export type EmrOidOverrides = Partial<Omit<EmrOids, 'templates'>>;

/**
 * The arc of one hospital under the hisbridge root: 2.25.….2.<MA_CSKCB as a number>. MA_CSKCB is
 * five digits, so the number is unique; a code with letters needs an explicit `facilityOid`.
 */
export function facilityArc(maCskcb: string, facilityOid?: string): string {
  if (facilityOid) {
    if (!isOid(facilityOid)) throw new Error(`emr.facilityOid "${facilityOid}" is not an OID (digits separated by dots, no leading zeros)`);
    return facilityOid;
  }
  if (!/^\d{5}$/.test(maCskcb)) throw new Error(`facility code (MA_CSKCB) "${maCskcb}" is not 5 digits: set emr.facilityOid to give the hospital its OID arc`);
  return `${HISBRIDGE_ROOT_OID}.2.${Number(maCskcb)}`;
}

export function emrOids(maCskcb: string, options: { facilityOid?: string; overrides?: EmrOidOverrides } = {}): EmrOids {
  const national = `${HISBRIDGE_ROOT_OID}.1`;
  const hospital = facilityArc(maCskcb, options.facilityOid);
  const templates = `${HISBRIDGE_ROOT_OID}.10`;
  const oids: EmrOids = {
    cccd: `${national}.1`,
    bhyt: `${national}.2`,
    bhxh: `${national}.3`,
    cmnd: `${national}.4`,
    passport: `${national}.5`,
    cchn: `${national}.6`,
    maCskcb: `${national}.7`,
    bhytService: `${national}.8`,
    ethnicity: `${national}.9`,
    maBn: `${hospital}.1`,
    maLk: `${hospital}.2`,
    document: `${hospital}.3`,
    staff: `${hospital}.4`,
    hisServiceCode: `${hospital}.5`,
    orderId: `${hospital}.6`,
    accession: `${hospital}.7`,
    specimen: `${hospital}.8`,
    hisDrugCode: `${hospital}.9`,
    templates: { labReport: `${templates}.1`, imagingReport: `${templates}.2`, vitalSigns: `${templates}.3`, dischargeSummary: `${templates}.4` },
  };
  for (const [key, value] of Object.entries(options.overrides ?? {})) {
    if (value === undefined) continue;
    if (!(key in oids) || key === 'templates') throw new Error(`emr.oids.${key}: unknown identifier system (known: ${Object.keys(oids).filter((k) => k !== 'templates').join(', ')})`);
    if (!isOid(value)) throw new Error(`emr.oids.${key}: "${value}" is not an OID`);
    (oids as unknown as Record<string, string>)[key] = value;
  }
  return oids;
}

export function isOid(value: string): boolean {
  return /^[0-2](\.(0|[1-9]\d*))+$/.test(value) && value.length <= 64 * 4;
}

/** The OID of a canonical patient identifier system. */
export function oidOfIdentifier(oids: EmrOids, system: IdentifierSystem): string {
  switch (system) {
    case 'MA_BN':
      return oids.maBn;
    case 'CCCD':
      return oids.cccd;
    case 'BHYT':
      return oids.bhyt;
    case 'BHXH':
      return oids.bhxh;
    case 'CMND':
      return oids.cmnd;
    case 'PASSPORT':
      return oids.passport;
  }
}

/** The reverse: which identifier system an OID names (for reading documents back). */
export function identifierOfOid(oids: EmrOids, oid: string): IdentifierSystem | undefined {
  const systems: IdentifierSystem[] = ['MA_BN', 'CCCD', 'BHYT', 'BHXH', 'CMND', 'PASSPORT'];
  return systems.find((s) => oidOfIdentifier(oids, s) === oid);
}

/**
 * FHIR identifier systems: the VN Core IG's URIs where it defines one (CCCD, passport, CCHN, MA_LK;
 * standards.md §5.7, a draft IG), otherwise `urn:oid:` of the OIDs above.
 */
export function fhirSystems(oids: EmrOids) {
  return {
    MA_BN: `urn:oid:${oids.maBn}`,
    CCCD: 'http://fhir.hl7.org.vn/core/sid/cccd',
    BHYT: `urn:oid:${oids.bhyt}`,
    BHXH: `urn:oid:${oids.bhxh}`,
    CMND: `urn:oid:${oids.cmnd}`,
    PASSPORT: 'http://fhir.hl7.org.vn/core/sid/passport',
    CCHN: 'http://fhir.hl7.org.vn/core/sid/cchn',
    MA_LK: 'http://fhir.hl7.org.vn/core/sid/ma-lk',
    MA_CSKCB: `urn:oid:${oids.maCskcb}`,
    LOINC: 'http://loinc.org',
    ICD10: 'http://hl7.org/fhir/sid/icd-10',
    UCUM: 'http://unitsofmeasure.org',
    SNOMED: 'http://snomed.info/sct',
    DICOM_UID: 'urn:dicom:uid',
    DCM: 'http://dicom.nema.org/resources/ontology/DCM',
    HIS_SERVICE: `urn:oid:${oids.hisServiceCode}`,
    ACCESSION: `urn:oid:${oids.accession}`,
    DOCUMENT: `urn:oid:${oids.document}`,
  } as const;
}

// The CDA R2 header every hisbridge document shares: patient (MA_BN, CCCD, BHYT… under the OIDs of
// emr/oids.ts), author, custodian (the hospital and its MA_CSKCB), legal authenticator, the order it
// fulfils, the service event, the version it replaces and the encounter (MA_LK). Mandatory data is
// checked first: a missing patient identifier or author throws EmrInputError naming the element.
import crypto from 'node:crypto';
import { parseDateTime, hospitalParts, validateIdentifier, type DateTimeString, type Patient, type PatientIdentifier, type Visit } from '../../model';
import { CODE_SYSTEMS, oidOfIdentifier, type EmrOids } from '../oids';
import { EmrInputError, type Clinician, type DocumentContext, type ReplacedDocument } from '../types';
import { CanonicalXmlWriter } from './xml';

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** `2026-11-20T04:58:00+07:00` → `20261120045800+0700` (HL7 TS in hospital time). */
export function hl7Time(value: DateTimeString, element = 'effectiveTime'): string {
  let instant: Date;
  try {
    instant = parseDateTime(value);
  } catch (error) {
    throw new EmrInputError(element, (error as Error).message);
  }
  const p = hospitalParts(instant);
  return `${p.year}${pad(p.month)}${pad(p.day)}${pad(p.hour)}${pad(p.minute)}${pad(p.second)}+0700`;
}

/** `YYYY-MM-DD`, `YYYY-MM` or `YYYY` → `YYYYMMDD` / `YYYYMM` / `YYYY`. */
export function hl7Date(value: string, element: string): string {
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/.exec(value.trim());
  if (!m) throw new EmrInputError(element, `unparseable date "${value}" (want YYYY-MM-DD, YYYY-MM or YYYY)`);
  return `${m[1]}${m[2] ?? ''}${m[3] ?? ''}`;
}

export function newDocumentId(): string {
  return crypto.randomUUID();
}

/** The patient's identifiers with MA_BN first, each checked for its format. */
export function patientIdentifiers(patient: Patient): PatientIdentifier[] {
  const list: PatientIdentifier[] = [];
  const seen = new Set<string>();
  const add = (identifier: PatientIdentifier) => {
    const value = identifier.value?.trim();
    if (!value) return;
    const key = `${identifier.system}|${value}`;
    if (seen.has(key)) return;
    seen.add(key);
    list.push({ system: identifier.system, value });
  };
  if (patient.id?.trim()) add({ system: 'MA_BN', value: patient.id });
  for (const identifier of patient.identifiers ?? []) add(identifier);
  for (const identifier of list) {
    const problem = validateIdentifier(identifier);
    if (problem) throw new EmrInputError(`recordTarget/patientRole/id[${identifier.system}]`, problem);
  }
  return list;
}

export interface CheckedContext {
  ctx: DocumentContext;
  author: Clinician;
  legalAuthenticator: Clinician;
  identifiers: PatientIdentifier[];
  createdAt: DateTimeString;
  id: string;
  setId: string;
  version: number;
  warnings: string[];
}

function checkClinician(person: Clinician | undefined, element: string, what: string): Clinician {
  if (!person) throw new EmrInputError(element, `no ${what}: a signed medical document must name who wrote it (TT 13/2025)`);
  if (!person.id?.trim() && !person.practisingCertificate?.trim()) throw new EmrInputError(`${element}/id`, `the ${what} has neither a staff id nor a practising certificate (CCHN)`);
  if (!person.name?.trim()) throw new EmrInputError(`${element}/assignedPerson/name`, `the ${what} (${person.id || person.practisingCertificate}) has no name`);
  return person;
}

/** Validates the mandatory header data; throws EmrInputError naming the first missing element. */
export function checkContext(ctx: DocumentContext, now: () => Date = () => new Date()): CheckedContext {
  if (!ctx.patient) throw new EmrInputError('recordTarget', 'no patient');
  const identifiers = patientIdentifiers(ctx.patient);
  if (identifiers.length === 0) throw new EmrInputError('recordTarget/patientRole/id', 'the patient has no identifier (MA_BN, CCCD or BHYT card)');
  if (!ctx.patient.name?.full?.trim()) throw new EmrInputError('recordTarget/patientRole/patient/name', `patient ${identifiers[0].value} has no name`);
  const author = checkClinician(ctx.author, 'author/assignedAuthor', 'author');
  const legalAuthenticator = checkClinician(ctx.legalAuthenticator ?? ctx.author, 'legalAuthenticator/assignedEntity', 'legal authenticator');
  if (!ctx.facility?.code?.trim()) throw new EmrInputError('custodian/assignedCustodian/representedCustodianOrganization/id', 'the hospital has no facility code (MA_CSKCB)');
  if (!ctx.facility.name?.trim()) throw new EmrInputError('custodian/assignedCustodian/representedCustodianOrganization/name', 'the hospital has no name');
  if (ctx.visit && !ctx.visit.maLk?.trim()) throw new EmrInputError('componentOf/encompassingEncounter/id', 'the visit has no MA_LK');
  const warnings: string[] = [];
  if (!identifiers.some((i) => i.system === 'CCCD')) {
    warnings.push('recordTarget/patientRole/id: the patient has no CCCD (số định danh cá nhân); TT 13/2025 links the EMR to it');
  }
  const createdAt = ctx.createdAt ?? toOffsetTime(now());
  hl7Time(createdAt, 'effectiveTime');
  const birth = ctx.patient.birthDate?.trim();
  const careStart = ctx.visit?.admittedAt ?? createdAt;
  if (birth && /^\d{4}(-\d{2}(-\d{2})?)?$/.test(birth) && birth > careStart.slice(0, birth.length)) {
    warnings.push(`recordTarget/patientRole/patient/birthTime: birth date ${birth} is after the care recorded (${careStart.slice(0, 10)}); check the HIS`);
  }
  const version = ctx.version ?? 1;
  if (!Number.isInteger(version) || version < 1) throw new EmrInputError('versionNumber', `version must be a positive integer, got ${version}`);
  if (version > 1 && !ctx.replaces) throw new EmrInputError('relatedDocument', `version ${version} must name the document it replaces`);
  return { ctx, author, legalAuthenticator, identifiers, createdAt, id: ctx.id ?? newDocumentId(), setId: ctx.setId ?? ctx.id ?? newDocumentId(), version, warnings };
}

function toOffsetTime(instant: Date): DateTimeString {
  const p = hospitalParts(instant);
  return `${p.year}-${pad(p.month)}-${pad(p.day)}T${pad(p.hour)}:${pad(p.minute)}:${pad(p.second)}+07:00`;
}

export interface HeaderSpec {
  templateId: string;
  code: { code: string; displayName: string };
  title: string;
  /** Orders the document fulfils (inFulfillmentOf/order). */
  orders?: Array<{ id: string; root: string; extraIds?: Array<{ root: string; extension: string }> }>;
  /** documentationOf/serviceEvent: what was done and when. */
  serviceEvent?: { ids?: Array<{ root: string; extension?: string }>; code?: { code: string; codeSystem: string; displayName?: string }; low?: DateTimeString; high?: DateTimeString };
}

function writeStaffIds(w: CanonicalXmlWriter, oids: EmrOids, person: Clinician): void {
  if (person.id?.trim()) w.empty('id', { root: oids.staff, extension: person.id });
  if (person.practisingCertificate?.trim()) w.empty('id', { root: oids.cchn, extension: person.practisingCertificate });
}

function writePersonName(w: CanonicalXmlWriter, person: Clinician): void {
  w.open('name');
  if (person.title?.trim()) w.text('prefix', person.title);
  w.chars(person.name ?? '');
  w.close('name');
}

function writeOrganization(w: CanonicalXmlWriter, oids: EmrOids, ctx: DocumentContext, element: string): void {
  w.within(element, undefined, () => {
    w.empty('id', { root: oids.maCskcb, extension: ctx.facility.code });
    w.text('name', ctx.facility.name);
  });
}

function encounterCode(visit: Visit): { code: string; displayName: string } {
  if (visit.kind === 'inpatient') return { code: 'IMP', displayName: 'inpatient encounter' };
  if (visit.kind === 'emergency') return { code: 'EMER', displayName: 'emergency' };
  return { code: 'AMB', displayName: 'ambulatory' };
}

function genderCode(patient: Patient): Record<string, string> {
  switch (patient.sex) {
    case 'male':
      return { code: 'M', codeSystem: CODE_SYSTEMS.ADMINISTRATIVE_GENDER, displayName: 'Nam' };
    case 'female':
      return { code: 'F', codeSystem: CODE_SYSTEMS.ADMINISTRATIVE_GENDER, displayName: 'Nữ' };
    case 'other':
      return { code: 'UN', codeSystem: CODE_SYSTEMS.ADMINISTRATIVE_GENDER, displayName: 'Khác' };
    default:
      return { nullFlavor: 'UNK' };
  }
}

/** Writes the root element's opening and the whole header; the caller writes the body and closes. */
export function writeHeader(w: CanonicalXmlWriter, oids: EmrOids, checked: CheckedContext, spec: HeaderSpec, replaces?: ReplacedDocument): void {
  const { ctx, author, legalAuthenticator, identifiers } = checked;
  const patient = ctx.patient;
  w.root('ClinicalDocument');
  w.empty('realmCode', { code: 'VN' });
  w.empty('typeId', { root: CODE_SYSTEMS.HL7_TYPE_ID, extension: 'POCD_HD000040' });
  w.empty('templateId', { root: spec.templateId });
  w.empty('id', { root: oids.document, extension: checked.id });
  w.empty('code', { code: spec.code.code, codeSystem: CODE_SYSTEMS.LOINC, codeSystemName: 'LOINC', displayName: spec.code.displayName });
  w.text('title', spec.title);
  w.empty('effectiveTime', { value: hl7Time(checked.createdAt) });
  w.empty('confidentialityCode', { code: 'N', codeSystem: CODE_SYSTEMS.CONFIDENTIALITY });
  w.empty('languageCode', { code: 'vi-VN' });
  w.empty('setId', { root: oids.document, extension: checked.setId });
  w.empty('versionNumber', { value: checked.version });

  w.open('recordTarget').open('patientRole');
  for (const identifier of identifiers) w.empty('id', { root: oidOfIdentifier(oids, identifier.system), extension: identifier.value });
  const address = patient.address;
  if (address && (address.line || address.communeName || address.provinceName || address.text)) {
    w.open('addr', { use: 'H' });
    if (address.line) w.text('streetAddressLine', address.line);
    else if (address.text) w.text('streetAddressLine', address.text);
    if (address.communeName) w.text('city', address.communeName);
    if (address.districtName) w.text('county', address.districtName);
    if (address.provinceName) w.text('state', address.provinceName);
    w.text('country', 'VN');
    w.close('addr');
  }
  if (patient.phone?.trim()) w.empty('telecom', { use: 'HP', value: `tel:${patient.phone.trim()}` });
  w.open('patient');
  w.open('name');
  if (patient.name.family && patient.name.given) {
    w.text('family', patient.name.family);
    w.text('given', patient.name.given);
  } else w.chars(patient.name.full);
  w.close('name');
  w.empty('administrativeGenderCode', genderCode(patient));
  if (patient.birthDate) w.empty('birthTime', { value: hl7Date(patient.birthDate, 'recordTarget/patientRole/patient/birthTime') });
  if (patient.ethnicityCode) w.empty('ethnicGroupCode', { code: patient.ethnicityCode, codeSystem: oids.ethnicity });
  w.close('patient');
  w.close('patientRole').close('recordTarget');

  w.open('author');
  w.empty('time', { value: hl7Time(ctx.authoredAt ?? checked.createdAt, 'author/time') });
  w.open('assignedAuthor');
  writeStaffIds(w, oids, author);
  w.within('assignedPerson', undefined, () => writePersonName(w, author));
  writeOrganization(w, oids, ctx, 'representedOrganization');
  w.close('assignedAuthor').close('author');

  w.open('custodian').open('assignedCustodian');
  writeOrganization(w, oids, ctx, 'representedCustodianOrganization');
  w.close('assignedCustodian').close('custodian');

  w.open('legalAuthenticator');
  w.empty('time', { value: hl7Time(checked.createdAt) });
  w.empty('signatureCode', { code: 'S' });
  w.open('assignedEntity');
  writeStaffIds(w, oids, legalAuthenticator);
  w.within('assignedPerson', undefined, () => writePersonName(w, legalAuthenticator));
  writeOrganization(w, oids, ctx, 'representedOrganization');
  w.close('assignedEntity').close('legalAuthenticator');

  for (const order of spec.orders ?? []) {
    w.open('inFulfillmentOf').open('order');
    w.empty('id', { root: order.root, extension: order.id });
    for (const extra of order.extraIds ?? []) w.empty('id', extra);
    w.close('order').close('inFulfillmentOf');
  }

  if (spec.serviceEvent) {
    const event = spec.serviceEvent;
    w.open('documentationOf').open('serviceEvent');
    for (const id of event.ids ?? []) w.empty('id', id);
    if (event.code) w.empty('code', event.code);
    if (event.low || event.high) {
      w.open('effectiveTime');
      if (event.low) w.empty('low', { value: hl7Time(event.low, 'documentationOf/serviceEvent/effectiveTime/low') });
      if (event.high) w.empty('high', { value: hl7Time(event.high, 'documentationOf/serviceEvent/effectiveTime/high') });
      w.close('effectiveTime');
    }
    w.close('serviceEvent').close('documentationOf');
  }

  if (replaces) {
    w.open('relatedDocument', { typeCode: 'RPLC' }).open('parentDocument');
    w.empty('id', { root: oids.document, extension: replaces.id });
    w.empty('setId', { root: oids.document, extension: replaces.setId });
    w.empty('versionNumber', { value: replaces.version });
    w.close('parentDocument').close('relatedDocument');
  }

  if (ctx.visit) {
    const visit = ctx.visit;
    w.open('componentOf').open('encompassingEncounter');
    w.empty('id', { root: oids.maLk, extension: visit.maLk });
    const code = encounterCode(visit);
    w.empty('code', { code: code.code, codeSystem: CODE_SYSTEMS.ACT_CODE, displayName: code.displayName });
    w.open('effectiveTime');
    w.empty('low', { value: hl7Time(visit.admittedAt, 'componentOf/encompassingEncounter/effectiveTime/low') });
    if (visit.dischargedAt) w.empty('high', { value: hl7Time(visit.dischargedAt, 'componentOf/encompassingEncounter/effectiveTime/high') });
    w.close('effectiveTime');
    if (visit.attending?.name) {
      w.open('encounterParticipant', { typeCode: 'ATND' }).open('assignedEntity');
      writeStaffIds(w, oids, visit.attending);
      if (!visit.attending.id && !visit.attending.practisingCertificate) w.empty('id', { nullFlavor: 'UNK' });
      w.within('assignedPerson', undefined, () => writePersonName(w, visit.attending!));
      w.close('assignedEntity').close('encounterParticipant');
    }
    if (ctx.department) {
      w.open('location').open('healthCareFacility');
      w.within('location', undefined, () => w.text('name', ctx.department!.name));
      writeOrganization(w, oids, ctx, 'serviceProviderOrganization');
      w.close('healthCareFacility').close('location');
    }
    w.close('encompassingEncounter').close('componentOf');
  }
}

/** A narrative table: header cells and rows; a cell may be bold (abnormal values). */
export type Cell = string | { text: string; bold?: boolean };

export function writeTable(w: CanonicalXmlWriter, headers: string[], rows: Cell[][]): void {
  w.open('table', { border: '1', width: '100%' });
  w.open('thead').open('tr');
  for (const h of headers) w.text('th', h);
  w.close('tr').close('thead');
  w.open('tbody');
  for (const row of rows) {
    w.open('tr');
    for (const cell of row) {
      if (typeof cell === 'string') w.text('td', cell);
      else if (cell.bold) w.within('td', undefined, () => w.text('content', cell.text, { styleCode: 'Bold' }));
      else w.text('td', cell.text);
    }
    w.close('tr');
  }
  w.close('tbody').close('table');
}

/** A section of the structured body: code (LOINC unless said), title, narrative, then entries. */
export function writeSection(
  w: CanonicalXmlWriter,
  spec: { code: string; displayName: string; title: string; codeSystem?: string; codeSystemName?: string },
  narrative: () => void,
  entries?: () => void,
): void {
  w.open('component').open('section');
  w.empty('code', { code: spec.code, codeSystem: spec.codeSystem ?? CODE_SYSTEMS.LOINC, codeSystemName: spec.codeSystemName ?? 'LOINC', displayName: spec.displayName });
  w.text('title', spec.title);
  w.within('text', undefined, narrative);
  entries?.();
  w.close('section').close('component');
}

/** Human-readable time in Vietnamese convention: `20/11/2026 04:58`. */
export function displayTime(value: DateTimeString): string {
  try {
    const p = hospitalParts(parseDateTime(value));
    return `${pad(p.day)}/${pad(p.month)}/${p.year} ${pad(p.hour)}:${pad(p.minute)}`;
  } catch {
    return value;
  }
}

export function displayDate(value: string): string {
  const m = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?/.exec(value);
  if (!m) return value;
  return [m[3], m[2], m[1]].filter(Boolean).join('/');
}

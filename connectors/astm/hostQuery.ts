// Host query (LIS2-A2 §11, standards.md §2.7): an analyser's Q record names specimens; the host
// answers in its own session with H, P, O…, L listing the tests the HIS ordered for each specimen,
// in the analyser's test codes. An unknown specimen gets the reply the profile chose (O-26 Y or Z,
// or no order and L-3 I). The same builder serves batch order download.
import type { HisLookups } from '../../his/lookups';
import type { LabCodeMap } from '../../his/mapping/code-maps';
import type { LabOrder, Patient } from '../../model';
import { foldVietnamese } from '../../engine/text/vietnamese';
import type { AnalyzerProfile } from '../../devices/analyzers/profile';
import type { Delimiters } from './codec/delimiters';
import { AstmRecord, type FieldInput } from './codec/record';
import type { HostQuery } from './interpret';

/** Everything the HIS holds for one specimen that an analyser needs to run it. */
export interface SpecimenOrders {
  specimenId: string;
  patient?: Patient;
  orders: LabOrder[];
}

/** What the ASTM source asks the HIS; injected so the source does not depend on one HIS. */
export interface OrderLookup {
  /** The orders on a specimen (tube barcode), or undefined when the HIS does not know it. */
  ordersForSpecimen(specimenId: string): Promise<SpecimenOrders | undefined>;
}

/** The lookup backed by the HIS connector's service (`ctx.lookup<HisLookups>('his')`). */
export function orderLookupFromHis(his: HisLookups): OrderLookup {
  return {
    async ordersForSpecimen(specimenId) {
      const orders = await his.ordersBySpecimen(specimenId);
      if (orders.length === 0) return undefined;
      const patient = await his.patientById(orders[0].patientId);
      return { specimenId, patient, orders };
    },
  };
}

/** A lookup over orders held in memory (simulators, a lab without a HIS connection, tests). */
export class InMemoryOrderLookup implements OrderLookup {
  private readonly bySpecimen = new Map<string, SpecimenOrders>();

  add(entry: SpecimenOrders): this {
    this.bySpecimen.set(entry.specimenId, entry);
    return this;
  }

  async ordersForSpecimen(specimenId: string): Promise<SpecimenOrders | undefined> {
    return this.bySpecimen.get(specimenId);
  }
}

/** ASTM date-time `YYYYMMDDHHMMSS` in hospital time (UTC+7). */
export function astmNow(now = new Date()): string {
  const t = new Date(now.getTime() + 7 * 3_600_000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${t.getUTCFullYear()}${p(t.getUTCMonth() + 1)}${p(t.getUTCDate())}${p(t.getUTCHours())}${p(t.getUTCMinutes())}${p(t.getUTCSeconds())}`;
}

export interface ReplyContext {
  profile: AnalyzerProfile;
  codeMap: LabCodeMap;
  /** Ids the code map's analyser-specific rows may be keyed by (device id, then profile id). */
  analyserIds: string[];
  /** The analyser's H-5 name (goes into H-10 receiver id) and H-3 control id (echoed when the profile says so). */
  querySender?: string;
  queryControlId?: string;
  now?: Date;
}

/**
 * The analyser test codes for the HIS tests ordered on a specimen. An analyser with rows of its own in
 * the code map performs only those tests (a blood-count analyser is not sent the glucose of the same
 * tube); otherwise the order's own analyser code, then the shared rows, are used.
 */
export function analyserTestCodes(orders: LabOrder[], ctx: Pick<ReplyContext, 'codeMap' | 'analyserIds'>): string[] {
  const ownId = ctx.analyserIds.find((id) => ctx.codeMap.entries.some((e) => e.analyser === id));
  const codes: string[] = [];
  for (const order of orders) {
    if (order.status === 'cancelled') continue;
    for (const test of order.tests) {
      if (test.status === 'cancelled') continue;
      if (ownId) {
        for (const e of ctx.codeMap.entries) if (e.analyser === ownId && e.hisServiceCode === test.hisServiceCode) codes.push(e.analyserCode);
        continue;
      }
      if (test.analyserTestCode) {
        codes.push(test.analyserTestCode);
        continue;
      }
      for (const e of ctx.codeMap.forHisService(test.hisServiceCode)) if (e.analyser === '*') codes.push(e.analyserCode);
    }
  }
  return [...new Set(codes)];
}

function testIdField(codes: string[], profile: AnalyzerProfile): FieldInput {
  return codes.map((code) => {
    const components: string[] = new Array(profile.tests.codeComponent - 1).fill('');
    components.push(code + profile.tests.sendCodeAppend, ...profile.tests.sendSuffix);
    return components;
  });
}

function text(value: string | undefined, profile: AnalyzerProfile): string {
  if (!value) return '';
  return profile.send.foldToAscii ? foldVietnamese(value) : value;
}

function nameField(patient: Patient | undefined, profile: AnalyzerProfile): FieldInput {
  if (!patient) return null;
  const full = patient.name.full.trim();
  const family = patient.name.family ?? full.split(/\s+/)[0];
  const given = patient.name.given ?? full.split(/\s+/).slice(1).join(' ');
  return [text(family, profile), text(given, profile)];
}

function astmDate(date: string | undefined): string {
  return date ? date.replace(/-/g, '') : '';
}

function sexCode(patient: Patient | undefined): string {
  if (!patient) return '';
  return patient.sex === 'male' ? 'M' : patient.sex === 'female' ? 'F' : 'U';
}

function priorityCode(orders: LabOrder[]): string {
  if (orders.some((o) => o.priority === 'stat')) return 'S';
  if (orders.some((o) => o.priority === 'urgent')) return 'A';
  return 'R';
}

export function headerRecord(ctx: ReplyContext, d: Delimiters): AstmRecord {
  const p = ctx.profile;
  const fields: FieldInput[] = [];
  fields[0] = null; // H-2 delimiters (filled by build)
  fields[1] = p.hostQuery.echoControlId ? ctx.queryControlId ?? '' : '';
  fields[3] = p.send.senderName;
  fields[8] = p.send.receiverId ?? ctx.querySender ?? '';
  fields[10] = 'P';
  fields[11] = p.send.version ?? '';
  fields[12] = astmNow(ctx.now);
  return AstmRecord.build('H', fill(fields), d);
}

function fill(fields: FieldInput[]): FieldInput[] {
  return Array.from({ length: fields.length }, (_, i) => fields[i] ?? null);
}

function specimenField(specimenId: string, profile: AnalyzerProfile): FieldInput {
  const n = profile.hostQuery.specimenComponent;
  if (n === 1) return specimenId;
  const components: string[] = new Array(n - 1).fill('');
  components.push(specimenId);
  return components;
}

/** P and O records for one specimen's orders (sequence numbers given by the caller). */
export function orderRecords(
  found: SpecimenOrders,
  ctx: ReplyContext,
  d: Delimiters,
  patientSeq: number,
  options: { reportType: string[]; actionCode: string; codes?: string[] },
): AstmRecord[] {
  const p = ctx.profile;
  const patient = found.patient;
  const pFields: FieldInput[] = [];
  pFields[0] = String(patientSeq);
  pFields[p.hostQuery.patientIdField - 2] = patient?.id ?? found.orders[0]?.patientId ?? '';
  pFields[4] = nameField(patient, p);
  pFields[6] = astmDate(patient?.birthDate);
  pFields[7] = sexCode(patient);
  const codes = options.codes ?? analyserTestCodes(found.orders, ctx);
  const oFields: FieldInput[] = [];
  oFields[0] = '1';
  oFields[p.hostQuery.specimenField - 2] = specimenField(found.specimenId, p);
  oFields[3] = codes.length ? testIdField(codes, p) : null;
  oFields[4] = priorityCode(found.orders);
  oFields[6] = astmDate(found.orders[0]?.specimen.collectedAt?.slice(0, 10));
  oFields[10] = options.actionCode;
  oFields[14] = p.hostQuery.specimenDescriptor ?? '';
  oFields[24] = options.reportType.length ? options.reportType.map((r) => [r]) : null;
  return [AstmRecord.build('P', fill(pFields), d), AstmRecord.build('O', fill(oFields), d)];
}

/** The complete reply to one Q record. */
export async function buildQueryReply(query: HostQuery, lookup: OrderLookup, ctx: ReplyContext): Promise<{ records: AstmRecord[]; answered: string[]; unknown: string[] }> {
  const p = ctx.profile;
  const d = p.send.delimiters;
  const records: AstmRecord[] = [headerRecord(ctx, d)];
  const answered: string[] = [];
  const unknown: string[] = [];
  let seq = 0;
  for (const specimenId of query.specimenIds) {
    const found = await lookup.ordersForSpecimen(specimenId);
    let codes = found ? analyserTestCodes(found.orders, ctx) : [];
    if (found && query.tests !== 'ALL') codes = codes.filter((c) => (query.tests as string[]).includes(c));
    if (found && codes.length > 0) {
      answered.push(specimenId);
      records.push(...orderRecords(found, ctx, d, ++seq, { reportType: p.hostQuery.reportType, actionCode: 'N', codes }));
      continue;
    }
    unknown.push(specimenId);
    if (p.hostQuery.unknownSpecimen === 'I') continue;
    // Y: the specimen is known but nothing is ordered for this analyser; Z: no such patient/specimen.
    const code = found ? 'Y' : p.hostQuery.unknownSpecimen;
    records.push(...orderRecords(found ?? { specimenId, orders: [] }, ctx, d, ++seq, { reportType: [code], actionCode: '', codes: query.tests === 'ALL' ? [] : query.tests }));
  }
  const termination = answered.length > 0 ? p.hostQuery.answeredTermination : 'I';
  records.push(AstmRecord.build('L', ['1', termination], d));
  return { records, answered, unknown };
}

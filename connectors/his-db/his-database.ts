// HisLookups over any relational HIS: SQL is built from the YAML mapping (tables, columns, value
// translations), rows are turned into the canonical model, and writes (results, reports, order
// status, vitals) run in one transaction each. The engine registers one instance as service 'his'.
import type { DataSource } from 'typeorm';
import {
  guessIdentifierSystem,
  toHospitalDate,
  type BillingLine,
  type BillingLineKind,
  type Department,
  type DepartmentKind,
  type Diagnosis,
  type Facility,
  type IdentifierSystem,
  type ImagingOrder,
  type ImagingReport,
  type LabOrder,
  type LabOrderTest,
  type Observation,
  type Order,
  type OrderPriority,
  type OrderStatus,
  type Patient,
  type PatientIdentifier,
  type Result,
  type ResultBatch,
  type ResultStatus,
  type Sex,
  type Staff,
  type StaffRef,
  type StaffRole,
  type Visit,
  type VisitDocuments,
  type ReferralLetter,
  type BirthCertificate,
  type LeaveCertificate,
  type HivCareRecord,
  type TbTreatmentRecord,
  type MedicalAssessment,
  type VisitKind,
  type BhytRoute,
} from '../../model';
import { Db, type SqlExecutor } from '../../his/db/executor';
import { dialectOf, openDataSource, placeholder, withLimit, type ConnectionConfig, type Dialect } from '../../his/db/dialect';
import { MappedEntity, Params, type RowReader } from '../../his/db/mapped';
import { instantToDbDateTime, isoToDbDateTime } from '../../his/db/values';
import {
  HisMappingError,
  HisNotFoundError,
  type ClaimPeriod,
  type HisLookups,
  type IdentifierQuery,
  type OrderStatusUpdate,
  type WorklistFilter,
  type WriteOptions,
  type WriteOutcome,
} from '../../his/lookups';
import type { LoadedMapping } from '../../his/mapping/load';
import type { EntityMapping } from '../../his/mapping/schema';
import { DOCUMENT_ENTITIES, type DocumentEntityName, type DocumentEntitySpec, documentEntityNames } from '../../his/mapping/visit-documents';

export interface HisDatabaseOptions {
  /** Clock for updatedAt stamps (tests pin it). */
  now?: () => Date;
  /** Staff/department cache lifetime (default 5 minutes). */
  cacheMs?: number;
}

/** Filter for polled orders (all AND-ed; each list = any of). */
export interface OrderPollFilter {
  departments?: string[];
  modalities?: string[];
  analysers?: string[];
  stationAeTitles?: string[];
  statuses?: OrderStatus[];
}

/** One polled row: the order, or the mapping error that row raised, plus its watermark values. */
export interface PolledOrder {
  id: string;
  /** updatedAt exactly as stored (the watermark compares these). */
  updatedAtRaw: string;
  /** Signature of this version of the row (updatedAt + version column). */
  signature: string;
  order?: Order;
  error?: HisMappingError;
}

const IDENTIFIER_FIELDS: Record<IdentifierSystem, string> = {
  MA_BN: 'id',
  CCCD: 'cccd',
  CMND: 'cmnd',
  PASSPORT: 'passport',
  BHXH: 'bhxh',
  BHYT: 'bhytCard',
};

const CARD_BENEFIT: Record<string, number> = { '1': 100, '2': 100, '3': 95, '4': 80, '5': 100 };
const IN_CHUNK = 500;

function chunks<T>(items: T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

function rawText(v: unknown): string {
  if (v instanceof Date) return instantToDbDateTime(v);
  return String(v);
}

export class HisDatabase implements HisLookups {
  readonly dialect: Dialect;
  private readonly e: {
    facility?: MappedEntity;
    department: MappedEntity;
    staff: MappedEntity;
    patient: MappedEntity;
    visit: MappedEntity;
    diagnosis: MappedEntity;
    labOrder: MappedEntity;
    labOrderTest: MappedEntity;
    imagingOrder: MappedEntity;
    labResult: MappedEntity;
    imagingReport: MappedEntity;
    vital: MappedEntity;
    billing: Array<{ entity: MappedEntity; kind?: BillingLineKind }>;
    documents: Partial<Record<DocumentEntityName, MappedEntity>>;
  };
  private readonly now: () => Date;
  private readonly cacheMs: number;
  private staffCache?: { at: number; byId: Map<string, Staff>; byCert: Map<string, Staff> };
  private departmentCache?: { at: number; byCode: Map<string, Department> };

  constructor(
    readonly db: Db,
    readonly loaded: LoadedMapping,
    options: HisDatabaseOptions = {},
  ) {
    this.dialect = db.dialect;
    this.now = options.now ?? (() => new Date());
    this.cacheMs = options.cacheMs ?? 300_000;
    const ents = loaded.mapping.entities;
    const mk = (name: string, m: EntityMapping) => new MappedEntity(name, this.dialect, m);
    this.e = {
      facility: ents.facility ? mk('facility', ents.facility) : undefined,
      department: mk('department', ents.department),
      staff: mk('staff', ents.staff),
      patient: mk('patient', ents.patient),
      visit: mk('visit', ents.visit),
      diagnosis: mk('diagnosis', ents.diagnosis),
      labOrder: mk('labOrder', ents.labOrder),
      labOrderTest: mk('labOrderTest', ents.labOrderTest),
      imagingOrder: mk('imagingOrder', ents.imagingOrder),
      labResult: mk('labResult', ents.labResult),
      imagingReport: mk('imagingReport', ents.imagingReport),
      vital: mk('vital', ents.vital),
      billing: ents.billing.map((b, i) => ({ entity: mk(`billing[${i}]`, b), kind: b.kind })),
      documents: Object.fromEntries(documentEntityNames.filter((n) => ents[n]).map((n) => [n, mk(n, ents[n]!)])),
    };
  }

  /** Opens a connection and wraps it. */
  static async open(connection: ConnectionConfig, loaded: LoadedMapping, options?: HisDatabaseOptions): Promise<HisDatabase> {
    const ds = await openDataSource(connection);
    return new HisDatabase(new Db(ds, dialectOf(connection)), loaded, options);
  }

  static fromDataSource(ds: DataSource, dialect: Dialect, loaded: LoadedMapping, options?: HisDatabaseOptions): HisDatabase {
    return new HisDatabase(new Db(ds, dialect), loaded, options);
  }

  async close(): Promise<void> {
    await this.db.close();
  }

  /** A cheap round trip, for health checks. */
  async ping(): Promise<void> {
    await this.db.rows(this.dialect === 'mssql' ? 'SELECT 1 AS ok' : 'SELECT 1 AS ok');
  }

  // ---------------------------------------------------------------- reads

  private async select(exec: SqlExecutor, entity: MappedEntity, build: (p: Params) => { where: string[]; orderBy?: string; limit?: number }): Promise<RowReader[]> {
    const params = new Params(this.dialect);
    const { where, orderBy, limit } = build(params);
    let sql = entity.select(params, where);
    if (orderBy) sql += ` ORDER BY ${orderBy}`;
    if (limit !== undefined) sql = withLimit(this.dialect, orderBy ? sql : `${sql} ORDER BY 1`, limit);
    const rows = await exec.rows(sql, params.list);
    return rows.map((r) => entity.reader(r));
  }

  async facility(): Promise<Facility> {
    if (this.e.facility) {
      const [r] = await this.select(this.db, this.e.facility, () => ({ where: [], limit: 1, orderBy: this.e.facility!.expr('code') }));
      if (!r) throw new HisNotFoundError(`facility table ${this.e.facility.table} is empty`);
      return {
        code: r.reqText('code'),
        name: r.reqText('name'),
        level: r.code('level') as Facility['level'],
        provinceCode: r.text('provinceCode'),
      };
    }
    return this.loaded.mapping.facility!;
  }

  private async staffMaps() {
    if (!this.staffCache || Date.now() - this.staffCache.at > this.cacheMs) {
      const list = (await this.select(this.db, this.e.staff, () => ({ where: [] }))).map((r) => this.toStaff(r));
      this.staffCache = {
        at: Date.now(),
        byId: new Map(list.map((s) => [s.id, s])),
        byCert: new Map(list.filter((s) => s.practisingCertificate).map((s) => [s.practisingCertificate!, s])),
      };
    }
    return this.staffCache;
  }

  private async departmentMap() {
    if (!this.departmentCache || Date.now() - this.departmentCache.at > this.cacheMs) {
      const list = (await this.select(this.db, this.e.department, () => ({ where: [] }))).map((r) => this.toDepartment(r));
      this.departmentCache = { at: Date.now(), byCode: new Map(list.map((d) => [d.code, d])) };
    }
    return this.departmentCache;
  }

  /** Forget cached staff and departments (after the HIS changed them). */
  invalidateCaches(): void {
    this.staffCache = undefined;
    this.departmentCache = undefined;
  }

  async staffById(id: string): Promise<Staff | undefined> {
    return (await this.staffMaps()).byId.get(id);
  }

  async staffByCertificate(cert: string): Promise<Staff | undefined> {
    return (await this.staffMaps()).byCert.get(cert);
  }

  async listStaff(): Promise<Staff[]> {
    return [...(await this.staffMaps()).byId.values()];
  }

  async departmentByCode(code: string): Promise<Department | undefined> {
    return (await this.departmentMap()).byCode.get(code);
  }

  async listDepartments(): Promise<Department[]> {
    return [...(await this.departmentMap()).byCode.values()];
  }

  private async staffRef(id: string | undefined): Promise<StaffRef | undefined> {
    if (!id) return undefined;
    const s = (await this.staffMaps()).byId.get(id);
    return s ? { id, name: s.fullName, practisingCertificate: s.practisingCertificate } : { id };
  }

  async patientById(maBn: string): Promise<Patient | undefined> {
    return this.patientByIdentifier({ system: 'MA_BN', value: maBn });
  }

  async patientByIdentifier(query: IdentifierQuery): Promise<Patient | undefined> {
    const value = query.value.trim();
    const systems: IdentifierSystem[] = query.system ? [query.system] : [...new Set([guessIdentifierSystem(value), 'MA_BN' as const].filter((s): s is IdentifierSystem => !!s))];
    for (const system of systems) {
      const field = IDENTIFIER_FIELDS[system];
      if (this.e.patient.ownColumn(field)) {
        const [r] = await this.select(this.db, this.e.patient, (p) => ({ where: [`${this.e.patient.col(field)} = ${p.add(value)}`], limit: 1, orderBy: this.e.patient.col('id') }));
        if (r) return this.toPatient(r);
      }
      if (system === 'BHYT' && this.e.visit.ownColumn('bhytCard')) {
        // Many HIS keep the card on the visit only: the latest visit with that card names the patient.
        const [v] = await this.select(this.db, this.e.visit, (p) => ({
          where: [`${this.e.visit.col('bhytCard')} = ${p.add(value)}`],
          orderBy: `${this.e.visit.col('admittedAt')} DESC`,
          limit: 1,
        }));
        if (v) return this.patientById(v.reqText('patientId'));
      }
    }
    return undefined;
  }

  private async diagnosesFor(maLks: string[]): Promise<Map<string, Diagnosis[]>> {
    const out = new Map<string, Diagnosis[]>();
    for (const part of chunks(maLks, IN_CHUNK)) {
      const rows = await this.select(this.db, this.e.diagnosis, (p) => ({ where: [`${this.e.diagnosis.col('maLk')} IN ${p.in(part)}`] }));
      for (const r of rows) {
        const maLk = r.reqText('maLk');
        const list = out.get(maLk) ?? [];
        list.push({ icd10: r.reqText('icd10'), text: r.text('text'), primary: r.bool('primary') ?? false, stage: r.code('stage') as Diagnosis['stage'] });
        out.set(maLk, list);
      }
    }
    return out;
  }

  private async visitsFrom(rows: RowReader[]): Promise<Visit[]> {
    const diagnoses = await this.diagnosesFor(rows.map((r) => r.reqText('maLk')));
    const visits: Visit[] = [];
    for (const r of rows) visits.push(await this.toVisit(r, diagnoses.get(r.reqText('maLk')) ?? []));
    return visits;
  }

  async visitByMaLk(maLk: string): Promise<Visit | undefined> {
    const rows = await this.select(this.db, this.e.visit, (p) => ({ where: [`${this.e.visit.col('maLk')} = ${p.add(maLk)}`] }));
    return (await this.visitsFrom(rows))[0];
  }

  async visitsForPatient(maBn: string): Promise<Visit[]> {
    const rows = await this.select(this.db, this.e.visit, (p) => ({
      where: [`${this.e.visit.col('patientId')} = ${p.add(maBn)}`],
      orderBy: this.e.visit.col('admittedAt'),
    }));
    return this.visitsFrom(rows);
  }

  async visitsForClaims(period: ClaimPeriod): Promise<Visit[]> {
    const v = this.e.visit;
    const rows = await this.select(this.db, v, (p) => {
      const where = [`${v.col('dischargedAt')} >= ${p.add(isoToDbDateTime(period.from))}`, `${v.col('dischargedAt')} < ${p.add(isoToDbDateTime(period.to))}`];
      if (period.insuredOnly !== false) where.push(`${v.col('bhytCard')} IS NOT NULL`);
      if (period.afterMaLk) where.push(`${v.col('maLk')} > ${p.add(period.afterMaLk)}`);
      return { where, orderBy: v.col('maLk'), limit: period.limit ?? 10_000 };
    });
    return this.visitsFrom(rows);
  }

  async billingLinesForVisit(maLk: string): Promise<BillingLine[]> {
    const lines: BillingLine[] = [];
    for (const source of this.e.billing) {
      const rows = await this.select(this.db, source.entity, (p) => ({
        where: [`${source.entity.col('maLk')} = ${p.add(maLk)}`],
        orderBy: source.entity.col('lineNo'),
      }));
      for (const r of rows) lines.push(await this.toBillingLine(r, source.kind));
    }
    const order: Record<BillingLineKind, number> = { drug: 0, service: 1, supply: 2, bed: 3 };
    return lines.sort((a, b) => order[a.kind] - order[b.kind] || a.lineNo - b.lineNo);
  }

  private async orderIdsForVisit(maLk: string): Promise<{ lab: string[]; imaging: string[] }> {
    const lab = await this.select(this.db, this.e.labOrder, (p) => ({ where: [`${this.e.labOrder.col('maLk')} = ${p.add(maLk)}`] }));
    const img = await this.select(this.db, this.e.imagingOrder, (p) => ({ where: [`${this.e.imagingOrder.col('maLk')} = ${p.add(maLk)}`] }));
    return { lab: lab.map((r) => r.reqText('id')), imaging: img.map((r) => r.reqText('id')) };
  }

  async resultsForVisit(maLk: string): Promise<{ results: Array<Result & { orderId: string }>; reports: ImagingReport[] }> {
    const ids = await this.orderIdsForVisit(maLk);
    const results: Array<Result & { orderId: string }> = [];
    const reports: ImagingReport[] = [];
    const superseded = this.e.labResult.toDb('status', 'superseded');
    for (const part of chunks(ids.lab, IN_CHUNK)) {
      const rows = await this.select(this.db, this.e.labResult, (p) => ({
        where: [`${this.e.labResult.col('orderId')} IN ${p.in(part)}`, `${this.e.labResult.col('status')} <> ${p.add(superseded)}`],
        orderBy: this.e.labResult.col('orderId'),
      }));
      for (const r of rows) results.push({ ...(await this.toResult(r)), orderId: r.reqText('orderId') });
    }
    const reportSuperseded = this.e.imagingReport.toDb('status', 'superseded');
    for (const part of chunks(ids.imaging, IN_CHUNK)) {
      const rows = await this.select(this.db, this.e.imagingReport, (p) => ({
        where: [`${this.e.imagingReport.col('orderId')} IN ${p.in(part)}`, `${this.e.imagingReport.col('status')} <> ${p.add(reportSuperseded)}`],
      }));
      for (const r of rows) reports.push(await this.toReport(r));
    }
    return { results, reports };
  }

  async observationsForVisit(maLk: string): Promise<Observation[]> {
    const v = this.e.vital;
    if (!v.has('maLk')) return [];
    const rows = await this.select(this.db, v, (p) => ({ where: [`${v.col('maLk')} = ${p.add(maLk)}`], orderBy: v.col('effectiveAt') }));
    return rows.map((r) => this.toObservation(r));
  }

  async documentsForVisit(maLk: string): Promise<VisitDocuments> {
    const read = async (name: DocumentEntityName): Promise<Array<Record<string, unknown>>> => {
      const e = this.e.documents[name];
      if (!e) return [];
      const rows = await this.select(this.db, e, (p) => ({ where: [`${e.col('maLk')} = ${p.add(maLk)}`] }));
      return Promise.all(rows.map((r) => this.toDocument(name, r)));
    };
    const [referral, births, leave, hiv, tb, assessment] = await Promise.all(documentEntityNames.map(read));
    return {
      referral: referral[0] as unknown as ReferralLetter | undefined,
      births: (births as unknown as BirthCertificate[]).sort((a, b) => a.bornAt.localeCompare(b.bornAt) || a.number.localeCompare(b.number)),
      leave: (leave as unknown as LeaveCertificate[]).sort((a, b) => a.from.localeCompare(b.from)),
      hivCare: hiv[0] as unknown as HivCareRecord | undefined,
      tbTreatment: (tb as unknown as TbTreatmentRecord[]).sort((a, b) => a.startedOn.localeCompare(b.startedOn)),
      assessment: assessment[0] as unknown as MedicalAssessment | undefined,
    };
  }

  /** One document row as a plain object: each mapped field read by its kind; empty columns are left out. */
  private async toDocument(name: DocumentEntityName, r: RowReader): Promise<Record<string, unknown>> {
    const spec: DocumentEntitySpec = DOCUMENT_ENTITIES[name];
    const out: Record<string, unknown> = {};
    for (const field of spec.required) if (this.e.documents[name]!.has(field) && r.raw(field) == null) r.fail(field, `required ${name}.${field} is empty`);
    for (const [field, kind] of Object.entries(spec.fields)) {
      let v: unknown;
      switch (kind) {
        case 'text': v = r.text(field); break;
        case 'code': v = r.code(field); break;
        case 'date': v = r.date(field); break;
        case 'dateTime': v = r.dateTime(field); break;
        case 'int': v = r.int(field); break;
        case 'bool': v = r.bool(field); break;
        case 'staff': v = await this.staffRef(r.text(field)); break;
      }
      if (v !== undefined) out[kind === 'staff' ? field.replace(/Id$/, '') : field] = v;
    }
    return out;
  }

  private async labTests(orderIds: string[]): Promise<Map<string, LabOrderTest[]>> {
    const out = new Map<string, LabOrderTest[]>();
    const t = this.e.labOrderTest;
    for (const part of chunks(orderIds, IN_CHUNK)) {
      const rows = await this.select(this.db, t, (p) => ({ where: [`${t.col('orderId')} IN ${p.in(part)}`], orderBy: `${t.col('orderId')}, ${t.col('hisServiceCode')}` }));
      for (const r of rows) {
        const hisServiceCode = r.reqText('hisServiceCode');
        const entry = this.loaded.labCodes.forHisService(hisServiceCode)[0];
        const list = out.get(r.reqText('orderId')) ?? [];
        list.push({
          hisServiceCode,
          name: r.text('name') ?? entry?.name ?? hisServiceCode,
          bhytServiceCode: r.text('bhytServiceCode') ?? entry?.bhytServiceCode,
          loinc: entry?.loinc,
          analyserTestCode: entry?.analyserCode,
          status: r.code('status') as OrderStatus | undefined,
        });
        out.set(r.reqText('orderId'), list);
      }
    }
    return out;
  }

  private async labOrdersFrom(rows: RowReader[]): Promise<LabOrder[]> {
    const tests = await this.labTests(rows.map((r) => r.reqText('id')));
    const orders: LabOrder[] = [];
    for (const r of rows) orders.push(await this.toLabOrder(r, tests.get(r.reqText('id')) ?? []));
    return orders;
  }

  async orderById(orderId: string): Promise<Order | undefined> {
    const lab = await this.select(this.db, this.e.labOrder, (p) => ({ where: [`${this.e.labOrder.col('id')} = ${p.add(orderId)}`] }));
    if (lab.length) return (await this.labOrdersFrom(lab))[0];
    const [img] = await this.select(this.db, this.e.imagingOrder, (p) => ({ where: [`${this.e.imagingOrder.col('id')} = ${p.add(orderId)}`] }));
    return img ? this.toImagingOrder(img) : undefined;
  }

  async ordersBySpecimen(specimenId: string): Promise<LabOrder[]> {
    const rows = await this.select(this.db, this.e.labOrder, (p) => ({
      where: [`${this.e.labOrder.col('specimenId')} = ${p.add(specimenId)}`],
      orderBy: this.e.labOrder.col('id'),
    }));
    return this.labOrdersFrom(rows);
  }

  async orderByAccession(accessionNumber: string): Promise<ImagingOrder | undefined> {
    const [r] = await this.select(this.db, this.e.imagingOrder, (p) => ({ where: [`${this.e.imagingOrder.col('accessionNumber')} = ${p.add(accessionNumber)}`] }));
    return r ? this.toImagingOrder(r) : undefined;
  }

  async scheduledImagingOrders(filter: WorklistFilter = {}): Promise<ImagingOrder[]> {
    const io = this.e.imagingOrder;
    const today = toHospitalDate(this.now());
    const from = filter.from ? isoToDbDateTime(filter.from) : `${today} 00:00:00.000`;
    const to = filter.to ? isoToDbDateTime(filter.to) : instantToDbDateTime(new Date(Date.parse(`${today}T00:00:00+07:00`) + 86_400_000));
    const statuses = filter.statuses ?? ['scheduled', 'arrived'];
    const rows = await this.select(this.db, io, (p) => {
      const where = [`${io.col('scheduledAt')} >= ${p.add(from)}`, `${io.col('scheduledAt')} < ${p.add(to)}`];
      const stored = io.toDbKnown('status', statuses);
      where.push(stored.length ? `${io.col('status')} IN ${p.in(stored)}` : '1 = 0');
      if (filter.modality) where.push(`${io.col('modality')} = ${p.add(filter.modality)}`);
      if (filter.stationAeTitle) where.push(`${io.col('stationAeTitle')} = ${p.add(filter.stationAeTitle)}`);
      if (filter.patientId) where.push(`${io.col('patientId')} = ${p.add(filter.patientId)}`);
      if (filter.accessionNumber) where.push(`${io.col('accessionNumber')} = ${p.add(filter.accessionNumber)}`);
      return { where, orderBy: `${io.col('scheduledAt')}, ${io.col('id')}`, limit: filter.limit ?? 1000 };
    });
    const orders: ImagingOrder[] = [];
    for (const r of rows) orders.push(await this.toImagingOrder(r));
    return orders;
  }

  /**
   * New or changed orders after a keyset cursor (updatedAt, id), oldest first. Rows that break the
   * mapping come back with `error` instead of `order`, so one bad row never blocks the others.
   */
  async pollOrders(kind: 'lab' | 'imaging', cursor: { since?: string; after?: { updatedAt: string; id: string } }, filter: OrderPollFilter, limit: number): Promise<PolledOrder[]> {
    const e = kind === 'lab' ? this.e.labOrder : this.e.imagingOrder;
    const params = new Params(this.dialect);
    const upd = e.col('updatedAt');
    const id = e.col('id');
    const where: string[] = [`${upd} IS NOT NULL`];
    if (cursor.after) {
      where.push(`(${upd} > ${params.add(cursor.after.updatedAt)} OR (${upd} = ${params.add(cursor.after.updatedAt)} AND ${id} > ${params.add(cursor.after.id)}))`);
    } else if (cursor.since) {
      where.push(`${upd} >= ${params.add(cursor.since)}`);
    }
    if (filter.departments?.length) where.push(`${e.col('departmentCode')} IN ${params.in(filter.departments)}`);
    if (filter.statuses?.length) {
      const stored = e.toDbKnown('status', filter.statuses);
      where.push(stored.length ? `${e.col('status')} IN ${params.in(stored)}` : '1 = 0');
    }
    if (kind === 'lab' && filter.analysers?.length) where.push(`${e.col('analyserId')} IN ${params.in(filter.analysers)}`);
    if (kind === 'imaging' && filter.modalities?.length) where.push(`${e.col('modality')} IN ${params.in(filter.modalities)}`);
    if (kind === 'imaging' && filter.stationAeTitles?.length) where.push(`${e.col('stationAeTitle')} IN ${params.in(filter.stationAeTitles)}`);
    const sql = withLimit(this.dialect, `${e.select(params, where)} ORDER BY ${upd}, ${id}`, limit);
    const rows = (await this.db.rows(sql, params.list)).map((r) => e.reader(r));
    const out: PolledOrder[] = [];
    const labTests = kind === 'lab' ? await this.labTests(rows.map((r) => r.text('id')).filter((x): x is string => !!x)) : undefined;
    for (const r of rows) {
      const updatedAtRaw = rawText(r.raw('updatedAt'));
      const rowId = rawText(r.raw('id'));
      const signature = `${updatedAtRaw}|${r.text('version') ?? ''}`;
      try {
        const order = kind === 'lab' ? await this.toLabOrder(r, labTests!.get(r.reqText('id')) ?? []) : await this.toImagingOrder(r);
        out.push({ id: rowId, updatedAtRaw, signature, order });
      } catch (err) {
        if (!(err instanceof HisMappingError)) throw err;
        out.push({ id: rowId, updatedAtRaw, signature, error: err });
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- conversions

  private toDepartment(r: RowReader): Department {
    return { code: r.reqText('code'), name: r.reqText('name'), bhytCode: r.reqText('bhytCode'), kind: (r.code('kind') as DepartmentKind) ?? 'clinical' };
  }

  private toStaff(r: RowReader): Staff {
    return {
      id: r.reqText('id'),
      fullName: r.reqText('fullName'),
      role: (r.code('role') as StaffRole) ?? 'other',
      title: r.text('title'),
      practisingCertificate: r.text('practisingCertificate'),
      socialInsuranceNumber: r.text('socialInsuranceNumber'),
      departmentCode: r.text('departmentCode') ?? '',
      active: r.bool('active') ?? true,
    };
  }

  private toPatient(r: RowReader): Patient {
    const id = r.reqText('id');
    const identifiers: PatientIdentifier[] = [{ system: 'MA_BN', value: id }];
    for (const [system, field] of Object.entries(IDENTIFIER_FIELDS) as Array<[IdentifierSystem, string]>) {
      if (system === 'MA_BN') continue;
      const value = r.text(field);
      if (value) identifiers.push({ system, value });
    }
    const full = r.reqText('fullName');
    const family = r.text('family') ?? full.split(/\s+/)[0];
    const given = r.text('given') ?? full.split(/\s+/).slice(1).join(' ');
    const birthDate = r.text('birthDate');
    const parsedBirth = birthDate === undefined ? r.fail('birthDate', 'required patient.birthDate is empty') : /^\d{4}(-\d{2}(-\d{2})?)?/.exec(birthDate)?.[0];
    if (!parsedBirth) r.fail('birthDate', 'unparseable date of birth (want YYYY-MM-DD or YYYY)');
    const sex = r.reqCode('sex') as Sex;
    const address = {
      line: r.text('addressLine'),
      communeCode: r.text('communeCode'),
      communeName: r.text('communeName'),
      districtCode: r.text('districtCode'),
      districtName: r.text('districtName'),
      provinceCode: r.text('provinceCode'),
      provinceName: r.text('provinceName'),
      text: r.text('addressText'),
    };
    if (!address.text) {
      const parts = [address.line, address.communeName, address.districtName, address.provinceName].filter(Boolean);
      if (parts.length) address.text = parts.join(', ');
    }
    return {
      id,
      identifiers,
      name: { full, family, given: given || undefined },
      birthDate: parsedBirth!,
      birthTime: r.text('birthTime'),
      sex,
      address,
      phone: r.text('phone'),
      nationalityCode: r.text('nationalityCode'),
      ethnicityCode: r.text('ethnicityCode'),
      occupationCode: r.text('occupationCode'),
      bloodGroup: r.text('bloodGroup'),
    };
  }

  private async toVisit(r: RowReader, diagnoses: Diagnosis[]): Promise<Visit> {
    const kind = r.reqCode('kind') as VisitKind;
    const card = r.text('bhytCard');
    let coverage: Visit['coverage'];
    if (card) {
      const route = (r.code('route') as BhytRoute) ?? 'on-route';
      const cardBenefitLevel = r.int('cardBenefitLevel') ?? CARD_BENEFIT[card[2]] ?? 80;
      coverage = {
        cardNumber: card,
        validFrom: r.date('cardValidFrom') ?? r.fail('cardValidFrom', 'a visit with a BHYT card needs the card validity start'),
        validTo: r.date('cardValidTo') ?? r.fail('cardValidTo', 'a visit with a BHYT card needs the card validity end'),
        registeredFacility: r.text('registeredFacility') ?? r.fail('registeredFacility', 'a visit with a BHYT card needs MA_DKBD'),
        route,
        cardBenefitLevel,
        benefitLevel: r.int('benefitLevel') ?? cardBenefitLevel,
        categoryCode: r.text('categoryCode') ?? { 'on-route': '1.1', emergency: '2', 'off-route': '3.1', referral: '1.3' }[route],
        areaCode: r.text('areaCode'),
        fiveConsecutiveYearsFrom: r.date('fiveConsecutiveYearsFrom'),
        coPaymentExemptFrom: r.date('coPaymentExemptFrom'),
        referredFrom: r.text('referredFrom'),
        referralNumber: r.text('referralNumber'),
      };
    }
    const department = r.reqText('departmentCode');
    return {
      maLk: r.reqText('maLk'),
      patientId: r.reqText('patientId'),
      kind,
      careTypeCode: r.text('careTypeCode')?.padStart(2, '0') ?? (kind === 'inpatient' ? '03' : '01'),
      admittedAt: r.reqDateTime('admittedAt'),
      inpatientAdmittedAt: r.dateTime('inpatientAdmittedAt'),
      dischargedAt: r.dateTime('dischargedAt'),
      departmentCode: department,
      bhytDepartmentCodes: r.list('bhytDepartmentCodes') ?? [(await this.departmentByCode(department))?.bhytCode].filter((c): c is string => !!c),
      // Discharge diagnoses first (what claims send), the primary one leading.
      diagnoses: diagnoses.sort((a, b) => Number(a.stage === 'admission') - Number(b.stage === 'admission') || Number(b.primary) - Number(a.primary)),
      reason: r.text('reason'),
      admissionDiagnosisText: r.text('admissionDiagnosisText'),
      dischargeDiagnosisText: r.text('dischargeDiagnosisText'),
      outcomeCode: r.text('outcomeCode'),
      dischargeTypeCode: r.text('dischargeTypeCode'),
      weightKg: r.decimal('weightKg'),
      medicalRecordNumber: r.text('medicalRecordNumber'),
      attending: await this.staffRef(r.text('attendingId')),
      coverage,
      paidAt: r.dateTime('paidAt'),
      followUpDate: r.date('followUpDate'),
      procedureCodes: r.list('procedureCodes'),
    };
  }

  private async orderBase(r: RowReader) {
    return {
      id: r.reqText('id'),
      maLk: r.reqText('maLk'),
      patientId: r.reqText('patientId'),
      status: r.reqCode('status') as OrderStatus,
      priority: (r.code('priority') as OrderPriority) ?? 'routine',
      orderedAt: r.reqDateTime('orderedAt'),
      updatedAt: r.reqDateTime('updatedAt'),
      departmentCode: r.reqText('departmentCode'),
      orderingStaff: await this.staffRef(r.text('orderingStaffId')),
      clinicalInfo: r.text('clinicalInfo'),
    };
  }

  private async toLabOrder(r: RowReader, tests: LabOrderTest[]): Promise<LabOrder> {
    return {
      ...(await this.orderBase(r)),
      kind: 'lab',
      specimen: { id: r.reqText('specimenId'), type: r.text('specimenType'), collectedAt: r.dateTime('collectedAt'), receivedAt: r.dateTime('receivedAt') },
      tests,
      analyserId: r.text('analyserId'),
    };
  }

  private async toImagingOrder(r: RowReader): Promise<ImagingOrder> {
    const accessionNumber = r.reqText('accessionNumber');
    if (accessionNumber.length > 16) r.fail('accessionNumber', 'accession number longer than 16 characters (DICOM SH)');
    return {
      ...(await this.orderBase(r)),
      kind: 'imaging',
      accessionNumber,
      modality: r.reqText('modality'),
      scheduledStationAeTitle: r.text('stationAeTitle'),
      scheduledStationName: r.text('stationName'),
      scheduledAt: r.dateTime('scheduledAt'),
      requestedProcedure: { code: r.reqText('procedureCode'), description: r.text('procedureDescription') ?? r.reqText('procedureCode'), bhytServiceCode: r.text('bhytServiceCode') },
      bodyPart: r.text('bodyPart'),
      studyInstanceUid: r.text('studyInstanceUid'),
      requestedProcedureId: accessionNumber,
      imageCount: r.int('imageCount'),
      seriesCount: r.int('seriesCount'),
      viewerUrl: r.text('viewerUrl'),
    };
  }

  private async toResult(r: RowReader): Promise<Result> {
    const code = r.reqText('code');
    const deviceId = r.text('deviceId');
    const entry = this.loaded.labCodes.fromAnalyser(code, deviceId);
    const value = r.reqText('value');
    return {
      code,
      hisServiceCode: r.text('hisServiceCode') ?? entry?.hisServiceCode,
      loinc: r.text('loinc') ?? entry?.loinc,
      name: r.text('name') ?? entry?.name,
      value,
      valueType: (r.text('valueType') as Result['valueType']) ?? (/^-?\d+(\.\d+)?$/.test(value) ? 'numeric' : 'text'),
      unit: r.text('unit'),
      referenceRange: { low: r.text('referenceLow'), high: r.text('referenceHigh'), text: r.text('referenceText') },
      abnormalFlag: r.text('abnormalFlag') as Result['abnormalFlag'],
      status: r.reqCode('status') as ResultStatus,
      observedAt: r.reqDateTime('observedAt'),
      resultedAt: r.dateTime('resultedAt'),
      device: deviceId ? { id: deviceId } : undefined,
      operator: r.text('operator') ? { id: r.text('operator')! } : undefined,
      verifiedBy: await this.staffRef(r.text('verifiedBy')),
      comment: r.text('comment'),
    };
  }

  private async toReport(r: RowReader): Promise<ImagingReport> {
    return {
      accessionNumber: r.text('accessionNumber') ?? '',
      findings: r.text('findings') ?? '',
      conclusion: r.text('conclusion') ?? '',
      status: r.reqCode('status') as ResultStatus,
      reportedAt: r.reqDateTime('reportedAt'),
      radiologist: await this.staffRef(r.text('radiologistId')),
      studyInstanceUid: r.text('studyInstanceUid'),
    };
  }

  private toObservation(r: RowReader): Observation {
    const value = r.reqDecimal('value');
    return {
      patientId: r.reqText('patientId'),
      maLk: r.text('maLk'),
      loinc: r.reqCode('code'),
      value: Number(value),
      unit: r.text('unit'),
      effectiveAt: r.reqDateTime('effectiveAt'),
      device: r.text('deviceId') ? { id: r.text('deviceId')! } : undefined,
      location: r.text('location'),
      status: (r.code('status') as Observation['status']) ?? 'final',
    };
  }

  private async toBillingLine(r: RowReader, fixedKind?: BillingLineKind): Promise<BillingLine> {
    const kind = fixedKind ?? (r.reqCode('kind') as BillingLineKind);
    const dec = (field: string) => r.decimal(field) ?? '0';
    const departmentCode = r.text('departmentCode') ?? '';
    const performers = r.list('performerIds');
    const lineNo = r.int('lineNo') ?? r.fail('lineNo', 'required billing line number is empty');
    const bhytCode = r.text('bhytCode') ?? r.text('hisCode') ?? r.fail('bhytCode', 'a billing line needs a BHYT or HIS code');
    return {
      maLk: r.reqText('maLk'),
      lineNo,
      kind,
      maNhom: r.reqText('maNhom'),
      bhytCode,
      hisCode: r.text('hisCode') ?? bhytCode,
      name: r.reqText('name'),
      unit: r.text('unit') ?? '',
      quantity: r.reqDecimal('quantity'),
      unitPrice: r.reqDecimal('unitPrice'),
      bhytUnitPrice: r.decimal('bhytUnitPrice') ?? r.reqDecimal('unitPrice'),
      scope: ((r.text('scope') ?? '1') as BillingLine['scope']),
      coverageRatio: r.int('coverageRatio') ?? 100,
      serviceRatio: r.int('serviceRatio') ?? 100,
      benefitLevel: r.int('benefitLevel') ?? 100,
      amounts: {
        hospital: dec('hospitalAmount'),
        insuranceScope: dec('insuranceAmount'),
        fund: dec('fundAmount'),
        coPayment: dec('coPaymentAmount'),
        selfPay: dec('selfPayAmount'),
        otherSources: dec('otherSourcesAmount'),
      },
      paymentMethodCode: r.text('paymentMethodCode') ?? '1',
      bhytDepartmentCode: r.text('bhytDepartmentCode') ?? (await this.departmentByCode(departmentCode))?.bhytCode ?? '',
      departmentCode,
      orderingStaff: await this.staffRef(r.text('orderingStaffId')),
      performers: performers ? await Promise.all(performers.map(async (id) => (await this.staffRef(id))!)) : undefined,
      orderedAt: r.reqDateTime('orderedAt'),
      performedAt: r.dateTime('performedAt'),
      resultAt: r.dateTime('resultAt'),
      icd10: r.text('icd10'),
      bedCode: r.text('bedCode'),
      machineCode: r.text('machineCode'),
      orderId: r.text('orderId'),
      // Drugs and supplies are both bought by tender (TT_THAU); XML3 needs it for every supply line.
      tender: r.text('tender'),
      drug:
        kind === 'drug'
          ? {
              strength: r.text('strength'),
              routeCode: r.text('routeCode'),
              dosageForm: r.text('dosageForm'),
              dosage: r.text('dosage'),
              instructions: r.text('instructions'),
              registrationNumber: r.text('registrationNumber'),
              tender: r.text('tender'),
              fundingSourceCode: r.text('fundingSourceCode'),
            }
          : undefined,
    };
  }

  // ---------------------------------------------------------------- writes

  /** Sets columns of one entity row by id (own-table columns only; unmapped fields are skipped). */
  private async updateById(tx: SqlExecutor, e: MappedEntity, id: string, values: Record<string, unknown>, bumpVersion: boolean): Promise<number> {
    const params = new Params(this.dialect);
    const sets: string[] = [];
    for (const [field, value] of Object.entries(values)) {
      const column = e.ownColumn(field);
      if (!column || value === undefined) continue;
      sets.push(`${e.q(column)} = ${params.add(value)}`);
    }
    const version = e.ownColumn('version');
    if (bumpVersion && version) sets.push(`${e.q(version)} = COALESCE(${e.q(version)}, 0) + 1`);
    if (!sets.length) return 0;
    const where = [`${e.q(e.requireOwnColumn('id'))} = ${params.add(id)}`, ...Object.entries(e.mapping.where).map(([c, v]) => `${e.q(c)} = ${params.add(v)}`)];
    return tx.run(`UPDATE ${e.q(e.table)} SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`, params.list);
  }

  /** Multi-row INSERT of field→value records (discriminator and insert defaults added). */
  private readonly insertPlans = new Map<string, { fields: string[]; fixedValues: unknown[]; head: string; perRow: number; sql: Map<number, string> }>();

  /** Multi-row INSERT of field→value records (discriminator and insert defaults added); SQL cached per shape. */
  private async insertRows(tx: SqlExecutor, e: MappedEntity, records: Array<Record<string, unknown>>): Promise<void> {
    if (!records.length) return;
    const shape = `${e.name}|${Object.keys(records[0]).join(',')}`;
    let plan = this.insertPlans.get(shape);
    if (!plan) {
      const fixed = { ...e.mapping.insertDefaults, ...e.mapping.where };
      const fields = Object.keys(records[0]).filter((f) => e.ownColumn(f) && !(e.ownColumn(f)! in fixed));
      const columns = [...fields.map((f) => e.ownColumn(f)!), ...Object.keys(fixed)];
      plan = { fields, fixedValues: Object.values(fixed), head: `INSERT INTO ${e.q(e.table)} (${columns.map((c) => e.q(c)).join(', ')}) VALUES `, perRow: columns.length, sql: new Map() };
      this.insertPlans.set(shape, plan);
    }
    const rowsPerStatement = Math.max(1, Math.floor((this.dialect === 'mssql' ? 2000 : 30_000) / plan.perRow));
    for (const part of chunks(records, rowsPerStatement)) {
      let sql = plan.sql.get(part.length);
      if (!sql) {
        const values: string[] = [];
        for (let r = 0; r < part.length; r++) {
          const marks: string[] = [];
          for (let c = 0; c < plan.perRow; c++) marks.push(placeholder(this.dialect, r * plan.perRow + c));
          values.push(`(${marks.join(', ')})`);
        }
        plan.sql.set(part.length, (sql = plan.head + values.join(', ')));
      }
      const params: unknown[] = [];
      for (const rec of part) {
        for (const f of plan.fields) params.push(rec[f] ?? null);
        for (const v of plan.fixedValues) params.push(v);
      }
      await tx.run(sql, params);
    }
  }

  private async findOrdersForWrite(tx: SqlExecutor, ref: { orderId?: string; specimenId?: string; accessionNumber?: string }): Promise<Array<{ kind: 'lab' | 'imaging'; id: string; tests: string[]; patientId: string }>> {
    const lab = this.e.labOrder;
    const img = this.e.imagingOrder;
    const labRows = async (field: string, value: string) => {
      const params = new Params(this.dialect);
      const rows = await tx.rows(`${lab.select(params, [`${lab.col(field)} = ${params.add(value)}`], ['id', 'patientId'])} ORDER BY ${lab.col('id')}`, params.list);
      return rows.map((row) => lab.reader(row));
    };
    if (ref.accessionNumber || (ref.orderId && !ref.specimenId)) {
      if (ref.orderId) {
        const rows = await labRows('id', ref.orderId);
        if (rows.length) return this.withTests(tx, rows);
      }
      const params = new Params(this.dialect);
      const cond = ref.orderId ? `${img.col('id')} = ${params.add(ref.orderId)}` : `${img.col('accessionNumber')} = ${params.add(ref.accessionNumber)}`;
      const rows = (await tx.rows(img.select(params, [cond], ['id', 'patientId']), params.list)).map((row) => img.reader(row));
      return rows.map((r) => ({ kind: 'imaging' as const, id: r.reqText('id'), tests: [], patientId: r.reqText('patientId') }));
    }
    if (ref.specimenId) return this.withTests(tx, await labRows('specimenId', ref.specimenId));
    return [];
  }

  private async withTests(tx: SqlExecutor, rows: RowReader[]) {
    const t = this.e.labOrderTest;
    const ids = rows.map((r) => r.reqText('id'));
    const params = new Params(this.dialect);
    const testRows = (await tx.rows(t.select(params, [`${t.col('orderId')} IN ${params.in(ids)}`], ['orderId', 'hisServiceCode']), params.list)).map((row) => t.reader(row));
    return rows.map((r) => ({
      kind: 'lab' as const,
      id: r.reqText('id'),
      patientId: r.reqText('patientId'),
      tests: testRows.filter((tr) => tr.reqText('orderId') === r.reqText('id')).map((tr) => tr.reqText('hisServiceCode')),
    }));
  }

  async updateOrderStatus(update: OrderStatusUpdate): Promise<void> {
    await this.db.transaction(async (tx) => {
      const orders = await this.findOrdersForWrite(tx, update);
      if (!orders.length) throw new HisNotFoundError(`no order for ${JSON.stringify({ orderId: update.orderId, accessionNumber: update.accessionNumber, specimenId: update.specimenId })}`);
      const at = update.at ? isoToDbDateTime(update.at) : instantToDbDateTime(this.now());
      for (const o of orders) {
        const e = o.kind === 'lab' ? this.e.labOrder : this.e.imagingOrder;
        await this.updateById(
          tx,
          e,
          o.id,
          {
            status: e.toDb('status', update.status),
            updatedAt: at,
            updatedBy: update.by,
            // Imaging only; each is skipped when undefined or when the mapping has no column for it.
            ...(o.kind === 'imaging' ? { studyInstanceUid: update.studyInstanceUid, imageCount: update.imageCount, seriesCount: update.seriesCount, viewerUrl: update.viewerUrl } : {}),
          },
          true,
        );
      }
    });
  }

  async writeResults(batch: ResultBatch, options: WriteOptions = {}): Promise<WriteOutcome> {
    const key = options.idempotencyKey;
    const now = instantToDbDateTime(this.now());
    const prepared = (batch.results ?? []).map((r) => this.prepareResult(r));
    return this.db.transaction(async (tx) => {
      const orders = await this.findOrdersForWrite(tx, batch);
      if (!orders.length) {
        throw new HisNotFoundError(`no order found for ${JSON.stringify({ orderId: batch.orderId, specimenId: batch.specimenId, accessionNumber: batch.accessionNumber })}`);
      }
      const outcome: WriteOutcome = { orderId: orders[0].id, orderIds: [], inserted: 0, updated: 0, superseded: 0, orderStatus: 'completed' };
      // A tube can carry several lab orders: each result goes to the order that requested its service.
      const byOrder = new Map<string, Result[]>();
      for (const result of prepared) {
        const target = orders.find((o) => o.kind === 'lab' && result.hisServiceCode && o.tests.includes(result.hisServiceCode)) ?? orders[0];
        const list = byOrder.get(target.id) ?? [];
        list.push(result);
        byOrder.set(target.id, list);
      }
      for (const [orderId, results] of byOrder) {
        const counts = await this.writeLabResults(tx, orderId, results, key, now);
        outcome.inserted += counts.inserted;
        outcome.updated += counts.updated;
        outcome.superseded += counts.superseded;
        const status = batch.orderStatus ?? (results.every((r) => r.status === 'final' || r.status === 'corrected') ? 'completed' : 'preliminary');
        await this.updateById(tx, this.e.labOrder, orderId, { status: this.e.labOrder.toDb('status', status), updatedAt: now, updatedBy: results[0]?.device?.id }, true);
        await this.markTests(tx, orderId, results, status);
        outcome.orderIds.push(orderId);
        outcome.orderStatus = status;
      }
      if (batch.report) {
        const order = orders.find((o) => o.kind === 'imaging');
        if (!order) throw new HisNotFoundError(`no imaging order for accession ${batch.accessionNumber ?? batch.report.accessionNumber}`);
        const counts = await this.writeReport(tx, order.id, batch.report, key);
        outcome.inserted += counts.inserted;
        outcome.updated += counts.updated;
        outcome.superseded += counts.superseded;
        const status = batch.orderStatus ?? (batch.report.status === 'preliminary' ? 'preliminary' : 'completed');
        await this.updateById(tx, this.e.imagingOrder, order.id, { status: this.e.imagingOrder.toDb('status', status), updatedAt: now, studyInstanceUid: batch.report.studyInstanceUid }, true);
        if (!outcome.orderIds.includes(order.id)) outcome.orderIds.push(order.id);
        outcome.orderId = outcome.orderIds[0];
        outcome.orderStatus = status;
      } else if (!byOrder.size && batch.orderStatus) {
        for (const o of orders) {
          const e = o.kind === 'lab' ? this.e.labOrder : this.e.imagingOrder;
          await this.updateById(tx, e, o.id, { status: e.toDb('status', batch.orderStatus), updatedAt: now }, true);
          outcome.orderIds.push(o.id);
        }
        outcome.orderStatus = batch.orderStatus;
      }
      return outcome;
    });
  }

  /** Fills HIS service code, LOINC, name and unit from the code map; an unknown code is an error. */
  private prepareResult(result: Result): Result {
    const entry = this.loaded.labCodes.fromAnalyser(result.code, result.device?.id) ?? (result.loinc ? this.loaded.labCodes.fromLoinc(result.loinc) : undefined);
    const hisServiceCode = result.hisServiceCode ?? entry?.hisServiceCode;
    if (!hisServiceCode) {
      throw new HisMappingError('code map', 'analyserCode', result.code, `unknown test code${result.device?.id ? ` from analyser ${result.device.id}` : ''}: add it to mappings/codes/lab-tests.yaml`);
    }
    if (!result.value && result.status !== 'cancelled') throw new HisMappingError(this.e.labResult.table, this.e.labResult.ownColumn('value') ?? 'value', result.value, `result ${result.code} has no value`);
    return { ...result, hisServiceCode, loinc: result.loinc ?? entry?.loinc, name: result.name ?? entry?.name, unit: result.unit ?? entry?.unit };
  }

  private resultRecord(orderId: string, r: Result, key: string | undefined, status: ResultStatus): Record<string, unknown> {
    const e = this.e.labResult;
    return {
      orderId,
      code: r.code,
      hisServiceCode: r.hisServiceCode,
      loinc: r.loinc,
      name: r.name,
      value: r.value,
      valueType: r.valueType,
      unit: r.unit,
      referenceLow: r.referenceRange?.low,
      referenceHigh: r.referenceRange?.high,
      referenceText: r.referenceRange?.text,
      abnormalFlag: r.abnormalFlag ?? null,
      status: e.toDb('status', status),
      observedAt: isoToDbDateTime(r.observedAt),
      resultedAt: r.resultedAt ? isoToDbDateTime(r.resultedAt) : null,
      deviceId: r.device?.id,
      operator: r.operator?.id,
      verifiedBy: r.verifiedBy?.id,
      comment: r.comment,
      messageKey: key,
    };
  }

  private async writeLabResults(tx: SqlExecutor, orderId: string, results: Result[], key: string | undefined, now: string) {
    const e = this.e.labResult;
    const params = new Params(this.dialect);
    const fields = ['id', 'code', 'status', 'value', 'messageKey'].filter((f) => e.has(f));
    const existing = (
      await tx.rows(e.select(params, [`${e.col('orderId')} = ${params.add(orderId)}`, `${e.col('status')} <> ${params.add(e.toDb('status', 'superseded'))}`], fields), params.list)
    ).map((row) => e.reader(row));
    const current = new Map(existing.map((r) => [r.reqText('code'), r]));
    const inserts: Array<Record<string, unknown>> = [];
    let updated = 0;
    let superseded = 0;
    void now;
    for (const r of results) {
      const prior = current.get(r.code);
      const record = this.resultRecord(orderId, r, key, r.status);
      if (!prior) {
        inserts.push(record);
        continue;
      }
      const priorStatus = prior.reqCode('status') as ResultStatus;
      const sameMessage = key !== undefined && e.has('messageKey') && prior.text('messageKey') === key;
      const replacesFinal = r.status === 'corrected' && (priorStatus === 'final' || priorStatus === 'corrected') && !sameMessage;
      const sameCorrection = !e.has('messageKey') && priorStatus === 'corrected' && prior.text('value') === r.value;
      if (replacesFinal && !sameCorrection) {
        await this.updateResultRow(tx, prior, { status: e.toDb('status', 'superseded') });
        superseded++;
        inserts.push(record);
      } else {
        await this.updateResultRow(tx, prior, record);
        updated++;
      }
      current.delete(r.code);
    }
    await this.insertRows(tx, e, inserts);
    return { inserted: inserts.length, updated, superseded };
  }

  /** Updates one result row, by its id column when mapped, else by (order, code, current status). */
  private async updateResultRow(tx: SqlExecutor, prior: RowReader, values: Record<string, unknown>): Promise<void> {
    const e = this.e.labResult;
    const params = new Params(this.dialect);
    const sets = Object.entries(values)
      .filter(([f, v]) => v !== undefined && e.ownColumn(f) && f !== 'orderId' && f !== 'code')
      .map(([f, v]) => `${e.q(e.ownColumn(f)!)} = ${params.add(v)}`);
    if (!sets.length) return;
    const where = e.has('id')
      ? [`${e.q(e.requireOwnColumn('id'))} = ${params.add(prior.raw('id'))}`]
      : [`${e.q(e.requireOwnColumn('code'))} = ${params.add(prior.reqText('code'))}`, `${e.q(e.requireOwnColumn('status'))} = ${params.add(e.toDb('status', prior.reqCode('status')))}`];
    await tx.run(`UPDATE ${e.q(e.table)} SET ${sets.join(', ')} WHERE ${where.join(' AND ')}`, params.list);
  }

  private async markTests(tx: SqlExecutor, orderId: string, results: Result[], status: OrderStatus): Promise<void> {
    const t = this.e.labOrderTest;
    const statusColumn = t.ownColumn('status');
    if (!statusColumn) return;
    const codes = [...new Set(results.map((r) => r.hisServiceCode!).filter(Boolean))];
    if (!codes.length) return;
    const params = new Params(this.dialect);
    await tx.run(
      `UPDATE ${t.q(t.table)} SET ${t.q(statusColumn)} = ${params.add(t.toDb('status', status))} WHERE ${t.q(t.requireOwnColumn('orderId'))} = ${params.add(orderId)} AND ${t.q(t.requireOwnColumn('hisServiceCode'))} IN ${params.in(codes)}`,
      params.list,
    );
  }

  private async writeReport(tx: SqlExecutor, orderId: string, report: ImagingReport, key: string | undefined) {
    const e = this.e.imagingReport;
    const params = new Params(this.dialect);
    const fields = ['id', 'status', 'messageKey', 'orderId'].filter((f) => e.has(f));
    const [prior] = (
      await tx.rows(e.select(params, [`${e.col('orderId')} = ${params.add(orderId)}`, `${e.col('status')} <> ${params.add(e.toDb('status', 'superseded'))}`], fields), params.list)
    ).map((row) => e.reader(row));
    const record = {
      orderId,
      accessionNumber: report.accessionNumber,
      findings: report.findings,
      conclusion: report.conclusion,
      status: e.toDb('status', report.status),
      reportedAt: isoToDbDateTime(report.reportedAt),
      radiologistId: report.radiologist?.id,
      studyInstanceUid: report.studyInstanceUid,
      messageKey: key,
    };
    const updateWhere = (p: Params) =>
      e.has('id') ? `${e.q(e.requireOwnColumn('id'))} = ${p.add(prior!.raw('id'))}` : `${e.q(e.requireOwnColumn('orderId'))} = ${p.add(orderId)} AND ${e.q(e.requireOwnColumn('status'))} = ${p.add(e.toDb('status', prior!.reqCode('status')))}`;
    if (!prior) {
      await this.insertRows(tx, e, [record]);
      return { inserted: 1, updated: 0, superseded: 0 };
    }
    const priorStatus = prior.reqCode('status');
    const sameMessage = key !== undefined && e.has('messageKey') && prior.text('messageKey') === key;
    if (report.status === 'corrected' && (priorStatus === 'final' || priorStatus === 'corrected') && !sameMessage) {
      const p = new Params(this.dialect);
      await tx.run(`UPDATE ${e.q(e.table)} SET ${e.q(e.requireOwnColumn('status'))} = ${p.add(e.toDb('status', 'superseded'))} WHERE ${updateWhere(p)}`, p.list);
      await this.insertRows(tx, e, [record]);
      return { inserted: 1, updated: 0, superseded: 1 };
    }
    const p = new Params(this.dialect);
    const sets = Object.entries(record)
      .filter(([f, v]) => v !== undefined && e.ownColumn(f) && f !== 'orderId')
      .map(([f, v]) => `${e.q(e.ownColumn(f)!)} = ${p.add(v)}`);
    await tx.run(`UPDATE ${e.q(e.table)} SET ${sets.join(', ')} WHERE ${updateWhere(p)}`, p.list);
    return { inserted: 0, updated: 1, superseded: 0 };
  }

  async writeObservations(observations: Observation[]): Promise<number> {
    const e = this.e.vital;
    const flat: Array<Record<string, unknown>> = [];
    for (const o of observations) {
      const parts = o.components?.length ? o.components.map((c) => ({ loinc: c.loinc, value: c.value, unit: c.unit })) : [{ loinc: o.loinc, value: o.value, unit: o.unit }];
      for (const part of parts) {
        if (part.value === undefined || !Number.isFinite(part.value)) throw new HisMappingError(e.table, e.ownColumn('value') ?? 'value', part.value ?? null, `observation ${part.loinc} has no numeric value`);
        flat.push({
          patientId: o.patientId,
          maLk: o.maLk,
          code: e.toDb('code', part.loinc),
          value: String(part.value),
          unit: part.unit,
          effectiveAt: isoToDbDateTime(o.effectiveAt),
          deviceId: o.device?.id,
          location: o.location,
          status: e.has('status') ? e.toDb('status', o.status) : undefined,
        });
      }
    }
    return this.db.transaction(async (tx) => {
      const fresh: Array<Record<string, unknown>> = [];
      for (const rec of flat) {
        const params = new Params(this.dialect);
        const where = [`${e.col('patientId')} = ${params.add(rec.patientId)}`, `${e.col('code')} = ${params.add(rec.code)}`, `${e.col('effectiveAt')} = ${params.add(rec.effectiveAt)}`];
        if (e.has('deviceId')) where.push(rec.deviceId ? `${e.col('deviceId')} = ${params.add(rec.deviceId)}` : `${e.col('deviceId')} IS NULL`);
        const found = await tx.rows(withLimit(this.dialect, `${e.select(params, where, ['patientId'])} ORDER BY 1`, 1), params.list);
        if (!found.length) fresh.push(rec);
      }
      await this.insertRows(tx, e, fresh);
      return fresh.length;
    });
  }
}

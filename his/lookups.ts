// The HIS as other connectors see it: a service registered under HIS_SERVICE that answers in the
// canonical model. HL7/ASTM look orders up by specimen, DICOM builds its worklist from scheduled
// imaging orders, claims read visits and billing lines, IoMT writes vitals. The implementation
// (connectors/his-db) reads any hospital schema through a YAML mapping.
import type {
  BillingLine,
  DateTimeString,
  Department,
  Facility,
  IdentifierSystem,
  ImagingOrder,
  ImagingReport,
  LabOrder,
  Modality,
  Observation,
  Order,
  OrderStatus,
  Patient,
  Result,
  ResultBatch,
  Staff,
  Visit,
  VisitDocuments,
} from '../model';

/** The name other connectors pass to `ctx.lookup<HisLookups>(HIS_SERVICE)`. */
export const HIS_SERVICE = 'his';

/** Patient search by one identifier; without a system every identifier system is tried. */
export interface IdentifierQuery {
  system?: IdentifierSystem;
  value: string;
}

/** Filter for the DICOM modality worklist (all criteria AND-ed; absent = any). */
export interface WorklistFilter {
  /** Scheduled start window (inclusive from, exclusive to). Default: today in hospital time. */
  from?: DateTimeString;
  to?: DateTimeString;
  modality?: Modality;
  stationAeTitle?: string;
  patientId?: string;
  accessionNumber?: string;
  /** Default: `scheduled` and `arrived`. */
  statuses?: OrderStatus[];
  limit?: number;
}

/** Visits for a claims run: discharged within [from, to). */
export interface ClaimPeriod {
  from: DateTimeString;
  to: DateTimeString;
  /** Default true: only visits with BHYT coverage. */
  insuredOnly?: boolean;
  limit?: number;
  /** Keyset paging: continue after this MA_LK (visits are returned ordered by MA_LK). */
  afterMaLk?: string;
}

/** Finds one order by its HIS id, accession number or specimen id. */
export interface OrderRef {
  orderId?: string;
  accessionNumber?: string;
  specimenId?: string;
}

export interface OrderStatusUpdate extends OrderRef {
  status: OrderStatus;
  /** When it happened (default: now). */
  at?: DateTimeString;
  /** Who or what did it (modality AE title, analyser id, staff id), stored when the mapping has a column. */
  by?: string;
  /** Study Instance UID, set on an imaging order when the modality reports it. */
  studyInstanceUid?: string;
  /** Imaging order, once its study reached us: instances and series received, and where to view it. Stored when the mapping has the columns. */
  imageCount?: number;
  seriesCount?: number;
  viewerUrl?: string;
}

export interface WriteOptions {
  /** Stable id of the message: writing the same key again updates what it wrote, never duplicates. */
  idempotencyKey?: string;
}

export interface WriteOutcome {
  /** The order written (the first one when a specimen carries several orders). */
  orderId: string;
  /** Every order the batch touched (one tube can carry several lab orders). */
  orderIds: string[];
  /** Result rows inserted and updated (a redelivery only updates). */
  inserted: number;
  updated: number;
  /** Earlier final rows marked `superseded` by corrected results. */
  superseded: number;
  orderStatus: OrderStatus;
}

export interface HisLookups {
  facility(): Promise<Facility>;

  patientByIdentifier(query: IdentifierQuery): Promise<Patient | undefined>;
  patientById(maBn: string): Promise<Patient | undefined>;

  visitByMaLk(maLk: string): Promise<Visit | undefined>;
  visitsForPatient(maBn: string): Promise<Visit[]>;
  visitsForClaims(period: ClaimPeriod): Promise<Visit[]>;
  billingLinesForVisit(maLk: string): Promise<BillingLine[]>;
  /** Lab results and imaging reports of a visit (claims XML4). */
  resultsForVisit(maLk: string): Promise<{ results: Array<Result & { orderId: string }>; reports: ImagingReport[] }>;
  observationsForVisit(maLk: string): Promise<Observation[]>;
  /**
   * Referral letter, birth and leave certificates, HIV care and TB records, medical assessment of a
   * visit (claims XML6, XML9–XML13, XML15). Optional: a HIS without them need not implement it.
   */
  documentsForVisit?(maLk: string): Promise<VisitDocuments>;

  orderById(orderId: string): Promise<Order | undefined>;
  /** Every lab order on a specimen (one tube can carry several orders); empty when none. */
  ordersBySpecimen(specimenId: string): Promise<LabOrder[]>;
  orderByAccession(accessionNumber: string): Promise<ImagingOrder | undefined>;
  scheduledImagingOrders(filter?: WorklistFilter): Promise<ImagingOrder[]>;

  updateOrderStatus(update: OrderStatusUpdate): Promise<void>;
  /** Stores the results/report of one order in one transaction and sets the order status. */
  writeResults(batch: ResultBatch, options?: WriteOptions): Promise<WriteOutcome>;
  /** Stores vital signs (idempotent on patient + LOINC + time + device). Returns rows inserted. */
  writeObservations(observations: Observation[]): Promise<number>;

  staffById(id: string): Promise<Staff | undefined>;
  staffByCertificate(practisingCertificate: string): Promise<Staff | undefined>;
  listStaff(): Promise<Staff[]>;
  departmentByCode(code: string): Promise<Department | undefined>;
  listDepartments(): Promise<Department[]>;
}

/** Thrown by lookups and writes when the referenced row does not exist (a permanent error for deliveries). */
export class HisNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'HisNotFoundError';
  }
}

/** A row or value that does not fit the mapping: names the table, column and value. */
export class HisMappingError extends Error {
  constructor(
    readonly table: string,
    readonly column: string,
    readonly value: unknown,
    reason: string,
  ) {
    super(`${table}.${column} = ${JSON.stringify(value)}: ${reason}`);
    this.name = 'HisMappingError';
  }
}

import type { DateTimeString, StaffRef } from './common';

/**
 * Order lifecycle shared by lab and imaging (mapped per hospital to its own status values):
 * - `ordered`: the doctor's chỉ định was entered;
 * - `scheduled`: a time/station was given (imaging worklist: SCHEDULED);
 * - `arrived`: the patient is at the modality (MWL ARRIVED);
 * - `collected`: the specimen was taken / received by the lab;
 * - `in-progress`: the analyser or modality started (MPPS IN PROGRESS);
 * - `preliminary`: some results are in, not all verified;
 * - `completed`: all results final / study done (MPPS COMPLETED);
 * - `discontinued`: started but stopped (MPPS DISCONTINUED);
 * - `cancelled`: withdrawn before it was done.
 */
export type OrderStatus =
  | 'ordered'
  | 'scheduled'
  | 'arrived'
  | 'collected'
  | 'in-progress'
  | 'preliminary'
  | 'completed'
  | 'discontinued'
  | 'cancelled';

export const orderStatuses: readonly OrderStatus[] = [
  'ordered',
  'scheduled',
  'arrived',
  'collected',
  'in-progress',
  'preliminary',
  'completed',
  'discontinued',
  'cancelled',
];

export type OrderPriority = 'routine' | 'urgent' | 'stat';

interface OrderBase {
  /** HIS order id (số phiếu chỉ định), as text whatever the HIS column type. */
  id: string;
  maLk: string;
  patientId: string;
  status: OrderStatus;
  priority: OrderPriority;
  orderedAt: DateTimeString;
  /** Last change in the HIS (drives polling). */
  updatedAt: DateTimeString;
  /** Ordering department (HIS code). */
  departmentCode: string;
  orderingStaff?: StaffRef;
  /** Clinical note / indication (chẩn đoán, lý do chỉ định). */
  clinicalInfo?: string;
}

/** One test requested on a lab order. */
export interface LabOrderTest {
  /** HIS service code (mã dịch vụ in the hospital catalogue). */
  hisServiceCode: string;
  name: string;
  /** National catalogue (DMDC) service code for BHYT claims. */
  bhytServiceCode?: string;
  loinc?: string;
  /** The test code the analyser knows (from the code map), when the order targets one. */
  analyserTestCode?: string;
  status?: OrderStatus;
}

export interface Specimen {
  /** Specimen id printed as the tube barcode (SID). */
  id: string;
  /** Specimen type, e.g. `serum`, `whole-blood`, `urine`. */
  type?: string;
  collectedAt?: DateTimeString;
  receivedAt?: DateTimeString;
}

export interface LabOrder extends OrderBase {
  kind: 'lab';
  specimen: Specimen;
  tests: LabOrderTest[];
  /** Analyser or work area the order is routed to, when the HIS decides it. */
  analyserId?: string;
}

/** DICOM modality codes the demo HIS uses; any other DICOM modality code is allowed too. */
export type Modality = 'CR' | 'DX' | 'CT' | 'MR' | 'US' | 'MG' | 'XA' | 'NM' | 'PT' | 'ES' | (string & {});

export interface ImagingOrder extends OrderBase {
  kind: 'imaging';
  /** Accession number (0008,0050), ≤ 16 characters for DICOM. */
  accessionNumber: string;
  modality: Modality;
  /** Scheduled station AE title (0040,0001). */
  scheduledStationAeTitle?: string;
  scheduledStationName?: string;
  /** Scheduled procedure step start (0040,0002/0003). */
  scheduledAt?: DateTimeString;
  requestedProcedure: { code: string; description: string; bhytServiceCode?: string };
  bodyPart?: string;
  /** Study Instance UID once the HIS or the modality assigned one. */
  studyInstanceUid?: string;
  /** Requested procedure id (0040,1001); defaults to the accession number. */
  requestedProcedureId?: string;
  /** Once the study is complete (written back by the imaging connector): images and series received, and the viewer link. */
  imageCount?: number;
  seriesCount?: number;
  viewerUrl?: string;
}

export type Order = LabOrder | ImagingOrder;

export function isLabOrder(order: Order): order is LabOrder {
  return order.kind === 'lab';
}

export function isImagingOrder(order: Order): order is ImagingOrder {
  return order.kind === 'imaging';
}

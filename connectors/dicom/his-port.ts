// The part of the HIS the imaging connector uses (registered by the HIS connector as service 'his').
import type { HisLookups } from '../../his/lookups';

export { HIS_SERVICE, HisNotFoundError } from '../../his/lookups';
export type { OrderStatusUpdate, WorklistFilter } from '../../his/lookups';
export type { ImagingOrder, Patient, OrderStatus } from '../../model';

export type ImagingHis = Pick<HisLookups, 'scheduledImagingOrders' | 'orderByAccession' | 'updateOrderStatus' | 'patientById'>;

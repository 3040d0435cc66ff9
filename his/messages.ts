// The JSON messages the HIS connector exchanges with channels: orders it emits, and result batches
// and order-status updates it accepts. The zod schemas give a bad message an error naming its field.
import { z } from 'zod';
import { abnormalFlags, orderStatuses, resultStatuses } from '../model';
import type { OrderStatusUpdate } from './lookups';
import type { ResultBatch } from '../model';

/** Content type of an order emitted by the his-db source (body: the canonical Order as JSON). */
export const ORDER_CONTENT_TYPE = 'application/vnd.hisbridge.order+json';
/** Content type the his-db destination accepts: a ResultBatch or an OrderStatusUpdate as JSON. */
export const RESULT_CONTENT_TYPE = 'application/vnd.hisbridge.results+json';

const isoDateTime = z.string().regex(/^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})?$/, 'an ISO 8601 date-time, e.g. 2026-11-22T08:30:00+07:00');
const staffRef = z.object({ id: z.string().min(1), name: z.string().optional(), practisingCertificate: z.string().optional() });

export const resultSchema = z.object({
  code: z.string().min(1),
  hisServiceCode: z.string().optional(),
  loinc: z.string().optional(),
  name: z.string().optional(),
  value: z.string(),
  valueType: z.enum(['numeric', 'text', 'coded']).default('numeric'),
  unit: z.string().optional(),
  referenceRange: z.object({ low: z.string().optional(), high: z.string().optional(), text: z.string().optional() }).optional(),
  abnormalFlag: z.enum(abnormalFlags as [string, ...string[]]).optional(),
  status: z.enum(resultStatuses as [string, ...string[]]),
  observedAt: isoDateTime,
  resultedAt: isoDateTime.optional(),
  device: z.object({ id: z.string().min(1), name: z.string().optional(), bhytMachineCode: z.string().optional() }).optional(),
  operator: staffRef.optional(),
  verifiedBy: staffRef.optional(),
  comment: z.string().optional(),
});

export const resultBatchSchema = z
  .object({
    orderId: z.string().min(1).optional(),
    specimenId: z.string().min(1).optional(),
    accessionNumber: z.string().min(1).optional(),
    results: z.array(resultSchema).optional(),
    report: z
      .object({
        accessionNumber: z.string(),
        findings: z.string(),
        conclusion: z.string(),
        status: z.enum(resultStatuses as [string, ...string[]]),
        reportedAt: isoDateTime,
        radiologist: staffRef.optional(),
        studyInstanceUid: z.string().optional(),
      })
      .optional(),
    orderStatus: z.enum(orderStatuses as [string, ...string[]]).optional(),
  })
  .refine((b) => b.orderId || b.specimenId || b.accessionNumber, { message: 'name the order: orderId, specimenId or accessionNumber' })
  .refine((b) => b.results?.length || b.report || b.orderStatus, { message: 'nothing to write: give results, report or orderStatus' });

export const orderStatusUpdateSchema = z
  .object({
    type: z.literal('order-status'),
    orderId: z.string().min(1).optional(),
    specimenId: z.string().min(1).optional(),
    accessionNumber: z.string().min(1).optional(),
    status: z.enum(orderStatuses as [string, ...string[]]),
    at: isoDateTime.optional(),
    by: z.string().optional(),
    studyInstanceUid: z.string().optional(),
    imageCount: z.number().int().min(0).optional(),
    seriesCount: z.number().int().min(0).optional(),
    viewerUrl: z.string().optional(),
  })
  .refine((b) => b.orderId || b.specimenId || b.accessionNumber, { message: 'name the order: orderId, specimenId or accessionNumber' });

export type HisInbound = { kind: 'results'; batch: ResultBatch } | { kind: 'status'; update: OrderStatusUpdate };

/** Parses a destination message; throws an Error naming the field that is wrong. */
export function parseHisMessage(content: Buffer | string): HisInbound {
  let data: unknown;
  try {
    data = JSON.parse(typeof content === 'string' ? content : content.toString('utf8'));
  } catch (err) {
    throw new Error(`not JSON: ${(err as Error).message}`);
  }
  const isStatus = typeof data === 'object' && data !== null && (data as { type?: unknown }).type === 'order-status';
  const parsed = isStatus ? orderStatusUpdateSchema.safeParse(data) : resultBatchSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`${issue.path.join('.') || '(message)'}: ${issue.message}`);
  }
  if (isStatus) {
    const { type: _type, ...update } = parsed.data as z.infer<typeof orderStatusUpdateSchema>;
    return { kind: 'status', update: update as OrderStatusUpdate };
  }
  return { kind: 'results', batch: parsed.data as ResultBatch };
}

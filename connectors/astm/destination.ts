// Batch order download (LIS2-A2 broadcast mode): a channel carrying HIS orders delivers them to an
// analyser that expects unsolicited H, P, O, L messages, over the line its `astm` source holds.
// Content: SpecimenOrders as JSON (`{ specimenId, patient?, orders }`) or one canonical LabOrder.
import { z } from 'zod';
import { PermanentDeliveryError, type ConnectorServices, type DeliveryContext, type DeliveryResult, type DestinationConnector, type OutboundMessage } from '../../engine/connectors/types';
import type { HisLookups } from '../../his/lookups';
import type { LabOrder } from '../../model';
import type { SpecimenOrders } from './hostQuery';
import { liveAstmSources } from './source';

export const astmDownloadConfigSchema = z.object({
  /** The analyser id of the `astm` source whose line carries the orders. */
  analyzerId: z.string().min(1),
  /** Service used to add the patient when the content is a bare LabOrder. */
  lookupService: z.string().default('his'),
});
export type AstmDownloadConfig = z.infer<typeof astmDownloadConfigSchema>;

export class AstmOrderDownload implements DestinationConnector {
  private services?: ConnectorServices;
  constructor(private readonly config: AstmDownloadConfig) {}

  async start(services: ConnectorServices): Promise<void> {
    this.services = services;
  }

  async send(message: OutboundMessage, _context: DeliveryContext): Promise<DeliveryResult> {
    const source = liveAstmSources.get(this.config.analyzerId);
    if (!source) throw new Error(`no astm source for analyser ${this.config.analyzerId} is running`);
    if (!source.analyserProfile.orderDownload) {
      throw new PermanentDeliveryError(`analyser profile ${source.analyserProfile.id} does not accept order download (orderDownload: false)`);
    }
    let data: unknown;
    try {
      data = JSON.parse(message.content.toString('utf8'));
    } catch (error) {
      throw new PermanentDeliveryError(`order download content is not JSON: ${(error as Error).message}`);
    }
    const entry = await this.toSpecimenOrders(data);
    const cancel = entry.orders.every((o) => o.status === 'cancelled');
    await source.downloadOrders([entry], { cancel });
    return { response: `${cancel ? 'cancellation' : 'orders'} for specimen ${entry.specimenId} acknowledged by ${this.config.analyzerId}` };
  }

  private async toSpecimenOrders(data: unknown): Promise<SpecimenOrders> {
    const d = data as Partial<SpecimenOrders & LabOrder>;
    if (Array.isArray(d.orders) && typeof d.specimenId === 'string') return d as SpecimenOrders;
    if (d.kind === 'lab' && d.specimen?.id && Array.isArray(d.tests)) {
      const order = d as LabOrder;
      const his = this.services?.lookup<HisLookups>(this.config.lookupService);
      const patient = his ? await his.patientById(order.patientId) : undefined;
      return { specimenId: order.specimen.id, patient, orders: [order] };
    }
    throw new PermanentDeliveryError('order download content must be { specimenId, orders[] } or a lab order (kind "lab" with specimen.id and tests)');
  }
}

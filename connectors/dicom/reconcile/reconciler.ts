// Study ↔ HIS order reconciliation. A new study is matched by accession number; failing that, by
// patient id + modality + scheduled date, which must give exactly one order. Anything else goes to
// the exception list with the reason (no order, several orders, accession unknown to the HIS) and
// is retried while the HIS is unreachable. A study is complete when its MPPS is COMPLETED and every
// instance the MPPS lists has arrived, or when no instance arrived for the quiet period; then the
// HIS order is updated (status, Study Instance UID, image count, viewer link) through the outbox.
import type { Logger } from 'winston';
import type { DicomIndex, StudyRow } from '../storage/index-db';
import type { HisOutbox } from '../his-outbox';
import type { ImagingHis, ImagingOrder, OrderStatus } from '../his-port';
import { fromHospitalParts, toHospitalDateTime } from '../../../model/datetime';

export interface StudyCompletion {
  study: StudyRow;
  instances: number;
  series: number;
  reason: string;
  viewerUrl?: string;
}

export interface ReconcilerOptions {
  quietPeriodMs: number;
  viewerUrlTemplate?: string;
  fallbackStatuses: string[];
  /** How often pending work (quiet studies, HIS retries) is checked. */
  tickMs?: number;
}

export interface ReconcilerEvents {
  reconciled?(study: StudyRow, order: ImagingOrder | undefined, method: string | undefined, exception?: string): void;
  completed?(completion: StudyCompletion): void;
  /** Runs before the HIS update of a completed study (e.g. the thumbnail). */
  beforeComplete?(study: StudyRow): Promise<void>;
}

export class Reconciler {
  private timer?: NodeJS.Timeout;
  private readonly inFlight = new Map<string, Promise<void>>();
  /** Instances an MPPS COMPLETED listed, per study, still awaited before the study is complete. */
  private readonly expected = new Map<string, { instances: Set<string>; mppsUid: string }>();
  private stopped = false;

  constructor(
    private readonly index: DicomIndex,
    private readonly his: () => ImagingHis | undefined,
    private readonly outbox: HisOutbox,
    private readonly options: ReconcilerOptions,
    private readonly log: Logger,
    private readonly events: ReconcilerEvents = {},
  ) {}

  start(): void {
    this.stopped = false;
    const tick = this.options.tickMs ?? Math.max(200, Math.min(5000, this.options.quietPeriodMs / 4));
    this.timer = setInterval(() => void this.tick(), tick);
    this.timer.unref();
    for (const studyUid of this.index.studiesPendingReconciliation()) this.schedule(studyUid);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    await Promise.allSettled([...this.inFlight.values()]);
  }

  /** After an instance was indexed. */
  instanceStored(studyUid: string, sopInstanceUid: string, newStudy: boolean): void {
    if (newStudy) this.schedule(studyUid);
    const waiting = this.expected.get(studyUid);
    if (waiting) {
      waiting.instances.delete(sopInstanceUid);
      if (waiting.instances.size === 0) this.scheduleCompletion(studyUid, `MPPS ${waiting.mppsUid} completed and all its instances arrived`);
    }
  }

  /** An MPPS COMPLETED for these studies listing these instances. */
  mppsCompleted(mppsUid: string, studyUids: string[], instanceUids: string[]): void {
    for (const studyUid of studyUids) {
      const study = this.index.study(studyUid);
      if (study) this.index.setStudyMpps(studyUid, mppsUid);
      if (instanceUids.length === 0) {
        // The MPPS lists no instances: we cannot tell when they have all arrived; the quiet period decides.
        continue;
      }
      const have = new Set(this.index.instancesOfStudy(studyUid).map((i) => i.sop_instance_uid));
      const missing = new Set(instanceUids.filter((uid) => !have.has(uid)));
      if (study && missing.size === 0) this.scheduleCompletion(studyUid, `MPPS ${mppsUid} completed and all its instances arrived`);
      else this.expected.set(studyUid, { instances: missing, mppsUid });
    }
  }

  /** Matches one study now (also used to retry). */
  reconcile(studyUid: string): Promise<void> {
    return this.serial(studyUid, () => this.match(studyUid));
  }

  private schedule(studyUid: string): void {
    void this.reconcile(studyUid).catch((err) => this.log.error(`reconciliation of study ${studyUid} failed: ${(err as Error).message}`));
  }

  private scheduleCompletion(studyUid: string, reason: string): void {
    this.expected.delete(studyUid);
    void this.serial(studyUid, () => this.complete(studyUid, reason)).catch((err) => this.log.error(`completing study ${studyUid} failed: ${(err as Error).message}`));
  }

  /** One operation per study at a time, in order. */
  private serial(studyUid: string, work: () => Promise<void>): Promise<void> {
    const previous = this.inFlight.get(studyUid) ?? Promise.resolve();
    const next = previous.then(work, work);
    const tracked = next.finally(() => {
      if (this.inFlight.get(studyUid) === tracked) this.inFlight.delete(studyUid);
    });
    this.inFlight.set(studyUid, tracked);
    return next;
  }

  private async match(studyUid: string): Promise<void> {
    const study = this.index.study(studyUid);
    if (!study || study.reconciliation === 'matched') return;
    const his = this.his();
    if (!his) return; // stays pending; retried on tick
    const now = new Date().toISOString();
    let order: ImagingOrder | undefined;
    let method: string | undefined;
    let exception: string | undefined;
    try {
      if (study.accession) {
        order = await his.orderByAccession(study.accession);
        if (order) method = 'accession';
      }
      if (!order) {
        const fallback = await this.byPatientModalityDate(his, study);
        if (fallback.order) {
          order = fallback.order;
          method = 'patient+modality+date';
        } else {
          exception = study.accession ? `accession number ${study.accession} is not known to the HIS; ${fallback.why}` : `no accession number; ${fallback.why}`;
        }
      }
    } catch (err) {
      this.log.warn(`reconciliation of study ${studyUid} postponed: HIS lookup failed: ${(err as Error).message}`);
      return; // stays pending
    }
    if (order) {
      this.index.setReconciliation(studyUid, 'matched', order.id, method ?? null);
      this.index.resolveException(studyUid, `matched to order ${order.id} by ${method}`, now);
    } else {
      this.index.setReconciliation(studyUid, 'unmatched', null, null);
      this.index.raiseException(studyUid, exception!, now);
      this.log.warn(`study ${studyUid} not reconciled: ${exception}`);
    }
    const updated = this.index.study(studyUid)!;
    this.events.reconciled?.(updated, order, method, exception);
    // A study completed before it was matched gets its HIS update now.
    if (order && updated.state === 'complete') this.enqueueHisUpdate(updated, order.id);
  }

  private async byPatientModalityDate(his: ImagingHis, study: StudyRow): Promise<{ order?: ImagingOrder; why: string }> {
    if (!study.patient_id || !study.modality || !study.study_date || !/^\d{8}$/.test(study.study_date)) {
      return { why: `cannot fall back to patient + modality + date (patient ${study.patient_id ?? '?'}, modality ${study.modality ?? '?'}, date ${study.study_date ?? '?'})` };
    }
    const y = Number(study.study_date.slice(0, 4));
    const m = Number(study.study_date.slice(4, 6));
    const d = Number(study.study_date.slice(6, 8));
    const orders = await his.scheduledImagingOrders({
      patientId: study.patient_id,
      modality: study.modality,
      from: toHospitalDateTime(fromHospitalParts(y, m, d)),
      to: toHospitalDateTime(fromHospitalParts(y, m, d + 1)),
      statuses: this.options.fallbackStatuses as OrderStatus[],
    });
    const scope = `patient ${study.patient_id}, modality ${study.modality}, date ${study.study_date}`;
    if (orders.length === 1) return { order: orders[0], why: '' };
    if (orders.length === 0) return { why: `no scheduled order for ${scope}` };
    return { why: `${orders.length} orders for ${scope} (${orders.map((o) => o.accessionNumber).join(', ')}): ambiguous` };
  }

  private async tick(): Promise<void> {
    if (this.stopped) return;
    const cutoff = new Date(Date.now() - this.options.quietPeriodMs).toISOString();
    for (const studyUid of this.index.studiesQuietSince(cutoff)) {
      if (this.inFlight.has(studyUid)) continue;
      this.scheduleCompletion(studyUid, `no new instance for ${Math.round(this.options.quietPeriodMs / 1000)} s`);
    }
    if (this.his()) for (const studyUid of this.index.studiesPendingReconciliation()) if (!this.inFlight.has(studyUid)) this.schedule(studyUid);
  }

  private async complete(studyUid: string, reason: string): Promise<void> {
    const before = this.index.study(studyUid);
    if (!before || before.state === 'complete') return;
    if (!this.index.completeStudy(studyUid, reason, new Date().toISOString())) return;
    const study = this.index.study(studyUid)!;
    try {
      await this.events.beforeComplete?.(study);
    } catch (err) {
      this.log.warn(`post-processing of study ${studyUid} failed: ${(err as Error).message}`);
    }
    const counts = this.index.counts(studyUid);
    const finalStudy = this.index.study(studyUid)!;
    if (finalStudy.order_id) this.enqueueHisUpdate(finalStudy, finalStudy.order_id);
    this.events.completed?.({ study: finalStudy, instances: counts.instances, series: counts.series, reason, viewerUrl: this.viewerUrl(finalStudy) });
  }

  viewerUrl(study: StudyRow): string | undefined {
    const template = this.options.viewerUrlTemplate;
    if (!template) return undefined;
    return template.replace(/\{studyUid\}/g, encodeURIComponent(study.study_uid)).replace(/\{accession\}/g, encodeURIComponent(study.accession ?? ''));
  }

  private enqueueHisUpdate(study: StudyRow, orderId: string): void {
    const counts = this.index.counts(study.study_uid);
    this.outbox.enqueue(`study:${study.study_uid}:completed`, {
      orderId,
      status: 'completed',
      studyInstanceUid: study.study_uid,
      by: study.calling_ae ?? undefined,
      imageCount: counts.instances,
      seriesCount: counts.series,
      viewerUrl: this.viewerUrl(study),
    });
  }
}

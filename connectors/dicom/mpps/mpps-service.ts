// Modality Performed Procedure Step SCP (PS3.4 Annex F): N-CREATE starts a step IN PROGRESS; N-SET
// updates it and may end it COMPLETED or DISCONTINUED; after that it is frozen. Statuses:
//   N-CREATE with another status          → 0106 Invalid Attribute Value
//   N-CREATE without a status             → 0120 Missing Attribute
//   N-CREATE of an existing instance      → 0111 Duplicate SOP Instance
//   N-SET of an unknown instance          → 0112 No Such Object Instance
//   N-SET with an unknown status value    → 0106 Invalid Attribute Value
//   N-SET after COMPLETED/DISCONTINUED    → 0110 Processing Failure, Error ID A710
//                                           ("Performed Procedure Step Object may no longer be updated")
import { newUid, isValidUid } from '../dataset/uid';
import { textValue, type Naturalized } from '../worklist/matching';
import { MppsMayNoLongerBeUpdatedErrorId, Status } from '../dimse/uids';
import { mppsStatuses, type MppsRecord, type MppsStatus, type MppsStore } from './mpps-store';
import type { CommandElements } from '../dimse/command-codec';

export interface MppsOutcome {
  response: CommandElements & { Status: number };
  /** The step after the operation, when it changed. */
  record?: MppsRecord;
  previousStatus?: MppsStatus;
}

export class MppsService {
  constructor(
    private readonly store: MppsStore,
    private readonly now: () => Date = () => new Date(),
  ) {}

  create(requestedUid: string | undefined, attributes: Naturalized, callingAe: string): MppsOutcome {
    const uid = requestedUid && requestedUid.trim() !== '' ? requestedUid.trim() : newUid();
    if (!isValidUid(uid)) return fail(Status.InvalidArgumentValue, `Affected SOP Instance UID "${uid}" is not a valid UID`, uid);
    if (!('PerformedProcedureStepStatus' in attributes)) {
      return { response: { Status: Status.MissingAttribute, AffectedSOPInstanceUID: uid, ErrorComment: 'Performed Procedure Step Status (0040,0252) is missing', OffendingElement: ['00400252'] } };
    }
    const status = textValue(attributes.PerformedProcedureStepStatus).toUpperCase();
    if (status !== 'IN PROGRESS') {
      return {
        response: {
          Status: Status.InvalidAttributeValue,
          AffectedSOPInstanceUID: uid,
          ErrorComment: `N-CREATE requires Performed Procedure Step Status IN PROGRESS, got "${status}"`,
          OffendingElement: ['00400252'],
        },
      };
    }
    const at = this.now().toISOString();
    const record: MppsRecord = { uid, status: 'IN PROGRESS', callingAe, createdAt: at, updatedAt: at, attributes: stripInternal(attributes) };
    if (!this.store.create(record)) return fail(Status.DuplicateSopInstance, `Performed Procedure Step ${uid} already exists`, uid);
    return { response: { Status: Status.Success, AffectedSOPInstanceUID: uid }, record };
  }

  set(uid: string | undefined, changes: Naturalized): MppsOutcome {
    if (!uid) return fail(Status.NoSuchObjectInstance, 'N-SET without a Requested SOP Instance UID', undefined);
    const existing = this.store.get(uid);
    if (!existing) return fail(Status.NoSuchObjectInstance, `no Performed Procedure Step ${uid}`, uid);
    if (existing.status !== 'IN PROGRESS') {
      return {
        response: {
          Status: Status.ProcessingFailure,
          ErrorID: MppsMayNoLongerBeUpdatedErrorId,
          ErrorComment: `Performed Procedure Step Object may no longer be updated (it is ${existing.status})`,
          AffectedSOPInstanceUID: uid,
        },
      };
    }
    let status: MppsStatus = existing.status;
    if ('PerformedProcedureStepStatus' in changes) {
      const requested = textValue(changes.PerformedProcedureStepStatus).toUpperCase();
      if (requested !== '') {
        if (!mppsStatuses.includes(requested as MppsStatus)) {
          return {
            response: {
              Status: Status.InvalidAttributeValue,
              AffectedSOPInstanceUID: uid,
              ErrorComment: `Performed Procedure Step Status "${requested}" is not IN PROGRESS, COMPLETED or DISCONTINUED`,
              OffendingElement: ['00400252'],
            },
          };
        }
        status = requested as MppsStatus;
      }
    }
    // N-SET replaces the attributes it carries (a sequence is always sent whole, PS3.4 F.7.2.2).
    const attributes = { ...existing.attributes, ...stripInternal(changes), PerformedProcedureStepStatus: status };
    const at = this.now().toISOString();
    this.store.update(uid, status, attributes, at);
    return {
      response: { Status: Status.Success, AffectedSOPInstanceUID: uid },
      record: { ...existing, status, attributes, updatedAt: at },
      previousStatus: existing.status,
    };
  }
}

function fail(status: number, comment: string, uid: string | undefined): MppsOutcome {
  return { response: { Status: status, ErrorComment: comment, AffectedSOPInstanceUID: uid } };
}

function stripInternal(attributes: Naturalized): Naturalized {
  const { _vrMap, _meta, ...rest } = attributes as Naturalized & { _vrMap?: unknown; _meta?: unknown };
  void _vrMap;
  void _meta;
  return rest;
}

/** What an MPPS says about the order(s) it performed and the instances it produced. */
export interface MppsSummary {
  accessionNumbers: string[];
  studyInstanceUids: string[];
  requestedProcedureIds: string[];
  /** SOP Instance UIDs listed in Performed Series Sequence (images and non-images). */
  instanceUids: string[];
  performedStationAe?: string;
  startedAt?: string;
  endedAt?: string;
  discontinuationReason?: string;
}

export function summariseMpps(attributes: Naturalized): MppsSummary {
  const ssa = Array.isArray(attributes.ScheduledStepAttributesSequence) ? (attributes.ScheduledStepAttributesSequence as Naturalized[]) : [];
  const uniq = (xs: string[]) => [...new Set(xs.filter((x) => x !== ''))];
  const instanceUids: string[] = [];
  for (const series of Array.isArray(attributes.PerformedSeriesSequence) ? (attributes.PerformedSeriesSequence as Naturalized[]) : []) {
    for (const key of ['ReferencedImageSequence', 'ReferencedNonImageCompositeSOPInstanceSequence']) {
      for (const ref of Array.isArray(series[key]) ? (series[key] as Naturalized[]) : []) {
        const uid = textValue(ref.ReferencedSOPInstanceUID);
        if (uid) instanceUids.push(uid);
      }
    }
  }
  const reason = Array.isArray(attributes.PerformedProcedureStepDiscontinuationReasonCodeSequence)
    ? textValue((attributes.PerformedProcedureStepDiscontinuationReasonCodeSequence as Naturalized[])[0]?.CodeMeaning)
    : '';
  return {
    accessionNumbers: uniq(ssa.map((s) => textValue(s.AccessionNumber))),
    studyInstanceUids: uniq(ssa.map((s) => textValue(s.StudyInstanceUID))),
    requestedProcedureIds: uniq(ssa.map((s) => textValue(s.RequestedProcedureID))),
    instanceUids: uniq(instanceUids),
    performedStationAe: textValue(attributes.PerformedStationAETitle) || undefined,
    startedAt: dicomDateTime(textValue(attributes.PerformedProcedureStepStartDate), textValue(attributes.PerformedProcedureStepStartTime)),
    endedAt: dicomDateTime(textValue(attributes.PerformedProcedureStepEndDate), textValue(attributes.PerformedProcedureStepEndTime)),
    discontinuationReason: reason || undefined,
  };
}

/** DA + TM in hospital time → ISO date-time with +07:00, or undefined. */
export function dicomDateTime(date: string, time: string): string | undefined {
  const d = /^(\d{4})(\d{2})(\d{2})$/.exec(date.trim());
  if (!d) return undefined;
  const t = /^(\d{2})(\d{2})?(\d{2})?/.exec(time.replace(/:/g, '').trim());
  const [hh, mm, ss] = t ? [t[1], t[2] ?? '00', t[3] ?? '00'] : ['00', '00', '00'];
  return `${d[1]}-${d[2]}-${d[3]}T${hh}:${mm}:${ss}+07:00`;
}

// `hisbridge sim modality`: a modality that does what a real one does with the engine — query the
// worklist for its station, start an MPPS, acquire (synthetic) images for the order, C-STORE them,
// and complete (or discontinue) the MPPS listing what it produced.
import type tls from 'node:tls';
import { parseArgs, type CliCommand } from '../../engine/cli/types';
import { TLS_FLAGS, clientTlsFromFlags } from '../../connectors/dicom/cli';
import { AssociationRequestor } from '../../connectors/dicom/dimse/requestor';
import { CommandField, SopClass, Status, TransferSyntax, statusHex } from '../../connectors/dicom/dimse/uids';
import { createMpps, findOn, setMpps, worklistIdentifier } from '../../connectors/dicom/scu';
import { readPart10Layout } from '../../connectors/dicom/dataset/part10';
import { syntheticImage } from '../../connectors/dicom/dataset/synthetic';
import { newUid } from '../../connectors/dicom/dataset/uid';
import { textValue, type Naturalized } from '../../connectors/dicom/worklist/matching';
import { hospitalParts } from '../../model/datetime';

export interface ModalitySimulationOptions {
  host: string;
  port: number;
  /** The engine's AE title. */
  calledAeTitle: string;
  /** This modality's AE title (its worklist is the orders scheduled for this station). */
  stationAeTitle: string;
  /** Restrict the worklist query to a modality (default: any). */
  modality?: string;
  /** Scheduled date YYYYMMDD (default today, hospital time). */
  date?: string;
  /** Orders to perform from the worklist (default 1). */
  orders?: number;
  imagesPerOrder?: number;
  /** `ct`: 512×512 16-bit slices (~0.5 MB); `small`: 8×8 secondary captures. */
  imageKind?: 'ct' | 'small';
  /** End the MPPS COMPLETED (default) or DISCONTINUED. */
  outcome?: 'completed' | 'discontinued';
  /** DICOM over TLS: the client side of the handshake. */
  tls?: tls.ConnectionOptions;
  log?: (line: string) => void;
}

export interface SimulatedOrder {
  accessionNumber: string;
  patientId: string;
  patientName: string;
  studyInstanceUid: string;
  mppsUid: string;
  images: number;
  stored: number;
  mppsCreateStatus: number;
  mppsSetStatus: number;
}

export interface ModalitySimulationResult {
  worklistItems: number;
  orders: SimulatedOrder[];
}

const pad = (n: number) => String(n).padStart(2, '0');

function today(): { date: string; time: string } {
  const p = hospitalParts(new Date());
  return { date: `${p.year}${pad(p.month)}${pad(p.day)}`, time: `${pad(p.hour)}${pad(p.minute)}${pad(p.second)}` };
}

export async function simulateModality(options: ModalitySimulationOptions): Promise<ModalitySimulationResult> {
  const log = options.log ?? (() => undefined);
  const kind = options.imageKind ?? 'ct';
  const imageClass = kind === 'ct' ? SopClass.CtImageStorage : SopClass.SecondaryCaptureImageStorage;
  const native = [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian];
  const association = await AssociationRequestor.connect({
    host: options.host,
    port: options.port,
    callingAeTitle: options.stationAeTitle,
    calledAeTitle: options.calledAeTitle,
    tls: options.tls,
    contexts: [
      { abstractSyntax: SopClass.ModalityWorklistFind, transferSyntaxes: native },
      { abstractSyntax: SopClass.ModalityPerformedProcedureStep, transferSyntaxes: native },
      { abstractSyntax: imageClass, transferSyntaxes: [TransferSyntax.ExplicitVRLittleEndian] },
    ],
  });
  const result: ModalitySimulationResult = { worklistItems: 0, orders: [] };
  try {
    const items = await findOn(association, worklistIdentifier({ stationAeTitle: options.stationAeTitle, modality: options.modality, date: options.date ?? today().date }));
    result.worklistItems = items.length;
    log(`worklist for ${options.stationAeTitle}: ${items.length} item(s)`);
    for (const item of items.slice(0, options.orders ?? 1)) result.orders.push(await performOrder(association, item, options, kind, imageClass, log));
  } finally {
    await association.release().catch(() => undefined);
  }
  return result;
}

async function performOrder(
  association: AssociationRequestor,
  item: Naturalized,
  options: ModalitySimulationOptions,
  kind: 'ct' | 'small',
  imageClass: string,
  log: (line: string) => void,
): Promise<SimulatedOrder> {
  const sps = (Array.isArray(item.ScheduledProcedureStepSequence) ? item.ScheduledProcedureStepSequence[0] : {}) as Naturalized;
  const accessionNumber = textValue(item.AccessionNumber);
  const patientName = textValue(item.PatientName);
  const patientId = textValue(item.PatientID);
  const studyInstanceUid = textValue(item.StudyInstanceUID) || newUid();
  const modality = textValue(sps.Modality) || options.modality || 'OT';
  const started = today();
  const mppsUid = newUid();
  const scheduledStep = {
    StudyInstanceUID: studyInstanceUid,
    AccessionNumber: accessionNumber,
    RequestedProcedureID: textValue(item.RequestedProcedureID),
    RequestedProcedureDescription: textValue(item.RequestedProcedureDescription),
    ScheduledProcedureStepID: textValue(sps.ScheduledProcedureStepID),
    ScheduledProcedureStepDescription: textValue(sps.ScheduledProcedureStepDescription),
  };
  const created = await createMpps(association, mppsUid, {
    SpecificCharacterSet: 'ISO_IR 192',
    ScheduledStepAttributesSequence: [scheduledStep],
    PatientName: patientName ? [{ Alphabetic: patientName }] : '',
    PatientID: patientId,
    PatientBirthDate: textValue(item.PatientBirthDate),
    PatientSex: textValue(item.PatientSex),
    PerformedProcedureStepID: accessionNumber.slice(0, 16) || mppsUid.slice(-16),
    PerformedStationAETitle: options.stationAeTitle,
    PerformedStationName: '',
    PerformedLocation: '',
    PerformedProcedureStepStartDate: started.date,
    PerformedProcedureStepStartTime: started.time,
    PerformedProcedureStepStatus: 'IN PROGRESS',
    PerformedProcedureStepDescription: scheduledStep.RequestedProcedureDescription,
    PerformedProcedureStepEndDate: '',
    PerformedProcedureStepEndTime: '',
    Modality: modality,
    StudyID: accessionNumber.slice(0, 16),
    PerformedSeriesSequence: [],
  });
  log(`${accessionNumber} ${patientName}: MPPS N-CREATE ${statusHex(created.status)}`);

  const seriesInstanceUid = newUid();
  const references: Array<{ ReferencedSOPClassUID: string; ReferencedSOPInstanceUID: string }> = [];
  let stored = 0;
  const count = options.imagesPerOrder ?? 3;
  const context = association.findContext(imageClass, TransferSyntax.ExplicitVRLittleEndian);
  if (!context) throw new Error(`${options.calledAeTitle} did not accept ${imageClass}`);
  for (let i = 1; i <= count; i++) {
    const image = syntheticImage(
      {
        patientId,
        patientName,
        birthDate: textValue(item.PatientBirthDate),
        sex: textValue(item.PatientSex),
        studyInstanceUid,
        accessionNumber,
        studyDate: started.date,
        studyTime: started.time,
        studyDescription: scheduledStep.RequestedProcedureDescription,
        modality,
        requestedProcedureId: scheduledStep.RequestedProcedureID,
        scheduledProcedureStepId: scheduledStep.ScheduledProcedureStepID,
        performedProcedureStepUid: mppsUid,
      },
      { seriesInstanceUid, instanceNumber: i, kind },
    );
    const layout = readPart10Layout(image.bytes);
    const responses = await association.request(
      context.id,
      { CommandField: CommandField.CStoreRequest, AffectedSOPClassUID: image.sopClassUid, AffectedSOPInstanceUID: image.sopInstanceUid, Priority: 0 },
      image.bytes.subarray(layout.datasetOffset),
    );
    const status = Number(responses[responses.length - 1].command.Status);
    if (status === Status.Success) stored++;
    else log(`${accessionNumber}: C-STORE of image ${i} answered ${statusHex(status)}`);
    references.push({ ReferencedSOPClassUID: image.sopClassUid, ReferencedSOPInstanceUID: image.sopInstanceUid });
  }
  log(`${accessionNumber}: ${stored}/${count} images stored`);

  const ended = today();
  const final = options.outcome === 'discontinued' ? 'DISCONTINUED' : 'COMPLETED';
  const changes: Naturalized = {
    PerformedProcedureStepStatus: final,
    PerformedProcedureStepEndDate: ended.date,
    PerformedProcedureStepEndTime: ended.time,
    PerformedSeriesSequence: [
      {
        PerformingPhysicianName: '',
        ProtocolName: scheduledStep.RequestedProcedureDescription || 'SIMULATED',
        OperatorsName: '',
        SeriesInstanceUID: seriesInstanceUid,
        SeriesDescription: 'hisbridge simulator',
        RetrieveAETitle: '',
        ReferencedImageSequence: references,
        ReferencedNonImageCompositeSOPInstanceSequence: [],
      },
    ],
  };
  if (final === 'DISCONTINUED') {
    changes.PerformedProcedureStepDiscontinuationReasonCodeSequence = [{ CodeValue: '110514', CodingSchemeDesignator: 'DCM', CodeMeaning: 'Incorrect worklist entry selected' }];
  }
  const set = await setMpps(association, mppsUid, changes);
  log(`${accessionNumber}: MPPS N-SET ${final} ${statusHex(set.status)}`);
  return { accessionNumber, patientId, patientName, studyInstanceUid, mppsUid, images: count, stored, mppsCreateStatus: created.status, mppsSetStatus: set.status };
}

export const modalitySimVerb: CliCommand = {
  usage: `modality --host H --port P --called-aet C --aet STATION [--modality CT] [--date YYYYMMDD] [--orders N] [--images N] [--small] [--discontinue] ${TLS_FLAGS}   act as a modality: worklist, MPPS, images`,
  async run(args) {
    const { flags } = parseArgs(args);
    const text = (k: string) => (typeof flags[k] === 'string' ? (flags[k] as string) : undefined);
    const station = text('aet');
    if (!station) {
      process.stderr.write('sim modality: --aet STATION (the modality AE title whose worklist to perform) is required\n');
      return 2;
    }
    try {
      const host = text('host') ?? '127.0.0.1';
      const result = await simulateModality({
        host,
        tls: clientTlsFromFlags(flags, host),
        port: Number(text('port') ?? 11112),
        calledAeTitle: text('called-aet') ?? 'HISBRIDGE',
        stationAeTitle: station,
        modality: text('modality'),
        date: text('date'),
        orders: Number(text('orders') ?? 1),
        imagesPerOrder: Number(text('images') ?? 3),
        imageKind: flags.small ? 'small' : 'ct',
        outcome: flags.discontinue ? 'discontinued' : 'completed',
        log: (line) => process.stderr.write(`${line}\n`),
      });
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return result.orders.every((o) => o.mppsCreateStatus === 0 && o.mppsSetStatus === 0 && o.stored === o.images) ? 0 : 1;
    } catch (err) {
      process.stderr.write(`sim modality failed: ${(err as Error).message}\n`);
      return 1;
    }
  },
};

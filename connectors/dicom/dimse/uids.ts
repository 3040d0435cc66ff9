// UIDs and status codes the connector uses (PS3.4, PS3.5, PS3.6, PS3.7), named once.
import { constants } from './library';

export const SopClass = {
  Verification: '1.2.840.10008.1.1',
  ModalityWorklistFind: '1.2.840.10008.5.1.4.31',
  ModalityPerformedProcedureStep: '1.2.840.10008.3.1.2.3.3',
  StorageCommitmentPushModel: '1.2.840.10008.1.20.1',
  StudyRootFind: '1.2.840.10008.5.1.4.1.2.2.1',
  SecondaryCaptureImageStorage: '1.2.840.10008.5.1.4.1.1.7',
  CtImageStorage: '1.2.840.10008.5.1.4.1.1.2',
} as const;

/** The well-known SOP Instance of the Storage Commitment Push Model (PS3.4 J.3.5). */
export const StorageCommitmentInstance = '1.2.840.10008.1.20.1.1';

export const TransferSyntax = {
  ImplicitVRLittleEndian: '1.2.840.10008.1.2',
  ExplicitVRLittleEndian: '1.2.840.10008.1.2.1',
  DeflatedExplicitVRLittleEndian: '1.2.840.10008.1.2.1.99',
  ExplicitVRBigEndian: '1.2.840.10008.1.2.2',
  JpegBaseline: '1.2.840.10008.1.2.4.50',
  JpegExtended: '1.2.840.10008.1.2.4.51',
  JpegLosslessFirstOrder: '1.2.840.10008.1.2.4.70',
  JpegLsLossless: '1.2.840.10008.1.2.4.80',
  JpegLsLossy: '1.2.840.10008.1.2.4.81',
  Jpeg2000Lossless: '1.2.840.10008.1.2.4.90',
  Jpeg2000: '1.2.840.10008.1.2.4.91',
  RleLossless: '1.2.840.10008.1.2.5',
} as const;

/** Transfer syntaxes accepted for storage unless configured otherwise: native first, then the encapsulated ones stored as received. */
export const defaultStorageTransferSyntaxes: string[] = [
  TransferSyntax.ExplicitVRLittleEndian,
  TransferSyntax.ImplicitVRLittleEndian,
  TransferSyntax.JpegLosslessFirstOrder,
  TransferSyntax.JpegBaseline,
  TransferSyntax.JpegExtended,
  TransferSyntax.JpegLsLossless,
  TransferSyntax.JpegLsLossy,
  TransferSyntax.Jpeg2000Lossless,
  TransferSyntax.Jpeg2000,
  TransferSyntax.RleLossless,
];

/** Transfer syntaxes for everything that is not storage (commands' datasets are parsed by us). */
export const defaultServiceTransferSyntaxes: string[] = [TransferSyntax.ExplicitVRLittleEndian, TransferSyntax.ImplicitVRLittleEndian];

/** Every storage SOP class dcmjs-dimse knows, plus a few it lacks, accepted by default. */
export const storageSopClasses: string[] = [
  ...new Set([
    ...Object.values(constants.StorageClass as Record<string, string>),
    '1.2.840.10008.5.1.4.1.1.7', // Secondary Capture
    '1.2.840.10008.5.1.4.1.1.6.1', // Ultrasound
    '1.2.840.10008.5.1.4.1.1.3.1', // Ultrasound Multi-frame
    '1.2.840.10008.5.1.4.1.1.128', // PET
    '1.2.840.10008.5.1.4.1.1.20', // NM
    '1.2.840.10008.5.1.4.1.1.481.1', // RT Image
    '1.2.840.10008.5.1.4.1.1.88.67', // X-Ray Radiation Dose SR
    '1.2.840.10008.5.1.4.1.1.11.1', // Grayscale Softcopy Presentation State
    '1.2.840.10008.5.1.4.1.1.104.1', // Encapsulated PDF
    '1.2.840.10008.5.1.4.1.1.77.1.4', // VL Photographic
  ]),
];

export const CommandField = {
  CStoreRequest: 0x0001,
  CStoreResponse: 0x8001,
  CGetRequest: 0x0010,
  CFindRequest: 0x0020,
  CFindResponse: 0x8020,
  CMoveRequest: 0x0021,
  CEchoRequest: 0x0030,
  CEchoResponse: 0x8030,
  NEventReportRequest: 0x0100,
  NEventReportResponse: 0x8100,
  NGetRequest: 0x0110,
  NSetRequest: 0x0120,
  NSetResponse: 0x8120,
  NActionRequest: 0x0130,
  NActionResponse: 0x8130,
  NCreateRequest: 0x0140,
  NCreateResponse: 0x8140,
  NDeleteRequest: 0x0150,
  CCancelRequest: 0x0fff,
} as const;

/** DIMSE status codes (PS3.7 Annex C, PS3.4 service-specific). */
export const Status = {
  Success: 0x0000,
  Pending: 0xff00,
  PendingWarning: 0xff01,
  Cancel: 0xfe00,
  // PS3.7 C.4 general failures
  ProcessingFailure: 0x0110,
  DuplicateSopInstance: 0x0111,
  NoSuchObjectInstance: 0x0112,
  NoSuchEventType: 0x0113,
  NoSuchArgument: 0x0114,
  InvalidArgumentValue: 0x0115,
  InvalidAttributeValue: 0x0106,
  InvalidObjectInstance: 0x0117,
  NoSuchSopClass: 0x0118,
  ClassInstanceConflict: 0x0119,
  MissingAttribute: 0x0120,
  MissingAttributeValue: 0x0121,
  SopClassNotSupported: 0x0122,
  NoSuchActionType: 0x0123,
  NotAuthorized: 0x0124,
  DuplicateInvocation: 0x0210,
  UnrecognizedOperation: 0x0211,
  MistypedArgument: 0x0212,
  ResourceLimitation: 0x0213,
  // C-STORE (PS3.4 B.2.3)
  StoreOutOfResources: 0xa700,
  StoreDataSetDoesNotMatchSopClass: 0xa900,
  StoreCannotUnderstand: 0xc000,
  // C-FIND (PS3.4 C.4.1.1.4)
  FindOutOfResources: 0xa700,
  FindIdentifierDoesNotMatchSopClass: 0xa900,
  FindUnableToProcess: 0xc000,
  // Storage Commitment failure reasons (PS3.4 J.3.2.1.1, Failure Reason (0008,1197))
  CommitmentProcessingFailure: 0x0110,
  CommitmentNoSuchObjectInstance: 0x0112,
  CommitmentResourceLimitation: 0x0213,
  CommitmentReferencedSopClassNotSupported: 0x0122,
  CommitmentClassInstanceConflict: 0x0119,
  CommitmentDuplicateTransactionUid: 0x0131,
} as const;

/** Error ID (0000,0903) sent with 0110H when an MPPS is no longer IN PROGRESS (PS3.4 F.7.2.2.2); 0xC310 is the UPS equivalent, not MPPS. */
export const MppsMayNoLongerBeUpdatedErrorId = 0xa710;

export function statusHex(status: number): string {
  return `0x${status.toString(16).toUpperCase().padStart(4, '0')}`;
}

/** A-ASSOCIATE-RJ values (PS3.8 9.3.4). */
export const Reject = {
  ResultPermanent: 1,
  ResultTransient: 2,
  SourceServiceUser: 1,
  SourceServiceProviderAcse: 2,
  SourceServiceProviderPresentation: 3,
  ReasonNoReasonGiven: 1,
  ReasonApplicationContextNotSupported: 2,
  ReasonCallingAeNotRecognized: 3,
  ReasonCalledAeNotRecognized: 7,
  /** With source 3 (service provider, presentation): temporary congestion. */
  ReasonTemporaryCongestion: 1,
  ReasonLocalLimitExceeded: 2,
} as const;

/** A-ABORT values (PS3.8 9.3.8). */
export const Abort = {
  SourceServiceUser: 0,
  SourceServiceProvider: 2,
  ReasonNotSpecified: 0,
  ReasonUnrecognizedPdu: 1,
  ReasonUnexpectedPdu: 2,
  ReasonUnrecognizedPduParameter: 4,
  ReasonUnexpectedPduParameter: 5,
  ReasonInvalidPduParameter: 6,
} as const;

/** Presentation context results (PS3.8 9.3.3.2). */
export const ContextResult = {
  Accept: 0,
  UserRejection: 1,
  NoReason: 2,
  AbstractSyntaxNotSupported: 3,
  TransferSyntaxesNotSupported: 4,
} as const;

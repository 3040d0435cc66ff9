// Configuration of the `dicom` source (our SCP: worklist, MPPS, storage, commitment) and the
// `dicom-forward` destination (C-STORE to the PACS). Validated with zod; every field has a default
// except the AE titles that must be chosen deliberately.
import { z } from 'zod';
import { defaultStorageTransferSyntaxes } from './dimse/uids';
// The same TLS settings as the MLLP connectors (files relative to the engine's certs folder).
import { tlsOptionsSchema } from '../hl7/mllp/tls';

const aeTitle = z
  .string()
  .min(1)
  .max(16, 'an AE title has at most 16 characters')
  .regex(/^[\x20-\x5b\x5d-\x7e]+$/, 'an AE title is printable ASCII without backslash')
  .refine((s) => s.trim().length > 0, 'an AE title cannot be blank');

export const serviceNames = ['echo', 'worklist', 'mpps', 'store', 'commitment'] as const;
export type ServiceName = (typeof serviceNames)[number];

export const remoteAeSchema = z.object({
  aeTitle,
  /** Addresses it may call from: IPs or IPv4 CIDR blocks (`10.0.5.0/24`); omit to allow any address. */
  addresses: z.array(z.string().min(1)).optional(),
  /** Host and port where it listens (needed to send it Storage Commitment reports on a new association). */
  host: z.string().optional(),
  port: z.number().int().min(1).max(65535).optional(),
  role: z.enum(['modality', 'pacs', 'workstation']).default('modality'),
  /** Services it may use; omit for all. */
  services: z.array(z.enum(serviceNames)).optional(),
  /** Worklist names folded to ASCII (đ→d, diacritics dropped) for modalities without ISO_IR 192. */
  asciiNames: z.boolean().default(false),
  /**
   * With mutual TLS on the listener: the client certificate CNs this AE may present. A calling AE
   * title that arrives with another certificate, or none, is rejected (calling AE not recognized).
   */
  tlsSubjects: z.array(z.string().min(1)).optional(),
  /** Call it back (commitment reports on a new association) over TLS with these settings. */
  tls: tlsOptionsSchema.optional(),
  description: z.string().optional(),
});
export type RemoteAe = z.infer<typeof remoteAeSchema>;

export const dicomSourceSchema = z.object({
  /** Our AE title; a calling AE must address us by it (unless `acceptAnyCalledAe`). */
  aeTitle,
  /** Interface to bind (127.0.0.1 unless the modalities are on another host). */
  host: z.string().default('127.0.0.1'),
  port: z.number().int().min(0).max(65535).default(11112),
  /**
   * DICOM over TLS on this listener. `{ enabled: true }` uses the engine's generated server.crt/server.key;
   * `clientCertificates: 'required'` makes it mutual TLS, checked against caFile (default the engine's ca.crt).
   */
  tls: tlsOptionsSchema.optional(),
  acceptAnyCalledAe: z.boolean().default(false),
  /** Known remote AEs; an unknown calling AE is rejected (calling AE title not recognized) unless `allowUnknownAes`. */
  remotes: z.array(remoteAeSchema).default([]),
  allowUnknownAes: z.boolean().default(false),
  /** Largest P-DATA-TF PDU we accept (our Maximum Length). */
  maxPduLength: z.number().int().min(4096).max(16 * 1024 * 1024).default(256 * 1024),
  maxAssociations: z.number().int().min(1).max(1000).default(32),
  associationTimeoutMs: z.number().int().min(100).default(30_000),
  idleTimeoutMs: z.number().int().min(100).default(300_000),
  storage: z
    .object({
      enabled: z.boolean().default(true),
      /** Folder for files and the index; default `<dataDir>/dicom/<channel id>`. */
      dir: z.string().optional(),
      /** Storage SOP classes accepted: `all` (every storage class we know) or a list of UIDs. */
      sopClasses: z.union([z.literal('all'), z.array(z.string())]).default('all'),
      transferSyntaxes: z.array(z.string()).default(defaultStorageTransferSyntaxes),
      /** Datasets up to this size are written at once; larger ones stream to disk as they arrive. */
      memoryThresholdBytes: z.number().int().min(0).default(4 * 1024 * 1024),
      /** PNG thumbnail of a representative image when a study completes. */
      thumbnails: z.boolean().default(true),
    })
    .default({ enabled: true, sopClasses: 'all', transferSyntaxes: defaultStorageTransferSyntaxes, memoryThresholdBytes: 4 * 1024 * 1024, thumbnails: true }),
  worklist: z
    .object({
      enabled: z.boolean().default(true),
      /** Seconds a worklist snapshot from the HIS is served before it is refreshed (0 = ask the HIS every query). */
      cacheSeconds: z.number().min(0).default(5),
      /** Serve a stale snapshot while refreshing, up to this age; older, the query waits for the HIS. */
      maxStaleSeconds: z.number().min(0).default(60),
      /** Days before/after today the snapshot covers; queries outside it go to the HIS directly. */
      daysBefore: z.number().int().min(0).default(1),
      daysAfter: z.number().int().min(0).default(7),
      /** Most items returned for one query (C-FIND answers A700 "out of resources" beyond it). */
      maxResults: z.number().int().min(1).default(1000),
    })
    .default({ enabled: true, cacheSeconds: 5, maxStaleSeconds: 60, daysBefore: 1, daysAfter: 7, maxResults: 1000 }),
  mpps: z.object({ enabled: z.boolean().default(true) }).default({ enabled: true }),
  commitment: z
    .object({
      enabled: z.boolean().default(true),
      /** Send the N-EVENT-REPORT on the requesting association when it is still open; otherwise (or with `new-association`) call the requester back. */
      report: z.enum(['same-association', 'new-association']).default('same-association'),
    })
    .default({ enabled: true, report: 'same-association' }),
  reconciliation: z
    .object({
      /** A study with no new instance for this long is complete (when no MPPS completed it first). */
      quietPeriodSeconds: z.number().min(0).default(120),
      /** Viewer link given to the HIS, with {studyUid} and {accession} placeholders. */
      viewerUrlTemplate: z.string().optional(),
      /** Order statuses the patient + modality + date fallback considers. */
      fallbackStatuses: z.array(z.string()).default(['scheduled', 'arrived', 'in-progress']),
    })
    .default({ quietPeriodSeconds: 120, fallbackStatuses: ['scheduled', 'arrived', 'in-progress'] }),
  /** Which events become channel messages: every stored instance (for forwarding), MPPS, completed studies, exceptions. */
  emit: z
    .object({
      instances: z.boolean().default(true),
      mpps: z.boolean().default(false),
      studies: z.boolean().default(false),
      exceptions: z.boolean().default(false),
    })
    .default({ instances: true, mpps: false, studies: false, exceptions: false }),
});
export type DicomSourceConfig = z.infer<typeof dicomSourceSchema>;
export type DicomSourceInput = z.input<typeof dicomSourceSchema>;

export const dicomForwardSchema = z.object({
  host: z.string().min(1),
  port: z.number().int().min(1).max(65535),
  /** The PACS's AE title. */
  calledAeTitle: aeTitle,
  /** Our AE title towards the PACS. */
  callingAeTitle: aeTitle,
  /** Associations kept open to the PACS (instances are sent one at a time on each). */
  maxAssociations: z.number().int().min(1).max(16).default(2),
  /** Close an association unused for this long. */
  idleCloseMs: z.number().int().min(0).default(10_000),
  connectTimeoutMs: z.number().int().min(100).default(10_000),
  /** Per-response timeout. */
  responseTimeoutMs: z.number().int().min(100).default(60_000),
  maxPduLength: z.number().int().min(4096).max(16 * 1024 * 1024).default(256 * 1024),
  /** DICOM over TLS to the PACS: caFile to trust its certificate, certFile/keyFile when it requires ours. */
  tls: tlsOptionsSchema.optional(),
});
export type DicomForwardConfig = z.infer<typeof dicomForwardSchema>;

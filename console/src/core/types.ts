// Shapes of what the engine's REST API returns (see engine/api/server.ts and GET /api/openapi.json).
// Kept here, not imported from the engine, so the browser bundle never pulls in server code.

export type Role = 'admin' | 'operator' | 'viewer' | 'clinician';
export const roles: Role[] = ['admin', 'operator', 'viewer', 'clinician'];

export type Permission =
  | 'channels:read'
  | 'channels:control'
  | 'messages:read'
  | 'messages:content'
  | 'messages:reprocess'
  | 'dlq:manage'
  | 'users:manage'
  | 'audit:read'
  | 'devices:manage'
  | 'emr:read'
  | 'claims:read'
  | 'claims:submit';

export interface Me {
  username: string;
  role: Role;
  displayName: string | null;
  disabled: boolean;
  createdAt: string;
  permissions: Permission[];
}

export type StatEvent = 'received' | 'filtered' | 'errored' | 'queued' | 'sent' | 'retried' | 'dead';

export interface Percentiles {
  p50: number | null;
  p95: number | null;
  p99: number | null;
}

export interface ChannelStats {
  counters: Record<StatEvent, number>;
  ratesPerSecond: Record<'received' | 'sent' | 'errored', number>;
  ackLatencyMs: Percentiles;
  deliveryLatencyMs: Percentiles;
  lastMessageAt: string | null;
  lastError: { at: string; message: string } | null;
}

export type ConnectionState = string;

export interface Connection {
  id: string;
  state: ConnectionState;
  detail?: string;
  since: string;
  counters?: Record<string, number>;
}

export interface ChannelSummary {
  id: string;
  name: string;
  description: string | null;
  state: 'started' | 'paused' | 'stopped' | 'failed' | 'undeployed';
  stateDetail: string | null;
  sourceFile: string | null;
  deployedAt: string;
  storage: 'full' | 'raw' | 'metadata';
  source: { connector: string };
  destinations: Array<{ name: string; connector: string; paused: boolean; inFlight: number; queue: Record<string, unknown> }>;
  connections: Connection[];
  stats: ChannelStats;
}

export interface ChannelProblem {
  file: string;
  channelId?: string;
  field: string;
  message: string;
}

export interface ChannelList {
  channels: ChannelSummary[];
  /** Channels the engine's channel files define that are not deployed (older engines omit it). */
  undeployed?: Array<{ id: string; name: string; sourceFile: string; deployed: false }>;
  problems: ChannelProblem[];
  connectorTypes: string[];
}

export interface QueueDepth {
  channelId: string;
  destination: string;
  queued: number;
  dead: number;
  oldestQueuedAt: string | null;
}

export interface Alert {
  id: string;
  channelId: string;
  kind: string;
  severity: 'warning' | 'critical';
  message: string;
  raisedAt: string;
  acknowledged: boolean;
}

export const messageStatuses = ['RECEIVED', 'FILTERED', 'QUEUED', 'SENT', 'ERROR', 'DEAD'] as const;
export type MessageStatus = (typeof messageStatuses)[number];

export interface Correlation {
  patientId?: string;
  accession?: string;
  controlId?: string;
  messageType?: string;
  specimenId?: string;
  deviceId?: string;
  [key: string]: string | undefined;
}

export interface StoredMessage {
  id: number;
  channelId: string;
  receivedAt: string;
  status: MessageStatus;
  contentType: string;
  size: number;
  origin: Record<string, string>;
  correlation: Correlation;
  meta: Record<string, string>;
  error: string | null;
  generation: number;
}

export interface MessageContent {
  stage: string;
  contentType: string;
  size: number;
  text: string | null;
  base64: string | null;
}

export interface MessageDetail extends StoredMessage {
  contents: MessageContent[];
  contentHidden: boolean;
  destinations: Array<{ destination: string; status: string; attempts: number; lastError: string | null; updatedAt: string }>;
  attempts: Array<{ destination: string; attempt: number; at: string; ok: boolean; response: string | null; error: string | null; durationMs: number }>;
}

export interface DeadLetter {
  queueId: number;
  messageId: number;
  channelId: string;
  destination: string;
  attempts: number;
  lastError: string | null;
  diedAt: string;
  correlation: Correlation;
}

export interface User {
  username: string;
  role: Role;
  displayName: string | null;
  disabled: boolean;
  createdAt: string;
}

export interface ApiToken {
  id: number;
  username: string;
  name: string | null;
  createdAt: string;
  expiresAt: string | null;
  lastUsedAt: string | null;
}

export interface AuditEntry {
  id: number;
  at: string;
  username: string;
  action: string;
  target: string | null;
  patientId: string | null;
  detail: string | null;
  remote: string | null;
}

/** A decoded message stage as a tree (GET /api/messages/{id}/tree). */
export interface TreeNode {
  /** Position or key: `PID`, `PID-5`, `PID-5.1`, `R[2]-4`, `(0010,0010)`, `patientId`. */
  label: string;
  /** Human name of the position (`Patient Name`, `Family Name`, `PatientName`). */
  name?: string;
  value?: string;
  children?: TreeNode[];
}

export interface ContentTree {
  stage: string;
  format: 'hl7v2' | 'astm' | 'dicom' | 'json' | 'xml' | 'text' | 'binary';
  summary: string | null;
  error: string | null;
  nodes: TreeNode[];
}

// The IoMT database: one SQLite file (better-sqlite3, WAL) in the engine's data folder holding the device
// registry, bindings, the vitals time series and its 1-minute rollups, NEWS2 scores, alerts and the
// quarantine. Readings are stored one row per (device message, time): one column per vital sign, so a
// 5-parameter monitor frame costs one row, not five.
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { VitalSign } from './vitals';

export type IomtDatabase = Database.Database;

/** Reading columns per sign (numeric signs are REAL; ACVPU text; oxygen 0/1). */
export const SIGN_COLUMNS: Record<VitalSign, string> = {
  'heart-rate': 'hr',
  'pulse-rate': 'pr',
  'respiratory-rate': 'rr',
  spo2: 'spo2',
  temperature: 'temp',
  'systolic-bp': 'sbp',
  'diastolic-bp': 'dbp',
  'mean-bp': 'map',
  consciousness: 'acvpu',
  'supplemental-oxygen': 'o2',
  'oxygen-flow': 'o2flow',
};
export const NUMERIC_SIGNS: VitalSign[] = ['heart-rate', 'pulse-rate', 'respiratory-rate', 'spo2', 'temperature', 'systolic-bp', 'diastolic-bp', 'mean-bp', 'oxygen-flow'];
const valueColumns = Object.values(SIGN_COLUMNS);

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS devices (
  id TEXT PRIMARY KEY,
  name TEXT,
  model TEXT,
  site TEXT,
  ward TEXT,
  bed TEXT,
  -- 'manual': bound only by an explicit bind; 'bed': follows the HIS bed assignment of its bed.
  bind_mode TEXT NOT NULL DEFAULT 'manual',
  -- 'registered' by an operator, 'discovered' (sent data before anyone registered it), 'retired'.
  status TEXT NOT NULL DEFAULT 'registered',
  silent_after_ms INTEGER,
  rate_per_s REAL,
  created_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  last_seen_at INTEGER,
  last_topic TEXT
);

CREATE TABLE IF NOT EXISTS bindings (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL,
  visit_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  patient_name TEXT,
  site TEXT,
  ward TEXT,
  bed TEXT,
  source TEXT NOT NULL,
  started_at INTEGER NOT NULL,
  ended_at INTEGER,
  ended_reason TEXT,
  created_by TEXT,
  created_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS bindings_device ON bindings(device_id, started_at);
CREATE INDEX IF NOT EXISTS bindings_visit ON bindings(visit_id);

CREATE TABLE IF NOT EXISTS visits (
  visit_id TEXT PRIMARY KEY,
  patient_id TEXT NOT NULL,
  patient_name TEXT,
  site TEXT,
  ward TEXT,
  bed TEXT,
  spo2_scale INTEGER NOT NULL DEFAULT 1,
  spo2_scale_set_by TEXT,
  updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- The idempotency gate: a (device, message id) at its time is processed once, whatever it turned
-- into. Keyed by the message's day first, so expiring old keys is a range delete, not a table scan.
CREATE TABLE IF NOT EXISTS seen_messages (
  day INTEGER NOT NULL,
  device_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  PRIMARY KEY (day, device_id, message_id)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS readings (
  id INTEGER PRIMARY KEY,
  visit_id TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  binding_id INTEGER,
  device_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  t INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  ${valueColumns.map((c) => `${c} ${c === 'acvpu' ? 'TEXT' : c === 'o2' ? 'INTEGER' : 'REAL'}`).join(',\n  ')}
);
CREATE INDEX IF NOT EXISTS readings_visit_t ON readings(visit_id, t);

CREATE TABLE IF NOT EXISTS unassigned (
  id INTEGER PRIMARY KEY,
  device_id TEXT NOT NULL,
  message_id TEXT NOT NULL,
  t INTEGER NOT NULL,
  received_at INTEGER NOT NULL,
  reason TEXT NOT NULL,
  site TEXT,
  ward TEXT,
  bed TEXT,
  -- set when an operator later attributes the held reading to a visit (copied into readings then)
  assigned_visit_id TEXT,
  assigned_by TEXT,
  ${valueColumns.map((c) => `${c} ${c === 'acvpu' ? 'TEXT' : c === 'o2' ? 'INTEGER' : 'REAL'}`).join(',\n  ')}
);
CREATE INDEX IF NOT EXISTS unassigned_device_t ON unassigned(device_id, t);

CREATE TABLE IF NOT EXISTS quarantine (
  id INTEGER PRIMARY KEY,
  received_at INTEGER NOT NULL,
  device_id TEXT,
  message_id TEXT,
  topic TEXT,
  kind TEXT NOT NULL,
  reason TEXT NOT NULL,
  -- the first bytes of what was received (whole payload when small)
  payload BLOB,
  payload_size INTEGER,
  occurrences INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX IF NOT EXISTS quarantine_received ON quarantine(received_at);
CREATE INDEX IF NOT EXISTS quarantine_device ON quarantine(device_id, received_at);

-- 1-minute rollups of numeric signs; coarser series are aggregated from these at query time.
CREATE TABLE IF NOT EXISTS rollups_1m (
  visit_id TEXT NOT NULL,
  sign TEXT NOT NULL,
  bucket INTEGER NOT NULL,
  n INTEGER NOT NULL,
  sum REAL NOT NULL,
  min REAL NOT NULL,
  max REAL NOT NULL,
  last_t INTEGER NOT NULL,
  last REAL NOT NULL,
  PRIMARY KEY (visit_id, sign, bucket)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS news2_scores (
  visit_id TEXT NOT NULL,
  t INTEGER NOT NULL,
  total INTEGER NOT NULL,
  risk TEXT NOT NULL,
  spo2_scale INTEGER NOT NULL,
  components TEXT NOT NULL,
  PRIMARY KEY (visit_id, t)
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS alerts (
  id INTEGER PRIMARY KEY,
  key TEXT NOT NULL,
  category TEXT NOT NULL,
  kind TEXT NOT NULL,
  severity TEXT NOT NULL,
  level TEXT,
  visit_id TEXT,
  patient_id TEXT,
  device_id TEXT,
  site TEXT,
  ward TEXT,
  bed TEXT,
  message TEXT NOT NULL,
  details TEXT,
  status TEXT NOT NULL,
  raised_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  occurrences INTEGER NOT NULL DEFAULT 1,
  acknowledged_at INTEGER,
  acknowledged_by TEXT,
  resolved_at INTEGER,
  resolved_reason TEXT
);
CREATE UNIQUE INDEX IF NOT EXISTS alerts_active_key ON alerts(key) WHERE status != 'resolved';
CREATE INDEX IF NOT EXISTS alerts_status ON alerts(status, raised_at);

CREATE TABLE IF NOT EXISTS charting (
  visit_id TEXT NOT NULL,
  sign TEXT NOT NULL,
  last_t INTEGER NOT NULL,
  last_value TEXT NOT NULL,
  charted_at INTEGER NOT NULL,
  PRIMARY KEY (visit_id, sign)
) WITHOUT ROWID;
`;

export interface OpenOptions {
  /** `full` (default): every commit is fsynced, nothing acknowledged is lost on power failure. */
  synchronous?: 'full' | 'normal';
}

export function openIomtDatabase(file: string, options: OpenOptions = {}): IomtDatabase {
  if (file !== ':memory:') fs.mkdirSync(path.dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${options.synchronous === 'normal' ? 'NORMAL' : 'FULL'}`);
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = OFF');
  db.exec(SCHEMA);
  return db;
}

export function getMeta(db: IomtDatabase, key: string): string | undefined {
  const row = db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
  return row?.value;
}

export function setMeta(db: IomtDatabase, key: string, value: string): void {
  db.prepare('INSERT INTO meta(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value').run(key, value);
}

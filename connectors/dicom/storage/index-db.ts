// The SQLite index of received instances (better-sqlite3, WAL): patient → study → series →
// instance, plus what failed (errored instances, broken transfers) and the reconciliation state of
// each study. Files live on disk (instance-store.ts); this only points at them.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { InstanceHeader } from '../dataset/metadata';

export type ReconciliationState = 'pending' | 'matched' | 'unmatched';
export type StudyState = 'receiving' | 'complete';

export interface StudyRow {
  study_uid: string;
  patient_id: string | null;
  patient_name: string | null;
  patient_birth_date: string | null;
  patient_sex: string | null;
  accession: string | null;
  study_date: string | null;
  study_time: string | null;
  study_description: string | null;
  modality: string | null;
  calling_ae: string | null;
  first_received_at: string;
  last_received_at: string;
  reconciliation: ReconciliationState;
  order_id: string | null;
  match_method: string | null;
  state: StudyState;
  completed_at: string | null;
  completion_reason: string | null;
  mpps_uid: string | null;
  thumbnail: string | null;
}

export interface InstanceRow {
  sop_instance_uid: string;
  sop_class_uid: string;
  series_uid: string;
  study_uid: string;
  transfer_syntax: string;
  path: string;
  size: number;
  instance_number: number | null;
  received_at: string;
  calling_ae: string;
}

export interface ErroredRow {
  id: number;
  received_at: string;
  calling_ae: string;
  sop_instance_uid: string | null;
  status: number;
  reason: string;
  path: string | null;
}

export interface ExceptionRow {
  study_uid: string;
  reason: string;
  created_at: string;
  updated_at: string;
  resolved_at: string | null;
  resolution: string | null;
}

export interface RecordedInstance {
  /** True when this instance created the study row. */
  newStudy: boolean;
}

const schema = `
CREATE TABLE IF NOT EXISTS studies (
  study_uid TEXT PRIMARY KEY,
  patient_id TEXT, patient_name TEXT, patient_birth_date TEXT, patient_sex TEXT,
  accession TEXT, study_date TEXT, study_time TEXT, study_description TEXT, modality TEXT,
  calling_ae TEXT, first_received_at TEXT NOT NULL, last_received_at TEXT NOT NULL,
  reconciliation TEXT NOT NULL DEFAULT 'pending', order_id TEXT, match_method TEXT,
  state TEXT NOT NULL DEFAULT 'receiving', completed_at TEXT, completion_reason TEXT,
  mpps_uid TEXT, thumbnail TEXT
);
CREATE INDEX IF NOT EXISTS studies_accession ON studies(accession);
CREATE INDEX IF NOT EXISTS studies_patient ON studies(patient_id);
CREATE INDEX IF NOT EXISTS studies_state ON studies(state, last_received_at);
CREATE TABLE IF NOT EXISTS series (
  series_uid TEXT PRIMARY KEY, study_uid TEXT NOT NULL, modality TEXT, series_number INTEGER, description TEXT
);
CREATE INDEX IF NOT EXISTS series_study ON series(study_uid);
CREATE TABLE IF NOT EXISTS instances (
  sop_instance_uid TEXT PRIMARY KEY, sop_class_uid TEXT NOT NULL, series_uid TEXT NOT NULL, study_uid TEXT NOT NULL,
  transfer_syntax TEXT NOT NULL, path TEXT NOT NULL, size INTEGER NOT NULL, instance_number INTEGER,
  received_at TEXT NOT NULL, calling_ae TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS instances_study ON instances(study_uid);
CREATE INDEX IF NOT EXISTS instances_series ON instances(series_uid);
CREATE TABLE IF NOT EXISTS errored_instances (
  id INTEGER PRIMARY KEY AUTOINCREMENT, received_at TEXT NOT NULL, calling_ae TEXT NOT NULL,
  sop_instance_uid TEXT, status INTEGER NOT NULL, reason TEXT NOT NULL, path TEXT
);
CREATE TABLE IF NOT EXISTS reconciliation_exceptions (
  study_uid TEXT PRIMARY KEY, reason TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
  resolved_at TEXT, resolution TEXT
);
`;

export class DicomIndex {
  readonly db: Database.Database;
  private readonly stmts;

  constructor(file: string) {
    mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.db.exec(schema);
    const db = this.db;
    this.stmts = {
      upsertInstance: db.prepare(`INSERT INTO instances (sop_instance_uid, sop_class_uid, series_uid, study_uid, transfer_syntax, path, size, instance_number, received_at, calling_ae)
        VALUES (@sop_instance_uid, @sop_class_uid, @series_uid, @study_uid, @transfer_syntax, @path, @size, @instance_number, @received_at, @calling_ae)
        ON CONFLICT(sop_instance_uid) DO UPDATE SET sop_class_uid = excluded.sop_class_uid, series_uid = excluded.series_uid, study_uid = excluded.study_uid,
          transfer_syntax = excluded.transfer_syntax, path = excluded.path, size = excluded.size, instance_number = excluded.instance_number,
          received_at = excluded.received_at, calling_ae = excluded.calling_ae`),
      upsertSeries: db.prepare(`INSERT INTO series (series_uid, study_uid, modality, series_number, description) VALUES (?, ?, ?, ?, ?)
        ON CONFLICT(series_uid) DO NOTHING`),
      insertStudy: db.prepare(`INSERT INTO studies (study_uid, patient_id, patient_name, patient_birth_date, patient_sex, accession, study_date, study_time, study_description, modality, calling_ae, first_received_at, last_received_at)
        VALUES (@study_uid, @patient_id, @patient_name, @patient_birth_date, @patient_sex, @accession, @study_date, @study_time, @study_description, @modality, @calling_ae, @at, @at)
        ON CONFLICT(study_uid) DO NOTHING`),
      touchStudy: db.prepare(`UPDATE studies SET last_received_at = ?, state = 'receiving' WHERE study_uid = ?`),
      study: db.prepare('SELECT * FROM studies WHERE study_uid = ?'),
      studiesByAccession: db.prepare('SELECT * FROM studies WHERE accession = ? ORDER BY first_received_at'),
      countInstances: db.prepare('SELECT COUNT(*) FROM instances WHERE study_uid = ?').pluck(),
      countSeries: db.prepare('SELECT COUNT(*) FROM series WHERE study_uid = ?').pluck(),
      instancesOfStudy: db.prepare('SELECT * FROM instances WHERE study_uid = ? ORDER BY series_uid, instance_number, sop_instance_uid'),
      instance: db.prepare('SELECT * FROM instances WHERE sop_instance_uid = ?'),
      insertErrored: db.prepare('INSERT INTO errored_instances (received_at, calling_ae, sop_instance_uid, status, reason, path) VALUES (?, ?, ?, ?, ?, ?)'),
      errored: db.prepare('SELECT * FROM errored_instances ORDER BY id DESC LIMIT ?'),
      setReconciliation: db.prepare('UPDATE studies SET reconciliation = ?, order_id = ?, match_method = ? WHERE study_uid = ?'),
      upsertException: db.prepare(`INSERT INTO reconciliation_exceptions (study_uid, reason, created_at, updated_at) VALUES (?, ?, ?, ?)
        ON CONFLICT(study_uid) DO UPDATE SET reason = excluded.reason, updated_at = excluded.updated_at, resolved_at = NULL, resolution = NULL`),
      resolveException: db.prepare('UPDATE reconciliation_exceptions SET resolved_at = ?, resolution = ? WHERE study_uid = ? AND resolved_at IS NULL'),
      openExceptions: db.prepare('SELECT * FROM reconciliation_exceptions WHERE resolved_at IS NULL ORDER BY created_at'),
      complete: db.prepare(`UPDATE studies SET state = 'complete', completed_at = ?, completion_reason = ? WHERE study_uid = ? AND state = 'receiving'`),
      quietStudies: db.prepare(`SELECT study_uid FROM studies WHERE state = 'receiving' AND last_received_at <= ?`).pluck(),
      pendingReconciliation: db.prepare(`SELECT study_uid FROM studies WHERE reconciliation = 'pending'`),
      setMpps: db.prepare('UPDATE studies SET mpps_uid = ? WHERE study_uid = ?'),
      setThumbnail: db.prepare('UPDATE studies SET thumbnail = ? WHERE study_uid = ?'),
      listStudies: db.prepare('SELECT * FROM studies ORDER BY last_received_at DESC LIMIT ?'),
    };
  }

  /** Indexes one stored instance (study and series rows created on first sight) in one transaction. */
  recordInstance(header: Required<Pick<InstanceHeader, 'sopClassUid' | 'sopInstanceUid' | 'studyInstanceUid' | 'seriesInstanceUid'>> & InstanceHeader, file: { path: string; size: number; transferSyntax: string; callingAe: string; receivedAt: string }): RecordedInstance {
    return this.recordTx(header, file);
  }

  /** Studies and series this process has already written, so a study's later instances cost two statements. */
  private readonly studyTouchedAt = new Map<string, number>();
  private readonly knownSeries = new Set<string>();

  private readonly recordTx = (() => {
    const run = (header: InstanceHeader & { sopClassUid: string; sopInstanceUid: string; studyInstanceUid: string; seriesInstanceUid: string }, file: { path: string; size: number; transferSyntax: string; callingAe: string; receivedAt: string }): RecordedInstance => {
      const study = header.studyInstanceUid;
      const now = Date.now();
      const touched = this.studyTouchedAt.get(study);
      let newStudy = false;
      if (touched === undefined) {
        const studyInsert = this.stmts.insertStudy.run({
          study_uid: study,
          patient_id: header.patientId ?? null,
          patient_name: header.patientName ?? null,
          patient_birth_date: header.patientBirthDate ?? null,
          patient_sex: header.patientSex ?? null,
          accession: header.accessionNumber ?? header.requestAttributes[0]?.accessionNumber ?? null,
          study_date: header.studyDate ?? null,
          study_time: header.studyTime ?? null,
          study_description: header.studyDescription ?? null,
          modality: header.modality ?? null,
          calling_ae: file.callingAe,
          at: file.receivedAt,
        });
        newStudy = studyInsert.changes > 0;
        if (!newStudy) this.stmts.touchStudy.run(file.receivedAt, study);
        if (this.studyTouchedAt.size > 100_000) this.studyTouchedAt.clear();
        this.studyTouchedAt.set(study, now);
      } else if (now - touched >= 1000) {
        // The quiet period counts in seconds: the last-received stamp needs no finer updates.
        this.stmts.touchStudy.run(file.receivedAt, study);
        this.studyTouchedAt.set(study, now);
      }
      if (!this.knownSeries.has(header.seriesInstanceUid)) {
        this.stmts.upsertSeries.run(header.seriesInstanceUid, study, header.modality ?? null, header.seriesNumber ?? null, header.seriesDescription ?? null);
        if (this.knownSeries.size > 100_000) this.knownSeries.clear();
        this.knownSeries.add(header.seriesInstanceUid);
      }
      this.stmts.upsertInstance.run({
        sop_instance_uid: header.sopInstanceUid,
        sop_class_uid: header.sopClassUid,
        series_uid: header.seriesInstanceUid,
        study_uid: study,
        transfer_syntax: file.transferSyntax,
        path: file.path,
        size: file.size,
        instance_number: header.instanceNumber ?? null,
        received_at: file.receivedAt,
        calling_ae: file.callingAe,
      });
      return { newStudy };
    };
    // Created on first use: field initialisers run before the constructor has opened the database.
    let tx: ((h: Parameters<typeof run>[0], f: Parameters<typeof run>[1]) => RecordedInstance) | undefined;
    return (h: Parameters<typeof run>[0], f: Parameters<typeof run>[1]) => (tx ??= this.db.transaction(run))(h, f);
  })();

  recordErrored(entry: { receivedAt: string; callingAe: string; sopInstanceUid?: string; status: number; reason: string; path?: string }): number {
    return Number(this.stmts.insertErrored.run(entry.receivedAt, entry.callingAe, entry.sopInstanceUid ?? null, entry.status, entry.reason, entry.path ?? null).lastInsertRowid);
  }

  erroredInstances(limit = 100): ErroredRow[] {
    return this.stmts.errored.all(limit) as ErroredRow[];
  }

  study(studyUid: string): StudyRow | undefined {
    return this.stmts.study.get(studyUid) as StudyRow | undefined;
  }

  studies(limit = 100): StudyRow[] {
    return this.stmts.listStudies.all(limit) as StudyRow[];
  }

  studiesByAccession(accession: string): StudyRow[] {
    return this.stmts.studiesByAccession.all(accession) as StudyRow[];
  }

  instance(sopInstanceUid: string): InstanceRow | undefined {
    return this.stmts.instance.get(sopInstanceUid) as InstanceRow | undefined;
  }

  instancesOfStudy(studyUid: string): InstanceRow[] {
    return this.stmts.instancesOfStudy.all(studyUid) as InstanceRow[];
  }

  counts(studyUid: string): { instances: number; series: number } {
    return { instances: Number(this.stmts.countInstances.get(studyUid)), series: Number(this.stmts.countSeries.get(studyUid)) };
  }

  setReconciliation(studyUid: string, state: ReconciliationState, orderId: string | null, method: string | null): void {
    this.stmts.setReconciliation.run(state, orderId, method, studyUid);
  }

  raiseException(studyUid: string, reason: string, at: string): void {
    this.stmts.upsertException.run(studyUid, reason, at, at);
  }

  resolveException(studyUid: string, resolution: string, at: string): void {
    this.stmts.resolveException.run(at, resolution, studyUid);
  }

  openExceptions(): ExceptionRow[] {
    return this.stmts.openExceptions.all() as ExceptionRow[];
  }

  /** Marks a study complete; false when it already was. */
  completeStudy(studyUid: string, reason: string, at: string): boolean {
    // The next instance of this study must reopen it (state back to receiving).
    this.studyTouchedAt.delete(studyUid);
    return this.stmts.complete.run(at, reason, studyUid).changes > 0;
  }

  studiesQuietSince(isoInstant: string): string[] {
    return this.stmts.quietStudies.all(isoInstant) as string[];
  }

  studiesPendingReconciliation(): string[] {
    return (this.stmts.pendingReconciliation.all() as Array<{ study_uid: string }>).map((r) => r.study_uid);
  }

  setStudyMpps(studyUid: string, mppsUid: string): void {
    this.stmts.setMpps.run(mppsUid, studyUid);
  }

  setThumbnail(studyUid: string, file: string): void {
    this.stmts.setThumbnail.run(file, studyUid);
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}

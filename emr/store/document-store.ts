// The EMR document store (SQLite, better-sqlite3, in <dataDir>/emr/emr.db): signed documents,
// their index (patient, visit, type, date), the patients they name, the values the viewer charts,
// and the FHIR resources derived from them.
//
// Stored documents are never changed: triggers refuse UPDATE and DELETE of the signed bytes and of
// every index column but `superseded_by`; a correction is a new version (same set id, version + 1,
// relatedDocument RPLC) and the old one stays readable. Every read of a document verifies its
// signature and writes an audit row (who, when, which document, signature status) through the
// audit sink (the engine's SecurityStore): reading without a reader is not possible.
import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { foldVietnamese } from '../../engine/text/vietnamese';
import { identifierOf, type Patient } from '../../model';
import { fhirId } from '../fhir/map';
import type { SignatureVerification } from '../sign/signer';
import type { BuiltDocument, EmrDocumentType } from '../types';

/** Where audit rows go: SecurityStore.audit has this shape. */
export interface AuditSink {
  audit(entry: { username: string; action: string; target?: string; patientId?: string | null; detail?: string; remote?: string }): void;
}

/** Who reads: every read names one, and it is written to the audit log. */
export interface Reader {
  username: string;
  remote?: string;
}

export interface DocumentMeta {
  id: string;
  setId: string;
  version: number;
  type: EmrDocumentType;
  title: string;
  patientId: string;
  maLk: string | null;
  serviceAt: string;
  createdAt: string;
  author: string | null;
  replaces: string | null;
  supersededBy: string | null;
  status: 'current' | 'superseded';
  sha256: string;
  size: number;
  sourceKey: string | null;
}

export interface StoredPatient {
  id: string;
  name: string;
  cccd: string | null;
  bhyt: string | null;
  birthDate: string | null;
  sex: string | null;
  documents: number;
  lastServiceAt: string | null;
}

export interface InsertDocument {
  built: BuiltDocument;
  signedXml: string;
  patient: Patient;
  /** What the document was built from (`lab-report:XN0001`): one current document per source. */
  sourceKey?: string;
  /** Hash of the inputs, to tell an unchanged rebuild (skipped) from a correction (new version). */
  inputHash?: string;
  /** FHIR resources derived from the same data (Patient and Encounter are shared across documents). */
  fhir?: Array<{ resourceType: string; id?: string }>;
}

export interface TimelineQuery {
  types?: EmrDocumentType[];
  from?: Date;
  to?: Date;
  /** Keyset cursor from the previous page (`next`). */
  before?: string;
  limit?: number;
  includeSuperseded?: boolean;
}

export class DocumentNotFoundError extends Error {
  constructor(id: string) {
    super(`document ${id} not found`);
    this.name = 'DocumentNotFoundError';
  }
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS documents (
  doc_no INTEGER PRIMARY KEY,
  id TEXT NOT NULL UNIQUE,
  set_id TEXT NOT NULL,
  version INTEGER NOT NULL,
  type TEXT NOT NULL,
  title TEXT NOT NULL,
  patient_id TEXT NOT NULL,
  ma_lk TEXT,
  service_at INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  author TEXT,
  source_key TEXT,
  input_hash TEXT,
  replaces TEXT,
  superseded_by TEXT,
  sha256 TEXT NOT NULL,
  size INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_patient_time ON documents (patient_id, service_at DESC, doc_no DESC);
CREATE INDEX IF NOT EXISTS documents_set ON documents (set_id, version);
CREATE INDEX IF NOT EXISTS documents_visit ON documents (ma_lk) WHERE ma_lk IS NOT NULL;
CREATE UNIQUE INDEX IF NOT EXISTS documents_source_current ON documents (source_key) WHERE superseded_by IS NULL AND source_key IS NOT NULL;
CREATE TABLE IF NOT EXISTS document_content (doc_no INTEGER PRIMARY KEY, xml BLOB NOT NULL);
CREATE TRIGGER IF NOT EXISTS document_content_immutable BEFORE UPDATE ON document_content
  BEGIN SELECT RAISE(ABORT, 'signed documents are never changed: store a corrected version instead'); END;
CREATE TRIGGER IF NOT EXISTS document_content_kept BEFORE DELETE ON document_content
  BEGIN SELECT RAISE(ABORT, 'signed documents are never deleted'); END;
CREATE TRIGGER IF NOT EXISTS documents_immutable BEFORE UPDATE OF doc_no, id, set_id, version, type, title, patient_id, ma_lk, service_at, created_at, author, source_key, input_hash, replaces, sha256, size ON documents
  BEGIN SELECT RAISE(ABORT, 'the index of a signed document is never changed (only superseded_by is set, once)'); END;
CREATE TRIGGER IF NOT EXISTS documents_superseded_once BEFORE UPDATE OF superseded_by ON documents WHEN OLD.superseded_by IS NOT NULL
  BEGIN SELECT RAISE(ABORT, 'a document is superseded only once'); END;
CREATE TRIGGER IF NOT EXISTS documents_kept BEFORE DELETE ON documents
  BEGIN SELECT RAISE(ABORT, 'signed documents are never deleted'); END;
CREATE TABLE IF NOT EXISTS patients (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, name_folded TEXT NOT NULL, cccd TEXT, bhyt TEXT, birth_date TEXT, sex TEXT, updated_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS patients_cccd ON patients (cccd) WHERE cccd IS NOT NULL;
CREATE INDEX IF NOT EXISTS patients_bhyt ON patients (bhyt) WHERE bhyt IS NOT NULL;
CREATE TABLE IF NOT EXISTS lab_values (
  doc_no INTEGER NOT NULL, patient_id TEXT NOT NULL, code TEXT NOT NULL, loinc TEXT, name TEXT NOT NULL, value_text TEXT NOT NULL,
  value_num REAL, unit TEXT, flag TEXT, ref_low REAL, ref_high REAL, ref_text TEXT, observed_at INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS lab_values_patient ON lab_values (patient_id, code, observed_at);
CREATE TABLE IF NOT EXISTS vital_values (doc_no INTEGER NOT NULL, patient_id TEXT NOT NULL, loinc TEXT NOT NULL, value REAL NOT NULL, unit TEXT, effective_at INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS vital_values_patient ON vital_values (patient_id, loinc, effective_at);
CREATE TABLE IF NOT EXISTS news2_scores (
  doc_no INTEGER NOT NULL, patient_id TEXT NOT NULL, at INTEGER NOT NULL, complete INTEGER NOT NULL, total INTEGER, risk TEXT, partial_score INTEGER, missing TEXT
);
CREATE INDEX IF NOT EXISTS news2_patient ON news2_scores (patient_id, at);
CREATE TABLE IF NOT EXISTS fhir_resources (
  type TEXT NOT NULL, id TEXT NOT NULL, doc_no INTEGER, patient_id TEXT, date INTEGER, current INTEGER NOT NULL DEFAULT 1, json TEXT NOT NULL,
  PRIMARY KEY (type, id)
);
CREATE INDEX IF NOT EXISTS fhir_patient ON fhir_resources (type, patient_id, date);
CREATE INDEX IF NOT EXISTS fhir_doc ON fhir_resources (doc_no) WHERE doc_no IS NOT NULL;
`;

const iso = (ms: number) => new Date(ms).toISOString();

function toMeta(r: any): DocumentMeta {
  return {
    id: r.id,
    setId: r.set_id,
    version: r.version,
    type: r.type,
    title: r.title,
    patientId: r.patient_id,
    maLk: r.ma_lk,
    serviceAt: iso(r.service_at),
    createdAt: iso(r.created_at),
    author: r.author,
    replaces: r.replaces,
    supersededBy: r.superseded_by,
    status: r.superseded_by ? 'superseded' : 'current',
    sha256: r.sha256,
    size: r.size,
    sourceKey: r.source_key,
  };
}

export function encodeCursor(serviceAt: number, docNo: number): string {
  return `${serviceAt}.${docNo}`;
}

function decodeCursor(cursor: string): [number, number] {
  const m = /^(\d+)\.(\d+)$/.exec(cursor);
  if (!m) throw new RangeError(`before: "${cursor}" is not a timeline cursor`);
  return [Number(m[1]), Number(m[2])];
}

export class DocumentStore {
  readonly db: Database.Database;
  private readonly stmts;

  constructor(
    file: string,
    private readonly auditSink: AuditSink,
    private readonly verifier: (xml: string) => SignatureVerification,
  ) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    // Index pages of a large store (random document ids) stay in memory: 32 MiB instead of 2.
    this.db.pragma('cache_size = -32768');
    this.db.exec(SCHEMA);
    const db = this.db;
    this.stmts = {
      insertDoc: db.prepare(`INSERT INTO documents (id, set_id, version, type, title, patient_id, ma_lk, service_at, created_at, author, source_key, input_hash, replaces, sha256, size)
        VALUES (@id, @set_id, @version, @type, @title, @patient_id, @ma_lk, @service_at, @created_at, @author, @source_key, @input_hash, @replaces, @sha256, @size)`),
      insertContent: db.prepare('INSERT INTO document_content (doc_no, xml) VALUES (?, ?)'),
      supersede: db.prepare('UPDATE documents SET superseded_by = ? WHERE id = ? AND superseded_by IS NULL'),
      byId: db.prepare('SELECT * FROM documents WHERE id = ?'),
      byDocNo: db.prepare('SELECT * FROM documents WHERE doc_no = ?'),
      content: db.prepare('SELECT xml FROM document_content WHERE doc_no = ?').pluck(),
      currentBySource: db.prepare('SELECT * FROM documents WHERE source_key = ? AND superseded_by IS NULL'),
      versions: db.prepare('SELECT * FROM documents WHERE set_id = ? ORDER BY version'),
      upsertPatient: db.prepare(`INSERT INTO patients (id, name, name_folded, cccd, bhyt, birth_date, sex, updated_at) VALUES (@id, @name, @name_folded, @cccd, @bhyt, @birth_date, @sex, @updated_at)
        ON CONFLICT(id) DO UPDATE SET name = excluded.name, name_folded = excluded.name_folded, cccd = excluded.cccd, bhyt = excluded.bhyt, birth_date = excluded.birth_date, sex = excluded.sex, updated_at = excluded.updated_at`),
      patient: db.prepare('SELECT * FROM patients WHERE id = ?'),
      insertLab: db.prepare(`INSERT INTO lab_values (doc_no, patient_id, code, loinc, name, value_text, value_num, unit, flag, ref_low, ref_high, ref_text, observed_at)
        VALUES (@doc_no, @patient_id, @code, @loinc, @name, @value_text, @value_num, @unit, @flag, @ref_low, @ref_high, @ref_text, @observed_at)`),
      insertVital: db.prepare('INSERT INTO vital_values (doc_no, patient_id, loinc, value, unit, effective_at) VALUES (?, ?, ?, ?, ?, ?)'),
      insertNews2: db.prepare('INSERT INTO news2_scores (doc_no, patient_id, at, complete, total, risk, partial_score, missing) VALUES (?, ?, ?, ?, ?, ?, ?, ?)'),
      upsertFhir: db.prepare(`INSERT INTO fhir_resources (type, id, doc_no, patient_id, date, current, json) VALUES (?, ?, ?, ?, ?, 1, ?)
        ON CONFLICT(type, id) DO UPDATE SET doc_no = excluded.doc_no, patient_id = excluded.patient_id, date = excluded.date, current = 1, json = excluded.json`),
      retireFhir: db.prepare(`UPDATE fhir_resources SET current = 0 WHERE doc_no = ? AND type NOT IN ('Patient', 'Encounter')`),
      fhirJson: db.prepare('SELECT json FROM fhir_resources WHERE type = ? AND id = ?').pluck(),
      patientDocCount: db.prepare('SELECT COUNT(*) AS n, MAX(service_at) AS last FROM documents WHERE patient_id = ? AND superseded_by IS NULL'),
    };
  }

  close(): void {
    this.db.close();
  }

  count(): number {
    return this.db.prepare('SELECT COUNT(*) FROM documents').pluck().get() as number;
  }

  /** The current document built from a source (for idempotent rebuilds and corrections). */
  currentBySource(sourceKey: string): (DocumentMeta & { inputHash: string | null }) | undefined {
    const row = this.stmts.currentBySource.get(sourceKey) as any;
    return row ? { ...toMeta(row), inputHash: row.input_hash } : undefined;
  }

  /**
   * Stores a signed document with its index rows in one transaction. When it replaces another
   * (built.replaces), that one is marked superseded — its bytes stay as they were.
   */
  insert(doc: InsertDocument): DocumentMeta {
    return this.insertMany([doc])[0];
  }

  /** Stores several documents in one transaction (bulk builds): all of them, or none. */
  insertMany(docs: InsertDocument[]): DocumentMeta[] {
    const now = Date.now();
    const run = this.db.transaction(() => docs.map((doc) => this.insertOne(doc, now)));
    return run().map((docNo) => toMeta(this.stmts.byDocNo.get(docNo)));
  }

  private insertOne(doc: InsertDocument, now: number): number {
    const { built, signedXml, patient } = doc;
    const bytes = Buffer.from(signedXml, 'utf8');
    const sha256 = crypto.createHash('sha256').update(bytes).digest('hex');
    if (built.replaces) {
      const previous = this.stmts.byId.get(built.replaces.id) as any;
      if (!previous) throw new DocumentNotFoundError(built.replaces.id);
      if (previous.superseded_by) throw new Error(`document ${built.replaces.id} was already replaced by ${previous.superseded_by}`);
      if (previous.set_id !== built.setId || previous.version + 1 !== built.version) throw new Error(`a correction of ${previous.id} must keep set id ${previous.set_id} and be version ${previous.version + 1}`);
      this.stmts.supersede.run(built.id, built.replaces.id);
      this.stmts.retireFhir.run(previous.doc_no);
      const json = this.stmts.fhirJson.get('DocumentReference', fhirId(previous.id)) as string | undefined;
      if (json) {
        const reference = JSON.parse(json);
        reference.status = 'superseded';
        this.stmts.upsertFhir.run('DocumentReference', fhirId(previous.id), previous.doc_no, fhirId(previous.patient_id), previous.service_at, JSON.stringify(reference));
      }
    }
    const info = this.stmts.insertDoc.run({
      id: built.id,
      set_id: built.setId,
      version: built.version,
      type: built.type,
      title: built.title,
      patient_id: built.patientId,
      ma_lk: built.maLk ?? null,
      service_at: Date.parse(built.serviceAt),
      created_at: Date.parse(built.createdAt),
      author: built.authorName,
      source_key: doc.sourceKey ?? null,
      input_hash: doc.inputHash ?? null,
      replaces: built.replaces?.id ?? null,
      sha256,
      size: bytes.length,
    });
    const docNo = Number(info.lastInsertRowid);
    this.stmts.insertContent.run(docNo, bytes);
    this.upsertPatient(patient, now);
    for (const v of built.labValues) {
      this.stmts.insertLab.run({
        doc_no: docNo,
        patient_id: built.patientId,
        code: v.code,
        loinc: v.loinc ?? null,
        name: v.name,
        value_text: v.valueText,
        value_num: v.valueNum,
        unit: v.unit ?? null,
        flag: v.flag ?? null,
        ref_low: v.refLow ?? null,
        ref_high: v.refHigh ?? null,
        ref_text: v.refText ?? null,
        observed_at: Date.parse(v.observedAt),
      });
    }
    for (const v of built.vitalValues) this.stmts.insertVital.run(docNo, built.patientId, v.loinc, v.value, v.unit ?? null, Date.parse(v.effectiveAt));
    for (const n of built.news2 ?? []) {
      this.stmts.insertNews2.run(docNo, built.patientId, Date.parse(n.at), n.complete ? 1 : 0, n.total ?? null, n.risk ?? null, n.partialScore ?? null, n.missing ? n.missing.join(',') : null);
    }
    const patientKey = fhirId(built.patientId);
    for (const resource of doc.fhir ?? []) {
      const shared = resource.resourceType === 'Patient' || resource.resourceType === 'Encounter';
      const json = JSON.stringify(resource);
      // Patient and Encounter are shared by many documents: rewritten only when they changed.
      if (shared && this.stmts.fhirJson.get(resource.resourceType, resource.id) === json) continue;
      this.stmts.upsertFhir.run(resource.resourceType, resource.id, shared ? null : docNo, patientKey, fhirDate(resource as Record<string, unknown>) ?? Date.parse(built.serviceAt), json);
    }
    return docNo;
  }

  private upsertPatient(patient: Patient, now: number): void {
    const row = this.stmts.patient.get(patient.id) as any;
    const cccd = identifierOf(patient, 'CCCD') ?? null;
    const bhyt = identifierOf(patient, 'BHYT') ?? null;
    if (row && row.name === patient.name.full && row.cccd === cccd && row.bhyt === bhyt && row.birth_date === (patient.birthDate ?? null) && row.sex === (patient.sex ?? null)) return;
    this.stmts.upsertPatient.run({
      id: patient.id,
      name: patient.name.full,
      name_folded: foldVietnamese(patient.name.full).toLowerCase(),
      cccd: identifierOf(patient, 'CCCD') ?? null,
      bhyt: identifierOf(patient, 'BHYT') ?? null,
      birth_date: patient.birthDate ?? null,
      sex: patient.sex ?? null,
      updated_at: now,
    });
  }

  /** Index data of a document (no content, no signature check): for listings. */
  meta(id: string): DocumentMeta | undefined {
    const row = this.stmts.byId.get(id);
    return row ? toMeta(row) : undefined;
  }

  /** Reads a document: verifies its signature now and writes the audit row. */
  read(id: string, reader: Reader, action = 'emr-read-document'): { meta: DocumentMeta; xml: string; verification: SignatureVerification } {
    const row = this.stmts.byId.get(id) as any;
    if (!row) {
      this.auditSink.audit({ username: reader.username, action: `${action}-missing`, target: `document:${id}`, remote: reader.remote });
      throw new DocumentNotFoundError(id);
    }
    const bytes = this.stmts.content.get(row.doc_no) as Buffer | undefined;
    const meta = toMeta(row);
    const xml = bytes ? bytes.toString('utf8') : '';
    let verification = this.verifier(xml);
    const digest = bytes ? crypto.createHash('sha256').update(bytes).digest('hex') : '';
    if (verification.status === 'valid' && digest !== row.sha256) {
      verification = { ...verification, status: 'invalid', reason: 'the stored bytes differ from the ones indexed when the document was stored' };
    }
    if (verification.status === 'valid') {
      // The index must say what the signed document says: a row pointing at another patient is an attack on the index.
      const problem = indexMismatch(xml, meta);
      if (problem) verification = { ...verification, status: 'invalid', reason: problem };
    }
    this.auditSink.audit({
      username: reader.username,
      action,
      target: `document:${id}`,
      patientId: meta.patientId,
      detail: `${meta.type} v${meta.version}; signature ${verification.status}${verification.reason ? `: ${verification.reason}` : ''}`,
      remote: reader.remote,
    });
    return { meta, xml, verification };
  }

  versions(setId: string): DocumentMeta[] {
    return (this.stmts.versions.all(setId) as any[]).map(toMeta);
  }

  timeline(patientId: string, query: TimelineQuery = {}): { documents: DocumentMeta[]; next: string | null } {
    const limit = Math.min(Math.max(query.limit ?? 50, 1), 500);
    const where = ['patient_id = ?'];
    const params: unknown[] = [patientId];
    if (!query.includeSuperseded) where.push('superseded_by IS NULL');
    if (query.types?.length) {
      where.push(`type IN (${query.types.map(() => '?').join(',')})`);
      params.push(...query.types);
    }
    if (query.from) {
      where.push('service_at >= ?');
      params.push(query.from.getTime());
    }
    if (query.to) {
      where.push('service_at < ?');
      params.push(query.to.getTime());
    }
    if (query.before) {
      const [at, docNo] = decodeCursor(query.before);
      where.push('(service_at < ? OR (service_at = ? AND doc_no < ?))');
      params.push(at, at, docNo);
    }
    const rows = this.db.prepare(`SELECT * FROM documents WHERE ${where.join(' AND ')} ORDER BY service_at DESC, doc_no DESC LIMIT ?`).all(...params, limit) as any[];
    const last = rows.at(-1);
    return { documents: rows.map(toMeta), next: rows.length === limit && last ? encodeCursor(last.service_at, last.doc_no) : null };
  }

  /** Patients by MA_BN, CCCD or BHYT card (exact) or by name (accent-insensitive, any part). */
  searchPatients(text: string, limit = 20): StoredPatient[] {
    const q = text.trim();
    if (!q) return [];
    const exact = this.db.prepare('SELECT * FROM patients WHERE id = ? OR cccd = ? OR bhyt = ? LIMIT ?').all(q, q, q.toUpperCase(), limit) as any[];
    const folded = foldVietnamese(q).toLowerCase().replace(/\s+/g, ' ');
    const escaped = folded.replace(/[\\%_]/g, (c) => `\\${c}`);
    const byName = folded.length >= 2 ? (this.db.prepare(`SELECT * FROM patients WHERE name_folded LIKE ? ESCAPE '\\' ORDER BY name_folded LIMIT ?`).all(`%${escaped}%`, limit) as any[]) : [];
    const seen = new Set<string>();
    const rows = [...exact, ...byName].filter((r) => !seen.has(r.id) && seen.add(r.id)).slice(0, limit);
    return rows.map((r) => this.toPatient(r));
  }

  patient(id: string): StoredPatient | undefined {
    const row = this.stmts.patient.get(id) as any;
    return row ? this.toPatient(row) : undefined;
  }

  private toPatient(r: any): StoredPatient {
    const counts = this.stmts.patientDocCount.get(r.id) as { n: number; last: number | null };
    return { id: r.id, name: r.name, cccd: r.cccd, bhyt: r.bhyt, birthDate: r.birth_date, sex: r.sex, documents: counts.n, lastServiceAt: counts.last ? iso(counts.last) : null };
  }

  /** Lab values of current documents, grouped by test, oldest first (for trend charts). */
  labSeries(patientId: string, code?: string) {
    const rows = this.db
      .prepare(
        `SELECT l.*, d.id AS document_id FROM lab_values l JOIN documents d ON d.doc_no = l.doc_no
         WHERE l.patient_id = ? AND d.superseded_by IS NULL ${code ? 'AND l.code = ?' : ''} ORDER BY l.code, l.observed_at`,
      )
      .all(...(code ? [patientId, code] : [patientId])) as any[];
    const byCode = new Map<string, { code: string; loinc: string | null; name: string; unit: string | null; refLow: number | null; refHigh: number | null; refText: string | null; points: Array<{ at: string; value: number | null; text: string; flag: string | null; documentId: string }> }>();
    for (const r of rows) {
      let series = byCode.get(r.code);
      if (!series) byCode.set(r.code, (series = { code: r.code, loinc: r.loinc, name: r.name, unit: r.unit, refLow: r.ref_low, refHigh: r.ref_high, refText: r.ref_text, points: [] }));
      series.points.push({ at: iso(r.observed_at), value: r.value_num, text: r.value_text, flag: r.flag, documentId: r.document_id });
      // The latest reference range is the one to draw.
      series.refLow = r.ref_low ?? series.refLow;
      series.refHigh = r.ref_high ?? series.refHigh;
      series.refText = r.ref_text ?? series.refText;
    }
    return [...byCode.values()];
  }

  /** Vital values of current documents, by LOINC, oldest first. */
  vitalSeries(patientId: string, from?: Date) {
    const rows = this.db
      .prepare(
        `SELECT v.loinc, v.value, v.unit, v.effective_at, d.id AS document_id FROM vital_values v JOIN documents d ON d.doc_no = v.doc_no
         WHERE v.patient_id = ? AND d.superseded_by IS NULL AND v.effective_at >= ? ORDER BY v.effective_at`,
      )
      .all(patientId, from?.getTime() ?? 0) as any[];
    return rows.map((r) => ({ loinc: r.loinc as string, value: r.value as number, unit: r.unit as string | null, at: iso(r.effective_at), documentId: r.document_id as string }));
  }

  /** NEWS2 per measurement time from current vitals documents, oldest first. */
  news2Series(patientId: string, from?: Date) {
    const rows = this.db
      .prepare(
        `SELECT n.*, d.id AS document_id FROM news2_scores n JOIN documents d ON d.doc_no = n.doc_no
         WHERE n.patient_id = ? AND d.superseded_by IS NULL AND n.at >= ? ORDER BY n.at`,
      )
      .all(patientId, from?.getTime() ?? 0) as any[];
    return rows.map((r) => ({
      at: iso(r.at),
      complete: r.complete === 1,
      total: r.total as number | null,
      risk: r.risk as string | null,
      partialScore: r.partial_score as number | null,
      missing: r.missing ? (r.missing as string).split(',') : [],
      documentId: r.document_id as string,
    }));
  }

  /** One FHIR resource by type and id (superseded ones stay readable by id). */
  fhirRead(type: string, id: string): unknown | undefined {
    const json = this.stmts.fhirJson.get(type, id) as string | undefined;
    return json ? JSON.parse(json) : undefined;
  }

  /** Current FHIR resources of a type, optionally for one patient and a date window. */
  fhirSearch(type: string, query: { patientId?: string; from?: Date; to?: Date; fromInclusive?: boolean; toInclusive?: boolean; limit: number; offset?: number }): { total: number; resources: unknown[] } {
    const where = ['type = ?', 'current = 1'];
    const params: unknown[] = [type];
    if (query.patientId !== undefined) {
      where.push('patient_id = ?');
      params.push(query.patientId);
    }
    if (query.from) {
      where.push(query.fromInclusive === false ? 'date > ?' : 'date >= ?');
      params.push(query.from.getTime());
    }
    if (query.to) {
      where.push(query.toInclusive ? 'date <= ?' : 'date < ?');
      params.push(query.to.getTime());
    }
    const total = this.db.prepare(`SELECT COUNT(*) FROM fhir_resources WHERE ${where.join(' AND ')}`).pluck().get(...params) as number;
    const rows = this.db.prepare(`SELECT json FROM fhir_resources WHERE ${where.join(' AND ')} ORDER BY date DESC, id LIMIT ? OFFSET ?`).pluck().all(...params, query.limit, query.offset ?? 0) as string[];
    return { total, resources: rows.map((j) => JSON.parse(j)) };
  }

  /** FHIR resources derived from one document (for its collection Bundle). */
  fhirOfDocument(id: string): unknown[] {
    const row = this.stmts.byId.get(id) as any;
    if (!row) return [];
    const rows = this.db.prepare('SELECT json FROM fhir_resources WHERE doc_no = ? ORDER BY type, id').pluck().all(row.doc_no) as string[];
    const shared = [this.fhirRead('Patient', fhirId(row.patient_id)), row.ma_lk ? this.fhirRead('Encounter', fhirId(row.ma_lk)) : undefined].filter(Boolean);
    return [...shared, ...rows.map((j) => JSON.parse(j))];
  }
}

function fhirDate(resource: { [k: string]: unknown }): number | undefined {
  const candidate = (resource.effectiveDateTime ?? resource.started ?? resource.date ?? (resource.period as any)?.start) as string | undefined;
  if (!candidate) return undefined;
  const t = Date.parse(candidate);
  return Number.isNaN(t) ? undefined : t;
}

/** Checks the signed document names the patient and document the index row says (cheap string checks on signed bytes). */
function indexMismatch(xml: string, meta: DocumentMeta): string | undefined {
  // The document's own id is the first <id> after the root (typeId and templateId come before it).
  const idMatch = /<ClinicalDocument\b[^>]*>(?:(?!<id\b)[\s\S])*?<id\b[^>]*\bextension="([^"]*)"/.exec(xml);
  if (!idMatch || idMatch[1] !== meta.id) return `the index names document ${meta.id} but the signed document is ${idMatch?.[1] ?? '(no id)'}`;
  const patientRole = /<patientRole>([\s\S]*?)<\/patientRole>/.exec(xml)?.[1] ?? '';
  const escaped = meta.patientId.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/"/g, '&quot;');
  if (!patientRole.includes(`extension="${escaped}"`)) return `the index files this document under patient ${meta.patientId}, but the signed document names another patient`;
  return undefined;
}


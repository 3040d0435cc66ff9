// The claims store (SQLite in the data dir): every built claim version with its findings and the
// exact envelope bytes, every submission attempt's receipt (kept permanently: the BHXH portal shows
// results for 60 days only), and the gateway credentials (encrypted). A claim version is sealed
// once a send has started: corrected data becomes a new version, so "MA_LK + version" identifies
// exactly one set of bytes, sent at most once.
import Database from 'better-sqlite3';
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Finding } from './model';

export type ClaimStatus =
  /** Built, with errors: cannot be sent until corrected. */
  | 'invalid'
  /** Built and signed, not sent yet. */
  | 'ready'
  /** A send is in progress (or the process stopped during one: see recoverInterrupted). */
  | 'sending'
  /** The gateway answered maKetQua 200. */
  | 'accepted'
  /** The gateway refused it: correct and rebuild (a new version). */
  | 'rejected'
  /** The last attempt certainly did not reach the gateway: safe to send again. */
  | 'failed'
  /** The request was sent but no answer came: it may have been received. Not resent until confirmed. */
  | 'unconfirmed';

export interface ClaimRow {
  maLk: string;
  version: number;
  formatVersion: string;
  status: ClaimStatus;
  maBn?: string;
  hoTen?: string;
  maThe?: string;
  maLoaiKcb?: string;
  ngayVao?: string;
  ngayRa?: string;
  /** Settlement period yyyy-MM (NAM_QT / THANG_QT). */
  period?: string;
  tTongChiBv?: string;
  tBhtt?: string;
  errors: number;
  warnings: number;
  findings: Finding[];
  contentSha256: string;
  envelopeSha256?: string;
  attempts: number;
  lastError?: string;
  builtAt: string;
  updatedAt: string;
}

export interface ReceiptRow {
  id: number;
  maLk: string;
  version: number;
  attempt: number;
  kind: 'claim' | 'checkin';
  endpoint: string;
  sentAt: string;
  finishedAt?: string;
  outcome: 'accepted' | 'rejected' | 'failed' | 'unconfirmed';
  httpStatus?: number;
  maKetQua?: string;
  maGiaoDich?: string;
  thoiGianTiepNhan?: string;
  thongDiep?: string;
  error?: string;
  envelopeSha256?: string;
}

export interface SaveClaimInput {
  maLk: string;
  formatVersion: string;
  summary: Pick<ClaimRow, 'maBn' | 'hoTen' | 'maThe' | 'maLoaiKcb' | 'ngayVao' | 'ngayRa' | 'period' | 'tTongChiBv' | 'tBhtt'>;
  errors: number;
  warnings: number;
  findings: Finding[];
  /** Hash of what the claim says (the inner tables), independent of signature and file date. */
  contentSha256: string;
  /** The signed envelope as it will be sent (absent when the claim has errors). */
  envelope?: Buffer;
}

export interface SaveOutcome {
  version: number;
  /** created: a new version; updated: an unsent version replaced; unchanged: same content as the latest version. */
  action: 'created' | 'updated' | 'unchanged';
  status: ClaimStatus;
}

export interface ClaimQuery {
  status?: ClaimStatus | ClaimStatus[];
  period?: string;
  /** NGAY_RA from/to (yyyyMMdd, inclusive). */
  from?: string;
  to?: string;
  maLk?: string;
  /** Only the latest version of each MA_LK (default true). */
  latestOnly?: boolean;
  limit?: number;
  offset?: number;
}

const now = () => new Date().toISOString();

export function sha256(data: Buffer | string): string {
  return createHash('sha256').update(data).digest('hex');
}

export class ClaimStore {
  readonly db: Database.Database;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(path.dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('busy_timeout = 5000');
    this.migrate();
  }

  static inDataDir(dataDir: string): ClaimStore {
    return new ClaimStore(path.join(dataDir, 'claims.sqlite'));
  }

  private migrate(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS claims (
        ma_lk TEXT NOT NULL,
        version INTEGER NOT NULL,
        format_version TEXT NOT NULL,
        status TEXT NOT NULL,
        ma_bn TEXT, ho_ten TEXT, ma_the TEXT, ma_loai_kcb TEXT, ngay_vao TEXT, ngay_ra TEXT, period TEXT,
        t_tongchi_bv TEXT, t_bhtt TEXT,
        errors INTEGER NOT NULL DEFAULT 0,
        warnings INTEGER NOT NULL DEFAULT 0,
        findings TEXT NOT NULL DEFAULT '[]',
        content_sha256 TEXT NOT NULL,
        envelope BLOB,
        envelope_sha256 TEXT,
        attempts INTEGER NOT NULL DEFAULT 0,
        last_error TEXT,
        built_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        PRIMARY KEY (ma_lk, version)
      );
      CREATE INDEX IF NOT EXISTS claims_status ON claims(status);
      CREATE INDEX IF NOT EXISTS claims_ngay_ra ON claims(ngay_ra);
      CREATE INDEX IF NOT EXISTS claims_period ON claims(period);
      CREATE TABLE IF NOT EXISTS receipts (
        id INTEGER PRIMARY KEY AUTOINCREMENT,
        ma_lk TEXT NOT NULL,
        version INTEGER NOT NULL,
        attempt INTEGER NOT NULL,
        kind TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        sent_at TEXT NOT NULL,
        finished_at TEXT,
        outcome TEXT NOT NULL,
        http_status INTEGER,
        ma_ket_qua TEXT,
        ma_giao_dich TEXT,
        thoi_gian_tiep_nhan TEXT,
        thong_diep TEXT,
        error TEXT,
        envelope_sha256 TEXT
      );
      CREATE INDEX IF NOT EXISTS receipts_claim ON receipts(ma_lk, version);
      CREATE INDEX IF NOT EXISTS receipts_giao_dich ON receipts(ma_giao_dich);
      -- Receipts are evidence: the database refuses to change or delete them.
      CREATE TRIGGER IF NOT EXISTS receipts_no_delete BEFORE DELETE ON receipts BEGIN SELECT RAISE(ABORT, 'receipts are kept permanently'); END;
      CREATE TRIGGER IF NOT EXISTS receipts_no_update BEFORE UPDATE ON receipts BEGIN SELECT RAISE(ABORT, 'receipts are kept permanently'); END;
      CREATE TABLE IF NOT EXISTS gateway_credentials (
        profile TEXT PRIMARY KEY,
        username TEXT NOT NULL,
        password_enc TEXT NOT NULL,
        updated_at TEXT NOT NULL
      );
    `);
  }

  close(): void {
    this.db.close();
  }

  /** Stores a built claim: a new version, an in-place update of an unsent version, or nothing when unchanged. */
  saveBuilt(input: SaveClaimInput): SaveOutcome {
    const tx = this.db.transaction((): SaveOutcome => {
      const latest = this.latestRow(input.maLk);
      const status: ClaimStatus = input.errors > 0 || !input.envelope ? 'invalid' : 'ready';
      const values = {
        ma_lk: input.maLk,
        format_version: input.formatVersion,
        status,
        ma_bn: input.summary.maBn ?? null,
        ho_ten: input.summary.hoTen ?? null,
        ma_the: input.summary.maThe ?? null,
        ma_loai_kcb: input.summary.maLoaiKcb ?? null,
        ngay_vao: input.summary.ngayVao ?? null,
        ngay_ra: input.summary.ngayRa ?? null,
        period: input.summary.period ?? null,
        t_tongchi_bv: input.summary.tTongChiBv ?? null,
        t_bhtt: input.summary.tBhtt ?? null,
        errors: input.errors,
        warnings: input.warnings,
        findings: JSON.stringify(input.findings),
        content_sha256: input.contentSha256,
        envelope: input.envelope ?? null,
        envelope_sha256: input.envelope ? sha256(input.envelope) : null,
        ts: now(),
      };
      if (latest && latest.content_sha256 === input.contentSha256 && latest.format_version === input.formatVersion) {
        return { version: latest.version, action: 'unchanged', status: latest.status as ClaimStatus };
      }
      const sealed = latest && (latest.attempts > 0 || latest.status === 'accepted');
      if (latest && !sealed) {
        this.db
          .prepare(
            `UPDATE claims SET format_version=@format_version, status=@status, ma_bn=@ma_bn, ho_ten=@ho_ten, ma_the=@ma_the, ma_loai_kcb=@ma_loai_kcb,
             ngay_vao=@ngay_vao, ngay_ra=@ngay_ra, period=@period, t_tongchi_bv=@t_tongchi_bv, t_bhtt=@t_bhtt, errors=@errors, warnings=@warnings,
             findings=@findings, content_sha256=@content_sha256, envelope=@envelope, envelope_sha256=@envelope_sha256, updated_at=@ts
             WHERE ma_lk=@ma_lk AND version=@version AND attempts=0`,
          )
          .run({ ...values, version: latest.version });
        return { version: latest.version, action: 'updated', status };
      }
      const version = latest ? latest.version + 1 : 1;
      this.db
        .prepare(
          `INSERT INTO claims (ma_lk, version, format_version, status, ma_bn, ho_ten, ma_the, ma_loai_kcb, ngay_vao, ngay_ra, period, t_tongchi_bv, t_bhtt,
           errors, warnings, findings, content_sha256, envelope, envelope_sha256, attempts, built_at, updated_at)
           VALUES (@ma_lk, @version, @format_version, @status, @ma_bn, @ho_ten, @ma_the, @ma_loai_kcb, @ngay_vao, @ngay_ra, @period, @t_tongchi_bv, @t_bhtt,
           @errors, @warnings, @findings, @content_sha256, @envelope, @envelope_sha256, 0, @ts, @ts)`,
        )
        .run({ ...values, version });
      return { version, action: 'created', status };
    });
    return tx.immediate();
  }

  private latestRow(maLk: string): (RawClaim & { envelope?: Buffer }) | undefined {
    return this.db.prepare('SELECT * FROM claims WHERE ma_lk = ? ORDER BY version DESC LIMIT 1').get(maLk) as RawClaim | undefined;
  }

  get(maLk: string, version?: number): ClaimRow | undefined {
    const raw = version === undefined ? this.latestRow(maLk) : (this.db.prepare('SELECT * FROM claims WHERE ma_lk = ? AND version = ?').get(maLk, version) as RawClaim | undefined);
    return raw ? toRow(raw) : undefined;
  }

  versions(maLk: string): ClaimRow[] {
    return (this.db.prepare('SELECT * FROM claims WHERE ma_lk = ? ORDER BY version').all(maLk) as RawClaim[]).map(toRow);
  }

  envelope(maLk: string, version: number): Buffer | undefined {
    const r = this.db.prepare('SELECT envelope FROM claims WHERE ma_lk = ? AND version = ?').get(maLk, version) as { envelope: Buffer | null } | undefined;
    return r?.envelope ?? undefined;
  }

  list(query: ClaimQuery = {}): ClaimRow[] {
    const where: string[] = [];
    const params: Record<string, unknown> = {};
    if (query.status) {
      const statuses = Array.isArray(query.status) ? query.status : [query.status];
      where.push(`status IN (${statuses.map((_, i) => `@s${i}`).join(', ')})`);
      statuses.forEach((s, i) => (params[`s${i}`] = s));
    }
    if (query.period) {
      where.push('period = @period');
      params.period = query.period;
    }
    if (query.from) {
      where.push('substr(ngay_ra, 1, 8) >= @from');
      params.from = query.from;
    }
    if (query.to) {
      where.push('substr(ngay_ra, 1, 8) <= @to');
      params.to = query.to;
    }
    if (query.maLk) {
      where.push('ma_lk = @maLk');
      params.maLk = query.maLk;
    }
    if (query.latestOnly !== false) where.push('version = (SELECT MAX(version) FROM claims c2 WHERE c2.ma_lk = claims.ma_lk)');
    const sql = `SELECT ma_lk, version, format_version, status, ma_bn, ho_ten, ma_the, ma_loai_kcb, ngay_vao, ngay_ra, period, t_tongchi_bv, t_bhtt, errors, warnings,
      findings, content_sha256, envelope_sha256, attempts, last_error, built_at, updated_at FROM claims ${where.length ? `WHERE ${where.join(' AND ')}` : ''}
      ORDER BY ngay_ra DESC, ma_lk LIMIT @limit OFFSET @offset`;
    return (this.db.prepare(sql).all({ ...params, limit: query.limit ?? 500, offset: query.offset ?? 0 }) as RawClaim[]).map(toRow);
  }

  /** Claim counts by status (latest versions), for the console and metrics. */
  countsByStatus(): Record<string, number> {
    const rows = this.db
      .prepare('SELECT status, COUNT(*) AS n FROM claims WHERE version = (SELECT MAX(version) FROM claims c2 WHERE c2.ma_lk = claims.ma_lk) GROUP BY status')
      .all() as Array<{ status: string; n: number }>;
    return Object.fromEntries(rows.map((r) => [r.status, r.n]));
  }

  /**
   * Atomically moves a claim version from ready/failed to sending and counts the attempt. Returns
   * undefined (and sends nothing) when the version is in any other state: accepted, rejected,
   * being sent by someone else, or unconfirmed.
   */
  beginSend(maLk: string, version: number): { attempt: number; envelope: Buffer } | undefined {
    const tx = this.db.transaction(() => {
      const r = this.db.prepare("SELECT status, attempts, envelope FROM claims WHERE ma_lk = ? AND version = ?").get(maLk, version) as
        | { status: ClaimStatus; attempts: number; envelope: Buffer | null }
        | undefined;
      if (!r || !r.envelope || (r.status !== 'ready' && r.status !== 'failed')) return undefined;
      const attempt = r.attempts + 1;
      this.db.prepare("UPDATE claims SET status = 'sending', attempts = ?, updated_at = ? WHERE ma_lk = ? AND version = ?").run(attempt, now(), maLk, version);
      return { attempt, envelope: r.envelope };
    });
    return tx.immediate();
  }

  /** Records the receipt of an attempt and the claim's resulting status, in one transaction. */
  finishSend(maLk: string, version: number, receipt: Omit<ReceiptRow, 'id' | 'maLk' | 'version'>): ReceiptRow {
    const tx = this.db.transaction(() => {
      const info = this.db
        .prepare(
          `INSERT INTO receipts (ma_lk, version, attempt, kind, endpoint, sent_at, finished_at, outcome, http_status, ma_ket_qua, ma_giao_dich, thoi_gian_tiep_nhan, thong_diep, error, envelope_sha256)
           VALUES (@maLk, @version, @attempt, @kind, @endpoint, @sentAt, @finishedAt, @outcome, @httpStatus, @maKetQua, @maGiaoDich, @thoiGianTiepNhan, @thongDiep, @error, @envelopeSha256)`,
        )
        .run({
          maLk,
          version,
          attempt: receipt.attempt,
          kind: receipt.kind,
          endpoint: receipt.endpoint,
          sentAt: receipt.sentAt,
          finishedAt: receipt.finishedAt ?? null,
          outcome: receipt.outcome,
          httpStatus: receipt.httpStatus ?? null,
          maKetQua: receipt.maKetQua ?? null,
          maGiaoDich: receipt.maGiaoDich ?? null,
          thoiGianTiepNhan: receipt.thoiGianTiepNhan ?? null,
          thongDiep: receipt.thongDiep ?? null,
          error: receipt.error ?? null,
          envelopeSha256: receipt.envelopeSha256 ?? null,
        });
      if (receipt.kind === 'claim') {
        this.db
          .prepare('UPDATE claims SET status = ?, last_error = ?, updated_at = ? WHERE ma_lk = ? AND version = ?')
          .run(receipt.outcome, receipt.outcome === 'accepted' ? null : (receipt.thongDiep ?? receipt.error ?? null), now(), maLk, version);
      }
      return Number(info.lastInsertRowid);
    });
    const id = tx.immediate();
    return { id, maLk, version, ...receipt };
  }

  /** Records a check-in receipt (check-ins are not claim versions). */
  recordCheckIn(maLk: string, receipt: Omit<ReceiptRow, 'id' | 'maLk' | 'version' | 'kind'>): ReceiptRow {
    return this.finishSend(maLk, 0, { ...receipt, kind: 'checkin' });
  }

  receipts(maLk?: string, version?: number): ReceiptRow[] {
    const rows =
      maLk === undefined
        ? this.db.prepare('SELECT * FROM receipts ORDER BY id DESC LIMIT 1000').all()
        : version === undefined
          ? this.db.prepare('SELECT * FROM receipts WHERE ma_lk = ? ORDER BY id').all(maLk)
          : this.db.prepare('SELECT * FROM receipts WHERE ma_lk = ? AND version = ? ORDER BY id').all(maLk, version);
    return (rows as RawReceipt[]).map(toReceipt);
  }

  /**
   * After a crash a version may be left in `sending`: whether the gateway got it is unknown, so it
   * becomes `unconfirmed` (never resent automatically). Returns how many were changed.
   */
  recoverInterrupted(): number {
    return this.db.prepare("UPDATE claims SET status = 'unconfirmed', last_error = 'the process stopped during the send', updated_at = ? WHERE status = 'sending'").run(now()).changes;
  }

  /**
   * Deliberate resubmission of unchanged content (e.g. the gateway refused it for a reason fixed on
   * its side): a new version with the same envelope, ready to send. Refused while a send of the
   * latest version is in progress or unconfirmed.
   */
  reopen(maLk: string): SaveOutcome | undefined {
    const tx = this.db.transaction((): SaveOutcome | undefined => {
      const latest = this.latestRow(maLk);
      if (!latest || !latest.envelope || !['accepted', 'rejected'].includes(latest.status)) return undefined;
      const version = latest.version + 1;
      this.db
        .prepare(
          `INSERT INTO claims (ma_lk, version, format_version, status, ma_bn, ho_ten, ma_the, ma_loai_kcb, ngay_vao, ngay_ra, period, t_tongchi_bv, t_bhtt,
           errors, warnings, findings, content_sha256, envelope, envelope_sha256, attempts, built_at, updated_at)
           SELECT ma_lk, ?, format_version, 'ready', ma_bn, ho_ten, ma_the, ma_loai_kcb, ngay_vao, ngay_ra, period, t_tongchi_bv, t_bhtt,
           errors, warnings, findings, content_sha256, envelope, envelope_sha256, 0, ?, ? FROM claims WHERE ma_lk = ? AND version = ?`,
        )
        .run(version, now(), now(), maLk, latest.version);
      return { version, action: 'created', status: 'ready' };
    });
    return tx.immediate();
  }

  /** An operator checked the portal: the unconfirmed version was not received, so it may be sent again. */
  confirmNotReceived(maLk: string, version: number): boolean {
    return this.db.prepare("UPDATE claims SET status = 'failed', updated_at = ? WHERE ma_lk = ? AND version = ? AND status = 'unconfirmed'").run(now(), maLk, version).changes === 1;
  }

  /** An operator checked the portal: the unconfirmed version was received. */
  confirmReceived(maLk: string, version: number, maGiaoDich?: string): boolean {
    const tx = this.db.transaction(() => {
      const changed = this.db.prepare("UPDATE claims SET status = 'accepted', last_error = NULL, updated_at = ? WHERE ma_lk = ? AND version = ? AND status = 'unconfirmed'").run(now(), maLk, version).changes === 1;
      if (changed) {
        const attempt = (this.db.prepare('SELECT attempts FROM claims WHERE ma_lk = ? AND version = ?').get(maLk, version) as { attempts: number }).attempts;
        this.db
          .prepare("INSERT INTO receipts (ma_lk, version, attempt, kind, endpoint, sent_at, finished_at, outcome, ma_giao_dich, thong_diep) VALUES (?, ?, ?, 'claim', 'portal', ?, ?, 'accepted', ?, 'confirmed received on the portal by an operator')")
          .run(maLk, version, attempt, now(), now(), maGiaoDich ?? null);
      }
      return changed;
    });
    return tx.immediate();
  }

  saveCredentials(profile: string, username: string, passwordEncrypted: string): void {
    this.db
      .prepare('INSERT INTO gateway_credentials (profile, username, password_enc, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT(profile) DO UPDATE SET username = excluded.username, password_enc = excluded.password_enc, updated_at = excluded.updated_at')
      .run(profile, username, passwordEncrypted, now());
  }

  credentials(profile: string): { username: string; passwordEncrypted: string } | undefined {
    const r = this.db.prepare('SELECT username, password_enc FROM gateway_credentials WHERE profile = ?').get(profile) as { username: string; password_enc: string } | undefined;
    return r ? { username: r.username, passwordEncrypted: r.password_enc } : undefined;
  }
}

interface RawClaim {
  ma_lk: string;
  version: number;
  format_version: string;
  status: string;
  ma_bn: string | null;
  ho_ten: string | null;
  ma_the: string | null;
  ma_loai_kcb: string | null;
  ngay_vao: string | null;
  ngay_ra: string | null;
  period: string | null;
  t_tongchi_bv: string | null;
  t_bhtt: string | null;
  errors: number;
  warnings: number;
  findings: string;
  content_sha256: string;
  envelope_sha256: string | null;
  attempts: number;
  last_error: string | null;
  built_at: string;
  updated_at: string;
}

const opt = <T>(v: T | null): T | undefined => (v === null ? undefined : v);

function toRow(r: RawClaim): ClaimRow {
  return {
    maLk: r.ma_lk,
    version: r.version,
    formatVersion: r.format_version,
    status: r.status as ClaimStatus,
    maBn: opt(r.ma_bn),
    hoTen: opt(r.ho_ten),
    maThe: opt(r.ma_the),
    maLoaiKcb: opt(r.ma_loai_kcb),
    ngayVao: opt(r.ngay_vao),
    ngayRa: opt(r.ngay_ra),
    period: opt(r.period),
    tTongChiBv: opt(r.t_tongchi_bv),
    tBhtt: opt(r.t_bhtt),
    errors: r.errors,
    warnings: r.warnings,
    findings: JSON.parse(r.findings) as Finding[],
    contentSha256: r.content_sha256,
    envelopeSha256: opt(r.envelope_sha256),
    attempts: r.attempts,
    lastError: opt(r.last_error),
    builtAt: r.built_at,
    updatedAt: r.updated_at,
  };
}

interface RawReceipt {
  id: number;
  ma_lk: string;
  version: number;
  attempt: number;
  kind: string;
  endpoint: string;
  sent_at: string;
  finished_at: string | null;
  outcome: string;
  http_status: number | null;
  ma_ket_qua: string | null;
  ma_giao_dich: string | null;
  thoi_gian_tiep_nhan: string | null;
  thong_diep: string | null;
  error: string | null;
  envelope_sha256: string | null;
}

function toReceipt(r: RawReceipt): ReceiptRow {
  return {
    id: r.id,
    maLk: r.ma_lk,
    version: r.version,
    attempt: r.attempt,
    kind: r.kind as ReceiptRow['kind'],
    endpoint: r.endpoint,
    sentAt: r.sent_at,
    finishedAt: opt(r.finished_at),
    outcome: r.outcome as ReceiptRow['outcome'],
    httpStatus: opt(r.http_status),
    maKetQua: opt(r.ma_ket_qua),
    maGiaoDich: opt(r.ma_giao_dich),
    thoiGianTiepNhan: opt(r.thoi_gian_tiep_nhan),
    thongDiep: opt(r.thong_diep),
    error: opt(r.error),
    envelopeSha256: opt(r.envelope_sha256),
  };
}

// Users, API tokens, sessions and the audit log, in their own SQLite file (data/security.db).
// Passwords are scrypt-hashed with a per-user salt; tokens are random and only their SHA-256 is
// kept, so a copy of the database reveals neither. No default password exists: the first start
// creates an `admin` user with a generated password that is printed once.
import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';

export const roles = ['admin', 'operator', 'viewer', 'clinician'] as const;
export type Role = (typeof roles)[number];

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

const grants: Record<Role, Permission[]> = {
  admin: ['channels:read', 'channels:control', 'messages:read', 'messages:content', 'messages:reprocess', 'dlq:manage', 'users:manage', 'audit:read', 'devices:manage', 'emr:read', 'claims:read', 'claims:submit'],
  operator: ['channels:read', 'channels:control', 'messages:read', 'messages:content', 'messages:reprocess', 'dlq:manage', 'devices:manage', 'claims:read', 'claims:submit'],
  viewer: ['channels:read', 'messages:read', 'claims:read'],
  clinician: ['emr:read'],
};

export function can(role: Role, permission: Permission): boolean {
  return grants[role].includes(permission);
}

export function permissionsOf(role: Role): Permission[] {
  return [...grants[role]];
}

export interface User {
  username: string;
  role: Role;
  displayName: string | null;
  disabled: boolean;
  createdAt: string;
}

export interface AuditEntry {
  id: number;
  at: string;
  username: string;
  action: string;
  /** What was read or changed: `message:123`, `channel:lab`, `document:…`. */
  target: string | null;
  patientId: string | null;
  detail: string | null;
  remote: string | null;
}

export class AuthError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AuthError';
  }
}

const SESSION_HOURS = 12;

function sha256(text: string): string {
  return crypto.createHash('sha256').update(text).digest('hex');
}

function hashPassword(password: string): string {
  const salt = crypto.randomBytes(16);
  const hash = crypto.scryptSync(password, salt, 32, { N: 16384, r: 8, p: 1 });
  return `scrypt$16384$8$1$${salt.toString('base64')}$${hash.toString('base64')}`;
}

function verifyPassword(password: string, stored: string): boolean {
  const [scheme, n, r, p, salt, hash] = stored.split('$');
  if (scheme !== 'scrypt') return false;
  const expected = Buffer.from(hash, 'base64');
  const actual = crypto.scryptSync(password, Buffer.from(salt, 'base64'), expected.length, { N: Number(n), r: Number(r), p: Number(p) });
  return crypto.timingSafeEqual(actual, expected);
}

export function generatePassword(): string {
  // 18 random bytes → 24 base64url characters; no look-alike issues matter for a one-time print.
  return crypto.randomBytes(18).toString('base64url');
}

export function validatePassword(password: string): void {
  if (password.length < 12) throw new AuthError('password must be at least 12 characters');
}

export class SecurityStore {
  private readonly db: Database.Database;

  constructor(file: string) {
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS users (username TEXT PRIMARY KEY, password_hash TEXT NOT NULL, role TEXT NOT NULL,
        display_name TEXT, disabled INTEGER NOT NULL DEFAULT 0, created_at INTEGER NOT NULL, password_changed_at INTEGER NOT NULL);
      CREATE TABLE IF NOT EXISTS tokens (id INTEGER PRIMARY KEY AUTOINCREMENT, username TEXT NOT NULL, token_hash TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL, name TEXT, created_at INTEGER NOT NULL, expires_at INTEGER, last_used_at INTEGER);
      CREATE TABLE IF NOT EXISTS audit (id INTEGER PRIMARY KEY AUTOINCREMENT, at INTEGER NOT NULL, username TEXT NOT NULL, action TEXT NOT NULL,
        target TEXT, patient_id TEXT, detail TEXT, remote TEXT);
      CREATE INDEX IF NOT EXISTS audit_at ON audit (at);
      CREATE INDEX IF NOT EXISTS audit_patient ON audit (patient_id) WHERE patient_id IS NOT NULL;
    `);
  }

  hasUsers(): boolean {
    return !!this.db.prepare('SELECT 1 FROM users LIMIT 1').get();
  }

  /** First start: creates `admin` with a generated password and returns it (to print once). */
  bootstrapAdmin(): string | undefined {
    if (this.hasUsers()) return undefined;
    const password = generatePassword();
    this.addUser('admin', password, 'admin', 'Administrator');
    return password;
  }

  addUser(username: string, password: string, role: Role, displayName?: string): User {
    if (!/^[a-z0-9._-]{2,64}$/i.test(username)) throw new AuthError('username: use 2–64 letters, digits, dot, dash or underscore');
    if (!roles.includes(role)) throw new AuthError(`role: must be one of ${roles.join(', ')}`);
    validatePassword(password);
    const now = Date.now();
    try {
      this.db.prepare('INSERT INTO users (username, password_hash, role, display_name, created_at, password_changed_at) VALUES (?, ?, ?, ?, ?, ?)').run(username, hashPassword(password), role, displayName ?? null, now, now);
    } catch (error) {
      if (String((error as Error).message).includes('UNIQUE')) throw new AuthError(`user "${username}" already exists`);
      throw error;
    }
    return this.getUser(username)!;
  }

  getUser(username: string): User | undefined {
    const row = this.db.prepare('SELECT username, role, display_name, disabled, created_at FROM users WHERE username = ?').get(username) as any;
    return row ? { username: row.username, role: row.role, displayName: row.display_name, disabled: row.disabled === 1, createdAt: new Date(row.created_at).toISOString() } : undefined;
  }

  listUsers(): User[] {
    return (this.db.prepare('SELECT username FROM users ORDER BY username').all() as any[]).map((r) => this.getUser(r.username)!);
  }

  setPassword(username: string, password: string): void {
    validatePassword(password);
    const changed = this.db.prepare('UPDATE users SET password_hash = ?, password_changed_at = ? WHERE username = ?').run(hashPassword(password), Date.now(), username);
    if (changed.changes === 0) throw new AuthError(`no user "${username}"`);
    // Existing sessions end with a password change.
    this.db.prepare(`DELETE FROM tokens WHERE username = ? AND kind = 'session'`).run(username);
  }

  setRole(username: string, role: Role): void {
    if (!roles.includes(role)) throw new AuthError(`role: must be one of ${roles.join(', ')}`);
    if (this.db.prepare('UPDATE users SET role = ? WHERE username = ?').run(role, username).changes === 0) throw new AuthError(`no user "${username}"`);
  }

  setDisabled(username: string, disabled: boolean): void {
    if (this.db.prepare('UPDATE users SET disabled = ? WHERE username = ?').run(disabled ? 1 : 0, username).changes === 0) throw new AuthError(`no user "${username}"`);
    if (disabled) this.db.prepare('DELETE FROM tokens WHERE username = ?').run(username);
  }

  checkPassword(username: string, password: string): User | undefined {
    const row = this.db.prepare('SELECT password_hash FROM users WHERE username = ? AND disabled = 0').get(username) as any;
    if (!row) {
      // Same cost as a real check, so timing does not reveal which usernames exist.
      verifyPassword(password, hashPassword('not-a-user-password'));
      return undefined;
    }
    return verifyPassword(password, row.password_hash) ? this.getUser(username) : undefined;
  }

  /** Creates a login session (expires) or a named API token (optional expiry); returns the secret once. */
  issueToken(username: string, kind: 'session' | 'api', options: { name?: string; expiresInDays?: number } = {}): { id: number; token: string; expiresAt: string | null } {
    const token = `hb_${kind === 'session' ? 's' : 't'}_${crypto.randomBytes(24).toString('base64url')}`;
    const now = Date.now();
    const expiresAt = kind === 'session' ? now + SESSION_HOURS * 3_600_000 : options.expiresInDays ? now + options.expiresInDays * 86_400_000 : null;
    const info = this.db.prepare('INSERT INTO tokens (username, token_hash, kind, name, created_at, expires_at) VALUES (?, ?, ?, ?, ?, ?)').run(username, sha256(token), kind, options.name ?? null, now, expiresAt);
    return { id: Number(info.lastInsertRowid), token, expiresAt: expiresAt ? new Date(expiresAt).toISOString() : null };
  }

  /** Resolves a bearer token to its user, or undefined (unknown, expired, or user disabled). */
  authenticate(token: string): User | undefined {
    const row = this.db.prepare('SELECT id, username, expires_at FROM tokens WHERE token_hash = ?').get(sha256(token)) as any;
    if (!row) return undefined;
    if (row.expires_at !== null && row.expires_at < Date.now()) {
      this.db.prepare('DELETE FROM tokens WHERE id = ?').run(row.id);
      return undefined;
    }
    const user = this.getUser(row.username);
    if (!user || user.disabled) return undefined;
    this.db.prepare('UPDATE tokens SET last_used_at = ? WHERE id = ?').run(Date.now(), row.id);
    return user;
  }

  revokeToken(token: string): void {
    this.db.prepare('DELETE FROM tokens WHERE token_hash = ?').run(sha256(token));
  }

  listApiTokens(username?: string): Array<{ id: number; username: string; name: string | null; createdAt: string; expiresAt: string | null; lastUsedAt: string | null }> {
    const rows = this.db.prepare(`SELECT id, username, name, created_at, expires_at, last_used_at FROM tokens WHERE kind = 'api' AND (? IS NULL OR username = ?) ORDER BY id`).all(username ?? null, username ?? null) as any[];
    const iso = (v: number | null) => (v ? new Date(v).toISOString() : null);
    return rows.map((r) => ({ id: r.id, username: r.username, name: r.name, createdAt: iso(r.created_at)!, expiresAt: iso(r.expires_at), lastUsedAt: iso(r.last_used_at) }));
  }

  deleteApiToken(id: number, username?: string): boolean {
    return this.db.prepare(`DELETE FROM tokens WHERE id = ? AND kind = 'api' AND (? IS NULL OR username = ?)`).run(id, username ?? null, username ?? null).changes > 0;
  }

  audit(entry: { username: string; action: string; target?: string; patientId?: string | null; detail?: string; remote?: string }): void {
    this.db
      .prepare('INSERT INTO audit (at, username, action, target, patient_id, detail, remote) VALUES (?, ?, ?, ?, ?, ?, ?)')
      .run(Date.now(), entry.username, entry.action, entry.target ?? null, entry.patientId ?? null, entry.detail ?? null, entry.remote ?? null);
  }

  auditLog(query: { username?: string; patientId?: string; action?: string; beforeId?: number; limit?: number } = {}): AuditEntry[] {
    const rows = this.db
      .prepare(
        `SELECT * FROM audit WHERE (? IS NULL OR username = ?) AND (? IS NULL OR patient_id = ?) AND (? IS NULL OR action = ?) AND (? IS NULL OR id < ?)
         ORDER BY id DESC LIMIT ?`,
      )
      .all(
        query.username ?? null, query.username ?? null,
        query.patientId ?? null, query.patientId ?? null,
        query.action ?? null, query.action ?? null,
        query.beforeId ?? null, query.beforeId ?? null,
        Math.min(query.limit ?? 100, 1000),
      ) as any[];
    return rows.map((r) => ({ id: r.id, at: new Date(r.at).toISOString(), username: r.username, action: r.action, target: r.target, patientId: r.patient_id, detail: r.detail, remote: r.remote }));
  }

  close(): void {
    this.db.close();
  }
}

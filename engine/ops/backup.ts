// Backup and restore. SQLite: every database in the data folder is copied with SQLite's online
// backup API (consistent while the engine keeps writing), plus the certificates (the signing key is
// needed to keep signing). PostgreSQL: pg_dump in custom format, restored with pg_restore.
import Database from 'better-sqlite3';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface BackupManifest {
  createdAt: string;
  kind: 'sqlite' | 'postgres';
  files: string[];
  durationMs: number;
}

function sqliteFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) return sqliteFiles(full).map((f) => path.join(entry.name, f));
    if (!/\.(db|sqlite)$/.test(entry.name)) return [];
    const header = Buffer.alloc(16);
    const fd = fs.openSync(full, 'r');
    fs.readSync(fd, header, 0, 16, 0);
    fs.closeSync(fd);
    return header.toString('latin1').startsWith('SQLite format 3') ? [entry.name] : [];
  });
}

/** Online backup of every SQLite database under dataDir (and the certificates) into target. */
export async function backupSqlite(dataDir: string, certsDir: string, target: string): Promise<BackupManifest> {
  const started = Date.now();
  fs.mkdirSync(path.join(target, 'data'), { recursive: true, mode: 0o700 });
  const files = sqliteFiles(dataDir);
  for (const file of files) {
    const destination = path.join(target, 'data', file);
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    const db = new Database(path.join(dataDir, file), { fileMustExist: true });
    try {
      await db.backup(destination);
    } finally {
      db.close();
    }
  }
  if (fs.existsSync(certsDir)) fs.cpSync(certsDir, path.join(target, 'certs'), { recursive: true });
  const manifest: BackupManifest = { createdAt: new Date().toISOString(), kind: 'sqlite', files, durationMs: Date.now() - started };
  fs.writeFileSync(path.join(target, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

/** Restores a SQLite backup into dataDir (the engine must be stopped). */
export function restoreSqlite(source: string, dataDir: string, certsDir: string): BackupManifest {
  const manifest = JSON.parse(fs.readFileSync(path.join(source, 'manifest.json'), 'utf8')) as BackupManifest;
  if (manifest.kind !== 'sqlite') throw new Error(`${source} holds a ${manifest.kind} backup, not a SQLite one`);
  fs.mkdirSync(dataDir, { recursive: true });
  for (const file of manifest.files) {
    const destination = path.join(dataDir, file);
    for (const suffix of ['-wal', '-shm']) fs.rmSync(destination + suffix, { force: true });
    fs.mkdirSync(path.dirname(destination), { recursive: true });
    fs.copyFileSync(path.join(source, 'data', file), destination);
  }
  if (fs.existsSync(path.join(source, 'certs'))) fs.cpSync(path.join(source, 'certs'), certsDir, { recursive: true });
  return manifest;
}

/** pg_dump in custom format (compressed, restorable table by table). */
export async function backupPostgres(url: string, target: string): Promise<BackupManifest> {
  const started = Date.now();
  fs.mkdirSync(target, { recursive: true, mode: 0o700 });
  await run('pg_dump', ['--format=custom', '--no-owner', `--file=${path.join(target, 'store.pgdump')}`, url], { maxBuffer: 16 * 1024 * 1024 });
  const manifest: BackupManifest = { createdAt: new Date().toISOString(), kind: 'postgres', files: ['store.pgdump'], durationMs: Date.now() - started };
  fs.writeFileSync(path.join(target, 'manifest.json'), JSON.stringify(manifest, null, 2));
  return manifest;
}

/** pg_restore into the (empty or stale) database at url; existing hisbridge objects are replaced. */
export async function restorePostgres(source: string, url: string): Promise<void> {
  await run('pg_restore', ['--clean', '--if-exists', '--no-owner', '--single-transaction', `--dbname=${url}`, path.join(source, 'store.pgdump')], { maxBuffer: 16 * 1024 * 1024 });
}

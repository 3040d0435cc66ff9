// bench/emr: patient-timeline API latency with 1,000,000 stored documents. The index rows are
// generated directly into the EMR store (100,000 patients, ~10 documents each, and one patient with
// 5,000), then the whole application (engine, login, permission check, EMR module, audit row per
// read) answers GET /api/emr/patients/{id}/timeline over HTTP. Baseline in the same run: the same
// query straight on the store (no HTTP, no auth, no audit).
//
//   node --import tsx bench/emr/timeline.ts [documents]
import Database from 'better-sqlite3';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startApplication } from '../../engine/app';
import { engineConfigSchema, type EngineConfig } from '../../engine/config/config';
import { emrModule } from '../../emr/module';
import { verifyDocument } from '../../emr/sign/signer';
import { DocumentStore } from '../../emr/store/document-store';
import { facility } from './_inputs';

const DOCUMENTS = Number(process.argv[2] ?? 1_000_000);
const PATIENTS = 100_000;
const HEAVY = 5_000;
const REQUESTS = 2_000;
const TYPES = ['lab-report', 'imaging-report', 'vital-signs', 'discharge-summary'];

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}

function summary(label: string, ms: number[]): string {
  const s = [...ms].sort((a, b) => a - b);
  return `  ${label.padEnd(58)} p50 ${percentile(s, 50).toFixed(2).padStart(6)} ms   p95 ${percentile(s, 95).toFixed(2).padStart(6)} ms   p99 ${percentile(s, 99).toFixed(2).padStart(6)} ms   max ${s[s.length - 1].toFixed(1)} ms`;
}

async function main(): Promise<void> {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-bench-emr-timeline-'));
  try {
    const dataDir = path.join(root, 'data');
    const file = path.join(dataDir, 'emr', 'emr.db');
    // Create the schema exactly as the store does, then fill the index directly.
    new DocumentStore(file, { audit: () => undefined }, (xml) => verifyDocument(xml, { anchors: [], intermediates: [] })).close();
    const t0 = performance.now();
    const db = new Database(file);
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = OFF');
    const insertDoc = db.prepare(`INSERT INTO documents (id, set_id, version, type, title, patient_id, ma_lk, service_at, created_at, author, source_key, input_hash, replaces, sha256, size)
      VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?, 'Nguyễn Đình Thắng', ?, NULL, NULL, ?, 14000)`);
    const insertPatient = db.prepare(`INSERT INTO patients (id, name, name_folded, cccd, bhyt, birth_date, sex, updated_at) VALUES (?, ?, ?, ?, NULL, '1970-01-01', 'female', 0)`);
    const start = Date.parse('2016-01-01T00:00:00+07:00');
    const span = 10 * 365 * 86_400_000;
    const fill = db.transaction((from: number, to: number) => {
      for (let i = from; i < to; i++) {
        const heavy = i < HEAVY;
        const patient = heavy ? 'BN_HEAVY' : `BN${String(i % PATIENTS).padStart(8, '0')}`;
        const id = crypto.randomUUID();
        const at = start + Math.floor(((i * 2654435761) % 1_000_003) / 1_000_003 * span);
        const type = TYPES[i % 4];
        insertDoc.run(id, id, type, type, patient, `LK${String(Math.floor(i / 3)).padStart(9, '0')}`, at, at + 3_600_000, `${type}:${i}`, id.replace(/-/g, ''));
      }
    });
    for (let i = 0; i < DOCUMENTS; i += 50_000) fill(i, Math.min(DOCUMENTS, i + 50_000));
    db.transaction(() => {
      for (let p = 0; p < PATIENTS; p++) insertPatient.run(`BN${String(p).padStart(8, '0')}`, `Nguyễn Thị ${p}`, `nguyen thi ${p}`, String(p).padStart(12, '0'));
      insertPatient.run('BN_HEAVY', 'Trần Văn Mạn Tính', 'tran van man tinh', '001099999999');
    })();
    db.pragma('wal_checkpoint(TRUNCATE)');
    db.exec('ANALYZE');
    db.close();
    const fillMs = performance.now() - t0;
    const bytes = fs.statSync(file).size;

    const parsed = engineConfigSchema.parse({ api: { port: 0 }, logging: { level: 'error' } });
    const config: EngineConfig = { ...parsed, dataDir, certsDir: path.join(root, 'certs'), channelsDir: path.join(root, 'channels'), logging: { level: 'error', dir: path.join(root, 'logs') }, baseDir: root, file: null };
    fs.mkdirSync(config.channelsDir, { recursive: true });
    const emr = emrModule({ facility, firstStartBuild: false });
    const app = await startApplication(config, { quiet: true, modules: [emr] });
    try {
      app.security.addUser('bs.bench', 'mat-khau-bench-123', 'clinician');
      const login = await fetch(`${app.apiUrl}/api/auth/login`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ username: 'bs.bench', password: 'mat-khau-bench-123' }) });
      const { token } = (await login.json()) as { token: string };
      const headers = { authorization: `Bearer ${token}` };
      const store = emr.service!.store;
      if (store.count() !== DOCUMENTS) throw new Error(`store holds ${store.count()} documents, expected ${DOCUMENTS}`);
      let seed = 42;
      const randomPatient = () => `BN${String((seed = (seed * 1103515245 + 12345) >>> 0) % PATIENTS).padStart(8, '0')}`;

      // Warm-up.
      for (let i = 0; i < 100; i++) await (await fetch(`${app.apiUrl}/api/emr/patients/${randomPatient()}/timeline`, { headers })).json();

      const direct: number[] = [];
      for (let i = 0; i < REQUESTS; i++) {
        const id = randomPatient();
        const t = performance.now();
        store.timeline(id, { limit: 50 });
        direct.push(performance.now() - t);
      }
      const api: number[] = [];
      let documentsSeen = 0;
      for (let i = 0; i < REQUESTS; i++) {
        const t = performance.now();
        const res = await fetch(`${app.apiUrl}/api/emr/patients/${randomPatient()}/timeline`, { headers });
        const body = (await res.json()) as { documents: unknown[] };
        api.push(performance.now() - t);
        if (res.status !== 200) throw new Error(`timeline answered ${res.status}`);
        documentsSeen += body.documents.length;
      }
      const heavy: number[] = [];
      let cursor: string | null = null;
      for (let i = 0; i < 200; i++) {
        const t = performance.now();
        const res = await fetch(`${app.apiUrl}/api/emr/patients/BN_HEAVY/timeline${cursor ? `?before=${cursor}` : ''}`, { headers });
        const body = (await res.json()) as { next: string | null };
        heavy.push(performance.now() - t);
        cursor = body.next;
      }
      const concurrent: number[] = [];
      await Promise.all(
        Array.from({ length: 8 }, async () => {
          for (let i = 0; i < REQUESTS / 8; i++) {
            const t = performance.now();
            await (await fetch(`${app.apiUrl}/api/emr/patients/${randomPatient()}/timeline`, { headers })).json();
            concurrent.push(performance.now() - t);
          }
        }),
      );
      const audits = app.security.auditLog({ action: 'emr-timeline', limit: 1000 }).length;

      console.log(`EMR timeline: ${DOCUMENTS.toLocaleString('en')} documents, ${PATIENTS.toLocaleString('en')} patients + one with ${HEAVY}; index built in ${(fillMs / 1000).toFixed(1)} s, ${(bytes / 1024 / 1024).toFixed(0)} MiB; load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
      console.log(summary(`baseline: store.timeline() direct (${REQUESTS} patients)`, direct));
      console.log(summary(`API GET …/timeline, sequential (${REQUESTS}, ${(documentsSeen / REQUESTS).toFixed(1)} docs/answer)`, api));
      console.log(summary('API, patient with 5,000 documents, 200 pages of 50', heavy));
      console.log(summary(`API, 8 concurrent clients (${REQUESTS})`, concurrent));
      const p95 = percentile([...api].sort((a, b) => a - b), 95);
      console.log(`  audit rows written for timeline reads: ${audits >= 1000 ? '≥ 1000 (one per request)' : audits}`);
      console.log(`  target p95 ≤ 50 ms: ${p95 <= 50 ? 'met' : 'NOT met'} (${p95.toFixed(2)} ms; ratio API / direct p95 ${(p95 / percentile([...direct].sort((a, b) => a - b), 95)).toFixed(1)})`);
    } finally {
      await app.stop();
    }
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
}

main().catch((error) => {
  console.error(error);
  process.exitCode = 1;
});

// bench/console: message search latency through the REST API (what the console's message browser
// calls) over 1,000,000 stored messages, p50/p95 per kind of search and over all of them. The
// messages are appended straight through the SQLite store (group commit, synchronous=normal for
// the generation only), spread over 29 days (one partition per day), five channels, 50,000 patients, Vietnamese names.
// Baseline in the same run: GET /health (an HTTP round trip doing no search) and the newest page
// without any filter.
//   BENCH_MESSAGES=1000000 node --import tsx bench/console/message-search.ts
import fs from 'node:fs';
import path from 'node:path';
import { SqliteMessageStore } from '../../engine/store/sqlite-store';
import type { NewMessage } from '../../engine/store/types';
import { benchRoot, startBenchApp, summary } from './_shared';
import { seededRandom } from '../../engine/util/seeded-random';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const QUERIES_PER_KIND = Number(process.env.BENCH_QUERIES ?? 100);
const PATIENTS = 50_000;
const CHANNELS = ['lab-results', 'adt-his', 'imaging-orders', 'vitals-ward', 'lis-orders'];
const FAMILY = ['Nguyễn', 'Trần', 'Lê', 'Phạm', 'Hoàng', 'Huỳnh', 'Phan', 'Vũ', 'Võ', 'Đặng', 'Bùi', 'Đỗ', 'Hồ', 'Ngô', 'Dương', 'Lý'];
const MIDDLE = ['Văn', 'Thị', 'Hữu', 'Đức', 'Minh', 'Ngọc', 'Thanh', 'Quốc'];
const GIVEN = ['An', 'Bình', 'Châu', 'Dũng', 'Hà', 'Hải', 'Hạnh', 'Hùng', 'Lan', 'Linh', 'Long', 'Mai', 'Nam', 'Phúc', 'Quân', 'Sơn', 'Thảo', 'Trang', 'Tuấn', 'Yến'];
const TESTS = ['Glucose', 'Creatinine', 'ALT', 'AST', 'HbA1c', 'Cholesterol', 'WBC', 'HGB', 'PLT', 'CRP'];
const DAY = 86_400_000;
/** Within the default 30-day retention. */
const SPREAD_DAYS = 29;

// Deterministic, so every run stores the same messages.
const random = seededRandom(42);
const pick = <T>(list: T[]) => list[Math.floor(random() * list.length)];

function patientName(p: number): string {
  return `${FAMILY[p % FAMILY.length]} ${MIDDLE[(p >> 4) % MIDDLE.length]} ${GIVEN[(p >> 7) % GIVEN.length]}`;
}

function message(i: number, start: number): NewMessage {
  const patient = Math.floor(random() * PATIENTS);
  const channelId = CHANNELS[i % CHANNELS.length];
  const roll = random();
  const status = roll < 0.02 ? 'ERROR' : roll < 0.05 ? 'FILTERED' : 'SENT';
  const controlId = `CTL${i.toString().padStart(8, '0')}`;
  const accession = `XN${(i >> 2).toString().padStart(8, '0')}`;
  const test = pick(TESTS);
  const raw = Buffer.from(`MSH|^~\\&|LIS|BV|HIS|BV|20261122101500||ORU^R01|${controlId}|P|2.5.1\rPID|1||BN${patient}^^^BV^MR||${patientName(patient).replace(' ', '^')}\rOBR|1|${accession}||${test}\rOBX|1|NM|${test}||${(random() * 10).toFixed(1)}|mmol/L|||||F\r`);
  return {
    channelId,
    receivedAt: new Date(start + Math.floor((i / TOTAL) * SPREAD_DAYS * DAY)),
    status,
    contentType: 'application/hl7-v2',
    size: raw.length,
    origin: { remote: '10.0.0.5' },
    correlation: { patientId: `BN${patient}`, accession, controlId, messageType: 'ORU^R01' },
    meta: { patientName: patientName(patient), test },
    error: status === 'ERROR' ? `transformer: OBX-5 "${test}" is not a number` : undefined,
    contents: [{ stage: 'raw', contentType: 'application/hl7-v2', data: raw }],
    deliveries: [],
  };
}

/** Consecutive runs of messages received on the same (UTC) day: one partition each. */
function byDay(messages: NewMessage[]): NewMessage[][] {
  const groups: NewMessage[][] = [];
  for (const m of messages) {
    const last = groups[groups.length - 1];
    if (last && Math.floor(last[0].receivedAt.getTime() / DAY) === Math.floor(m.receivedAt.getTime() / DAY)) last.push(m);
    else groups.push([m]);
  }
  return groups;
}

async function generate(file: string): Promise<number> {
  const started = performance.now();
  const store = new SqliteMessageStore({ file, synchronous: 'normal' });
  const start = Date.now() - SPREAD_DAYS * DAY;
  const realNow = Date.now;
  const batch = 2000;
  try {
    for (let i = 0; i < TOTAL; i += batch) {
      const messages: NewMessage[] = [];
      for (let j = i; j < Math.min(TOTAL, i + batch); j++) messages.push(message(j, start));
      // The store files a message in the partition of the moment it is written: replay the 30 days
      // by moving the clock the store reads, so the messages land in their own day's partition.
      for (const group of byDay(messages)) {
        const at = group[0].receivedAt.getTime();
        Date.now = () => at;
        await Promise.all(group.map((m) => store.append(m)));
      }
      if ((i / batch) % 50 === 0) process.stdout.write(`  generated ${i + batch} / ${TOTAL}\r`);
    }
  } finally {
    Date.now = realNow;
  }
  await store.close();
  process.stdout.write('\n');
  return (performance.now() - started) / 1000;
}

async function timeGet(url: string, token: string): Promise<{ ms: number; count: number }> {
  const started = performance.now();
  const res = await fetch(url, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { messages?: unknown[] };
  if (!res.ok) throw new Error(`${url}: ${res.status} ${JSON.stringify(body)}`);
  return { ms: performance.now() - started, count: body.messages?.length ?? 0 };
}

(async () => {
  const root = benchRoot('hisbridge-bench-console-');
  try {
    const dataDir = path.join(root, 'data');
    fs.mkdirSync(dataDir, { recursive: true });
    const storeFile = path.join(dataDir, 'store.db');
    // BENCH_STORE=/path/store.db keeps the generated store there and reuses it on the next run.
    const kept = process.env.BENCH_STORE;
    if (kept && fs.existsSync(kept)) {
      console.log(`bench/console message search: reusing ${kept}`);
      fs.copyFileSync(kept, storeFile);
    } else {
      console.log(`bench/console message search: generating ${TOTAL.toLocaleString('en')} messages…`);
      const seconds = await generate(storeFile);
      console.log(`generated in ${seconds.toFixed(1)} s (${Math.round(TOTAL / seconds).toLocaleString('en')} messages/s)`);
      if (kept) fs.copyFileSync(storeFile, kept);
    }
    console.log(`store ${(fs.statSync(storeFile).size / 1024 / 1024).toFixed(0)} MiB`);

    const bench = await startBenchApp(root);
    const base = bench.app.apiUrl;
    const now = Date.now();
    const q = (params: Record<string, string | number>) => `${base}/api/messages?${new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]))}`;
    const kinds: Array<[string, () => string]> = [
      ['baseline: GET /health', () => `${base}/health`],
      ['baseline: newest page, no filter', () => q({ limit: 50 })],
      ['patient id', () => q({ patientId: `BN${Math.floor(random() * PATIENTS)}` })],
      ['control id', () => q({ controlId: `CTL${Math.floor(random() * TOTAL).toString().padStart(8, '0')}` })],
      ['accession', () => q({ accession: `XN${Math.floor((random() * TOTAL) / 4).toString().padStart(8, '0')}` })],
      ['channel', () => q({ channel: pick(CHANNELS) })],
      ['status ERROR', () => q({ status: 'ERROR' })],
      ['channel + status ERROR', () => q({ channel: pick(CHANNELS), status: 'ERROR' })],
      ['text: patient name word (common)', () => q({ text: pick(GIVEN) })],
      ['text: full name, no diacritics', () => q({ text: patientName(Math.floor(random() * PATIENTS)).normalize('NFD').replace(/[\u0300-\u036f]/g, '').replace(/đ/g, 'd').replace(/Đ/g, 'D') })],
      ['time range: one hour 20 days ago', () => {
        const from = now - 20 * DAY + Math.floor(random() * 3600_000);
        return q({ from: new Date(from).toISOString(), to: new Date(from + 3600_000).toISOString() });
      }],
      ['deep page: before an id in the middle', () => q({ before: Math.floor(TOTAL / 2 + random() * 1000) })],
      ['deep page + channel, before an old id', () => q({ channel: pick(CHANNELS), before: Math.floor(random() * TOTAL * 0.1) + 100 })],
    ];
    // Warm-up: the first query of each kind pays statement preparation and a cold page cache.
    for (const [, url] of kinds) await timeGet(url(), bench.token);
    const all: number[] = [];
    const rows: string[] = [];
    let baseline = 0;
    for (const [name, url] of kinds) {
      const samples: number[] = [];
      let found = 0;
      for (let i = 0; i < QUERIES_PER_KIND; i++) {
        const { ms, count } = await timeGet(url(), bench.token);
        samples.push(ms);
        found += count;
      }
      const s = summary(samples);
      if (name.startsWith('baseline: GET')) baseline = s.p95;
      else if (!name.startsWith('baseline')) all.push(...samples);
      rows.push(`| ${name} | ${s.p50} | ${s.p95} | ${s.max} | ${(found / QUERIES_PER_KIND).toFixed(1)} |`);
    }
    const overall = summary(all);
    console.log(`\n| search (${QUERIES_PER_KIND} queries each, over ${TOTAL.toLocaleString('en')} messages) | p50 ms | p95 ms | max ms | rows/answer |`);
    console.log('|---|---|---|---|---|');
    for (const row of rows) console.log(row);
    console.log(`| **all searches** | ${overall.p50} | ${overall.p95} | ${overall.max} | |`);
    console.log(`\nsearch p95 ${overall.p95} ms (target ≤ 200 ms: ${overall.p95 <= 200 ? 'met' : 'NOT met'}); baseline GET /health p95 ${baseline} ms; ratio ${(overall.p95 / baseline).toFixed(1)}×`);
    await bench.stop();
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
})().catch((error) => {
  console.error(error);
  process.exit(1);
});

// bench/scale: throughput with 1, 2 and 3 engine nodes on one PostgreSQL (HTTP in → store →
// HTTP out to a deduplicating recorder). Reports acknowledged and delivered messages/s per node
// count, so the curve shows where the database becomes the limit.
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { freePort, startRecorder } from '../../test/helpers/engine';
import { createTestDatabase } from '../../test/helpers/stores';

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 20_000);
const IN_FLIGHT = Number(process.env.BENCH_IN_FLIGHT ?? 96);

async function startNode(pgUrl: string, id: string, port: number, singletonPort: number, url: string): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../../test/fixtures/engine/node-child.ts'), pgUrl, id, String(port), String(singletonPort), url], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => d.toString().includes('READY') && resolve());
    child.once('exit', (code) => reject(new Error(`node exited ${code}`)));
  });
  return child;
}

async function run(nodeCount: number) {
  const db = await createTestDatabase();
  const recorder = await startRecorder();
  const singletonPort = await freePort();
  const ports: number[] = [];
  const children: ChildProcess[] = [];
  for (let i = 0; i < nodeCount; i++) {
    ports.push(await freePort());
    children.push(await startNode(db.url, `n${i}`, ports[i], singletonPort, recorder.url));
  }
  const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async (_, w) => {
      while (next < TOTAL) {
        const i = next++;
        const port = ports[(i + w) % ports.length];
        await new Promise<void>((resolve, reject) => {
          const req = http.request({ host: '127.0.0.1', port, method: 'POST', agent, headers: { 'x-patient-id': `P${i % 500}` } }, (res) => {
            res.resume();
            res.on('end', () => (res.statusCode === 200 ? resolve() : reject(new Error(`HTTP ${res.statusCode}`))));
          });
          req.on('error', reject);
          req.end(`message ${i}`.padEnd(1024, '.'));
        });
      }
    }),
  );
  const ackSeconds = (performance.now() - started) / 1000;
  while (recorder.unique.size < TOTAL) await new Promise((r) => setTimeout(r, 20));
  const deliveredSeconds = (performance.now() - started) / 1000;
  for (const c of children) c.kill('SIGKILL');
  agent.destroy();
  await recorder.close();
  await new Promise((r) => setTimeout(r, 300));
  await db.drop();
  return { nodes: nodeCount, acknowledgedPerSecond: Math.round(TOTAL / ackSeconds), deliveredPerSecond: Math.round(TOTAL / deliveredSeconds) };
}

(async () => {
  const counts = (process.env.BENCH_NODES ?? '1,2,3').split(',').map(Number);
  const results = [];
  for (const n of counts) {
    const r = await run(n);
    console.log(JSON.stringify(r));
    results.push(r);
  }
  const base = results[0];
  console.log(JSON.stringify({ messages: TOTAL, inFlight: IN_FLIGHT, scaling: results.map((r) => ({ nodes: r.nodes, deliveredRatioTo1Node: Math.round((r.deliveredPerSecond / base.deliveredPerSecond) * 100) / 100 })) }));
})();

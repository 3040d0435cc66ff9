// Acceptance (operations at scale): three engine nodes on one PostgreSQL; one is SIGKILLed mid-stream.
// Every acknowledged message is delivered, none twice at a destination that dedupes on the
// idempotency key, per-patient order holds, and the singleton listener moves to a survivor.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import path from 'node:path';
import { freePort, startRecorder, waitFor } from '../helpers/engine';
import { requireService } from '../helpers/peers';
import { createTestDatabase } from '../helpers/stores';

const TOTAL = Number(process.env.FAILOVER_MESSAGES ?? 50_000);
const IN_FLIGHT = 48;

interface Node {
  id: string;
  port: number;
  child: ChildProcess;
  output: string[];
}

function startNode(pgUrl: string, id: string, port: number, singletonPort: number, url: string): Promise<Node> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(__dirname, '../fixtures/engine/node-child.ts'), pgUrl, id, String(port), String(singletonPort), url], { stdio: ['ignore', 'pipe', 'inherit'] });
  const node: Node = { id, port, child, output: [] };
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => {
      node.output.push(...d.toString().split('\n').filter(Boolean));
      if (node.output.includes('READY')) resolve(node);
    });
    child.once('exit', (code) => reject(new Error(`node ${id} exited with ${code} before READY`)));
  });
}

describe('operations at scale: three nodes on one PostgreSQL', function () {
  this.timeout(300_000);

  it(`loses nothing of ${TOTAL} messages when a node is SIGKILLed, and the singleton listener moves`, async function () {
    await requireService(this, 'PostgreSQL', '127.0.0.1', 5432);
    const db = await createTestDatabase();
    const recorder = await startRecorder();
    const singletonPort = await freePort();
    const nodes: Node[] = [];
    // If the test times out, its finally block never runs: never leave engine nodes behind.
    const killAll = () => nodes.forEach((n) => n.child.kill('SIGKILL'));
    process.once('exit', killAll);
    try {
      // Start the first node alone so it surely owns the singleton listener.
      nodes.push(await startNode(db.url, 'n1', await freePort(), singletonPort, recorder.url));
      nodes.push(await startNode(db.url, 'n2', await freePort(), singletonPort, recorder.url));
      nodes.push(await startNode(db.url, 'n3', await freePort(), singletonPort, recorder.url));
      await waitFor(() => nodes.some((n) => n.output.some((l) => l.startsWith('OWNER'))), 10_000, 'a singleton owner');
      const owner = nodes.find((n) => n.output.some((l) => l.startsWith('OWNER')))!;
      assert.equal(owner.id, 'n1');

      const agent = new http.Agent({ keepAlive: true, maxSockets: IN_FLIGHT });
      const alive = new Set(nodes.map((n) => n.id));
      const acknowledged = new Map<string, string>(); // body → patient
      let next = 0;
      let rr = 0;
      const send = (node: Node, body: string, patient: string) =>
        new Promise<boolean>((resolve) => {
          const req = http.request({ host: '127.0.0.1', port: node.port, method: 'POST', path: '/', agent, headers: { 'content-type': 'text/plain', 'x-patient-id': patient } }, (res) => {
            res.resume();
            res.on('end', () => resolve(res.statusCode === 200));
          });
          req.on('error', () => resolve(false));
          req.setTimeout(10_000, () => req.destroy());
          req.end(body);
        });
      let killedAt = 0;
      // One patient per worker, sent one at a time (each waits for its acknowledgement), so each
      // patient's order is defined by the sender; different patients run concurrently.
      const sentOrder = new Map<string, string[]>();
      const worker = async (w: number) => {
        const patient = `P${w}`;
        sentOrder.set(patient, []);
        for (;;) {
          if (next >= TOTAL) return;
          const body = `m-${next++}`;
          for (;;) {
            const candidates = nodes.filter((n) => alive.has(n.id));
            const node = candidates[rr++ % candidates.length];
            if (await send(node, body, patient)) break;
            // not acknowledged: a TCP load balancer would send it again to a live node
          }
          acknowledged.set(body, patient);
          sentOrder.get(patient)!.push(body);
          if (!killedAt && next >= TOTAL / 3) {
            killedAt = Date.now();
            alive.delete('n1');
            owner.child.kill('SIGKILL');
          }
        }
      };
      await Promise.all(Array.from({ length: IN_FLIGHT }, (_, w) => worker(w)));

      const survivors = nodes.filter((n) => n.id !== 'n1');
      await waitFor(() => survivors.some((n) => n.output.some((l) => l.startsWith('OWNER'))), 10_000, 'singleton moved to a survivor');
      await waitFor(() => new Set([...recorder.unique.values()].map((r) => r.body)).size >= acknowledged.size, 180_000, 'every acknowledged message delivered');
      const delivered = new Set([...recorder.unique.values()].map((r) => r.body));
      const missing = [...acknowledged.keys()].filter((b) => !delivered.has(b));
      assert.deepEqual(missing, []);
      // Per-patient order at the receiver (first delivery of each message) is the order of sending.
      const receivedOrder = new Map<string, string[]>();
      const seenBodies = new Set<string>();
      for (const record of recorder.received) {
        if (seenBodies.has(record.body)) continue; // a redelivery, or a copy stored by the dead node before it could acknowledge
        seenBodies.add(record.body);
        const patient = acknowledged.get(record.body)!;
        if (!receivedOrder.has(patient)) receivedOrder.set(patient, []);
        receivedOrder.get(patient)!.push(record.body);
      }
      for (const [patient, sent] of sentOrder) assert.deepEqual(receivedOrder.get(patient) ?? [], sent, `order of patient ${patient}`);
      console.log(`      ${acknowledged.size} acknowledged over 3 nodes; n1 killed at message ${Math.round(TOTAL / 3)}; ${recorder.received.length - recorder.unique.size} redeliveries removed by the key`);
    } finally {
      process.off('exit', killAll);
      killAll();
      await recorder.close();
      await new Promise((r) => setTimeout(r, 200));
      await db.drop();
    }
  });
});

// Load generator for bench/hl7/mllp-e2e.ts, run as its own process so senders do not share the
// listener's event loop. Each connection sends one message, waits for its ACK, then sends the next
// (the way HIS and analysers send), or with `window` > 1 keeps that many in flight (a pipelining
// sender); with `rate` set, sends are paced to that total rate.
// Args (JSON): { port, connections, perConnection, rate, window }. Prints one JSON line with the results.
import net from 'node:net';
import { encodeFrame, MllpDecoder, type MllpEvent } from '../../connectors/hl7/mllp/framer';

const { port, connections, perConnection, rate, window = 1 } = JSON.parse(process.argv[2]) as { port: number; connections: number; perConnection: number; rate: number; window?: number };

function message(conn: number, i: number): Buffer {
  const id = `C${conn}N${i}`;
  const head =
    `MSH|^~\\&|LIS|BV_A|HIS|BV_A|20250115103000+0700||ORU^R01^ORU_R01|${id}|P|2.5.1|||||VNM|UNICODE UTF-8\r` +
    `PID|1||BN${(conn * 100_003 + i) % 5000}^^^BV_A^MR||Nguyễn^Văn An||19850315|M\r` +
    `OBR|1|ORD${id}|SID${id}|GLU^Glucose^L\r`;
  let body = head;
  for (let k = 1; body.length < 960; k++) body += `OBX|${k}|NM|2345-7^Glucose^LN||5.${k}|mmol/L|3.9-6.4|N|||F\r`;
  return Buffer.from(body, 'utf8');
}

async function runConnection(conn: number, latencies: number[], codes: Record<string, number>): Promise<void> {
  const socket = net.connect({ port, host: '127.0.0.1' });
  socket.setNoDelay(true);
  await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
  const decoder = new MllpDecoder();
  socket.pipe(decoder);
  // ACKs come back in sending order: a FIFO of send times matches them.
  const sentAt: number[] = [];
  let acked = 0;
  let wake: (() => void) | undefined;
  decoder.on('data', (ev: MllpEvent) => {
    if (ev.kind !== 'frame') return;
    latencies.push(performance.now() - sentAt[acked++]);
    const text = ev.payload.toString('latin1');
    const at = text.indexOf('\rMSA|');
    const code = text.slice(at + 5, at + 7);
    codes[code] = (codes[code] ?? 0) + 1;
    const w = wake;
    wake = undefined;
    w?.();
  });
  const interval = rate > 0 ? (1000 * connections) / rate : 0;
  const start = performance.now() + (interval * conn) / connections;
  for (let i = 0; i < perConnection; i++) {
    if (interval > 0) {
      const due = start + i * interval;
      const wait = due - performance.now();
      if (wait > 1) await new Promise((r) => setTimeout(r, wait));
    }
    while (i - acked >= window) await new Promise<void>((r) => (wake = r));
    const payload = encodeFrame(message(conn, i));
    sentAt.push(performance.now());
    socket.write(payload);
  }
  while (acked < perConnection) await new Promise<void>((r) => (wake = r));
  socket.end();
}

(async () => {
  const latencies: number[] = [];
  const codes: Record<string, number> = {};
  const t0 = performance.now();
  await Promise.all(Array.from({ length: connections }, (_, c) => runConnection(c, latencies, codes)));
  const elapsedMs = performance.now() - t0;
  latencies.sort((a, b) => a - b);
  const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))];
  process.stdout.write(
    JSON.stringify({ count: latencies.length, elapsedMs, perSecond: latencies.length / (elapsedMs / 1000), p50: pct(50), p99: pct(99), max: latencies[latencies.length - 1], codes }) + '\n',
  );
})().catch((err) => {
  console.error(err);
  process.exit(1);
});

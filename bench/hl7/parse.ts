// Benchmark (a): parse a ~1 KB ORU^R01 and read 5 fields (MSH-10, PID-3.1, PID-5.1, OBR-4.1, OBX[3]-5),
// ours against @medplum/core's Hl7Message and node-hl7-client's Message in the same run. Contenders run
// in interleaved rounds (so load on a shared machine hits them alike) and each round's rate is
// reported as the median. Run: node --import tsx bench/hl7/parse.ts
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Hl7Message as MedplumMessage } from '@medplum/core';
import { Message as Hl7ClientMessage } from 'node-hl7-client';
import { Hl7Message } from '../../connectors/hl7/codec/message';

const bytes = fs.readFileSync(path.join(__dirname, '..', '..', 'test', 'fixtures', 'hl7', 'oru-r01-1kb.hl7'));
const text = bytes.toString('utf8');

type Fields = [string, string, string, string, string];

const contenders: Array<{ name: string; run: () => Fields }> = [
  {
    name: 'hisbridge (from bytes, as the MLLP source gets them)',
    run: () => {
      const m = Hl7Message.parse(bytes);
      return [m.get('MSH-10'), m.get('PID-3.1'), m.get('PID-5.1'), m.get('OBR-4.1'), m.get('OBX[3]-5')];
    },
  },
  {
    name: 'hisbridge (from a string)',
    run: () => {
      const m = Hl7Message.parse(text);
      return [m.get('MSH-10'), m.get('PID-3.1'), m.get('PID-5.1'), m.get('OBR-4.1'), m.get('OBX[3]-5')];
    },
  },
  {
    name: '@medplum/core 4.5.2 Hl7Message (from a string)',
    run: () => {
      const m = MedplumMessage.parse(text);
      const pid = m.getSegment('PID')!;
      return [m.getSegment('MSH')!.getField(10).toString(), pid.getComponent(3, 1), pid.getComponent(5, 1), m.getSegment('OBR')!.getComponent(4, 1), m.getAllSegments('OBX')[2].getField(5).toString()];
    },
  },
  {
    name: 'node-hl7-client 3.2.0 Message (from a string)',
    run: () => {
      const m = new Hl7ClientMessage({ text });
      const obx = m.get('OBX') as unknown as { get(i: number): { get(f: number): { toString(): string } } };
      return [m.get('MSH.10').toString(), m.get('PID.3.1').toString(), m.get('PID.5.1').toString(), m.get('OBR.4.1').toString(), obx.get(2).get(5).toString()];
    },
  },
];

const expected: Fields = ['LAB2025011500042', 'BN0001234', 'Nguyễn', 'BIOCHEM', '5.1'];
for (const c of contenders) {
  const got = c.run();
  if (JSON.stringify(got) !== JSON.stringify(expected)) throw new Error(`${c.name} read ${JSON.stringify(got)}, expected ${JSON.stringify(expected)}`);
}

/** Runs for `ms` of wall time; returns operations per wall second and per CPU second of this process. */
function rate(run: () => unknown, ms: number): { wall: number; cpu: number } {
  let n = 0;
  let sink = 0;
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  let elapsed = 0;
  while (elapsed < ms) {
    for (let i = 0; i < 200; i++) sink += (run() as unknown[]).length;
    n += 200;
    elapsed = performance.now() - t0;
  }
  const cpu = process.cpuUsage(cpu0);
  if (sink === 0) throw new Error('nothing read');
  return { wall: n / (elapsed / 1000), cpu: n / ((cpu.user + cpu.system) / 1e6) };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

// Warm-up (JIT) for everyone, then interleaved measured rounds.
for (const c of contenders) rate(c.run, 500);
const rounds = Number(process.env.ROUNDS ?? 7);
const samples = contenders.map(() => [] as Array<{ wall: number; cpu: number }>);
for (let r = 0; r < rounds; r++) contenders.forEach((c, i) => samples[i].push(rate(c.run, 700)));

const results = contenders.map((c, i) => ({
  name: c.name,
  wall: Math.round(median(samples[i].map((x) => x.wall))),
  cpu: Math.round(median(samples[i].map((x) => x.cpu))),
}));
console.log(`parse ${bytes.length}-byte ORU^R01 + read 5 fields (median of ${rounds} interleaved rounds, Node ${process.version}, load average ${os.loadavg()[0].toFixed(1)})`);
console.log(`  ${'contender'.padEnd(56)} ${'per wall s'.padStart(11)} ${'per CPU s'.padStart(11)}`);
for (const r of results) console.log(`  ${r.name.padEnd(56)} ${String(r.wall).padStart(11)} ${String(r.cpu).padStart(11)}`);
const fasterWall = Math.max(results[2].wall, results[3].wall);
const fasterCpu = Math.max(results[2].cpu, results[3].cpu);
console.log(`  ratio vs the faster baseline, from bytes:  ${(results[0].wall / fasterWall).toFixed(1)}× (wall), ${(results[0].cpu / fasterCpu).toFixed(1)}× (CPU)`);
console.log(`  ratio vs the faster baseline, from string: ${(results[1].wall / fasterWall).toFixed(1)}× (wall), ${(results[1].cpu / fasterCpu).toFixed(1)}× (CPU)`);

// Acceptance: an engine channel MLLP in → transformer (ORU → canonical results) → MLLP out to a
// receiver that is down for a while, then back, and that loses some ACKs. Nothing is lost, each
// patient's results arrive in order, and a receiver deduplicating on MSH-10 (the delivery's
// idempotency key) holds every result exactly once.
import assert from 'node:assert/strict';
import { defineChannel } from '../../engine/channel/definition';
import type { Patient, ResultBatch } from '../../model';
import { createMessage } from '../../connectors/hl7/codec/builder';
import { Hl7Message } from '../../connectors/hl7/codec/message';
import { buildOru, hl7Of, readResults } from '../../connectors/hl7';
import { MllpClient } from '../../connectors/hl7/mllp/client';
import { freePort, startTestEngine, waitFor, type TestEngine } from '../helpers/engine';
import { TestReceiver } from './receiver';

const PATIENTS = 5;
const PER_PATIENT = 20;

function resultMessage(patient: number, seq: number): Buffer {
  const m = createMessage({ messageType: 'ORU^R01^ORU_R01', controlId: `LIS-${patient}-${seq}`, sendingApplication: 'LIS', sendingFacility: 'BV_A', receivingApplication: 'HISBRIDGE', receivingFacility: 'BV_A', timestamp: '20250115103000+0700' });
  m.addSegment('PID', ['1', '', { raw: `BN${patient}^^^BV_A^MR` }, '', { raw: `Nguyễn^Bệnh Nhân ${patient}` }, '', '19800101', 'M']);
  m.addSegment('ORC', ['RE', `ORD-${patient}-${seq}`]);
  m.addSegment('OBR', ['1', `ORD-${patient}-${seq}`, `SID-${patient}-${seq}`, { raw: 'GLU^Glucose^L' }]);
  m.addSegment('OBX', ['1', 'NM', { raw: '2345-7^Glucose^LN' }, '', `${seq}.5`, { raw: 'mmol/L' }, '3.9-6.4', 'N', '', '', 'F', '', '', '20250115102500+0700']);
  return m.toBuffer();
}

describe('hl7 end to end through the engine', function () {
  this.timeout(90_000);
  let t: TestEngine;
  let receiver: TestReceiver | undefined;
  let sender: MllpClient | undefined;
  afterEach(async () => {
    await sender?.close();
    await receiver?.stop();
    await t?.cleanup();
  });

  it('MLLP in → ORU → canonical results → ORU over MLLP out, through a receiver outage and lost ACKs: nothing lost, order per patient kept, no duplicate after dedupe', async () => {
    t = await startTestEngine();
    const inPort = await freePort();
    const outPort = await freePort();
    await t.engine.deployChannel(
      defineChannel<unknown>({
        id: 'lab-results',
        name: 'Lab results to HIS',
        source: { connector: 'mllp', config: { host: '127.0.0.1', port: inPort } },
        // Channel transformer: the canonical model (what the HIS connector would also consume).
        transformer: (message) => {
          const view = readResults(hl7Of(message));
          return { patient: view.patient, batches: view.batches };
        },
        destinations: [
          {
            name: 'his-out',
            connector: 'mllp',
            config: { host: '127.0.0.1', port: outPort, controlId: 'idempotency-key', ackTimeoutMs: 1000, reconnectInitialMs: 20, reconnectMaxMs: 200, window: 4 },
            transformer: (input) => {
              const { patient, batches } = input.value as { patient: Patient; batches: ResultBatch[] };
              return buildOru(patient, batches, { sendingApplication: 'HISBRIDGE', sendingFacility: 'BV_A', receivingApplication: 'HIS', receivingFacility: 'BV_A' }).toString();
            },
            queue: { maxAttempts: 1000, initialBackoffMs: 20, maxBackoffMs: 250, concurrency: 4, orderBy: 'patientId' },
          },
        ],
      }),
    );
    let retries = 0;
    t.engine.on('delivery', (e: { kind: string }) => {
      if (e.kind === 'retry') retries++;
    });

    // The receiver is down while the LIS sends everything; every message is still acknowledged (stored).
    sender = new MllpClient({ host: '127.0.0.1', port: inPort, window: 8 });
    const sends: Array<Promise<unknown>> = [];
    for (let seq = 1; seq <= PER_PATIENT; seq++) {
      for (let p = 1; p <= PATIENTS; p++) sends.push(sender.send(resultMessage(p, seq), `LIS-${p}-${seq}`));
    }
    const acks = (await Promise.all(sends)) as Array<{ ack?: Hl7Message }>;
    assert.ok(acks.every((a) => a.ack?.get('MSA-1') === 'AA'), 'every message acknowledged once stored');
    await waitFor(() => retries >= 10, 20_000, 'delivery retries while the receiver is down');

    // Back up, but it loses the ACK of every 7th message it receives (received, then the connection drops).
    receiver = new TestReceiver();
    let count = 0;
    receiver.reply = () => (++count % 7 === 0 ? 'close' : { code: 'AA' });
    await receiver.start(outPort);
    await waitFor(() => receiver!.unique.size === PATIENTS * PER_PATIENT, 60_000, 'every result at the receiver');
    await t.engine.whenIdle('lab-results');

    // Nothing lost; duplicates happened (lost ACKs) but dedupe on MSH-10 leaves exactly one of each.
    assert.equal(receiver.unique.size, PATIENTS * PER_PATIENT);
    assert.ok(receiver.received.length > receiver.unique.size, `lost ACKs caused redelivery (${receiver.received.length} received)`);
    const orders = [...receiver.unique.values()].map((r) => r.message.get('ORC-2'));
    assert.equal(new Set(orders).size, PATIENTS * PER_PATIENT, 'each key carries a different result');
    // Order per patient: the first arrival of each result is in the order the LIS sent them.
    for (let p = 1; p <= PATIENTS; p++) {
      const seqs: number[] = receiver.received
        .filter((r) => r.message.get('PID-3') === `BN${p}`)
        .map((r) => Number(r.message.get('ORC-2').split('-')[2]))
        .filter((s: number, i: number, all: number[]) => all.indexOf(s) === i);
      assert.deepEqual(seqs, Array.from({ length: PER_PATIENT }, (_, i) => i + 1), `patient BN${p} in order`);
    }
    // The canonical conversion kept the values: what the HIS got is what the LIS sent.
    const sample = [...receiver.unique.values()].find((r) => r.message.get('ORC-2') === 'ORD-3-7')!;
    assert.equal(sample.message.get('OBX-5'), '7.5');
    assert.equal(sample.message.get('OBX-3.1'), '2345-7');
    assert.equal(sample.message.get('PID-5.2'), 'Bệnh Nhân 3');
    assert.match(sample.message.controlId, /^\d+\.0\.his-out$/);
    const stored = await t.engine.store.search({ channelId: 'lab-results', status: 'SENT', limit: 1000 });
    assert.equal(stored.length, PATIENTS * PER_PATIENT);
  });
});

// Acceptance (issue 5): a full session from an independent pyserial analyser emulator, over a real
// socat PTY pair and over TCP, into the engine; the host query is answered with the demo HIS's
// orders for the specimen, the results land in the demo HIS under the right HIS service codes, and a
// rerun supersedes the earlier result with the history kept.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { astmResultsTransformer, hasPatientResults, hasQcResults, toHisResultBatch, toQcRecord } from '../../connectors/astm/channel';
import { HisDatabase } from '../../connectors/his-db/his-database';
import { createDemoHis } from '../../his/demo';
import { HIS_SERVICE } from '../../his/lookups';
import { loadMapping } from '../../his/mapping/load';
import { RESULT_CONTENT_TYPE } from '../../his/messages';
import type { LabOrder } from '../../model';
import { freePort, startTestEngine, tempDir, waitFor, type TestEngine } from '../helpers/engine';
import { requirePeers } from '../helpers/peers';
import { ptyPair, requirePyserial, runEmulator, type PtyPair } from './peers';

const CBC = { WBC: '6.10', RBC: '4.52', HGB: '13.5', HCT: '40.1', PLT: '251' };
const CBC_UNITS = 'WBC=10*3/uL,RBC=10*6/uL,HGB=g/dL,HCT=%,PLT=10*3/uL';
const values = (v: Record<string, string>) => Object.entries(v).map(([k, x]) => `${k}=${x}`).join(',');

describe('astm acceptance: pyserial analyser → engine → demo HIS (socat PTY and TCP)', function () {
  this.timeout(120_000);
  let root: string;
  let file: string;
  let his: HisDatabase;
  let t: TestEngine;
  let pty: PtyPair | undefined;
  let cbcOrders: LabOrder[];

  before(async function () {
    requirePeers(this, 'socat');
    requirePyserial(this);
    root = tempDir('astm-acceptance-');
    file = path.join(root, 'his.sqlite');
    await createDemoHis({ file, seed: 5, visits: 120 });
    his = await HisDatabase.open({ type: 'sqlite', file }, loadMapping('demo-his'));
    const open = await his.pollOrders('lab', { since: '0001-01-01 00:00:00.000' }, { statuses: ['ordered', 'collected'] }, 100_000);
    cbcOrders = open.map((p) => p.order as LabOrder).filter((o) => o.tests.some((x) => x.hisServiceCode === 'XN_CTM'));
    assert.ok(cbcOrders.length >= 2, 'the demo HIS has open blood-count orders');
  });

  after(async () => {
    await his?.close();
    if (root) fs.rmSync(root, { recursive: true, force: true });
  });

  beforeEach(async () => {
    t = await startTestEngine();
    t.engine.registerService(HIS_SERVICE, his);
  });

  afterEach(async () => {
    await t.cleanup();
    await pty?.close();
    pty = undefined;
  });

  async function deploy(transport: Record<string, unknown>) {
    await t.engine.deployChannel({
      id: 'xn',
      name: 'Sysmex XN → HIS',
      source: { connector: 'astm', config: { profile: 'sysmex-xn', analyzerId: 'XN-350', transport } },
      transformer: astmResultsTransformer(),
      destinations: [
        { name: 'his', connector: 'his-db', config: { connection: { type: 'sqlite', file } }, filter: hasPatientResults, transformer: toHisResultBatch, contentType: RESULT_CONTENT_TYPE, queue: { orderBy: 'specimenId' } },
        { name: 'qc', connector: 'file', config: { directory: path.join(root, 'qc'), extension: '.json' }, filter: hasQcResults, transformer: toQcRecord },
      ],
    });
  }

  async function resultsOf(order: LabOrder) {
    const { results } = await his.resultsForVisit(order.maLk);
    return results.filter((r) => r.orderId === order.id);
  }

  function historyOf(order: LabOrder, code: string): Array<{ value: string; status: string }> {
    const db = new Database(file, { readonly: true });
    try {
      return db.prepare('SELECT KET_QUA AS value, TRANG_THAI_KQ AS status FROM XN_KETQUA WHERE SO_PHIEU = ? AND MA_CHISO = ? ORDER BY ID').all(order.id, code) as Array<{ value: string; status: string }>;
    } finally {
      db.close();
    }
  }

  it('over a socat PTY: host query answered with the HIS orders, results filed under XN_CTM', async () => {
    const order = cbcOrders[0];
    pty = await ptyPair();
    await deploy({ kind: 'serial', path: pty.a, baudRate: 9600 });
    const run = await runEmulator(['--serial', pty.b, '--query', order.specimen.id, '--values', values(CBC), '--units', CBC_UNITS]);
    assert.equal(run.code, 0, run.stderr);
    const reply = run.events.find((e) => e.event === 'query-reply')!;
    assert.equal(reply.records[0].slice(0, 6), 'H|\\^&|');
    assert.ok(reply.records.some((r: string) => r.startsWith('P|1|') && r.includes(order.patientId)), reply.records.join('\n'));
    assert.ok(reply.records.some((r: string) => r.startsWith('O|1|^^' + order.specimen.id)), reply.records.join('\n'));
    for (const code of Object.keys(CBC)) assert.ok(reply.ordered.includes(code), `${code} ordered in the reply: ${JSON.stringify(reply)}`);
    assert.equal(reply.records.at(-1), 'L|1|N');
    assert.deepEqual(run.events.find((e) => e.event === 'uploaded')!.codes, Object.keys(CBC));

    await waitFor(async () => (await resultsOf(order)).length === 5, 20_000, 'five CBC results in the HIS');
    const filed = (await resultsOf(order)).sort((a, b) => a.code.localeCompare(b.code));
    assert.deepEqual(
      filed.map((r) => [r.code, r.hisServiceCode, r.value, r.unit, r.status, r.device?.id]),
      [
        ['HCT', 'XN_CTM', '40.1', '%', 'final', 'XN-350'],
        ['HGB', 'XN_CTM', '13.5', 'g/dL', 'final', 'XN-350'],
        ['PLT', 'XN_CTM', '251', '10*3/uL', 'final', 'XN-350'],
        ['RBC', 'XN_CTM', '4.52', '10*6/uL', 'final', 'XN-350'],
        ['WBC', 'XN_CTM', '6.10', '10*3/uL', 'final', 'XN-350'],
      ],
    );
    assert.equal(filed.find((r) => r.code === 'WBC')!.loinc, '6690-2');
    const stored = await t.engine.store.search({ channelId: 'xn', specimenId: order.specimen.id });
    assert.equal(stored.length, 2, 'the query and the upload are both stored');
  });

  it('over TCP (pyserial socket://): corrupted frames are NAKed and resent; a rerun supersedes with history', async () => {
    const order = cbcOrders[1];
    const port = await freePort();
    await deploy({ kind: 'tcp-server', host: '127.0.0.1', port });
    const url = `socket://127.0.0.1:${port}`;
    const first = await runEmulator(['--url', url, '--query', order.specimen.id, '--values', values(CBC), '--units', CBC_UNITS, '--bad-checksum', '2']);
    assert.equal(first.code, 0, first.stderr);
    assert.equal(first.events.find((e) => e.event === 'uploaded')!.naks, 2, 'the engine NAKed both corrupted frames');
    await waitFor(async () => (await resultsOf(order)).length === 5, 20_000, 'five results');

    // The analyser reruns the sample: WBC again with another value, in one big frame this time.
    const rerun = await runEmulator(['--url', url, '--specimen', order.specimen.id, '--values', 'WBC=7.35', '--units', 'WBC=10*3/uL', '--one-frame']);
    assert.equal(rerun.code, 0, rerun.stderr);
    await waitFor(async () => (await resultsOf(order)).find((r) => r.code === 'WBC')?.value === '7.35', 20_000, 'the rerun value in the HIS');
    const wbc = (await resultsOf(order)).find((r) => r.code === 'WBC')!;
    assert.equal(wbc.status, 'corrected');
    assert.match(wbc.comment ?? '', /Rerun/);
    assert.deepEqual(historyOf(order, 'WBC'), [
      { value: '6.10', status: 'S' },
      { value: '7.35', status: 'C' },
    ]);
    assert.equal((await resultsOf(order)).length, 5, 'the other results are untouched');
  });
});

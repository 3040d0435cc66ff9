// `hisbridge dicom …` and `hisbridge sim modality`: the real CLI for dump, the verbs in-process
// (stdout/stderr captured) against a node with the demo HIS behind it.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { dicomCli } from '../../connectors/dicom/cli';
import { modalitySimVerb } from '../../devices/simulators/modality';
import { openDemoHis, startNode, tempDir, worklistWindowOrders, writeStudy, OUR_AE, type DemoHis, type TestNode } from './helpers';
import { newUid } from '../../connectors/dicom/dataset/uid';

const root = path.resolve(__dirname, '..', '..');

function runCli(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['--import', 'tsx', path.join(root, 'engine/cli/main.ts'), ...args], { cwd: root, timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

async function capture(run: () => Promise<number>): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const originalOut = process.stdout.write.bind(process.stdout);
  const originalErr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((chunk: string | Uint8Array) => (out.push(String(chunk)), true)) as typeof process.stdout.write;
  process.stderr.write = ((chunk: string | Uint8Array) => (err.push(String(chunk)), true)) as typeof process.stderr.write;
  try {
    const code = await run();
    return { code, stdout: out.join(''), stderr: err.join('') };
  } finally {
    process.stdout.write = originalOut;
    process.stderr.write = originalErr;
  }
}

describe('dicom: CLI and simulator verbs', function () {
  this.timeout(60_000);
  let demo: DemoHis;
  let t: TestNode;
  let work: string;
  const peer = (port: number, aet = 'CLI_SCU') => ['--host', '127.0.0.1', '--port', String(port), '--aet', aet, '--called-aet', OUR_AE];

  before(async () => {
    demo = await openDemoHis(200);
    work = tempDir();
    t = await startNode({ remotes: [{ aeTitle: 'CLI_SCU' }, { aeTitle: 'CT_SIEMENS' }, { aeTitle: 'DR_ROOM1' }, { aeTitle: 'US_ROOM2' }, { aeTitle: 'MR_15T' }], worklist: { cacheSeconds: 0 } }, () => demo.his);
  });
  after(async () => {
    await t?.stop();
    await demo?.close();
    fs.rmSync(work, { recursive: true, force: true });
  });

  it('hisbridge dicom dump prints metadata as JSON, and exits 1 with the reason on a bad file', async () => {
    const [image] = writeStudy(path.join(work, 'dump'), { patientId: 'BN7', patientName: 'Hoàng^Thị Yến', studyInstanceUid: newUid(), modality: 'MR' }, 1);
    const ok = await runCli(['dicom', 'dump', image.file]);
    assert.equal(ok.code, 0, ok.stderr);
    const json = JSON.parse(ok.stdout);
    assert.equal(json.meta.sopInstanceUid, image.sopInstanceUid);
    assert.deepEqual(json.dataset.PatientName, [{ Alphabetic: 'Hoàng^Thị Yến' }]);
    assert.match(json.dataset.PixelData, /^<\d+ bytes>$/);
    const truncated = path.join(work, 'truncated.dcm');
    fs.writeFileSync(truncated, image.bytes.subarray(0, image.bytes.length - 10));
    // The failure paths in-process (each CLI process start costs seconds of TypeScript compilation).
    const bad = await capture(() => dicomCli.commands.dump.run([truncated]));
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /truncated\.dcm: malformed dataset near byte \d+/);
    const notDicom = path.join(work, 'note.txt');
    fs.writeFileSync(notDicom, 'xin chào');
    const worse = await capture(() => dicomCli.commands.dump.run([notDicom]));
    assert.equal(worse.code, 1);
    assert.match(worse.stderr, /not a DICOM Part 10 file/);
  });

  it('echo, find-worklist and store against the node', async () => {
    const echoed = await capture(() => dicomCli.commands.echo.run(peer(t.port)));
    assert.equal(echoed.code, 0);
    assert.match(echoed.stdout, /C-ECHO HISBRIDGE@127\.0\.0\.1:\d+: success/);

    const orders = await worklistWindowOrders(demo.his);
    const found = await capture(() => dicomCli.commands['find-worklist'].run([...peer(t.port), '--json']));
    assert.equal(found.code, 0, found.stderr);
    const items = JSON.parse(found.stdout);
    assert.equal(items.length, orders.length);
    const patient = await demo.his.patientById(orders[0].patientId);
    assert.ok(items.some((i: any) => i.PatientName[0].Alphabetic === `${patient!.name.family}^${patient!.name.given}`), 'Vietnamese name intact');

    const study = writeStudy(path.join(work, 'cli-store'), { patientId: 'BN6', patientName: 'Bùi^Văn Toàn', studyInstanceUid: newUid(), modality: 'CT' }, 3);
    const stored = await capture(() => dicomCli.commands.store.run([path.join(work, 'cli-store'), ...peer(t.port)]));
    assert.equal(stored.code, 0, stored.stderr);
    assert.match(stored.stderr, /3\/3 stored/);
    for (const s of study) assert.ok(t.node.index.instance(s.sopInstanceUid));

    const committed = await capture(() => dicomCli.commands.store.run([path.join(work, 'cli-store'), ...peer(t.port), '--commit', '--commit-timeout', '10000']));
    assert.equal(committed.code, 0, committed.stderr);
    assert.match(committed.stdout, /storage commitment [0-9.]+: 3 committed, 0 failed/);

    const refused = await capture(() => dicomCli.commands.echo.run(['--host', '127.0.0.1', '--port', String(t.port), '--aet', 'NOBODY']));
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /association rejected: permanent, service user: calling AE title not recognized/);
  });

  it('hisbridge sim modality performs the first worklist item of its station', async () => {
    let station = '';
    for (const s of ['CT_SIEMENS', 'DR_ROOM1', 'US_ROOM2', 'MR_15T']) if ((await demo.his.scheduledImagingOrders({ stationAeTitle: s })).length > 0) station = s;
    assert.ok(station, 'some station has work today');
    const result = await capture(() => modalitySimVerb.run([...peer(t.port, station), '--images', '2', '--small']));
    assert.equal(result.code, 0, result.stderr);
    const report = JSON.parse(result.stdout);
    assert.equal(report.orders.length, 1);
    assert.equal(report.orders[0].stored, 2);
    assert.match(result.stderr, /MPPS N-SET COMPLETED 0x0000/);
  });
});

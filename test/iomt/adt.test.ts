// HIS bed assignments from HL7 ADT: mapping A01/A02/A03, and end to end from Debian's mllp_send through
// the engine's MLLP source into the IoMT registry (bed-mode monitors follow the patient).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { adtBedAssignments, bedAssignmentFromAdt, isBedAssignmentAdt } from '../../iomt/adt';
import { IOMT_SERVICE, IomtService } from '../../iomt/service';
import { freePort, startTestEngine, type TestEngine } from '../helpers/engine';
import { requirePeers } from '../helpers/peers';
import { tempDir, waitFor } from './helpers';

const run = promisify(execFile);
const adt = (event: string, bed: string, when: string, control = `C-${event}`) =>
  [
    `MSH|^~\\&|HIS|BV01|HISBRIDGE|BV01|${when}||ADT^${event}^ADT_A01|${control}|P|2.5|||AL|NE||UNICODE UTF-8`,
    `EVN|${event}|${when}`,
    'PID|1||BN0001^^^BV01^MR||Nguyễn^An^Văn||19800101|M',
    `PV1|1|I|HSTC^P3^${bed}^BV01||||||||||||||||VV2026001`,
  ].join('\r') + '\r';

describe('iomt/adt: bed assignments from HL7 ADT', () => {
  it('maps admit, transfer and discharge with the Vietnamese name order', () => {
    const a = bedAssignmentFromAdt(adt('A01', 'G05', '20261122080000'));
    assert.deepEqual(a, { visitId: 'VV2026001', patientId: 'BN0001', patientName: 'Nguyễn Văn An', ward: 'HSTC', bed: 'G05', event: 'assign', at: '2026-11-22T01:00:00.000Z', by: 'HIS ADT^A01 C-A01' });
    assert.equal(bedAssignmentFromAdt(adt('A03', 'G05', '20261123080000')).event, 'release');
    assert.equal(bedAssignmentFromAdt(adt('A02', 'G07', '20261122100000'), { bedName: 'room-bed' }).bed, 'P3-G07');
    assert.throws(() => bedAssignmentFromAdt(adt('A01', '', '20261122080000').replace('HSTC^P3^^', 'HSTC^^^')), /PV1-3\.3 \(bed\) is empty/);
    assert.throws(() => bedAssignmentFromAdt(adt('A01', 'G05', '20261122080000').replace('VV2026001', '')), /PV1-19 \(visit number\) and PID-18/);
    assert.throws(() => bedAssignmentFromAdt(adt('A28', 'G05', '20261122080000')), /not a bed-assignment event/);
  });

  describe('through the engine', function () {
    let te: TestEngine;
    let iomt: IomtService;
    let port: number;
    let tmp: ReturnType<typeof tempDir>;
    before(async function () {
      requirePeers(this, 'mllp_send');
      tmp = tempDir();
      te = await startTestEngine();
      iomt = new IomtService({ dataDir: te.dataDir });
      te.engine.registerService(IOMT_SERVICE, iomt);
      port = await freePort();
      await te.engine.deployChannel({
        id: 'his-adt-beds',
        name: 'HIS ADT → IoMT bed assignments',
        source: { connector: 'mllp', config: { host: '127.0.0.1', port } },
        filters: [isBedAssignmentAdt],
        transformer: adtBedAssignments(),
        contentType: 'application/json',
        destinations: [{ name: 'beds', connector: 'iomt-bed-assignment', queue: { orderBy: 'channel' } }],
      });
    });
    after(async () => {
      await te?.cleanup();
      await iomt?.stop();
      tmp?.cleanup();
    });

    it('mllp_send ADT A01 then A02 moves the binding from the bed-05 monitor to the bed-07 monitor', async () => {
      iomt.registry.upsertDevice({ id: 'MON-G05', ward: 'HSTC', bed: 'G05', bindMode: 'bed' });
      iomt.registry.upsertDevice({ id: 'MON-G07', ward: 'HSTC', bed: 'G07', bindMode: 'bed' });
      const file = path.join(tmp.dir, 'adt.hl7');
      fs.writeFileSync(file, adt('A01', 'G05', '20261122080000', 'X1') + adt('A02', 'G07', '20261122100000', 'X2'));
      const { stdout } = await run('mllp_send', ['--loose', '-p', String(port), '-f', file, '127.0.0.1']);
      assert.equal((stdout.match(/MSA\|(AA|CA)/g) ?? []).length, 2);
      await waitFor(() => iomt.registry.openBinding('MON-G07')?.visitId === 'VV2026001', 10_000, 'the transfer');
      assert.equal(iomt.registry.openBinding('MON-G05'), undefined);
      const [g05] = iomt.registry.listBindings({ deviceId: 'MON-G05' });
      assert.equal(g05.endedAt, Date.parse('2026-11-22T03:00:00Z'));
      assert.match(g05.endedReason!, /patient moved to HSTC\/G07/);
    });
  });
});

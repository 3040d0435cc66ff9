// Golden tests on the demo hospital: four episodes (outpatient; inpatient with drugs, services,
// supplies and beds; emergency; off-route inpatient at 80 × 40 % = 32) are built and compared field
// by field with expected XML (test/fixtures/claims/golden/<episode>/XMLn.xml). The totals were
// checked by hand and independently recomputed from the demo database rows with Python's decimal
// module (round half up): see the comments below. Then build → serialize → sign → parse → validate
// must give no findings at all.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildEpisode } from '../../claims/builder/build';
import { formatFinding } from '../../claims/model';
import { prepareClaim } from '../../claims/pipeline';
import { ClaimSigner, verifyDocument } from '../../claims/signer/sign';
import { validateBuffer, validateEpisode } from '../../claims/validator/validate';
import type { HisDatabase } from '../../connectors/his-db/his-database';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import { GOLDEN, goldenDir, goldenSource, openGoldenHis, prettyTable } from './demo-golden';

describe('claims golden episodes from the demo HIS', function () {
  this.timeout(120_000);
  let dir: string;
  let his: HisDatabase;

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'claims-golden-'));
    ({ his } = await openGoldenHis(dir));
  });
  after(async () => {
    await his?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const g of GOLDEN) {
    it(`${g.name} (${g.maLk}): every table and field matches the expected XML`, async () => {
      const { episode } = buildEpisode(await goldenSource(his, g.maLk), { signerHealthId: '0101234567' });
      const expected = readdirSync(path.join(goldenDir, g.name)).map((f) => f.replace('.xml', '')).sort();
      assert.deepEqual(Object.keys(episode.tables).sort(), expected);
      for (const t of expected) assert.equal(prettyTable(episode, t as never), readFileSync(path.join(goldenDir, g.name, `${t}.xml`), 'utf8'), `${g.name} ${t}`);
    });
  }

  it('the totals are the hand-checked ones', async () => {
    const totals = async (maLk: string) => {
      const f = buildEpisode(await goldenSource(his, maLk), {}).episode.tables.XML1![0].fields;
      return [f.T_TONGCHI_BV, f.T_TONGCHI_BH, f.T_BNTT, f.T_BNCCT, f.T_BHTT, f.T_THUOC, f.T_VTYT, f.MA_DOITUONG_KCB];
    };
    // Outpatient, card level 100: everything in scope is paid by the fund.
    assert.deepEqual(await totals('LK00000185'), ['166300', '166300', '0', '0', '166300', '5000', '0', '1.1']);
    // Inpatient, level 80: fund 579000 × 80 % = 463200, co-payment 115800; supplies (MA_NHOM 10) 43700.
    assert.deepEqual(await totals('LK00000122'), ['579000', '579000', '0', '115800', '463200', '67300', '43700', '1.1']);
    // Emergency (MA_DOITUONG_KCB 2), level 100.
    assert.deepEqual(await totals('LK00000193'), ['161000', '161000', '0', '0', '161000', '45000', '0', '2']);
    // Off-route inpatient at a central hospital: 675900 × 32 % = 216288; the patient pays 459612.
    assert.deepEqual(await totals('LK00000037'), ['675900', '675900', '0', '459612', '216288', '108800', '0', '3.1']);
  });

  it('build → serialize → sign → parse → validate gives no findings', async () => {
    const ca = createTestCa('golden CA');
    const signer = new ClaimSigner(issueCertificate(ca, { commonName: 'Benh vien Demo 01999', usage: 'signing' }));
    for (const g of GOLDEN) {
      const prepared = await prepareClaim(await goldenSource(his, g.maLk), { signer, signerHealthId: '0101234567', ngayLap: '20250320' });
      assert.deepEqual(prepared.findings, [], g.name);
      assert.equal(verifyDocument(prepared.envelope!.toString('utf8'), { trustedCaPem: [ca.certPem] }).valid, true);
      const result = await validateBuffer(prepared.envelope!, { facilityLevel: 'central', maCskcb: '01999' });
      assert.deepEqual(result.findings.map(formatFinding), [], g.name);
      assert.deepEqual(result.episodes.map((e) => [e.maLk, e.errors, e.warnings]), [[g.maLk, 0, 0]]);
    }
  });

  it('supply lines get their tender (TT_THAU) from the HIS: an inpatient episode with supplies read through the HIS connector validates with no errors', async () => {
    const source = await goldenSource(his, 'LK00000122');
    const supplies = source.lines.filter((l) => l.kind === 'supply');
    assert.ok(supplies.length >= 2, 'the golden inpatient episode has supply lines');
    // Read from DT_DVKT.TT_THAU through mappings/demo-his.yaml (billing.tender), not from the drug details.
    for (const l of supplies) assert.equal(l.tender, '57/QĐ-BV;G1;N1;2025');
    const { episode } = buildEpisode(source, { signerHealthId: '0101234567' });
    const xml3 = episode.tables.XML3!.filter((r) => r.fields.MA_NHOM === '10');
    assert.deepEqual(xml3.map((r) => r.fields.TT_THAU), supplies.map(() => '57/QĐ-BV;G1;N1;2025'));
    assert.deepEqual(validateEpisode(episode, { facilityLevel: 'central', maCskcb: '01999' }).findings.map(formatFinding), []);
  });
});

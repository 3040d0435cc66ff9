// Golden tests for the tables built from a visit's documents: XML13 referral letter, XML9 birth
// certificate, XML10 pregnancy rest, XML11 sick leave, XML6 HIV care, XML15 TB treatment and XML12
// medical assessment. Each episode comes from the demo HIS (20 days of history, so inpatient stays are
// discharged) through the real HIS database connector and the demo-his mapping, and is compared field
// by field with expected XML in test/fixtures/claims/golden-documents/<episode>/. The document tables
// were checked by hand against the demo database rows (KB_CHUYENTUYEN, KB_CHUNGSINH, KB_GIAYNGHI,
// KB_HIV, KB_LAO, KB_GIAMDINH): numbers, dates (leave days counted inclusively: 11/03–18/03 = 8),
// signer codes (the staff's practising certificate), and the fields copied from XML1.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { buildEpisode, type ClaimSource } from '../../claims/builder/build';
import { formatFinding } from '../../claims/model';
import { prepareClaim } from '../../claims/pipeline';
import { ClaimSigner, verifyDocument } from '../../claims/signer/sign';
import { validateBuffer, validateEpisode } from '../../claims/validator/validate';
import { GatewayClient } from '../../claims/gateway/client';
import { GatewaySimulator } from '../../claims/gateway/simulator';
import { assessmentDocument, episodeFiles } from '../../claims/xml/writer';
import type { HisDatabase } from '../../connectors/his-db/his-database';
import { createTestCa, issueCertificate } from '../../engine/certs/certificates';
import { DOCUMENT_GOLDEN, documentsGoldenDir, goldenSource, openDocumentsHis, prettyTable } from './demo-golden';

const options = { signerHealthId: '0101234567' };
const validation = { facilityLevel: 'central', maCskcb: '01999' } as const;

describe('claims documents tables (XML6, XML9–XML13, XML15) from the demo HIS', function () {
  this.timeout(180_000);
  let dir: string;
  let his: HisDatabase;
  let file: string;
  const source = (name: (typeof DOCUMENT_GOLDEN)[number]['name']): Promise<ClaimSource> => goldenSource(his, DOCUMENT_GOLDEN.find((g) => g.name === name)!.maLk);

  before(async () => {
    dir = mkdtempSync(path.join(os.tmpdir(), 'claims-documents-'));
    ({ his, file } = await openDocumentsHis(dir));
  });
  after(async () => {
    await his?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const g of DOCUMENT_GOLDEN) {
    it(`${g.name} (${g.maLk}): ${g.table} and every other table match the expected XML`, async () => {
      const { episode, notes } = buildEpisode(await goldenSource(his, g.maLk), options);
      const expected = readdirSync(path.join(documentsGoldenDir, g.name)).map((f) => f.replace('.xml', '')).sort();
      assert.ok(expected.includes(g.table));
      assert.deepEqual(Object.keys(episode.tables).sort(), expected);
      for (const t of expected) assert.equal(prettyTable(episode, t as never), readFileSync(path.join(documentsGoldenDir, g.name, `${t}.xml`), 'utf8'), `${g.name} ${t}`);
      assert.deepEqual(notes.filter((n) => /^XML(6|9|1[0-5])$/.test(n.table)), [], 'no document was left out');
    });
  }

  it('the XML1 fields that depend on the documents: MA_NOI_DEN after a transfer, CAN_NANG_CON after a birth', async () => {
    const referral = buildEpisode(await source('referral'), options).episode.tables.XML1![0].fields;
    assert.deepEqual([referral.MA_LOAI_RV, referral.MA_NOI_DEN], ['2', '01902']);
    const birth = buildEpisode(await source('birth'), options).episode.tables;
    assert.deepEqual([birth.XML1![0].fields.MA_BENH_CHINH, birth.XML1![0].fields.CAN_NANG_CON, birth.XML9![0].fields.CAN_NANG_CON], ['O80', '2666', '2666']);
    assert.equal(birth.XML8![0].fields.NGAY_SINHCON, '20250301');
  });

  it('build → serialize → sign → parse → validate gives no findings for every documents episode', async () => {
    const ca = createTestCa('documents CA');
    const signer = new ClaimSigner(issueCertificate(ca, { commonName: 'Benh vien Demo 01999', usage: 'signing' }));
    for (const g of DOCUMENT_GOLDEN) {
      const prepared = await prepareClaim(await goldenSource(his, g.maLk), { ...options, signer, ngayLap: '20250320' });
      assert.deepEqual(prepared.findings.map(formatFinding), [], g.name);
      const xml = prepared.envelope!.toString('utf8');
      assert.equal(verifyDocument(xml, { trustedCaPem: [ca.certPem] }).valid, true, g.name);
      const result = await validateBuffer(prepared.envelope!, validation);
      assert.deepEqual(result.findings.map(formatFinding), [], g.name);
      assert.deepEqual(result.episodes.map((e) => [e.maLk, e.errors, e.warnings]), [[g.maLk, 0, 0]], g.name);
      // The envelope carries the document table (XML12 excepted: it has its own endpoint).
      const tables = episodeFiles(prepared.episode).map((f) => f.loaiHoSo);
      if (g.table === 'XML12') assert.ok(!tables.includes('XML12'));
      else assert.ok(tables.includes(g.table), `${g.name}: ${tables.join(',')}`);
    }
  });

  it('XML12 is its own signed document (loaiHoSo 12), which parses and validates with no findings', async () => {
    const ca = createTestCa('assessment CA');
    const signer = new ClaimSigner(issueCertificate(ca, { commonName: 'Benh vien Demo 01999', usage: 'signing' }));
    const { episode } = buildEpisode(await source('assessment'), options);
    const doc = assessmentDocument(episode)!;
    assert.match(doc, /^<\?xml version="1.0" encoding="utf-8"\?>\n<CHI_TIEU_GIAM_DINH_YKHOA><DSACH_GIAM_DINH_YKHOA><GIAM_DINH_YKHOA><NGUOI_CHU_TRI>Nguyễn Thùy Lan</);
    const signed = signer.sign(doc);
    assert.equal(verifyDocument(signed, { trustedCaPem: [ca.certPem] }).valid, true);
    const result = await validateBuffer(Buffer.from(signed, 'utf8'), validation);
    assert.deepEqual(result.findings.map(formatFinding), []);
    assert.equal(assessmentDocument(buildEpisode(await source('tb'), options).episode), undefined);
  });

  it('XML12 goes to its own endpoint (guiDuLieuGdykQd130, loaiHoSo 12): accepted when valid, rejected with the finding, refused when it is not XML12', async () => {
    const sim = new GatewaySimulator({ username: '01999_BV', password: 'secret' });
    const url = await sim.start();
    try {
      const ca = createTestCa('assessment CA');
      const signer = new ClaimSigner(issueCertificate(ca, { commonName: 'Benh vien Demo 01999', usage: 'signing' }));
      const client = new GatewayClient({ baseUrl: url, credentials: { username: '01999_BV', password: 'secret' }, maCskcb: '01999', timeoutMs: 5000 });
      const { episode } = buildEpisode(await source('assessment'), options);
      const ok = await client.sendMedicalAssessment(signer.sign(assessmentDocument(episode)!));
      assert.equal(ok.maKetQua, '200', ok.thongDiep);
      assert.deepEqual(sim.assessments.map((a) => [a.endpoint, a.loaiHoSo, a.accepted]), [['/api/qd130/guiDuLieuGdykQd130', '12', true]]);

      const broken = structuredClone(episode);
      broken.tables.XML12![0].fields.SO_BIEN_BAN = '';
      const bad = await client.sendMedicalAssessment(signer.sign(assessmentDocument(broken)!));
      assert.equal(bad.maKetQua, '202');
      assert.match(bad.thongDiep ?? '', /ERROR XML12 record 1 SO_BIEN_BAN line 2 \[field.required\]: required field is empty/);

      const claim = await prepareClaim(await source('tb'), { ...options, signer, ngayLap: '20250320' });
      const wrong = await client.sendMedicalAssessment(claim.envelope!);
      assert.equal(wrong.maKetQua, '205');
      assert.match(wrong.thongDiep ?? '', /nhận bảng XML12 \(CHI_TIEU_GIAM_DINH_YKHOA\), không phải GIAMDINHHS/);
      assert.equal(sim.received.length, 0, 'nothing went to the claim endpoint');
    } finally {
      await sim.stop();
    }
  });

  it('XML6 and XML15 codes are checked against their official lists; the ARV dates of XML15 are required for HIV-positive patients only', async () => {
    const { episode } = buildEpisode(await source('tb'), options);
    const tb = episode.tables.XML15![0].fields;
    Object.assign(tb, { PHANLOAI_LAO_HIV: '4', PHACDO_DTRI_LAO: '26' });
    assert.deepEqual(validateEpisode(episode, validation).findings.map(formatFinding), [
      'ERROR XML15 record 1 (MA_LK=LK00001391, STT=1) PHANLOAI_LAO_HIV [field.code]: «4» is not a code of PHANLOAI_LAO_HIV in QĐ 3176 (allowed: 1, 2, 3)',
      'ERROR XML15 record 1 (MA_LK=LK00001391, STT=1) PHACDO_DTRI_LAO [field.code]: «26» is not a code of PHACDO_DTRI_LAO in QĐ 3176 (allowed: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25)',
    ]);
    Object.assign(tb, { PHANLOAI_LAO_HIV: '1', PHACDO_DTRI_LAO: '1' });
    assert.deepEqual(validateEpisode(episode, validation).findings.map(formatFinding), [
      'ERROR XML15 record 1 (MA_LK=LK00001391, STT=1) BDDT_ARV [field.required]: empty, but required when PHANLOAI_LAO_HIV is 1',
      'ERROR XML15 record 1 (MA_LK=LK00001391, STT=1) NGAY_BAT_DAU_DT_CTX [field.required]: empty, but required when PHANLOAI_LAO_HIV is 1',
    ]);

    const hiv = buildEpisode(await source('hiv'), options).episode;
    Object.assign(hiv.tables.XML6![0].fields, { NHOM_DOI_TUONG: '12', SANG_LOC_LAO: '5' });
    assert.deepEqual(validateEpisode(hiv, validation).findings.map(formatFinding), [
      'WARNING XML6 record 1 (MA_LK=LK00000575) SANG_LOC_LAO [field.code]: «5» is not in the project\'s list of SANG_LOC_LAO codes (the list is partial: check it against the official list)',
      'ERROR XML6 record 1 (MA_LK=LK00000575) NHOM_DOI_TUONG [field.code]: «12» is not a code of NHOM_DOI_TUONG in QĐ 3176 (allowed: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11)',
    ]);
  });

  it('a referral letter is sent only when the visit ended in a transfer (MA_LOAI_RV 2 or 5)', async () => {
    const src = await source('referral');
    src.visit = { ...src.visit, dischargeTypeCode: '1' };
    const { episode, notes } = buildEpisode(src, options);
    assert.equal(episode.tables.XML13, undefined);
    assert.equal(episode.tables.XML1![0].fields.MA_NOI_DEN, '');
    assert.deepEqual(notes.filter((n) => n.table === 'XML13').map((n) => n.message), [
      "the HIS has referral letter 165/2025/GCT but the visit's discharge type (MA_LOAI_RV) is 1, not a transfer (2 or 5): XML13 is left out",
    ]);
    assert.deepEqual(validateEpisode(episode, validation).findings.map(formatFinding), []);

    const noLetter = await source('referral');
    noLetter.documents = { ...noLetter.documents!, referral: undefined };
    const built = buildEpisode(noLetter, options);
    assert.deepEqual(built.notes.filter((n) => n.table === 'XML13').map((n) => n.message), ['the visit ended in a transfer (MA_LOAI_RV 2) but the HIS has no referral letter for LK00000004']);
    assert.deepEqual(validateEpisode(built.episode, validation).findings.map(formatFinding), ['WARNING XML13 [tables.recommended]: MA_LOAI_RV 2 (transfer) normally includes XML13 (referral letter)']);
  });

  it("birth and pregnancy-rest certificates go only in a woman's episode; a delivery without one is flagged", async () => {
    const src = await source('birth');
    src.patient = { ...src.patient, sex: 'male' };
    const { episode, notes } = buildEpisode(src, options);
    assert.equal(episode.tables.XML9, undefined);
    assert.deepEqual(notes.filter((n) => n.table === 'XML9').map((n) => n.message), ['1 birth certificate(s) on a visit of a patient who is not female: XML9 is the mother\'s and is left out']);
    assert.ok(validateEpisode(episode, validation).findings.map(formatFinding).includes("WARNING XML9 [tables.recommended]: MA_BENH_CHINH O80 is a delivery; the mother's episode normally includes XML9 (a birth certificate per baby)"));

    const rest = await source('pregnancy-rest');
    rest.patient = { ...rest.patient, sex: 'male' };
    const built = buildEpisode(rest, options);
    assert.equal(built.episode.tables.XML10, undefined);
    assert.equal(built.notes.filter((n) => n.table === 'XML10').length, 1);
  });

  it('QĐ 130 has no XML13–XML15: those documents are noted and left out, the others are built', async () => {
    const tb = buildEpisode(await source('tb'), { ...options, version: '130' });
    assert.equal(tb.episode.tables.XML15, undefined);
    assert.deepEqual(tb.notes.filter((n) => n.table === 'XML15').map((n) => n.message), ['the TB treatment record is not sent: XML15 does not exist in QĐ 130']);
    const hiv = buildEpisode(await source('hiv'), { ...options, version: '130' });
    assert.ok(hiv.episode.tables.XML6);
    // QĐ 130's XML6 has no NGAY_SINH…MA_CSKCB (added by 4750): only the version's fields are written.
    assert.equal(hiv.episode.tables.XML6![0].fields.NGAY_SINH, undefined);
    assert.deepEqual(validateEpisode(hiv.episode, { ...validation }).findings.filter((f) => f.table === 'XML6').map(formatFinding), []);
  });

  it('the demo HIS always generates the same documents (deterministic on its own random stream)', async () => {
    const counts = async (f: string) => {
      const Database = (await import('better-sqlite3')).default;
      const db = new Database(f, { readonly: true });
      try {
        return ['KB_CHUYENTUYEN', 'KB_CHUNGSINH', 'KB_GIAYNGHI', 'KB_HIV', 'KB_LAO', 'KB_GIAMDINH'].map((t) => (db.prepare(`SELECT COUNT(*) AS n FROM ${t}`).get() as { n: number }).n);
      } finally {
        db.close();
      }
    };
    const first = await counts(file);
    assert.ok(first.every((n) => n > 0), `every documents table has rows: ${first.join(',')}`);
    const again = mkdtempSync(path.join(os.tmpdir(), 'claims-documents-again-'));
    try {
      const other = await openDocumentsHis(again);
      await other.his.close();
      assert.deepEqual(await counts(other.file), first);
    } finally {
      rmSync(again, { recursive: true, force: true });
    }
  });
});

// Mapping and code-map validation (bad files name what is wrong), the canonical model helpers, and
// the demo generator: deterministic, realistic identifiers, BHYT cases and today's worklist.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { dbDateTimeToIso, isoToDbDateTime, normalizeDecimal } from '../../his/db/values';
import { generateDemoData, type RowSink } from '../../his/demo';
import { DEMO_TABLE_COLUMNS } from '../../his/demo/generator';
import { LabCodeMap, loadBhytBasics, loadIcd10, MAPPINGS_DIR } from '../../his/mapping/code-maps';
import { loadMapping, parseMapping } from '../../his/mapping/load';
import { parseHisMessage } from '../../his/messages';
import {
  fromBhytDateTime,
  guessIdentifierSystem,
  parseBhytCardNumber,
  toBhytDate,
  toBhytDateTime,
  validateIdentifier,
} from '../../model';
import { TEST_NOW } from './helpers';

const demoYaml = () => parse(fs.readFileSync(path.join(MAPPINGS_DIR, 'demo-his.yaml'), 'utf8'), { merge: true });

class CollectingSink implements RowSink {
  readonly tables = new Map<string, unknown[][]>();
  readonly hash = createHash('sha256');
  async insert(table: string, columns: string[], rows: unknown[][]) {
    const list = this.tables.get(table) ?? [];
    list.push(...rows);
    this.tables.set(table, list);
    this.hash.update(table + JSON.stringify(columns) + JSON.stringify(rows));
  }
  rows(table: string): Record<string, unknown>[] {
    const cols = DEMO_TABLE_COLUMNS[table];
    return (this.tables.get(table) ?? []).map((r) => Object.fromEntries(cols.map((c, i) => [c, r[i]])));
  }
}

describe('HIS mappings and code maps', () => {
  it('loads both shipped mappings with their lab code map', () => {
    for (const name of ['demo-his', 'example-english']) {
      const { mapping, labCodes } = loadMapping(name);
      assert.equal(mapping.name, name);
      assert.equal(labCodes.fromAnalyser('GLU')?.loinc, '2345-7');
    }
  });

  it('names the path of what is wrong in a mapping', () => {
    const missing = demoYaml();
    delete missing.entities.labOrder.columns.specimenId;
    assert.throws(() => parseMapping(stringify(missing), 'bad.yaml'), /bad\.yaml: invalid mapping: entities\.labOrder\.columns\.specimenId: required field "specimenId" is not mapped/);
    const typo = demoYaml();
    typo.entities.visit.columns.admitedAt = 'NGAY_VAO';
    assert.throws(() => parseMapping(stringify(typo)), /entities\.visit\.columns\.admitedAt: unknown field "admitedAt"/);
    const join = demoYaml();
    join.entities.patient.columns.communeName = 'ward.TEN_XA';
    assert.throws(() => parseMapping(stringify(join)), /entities\.patient\.columns\.communeName: "ward\.TEN_XA" names join "ward", which is not declared/);
    const injection = demoYaml();
    injection.entities.visit.table = 'KB_LUOTKHAM; DROP TABLE x';
    assert.throws(() => parseMapping(stringify(injection)), /entities\.visit\.table: a table or column name/);
    assert.throws(() => parseMapping('name: x\n  bad: [', 'y.yaml'), /y\.yaml: YAML:/);
    const billing = demoYaml();
    delete billing.entities.billing[1].columns.kind;
    assert.throws(() => parseMapping(stringify(billing)), /entities\.billing\.1\.kind: give a fixed kind or map columns\.kind/);
  });

  it('translates lab codes analyser ↔ HIS service ↔ LOINC, an analyser’s own row first', () => {
    const map = LabCodeMap.load();
    assert.equal(map.fromAnalyser('GLUC', 'AU480')?.hisServiceCode, 'XN_GLU');
    assert.equal(map.fromAnalyser('GLUC', 'OTHER'), undefined);
    assert.equal(map.fromLoinc('718-7')?.analyserCode, 'HGB');
    assert.deepEqual(map.forHisService('XN_CTM').map((e) => e.analyserCode), ['WBC', 'RBC', 'HGB', 'HCT', 'PLT']);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hisbridge-codes-'));
    try {
      const bad = path.join(dir, 'bad.yaml');
      fs.writeFileSync(bad, 'kind: lab-tests\nentries:\n  - { analyserCode: X, hisServiceCode: XN_X, loinc: not-a-loinc, name: X }\n');
      assert.throws(() => LabCodeMap.load(bad), /bad\.yaml: entries\.0\.loinc: LOINC looks like 2345-7/);
      fs.writeFileSync(bad, 'kind: lab-tests\nentries:\n  - { analyserCode: X, hisServiceCode: A, name: X }\n  - { analyserCode: X, hisServiceCode: B, name: Y }\n');
      assert.throws(() => LabCodeMap.load(bad), /analyser \* code X appears twice/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
    const icd = loadIcd10();
    assert.equal(icd.get('I10')?.name, 'Bệnh lý tăng huyết áp vô căn (nguyên phát)');
    const bhyt = loadBhytBasics();
    assert.equal(bhyt.MA_NHOM['13'], 'Khám bệnh');
    assert.equal(bhyt.MA_LOAI_KCB['03'], 'Điều trị nội trú');
  });

  it('parses result messages and names the wrong field', () => {
    const ok = parseHisMessage(JSON.stringify({ specimenId: '26001', results: [{ code: 'GLU', value: '5.1', status: 'final', observedAt: '2026-11-22T08:00:00+07:00' }] }));
    assert.equal(ok.kind, 'results');
    const status = parseHisMessage(JSON.stringify({ type: 'order-status', accessionNumber: 'ACC1', status: 'in-progress' }));
    assert.deepEqual(status, { kind: 'status', update: { accessionNumber: 'ACC1', status: 'in-progress' } });
    assert.throws(() => parseHisMessage('{"results": []}'), /name the order/);
    assert.throws(() => parseHisMessage(JSON.stringify({ orderId: 'X', results: [{ code: 'GLU', value: '1', status: 'done', observedAt: '2026-11-22T08:00' }] })), /results\.0\.status/);
    assert.throws(() => parseHisMessage(JSON.stringify({ type: 'order-status', orderId: 'X', status: 'nope' })), /Error: status: Invalid option/);
  });
});

describe('canonical model helpers', () => {
  it('validates Vietnamese identifiers and guesses their system', () => {
    assert.equal(guessIdentifierSystem('001204012345'), 'CCCD');
    assert.equal(guessIdentifierSystem('DN4010123456789'), 'BHYT');
    assert.equal(guessIdentifierSystem('0123456789'), 'BHXH');
    assert.equal(guessIdentifierSystem('C1234567'), 'PASSPORT');
    assert.equal(guessIdentifierSystem('hello'), undefined);
    assert.deepEqual(parseBhytCardNumber('HT3790123456789'), { group: 'HT', benefitCode: '3', provinceCode: '79', socialInsuranceNumber: '0123456789' });
    assert.throws(() => parseBhytCardNumber('HT379012345678'), /must have 15 characters, has 14/);
    assert.match(validateIdentifier({ system: 'CCCD', value: '12345' }) ?? '', /exactly 12 digits/);
    assert.equal(validateIdentifier({ system: 'CCCD', value: '001204012345' }), undefined);
  });

  it('converts hospital time (UTC+7) to BHYT formats and database wall-clock text', () => {
    assert.equal(toBhytDateTime('2026-11-21T18:05:00Z'), '202611220105');
    assert.equal(toBhytDate('1980'), '19800000');
    assert.equal(fromBhytDateTime('202611220105').toISOString(), '2026-11-21T18:05:00.000Z');
    assert.equal(isoToDbDateTime('2026-11-22T08:30:00.250+07:00'), '2026-11-22 08:30:00.250');
    assert.equal(dbDateTimeToIso('2026-11-22 08:30:00.250'), '2026-11-22T08:30:00.250+07:00');
    assert.equal(dbDateTimeToIso('2026-11-22 08:30:00'), '2026-11-22T08:30:00+07:00');
    assert.equal(dbDateTimeToIso('22/11/2026'), undefined);
    assert.equal(normalizeDecimal(12.5), '12.5');
    assert.equal(normalizeDecimal('1234.500'), '1234.5');
    assert.equal(normalizeDecimal(0.1 + 0.2), '0.3');
  });
});

describe('demo HIS generator', function () {
  this.timeout(60_000);
  let sink: CollectingSink;

  before(async () => {
    sink = new CollectingSink();
    await generateDemoData(sink, { seed: 42, visits: 1000, today: TEST_NOW });
  });

  it('is deterministic: the same seed gives the same rows, another seed different ones', async () => {
    const again = new CollectingSink();
    await generateDemoData(again, { seed: 42, visits: 1000, today: TEST_NOW, batchSize: 333 });
    const other = new CollectingSink();
    await generateDemoData(other, { seed: 43, visits: 1000, today: TEST_NOW });
    const digest = (s: CollectingSink) =>
      createHash('sha256')
        .update(JSON.stringify(Object.keys(DEMO_TABLE_COLUMNS).map((t) => s.tables.get(t))))
        .digest('hex');
    assert.equal(digest(again), digest(sink));
    assert.notEqual(digest(other), digest(sink));
  });

  it('makes realistic patients: Vietnamese names, 12-digit CCCD matching sex and birth year, 15-character cards, coded addresses', () => {
    const patients = sink.rows('BN_BENHNHAN');
    assert.ok(patients.length > 500);
    for (const p of patients) {
      assert.match(String(p.HO_TEN), /^\p{Lu}\p{Ll}+( \p{Lu}\p{Ll}*)+$/u);
      if (p.SO_CCCD) {
        assert.match(String(p.SO_CCCD), /^\d{12}$/);
        const year = String(p.NGAY_SINH).slice(0, 4);
        const century = Number(String(p.SO_CCCD)[3]);
        assert.equal(century % 2 === 0, p.GIOI_TINH === 1, 'CCCD 4th digit encodes sex');
        assert.equal(String(p.SO_CCCD).slice(4, 6), year.slice(2), 'CCCD digits 5-6 are the birth year');
      }
      if (p.MA_THE_BHYT) assert.match(String(p.MA_THE_BHYT), /^[A-Z]{2}[1-5]\d{12}$/);
      assert.match(String(p.MA_XA), /^\d{5}$/);
    }
    const insured = patients.filter((p) => p.MA_THE_BHYT).length / patients.length;
    assert.ok(insured > 0.7 && insured < 0.9, `about 80 % insured (${insured})`);
  });

  it('covers the BHYT cases: on-route, referral, emergency, off-route at 40 %, benefit levels 80/95/100', () => {
    const visits = sink.rows('KB_LUOTKHAM');
    const byRoute = new Map<string, Record<string, unknown>[]>();
    for (const v of visits) byRoute.set(String(v.TUYEN), [...(byRoute.get(String(v.TUYEN)) ?? []), v]);
    for (const route of ['DUNG_TUYEN', 'TRAI_TUYEN', 'CAP_CUU', 'CHUYEN_TUYEN', 'null']) assert.ok(byRoute.get(route)?.length, `some ${route} visits`);
    assert.deepEqual(new Set(visits.filter((v) => v.MUC_HUONG_THE).map((v) => v.MUC_HUONG_THE)), new Set([80, 95, 100]));
    for (const v of byRoute.get('TRAI_TUYEN')!) assert.equal(v.MUC_HUONG, Math.round(Number(v.MUC_HUONG_THE) * 0.4));
    for (const v of byRoute.get('CHUYEN_TUYEN')!) assert.ok(v.MA_NOI_DI && v.GIAY_CHUYEN_TUYEN);
    const kinds = new Set(visits.map((v) => v.LOAI_KCB));
    assert.deepEqual(kinds, new Set(['NGOAITRU', 'NOITRU', 'CAPCUU']));
  });

  it('schedules imaging for today with station AE titles, and leaves today’s lab orders open', () => {
    const orders = sink.rows('CD_CHIDINH');
    const today = orders.filter((o) => String(o.NGAY_CHIDINH).startsWith('2026-11-22'));
    const imaging = today.filter((o) => o.LOAI_PHIEU === 'CDHA');
    assert.ok(imaging.length > 0);
    assert.ok(imaging.every((o) => o.TRANG_THAI === 1 && o.AE_TITLE && String(o.SO_ACCESSION).length <= 16));
    assert.ok(today.filter((o) => o.LOAI_PHIEU === 'XN').every((o) => o.TRANG_THAI === 0 || o.TRANG_THAI === 2));
    const latest = orders.map((o) => String(o.NGAY_CAPNHAT)).sort().pop()!;
    assert.ok(latest <= '2026-11-22 12:00:00.000', `no change stamp after "now" (${latest})`);
    const results = sink.rows('XN_KETQUA');
    assert.ok(results.some((r) => r.CO_BAT_THUONG === 'H') && results.some((r) => r.CO_BAT_THUONG === 'N'));
  });
});

// The table descriptions: every version loads, the recorded differences between versions are the
// ones the decisions made, the generated models match the data, and every code list named exists.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { defaultCodeLists } from '../../claims/spec/codelists';
import { describeDifferences, formatSpec, specFile } from '../../claims/spec/registry';
import { generatedVersions, generateModels, modelFile } from '../../claims/spec/tools/generate-models';
import { formatVersions, type FormatVersion } from '../../claims/spec/types';

const field = (v: FormatVersion, table: string, name: string) => formatSpec(v).tables.find((t) => t.id === table)?.fields.find((f) => f.name === name);

describe('claims table descriptions (data)', () => {
  it('has the tables of each version', () => {
    const ids = (v: FormatVersion) => formatSpec(v).tables.map((t) => t.id).join(' ');
    assert.equal(ids('4210'), 'XML1 XML2 XML3 XML4 XML5');
    assert.equal(ids('130'), 'XML0 XML1 XML2 XML3 XML4 XML5 XML6 XML7 XML8 XML9 XML10 XML11 XML12');
    assert.equal(ids('4750'), 'XML0 XML1 XML2 XML3 XML4 XML5 XML6 XML7 XML8 XML9 XML10 XML11 XML12 XML13 XML14 XML15');
    assert.equal(ids('3176'), ids('4750'));
  });

  it('records the QĐ 4750 changes to QĐ 130 (type, length, new fields)', () => {
    assert.deepEqual(
      [field('130', 'XML1', 'MA_DOITUONG_KCB')?.maxLength, field('4750', 'XML1', 'MA_DOITUONG_KCB')?.maxLength],
      [3, 4],
    );
    assert.deepEqual([field('130', 'XML0', 'MA_LOAI_KCB')?.type, field('4750', 'XML0', 'MA_LOAI_KCB')?.type], ['number', 'string']);
    assert.equal(field('130', 'XML1', 'NHOM_MAU'), undefined);
    assert.equal(field('4750', 'XML1', 'NHOM_MAU')?.maxLength, 5);
    const x1 = formatSpec('4750').tables.find((t) => t.id === 'XML1')!.fields.map((f) => f.name);
    assert.equal(x1[x1.indexOf('GIOI_TINH') + 1], 'NHOM_MAU', 'a new field sits where the appendix puts it');
    const diffs = describeDifferences('130', '4750');
    assert.ok(diffs.includes('XML3.TT_THAU: max length 25 → 50'));
    assert.ok(diffs.includes('XML2.NGAY_TH_YL: added'));
    assert.ok(diffs.includes('XML13: new table (39 fields)'));
    assert.equal(specFile('4750').amends, '130');
  });

  it('records the QĐ 3176 changes to XML13', () => {
    assert.deepEqual(describeDifferences('4750', '3176'), [
      'XML13.MA_CSKCB_DI: added', 'XML13.MA_CSKCB_DEN: added', 'XML13.TINH_TRANG_CT: added',
      'XML13.MA_NOI_DI: removed', 'XML13.MA_NOI_DEN: removed', 'XML13.TEN_DICH_VU: removed', 'XML13.TEN_THUOC: removed', 'XML13.PP_DIEU_TRI: removed',
    ]);
    assert.deepEqual(specFile('3176').changes!.map((c) => c.op), ['rename', 'rename', 'rename', 'set', 'remove', 'remove']);
    assert.equal(field('3176', 'XML13', 'MA_CSKCB_DI')?.maxLength, 100);
  });

  it('keeps 4210 as its own version with its own layout', () => {
    const t = formatSpec('4210').tables.find((x) => x.id === 'XML2')!;
    assert.equal(t.root, 'DSACH_CHI_TIET_THUOC');
    assert.equal(t.list, undefined);
    assert.ok(field('4210', 'XML1', 'MA_THE'));
    assert.equal(field('4210', 'XML1', 'MA_THE_BHYT'), undefined);
  });

  it('names only code lists that exist, and every field once per table', () => {
    const lists = defaultCodeLists();
    for (const v of formatVersions) {
      for (const t of formatSpec(v).tables) {
        const names = t.fields.map((f) => f.name);
        assert.equal(new Set(names).size, names.length, `${v} ${t.id} has a duplicated field`);
        for (const f of t.fields) if (f.codeList) assert.ok(lists.list(f.codeList), `${v} ${t.id}.${f.name}: code list ${f.codeList}`);
      }
    }
  });

  it('the committed typed models are generated from the data', () => {
    for (const v of generatedVersions) assert.equal(readFileSync(modelFile(v), 'utf8'), generateModels(v), `claims/models/qd${v}.ts is stale: run node --import tsx claims/spec/tools/generate-models.ts`);
  });
});

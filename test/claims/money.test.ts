// Exact decimal arithmetic and the official line formulas.
import assert from 'node:assert/strict';
import { Decimal } from '../../claims/money/decimal';
import { computeLine } from '../../claims/money/line';

const d = Decimal.parse;

describe('claims money', () => {
  it('rounds half away from zero and prints without exponent or trailing zeros', () => {
    assert.equal(d('0.125').round(2).toString(), '0.13');
    assert.equal(d('0.124').round(2).toString(), '0.12');
    assert.equal(d('-2.5').round(0).toString(), '-3');
    assert.equal(d('37037.010').toString(), '37037.01');
    assert.equal(d('1200.00').toString(), '1200');
    assert.equal(d('0.00').toString(), '0');
    assert.equal(d('68.5').toString(2), '68.50');
    assert.equal(d('0.1').add(d('0.2')).toString(), '0.3');
    assert.equal(d('12345678901234567890.5').add(d('0.5')).toString(), '12345678901234567891');
    assert.equal(Decimal.tryParse('1,5'), undefined);
    assert.equal(Decimal.tryParse('1e5'), undefined);
  });

  it('THANH_TIEN_BV/BH and the split, with TYLE_TT_DV from QĐ 4750 on', () => {
    const base = { table: 'XML3' as const, quantity: d('0.5'), unitPrice: d('225800'), bhytUnitPrice: d('225800'), serviceRatio: d('50'), coverageRatio: d('100'), benefitLevel: d('80'), otherSources: d('0') };
    const v3176 = computeLine({ ...base, version: '3176' });
    assert.deepEqual([v3176.hospital, v3176.insuranceScope, v3176.fund, v3176.coPayment, v3176.selfPay].map(String), ['56450', '56450', '45160', '11290', '0']);
    const v130 = computeLine({ ...base, version: '130' });
    assert.deepEqual([v130.hospital, v130.insuranceScope, v130.selfPay].map(String), ['112900', '56450', '56450']);
  });

  it('deducts other sources from T_BNTT, then T_BNCCT, then T_BHTT (QĐ 130 case a)', () => {
    const line = (n: string) => computeLine({ table: 'XML2', version: '3176', quantity: d('1'), unitPrice: d('100000'), bhytUnitPrice: d('100000'), serviceRatio: d('100'), coverageRatio: d('80'), benefitLevel: d('80'), otherSources: d(n) });
    // BV 100000, BH 80000: tentative T_BNTT 20000, T_BHTT 64000, T_BNCCT 16000.
    const a = line('30000');
    assert.deepEqual([a.selfPay, a.coPayment, a.fund].map(String), ['0', '6000', '64000']);
    const b = line('40000');
    assert.deepEqual([b.selfPay, b.coPayment, b.fund].map(String), ['0', '0', '60000']);
    assert.equal(b.selfPay.add(b.coPayment).add(b.fund).add(b.otherSources).toString(), '100000');
  });
});

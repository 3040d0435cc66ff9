// The official line formulas (QĐ 130 Bảng 2/3 as corrected by QĐ 4750), used by the builder to
// compute what it writes; the validator checks the same formulas on files from other software.
import type { FormatVersion } from '../spec/types';
import { Decimal } from './decimal';

export interface LineInput {
  table: 'XML2' | 'XML3';
  version: FormatVersion;
  /** SO_LUONG, rounded to 3 decimals before use (it is written that way). */
  quantity: Decimal;
  /** DON_GIA (XML2) / DON_GIA_BV (XML3), rounded to 3 decimals. */
  unitPrice: Decimal;
  /** DON_GIA_BH (XML3 only; XML2 has one price). */
  bhytUnitPrice: Decimal;
  /** TYLE_TT_DV % (XML3). */
  serviceRatio: Decimal;
  /** TYLE_TT_BH %. */
  coverageRatio: Decimal;
  /** MUC_HUONG %. */
  benefitLevel: Decimal;
  /** T_NGUONKHAC: amount other sources paid for this patient's line. */
  otherSources: Decimal;
}

export interface LineAmounts {
  quantity: Decimal;
  unitPrice: Decimal;
  bhytUnitPrice: Decimal;
  /** THANH_TIEN_BV */
  hospital: Decimal;
  /** THANH_TIEN_BH */
  insuranceScope: Decimal;
  /** T_BNTT */
  selfPay: Decimal;
  /** T_BNCCT */
  coPayment: Decimal;
  /** T_BHTT */
  fund: Decimal;
  /** T_NGUONKHAC */
  otherSources: Decimal;
}

/**
 * THANH_TIEN_BV = round2(SO_LUONG × DON_GIA_BV [× TYLE_TT_DV / 100 from QĐ 4750 on, XML3])
 * THANH_TIEN_BH = round2(SO_LUONG × DON_GIA_BH [× TYLE_TT_DV / 100] × TYLE_TT_BH / 100)
 * Split: T_BNTT = BV − BH, T_BHTT = round2(BH × MUC_HUONG / 100), T_BNCCT = BH − T_BHTT, then an
 * amount paid by other sources for this patient is deducted from T_BNTT, then T_BNCCT, then T_BHTT
 * (QĐ 130, case a).
 */
export function computeLine(input: LineInput): LineAmounts {
  const sl = input.quantity.round(3);
  const dg = input.unitPrice.round(3);
  const dgBh = (input.table === 'XML2' ? input.unitPrice : input.bhytUnitPrice).round(3);
  const r2 = (d: Decimal) => d.round(2);
  let bv = sl.mul(dg);
  let bh = sl.mul(dgBh);
  if (input.table === 'XML3') {
    if (input.version !== '130') bv = bv.percent(input.serviceRatio);
    bh = bh.percent(input.serviceRatio);
  }
  bv = r2(bv);
  bh = r2(bh.percent(input.coverageRatio));
  const bntt0 = bv.sub(bh);
  const bhtt0 = r2(bh.percent(input.benefitLevel));
  const bncct0 = bh.sub(bhtt0);
  const n = input.otherSources.round(2);
  const zero = Decimal.zero;
  const selfPay = bntt0.sub(n).max(zero);
  const coPayment = n.compare(bntt0) <= 0 ? bncct0 : bncct0.sub(n.sub(bntt0)).max(zero);
  const fund = n.compare(bncct0.add(bntt0)) <= 0 ? bhtt0 : bhtt0.sub(n.sub(bncct0).sub(bntt0)).max(zero);
  return { quantity: sl, unitPrice: dg, bhytUnitPrice: dgBh, hospital: bv, insuranceScope: bh, selfPay, coPayment, fund, otherSources: n };
}

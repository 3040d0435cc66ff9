// Episode-level rules: the insurance card, dates, money formulas, benefit level, which tables a
// visit must include, and the links between tables of one MA_LK. Sources are cited in
// claims/validator/catalogue.ts and docs/claims.md; formulas follow the official QĐ 130/4750 text.
import type { ClaimRecord } from '../model';
import { smallCostThreshold } from '../money/benefit';
import { Decimal } from '../money/decimal';
import type { TableId } from '../spec/types';
import { amount, daysBetween, decimal, isDate8, isDateTime12, type RuleContext, showDateTime, value } from './context';

const round2 = (d: Decimal) => d.round(2);
const show = (d: Decimal) => d.toString();
const differs = (ctx: RuleContext, a: Decimal, b: Decimal) => a.sub(b).abs().compare(ctx.tolerance) > 0;

/** Field names that differ between 4210 and the 130 family. */
function names(ctx: RuleContext) {
  const is4210 = ctx.version === '4210';
  return {
    card: is4210 ? 'MA_THE' : 'MA_THE_BHYT',
    mainIcd: is4210 ? 'MA_BENH' : 'MA_BENH_CHINH',
    otherIcd: is4210 ? 'MA_BENHKHAC' : 'MA_BENH_KT',
  };
}

// ------------------------------------------------------------------------------------------------
// Which tables, and single-record tables.

const needsXml5 = ['02', '03', '04', '05', '06', '08', '09'];
const needsXml7 = ['03', '04', '09'];
const xml8CareTypes = ['03', '04', '06'];
const careTypeNames: Record<string, string> = {
  '01': 'outpatient examination', '02': 'outpatient treatment', '03': 'inpatient', '04': 'day-care inpatient', '05': 'chronic outpatient',
  '06': 'commune-station stay', '07': 'drug collection', '08': 'chronic outpatient', '09': 'inpatient under 4 hours',
};

export function checkTablePresence(ctx: RuleContext): void {
  const tables = ctx.episode.tables;
  for (const id of Object.keys(tables) as TableId[]) {
    if (!ctx.table(id)) ctx.report('tables.version', id, undefined, undefined, `${id} does not exist in QĐ ${ctx.version}`);
  }
  for (const t of ctx.spec.tables) {
    const rs = tables[t.id];
    if (!t.repeating && t.id !== 'XML7' && rs && rs.length > 1) ctx.report('tables.single', t.id, rs[1], undefined, `${t.id} holds one record per episode; found ${rs.length}`);
  }
  if (ctx.partial) return;
  const x1 = ctx.xml1;
  if (!x1) {
    ctx.report('tables.required', 'XML1', undefined, undefined, 'the episode has no XML1 (TONG_HOP); every HOSO must include it');
    return;
  }
  const has = (id: TableId) => (tables[id]?.length ?? 0) > 0;
  if (!has('XML2') && !has('XML3')) ctx.report('tables.recommended', 'XML1', x1, undefined, 'the episode has no cost lines: neither XML2 (drugs) nor XML3 (services, supplies)');
  if (ctx.version === '4210') return;
  const loai = value(x1, 'MA_LOAI_KCB');
  const loaiRv = value(x1, 'MA_LOAI_RV');
  const kind = loai ? `MA_LOAI_KCB ${loai} (${careTypeNames[loai] ?? 'care type'})` : '';
  if (loai && needsXml5.includes(loai) && !has('XML5')) ctx.report('tables.required', 'XML5', undefined, undefined, `${kind} requires XML5 (clinical progress)`);
  if (loai && needsXml7.includes(loai) && loaiRv !== '3' && !has('XML7')) ctx.report('tables.required', 'XML7', undefined, undefined, `${kind} requires XML7 (discharge paper) unless the patient absconded (MA_LOAI_RV 3)`);
  if (loai && xml8CareTypes.includes(loai) && !has('XML8')) ctx.report('tables.recommended', 'XML8', undefined, undefined, `${kind} normally includes XML8 (record summary)`);
  if (ctx.table('XML13')) {
    const transferred = loaiRv === '2' || loaiRv === '5';
    if (transferred && !has('XML13')) ctx.report('tables.recommended', 'XML13', undefined, undefined, `MA_LOAI_RV ${loaiRv} (transfer) normally includes XML13 (referral letter)`);
    if (!transferred && has('XML13')) ctx.report('tables.not-applicable', 'XML13', tables.XML13![0], undefined, `XML13 (referral letter) is sent only when MA_LOAI_RV is 2 or 5; XML1 has MA_LOAI_RV ${loaiRv ?? '(empty)'}`);
  }
  // A delivery (O80–O84 as the main diagnosis) is the mother's episode: one birth certificate per baby.
  const mainIcd = value(x1, 'MA_BENH_CHINH');
  if (mainIcd && /^O8[0-4]/.test(mainIcd) && !has('XML9')) ctx.report('tables.recommended', 'XML9', undefined, undefined, `MA_BENH_CHINH ${mainIcd} is a delivery; the mother's episode normally includes XML9 (a birth certificate per baby)`);
  // Birth certificates and pregnancy-rest certificates belong to a woman's episode.
  const sex = value(x1, 'GIOI_TINH');
  for (const [id, what] of [['XML9', 'birth certificate'], ['XML10', 'pregnancy-rest certificate']] as const) {
    if (has(id) && sex !== undefined && sex !== '2') ctx.report('tables.not-applicable', id, tables[id]![0], undefined, `${id} (${what}) belongs to a female patient's episode; XML1 has GIOI_TINH ${sex}`);
  }
}

// ------------------------------------------------------------------------------------------------
// Links between tables.

const copiedFromXml1: Partial<Record<TableId, string[]>> = {
  XML6: ['NGAY_SINH', 'GIOI_TINH', 'DIA_CHI', 'MATINH_CU_TRU', 'MAHUYEN_CU_TRU', 'MAXA_CU_TRU', 'MA_CSKCB'],
  XML13: ['MA_CSKCB', 'MA_NOI_DI', 'MA_NOI_DEN', 'HO_TEN', 'NGAY_SINH', 'GIOI_TINH', 'MA_QUOCTICH', 'MA_DANTOC', 'MA_NGHE_NGHIEP', 'DIA_CHI', 'MA_THE_BHYT', 'GT_THE_DEN', 'NGAY_VAO', 'NGAY_VAO_NOI_TRU', 'NGAY_RA', 'CHAN_DOAN_RV', 'MA_BENH_CHINH', 'MA_BENH_KT', 'MA_BENH_YHCT', 'PP_DIEU_TRI', 'MA_LOAI_RV'],
  XML14: ['NGAY_SINH', 'GIOI_TINH', 'DIA_CHI', 'MA_THE_BHYT', 'GT_THE_DEN', 'NGAY_VAO', 'NGAY_VAO_NOI_TRU', 'NGAY_RA', 'CHAN_DOAN_RV', 'MA_BENH_CHINH', 'MA_BENH_KT', 'MA_BENH_YHCT', 'MA_DOITUONG_KCB'],
  XML15: ['HO_TEN', 'SO_CCCD', 'MA_CSKCB'],
};

export function checkLinks(ctx: RuleContext, envelopeMaCskcb?: string): void {
  // STT numbering works on a single table too.
  for (const t of ctx.spec.tables) {
    if (!t.repeating || !t.fields.some((f) => f.name === 'STT')) continue;
    const rs = ctx.records(t.id);
    for (const r of rs) {
      const stt = value(r, 'STT');
      if (stt !== undefined && /^\d+$/.test(stt) && Number(stt) !== r.index) {
        ctx.report('link.stt', t.id, r, 'STT', `STT is ${stt} where ${r.index} is expected (rows are numbered 1, 2, 3… in each table)`);
        break;
      }
    }
  }
  if (ctx.partial) return;
  const x1 = ctx.xml1;
  if (!x1) return;
  const maLk = value(x1, 'MA_LK');
  if (maLk !== undefined) {
    for (const [id, rs] of Object.entries(ctx.episode.tables) as Array<[TableId, ClaimRecord[]]>) {
      if (id === 'XML1' || id === 'XML0' || id === 'XML12') continue;
      for (const r of rs) {
        const v = value(r, 'MA_LK');
        if (v !== undefined && v !== maLk) ctx.report('link.ma-lk', id, r, 'MA_LK', `MA_LK «${v}» differs from the episode's MA_LK «${maLk}» in XML1`);
      }
    }
  }
  for (const [id, fields] of Object.entries(copiedFromXml1) as Array<[TableId, string[]]>) {
    for (const r of ctx.records(id)) {
      for (const f of fields) {
        const v = value(r, f);
        const expected = value(x1, f);
        if (v !== undefined && expected !== undefined && v !== expected) ctx.report('link.xml1-copy', id, r, f, `«${v}» differs from XML1 ${f} «${expected}» (this field repeats XML1)`);
      }
    }
  }
  for (const r of ctx.records('XML7')) {
    const v = value(r, 'MA_YTE');
    const maBn = value(x1, 'MA_BN');
    if (v !== undefined && maBn !== undefined && v !== maBn) ctx.report('link.xml1-copy', 'XML7', r, 'MA_YTE', `«${v}» differs from XML1 MA_BN «${maBn}» (MA_YTE is the patient code of XML1)`);
  }
  const services = new Set(ctx.records('XML3').map((r) => value(r, 'MA_DICH_VU')).filter((v): v is string => v !== undefined));
  for (const r of ctx.records('XML4')) {
    const code = value(r, 'MA_DICH_VU');
    if (code !== undefined && !services.has(code)) ctx.report('link.cls-service', 'XML4', r, 'MA_DICH_VU', `«${code}» has results in XML4 but no XML3 line bills that service`);
  }
  const maCskcb = value(x1, 'MA_CSKCB');
  if (maCskcb !== undefined) {
    if (envelopeMaCskcb && envelopeMaCskcb !== maCskcb) ctx.report('link.facility', 'XML1', x1, 'MA_CSKCB', `«${maCskcb}» differs from the envelope's MACSKCB «${envelopeMaCskcb}»`);
    else if (ctx.options.maCskcb && ctx.options.maCskcb !== maCskcb) ctx.report('link.facility', 'XML1', x1, 'MA_CSKCB', `«${maCskcb}» is not this facility's code «${ctx.options.maCskcb}»`);
  }
}

// ------------------------------------------------------------------------------------------------
// Insurance card.

const militaryGroups = ['QN', 'HC', 'LS', 'XK', 'CY', 'CA'];

function cardProblem(card: string): string | undefined {
  if (card.length !== 15) return `card «${card}» has ${card.length} characters; a BHYT card number has 15`;
  if (!/^[A-Z]{2}/.test(card)) return `card «${card}»: characters 1–2 must be the beneficiary group in capital letters (e.g. DN, HT, TE)`;
  if (!/^[1-5]$/.test(card[2])) return `card «${card}»: character 3 (benefit level) must be 1–5`;
  if (!/^\d{2}$/.test(card.slice(3, 5))) return `card «${card}»: characters 4–5 (province of issue) must be digits`;
  if (!/^\d{10}$/.test(card.slice(5))) return `card «${card}»: characters 6–15 (social-insurance number) must be digits`;
  return undefined;
}

const items = (v: string | undefined) => (v === undefined ? [] : v.split(';').map((s) => s.trim()));

export function checkCards(ctx: RuleContext): void {
  const n = names(ctx);
  for (const r of ctx.records('XML0')) checkCardRecord(ctx, 'XML0', r, n.card, false);
  if (ctx.xml1) checkCardRecord(ctx, 'XML1', ctx.xml1, n.card, true);
}

function checkCardRecord(ctx: RuleContext, table: TableId, r: ClaimRecord, cardField: string, episode: boolean): void {
  const cards = items(value(r, cardField));
  if (cards.length === 0) return;
  for (const c of cards) {
    const problem = cardProblem(c);
    if (problem) ctx.report('card.structure', table, r, cardField, problem);
  }
  const military = cards.every((c) => militaryGroups.includes(c.slice(0, 2)));
  for (const f of ['MA_DKBD', 'GT_THE_TU', 'GT_THE_DEN']) {
    const v = value(r, f);
    if (v === undefined) {
      if (f === 'GT_THE_DEN' && military) continue; // official: army/police/cipher cards not found online leave it empty
      ctx.report('card.details', table, r, f, `${f} is empty but ${cardField} holds ${cards.length === 1 ? 'a card' : `${cards.length} cards`}`);
      continue;
    }
    if (table === 'XML1' && items(v).length !== cards.length) ctx.report('card.count', table, r, f, `${f} has ${items(v).length} value(s) but ${cardField} has ${cards.length} card(s); write one value per card, separated by ";"`);
  }
  const from = items(value(r, 'GT_THE_TU'));
  const to = items(value(r, 'GT_THE_DEN'));
  for (let i = 0; i < Math.min(from.length, to.length); i++) {
    if (isDate8(from[i]) && isDate8(to[i]) && from[i] > to[i]) ctx.report('card.validity', table, r, 'GT_THE_TU', `card ${i + 1}: valid from ${showDateTime(from[i])} after valid to ${showDateTime(to[i])}`);
  }
  const ngayVao = value(r, 'NGAY_VAO');
  if (episode && isDateTime12(ngayVao) && from.length > 0) {
    const day = ngayVao.slice(0, 8);
    const covered = from.some((f, i) => isDate8(f) && f <= day && (to[i] === undefined || !isDate8(to[i]) || to[i] >= day));
    const checkable = from.every(isDate8);
    if (checkable && !covered) ctx.report('card.coverage', table, r, 'GT_THE_TU', `no card is valid on the admission date ${showDateTime(day)}`);
  }
}

// ------------------------------------------------------------------------------------------------
// ICD-10 codes.

const icdPattern = /^[A-Z][0-9]{2}(\.?[0-9A-Z]{1,2})?$/;

export function checkIcd(ctx: RuleContext): void {
  const x1 = ctx.xml1;
  const n = names(ctx);
  const check = (table: TableId, r: ClaimRecord, field: string, list: boolean) => {
    const v = value(r, field);
    if (v === undefined) return;
    const codes = list ? items(v).filter(Boolean) : [v.trim()];
    for (const c of codes) {
      if (!icdPattern.test(c)) {
        ctx.report('icd.format', table, r, field, `«${c}» is not an ICD-10 code (a capital letter, two digits and an optional subdivision, e.g. J18.9)`);
        return;
      }
    }
    if (list && field === n.otherIcd && codes.length > 12) ctx.report('icd.count', table, r, field, `${codes.length} secondary codes; at most 12 are allowed`);
  };
  if (x1) {
    check('XML1', x1, n.mainIcd, false);
    check('XML1', x1, n.otherIcd, true);
  }
  if (ctx.version !== '4210') for (const r of ctx.records('XML3')) check('XML3', r, 'MA_BENH', true);
}

// ------------------------------------------------------------------------------------------------
// Dates.

export function checkDates(ctx: RuleContext): void {
  for (const t of ['XML2', 'XML3'] as TableId[]) {
    for (const r of ctx.records(t)) {
      const yl = value(r, 'NGAY_YL');
      if (!isDateTime12(yl)) continue;
      const th = value(r, 'NGAY_TH_YL');
      if (isDateTime12(th) && th < yl) ctx.report('dates.execution', t, r, 'NGAY_TH_YL', `${showDateTime(th)} is before the order time NGAY_YL ${showDateTime(yl)}`);
      const kq = value(r, 'NGAY_KQ');
      if (isDateTime12(kq) && kq < yl) ctx.report('dates.execution', t, r, 'NGAY_KQ', `${showDateTime(kq)} is before the order time NGAY_YL ${showDateTime(yl)}`);
    }
  }
  const x1 = ctx.xml1;
  if (ctx.partial || !x1) return;
  const vao = value(x1, 'NGAY_VAO');
  const ra = value(x1, 'NGAY_RA');
  const vaoNt = value(x1, 'NGAY_VAO_NOI_TRU');
  if (isDateTime12(vao) && isDateTime12(ra) && vao > ra) ctx.report('dates.episode-order', 'XML1', x1, 'NGAY_RA', `${showDateTime(ra)} is before NGAY_VAO ${showDateTime(vao)}`);
  if (isDateTime12(vaoNt)) {
    if (isDateTime12(vao) && vaoNt < vao) ctx.report('dates.episode-order', 'XML1', x1, 'NGAY_VAO_NOI_TRU', `${showDateTime(vaoNt)} is before NGAY_VAO ${showDateTime(vao)}`);
    else if (isDateTime12(ra) && vaoNt > ra) ctx.report('dates.episode-order', 'XML1', x1, 'NGAY_VAO_NOI_TRU', `${showDateTime(vaoNt)} is after NGAY_RA ${showDateTime(ra)}`);
  }
  const sinh = value(x1, 'NGAY_SINH');
  if (sinh && /^\d{8}/.test(sinh) && isDateTime12(vao)) {
    const birthDay = sinh.slice(0, 8).replace(/0000$/, '0101').replace(/(\d{6})00$/, '$101');
    if (birthDay > vao.slice(0, 8)) ctx.report('dates.birth', 'XML1', x1, 'NGAY_SINH', `date of birth ${showDateTime(sinh.slice(0, 8))} is after the admission date ${showDateTime(vao.slice(0, 8))}`);
  }
  const tt = value(x1, 'NGAY_TTOAN');
  if (isDateTime12(tt) && isDateTime12(vao) && tt < vao) ctx.report('dates.payment', 'XML1', x1, 'NGAY_TTOAN', `payment time ${showDateTime(tt)} is before NGAY_VAO ${showDateTime(vao)}`);
  if (isDateTime12(vao) && isDateTime12(ra)) {
    for (const t of ['XML2', 'XML3'] as TableId[]) {
      for (const r of ctx.records(t)) {
        const yl = value(r, 'NGAY_YL');
        if (isDateTime12(yl) && (yl < vao || yl > ra)) ctx.report('dates.line-order', t, r, 'NGAY_YL', `${showDateTime(yl)} is outside the episode (NGAY_VAO ${showDateTime(vao)} – NGAY_RA ${showDateTime(ra)})`);
        const kq = value(r, 'NGAY_KQ');
        if (t === 'XML3' && isDateTime12(kq) && kq > ra) ctx.report('dates.result-after-discharge', t, r, 'NGAY_KQ', `${showDateTime(kq)} is after NGAY_RA ${showDateTime(ra)} (results more than 7 days late are entered on the portal)`);
      }
    }
    for (const r of ctx.records('XML5')) {
      const d = value(r, 'THOI_DIEM_DBLS');
      if (isDateTime12(d) && (d < vao || d > ra)) ctx.report('dates.line-order', 'XML5', r, 'THOI_DIEM_DBLS', `${showDateTime(d)} is outside the episode (NGAY_VAO ${showDateTime(vao)} – NGAY_RA ${showDateTime(ra)})`);
    }
  }
  for (const r of ctx.records('XML14')) {
    const hen = value(r, 'NGAY_HEN_KL');
    const raRef = value(r, 'NGAY_RA') ?? ra;
    if (isDateTime12(hen) && isDateTime12(raRef) && hen < raRef) ctx.report('dates.appointment', 'XML14', r, 'NGAY_HEN_KL', `appointment ${showDateTime(hen)} is before discharge NGAY_RA ${showDateTime(raRef)}`);
    const ct = value(r, 'NGAY_CT');
    if (isDate8(ct) && isDateTime12(vao) && ct < vao.slice(0, 8)) ctx.report('dates.appointment', 'XML14', r, 'NGAY_CT', `slip date ${showDateTime(ct)} is before NGAY_VAO ${showDateTime(vao)}`);
  }
  checkEpisodeDays(ctx, x1, vao, ra);
}

function checkEpisodeDays(ctx: RuleContext, x1: ClaimRecord, vao: string | undefined, ra: string | undefined): void {
  const nam = value(x1, 'NAM_QT');
  const thang = value(x1, 'THANG_QT');
  if (thang !== undefined && /^\d+$/.test(thang) && (Number(thang) < 1 || Number(thang) > 12)) ctx.report('episode.settlement', 'XML1', x1, 'THANG_QT', `${thang} is not a month (1–12)`);
  else if (nam && thang && /^\d{4}$/.test(nam) && /^\d+$/.test(thang) && isDateTime12(ra)) {
    const period = `${nam}${thang.padStart(2, '0')}`;
    if (period < ra.slice(0, 6)) ctx.report('episode.settlement', 'XML1', x1, 'THANG_QT', `settlement period ${nam}-${thang.padStart(2, '0')} is before the discharge month ${ra.slice(0, 4)}-${ra.slice(4, 6)}`);
  }
  if (ctx.version === '4210' || !isDateTime12(vao) || !isDateTime12(ra)) return;
  const loai = value(x1, 'MA_LOAI_KCB');
  const days = daysBetween(vao, ra);
  if (loai === '01' && days > 0) ctx.report('episode.long-outpatient', 'XML1', x1, 'NGAY_RA', `an outpatient examination (MA_LOAI_KCB 01) from ${showDateTime(vao)} to ${showDateTime(ra)} spans ${days + 1} days`);
  const written = value(x1, 'SO_NGAY_DTRI');
  if (written === undefined || !/^\d+$/.test(written) || loai === undefined) return;
  let expected: number | undefined;
  let why = '';
  if (['01', '07', '09'].includes(loai)) {
    expected = 0;
    why = `MA_LOAI_KCB ${loai} counts 0 treatment days`;
  } else if (['02', '03', '04', '06'].includes(loai)) {
    expected = days + 1;
    why = `MA_LOAI_KCB ${loai}: NGAY_RA − NGAY_VAO + 1 = ${ra.slice(0, 8)} − ${vao.slice(0, 8)} + 1`;
  }
  if (expected !== undefined && Number(written) !== expected) ctx.report('episode.treatment-days', 'XML1', x1, 'SO_NGAY_DTRI', `${written} should be ${expected} (${why})`);
}

// ------------------------------------------------------------------------------------------------
// Money, 130 family.

interface LineAmounts {
  bv: Decimal;
  bh: Decimal;
}

export function checkLineMoney(ctx: RuleContext): void {
  if (ctx.version === '4210') return checkLineMoney4210(ctx);
  const tyleDvInBv = ctx.version !== '130'; // the 4750 correction adds TYLE_TT_DV to THANH_TIEN_BV of XML3
  for (const t of ['XML2', 'XML3'] as const) {
    for (const r of ctx.records(t)) {
      const sl = decimal(r, 'SO_LUONG');
      const dgBv = decimal(r, t === 'XML2' ? 'DON_GIA' : 'DON_GIA_BV');
      const dgBh = t === 'XML2' ? dgBv : decimal(r, 'DON_GIA_BH');
      const tyleBh = decimal(r, 'TYLE_TT_BH');
      const tyleDv = t === 'XML3' ? decimal(r, 'TYLE_TT_DV') : undefined;
      const bvWritten = decimal(r, 'THANH_TIEN_BV');
      const bhWritten = decimal(r, 'THANH_TIEN_BH');
      const dgName = t === 'XML2' ? 'DON_GIA' : 'DON_GIA_BV';
      // The formula text is written only for a finding: most lines are right, and text costs more than the arithmetic.
      if (sl && dgBv && bvWritten && (t === 'XML2' || !tyleDvInBv || tyleDv)) {
        const withDv = t === 'XML3' && tyleDvInBv && tyleDv;
        const bv = round2(withDv ? sl.mul(dgBv).percent(tyleDv) : sl.mul(dgBv));
        if (differs(ctx, bvWritten, bv)) {
          const formula = `SO_LUONG ${show(sl)} × ${dgName} ${show(dgBv)}${withDv ? ` × TYLE_TT_DV ${show(tyleDv)} / 100` : ''}`;
          ctx.report('money.line-bv', t, r, 'THANH_TIEN_BV', `${show(bvWritten)} ≠ round2(${formula}) = ${show(bv)}`);
        }
      }
      if (sl && dgBh && tyleBh && bhWritten && (t === 'XML2' || tyleDv)) {
        const withDv = t === 'XML3' && tyleDv;
        const bh = round2((withDv ? sl.mul(dgBh).percent(tyleDv) : sl.mul(dgBh)).percent(tyleBh));
        if (differs(ctx, bhWritten, bh)) {
          const formula = `SO_LUONG ${show(sl)} × ${t === 'XML2' ? 'DON_GIA' : 'DON_GIA_BH'} ${show(dgBh)}${withDv ? ` × TYLE_TT_DV ${show(tyleDv)} / 100` : ''} × TYLE_TT_BH ${show(tyleBh)} / 100`;
          ctx.report('money.line-bh', t, r, 'THANH_TIEN_BH', `${show(bhWritten)} ≠ round2(${formula}) = ${show(bh)}`);
        }
      }
      checkOtherSourcesAndSplit(ctx, t, r);
      if (t === 'XML3') {
        const ceiling = decimal(r, 'T_TRANTT');
        const bhtt = decimal(r, 'T_BHTT');
        if (ceiling && ceiling.compare(Decimal.zero) > 0 && bhtt && bhtt.compare(ceiling) > 0) ctx.report('money.supply-ceiling', t, r, 'T_BHTT', `${show(bhtt)} exceeds the supply-package ceiling T_TRANTT ${show(ceiling)}`);
      }
    }
  }
}

function checkOtherSourcesAndSplit(ctx: RuleContext, t: TableId, r: ClaimRecord): void {
  const parts = ['T_NGUONKHAC_NSNN', 'T_NGUONKHAC_VTNN', 'T_NGUONKHAC_VTTN', 'T_NGUONKHAC_CL'];
  const nk = decimal(r, 'T_NGUONKHAC');
  const bv = decimal(r, 'THANH_TIEN_BV');
  const bh = decimal(r, 'THANH_TIEN_BH');
  const mh = decimal(r, 'MUC_HUONG');
  if (nk && parts.every((p) => decimal(r, p) || value(r, p) === undefined)) {
    const total = parts.reduce((s, p) => s.add(amount(r, p)), Decimal.zero);
    if (!total.eq(nk)) ctx.report('money.other-sources', t, r, 'T_NGUONKHAC', `${show(nk)} ≠ ${parts.map((p) => `${p.slice(12)} ${show(amount(r, p))}`).join(' + ')} = ${show(total)}`);
    else if (bv && nk.compare(bv) > 0) ctx.report('money.other-sources', t, r, 'T_NGUONKHAC', `${show(nk)} is more than the line amount THANH_TIEN_BV ${show(bv)}`);
  }
  const bntt = decimal(r, 'T_BNTT');
  const bncct = decimal(r, 'T_BNCCT');
  const bhtt = decimal(r, 'T_BHTT');
  if (!bv || !bh || !mh || !bntt || !bncct || !bhtt) return;
  const other = nk ?? Decimal.zero;
  const bhtt0 = round2(bh.percent(mh));
  if (other.isZero()) {
    // Formulas are functions: their text is only needed for a finding.
    const expected: Array<[string, Decimal, Decimal, () => string]> = [
      ['T_BNTT', bntt, bv.sub(bh), () => `THANH_TIEN_BV ${show(bv)} − THANH_TIEN_BH ${show(bh)}`],
      ['T_BHTT', bhtt, bhtt0, () => `round2(THANH_TIEN_BH ${show(bh)} × MUC_HUONG ${show(mh)} / 100)`],
      ['T_BNCCT', bncct, bh.sub(bhtt0), () => `THANH_TIEN_BH ${show(bh)} − T_BHTT ${show(bhtt0)}`],
    ];
    for (const [field, written, want, formula] of expected) {
      if (differs(ctx, written, want)) ctx.report('money.split', t, r, field, `${show(written)} ≠ ${formula()} = ${show(want)}`);
    }
    return;
  }
  // With other sources the deduction order depends on who was supported (QĐ 130 cases a–c): the parts must still add up.
  const sumParts = bntt.add(bncct).add(bhtt).add(other);
  if (differs(ctx, sumParts, bv)) ctx.report('money.split', t, r, 'T_BHTT', `T_BNTT ${show(bntt)} + T_BNCCT ${show(bncct)} + T_BHTT ${show(bhtt)} + T_NGUONKHAC ${show(other)} = ${show(sumParts)} ≠ THANH_TIEN_BV ${show(bv)}`);
  else if (differs(ctx, bhtt.max(bhtt0), bhtt0)) ctx.report('money.split', t, r, 'T_BHTT', `${show(bhtt)} is more than the fund's share round2(THANH_TIEN_BH ${show(bh)} × MUC_HUONG ${show(mh)} / 100) = ${show(bhtt0)}`);
}

function checkLineMoney4210(ctx: RuleContext): void {
  for (const t of ['XML2', 'XML3'] as const) {
    for (const r of ctx.records(t)) {
      const sl = decimal(r, 'SO_LUONG');
      const dg = decimal(r, 'DON_GIA');
      const tt = decimal(r, 'THANH_TIEN');
      if (!sl || !dg || !tt) continue;
      const want = round2(sl.mul(dg));
      if (differs(ctx, tt, want)) ctx.report('money.line-4210', t, r, 'THANH_TIEN', `${show(tt)} ≠ round2(SO_LUONG ${show(sl)} × DON_GIA ${show(dg)}) = ${show(want)}`);
    }
  }
}

const supplyGroups = ['10', '11'];

export function checkTotals(ctx: RuleContext): void {
  const x1 = ctx.xml1;
  if (ctx.partial || !x1) return;
  const x2 = ctx.records('XML2');
  const x3 = ctx.records('XML3');
  const all = [...x2, ...x3];
  const sumOf = (rs: ClaimRecord[], f: string) => rs.reduce((s, r) => s.add(amount(r, f)), Decimal.zero);
  const is4210 = ctx.version === '4210';
  const line = is4210 ? 'THANH_TIEN' : 'THANH_TIEN_BV';
  const supplies = x3.filter((r) => supplyGroups.includes(value(r, 'MA_NHOM') ?? ''));
  const checks: Array<[string, Decimal, string]> = [
    ['T_THUOC', sumOf(x2, line), `Σ XML2 ${line} (${x2.length} line${x2.length === 1 ? '' : 's'})`],
    ['T_VTYT', sumOf(supplies, line), `Σ XML3 ${line} of supplies, MA_NHOM 10/11 (${supplies.length} line${supplies.length === 1 ? '' : 's'})`],
    [is4210 ? 'T_TONGCHI' : 'T_TONGCHI_BV', sumOf(all, line), `Σ XML2+XML3 ${line} (${all.length} lines)`],
    ['T_BNTT', sumOf(all, 'T_BNTT'), 'Σ XML2+XML3 T_BNTT'],
    ['T_BNCCT', sumOf(all, 'T_BNCCT'), 'Σ XML2+XML3 T_BNCCT'],
    ['T_NGUONKHAC', sumOf(all, 'T_NGUONKHAC'), 'Σ XML2+XML3 T_NGUONKHAC'],
  ];
  if (is4210) {
    checks.push(['T_BHTT', sumOf(all, 'T_BHTT'), 'Σ XML2+XML3 T_BHTT'], ['T_NGOAIDS', sumOf(all, 'T_NGOAIDS'), 'Σ XML2+XML3 T_NGOAIDS']);
  } else {
    checks.push(['T_TONGCHI_BH', sumOf(all, 'THANH_TIEN_BH'), 'Σ XML2+XML3 THANH_TIEN_BH']);
    const card = value(x1, 'MA_THE_BHYT') ?? '';
    // tracnn skips this check for army/police/cipher cards, whose payment method differs.
    if (!['QN', 'CA', 'CY'].includes(card.slice(0, 2))) {
      const ffs = all.filter((r) => value(r, 'MA_PTTT') === '1');
      checks.push(['T_BHTT_GDV', sumOf(ffs, 'T_BHTT'), `Σ T_BHTT of fee-for-service lines, MA_PTTT 1 (${ffs.length} line${ffs.length === 1 ? '' : 's'})`]);
    }
  }
  for (const [field, want, formula] of checks) {
    const written = decimal(x1, field);
    if (written && !written.eq(want)) ctx.report('money.totals', 'XML1', x1, field, `${show(written)} ≠ ${formula} = ${show(want)}`);
  }
  if (!is4210) {
    const bhtt = decimal(x1, 'T_BHTT');
    const tongBh = decimal(x1, 'T_TONGCHI_BH');
    const bncct = decimal(x1, 'T_BNCCT');
    if (bhtt && tongBh && bncct && !bhtt.eq(tongBh.sub(bncct))) ctx.report('money.fund-total', 'XML1', x1, 'T_BHTT', `${show(bhtt)} ≠ T_TONGCHI_BH ${show(tongBh)} − T_BNCCT ${show(bncct)} = ${show(tongBh.sub(bncct))}`);
  }
}

// ------------------------------------------------------------------------------------------------
// Benefit level (MUC_HUONG).

export function checkBenefit(ctx: RuleContext): void {
  const x1 = ctx.xml1;
  if (ctx.partial || !x1) return;
  const policy = ctx.codeLists.benefit;
  const n = names(ctx);
  const cards = items(value(x1, n.card)).filter((c) => !cardProblem(c));
  let route: string | undefined;
  let routeText: string;
  if (ctx.version === '4210') {
    const lydo = value(x1, 'MA_LYDO_VVIEN');
    route = lydo === '3' ? 'off-route' : lydo === '2' ? 'emergency' : lydo ? 'on-route' : undefined;
    routeText = `MA_LYDO_VVIEN ${lydo}`;
  } else {
    const dt = value(x1, 'MA_DOITUONG_KCB');
    route = dt ? policy.routeByCategoryFamily[dt.split('.')[0]] : undefined;
    routeText = `MA_DOITUONG_KCB ${dt}`;
  }
  if (!route || route === 'other') return;
  const loai = value(x1, 'MA_LOAI_KCB') ?? '';
  const inpatient = ctx.version === '4210' ? loai === '3' || loai === '9' : policy.inpatientCareTypes.includes(loai);
  const levels = [...new Set(cards.map((c) => policy.cardLevels[c[2]]).filter((l): l is number => l !== undefined))];
  const allowed = new Map<number, string>();
  if (route === 'withdrawal' || route === 'not-insured' || levels.length === 0) {
    if (levels.length === 0 && route !== 'withdrawal' && route !== 'not-insured') return; // card problems are reported by the card rules
    allowed.set(0, `${routeText}: the fund pays nothing`);
  } else if (route === 'off-route') {
    const facility = ctx.options.facilityLevel;
    const setting = inpatient ? 'inpatient' : 'outpatient';
    const rates = facility ? [[facility, policy.offRouteRate[facility][setting]] as const] : (Object.entries(policy.offRouteRate).filter(([k]) => k !== 'note') as Array<[string, { inpatient: number; outpatient: number }]>).map(([k, v]) => [k, v[setting]] as const);
    for (const level of levels) {
      for (const [fac, rate] of rates) {
        const mh = Math.round((level * rate) / 100);
        if (!allowed.has(mh)) allowed.set(mh, `card level ${level} % × off-route rate ${rate} % (${fac}-level ${setting}) = ${mh}`);
      }
    }
  } else {
    const exemption = exemptionReason(ctx, x1);
    // Small cost and commune stations: the decision says "ghi mức hưởng 100" (only 100 is right).
    if (!exemption?.strict) for (const level of levels) allowed.set(level, `card level ${level} %`);
    if (exemption) allowed.set(100, exemption.reason);
  }
  for (const t of ['XML2', 'XML3'] as const) {
    for (const r of ctx.records(t)) {
      const mh = decimal(r, 'MUC_HUONG');
      const inScope = ctx.version === '4210' ? value(r, 'PHAM_VI') === '1' : amount(r, 'THANH_TIEN_BH').compare(Decimal.zero) > 0;
      if (!mh || !inScope || allowed.has(mh.toNumber())) continue;
      const reasons = [...allowed.values()].join('; or ');
      ctx.report('benefit.muc-huong', t, r, 'MUC_HUONG', `${show(mh)} does not match the benefit for ${routeText}${cards.length ? ` and card ${cards[0]}` : ''}: expected ${[...allowed.keys()].join(' or ')} (${reasons})`);
    }
  }
}

function exemptionReason(ctx: RuleContext, x1: ClaimRecord): { reason: string; strict: boolean } | undefined {
  const policy = ctx.codeLists.benefit;
  if (ctx.options.facilityLevel === 'commune') return { reason: '100 at a commune health station', strict: true };
  const total = decimal(x1, ctx.version === '4210' ? 'T_TONGCHI' : 'T_TONGCHI_BH');
  const ra = value(x1, 'NGAY_RA');
  if (total && isDateTime12(ra)) {
    const threshold = smallCostThreshold(policy, total, ra);
    if (threshold) return { reason: `100 because the in-scope total ${show(total)} is under ${policy.smallCostPercentOfBaseSalary} % of the base salary (${show(threshold)})`, strict: true };
  }
  // The exemption starts on NGAY_MIEN_CCT: earlier lines keep the card level.
  if (value(x1, 'NGAY_MIEN_CCT') || value(x1, 'MIEN_CUNG_CT')) return { reason: '100 with a co-payment exemption (NGAY_MIEN_CCT)', strict: false };
  return undefined;
}

// ------------------------------------------------------------------------------------------------
// Beds, examinations, drugs, check-in.

const bedGroups = ['14', '15'];
const noBedCareTypes = ['01', '02', '09'];

export function checkServices(ctx: RuleContext): void {
  for (const r of ctx.records('XML0')) {
    const items0 = ['MA_DICH_VU', 'MA_THUOC', 'MA_VAT_TU'].filter((f) => value(r, f) !== undefined);
    if (items0.length > 1) ctx.report('checkin.first-cost', 'XML0', r, items0[1], `names ${items0.join(' and ')}; the first cost is one service, one drug or one supply`);
  }
  for (const r of ctx.records('XML2')) {
    const group = value(r, 'MA_NHOM');
    const code = value(r, 'MA_THUOC') ?? '';
    const exempt = ['40.17', '40.573'].includes(code) || code.includes('+') || /^(VM|BB)\./.test(code);
    if (['4', '5', '6'].includes(group ?? '') && value(r, 'SO_DANG_KY') === undefined && !exempt) {
      ctx.report('drug.registration', 'XML2', r, 'SO_DANG_KY', `drug ${code} (MA_NHOM ${group}) has no registration number`);
    }
  }
  const x1 = ctx.xml1;
  if (ctx.partial || !x1 || ctx.version === '4210') return;
  const loai = value(x1, 'MA_LOAI_KCB');
  const x3 = ctx.records('XML3');
  for (const r of x3) {
    const group = value(r, 'MA_NHOM') ?? '';
    if (loai && ((noBedCareTypes.includes(loai) && bedGroups.includes(group)) || (loai === '09' && group === '16'))) {
      ctx.report('bed.not-allowed', 'XML3', r, 'MA_NHOM', `bed days (MA_NHOM ${group}) are not paid for MA_LOAI_KCB ${loai} (${careTypeNames[loai]})`);
    }
  }
  const beds = x3.filter((r) => bedGroups.includes(value(r, 'MA_NHOM') ?? ''));
  const days = value(x1, 'SO_NGAY_DTRI');
  if (beds.length && days && /^\d+$/.test(days)) {
    const total = beds.reduce((s, r) => s.add(amount(r, 'SO_LUONG')), Decimal.zero);
    if (total.compare(Decimal.parse(days)) > 0) ctx.report('bed.days', 'XML3', beds[beds.length - 1], 'SO_LUONG', `${show(total)} bed days in ${beds.length} line(s) exceed the ${days} treatment days (SO_NGAY_DTRI)`);
  }
  if (loai === '03') {
    const exams = x3.filter((r) => value(r, 'MA_NHOM') === '13');
    if (exams.length > 1) ctx.report('service.exam-count', 'XML3', exams[1], 'MA_NHOM', `${exams.length} examination lines (MA_NHOM 13) in one inpatient episode`);
  }
}

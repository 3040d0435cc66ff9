// Which table an inner document is, from its root element (the same names in 130, 4750 and 3176;
// 4210 used the list element as the root). TONG_HOP is shared: its fields tell 4210 from 130.
import { formatSpec } from '../spec/registry';
import type { FormatVersion, TableId, TableSpec } from '../spec/types';

export type Family = '4210' | '130';

export interface Layout {
  table: TableId;
  family: Family;
  root: string;
  list?: string;
  record: string;
  repeating: boolean;
  signatureSlot: boolean;
}

let byRoot: Map<string, Layout> | undefined;

function layoutOf(t: TableSpec, family: Family): Layout {
  return { table: t.id, family, root: t.root, list: t.list, record: t.record, repeating: t.repeating, signatureSlot: !!t.signatureSlot };
}

export function layoutForRoot(root: string): Layout | undefined {
  if (!byRoot) {
    byRoot = new Map();
    for (const t of formatSpec('4210').tables) byRoot.set(t.root, layoutOf(t, '4210'));
    // 130-family layouts (4750 has every table 130 has, plus 13–15); TONG_HOP resolves to 130 here.
    for (const t of formatSpec('4750').tables) byRoot.set(t.root, layoutOf(t, '130'));
  }
  return byRoot.get(root);
}

/** 4210's XML1 has MA_THE/T_TONGCHI where 130's has MA_THE_BHYT/T_TONGCHI_BV. */
export function looks4210(xml1Fields: Record<string, string>): boolean {
  return ('MA_THE' in xml1Fields || 'T_TONGCHI' in xml1Fields || 'MA_LYDO_VVIEN' in xml1Fields) && !('MA_THE_BHYT' in xml1Fields);
}

export function familyOf(version: FormatVersion): Family {
  return version === '4210' ? '4210' : '130';
}

// Renders a stored CDA document as readable HTML for the viewer and the print view. What is shown
// is read from the signed XML itself (not from the index), through an allow-list: the CDA narrative
// block's elements become their HTML counterparts, everything else is text, every string escaped.
// The signature status comes first, and an invalid one is a red INVALID banner, never hidden.
import { XMLParser } from 'fast-xml-parser';
import { identifierOfOid, type EmrOids } from '../oids';
import type { SignatureVerification } from '../sign/signer';

export type Lang = 'vi' | 'en';

type XNode = Record<string, any>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: false,
  removeNSPrefix: true,
});

const LABELS = {
  vi: {
    patient: 'Người bệnh',
    identifiers: 'Mã định danh',
    birth: 'Ngày sinh',
    sex: 'Giới tính',
    address: 'Địa chỉ',
    encounter: 'Đợt điều trị',
    facility: 'Cơ sở KCB',
    author: 'Người lập',
    legal: 'Người ký xác nhận',
    created: 'Ngày lập',
    version: 'Phiên bản',
    replaces: 'Thay thế văn bản',
    document: 'Mã văn bản',
    valid: 'Chữ ký số HỢP LỆ',
    invalid: 'CHỮ KÝ SỐ KHÔNG HỢP LỆ (INVALID)',
    invalidHint: 'Không dùng nội dung này cho quyết định lâm sàng khi chưa đối chiếu với bản gốc.',
    signer: 'Người/đơn vị ký',
    checked: 'Kiểm tra lúc',
    unreadable: 'Không đọc được văn bản',
    sexes: { M: 'Nam', F: 'Nữ', UN: 'Khác' } as Record<string, string>,
    ids: { MA_BN: 'Mã BN', CCCD: 'CCCD', BHYT: 'Thẻ BHYT', BHXH: 'Mã BHXH', CMND: 'CMND', PASSPORT: 'Hộ chiếu' } as Record<string, string>,
  },
  en: {
    patient: 'Patient',
    identifiers: 'Identifiers',
    birth: 'Date of birth',
    sex: 'Sex',
    address: 'Address',
    encounter: 'Encounter',
    facility: 'Facility',
    author: 'Author',
    legal: 'Legal authenticator',
    created: 'Created',
    version: 'Version',
    replaces: 'Replaces document',
    document: 'Document id',
    valid: 'Digital signature VALID',
    invalid: 'DIGITAL SIGNATURE INVALID',
    invalidHint: 'Do not rely on this content for clinical decisions before checking the original.',
    signer: 'Signed by',
    checked: 'Checked at',
    unreadable: 'The document cannot be read',
    sexes: { M: 'Male', F: 'Female', UN: 'Other' } as Record<string, string>,
    ids: { MA_BN: 'Patient no. (MA_BN)', CCCD: 'Citizen ID (CCCD)', BHYT: 'Insurance card (BHYT)', BHXH: 'Social insurance no.', CMND: 'ID card (CMND)', PASSPORT: 'Passport' } as Record<string, string>,
  },
};

export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}

function tagOf(node: XNode): string | undefined {
  return Object.keys(node).find((k) => k !== ':@' && k !== '#text');
}

function children(node: XNode | undefined): XNode[] {
  if (!node) return [];
  const tag = tagOf(node);
  return tag ? (node[tag] as XNode[]) : [];
}

function attrs(node: XNode | undefined): Record<string, string> {
  return (node?.[':@'] as Record<string, string>) ?? {};
}

function child(node: XNode | undefined, name: string): XNode | undefined {
  return children(node).find((c) => tagOf(c) === name);
}

function all(node: XNode | undefined, name: string): XNode[] {
  return children(node).filter((c) => tagOf(c) === name);
}

function path(node: XNode | undefined, ...names: string[]): XNode | undefined {
  let current = node;
  for (const name of names) current = child(current, name);
  return current;
}

function text(node: XNode | undefined): string {
  if (!node) return '';
  if ('#text' in node) return String(node['#text']);
  return children(node).map(text).join('');
}

/** HL7 TS `20261120045800+0700` → `20/11/2026 04:58`. */
export function formatTs(value: string | undefined): string {
  if (!value) return '';
  const m = /^(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?/.exec(value);
  if (!m) return value;
  const date = [m[3], m[2], m[1]].filter(Boolean).join('/');
  return m[4] ? `${date} ${m[4]}:${m[5] ?? '00'}` : date;
}

function personName(name: XNode | undefined): string {
  if (!name) return '';
  const family = child(name, 'family');
  const given = child(name, 'given');
  const prefix = text(child(name, 'prefix')).trim();
  if (family || given) return [prefix, text(family), text(given)].filter(Boolean).join(' ');
  // Mixed content: the prefix element, then the name as text.
  const rest = children(name)
    .filter((c) => '#text' in c)
    .map(text)
    .join('')
    .trim();
  return [prefix, rest].filter(Boolean).join(' ');
}

const NARRATIVE_TAGS: Record<string, string> = {
  paragraph: 'p',
  list: 'ul',
  item: 'li',
  table: 'table',
  thead: 'thead',
  tbody: 'tbody',
  tfoot: 'tfoot',
  tr: 'tr',
  th: 'th',
  td: 'td',
  caption: 'caption',
  sub: 'sub',
  sup: 'sup',
  br: 'br',
  content: 'span',
  footnote: 'small',
  colgroup: 'colgroup',
  col: 'col',
};

/** The CDA narrative block (section/text) as HTML, through the allow-list above. */
export function narrativeToHtml(nodes: XNode[]): string {
  let out = '';
  for (const node of nodes) {
    if ('#text' in node) {
      out += escapeHtml(node['#text']);
      continue;
    }
    const tag = tagOf(node);
    if (!tag) continue;
    const a = attrs(node);
    const inner = narrativeToHtml(node[tag] as XNode[]);
    if (tag === 'linkHtml') {
      const href = a.href && /^https?:\/\//i.test(a.href) ? ` href="${escapeHtml(a.href)}" rel="noopener noreferrer" target="_blank"` : '';
      out += `<a${href}>${inner}</a>`;
      continue;
    }
    let html = NARRATIVE_TAGS[tag];
    if (!html) {
      out += inner;
      continue;
    }
    if (tag === 'list' && a.listType === 'ordered') html = 'ol';
    const styles = (a.styleCode ?? '').split(/\s+/).filter(Boolean);
    const classes = styles.map((s) => `cda-${s.toLowerCase()}`);
    const extra = [
      classes.length ? ` class="${escapeHtml(classes.join(' '))}"` : '',
      (tag === 'td' || tag === 'th') && a.colspan ? ` colspan="${escapeHtml(a.colspan)}"` : '',
      (tag === 'td' || tag === 'th') && a.rowspan ? ` rowspan="${escapeHtml(a.rowspan)}"` : '',
    ].join('');
    out += html === 'br' || html === 'col' ? `<${html}>` : `<${html}${extra}>${inner}</${html}>`;
  }
  return out;
}

export function signatureBanner(verification: SignatureVerification, lang: Lang = 'vi'): string {
  const L = LABELS[lang];
  if (verification.status === 'valid') {
    return `<div class="emr-sig emr-sig-valid" data-signature="valid"><strong>✔ ${escapeHtml(L.valid)}</strong>${
      verification.signer ? ` · ${escapeHtml(L.signer)}: ${escapeHtml(verification.signer.subject)}` : ''
    } · ${escapeHtml(L.checked)}: ${escapeHtml(new Date(verification.checkedAt).toLocaleString(lang === 'vi' ? 'vi-VN' : 'en-GB', { timeZone: 'Asia/Ho_Chi_Minh' }))}</div>`;
  }
  return `<div class="emr-sig emr-sig-invalid" role="alert" data-signature="invalid"><strong>✖ ${escapeHtml(L.invalid)}</strong><br>${escapeHtml(verification.reason ?? '')}${
    verification.signer ? `<br>${escapeHtml(L.signer)}: ${escapeHtml(verification.signer.subject)}` : ''
  }<br><em>${escapeHtml(L.invalidHint)}</em></div>`;
}

/** The whole document as an HTML fragment: signature status, header facts, sections. */
export function renderDocumentHtml(xml: string, verification: SignatureVerification, oids: EmrOids, lang: Lang = 'vi'): string {
  const L = LABELS[lang];
  let root: XNode | undefined;
  try {
    const parsed = parser.parse(xml) as XNode[];
    root = parsed.find((n) => tagOf(n) === 'ClinicalDocument');
  } catch (error) {
    return `<article class="emr-doc">${signatureBanner(verification, lang)}<p class="emr-error">${escapeHtml(L.unreadable)}: ${escapeHtml((error as Error).message)}</p></article>`;
  }
  if (!root) return `<article class="emr-doc">${signatureBanner(verification, lang)}<p class="emr-error">${escapeHtml(L.unreadable)}</p></article>`;

  const role = path(root, 'recordTarget', 'patientRole');
  const patient = child(role, 'patient');
  const ids = all(role, 'id').map((id) => {
    const a = attrs(id);
    const system = identifierOfOid(oids, a.root ?? '');
    return `${escapeHtml(system ? L.ids[system] : a.root)}: <span class="emr-id">${escapeHtml(a.extension)}</span>`;
  });
  const addr = child(role, 'addr');
  const address = addr ? children(addr).filter((c) => tagOf(c) && tagOf(c) !== 'country').map(text).filter(Boolean).join(', ') : '';
  const author = path(root, 'author', 'assignedAuthor');
  const legal = path(root, 'legalAuthenticator', 'assignedEntity');
  const custodian = path(root, 'custodian', 'assignedCustodian', 'representedCustodianOrganization');
  const encounter = path(root, 'componentOf', 'encompassingEncounter');
  const parent = path(root, 'relatedDocument', 'parentDocument');
  const gender = attrs(child(patient, 'administrativeGenderCode')).code;
  const certificate = (person: XNode | undefined) => all(person, 'id').find((i) => attrs(i).root === oids.cchn);
  const row = (label: string, value: string) => (value ? `<tr><th>${escapeHtml(label)}</th><td>${value}</td></tr>` : '');

  const header = [
    row(L.patient, `<strong>${escapeHtml(personName(child(patient, 'name')))}</strong>`),
    row(L.identifiers, ids.join(' · ')),
    row(L.birth, escapeHtml(formatTs(attrs(child(patient, 'birthTime')).value))),
    row(L.sex, escapeHtml(gender ? (L.sexes[gender] ?? gender) : '')),
    row(L.address, escapeHtml(address)),
    row(
      L.encounter,
      encounter
        ? `${escapeHtml(attrs(child(encounter, 'id')).extension)} · ${escapeHtml(formatTs(attrs(path(encounter, 'effectiveTime', 'low')).value))}${
            path(encounter, 'effectiveTime', 'high') ? ` – ${escapeHtml(formatTs(attrs(path(encounter, 'effectiveTime', 'high')).value))}` : ''
          }${path(encounter, 'location', 'healthCareFacility', 'location', 'name') ? ` · ${escapeHtml(text(path(encounter, 'location', 'healthCareFacility', 'location', 'name')))}` : ''}`
        : '',
    ),
    row(L.facility, custodian ? `${escapeHtml(text(child(custodian, 'name')))} (MA_CSKCB ${escapeHtml(attrs(child(custodian, 'id')).extension)})` : ''),
    row(
      L.author,
      author
        ? `${escapeHtml(personName(path(author, 'assignedPerson', 'name')))}${certificate(author) ? ` (CCHN ${escapeHtml(attrs(certificate(author)).extension)})` : ''} · ${escapeHtml(formatTs(attrs(path(root, 'author', 'time')).value))}`
        : '',
    ),
    row(
      L.legal,
      legal
        ? `${escapeHtml(personName(path(legal, 'assignedPerson', 'name')))}${certificate(legal) ? ` (CCHN ${escapeHtml(attrs(certificate(legal)).extension)})` : ''} · ${escapeHtml(formatTs(attrs(path(root, 'legalAuthenticator', 'time')).value))}`
        : '',
    ),
    row(L.created, escapeHtml(formatTs(attrs(child(root, 'effectiveTime')).value))),
    row(L.version, escapeHtml(attrs(child(root, 'versionNumber')).value)),
    row(L.replaces, parent ? `${escapeHtml(attrs(child(parent, 'id')).extension)} (v${escapeHtml(attrs(child(parent, 'versionNumber')).value)})` : ''),
    row(L.document, `<span class="emr-id">${escapeHtml(attrs(child(root, 'id')).extension)}</span>`),
  ].join('');

  const sections = all(path(root, 'component', 'structuredBody'), 'component')
    .map((c) => child(c, 'section'))
    .filter((s): s is XNode => !!s)
    .map((s) => `<section class="emr-section"><h2>${escapeHtml(text(child(s, 'title')))}</h2><div class="emr-narrative">${narrativeToHtml(children(child(s, 'text')))}</div></section>`)
    .join('');

  return `<article class="emr-doc" lang="vi">${signatureBanner(verification, lang)}<h1>${escapeHtml(text(child(root, 'title')))}</h1><table class="emr-header">${header}</table>${sections}</article>`;
}

/** A complete page for printing (own styles, no console chrome). */
export function printPage(fragment: string, title: string): string {
  return `<!doctype html><html lang="vi"><head><meta charset="utf-8"><title>${escapeHtml(title)}</title><style>${PRINT_CSS}</style></head><body>${fragment}</body></html>`;
}

export const PRINT_CSS = `
body{font-family:"Times New Roman",serif;font-size:13pt;margin:1.5cm;color:#000}
h1{font-size:17pt;text-align:center;text-transform:uppercase;margin:.6em 0}
h2{font-size:13pt;border-bottom:1px solid #000;margin-top:1.2em}
table{border-collapse:collapse;width:100%}
.emr-narrative td,.emr-narrative th{border:1px solid #444;padding:2px 6px;text-align:left}
.emr-header th{text-align:left;width:28%;font-weight:normal;color:#333;padding:1px 6px}
.emr-header td{padding:1px 6px}
.cda-bold{font-weight:bold}
.emr-sig{padding:6px 10px;margin-bottom:8px;border:2px solid}
.emr-sig-valid{border-color:#1b5e20}
.emr-sig-invalid{border-color:#b71c1c;color:#b71c1c;font-size:15pt}
@media print{.emr-noprint{display:none}}
`;

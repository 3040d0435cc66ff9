// The clinicians' EMR viewer (/emr…, permission emr:read): find a patient by name, CCCD, BHYT card
// or MA_BN; the patient's timeline of signed documents; lab trends with abnormal flags; vitals with
// NEWS2 bands; imaging studies with thumbnails; a document rendered from its signed CDA with the
// signature status (INVALID in red, never hidden); a print view. Vietnamese by default.
import { button, errorNotice, facts, field, input, loading, notice, pageHeading, select, table, withBusy } from '../components/ui';
import { api, ApiError, query } from '../core/api';
import { download, h, replace } from '../core/dom';
import { formatDateTime, formatNumber } from '../core/format';
import { language } from '../core/i18n';
import type { PageContext, PageModule } from '../core/page';
import { timeChart } from './charts';
import { safeFragment } from './safe-html';
import { tx } from './i18n';
import { emrStrings, type EmrKey } from './strings';
import { ensureEmrStyles } from './styles';
import { DOCUMENT_TYPES, type DocumentMeta, type DocumentView, type EmrPatient, type ImagingStudy, type LabSeries, type Signature, type VitalsView } from './types';

const enc = encodeURIComponent;
const TITLE_KEY = 'emr.title';
const TABS = ['timeline', 'labs', 'vitals', 'imaging'] as const;
type Tab = (typeof TABS)[number];
const FLAGS = new Set(['N', 'L', 'H', 'LL', 'HH', 'A']);

function typeLabel(type: string): string {
  return DOCUMENT_TYPES.includes(type as never) ? tx(`emr.type.${type}` as EmrKey) : type;
}

function sexLabel(sex: string | null): string {
  return sex && ['male', 'female', 'other', 'unknown'].includes(sex) ? tx(`emr.sex.${sex}` as EmrKey) : '—';
}

function flagLabel(flag: string | null): string {
  return flag && FLAGS.has(flag) ? tx(`emr.labs.flag.${flag}` as EmrKey) : '';
}

function birthDate(value: string | null): string {
  if (!value) return '—';
  const [y, m, d] = value.split('-');
  return [d, m, y].filter(Boolean).join('/');
}

function statusBadge(doc: Pick<DocumentMeta, 'status'>): HTMLElement {
  return h('span', { class: `badge ${doc.status === 'current' ? 'badge-ok' : 'badge-muted'}`, 'data-status': doc.status }, doc.status === 'current' ? tx('emr.status.current') : tx('emr.status.superseded'));
}

/** The signature status as the console states it: green when valid, a red alert when not. */
export function signatureBanner(signature: Signature): HTMLElement {
  if (signature.status === 'valid') {
    return h(
      'div',
      { class: 'emr-sig emr-sig-valid', 'data-signature-status': 'valid' },
      h('strong', null, `✔ ${tx('emr.sig.valid')}`),
      signature.signer ? h('span', null, ` · ${tx('emr.sig.signer')}: ${signature.signer.subject}`) : null,
      h('span', { class: 'muted' }, ` · ${formatDateTime(signature.checkedAt)}`),
    );
  }
  return h('div', { class: 'emr-sig emr-sig-invalid', role: 'alert', 'data-signature-status': 'invalid' }, h('strong', null, `✖ ${tx('emr.sig.invalid')}`), h('div', null, signature.reason ?? ''));
}

async function guarded(ctx: PageContext, body: HTMLElement, work: () => Promise<void>): Promise<void> {
  try {
    await work();
  } catch (error) {
    if (!ctx.isCurrent()) return;
    replace(body, error instanceof ApiError && error.status === 404 ? notice('warning', error.message) : errorNotice(error));
  }
}

// ------------------------------------------------------------------ search

export const emrSearchPage: PageModule = {
  id: 'emr-search',
  path: '/emr',
  titleKey: TITLE_KEY,
  nav: { section: 'clinical', order: 10, icon: '✚' },
  permission: 'emr:read',
  strings: emrStrings,
  async render(ctx) {
    ensureEmrStyles();
    const q = ctx.query.get('q') ?? '';
    const box = input({ name: 'q', value: q, autocomplete: 'off', required: true, minlength: 2, spellcheck: 'false' });
    const results = h('div', { class: 'emr-search-results' });
    const form = h(
      'form',
      {
        class: 'inline-form',
        role: 'search',
        onsubmit: (event: Event) => {
          event.preventDefault();
          ctx.navigate(`/emr${query({ q: box.value.trim() })}`);
        },
      },
      field(tx('emr.search.label'), box, tx('emr.search.hint')),
      h('button', { type: 'submit', class: 'btn btn-primary' }, tx('emr.search.submit')),
    );
    ctx.root.append(pageHeading(tx('emr.search.title')), form, results);
    box.focus();
    if (!q) return;
    if (q.length < 2) {
      replace(results, notice('info', tx('emr.search.tooShort')));
      return;
    }
    replace(results, loading());
    await guarded(ctx, results, async () => {
      const data = await api.get<{ patients: EmrPatient[] }>(`/api/emr/patients${query({ q })}`);
      if (!ctx.isCurrent()) return;
      replace(
        results,
        table(
          [
            { header: tx('emr.patient.name'), cell: (p) => (p.inEmr === false ? h('span', null, p.name, h('br'), h('small', { class: 'muted' }, tx('emr.search.notInEmr'))) : h('a', { href: `/emr/patients/${enc(p.id)}`, 'data-patient': p.id }, p.name)) },
            { header: tx('emr.patient.id'), cell: (p) => h('span', { class: 'mono' }, p.id) },
            { header: tx('emr.patient.cccd'), cell: (p) => h('span', { class: 'mono' }, p.cccd ?? '—') },
            { header: tx('emr.patient.bhyt'), cell: (p) => h('span', { class: 'mono' }, p.bhyt ?? '—') },
            { header: tx('emr.patient.birth'), cell: (p) => birthDate(p.birthDate) },
            { header: tx('emr.patient.sex'), cell: (p) => sexLabel(p.sex) },
            { header: tx('emr.patient.documents'), cell: (p) => formatNumber(p.documents) },
            { header: tx('emr.patient.last'), cell: (p) => (p.lastServiceAt ? formatDateTime(p.lastServiceAt) : '—') },
          ],
          data.patients,
          { empty: tx('emr.search.none'), caption: tx('emr.search.title') },
        ),
      );
    });
  },
};

// ------------------------------------------------------------------ patient

function patientHeader(patient: EmrPatient): HTMLElement {
  return h(
    'div',
    { class: 'panel emr-patient-head', 'data-patient-id': patient.id },
    h('strong', { class: 'emr-patient-name' }, patient.name),
    h('span', { class: 'emr-ids' }, `${tx('emr.patient.id')} ${patient.id}`),
    patient.cccd ? h('span', { class: 'emr-ids' }, `${tx('emr.patient.cccd')} ${patient.cccd}`) : null,
    patient.bhyt ? h('span', { class: 'emr-ids' }, `${tx('emr.patient.bhyt')} ${patient.bhyt}`) : null,
    h('span', { class: 'emr-ids' }, `${tx('emr.patient.birth')} ${birthDate(patient.birthDate)}`),
    h('span', { class: 'emr-ids' }, sexLabel(patient.sex)),
  );
}

async function timelineTab(ctx: PageContext, patientId: string, body: HTMLElement): Promise<void> {
  const type = ctx.query.get('type') ?? '';
  const filter = select([{ value: '', label: tx('emr.type.all') }, ...DOCUMENT_TYPES.map((t) => ({ value: t, label: typeLabel(t) }))], { value: type, name: 'type' });
  filter.addEventListener('change', () => ctx.navigate(`/emr/patients/${enc(patientId)}${query({ tab: 'timeline', type: filter.value })}`));
  const list = h('ol', { class: 'emr-timeline', 'aria-label': tx('emr.tab.timeline') });
  const more = h('div', { class: 'button-row' });
  replace(body, h('div', { class: 'inline-form' }, field(tx('emr.timeline.type'), filter)), list, more);
  const load = async (before?: string) => {
    const data = await api.get<{ documents: DocumentMeta[]; next: string | null }>(`/api/emr/patients/${enc(patientId)}/timeline${query({ types: type || undefined, before, limit: 30 })}`);
    if (!ctx.isCurrent()) return;
    if (!before && data.documents.length === 0) list.replaceWith(h('p', { class: 'empty' }, tx('emr.timeline.empty')));
    for (const d of data.documents) {
      list.append(
        h(
          'li',
          { 'data-type': d.type, 'data-document': d.id },
          h('div', null, h('span', { class: 'emr-when' }, formatDateTime(d.serviceAt)), ' · ', h('a', { href: `/emr/documents/${enc(d.id)}`, 'data-open-document': d.type }, d.title), ' ', statusBadge(d)),
          h('div', { class: 'emr-meta' }, [typeLabel(d.type), d.maLk ? `${tx('emr.timeline.visit')} ${d.maLk}` : null, d.author ? `${tx('emr.timeline.author')}: ${d.author}` : null, tx('emr.timeline.version', { version: d.version })].filter(Boolean).join(' · ')),
        ),
      );
    }
    replace(more, data.next ? button(tx('emr.timeline.more'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, () => load(data.next!))) : null);
  };
  await load();
}

function labChart(series: LabSeries, highlight?: string): HTMLElement | null {
  const numeric = series.points.filter((p) => p.value !== null);
  if (numeric.length === 0) return null;
  return timeChart({
    title: series.name,
    unit: series.unit ?? undefined,
    reference: { low: series.refLow, high: series.refHigh },
    points: numeric.map((p) => ({
      at: p.at,
      value: p.value!,
      abnormal: !!p.flag && p.flag !== 'N',
      label: `${p.text}${p.flag && p.flag !== 'N' ? ` ${flagLabel(p.flag)}` : ''}${p.documentId === highlight ? ' ◀' : ''}`,
      href: `/emr/documents/${enc(p.documentId)}`,
    })),
  });
}

function labSummaryTable(series: LabSeries[]): HTMLElement {
  return table(
    [
      { header: tx('emr.tab.labs'), cell: (s) => s.name },
      {
        header: tx('emr.labs.latest'),
        cell: (s) => {
          const last = s.points[s.points.length - 1];
          const abnormal = !!last.flag && last.flag !== 'N';
          return h('span', { class: abnormal ? 'emr-abnormal' : null, 'data-flag': last.flag ?? '' }, `${last.text}${s.unit ? ` ${s.unit}` : ''}${abnormal ? ` (${flagLabel(last.flag)})` : ''}`);
        },
      },
      { header: tx('emr.labs.reference'), cell: (s) => s.refText ?? [s.refLow, s.refHigh].filter((v) => v !== null).join(' – ') },
      { header: tx('emr.patient.last'), cell: (s) => formatDateTime(s.points[s.points.length - 1].at) },
      { header: '#', cell: (s) => tx('emr.labs.points', { count: s.points.length }) },
    ],
    series,
  );
}

async function labsTab(ctx: PageContext, patientId: string, body: HTMLElement): Promise<void> {
  const data = await api.get<{ series: LabSeries[] }>(`/api/emr/patients/${enc(patientId)}/labs`);
  if (!ctx.isCurrent()) return;
  if (data.series.length === 0) return replace(body, h('p', { class: 'empty' }, tx('emr.labs.empty')));
  const ordered = [...data.series].sort((a, b) => b.points.length - a.points.length || a.name.localeCompare(b.name));
  replace(body, labSummaryTable(ordered), h('div', { class: 'emr-charts' }, ...ordered.map((s) => labChart(s))));
}

async function vitalsTab(ctx: PageContext, patientId: string, body: HTMLElement): Promise<void> {
  const data = await api.get<VitalsView>(`/api/emr/patients/${enc(patientId)}/vitals`);
  if (!ctx.isCurrent()) return;
  if (Object.keys(data.series).length === 0) return replace(body, h('p', { class: 'empty' }, tx('emr.vitals.empty')));
  const lang = language();
  const charts = Object.entries(data.bands).map(([key, p]) => {
    const points = p.loinc.flatMap((code) => data.series[code] ?? []).map((v) => ({ at: v.at, value: v.value, href: `/emr/documents/${enc(v.documentId)}` }));
    if (points.length === 0) return h('figure', { class: 'emr-chart', 'data-chart': key }, h('figcaption', null, p.label[lang]), h('p', { class: 'empty' }, tx('emr.vitals.noData')));
    const values = points.map((pt) => pt.value);
    const abnormal = (v: number) => {
      const band = p.bands.find((b) => (b.from === null || v >= b.from) && (b.to === null || v < b.to));
      return !!band && band.score > 0;
    };
    return timeChart({ title: p.label[lang], bands: p.bands, axis: [Math.min(p.axis[0], ...values), Math.max(p.axis[1], ...values)], points: points.map((pt) => ({ ...pt, abnormal: abnormal(pt.value) })), digits: 1 });
  });
  const news2 = table(
    [
      { header: tx('emr.chart.time'), cell: (n) => h('a', { href: `/emr/documents/${enc(n.documentId)}` }, formatDateTime(n.at)) },
      { header: tx('emr.vitals.score'), cell: (n) => (n.complete ? h('strong', { 'data-news2': n.total }, String(n.total)) : '—') },
      {
        header: tx('emr.vitals.risk'),
        cell: (n) =>
          n.complete && n.risk
            ? h('span', { class: `emr-risk-${n.risk}` }, tx(`emr.risk.${n.risk}` as EmrKey))
            : h('span', { class: 'muted', 'data-news2-incomplete': 'true' }, `${tx('emr.vitals.incomplete', { missing: n.missing.map((m) => tx(`emr.missing.${m}` as EmrKey)).join(', ') })}; ${tx('emr.vitals.partial', { score: n.partialScore ?? 0 })}`),
      },
    ],
    [...data.news2].reverse(),
  );
  replace(body, h('p', { class: 'muted' }, tx('emr.vitals.bands')), h('div', { class: 'emr-charts' }, ...charts), h('h2', null, tx('emr.vitals.news2')), news2);
}

async function imagingTab(ctx: PageContext, patientId: string, body: HTMLElement): Promise<void> {
  const data = await api.get<{ studies: ImagingStudy[] }>(`/api/emr/patients/${enc(patientId)}/imaging`);
  if (!ctx.isCurrent()) return;
  if (data.studies.length === 0) return replace(body, h('p', { class: 'empty' }, tx('emr.imaging.empty')));
  const cards = data.studies.map((s) => {
    const picture = h('div', { class: 'emr-no-image' }, tx('emr.imaging.noImage'));
    if (s.thumbnail) {
      void api
        .blob(`/api/emr/${s.thumbnail}`)
        .then(({ blob }) => {
          if (!ctx.isCurrent()) return;
          const url = URL.createObjectURL(blob);
          ctx.onCleanup(() => URL.revokeObjectURL(url));
          picture.replaceWith(h('img', { src: url, alt: tx('emr.imaging.thumbnail', { accession: s.accessionNumber ?? s.studyInstanceUid }), 'data-thumbnail': s.studyInstanceUid }));
        })
        .catch(() => undefined);
    }
    return h(
      'article',
      { class: 'emr-study', 'data-study': s.studyInstanceUid },
      h('h3', null, s.description ?? s.reportTitle ?? s.modality ?? s.studyInstanceUid),
      picture,
      facts([
        [tx('emr.imaging.accession'), h('span', { class: 'mono' }, s.accessionNumber ?? '—')],
        [tx('emr.imaging.modality'), s.modality ?? '—'],
        [tx('emr.imaging.started'), s.started ? formatDateTime(s.started) : '—'],
        [tx('emr.imaging.counts'), `${s.seriesCount ?? '?'} / ${s.instanceCount ?? '?'}`],
        [tx('emr.imaging.conclusion'), s.conclusion ? (s.conclusion.split('Kết luận:').pop() ?? s.conclusion).trim() : '—'],
      ]),
      h('a', { href: `/emr/documents/${enc(s.documentId)}`, class: 'btn btn-secondary btn-small' }, tx('emr.imaging.report')),
    );
  });
  replace(body, h('div', { class: 'emr-studies' }, ...cards));
}

export const emrPatientPage: PageModule = {
  id: 'emr-patient',
  path: '/emr/patients/:id',
  titleKey: TITLE_KEY,
  permission: 'emr:read',
  async render(ctx) {
    ensureEmrStyles();
    const patientId = ctx.params.id;
    const tab: Tab = (TABS as readonly string[]).includes(ctx.query.get('tab') ?? '') ? (ctx.query.get('tab') as Tab) : 'timeline';
    const head = h('div', null, loading());
    const body = h('div', { 'data-tab': tab }, loading());
    const tabs = h(
      'nav',
      { class: 'emr-tabs', 'aria-label': tx('emr.title') },
      ...TABS.map((name) => h('a', { class: 'btn btn-secondary', href: `/emr/patients/${enc(patientId)}${query({ tab: name === 'timeline' ? undefined : name })}`, 'aria-current': name === tab ? 'page' : null, 'data-tab-link': name }, tx(`emr.tab.${name}` as EmrKey))),
    );
    ctx.root.append(pageHeading(tx('emr.title')), h('p', null, h('a', { href: '/emr' }, tx('emr.back.search'))), head, tabs, body);
    await guarded(ctx, body, async () => {
      const { patient } = await api.get<{ patient: EmrPatient }>(`/api/emr/patients/${enc(patientId)}`);
      if (!ctx.isCurrent()) return;
      ctx.setTitle(`${patient.name} · ${tx('emr.title')}`);
      replace(head, patientHeader(patient));
      if (tab === 'timeline') await timelineTab(ctx, patientId, body);
      else if (tab === 'labs') await labsTab(ctx, patientId, body);
      else if (tab === 'vitals') await vitalsTab(ctx, patientId, body);
      else await imagingTab(ctx, patientId, body);
    });
  },
};

// ------------------------------------------------------------------ document

async function loadDocument(id: string): Promise<DocumentView> {
  return api.get<DocumentView>(`/api/emr/documents/${enc(id)}${query({ lang: language() })}`);
}

export const emrDocumentPage: PageModule = {
  id: 'emr-document',
  path: '/emr/documents/:id',
  titleKey: TITLE_KEY,
  permission: 'emr:read',
  async render(ctx) {
    ensureEmrStyles();
    const id = ctx.params.id;
    const body = h('div', null, loading());
    ctx.root.append(pageHeading(tx('emr.title')), body);
    await guarded(ctx, body, async () => {
      const view = await loadDocument(id);
      if (!ctx.isCurrent()) return;
      const doc = view.document;
      ctx.setTitle(`${doc.title} · ${tx('emr.title')}`);
      const current = view.versions.find((v) => v.status === 'current');
      const actions = h(
        'div',
        { class: 'button-row emr-noprint' },
        h('a', { class: 'btn btn-secondary', href: `/emr/patients/${enc(doc.patientId)}` }, tx('emr.back.patient')),
        h('a', { class: 'btn btn-secondary', href: `/emr/documents/${enc(doc.id)}/print`, 'data-print': doc.id }, tx('emr.doc.print')),
        button(tx('emr.doc.download'), (e) =>
          void withBusy(e.currentTarget as HTMLButtonElement, async () => {
            const { blob, filename } = await api.blob(`/api/emr/documents/${enc(doc.id)}/cda`);
            download(blob, filename ?? `${doc.id}.xml`);
          }),
        ),
      );
      const versions = h(
        'section',
        { class: 'panel emr-noprint' },
        h('h2', null, tx('emr.doc.versions')),
        h('ol', null, ...view.versions.map((v) => h('li', null, v.id === doc.id ? h('strong', null, tx('emr.timeline.version', { version: v.version })) : h('a', { href: `/emr/documents/${enc(v.id)}` }, tx('emr.timeline.version', { version: v.version })), ' · ', formatDateTime(v.createdAt), ' ', statusBadge(v)))),
      );
      const replaced = doc.status === 'superseded' && current ? notice('warning', tx('emr.doc.replacedBy', { version: current.version }), ' ', h('a', { href: `/emr/documents/${enc(current.id)}` }, tx('emr.doc.openCurrent'))) : null;
      const rendered = h('div', { class: 'emr-document', 'data-document': doc.id, 'data-type': doc.type });
      rendered.append(safeFragment(view.html));
      // The status is stated once, above the actions; the print view keeps the document's own line.
      rendered.querySelector('.emr-sig')?.remove();
      const trends = h('section', { class: 'emr-trends' });
      replace(body, signatureBanner(view.signature), replaced, actions, rendered, trends, versions);
      if (doc.type === 'lab-report') {
        const labs = await api.get<{ series: LabSeries[] }>(`/api/emr/patients/${enc(doc.patientId)}/labs`);
        if (!ctx.isCurrent()) return;
        const mine = labs.series.filter((s) => s.points.some((p) => p.documentId === doc.id));
        const charts = mine.map((s) => labChart(s, doc.id)).filter((c): c is HTMLElement => !!c);
        if (charts.length) replace(trends, h('h2', null, tx('emr.doc.trends')), h('div', { class: 'emr-charts' }, ...charts));
      }
    });
  },
};

// ------------------------------------------------------------------ print view

export const emrPrintPage: PageModule = {
  id: 'emr-print',
  path: '/emr/documents/:id/print',
  titleKey: TITLE_KEY,
  permission: 'emr:read',
  async render(ctx) {
    ensureEmrStyles();
    document.body.classList.add('emr-print-mode');
    ctx.onCleanup(() => document.body.classList.remove('emr-print-mode'));
    const id = ctx.params.id;
    const body = h('div', null, loading());
    ctx.root.append(
      h(
        'div',
        { class: 'button-row emr-noprint' },
        button(tx('emr.print.button'), () => window.print(), { class: 'btn btn-primary', 'data-action': 'print' }),
        h('a', { class: 'btn btn-secondary', href: `/emr/documents/${enc(id)}` }, tx('emr.print.close')),
      ),
      body,
    );
    await guarded(ctx, body, async () => {
      const view = await loadDocument(id);
      if (!ctx.isCurrent()) return;
      ctx.setTitle(`${view.document.title} v${view.document.version}`);
      const doc = h('div', { class: 'emr-document emr-print', 'data-document': id });
      doc.append(safeFragment(view.html));
      replace(body, doc);
    });
  },
};

export const emrPages: PageModule[] = [emrSearchPage, emrPatientPage, emrDocumentPage, emrPrintPage];

// BHYT claims (hồ sơ giám định, QĐ 4210/130): counts by status, the list by period and status, one
// claim's versions with their findings and gateway receipts, building a period, sending, confirming
// an unconfirmed send, reopening; and checking an XML file before it is sent. Everything goes through
// the claims API (claims/api.ts, mounted at /api/claims).
import { badge, button, confirmDialog, errorNotice, errorText, facts, field, input, loading, notice, pageHeading, select, table, toast, withBusy } from '../components/ui';
import { api, ApiError, can, currentSession, query } from '../core/api';
import { download, h, replace } from '../core/dom';
import { formatDateTime, formatNumber } from '../core/format';
import { t } from '../core/i18n';
import type { PageContext, PageModule } from '../core/page';

const STATUSES = ['invalid', 'ready', 'sending', 'accepted', 'rejected', 'failed', 'unconfirmed'] as const;
const STATE_OF: Record<string, string> = { invalid: 'ERROR', ready: 'QUEUED', sending: 'QUEUED', accepted: 'SENT', rejected: 'DEAD', failed: 'ERROR', unconfirmed: 'paused' };

interface Finding {
  severity: 'error' | 'warning';
  rule: string;
  message: string;
  table: string;
  hoso?: number;
  record?: { index: number; maLk?: string; stt?: string };
  field?: string;
}

interface Claim {
  maLk: string;
  version: number;
  formatVersion: string;
  status: string;
  maBn?: string;
  hoTen?: string;
  maThe?: string;
  ngayVao?: string;
  ngayRa?: string;
  period?: string;
  tTongChiBv?: string;
  tBhtt?: string;
  errors: number;
  warnings: number;
  findings: Finding[];
  attempts: number;
  lastError?: string;
  builtAt: string;
  updatedAt: string;
}

interface Receipt {
  id: number;
  attempt: number;
  kind: string;
  sentAt: string;
  outcome: string;
  httpStatus?: number;
  maKetQua?: string;
  maGiaoDich?: string;
  thongDiep?: string;
  error?: string;
}

function statusBadge(status: string): HTMLElement {
  return badge(STATE_OF[status] ?? status, t(`claims.status.${status}`));
}

function money(value: string | undefined): string {
  return value === undefined || value === '' ? '—' : `${formatNumber(Number(value))} ₫`;
}

function findingText(f: Finding): string {
  const where = [f.hoso !== undefined ? `HOSO ${f.hoso}` : '', f.table, f.record ? `#${f.record.index}${f.record.stt ? ` STT=${f.record.stt}` : ''}` : '', f.field ?? ''].filter(Boolean).join(' · ');
  return `${where}: ${f.message} (${f.rule})`;
}

function findingsList(findings: Finding[]): HTMLElement {
  if (findings.length === 0) return h('p', { class: 'muted' }, t('claims.noFindings'));
  return h('ul', { class: 'findings' }, ...findings.map((f) => h('li', { class: f.severity === 'error' ? 'text-bad' : '' }, badge(f.severity === 'error' ? 'error' : 'warning', t(`claims.severity.${f.severity}`)), ' ', findingText(f))));
}

/** Sends the XML file chosen by the user to POST /api/claims/validate (streamed by the server). */
async function validateFile(file: File, version: string): Promise<{ errors: number; warnings: number; fatal: boolean; findings: Finding[]; episodes: Array<{ maLk?: string; errors: number; warnings: number }> }> {
  const response = await fetch(`/api/claims/validate${query({ version })}`, { method: 'POST', headers: { authorization: `Bearer ${currentSession()?.token ?? ''}`, 'content-type': 'application/xml' }, body: file });
  const body = await response.json();
  if (!response.ok) throw new ApiError(response.status, body.error ?? response.statusText);
  return body;
}

function validateSection(): HTMLElement {
  const fileInput = h('input', { type: 'file', name: 'file', accept: '.xml,application/xml,text/xml', required: true });
  const version = select([{ value: '', label: t('claims.versionAuto') }, ...['4210', '130', '4750', '3176'].map((v) => ({ value: v, label: `QĐ ${v}` }))], { name: 'version', value: '' });
  const result = h('div', { 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn btn-secondary' }, t('claims.validate'));
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'validate-title' },
    h('h2', { id: 'validate-title' }, t('claims.validateTitle')),
    h('p', { class: 'muted small' }, t('claims.validateIntro')),
    h(
      'form',
      {
        class: 'inline-form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          const file = fileInput.files?.[0];
          if (!file) return;
          await withBusy(submit, async () => {
            const r = await validateFile(file, version.value);
            replace(
              result,
              notice(r.errors > 0 || r.fatal ? 'error' : r.warnings > 0 ? 'warning' : 'success', t('claims.validated', { name: file.name, errors: r.errors, warnings: r.warnings, episodes: r.episodes.length })),
              findingsList(r.findings.slice(0, 200)),
            );
          });
        },
      },
      field(t('claims.file'), fileInput),
      field(t('claims.version'), version),
      submit,
    ),
    result,
  );
}

async function renderList(ctx: PageContext): Promise<void> {
  const status = ctx.query.get('status') ?? '';
  const period = ctx.query.get('period') ?? '';
  const offset = Number(ctx.query.get('offset') ?? 0) || 0;
  const limit = 100;
  const body = h('div', null, loading());
  const actions = can('claims:submit')
    ? [
        button(t('claims.submitPending'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => {
          const outcomes = await api.post<Array<{ maLk: string; status: string; skipped?: string }>>('/api/claims/submit');
          toast(t('claims.submitted', { n: outcomes.filter((o) => !o.skipped).length }));
          ctx.navigate(location.pathname + location.search, { replace: true });
        }), { class: 'btn btn-primary', 'data-action': 'submit-pending' }),
      ]
    : [];
  ctx.root.append(pageHeading(t('claims.title'), ...actions), body);

  const statusSelect = select([{ value: '', label: t('claims.allStatuses') }, ...STATUSES.map((s) => ({ value: s, label: t(`claims.status.${s}`) }))], { name: 'status', value: status });
  const periodInput = input({ type: 'month', name: 'period', value: period });
  const filter = h(
    'form',
    {
      class: 'inline-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        ctx.navigate(`/claims${query({ status: statusSelect.value, period: periodInput.value })}`);
      },
    },
    field(t('claims.col.status'), statusSelect),
    field(t('claims.period'), periodInput, t('claims.periodHint')),
    h('button', { type: 'submit', class: 'btn btn-secondary' }, t('common.filter')),
  );

  let data: { counts: Record<string, number>; claims: Claim[] };
  try {
    data = await api.get(`/api/claims${query({ status, period, limit, offset })}`);
  } catch (error) {
    replace(body, error instanceof ApiError && error.status === 404 ? notice('info', t('claims.missing')) : errorNotice(error));
    return;
  }
  if (!ctx.isCurrent()) return;
  const buildForm = can('claims:submit') ? buildSection(ctx) : null;
  replace(
    body,
    h('section', { class: 'tiles', 'aria-label': t('claims.counts') }, ...STATUSES.map((s) => h('a', { class: `tile${s === 'invalid' || s === 'rejected' || s === 'failed' ? ((data.counts[s] ?? 0) > 0 ? ' tile-bad' : '') : ''}`, href: `/claims?status=${s}`, 'data-count': s }, h('span', { class: 'tile-value' }, formatNumber(data.counts[s] ?? 0)), h('span', { class: 'tile-label' }, t(`claims.status.${s}`))))),
    filter,
    table(
      [
        { header: 'MA_LK', cell: (c) => h('a', { href: `/claims/${encodeURIComponent(c.maLk)}`, 'data-claim': c.maLk }, c.maLk) },
        { header: t('claims.col.patient'), cell: (c) => `${c.hoTen ?? '—'}${c.maBn ? ` (${c.maBn})` : ''}` },
        { header: t('claims.col.card'), cell: (c) => c.maThe ?? '—' },
        { header: t('claims.period'), cell: (c) => c.period ?? '—' },
        { header: t('claims.col.status'), cell: (c) => statusBadge(c.status) },
        { header: t('claims.col.total'), cell: (c) => money(c.tTongChiBv), class: 'num' },
        { header: t('claims.col.insurer'), cell: (c) => money(c.tBhtt), class: 'num' },
        { header: t('claims.col.findings'), cell: (c) => (c.errors || c.warnings ? h('span', { class: c.errors ? 'text-bad' : '' }, t('claims.findingCount', { errors: c.errors, warnings: c.warnings })) : '—') },
        { header: t('claims.col.version'), cell: (c) => String(c.version), class: 'num' },
      ],
      data.claims,
      { caption: t('claims.title'), rowProps: (c) => ({ 'data-row': c.maLk }), empty: t('claims.none') },
    ),
    h(
      'nav',
      { class: 'pager', 'aria-label': t('messages.paging') },
      offset > 0 ? h('a', { class: 'btn btn-secondary', href: `/claims${query({ status, period, offset: Math.max(0, offset - limit) || undefined })}` }, t('messages.newer')) : h('span'),
      data.claims.length === limit ? h('a', { class: 'btn btn-secondary', href: `/claims${query({ status, period, offset: offset + limit })}` }, t('messages.older')) : null,
    ),
    buildForm,
    validateSection(),
  );
}

function buildSection(ctx: PageContext): HTMLElement {
  const from = input({ type: 'date', name: 'from', required: true });
  const to = input({ type: 'date', name: 'to', required: true });
  const submit = h('button', { type: 'submit', class: 'btn btn-secondary' }, t('claims.build'));
  return h(
    'section',
    { class: 'panel', 'aria-labelledby': 'build-title' },
    h('h2', { id: 'build-title' }, t('claims.buildTitle')),
    h('p', { class: 'muted small' }, t('claims.buildIntro')),
    h(
      'form',
      {
        class: 'inline-form',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          await withBusy(submit, async () => {
            const summary = await api.post<Record<string, unknown>>('/api/claims/build', { from: from.value, to: to.value });
            toast(t('claims.built', { detail: Object.entries(summary).filter(([, v]) => typeof v === 'number').map(([k, v]) => `${k} ${v}`).join(', ') }));
            ctx.navigate('/claims', { replace: true });
          });
        },
      },
      field(t('claims.from'), from),
      field(t('claims.toExclusive'), to),
      submit,
    ),
  );
}

async function renderClaim(ctx: PageContext): Promise<void> {
  const maLk = ctx.params.maLk;
  const body = h('div', null, loading());
  ctx.root.append(pageHeading(`${t('claims.one')} ${maLk}`), h('p', null, h('a', { href: '/claims' }, t('claims.back'))), body);
  let data: { maLk: string; versions: Array<Claim & { receipts: Receipt[] }> };
  try {
    data = await api.get(`/api/claims/${encodeURIComponent(maLk)}`);
  } catch (error) {
    replace(body, errorNotice(error));
    return;
  }
  if (!ctx.isCurrent()) return;
  const reload = () => ctx.navigate(`/claims/${encodeURIComponent(maLk)}`, { replace: true });
  const submitter = can('claims:submit');
  const act = (label: string, action: () => Promise<unknown>, kind = 'btn-secondary', name = '') =>
    button(label, (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => {
      await action();
      reload();
    }), { class: `btn btn-small ${kind}`, 'data-action': name });
  replace(
    body,
    ...data.versions
      .slice()
      .sort((a, b) => b.version - a.version)
      .map((v) =>
        h(
          'section',
          { class: 'panel', 'data-version': String(v.version) },
          h(
            'div',
            { class: 'panel-head' },
            h('h2', null, t('claims.versionN', { n: v.version })),
            statusBadge(v.status),
            h(
              'div',
              { class: 'button-row' },
              v.status !== 'invalid'
                ? button(t('claims.envelope'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => {
                    const { blob } = await api.blob(`/api/claims/${encodeURIComponent(maLk)}/${v.version}/envelope`);
                    download(blob, `${maLk}-v${v.version}.xml`);
                  }), { class: 'btn btn-small btn-secondary' })
                : null,
              submitter && (v.status === 'ready' || v.status === 'failed') ? act(t('claims.send'), () => api.post(`/api/claims/${encodeURIComponent(maLk)}/submit`, { version: v.version }), 'btn-primary', 'send') : null,
              submitter && v.status === 'unconfirmed'
                ? [
                    act(t('claims.confirmReceived'), () => api.post(`/api/claims/${encodeURIComponent(maLk)}/${v.version}/confirm`, { received: true }), 'btn-primary', 'confirm-received'),
                    act(t('claims.confirmNotReceived'), () => api.post(`/api/claims/${encodeURIComponent(maLk)}/${v.version}/confirm`, { received: false }), 'btn-secondary', 'confirm-not-received'),
                  ]
                : null,
              submitter && (v.status === 'accepted' || v.status === 'rejected')
                ? act(t('claims.reopen'), async () => {
                    if (await confirmDialog({ title: t('claims.confirmReopen', { maLk }), body: t('claims.confirmReopenText'), confirmLabel: t('claims.reopen') })) await api.post(`/api/claims/${encodeURIComponent(maLk)}/reopen`);
                  }, 'btn-secondary', 'reopen')
                : null,
            ),
          ),
          facts([
            [t('claims.col.patient'), `${v.hoTen ?? '—'}${v.maBn ? ` (${v.maBn})` : ''}`],
            [t('claims.col.card'), v.maThe ?? '—'],
            [t('claims.stay'), `${v.ngayVao ?? '—'} → ${v.ngayRa ?? '—'}`],
            [t('claims.period'), v.period ?? '—'],
            [t('claims.col.total'), money(v.tTongChiBv)],
            [t('claims.col.insurer'), money(v.tBhtt)],
            [t('claims.format'), `QĐ ${v.formatVersion}`],
            [t('claims.builtAt'), formatDateTime(v.builtAt)],
            [t('claims.attempts'), String(v.attempts)],
          ]),
          v.lastError ? notice('error', v.lastError) : null,
          h('h3', null, t('claims.findings')),
          findingsList(v.findings),
          h('h3', null, t('claims.receipts')),
          table(
            [
              { header: t('message.at'), cell: (r) => formatDateTime(r.sentAt) },
              { header: t('message.attempt'), cell: (r) => `#${r.attempt}`, class: 'num' },
              { header: t('message.outcome'), cell: (r) => statusBadge(r.outcome) },
              { header: 'HTTP', cell: (r) => (r.httpStatus ? String(r.httpStatus) : '—') },
              { header: 'maKetQua', cell: (r) => r.maKetQua ?? '—' },
              { header: 'maGiaoDich', cell: (r) => r.maGiaoDich ?? '—' },
              { header: t('message.responseOrError'), cell: (r) => r.thongDiep ?? r.error ?? '—' },
            ],
            v.receipts,
            { caption: t('claims.receipts'), empty: t('claims.noReceipts') },
          ),
        ),
      ),
  );
}

export const claimsPage: PageModule = {
  id: 'claims',
  path: '/claims',
  titleKey: 'claims.title',
  nav: { section: 'operate', order: 50, icon: '₫' },
  permission: 'claims:read',
  render: renderList,
};

export const claimPage: PageModule = {
  id: 'claim',
  path: '/claims/:maLk',
  titleKey: 'claims.title',
  permission: 'claims:read',
  render: (ctx) => renderClaim(ctx).catch((error) => void ctx.root.append(notice('error', errorText(error)))),
};

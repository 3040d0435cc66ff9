// Message browser: search by channel, status, time range, patient id, accession, control id and
// text; keyset paging (`before` = the last id of the page, so page 5,000 is as fast as page 1);
// selection for reprocess and export. The search lives in the URL, so it can be bookmarked.
import { badge, button, confirmDialog, errorNotice, field, input, loading, pageHeading, select, table, toast, withBusy } from '../components/ui';
import { api, can, query } from '../core/api';
import { download, h, replace } from '../core/dom';
import { formatBytes, formatDateTime, toLocalInput } from '../core/format';
import { t } from '../core/i18n';
import type { PageContext, PageModule } from '../core/page';
import { messageStatuses, type ChannelList, type MessageDetail, type StoredMessage } from '../core/types';

const SEARCH_KEYS = ['channel', 'status', 'from', 'to', 'patientId', 'accession', 'controlId', 'text', 'limit'] as const;
type SearchKey = (typeof SEARCH_KEYS)[number];

export async function reprocessMessages(ids: number[]): Promise<boolean> {
  const ok = await confirmDialog({
    title: t('messages.confirmReprocess', { n: ids.length }),
    body: t('messages.confirmReprocessText'),
    confirmLabel: t('messages.reprocess'),
  });
  if (!ok) return false;
  const { results } = await api.post<{ results: Array<{ messageId: number; ok: boolean; status?: string; error?: string }> }>('/api/messages/reprocess', { ids });
  const failed = results.filter((r) => !r.ok);
  if (failed.length === 0) toast(t('messages.reprocessed', { n: results.length }));
  else toast(t('messages.reprocessFailed', { n: failed.length, detail: failed.map((f) => `#${f.messageId}: ${f.error ?? f.status}`).join('; ') }), 'error');
  return true;
}

function csvCell(value: unknown): string {
  const text = value === null || value === undefined ? '' : String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function messagesCsv(messages: StoredMessage[]): string {
  const header = ['id', 'receivedAt', 'channel', 'status', 'messageType', 'patientId', 'accession', 'controlId', 'specimenId', 'deviceId', 'contentType', 'size', 'error'];
  const rows = messages.map((m) => [m.id, m.receivedAt, m.channelId, m.status, m.correlation.messageType, m.correlation.patientId, m.correlation.accession, m.correlation.controlId, m.correlation.specimenId, m.correlation.deviceId, m.contentType, m.size, m.error]);
  // A BOM so spreadsheet programs read the Vietnamese text as UTF-8.
  return '\ufeff' + [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

/** Exports messages with their stored content (one JSON object per line); each read is audited by the API. */
async function exportWithContent(ids: number[]): Promise<void> {
  const lines: string[] = [];
  for (const id of ids) {
    const detail = await api.get<MessageDetail>(`/api/messages/${id}`);
    lines.push(JSON.stringify(detail));
  }
  download(new Blob([lines.join('\n') + '\n'], { type: 'application/x-ndjson' }), `messages-${new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-')}.ndjson`);
}

async function render(ctx: PageContext): Promise<void> {
  const params = Object.fromEntries(SEARCH_KEYS.map((k) => [k, ctx.query.get(k) ?? ''])) as Record<SearchKey, string>;
  const before = ctx.query.get('before') ?? '';
  const history = (ctx.query.get('pages') ?? '').split(',').filter(Boolean);

  const channelSelect = select([{ value: '', label: t('messages.allChannels') }], { name: 'channel', value: params.channel });
  const statusSelect = select([{ value: '', label: t('messages.allStatuses') }, ...messageStatuses.map((s) => ({ value: s, label: t(`state.${s}`) }))], { name: 'status', value: params.status });
  const from = input({ type: 'datetime-local', name: 'from', value: params.from ? toLocalInput(new Date(params.from)) : '' });
  const to = input({ type: 'datetime-local', name: 'to', value: params.to ? toLocalInput(new Date(params.to)) : '' });
  const patientId = input({ name: 'patientId', value: params.patientId, autocomplete: 'off' });
  const accession = input({ name: 'accession', value: params.accession, autocomplete: 'off' });
  const controlId = input({ name: 'controlId', value: params.controlId, autocomplete: 'off' });
  const text = input({ type: 'search', name: 'text', value: params.text, autocomplete: 'off', maxlength: 200 });
  const limits = [...new Set(['25', '50', '100', '200', params.limit || '50'])].sort((a, b) => Number(a) - Number(b));
  const limit = select(limits.map((v) => ({ value: v, label: v })), { name: 'limit', value: params.limit || '50' });

  const searchFrom = (pageBefore?: string, pages?: string[]) => {
    const values: Record<string, string | undefined> = {
      channel: channelSelect.value,
      status: statusSelect.value,
      from: from.value ? new Date(from.value).toISOString() : undefined,
      to: to.value ? new Date(to.value).toISOString() : undefined,
      patientId: patientId.value.trim(),
      accession: accession.value.trim(),
      controlId: controlId.value.trim(),
      text: text.value.trim(),
      limit: limit.value === '50' ? undefined : limit.value,
      before: pageBefore,
      pages: pages && pages.length ? pages.join(',') : undefined,
    };
    ctx.navigate(`/messages${query(values)}`);
  };

  const form = h(
    'form',
    {
      class: 'search-form',
      role: 'search',
      'aria-label': t('messages.search'),
      onsubmit: (e: Event) => {
        e.preventDefault();
        searchFrom();
      },
    },
    h(
      'div',
      { class: 'form-grid' },
      field(t('messages.field.channel'), channelSelect),
      field(t('messages.field.status'), statusSelect),
      field(t('messages.field.from'), from),
      field(t('messages.field.to'), to),
      field(t('messages.field.patientId'), patientId),
      field(t('messages.field.accession'), accession),
      field(t('messages.field.controlId'), controlId),
      field(t('messages.field.text'), text, t('messages.field.textHint')),
      field(t('messages.field.limit'), limit),
    ),
    h(
      'div',
      { class: 'button-row' },
      h('button', { type: 'submit', class: 'btn btn-primary', 'data-action': 'search' }, t('messages.search')),
      button(t('messages.clear'), () => ctx.navigate('/messages'), { class: 'btn btn-secondary' }),
    ),
  );
  const results = h('section', { 'aria-label': t('messages.results'), 'aria-live': 'polite' }, loading());
  ctx.root.append(pageHeading(t('messages.title')), form, results);

  api
    .get<ChannelList>('/api/channels')
    .then((list) => {
      for (const c of list.channels) channelSelect.append(h('option', { value: c.id, selected: c.id === params.channel }, `${c.name} (${c.id})`));
      if (params.channel && !list.channels.some((c) => c.id === params.channel)) channelSelect.append(h('option', { value: params.channel, selected: true }, params.channel));
      channelSelect.value = params.channel;
    })
    .catch(() => undefined);

  let messages: StoredMessage[];
  let next: number | null;
  try {
    const body = await api.get<{ messages: StoredMessage[]; next: number | null }>(`/api/messages${query({ ...params, limit: params.limit || '50', before })}`);
    messages = body.messages;
    next = body.next;
  } catch (error) {
    replace(results, errorNotice(error));
    return;
  }
  if (!ctx.isCurrent()) return;

  const selected = new Set<number>();
  const selectionInfo = h('span', { class: 'muted', 'aria-live': 'polite' }, '');
  const reprocessButton = can('messages:reprocess')
    ? button(t('messages.reprocessSelected'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => {
        if (selected.size === 0) return;
        if (await reprocessMessages([...selected])) searchFrom(before || undefined, history);
      }), { class: 'btn btn-primary', 'data-action': 'reprocess-selected', disabled: true })
    : null;
  const exportSelected = can('messages:content')
    ? button(t('messages.exportSelected'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, () => exportWithContent([...selected])), { class: 'btn btn-secondary', 'data-action': 'export-selected', disabled: true })
    : null;
  const exportPage = button(t('messages.exportPage'), () => download(new Blob([messagesCsv(messages)], { type: 'text/csv;charset=utf-8' }), `messages-page.csv`), { class: 'btn btn-secondary', 'data-action': 'export-csv', disabled: messages.length === 0 });
  const updateSelection = () => {
    selectionInfo.textContent = selected.size ? t('messages.selected', { n: selected.size }) : '';
    if (reprocessButton) reprocessButton.disabled = selected.size === 0;
    if (exportSelected) exportSelected.disabled = selected.size === 0;
  };
  const boxes: HTMLInputElement[] = [];
  const selectAll = h('input', {
    type: 'checkbox',
    'aria-label': t('messages.selectAll'),
    onchange: (e: Event) => {
      const checked = (e.target as HTMLInputElement).checked;
      for (const box of boxes) {
        box.checked = checked;
        const id = Number(box.value);
        if (checked) selected.add(id);
        else selected.delete(id);
      }
      updateSelection();
    },
  });

  const pager = h(
    'nav',
    { class: 'pager', 'aria-label': t('messages.paging') },
    button(t('messages.newer'), () => {
      const previous = history.slice(0, -1);
      searchFrom(history[history.length - 1] === 'first' ? undefined : history[history.length - 1], previous);
    }, { class: 'btn btn-secondary', disabled: history.length === 0, 'data-action': 'newer' }),
    button(t('messages.older'), () => searchFrom(String(next), [...history, before || 'first']), { class: 'btn btn-secondary', disabled: next === null, 'data-action': 'older' }),
  );

  replace(
    results,
    h('div', { class: 'toolbar' }, h('strong', null, t('messages.count', { n: messages.length })), selectionInfo, reprocessButton, exportSelected, exportPage),
    table(
      [
        {
          header: '',
          cell: (m) => {
            const box = h('input', {
              type: 'checkbox',
              value: String(m.id),
              'aria-label': t('messages.selectOne', { id: m.id }),
              onchange: (e: Event) => {
                if ((e.target as HTMLInputElement).checked) selected.add(m.id);
                else selected.delete(m.id);
                updateSelection();
              },
            });
            boxes.push(box);
            return box;
          },
          class: 'select-col',
        },
        { header: t('messages.col.id'), cell: (m) => h('a', { href: `/messages/${m.id}`, 'data-message': String(m.id) }, `#${m.id}`) },
        { header: t('messages.col.received'), cell: (m) => formatDateTime(m.receivedAt) },
        { header: t('messages.field.channel'), cell: (m) => m.channelId },
        { header: t('messages.field.status'), cell: (m) => badge(m.status) },
        { header: t('messages.col.type'), cell: (m) => m.correlation.messageType ?? '—' },
        { header: t('messages.field.patientId'), cell: (m) => m.correlation.patientId ?? '—' },
        { header: t('messages.field.accession'), cell: (m) => m.correlation.accession ?? m.correlation.specimenId ?? '—' },
        { header: t('messages.field.controlId'), cell: (m) => m.correlation.controlId ?? '—' },
        { header: t('messages.col.size'), cell: (m) => formatBytes(m.size), class: 'num' },
        { header: t('messages.col.error'), cell: (m) => (m.error ? h('span', { class: 'text-bad small' }, m.error.split('\n')[0].slice(0, 120)) : '') },
      ],
      messages,
      { caption: t('messages.results'), rowProps: (m) => ({ 'data-row': String(m.id) }), empty: t('messages.none') },
    ),
    pager,
  );
  const head = results.querySelector('thead th');
  if (head) head.append(selectAll);
}

export const messagesPage: PageModule = {
  id: 'messages',
  path: '/messages',
  titleKey: 'messages.title',
  nav: { section: 'operate', order: 30, icon: '✉' },
  permission: 'messages:read',
  render,
};

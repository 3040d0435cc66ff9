// Dead letters: deliveries that ran out of attempts or were refused for good, with the reason;
// replay (back into the queue with fresh attempts) or discard. Both are audited by the API.
import { button, confirmDialog, errorNotice, field, loading, pageHeading, select, table, toast, withBusy } from '../components/ui';
import { api, can, query } from '../core/api';
import { h, replace } from '../core/dom';
import { formatDateTime } from '../core/format';
import { t } from '../core/i18n';
import type { PageContext, PageModule } from '../core/page';
import type { ChannelList, DeadLetter } from '../core/types';

async function act(action: 'replay' | 'discard', ids: number[]): Promise<boolean> {
  if (ids.length === 0) return false;
  if (action === 'discard') {
    const ok = await confirmDialog({ title: t('dlq.confirmDiscard', { n: ids.length }), body: t('dlq.confirmDiscardText'), confirmLabel: t('dlq.discard'), danger: true });
    if (!ok) return false;
  }
  const result = await api.post<{ replayed?: number; discarded?: number }>(`/api/dlq/${action}`, { ids });
  toast(action === 'replay' ? t('dlq.replayed', { n: result.replayed ?? 0 }) : t('dlq.discarded', { n: result.discarded ?? 0 }));
  return true;
}

async function render(ctx: PageContext): Promise<void> {
  const channel = ctx.query.get('channel') ?? '';
  const before = ctx.query.get('before') ?? '';
  const channelSelect = select([{ value: '', label: t('messages.allChannels') }], { name: 'channel', value: channel });
  const form = h(
    'form',
    {
      class: 'inline-form',
      onsubmit: (e: Event) => {
        e.preventDefault();
        ctx.navigate(`/dead-letters${query({ channel: channelSelect.value })}`);
      },
    },
    field(t('messages.field.channel'), channelSelect),
    h('button', { type: 'submit', class: 'btn btn-secondary' }, t('common.filter')),
  );
  const results = h('section', { 'aria-label': t('dlq.title'), 'aria-live': 'polite' }, loading());
  ctx.root.append(pageHeading(t('dlq.title')), h('p', { class: 'muted' }, t('dlq.intro')), form, results);
  api
    .get<ChannelList>('/api/channels')
    .then((list) => {
      for (const c of list.channels) channelSelect.append(h('option', { value: c.id, selected: c.id === channel }, `${c.name} (${c.id})`));
      channelSelect.value = channel;
    })
    .catch(() => undefined);

  const limit = 100;
  let letters: DeadLetter[];
  try {
    letters = (await api.get<{ deadLetters: DeadLetter[] }>(`/api/dlq${query({ channel, before, limit })}`)).deadLetters;
  } catch (error) {
    replace(results, errorNotice(error));
    return;
  }
  if (!ctx.isCurrent()) return;
  const reload = () => ctx.navigate(`/dead-letters${query({ channel, before })}`, { replace: true });
  const manage = can('dlq:manage');
  const selected = new Set<number>();
  const bulk = manage
    ? [
        button(t('dlq.replaySelected'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => { if (await act('replay', [...selected])) reload(); }), { class: 'btn btn-primary', 'data-action': 'replay-selected', disabled: true }),
        button(t('dlq.discardSelected'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => { if (await act('discard', [...selected])) reload(); }), { class: 'btn btn-danger', 'data-action': 'discard-selected', disabled: true }),
      ]
    : [];
  const update = () => bulk.forEach((b) => (b.disabled = selected.size === 0));

  replace(
    results,
    h('div', { class: 'toolbar' }, h('strong', null, t('dlq.count', { n: letters.length })), ...bulk),
    table(
      [
        ...(manage
          ? [{
              header: '',
              class: 'select-col',
              cell: (d: DeadLetter) =>
                h('input', {
                  type: 'checkbox',
                  'aria-label': t('dlq.selectOne', { id: d.queueId }),
                  onchange: (e: Event) => {
                    if ((e.target as HTMLInputElement).checked) selected.add(d.queueId);
                    else selected.delete(d.queueId);
                    update();
                  },
                }),
            }]
          : []),
        { header: t('dlq.col.queueId'), cell: (d) => String(d.queueId), class: 'num' },
        { header: t('messages.col.id'), cell: (d) => h('a', { href: `/messages/${d.messageId}` }, `#${d.messageId}`) },
        { header: t('messages.field.channel'), cell: (d) => d.channelId },
        { header: t('channel.col.destination'), cell: (d) => d.destination },
        { header: t('messages.field.patientId'), cell: (d) => d.correlation.patientId ?? '—' },
        { header: t('message.attempts'), cell: (d) => String(d.attempts), class: 'num' },
        { header: t('dlq.col.diedAt'), cell: (d) => formatDateTime(d.diedAt) },
        { header: t('dlq.col.reason'), cell: (d) => h('span', { class: 'text-bad small' }, d.lastError ?? '—') },
        ...(manage
          ? [{
              header: t('channels.col.actions'),
              cell: (d: DeadLetter) =>
                h(
                  'div',
                  { class: 'button-row' },
                  button(t('dlq.replay'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => { if (await act('replay', [d.queueId])) reload(); }), { class: 'btn btn-small btn-primary', 'data-action': 'replay', 'aria-label': `${t('dlq.replay')} ${d.queueId}` }),
                  button(t('dlq.discard'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => { if (await act('discard', [d.queueId])) reload(); }), { class: 'btn btn-small btn-danger', 'data-action': 'discard', 'aria-label': `${t('dlq.discard')} ${d.queueId}` }),
                ),
            }]
          : []),
      ],
      letters,
      { caption: t('dlq.title'), rowProps: (d) => ({ 'data-queue-id': String(d.queueId) }), empty: t('dlq.none') },
    ),
    h(
      'nav',
      { class: 'pager', 'aria-label': t('messages.paging') },
      before ? h('a', { href: `/dead-letters${query({ channel })}`, class: 'btn btn-secondary' }, t('messages.newest')) : null,
      letters.length === limit ? h('a', { href: `/dead-letters${query({ channel, before: letters[letters.length - 1].queueId })}`, class: 'btn btn-secondary' }, t('messages.older')) : null,
    ),
  );
}

export const deadLettersPage: PageModule = {
  id: 'dead-letters',
  path: '/dead-letters',
  titleKey: 'nav.deadLetters',
  nav: { section: 'operate', order: 40, icon: '⚠' },
  permission: 'messages:read',
  render,
};

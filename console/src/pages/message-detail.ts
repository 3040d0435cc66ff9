// One message: its metadata and correlation, every stored stage (raw, transformed, what each
// destination was sent and answered) as a readable tree and as text, every destination attempt with
// its response or error; reprocess and export.
import { contentTree } from '../components/tree';
import { badge, button, errorNotice, facts, loading, notice, pageHeading, table, withBusy } from '../components/ui';
import { api, can } from '../core/api';
import { download, h, replace } from '../core/dom';
import { formatBytes, formatDateTime, formatMs } from '../core/format';
import { t } from '../core/i18n';
import type { PageContext, PageModule } from '../core/page';
import type { ContentTree, MessageContent, MessageDetail } from '../core/types';
import { reprocessMessages } from './messages';

export function stageTitle(stage: string): string {
  const [kind, name] = stage.includes(':') ? [stage.slice(0, stage.indexOf(':')), stage.slice(stage.indexOf(':') + 1)] : [stage, ''];
  const key = `stage.${kind}`;
  const label = t(key) === key ? kind : t(key);
  return name ? `${label}: ${name}` : label;
}

function record(values: Record<string, string | undefined>): HTMLElement {
  const entries = Object.entries(values).filter(([, v]) => v !== undefined && v !== '');
  if (entries.length === 0) return h('span', { class: 'muted' }, '—');
  return h('dl', { class: 'facts compact' }, ...entries.flatMap(([k, v]) => [h('dt', null, t(`correlation.${k}`) !== `correlation.${k}` ? t(`correlation.${k}`) : k), h('dd', null, v!)]));
}

function displayText(text: string): string {
  // HL7 and ASTM separate segments with a bare CR, which a <pre> would not show as a line break.
  return text.replace(/\r\n?/g, '\n');
}

function stageSection(id: number, content: MessageContent, index: number): HTMLElement {
  const treeSlot = h('div', { class: 'tree-slot' }, loading());
  const section = h(
    'section',
    { class: 'panel stage', 'data-stage': content.stage, 'aria-labelledby': `stage-${index}` },
    h(
      'div',
      { class: 'panel-head' },
      h('h3', { id: `stage-${index}` }, stageTitle(content.stage)),
      h('span', { class: 'muted small' }, `${content.contentType} · ${formatBytes(content.size)}`),
      button(t('message.download'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => {
        const { blob, filename } = await api.blob(`/api/messages/${id}/export?stage=${encodeURIComponent(content.stage)}`);
        download(blob, filename ?? `message-${id}-${content.stage}`);
      }), { class: 'btn btn-small btn-secondary', 'aria-label': `${t('message.download')} ${stageTitle(content.stage)}` }),
    ),
    treeSlot,
    content.text !== null
      ? h('details', { class: 'raw-text' }, h('summary', null, t('message.asText')), h('pre', { class: 'code' }, displayText(content.text)))
      : h('p', { class: 'muted small' }, t('message.binary', { size: formatBytes(content.size) })),
  );
  api
    .get<ContentTree>(`/api/messages/${id}/tree?stage=${encodeURIComponent(content.stage)}`)
    .then((tree) => {
      const structured = tree.nodes.length > 0;
      replace(
        treeSlot,
        tree.summary ? h('p', { class: 'small' }, h('strong', null, `${t(`format.${tree.format}`)}: `), tree.summary) : h('p', { class: 'small' }, h('strong', null, t(`format.${tree.format}`))),
        tree.error ? notice('warning', t('message.decodeProblem', { detail: tree.error })) : null,
        structured ? contentTree(tree.nodes, stageTitle(content.stage)) : null,
      );
      // Unstructured content: open the text straight away.
      if (!structured) (section.querySelector('details.raw-text') as HTMLDetailsElement | null)?.setAttribute('open', '');
    })
    .catch((error) => replace(treeSlot, errorNotice(error)));
  return section;
}

export async function renderMessageDetail(ctx: PageContext): Promise<void> {
  const id = Number(ctx.params.id);
  const head = h('div', null, pageHeading(t('message.title', { id: ctx.params.id })));
  const body = h('div', null, loading());
  ctx.root.append(head, body);
  if (!Number.isInteger(id) || id <= 0) {
    replace(body, notice('error', t('message.badId', { id: ctx.params.id })));
    return;
  }
  let message: MessageDetail;
  try {
    message = await api.get<MessageDetail>(`/api/messages/${id}`);
  } catch (error) {
    replace(body, errorNotice(error));
    return;
  }
  if (!ctx.isCurrent()) return;
  ctx.setTitle(t('message.title', { id }));
  const actions = [
    can('messages:reprocess')
      ? button(t('messages.reprocess'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => {
          if (await reprocessMessages([id])) ctx.navigate(`/messages/${id}`, { replace: true });
        }), { class: 'btn btn-primary', 'data-action': 'reprocess' })
      : null,
    can('messages:content')
      ? button(t('message.exportJson'), () => download(new Blob([JSON.stringify(message, null, 2)], { type: 'application/json' }), `message-${id}.json`), { class: 'btn btn-secondary', 'data-action': 'export-json' })
      : null,
  ];
  replace(head, pageHeading(t('message.title', { id }), badge(message.status), ...actions), h('p', null, h('a', { href: '/messages' }, t('message.back'))));

  const attempts = message.attempts.slice().sort((a, b) => a.at.localeCompare(b.at) || a.attempt - b.attempt);
  replace(
    body,
    message.error ? notice('error', h('strong', null, `${t('messages.col.error')}: `), h('pre', { class: 'inline-pre' }, message.error)) : null,
    facts([
      [t('messages.field.channel'), h('a', { href: `/channels/${encodeURIComponent(message.channelId)}` }, message.channelId)],
      [t('messages.col.received'), formatDateTime(message.receivedAt)],
      [t('messages.field.status'), badge(message.status)],
      [t('message.contentType'), message.contentType],
      [t('messages.col.size'), formatBytes(message.size)],
      [t('message.generation'), String(message.generation)],
    ]),
    h('div', { class: 'two-col' },
      h('section', { class: 'panel', 'aria-labelledby': 'corr-title' }, h('h2', { id: 'corr-title' }, t('message.correlation')), record(message.correlation)),
      h('section', { class: 'panel', 'aria-labelledby': 'meta-title' }, h('h2', { id: 'meta-title' }, t('message.meta')), record(message.meta), h('h3', null, t('message.origin')), record(message.origin)),
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'dest-title' },
      h('h2', { id: 'dest-title' }, t('message.destinations')),
      table(
        [
          { header: t('channel.col.destination'), cell: (d) => h('strong', null, d.destination) },
          { header: t('messages.field.status'), cell: (d) => badge(d.status) },
          { header: t('message.attempts'), cell: (d) => String(d.attempts), class: 'num' },
          { header: t('message.lastError'), cell: (d) => (d.lastError ? h('span', { class: 'text-bad small' }, d.lastError) : '—') },
          { header: t('message.updated'), cell: (d) => formatDateTime(d.updatedAt) },
        ],
        message.destinations,
        { caption: t('message.destinations'), empty: t('message.noDestinations') },
      ),
      h('h3', null, t('message.attemptLog')),
      table(
        [
          { header: t('message.at'), cell: (a) => formatDateTime(a.at) },
          { header: t('channel.col.destination'), cell: (a) => a.destination },
          { header: t('message.attempt'), cell: (a) => `#${a.attempt}`, class: 'num' },
          { header: t('message.outcome'), cell: (a) => badge(a.ok ? 'ok' : 'error', a.ok ? t('message.ok') : t('message.failed')) },
          { header: t('message.duration'), cell: (a) => formatMs(a.durationMs), class: 'num' },
          { header: t('message.responseOrError'), cell: (a) => h('pre', { class: 'inline-pre' }, (a.ok ? a.response : a.error) ?? '—') },
        ],
        attempts,
        { caption: t('message.attemptLog'), rowProps: (a) => ({ 'data-attempt': `${a.destination}:${a.attempt}` }), empty: t('message.noAttempts') },
      ),
    ),
    h(
      'section',
      { 'aria-labelledby': 'stages-title' },
      h('h2', { id: 'stages-title' }, t('message.stages')),
      message.contentHidden
        ? notice('info', t('message.contentHidden'))
        : message.contents.length === 0
          ? notice('info', t('message.noContent'))
          : message.contents.map((c, i) => stageSection(id, c, i)),
    ),
  );
}

export const messagePage: PageModule = {
  id: 'message',
  path: '/messages/:id',
  titleKey: 'messages.title',
  permission: 'messages:read',
  render: renderMessageDetail,
};

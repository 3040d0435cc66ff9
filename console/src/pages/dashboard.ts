// Operations dashboard: every channel and connection with its state, counters, rates as live charts,
// queue depths, open alerts and the last error; each channel links to its own page.
import { LineChart } from '../components/chart';
import { badge, button, errorNotice, errorText, loading, notice, pageHeading, toast, withBusy } from '../components/ui';
import { api, can } from '../core/api';
import { h, replace, setText } from '../core/dom';
import { formatAgo, formatDateTime, formatNumber, formatRate } from '../core/format';
import { t } from '../core/i18n';
import { ratesOf } from '../core/live';
import type { PageContext, PageModule } from '../core/page';
import type { Alert, ChannelList, ChannelStats, ChannelSummary, QueueDepth, StatEvent } from '../core/types';

export const COUNTERS: StatEvent[] = ['received', 'filtered', 'queued', 'sent', 'errored', 'dead'];
export const CHART_COLORS = { received: '#1565c0', sent: '#2e7d32', errored: '#c62828' };

interface StatsResponse {
  at: string;
  channels: Record<string, ChannelStats>;
  queues: QueueDepth[];
  health: { ok: boolean; store: { ok: boolean; reason?: string } };
  memory: number;
}

interface CardRefs {
  chart: LineChart;
  counters: Map<StatEvent, HTMLElement>;
  rates: Map<string, HTMLElement>;
  queues: HTMLElement;
  lastError: HTMLElement;
  lastMessage: HTMLElement;
}

export function connectionList(channel: ChannelSummary): HTMLElement {
  if (channel.connections.length === 0) {
    return h('p', { class: 'muted small' }, channel.stats.lastMessageAt ? t('dashboard.idleSince', { ago: formatAgo(channel.stats.lastMessageAt) }) : t('dashboard.noConnections'));
  }
  return h(
    'ul',
    { class: 'connections' },
    ...channel.connections.map((c) =>
      h(
        'li',
        { 'data-connection': c.id },
        badge(c.state),
        ' ',
        h('span', { class: 'conn-id' }, c.id),
        c.detail ? h('span', { class: 'muted' }, ` — ${c.detail}`) : null,
        h('span', { class: 'muted small' }, ` · ${t('dashboard.since', { ago: formatAgo(c.since) })}`),
      ),
    ),
  );
}

function queueSummary(queues: QueueDepth[]): HTMLElement {
  if (queues.length === 0) return h('span', { class: 'muted' }, t('dashboard.noQueues'));
  return h(
    'ul',
    { class: 'queue-list' },
    ...queues.map((q) =>
      h(
        'li',
        { 'data-queue': q.destination },
        h('strong', null, q.destination),
        ': ',
        t('dashboard.queued', { n: formatNumber(q.queued) }),
        q.dead > 0 ? h('a', { href: `/dead-letters?channel=${encodeURIComponent(q.channelId)}`, class: 'text-bad' }, ` · ${t('dashboard.dead', { n: formatNumber(q.dead) })}`) : null,
        q.oldestQueuedAt ? h('span', { class: 'muted small' }, ` · ${t('dashboard.oldest', { ago: formatAgo(q.oldestQueuedAt) })}`) : null,
      ),
    ),
  );
}

export function alertList(alerts: Alert[], onChange: () => void): HTMLElement {
  const open = alerts.filter((a) => !a.acknowledged);
  if (alerts.length === 0) return h('p', { class: 'muted', 'data-alerts': '0' }, t('dashboard.noAlerts'));
  return h(
    'ul',
    { class: 'alerts', 'data-alerts': String(open.length) },
    ...alerts.map((a) =>
      h(
        'li',
        { class: `alert alert-${a.severity}${a.acknowledged ? ' alert-acked' : ''}` },
        badge(a.severity, t(`severity.${a.severity}`)),
        ' ',
        h('a', { href: `/channels/${encodeURIComponent(a.channelId)}` }, a.channelId),
        `: ${a.message}`,
        h('span', { class: 'muted small' }, ` · ${formatAgo(a.raisedAt)}`),
        a.acknowledged
          ? h('span', { class: 'muted small' }, ` · ${t('dashboard.acknowledged')}`)
          : can('channels:control')
            ? button(
                t('dashboard.ack'),
                (e) =>
                  void withBusy(e.currentTarget as HTMLButtonElement, async () => {
                    await api.post(`/api/alerts/${encodeURIComponent(a.id)}/ack`);
                    onChange();
                  }),
                { class: 'btn btn-small btn-secondary' },
              )
            : null,
      ),
    ),
  );
}

function tile(label: string, value: string, key: string, kind = ''): HTMLElement {
  return h('div', { class: `tile ${kind}`, 'data-tile': key }, h('span', { class: 'tile-value' }, value), h('span', { class: 'tile-label' }, label));
}

async function render(ctx: PageContext): Promise<void> {
  const { root } = ctx;
  const summary = h('section', { class: 'tiles', 'aria-label': t('dashboard.summary') });
  const alertsSection = h('section', { class: 'panel', 'aria-labelledby': 'alerts-title' }, h('h2', { id: 'alerts-title' }, t('dashboard.alerts')), loading());
  const problemsSlot = h('div');
  const grid = h('section', { class: 'cards', 'aria-label': t('dashboard.channels') });
  root.append(pageHeading(t('dashboard.title')), summary, problemsSlot, alertsSection, grid);
  grid.append(loading());

  const cards = new Map<string, CardRefs>();
  let channels: ChannelSummary[] = [];
  let queues: QueueDepth[] = [];
  let alerts: Alert[] = [];

  const renderSummary = () => {
    const started = channels.filter((c) => c.state === 'started').length;
    const totals = (e: StatEvent) => channels.reduce((n, c) => n + c.stats.counters[e], 0);
    const queued = queues.reduce((n, q) => n + q.queued, 0);
    const dead = queues.reduce((n, q) => n + q.dead, 0);
    const openAlerts = alerts.filter((a) => !a.acknowledged).length;
    replace(
      summary,
      tile(t('dashboard.tile.channels'), `${started}/${channels.length}`, 'channels', started < channels.length ? 'tile-warn' : ''),
      tile(t('counter.received'), formatNumber(totals('received')), 'received'),
      tile(t('counter.sent'), formatNumber(totals('sent')), 'sent'),
      tile(t('dashboard.tile.queued'), formatNumber(queued), 'queued', queued > 0 ? 'tile-info' : ''),
      tile(t('dashboard.tile.dead'), formatNumber(dead), 'dead', dead > 0 ? 'tile-bad' : ''),
      tile(t('dashboard.tile.alerts'), formatNumber(openAlerts), 'alerts', openAlerts > 0 ? 'tile-bad' : ''),
    );
  };

  const updateCard = (channel: ChannelSummary) => {
    const refs = cards.get(channel.id);
    if (!refs) return;
    for (const [event, el] of refs.counters) setText(el, formatNumber(channel.stats.counters[event]));
    for (const [key, el] of refs.rates) setText(el, formatRate(channel.stats.ratesPerSecond[key as 'received']));
    setText(refs.lastMessage, channel.stats.lastMessageAt ? formatAgo(channel.stats.lastMessageAt) : t('dashboard.never'));
    replace(refs.lastError, channel.stats.lastError ? h('span', { class: 'text-bad' }, `${formatDateTime(channel.stats.lastError.at)} — ${channel.stats.lastError.message}`) : h('span', { class: 'muted' }, t('dashboard.noError')));
    refs.chart.update(ratesOf(ctx.live.historyOf(channel.id), ['received', 'sent', 'errored']));
  };

  const card = (channel: ChannelSummary): HTMLElement => {
    const chart = new LineChart(
      t('dashboard.chartTitle'),
      [
        { label: t('counter.received'), color: CHART_COLORS.received },
        { label: t('counter.sent'), color: CHART_COLORS.sent },
        { label: t('counter.errored'), color: CHART_COLORS.errored },
      ],
      { unit: t('unit.perSecondShort') },
    );
    const counters = new Map<StatEvent, HTMLElement>(COUNTERS.map((e) => [e, h('dd', { 'data-counter': e }, '0')]));
    const rates = new Map<string, HTMLElement>(['received', 'sent', 'errored'].map((k) => [k, h('span', { 'data-rate': k }, '—')]));
    const refs: CardRefs = { chart, counters, rates, queues: h('div', { class: 'queues' }), lastError: h('p', { class: 'last-error small' }), lastMessage: h('span') };
    cards.set(channel.id, refs);
    const el = h(
      'article',
      { class: `card channel-card state-${channel.state}`, 'data-channel': channel.id, 'aria-labelledby': `card-${channel.id}` },
      h('header', { class: 'card-head' }, h('h2', { id: `card-${channel.id}` }, h('a', { href: `/channels/${encodeURIComponent(channel.id)}` }, channel.name)), badge(channel.state)),
      h('p', { class: 'muted small' }, `${channel.id} · ${t('dashboard.source')}: ${channel.source.connector} → ${channel.destinations.map((d) => `${d.name} (${d.connector})`).join(', ') || '—'}`),
      channel.stateDetail ? notice('error', channel.stateDetail) : null,
      connectionList(channel),
      h('dl', { class: 'counters' }, ...COUNTERS.map((e) => h('div', { class: 'counter' }, h('dt', null, t(`counter.${e}`)), counters.get(e)!))),
      h('p', { class: 'rates small' }, t('dashboard.rates'), ': ', ...[...rates.entries()].flatMap(([k, el], i) => [i ? ' · ' : '', `${t(`counter.${k}`)} `, el])),
      chart.el,
      h('div', { class: 'small' }, h('strong', null, `${t('dashboard.queues')}: `), refs.queues),
      h('p', { class: 'small' }, h('strong', null, `${t('dashboard.lastMessage')}: `), refs.lastMessage),
      h('div', { class: 'small' }, h('strong', null, `${t('dashboard.lastError')}: `), refs.lastError),
    );
    return el;
  };

  const renderCards = () => {
    cards.clear();
    if (channels.length === 0) {
      replace(grid, notice('info', t('dashboard.noChannels')));
      return;
    }
    replace(grid, ...channels.map(card));
    for (const channel of channels) updateCard(channel);
    renderQueues();
  };

  const renderQueues = () => {
    for (const [id, refs] of cards) replace(refs.queues, queueSummary(queues.filter((q) => q.channelId === id)));
    renderSummary();
  };

  const renderAlerts = () => {
    replace(alertsSection, h('h2', { id: 'alerts-title' }, t('dashboard.alerts')), alertList(alerts, () => void loadAlerts()));
    renderSummary();
  };

  const loadChannels = async () => {
    const list = await api.get<ChannelList>('/api/channels');
    if (!ctx.isCurrent()) return;
    channels = list.channels;
    ctx.live.record({ at: new Date().toISOString(), channels: Object.fromEntries(channels.map((c) => [c.id, c.stats])) });
    replace(
      problemsSlot,
      list.problems.length
        ? notice('warning', h('strong', null, t('channels.problems')), h('ul', null, ...list.problems.map((p) => h('li', null, `${p.file}: ${p.channelId ? `${p.channelId}: ` : ''}${p.field}: ${p.message}`))))
        : null,
    );
    renderCards();
  };
  const loadStats = async () => {
    const stats = await api.get<StatsResponse>('/api/stats');
    if (!ctx.isCurrent()) return;
    queues = stats.queues;
    renderQueues();
  };
  const loadAlerts = async () => {
    const body = await api.get<{ alerts: Alert[] }>('/api/alerts');
    if (!ctx.isCurrent()) return;
    alerts = body.alerts;
    renderAlerts();
  };

  try {
    // The engine's sampled history fills the charts at once (after a reload too), then live events go on.
    await Promise.all([loadChannels(), loadStats(), loadAlerts(), ctx.live.loadHistory('30m')]);
  } catch (error) {
    replace(grid, errorNotice(error));
    return;
  }
  if (!ctx.isCurrent()) return;
  for (const channel of channels) updateCard(channel);

  // Live: counters from the stats stream; structure changes (deploy, connections) re-read the list.
  let reloadTimer: ReturnType<typeof setTimeout> | undefined;
  const reloadSoon = () => {
    clearTimeout(reloadTimer);
    reloadTimer = setTimeout(() => void loadChannels().catch((e) => toast(errorText(e), 'error')), 300);
  };
  ctx.onCleanup(
    ctx.live.on('stats', (data: { channels: Record<string, ChannelStats> }) => {
      let changed = false;
      for (const channel of channels) {
        const stats = data.channels[channel.id];
        if (stats) {
          channel.stats = stats;
          updateCard(channel);
        } else changed = true;
      }
      if (Object.keys(data.channels).length !== channels.length) changed = true;
      if (changed) reloadSoon();
      renderSummary();
    }),
  );
  ctx.onCleanup(ctx.live.on('channel', reloadSoon));
  ctx.onCleanup(ctx.live.on('connection', reloadSoon));
  ctx.onCleanup(ctx.live.on('alert', () => void loadAlerts()));
  ctx.onCleanup(ctx.live.on('alert-cleared', () => void loadAlerts()));
  const poll = setInterval(() => void loadStats().catch(() => undefined), 5000);
  const alertPoll = setInterval(() => void loadAlerts().catch(() => undefined), 30_000);
  ctx.onCleanup(() => {
    clearInterval(poll);
    clearInterval(alertPoll);
    clearTimeout(reloadTimer);
  });
}

export const dashboardPage: PageModule = {
  id: 'dashboard',
  path: '/',
  titleKey: 'dashboard.title',
  nav: { section: 'operate', order: 10, icon: '◉' },
  permission: 'channels:read',
  render,
};

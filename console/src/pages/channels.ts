// Channels: the list with deploy/undeploy and pause/resume, and one channel's page with its live
// statistics, destinations and queues, connections and its configuration (read-only, with the file
// it came from).
import { LineChart } from '../components/chart';
import { badge, button, confirmDialog, errorNotice, errorText, facts, field, input, loading, notice, pageHeading, select, table, toast, withBusy } from '../components/ui';
import { api, ApiError, can } from '../core/api';
import { h, replace, setText } from '../core/dom';
import { formatDateTime, formatMs, formatNumber, formatRate } from '../core/format';
import { t } from '../core/i18n';
import { ratesOf, type StatsPoint } from '../core/live';
import type { PageContext, PageModule } from '../core/page';
import type { ChannelList, ChannelStats, ChannelSummary, QueueDepth, StatEvent } from '../core/types';
import { CHART_COLORS, COUNTERS, connectionList } from './dashboard';

type ChannelAction = 'deploy' | 'undeploy' | 'pause' | 'resume';

export async function channelAction(id: string, action: ChannelAction): Promise<void> {
  if (action === 'undeploy') {
    const ok = await confirmDialog({ title: t('channels.confirmUndeploy', { id }), body: t('channels.confirmUndeployText'), confirmLabel: t('channels.action.undeploy'), danger: true });
    if (!ok) return;
  }
  await api.post(`/api/channels/${encodeURIComponent(id)}/${action}`);
  toast(t(`channels.done.${action}`, { id }));
}

function actionButtons(channel: Pick<ChannelSummary, 'id' | 'state'>, after: () => void): HTMLElement | null {
  if (!can('channels:control')) return null;
  const act = (action: ChannelAction, kind = 'btn-secondary') =>
    button(t(action === 'deploy' && channel.state !== 'undeployed' ? 'channels.action.redeploy' : `channels.action.${action}`), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => {
      await channelAction(channel.id, action);
      after();
    }), { class: `btn btn-small ${kind}`, 'data-action': action, 'aria-label': `${t(`channels.action.${action}`)} ${channel.id}` });
  const buttons: HTMLElement[] = [];
  if (channel.state === 'undeployed') buttons.push(act('deploy', 'btn-primary'));
  else {
    if (channel.state === 'started') buttons.push(act('pause'));
    if (channel.state === 'paused' || channel.state === 'stopped') buttons.push(act('resume', 'btn-primary'));
    buttons.push(act('deploy'), act('undeploy', 'btn-danger'));
  }
  return h('div', { class: 'button-row' }, ...buttons);
}

// ------------------------------------------------------------------ list

async function renderList(ctx: PageContext): Promise<void> {
  const body = h('div', null, loading());
  ctx.root.append(pageHeading(t('channels.title')), body);
  const load = async () => {
    let list: ChannelList;
    try {
      list = await api.get<ChannelList>('/api/channels');
    } catch (error) {
      replace(body, errorNotice(error));
      return;
    }
    if (!ctx.isCurrent()) return;
    // Channels the files define but the engine does not run are listed too, with a Deploy button.
    const rows: Array<ChannelSummary | { id: string; name: string; state: 'undeployed' }> = [...list.channels, ...(list.undeployed ?? []).map((u) => ({ id: u.id, name: u.name, state: 'undeployed' as const }))];
    const isFull = (r: (typeof rows)[number]): r is ChannelSummary => r.state !== 'undeployed';
    const deployForm = can('channels:control') ? deployByIdForm(() => void load()) : null;
    replace(
      body,
      list.problems.length
        ? notice('warning', h('strong', null, t('channels.problems')), h('ul', null, ...list.problems.map((p) => h('li', null, `${p.file}: ${p.channelId ? `${p.channelId}: ` : ''}${p.field}: ${p.message}`))))
        : null,
      table(
        [
          { header: t('channels.col.name'), cell: (r) => (isFull(r) ? h('a', { href: `/channels/${encodeURIComponent(r.id)}` }, r.name) : r.name) },
          { header: t('channels.col.id'), cell: (r) => h('code', null, r.id) },
          { header: t('channels.col.state'), cell: (r) => badge(r.state) },
          { header: t('channels.col.source'), cell: (r) => (isFull(r) ? r.source.connector : '—') },
          { header: t('channels.col.destinations'), cell: (r) => (isFull(r) ? r.destinations.map((d) => `${d.name} (${d.connector})`).join(', ') : '—') },
          { header: t('counter.received'), cell: (r) => (isFull(r) ? formatNumber(r.stats.counters.received) : '—'), class: 'num' },
          { header: t('counter.errored'), cell: (r) => (isFull(r) ? formatNumber(r.stats.counters.errored + r.stats.counters.dead) : '—'), class: 'num' },
          { header: t('channels.col.actions'), cell: (r) => actionButtons(r, () => void load()) },
        ],
        rows,
        { caption: t('channels.title'), rowProps: (r) => ({ 'data-channel': r.id }), empty: t('dashboard.noChannels') },
      ),
      deployForm,
      list.connectorTypes.length ? h('p', { class: 'muted small' }, t('channels.connectorTypes', { list: list.connectorTypes.join(', ') })) : null,
    );
  };
  await load();
  ctx.onCleanup(ctx.live.on('channel', () => void load()));
}

function deployByIdForm(after: () => void): HTMLElement {
  const id = input({ name: 'channel-id', pattern: '[a-z0-9\\-]+', required: true, spellcheck: 'false' });
  return h(
    'form',
    {
      class: 'inline-form',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        const submit = (e.currentTarget as HTMLFormElement).querySelector('button') as HTMLButtonElement;
        await withBusy(submit, async () => {
          await channelAction(id.value.trim(), 'deploy');
          id.value = '';
          after();
        });
      },
    },
    field(t('channels.deployById'), id, t('channels.deployByIdHint')),
    h('button', { type: 'submit', class: 'btn btn-secondary' }, t('channels.action.deploy')),
  );
}

export const channelsPage: PageModule = {
  id: 'channels',
  path: '/channels',
  titleKey: 'channels.title',
  nav: { section: 'operate', order: 20, icon: '⇄' },
  permission: 'channels:read',
  render: renderList,
};

// ------------------------------------------------------------------ one channel

async function renderDetail(ctx: PageContext): Promise<void> {
  const id = ctx.params.id;
  const head = h('div', null, pageHeading(id));
  const body = h('div', null, loading());
  ctx.root.append(head, body);
  let channel: ChannelSummary;
  let queues: QueueDepth[] = [];
  const load = async () => {
    const [c, q] = await Promise.all([api.get<ChannelSummary>(`/api/channels/${encodeURIComponent(id)}`), api.get<{ queues: QueueDepth[] }>('/api/queues')]);
    channel = c;
    queues = q.queues.filter((x) => x.channelId === id);
  };
  try {
    await load();
  } catch (error) {
    // A channel its file still defines can be deployed from here.
    const list = await api.get<ChannelList>('/api/channels').catch(() => undefined);
    if (!ctx.isCurrent()) return;
    const known = list?.undeployed?.some((u) => u.id === id) ?? false;
    replace(body, errorNotice(error), h('p', null, h('a', { href: '/channels' }, t('channels.back'))), known ? actionButtons({ id, state: 'undeployed' }, () => ctx.navigate(`/channels/${encodeURIComponent(id)}`)) : null);
    return;
  }
  if (!ctx.isCurrent()) return;
  ctx.setTitle(channel!.name);
  ctx.live.record({ at: new Date().toISOString(), channels: { [id]: channel!.stats } });

  const rateChart = new LineChart(t('channel.rateChart'), [
    { label: t('counter.received'), color: CHART_COLORS.received },
    { label: t('counter.sent'), color: CHART_COLORS.sent },
    { label: t('counter.errored'), color: CHART_COLORS.errored },
  ], { unit: t('unit.perSecondShort'), windowMs: 15 * 60_000 });
  const latencyChart = new LineChart(t('channel.latencyChart'), [
    { label: t('channel.ackP95'), color: '#6a1b9a' },
    { label: t('channel.deliveryP95'), color: '#ef6c00' },
  ], { unit: 'ms', windowMs: 15 * 60_000 });
  // The span shown: what this tab holds (the engine's history merged with live snapshots) for up to an
  // hour; a day comes from the engine's one-minute samples, read again when chosen.
  const windows: Record<string, number> = { '15m': 15 * 60_000, '1h': 3_600_000, '24h': 86_400_000 };
  let windowKey = '15m';
  let daySamples: StatsPoint[] = [];
  const windowSelect = select(Object.keys(windows).map((k) => ({ value: k, label: t(`channel.window.${k}`) })), { name: 'window', value: windowKey, 'data-chart-window': '' });
  const chartPoints = (): StatsPoint[] => {
    const live = ctx.live.historyOf(id);
    if (windowKey !== '24h') return live;
    const firstLive = live[0]?.at ?? Infinity;
    return [...daySamples.filter((p) => p.at < firstLive), ...live];
  };
  windowSelect.addEventListener('change', () => {
    windowKey = windowSelect.value;
    rateChart.setWindow(windows[windowKey]);
    latencyChart.setWindow(windows[windowKey]);
    void loadHistory().then(() => ctx.isCurrent() && redrawStats()).catch((error) => toast(errorText(error), 'error'));
  });
  const loadHistory = async () => {
    try {
      const body = await api.get<{ points: StatsPoint[] }>(`/api/channels/${encodeURIComponent(id)}/stats/history?window=${windowKey}`);
      if (windowKey === '24h') daySamples = body.points;
      else ctx.live.mergeHistory({ [id]: body.points });
    } catch (error) {
      if (!(error instanceof ApiError && error.status === 404)) throw error;
    }
  };
  await loadHistory().catch(() => undefined);
  if (!ctx.isCurrent()) return;
  const counters = new Map<StatEvent, HTMLElement>(COUNTERS.concat('retried').map((e) => [e, h('dd', { 'data-counter': e }, '0')]));
  const latencies = h('p', { class: 'small' });
  const destinationsSlot = h('div');
  const connectionsSlot = h('div');
  const lastError = h('div', { class: 'small' });

  const redrawHead = () =>
    replace(
      head,
      pageHeading(channel.name, badge(channel.state), actionButtons(channel, () => void reload())),
      h('p', null, h('a', { href: `/messages?channel=${encodeURIComponent(id)}` }, t('channel.messages')), ' · ', h('a', { href: `/dead-letters?channel=${encodeURIComponent(id)}` }, t('nav.deadLetters'))),
    );
  const redrawStats = () => {
    const s = channel.stats;
    for (const [e, el] of counters) setText(el, formatNumber(s.counters[e]));
    setText(latencies, `${t('channel.ackLatency')}: p50 ${formatMs(s.ackLatencyMs.p50)}, p95 ${formatMs(s.ackLatencyMs.p95)} · ${t('channel.deliveryLatency')}: p50 ${formatMs(s.deliveryLatencyMs.p50)}, p95 ${formatMs(s.deliveryLatencyMs.p95)} · ${t('dashboard.rates')}: ${formatRate(s.ratesPerSecond.received)}`);
    replace(lastError, s.lastError ? h('span', { class: 'text-bad' }, `${formatDateTime(s.lastError.at)} — ${s.lastError.message}`) : h('span', { class: 'muted' }, t('dashboard.noError')));
    const history = chartPoints();
    rateChart.update(ratesOf(history, ['received', 'sent', 'errored']));
    latencyChart.update(history.map((p) => ({ at: p.at, values: [p.ackP95 ?? NaN, p.deliveryP95 ?? NaN] })));
  };
  const redrawDestinations = () => {
    replace(
      destinationsSlot,
      table(
        [
          { header: t('channel.col.destination'), cell: (d) => h('strong', null, d.name) },
          { header: t('channel.col.connector'), cell: (d) => d.connector },
          { header: t('channels.col.state'), cell: (d) => (d.paused ? badge('paused') : badge('started')) },
          { header: t('channel.col.inFlight'), cell: (d) => formatNumber(d.inFlight), class: 'num' },
          { header: t('dashboard.tile.queued'), cell: (d) => formatNumber(queues.find((q) => q.destination === d.name)?.queued ?? 0), class: 'num' },
          { header: t('dashboard.tile.dead'), cell: (d) => formatNumber(queues.find((q) => q.destination === d.name)?.dead ?? 0), class: 'num' },
          {
            header: t('channels.col.actions'),
            cell: (d) =>
              can('channels:control')
                ? button(t(d.paused ? 'channels.action.resume' : 'channels.action.pause'), (e) =>
                    void withBusy(e.currentTarget as HTMLButtonElement, async () => {
                      await api.post(`/api/channels/${encodeURIComponent(id)}/destinations/${encodeURIComponent(d.name)}/${d.paused ? 'resume' : 'pause'}`);
                      toast(t(d.paused ? 'channels.done.resume' : 'channels.done.pause', { id: `${id}/${d.name}` }));
                      await reload();
                    }), { class: 'btn btn-small btn-secondary' })
                : null,
          },
        ],
        channel.destinations,
        { caption: t('channel.destinations') },
      ),
    );
  };
  const reload = async () => {
    try {
      await load();
    } catch (error) {
      toast(errorText(error), 'error');
      return;
    }
    if (!ctx.isCurrent()) return;
    redrawHead();
    redrawStats();
    redrawDestinations();
    replace(connectionsSlot, connectionList(channel));
  };

  const configSlot = h('div', null, loading());
  replace(
    body,
    channel!.description ? h('p', null, channel!.description) : null,
    channel!.stateDetail ? notice('error', channel!.stateDetail) : null,
    facts([
      [t('channels.col.id'), h('code', null, id)],
      [t('channel.deployedAt'), formatDateTime(channel!.deployedAt)],
      [t('channel.storage'), t(`storage.${channel!.storage}`)],
      [t('channels.col.source'), channel!.source.connector],
      [t('channel.sourceFile'), channel!.sourceFile ? h('code', null, channel!.sourceFile) : '—'],
    ]),
    h('section', { class: 'panel', 'aria-labelledby': 'stats-title' }, h('h2', { id: 'stats-title' }, t('channel.stats')), h('div', { class: 'chart-window' }, field(t('channel.window'), windowSelect)), h('dl', { class: 'counters' }, ...[...counters.entries()].map(([e, el]) => h('div', { class: 'counter' }, h('dt', null, t(`counter.${e}`)), el))), latencies, h('div', { class: 'chart-pair' }, rateChart.el, latencyChart.el), h('p', { class: 'small' }, h('strong', null, `${t('dashboard.lastError')}: `), lastError)),
    h('section', { class: 'panel', 'aria-labelledby': 'dest-title' }, h('h2', { id: 'dest-title' }, t('channel.destinations')), destinationsSlot),
    h('section', { class: 'panel', 'aria-labelledby': 'conn-title' }, h('h2', { id: 'conn-title' }, t('channel.connections')), connectionsSlot),
    h('section', { class: 'panel', 'aria-labelledby': 'config-title' }, h('h2', { id: 'config-title' }, t('channel.config')), configSlot),
  );
  redrawHead();
  redrawStats();
  redrawDestinations();
  replace(connectionsSlot, connectionList(channel!));

  api
    .get<{ sourceFile: string | null; sourceText: string | null; config: unknown }>(`/api/channels/${encodeURIComponent(id)}/config`)
    .then((config) => {
      if (!ctx.isCurrent()) return;
      replace(
        configSlot,
        h('p', { class: 'muted small' }, t('channel.configReadOnly')),
        h('p', null, h('strong', null, `${t('channel.sourceFile')}: `), config.sourceFile ? h('code', { 'data-source-file': '' }, config.sourceFile) : '—'),
        h('details', null, h('summary', null, t('channel.effectiveConfig')), h('pre', { class: 'code' }, JSON.stringify(config.config, null, 2))),
        config.sourceText ? h('details', null, h('summary', null, t('channel.sourceText')), h('pre', { class: 'code' }, config.sourceText)) : null,
      );
    })
    .catch((error) => ctx.isCurrent() && replace(configSlot, errorNotice(error)));

  ctx.onCleanup(
    ctx.live.on('stats', (data: { channels: Record<string, ChannelStats> }) => {
      if (!data.channels[id]) return;
      channel.stats = data.channels[id];
      redrawStats();
    }),
  );
  ctx.onCleanup(ctx.live.on('channel', (e: { id: string }) => e.id === id && void reload()));
  ctx.onCleanup(ctx.live.on('connection', (e: { channelId: string }) => e.channelId === id && void reload()));
  const poll = setInterval(() => void api.get<{ queues: QueueDepth[] }>('/api/queues').then((q) => {
    if (!ctx.isCurrent()) return;
    queues = q.queues.filter((x) => x.channelId === id);
    redrawDestinations();
  }).catch(() => undefined), 5000);
  ctx.onCleanup(() => clearInterval(poll));
}

export const channelPage: PageModule = {
  id: 'channel',
  path: '/channels/:id',
  titleKey: 'channels.title',
  permission: 'channels:read',
  render: renderDetail,
};

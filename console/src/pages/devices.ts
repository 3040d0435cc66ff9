// Devices: the analysers, modalities and other peers every channel's source reports (link state,
// since when, counters, the channel's last error), IoMT devices with their patient bindings
// (bind/unbind) when the IoMT API is mounted at /api/iomt, and the demo simulators when the engine
// offers them. Sections whose API is absent say so instead of failing.
import { badge, button, confirmDialog, errorNotice, errorText, facts, field, formDialog, input, loading, notice, pageHeading, table, toast, withBusy } from '../components/ui';
import { api, ApiError, can } from '../core/api';
import { h, replace } from '../core/dom';
import { formatAgo, formatDateTime } from '../core/format';
import { t } from '../core/i18n';
import type { PageContext, PageModule } from '../core/page';
import type { ChannelList, ChannelSummary, Connection } from '../core/types';

/** Connector types grouped by the kind of device behind them. */
const DEVICE_KINDS: Array<{ key: string; connectors: string[] }> = [
  { key: 'analysers', connectors: ['astm'] },
  { key: 'modalities', connectors: ['dicom'] },
  { key: 'hl7', connectors: ['mllp', 'hl7-batch-file'] },
  { key: 'mqtt', connectors: ['mqtt'] },
  { key: 'his', connectors: ['his-db'] },
];

interface IomtBinding {
  id: number;
  deviceId: string;
  visitId: string;
  patientId: string;
  patientName?: string;
  startedAt: number;
  endedAt?: number;
  source: string;
}

/** As GET /api/iomt/devices returns it (iomt/api.ts): the registry's device and its open binding. */
interface IomtDevice {
  id: string;
  name?: string;
  model?: string;
  ward?: string;
  bed?: string;
  bindMode: string;
  status: string;
  lastSeenAt?: number;
  binding: IomtBinding | null;
}

/** As GET /api/demo/simulators lists it (devices/simulators/demo.ts). */
interface Simulator {
  id: string;
  kind: 'analyzer' | 'modality' | 'monitors';
  name: string;
  target: string | null;
  available: boolean;
  unavailableReason: 'no-channel' | 'no-broker' | null;
  devices: number;
  running: boolean;
  detail: string;
  startedAt: string | null;
  sent: number;
  errors: number;
  lastError: { at: string; message: string } | null;
}

function connectionRows(channels: ChannelSummary[], connectors: string[]): Array<{ channel: ChannelSummary; connection: Connection | undefined }> {
  return channels
    .filter((c) => connectors.includes(c.source.connector) || c.destinations.some((d) => connectors.includes(d.connector)))
    .flatMap((channel): Array<{ channel: ChannelSummary; connection: Connection | undefined }> => (channel.connections.length ? channel.connections.map((connection) => ({ channel, connection })) : [{ channel, connection: undefined }]));
}

function peersSection(list: ChannelList): HTMLElement {
  const known = new Set(DEVICE_KINDS.flatMap((k) => k.connectors));
  const kinds = [...DEVICE_KINDS, { key: 'other', connectors: [...new Set(list.channels.map((c) => c.source.connector))].filter((c) => !known.has(c)) }];
  const sections = kinds.map(({ key, connectors }) => ({ key, rows: connectionRows(list.channels, connectors) }));
  const empty = sections.filter((s) => s.rows.length === 0 && s.key !== 'other');
  return h(
    'div',
    null,
    ...sections.filter((s) => s.rows.length > 0).map(({ key, rows }) => {
      return h(
        'section',
        { class: 'panel', 'aria-labelledby': `devices-${key}`, 'data-device-kind': key },
        h('h2', { id: `devices-${key}` }, t(`devices.kind.${key}`)),
        table(
          [
            { header: t('messages.field.channel'), cell: (r) => h('a', { href: `/channels/${encodeURIComponent(r.channel.id)}` }, r.channel.name) },
            { header: t('devices.col.connection'), cell: (r) => (r.connection ? h('span', null, r.connection.id, r.connection.detail ? h('span', { class: 'muted' }, ` — ${r.connection.detail}`) : null) : h('span', { class: 'muted' }, t('devices.noLink'))) },
            { header: t('devices.col.link'), cell: (r) => (r.connection ? badge(r.connection.state) : badge(r.channel.state)) },
            { header: t('devices.col.since'), cell: (r) => (r.connection ? h('span', { title: formatDateTime(r.connection.since) }, formatAgo(r.connection.since)) : r.channel.stats.lastMessageAt ? formatAgo(r.channel.stats.lastMessageAt) : '—') },
            { header: t('devices.col.counters'), cell: (r) => (r.connection?.counters ? Object.entries(r.connection.counters).map(([k, v]) => `${k} ${v}`).join(' · ') : `${t('counter.received')} ${r.channel.stats.counters.received}`) },
            { header: t('dashboard.lastError'), cell: (r) => (r.channel.stats.lastError ? h('span', { class: 'text-bad small' }, `${formatAgo(r.channel.stats.lastError.at)}: ${r.channel.stats.lastError.message}`) : '—') },
          ],
          rows,
          { caption: t(`devices.kind.${key}`), empty: t('devices.none') },
        ),
      );
    }),
    empty.length ? h('p', { class: 'muted', 'data-empty-kinds': empty.map((s) => s.key).join(' ') }, t('devices.noneOfKinds', { kinds: empty.map((s) => t(`devices.kind.${s.key}`)).join(', ') })) : null,
  );
}

function registerDialog(): Promise<boolean> {
  const id = input({ name: 'deviceId', required: true, pattern: '[A-Za-z0-9][A-Za-z0-9._:\\-]{0,63}', autocomplete: 'off' });
  const name = input({ name: 'name', autocomplete: 'off' });
  const model = input({ name: 'model', autocomplete: 'off' });
  const ward = input({ name: 'ward', autocomplete: 'off' });
  const bed = input({ name: 'bed', autocomplete: 'off' });
  return formDialog({
    title: t('devices.register'),
    fields: [field(t('devices.deviceId'), id, t('devices.deviceIdHint')), field(t('devices.name'), name), field(t('devices.model'), model), field(t('devices.ward'), ward), field(t('devices.bed'), bed)],
    submitLabel: t('devices.register'),
    submit: async () => {
      const text = (el: HTMLInputElement) => el.value.trim() || undefined;
      await api.put(`/api/iomt/devices/${encodeURIComponent(id.value.trim())}`, { name: text(name), model: text(model), ward: text(ward), bed: text(bed) });
      toast(t('devices.registered', { id: id.value.trim() }));
      return undefined;
    },
  });
}

function bindDialog(device: IomtDevice): Promise<boolean> {
  const visitId = input({ name: 'visitId', required: true, autocomplete: 'off' });
  const patientId = input({ name: 'patientId', required: true, autocomplete: 'off' });
  const patientName = input({ name: 'patientName', autocomplete: 'off' });
  return formDialog({
    title: t('devices.bindTitle', { id: device.id }),
    fields: [field(t('devices.visitId'), visitId), field(t('messages.field.patientId'), patientId), field(t('devices.patientName'), patientName)],
    submitLabel: t('devices.bind'),
    submit: async () => {
      await api.post('/api/iomt/bindings', { deviceId: device.id, visitId: visitId.value.trim(), patientId: patientId.value.trim(), patientName: patientName.value.trim() || undefined, replace: true });
      toast(t('devices.bound', { id: device.id }));
      return undefined;
    },
  });
}

async function iomtSection(ctx: PageContext): Promise<HTMLElement> {
  const manage = can('devices:manage');
  const reload = () => ctx.navigate('/devices', { replace: true });
  const section = h(
    'section',
    { class: 'panel', 'aria-labelledby': 'iomt-title', 'data-device-kind': 'iomt' },
    h('div', { class: 'panel-head' }, h('h2', { id: 'iomt-title' }, t('devices.iomt'))),
  );
  let devices: IomtDevice[];
  let stats: { devices: number; activeBindings: number; activeAlerts: number } | undefined;
  try {
    devices = (await api.get<{ devices: IomtDevice[] }>('/api/iomt/devices')).devices;
    stats = await api.get<{ devices: number; activeBindings: number; activeAlerts: number }>('/api/iomt/stats').catch(() => undefined);
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) section.append(notice('info', t('devices.iomtMissing')));
    else if (error instanceof ApiError && error.status === 403) section.append(notice('info', t('devices.iomtForbidden')));
    else section.append(errorNotice(error));
    return section;
  }
  if (manage) section.firstElementChild!.append(button(t('devices.register'), () => void registerDialog().then((ok) => ok && reload()), { class: 'btn btn-small btn-primary', 'data-action': 'register-device' }));
  if (stats) section.append(h('p', { class: 'muted small' }, t('devices.iomtStats', { devices: stats.devices, bindings: stats.activeBindings, alerts: stats.activeAlerts })));
  section.append(
    table(
      [
        { header: t('devices.col.device'), cell: (d) => h('span', null, h('strong', null, d.id), d.name ? ` — ${d.name}` : '', d.model ? h('span', { class: 'muted small' }, ` (${d.model})`) : null) },
        { header: t('devices.col.place'), cell: (d) => [d.ward, d.bed].filter(Boolean).join(' / ') || '—' },
        { header: t('devices.col.status'), cell: (d) => badge(d.status === 'registered' ? 'ok' : d.status === 'retired' ? 'stopped' : 'warning', t(`devices.status.${d.status}`)) },
        { header: t('devices.col.lastSeen'), cell: (d) => (d.lastSeenAt ? formatAgo(d.lastSeenAt) : '—') },
        {
          header: t('devices.col.binding'),
          cell: (d) => (d.binding ? h('span', { 'data-binding': d.binding.patientId }, `${d.binding.patientName ? `${d.binding.patientName} · ` : ''}${d.binding.patientId} · ${t('devices.visitId')} ${d.binding.visitId} (${formatDateTime(d.binding.startedAt)})`) : h('span', { class: 'muted' }, t('devices.unbound'))),
        },
        ...(manage
          ? [{
              header: t('channels.col.actions'),
              cell: (d: IomtDevice) =>
                d.binding
                  ? button(t('devices.unbind'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => {
                      if (!(await confirmDialog({ title: t('devices.confirmUnbind', { id: d.id, patient: d.binding!.patientId }), confirmLabel: t('devices.unbind'), danger: true }))) return;
                      await api.post(`/api/iomt/devices/${encodeURIComponent(d.id)}/unbind`, { reason: t('devices.unbindReason') });
                      toast(t('devices.unboundDone', { id: d.id }));
                      reload();
                    }), { class: 'btn btn-small btn-secondary', 'data-action': 'unbind', 'aria-label': `${t('devices.unbind')} ${d.id}` })
                  : d.status === 'retired'
                    ? null
                    : button(t('devices.bind'), () => void bindDialog(d).then((ok) => ok && reload()), { class: 'btn btn-small btn-primary', 'data-action': 'bind', 'aria-label': `${t('devices.bind')} ${d.id}` }),
            }]
          : []),
      ],
      devices,
      { caption: t('devices.iomt'), rowProps: (d) => ({ 'data-device': d.id }), empty: t('devices.none') },
    ),
  );
  return section;
}

/** The demo simulators (only when the engine runs in demo mode: otherwise /api/demo is absent, 404). */
async function simulatorSection(ctx: PageContext): Promise<HTMLElement | null> {
  const section = h('section', { class: 'panel', 'aria-labelledby': 'sim-title', 'data-device-kind': 'simulators' });
  const manage = can('devices:manage');
  let refreshTimer: ReturnType<typeof setTimeout> | undefined;
  ctx.onCleanup(() => clearTimeout(refreshTimer));

  const act = async (button: HTMLButtonElement, s: Simulator, action: 'start' | 'stop') =>
    withBusy(button, async () => {
      await api.post(`/api/demo/simulators/${encodeURIComponent(s.id)}/${action}`);
      toast(t(action === 'start' ? 'devices.sim.startedDone' : 'devices.sim.stoppedDone', { name: nameOf(s) }));
      await draw(`[data-simulator="${s.id}"] [data-action]`);
    });

  // Profile names and AE titles are proper names; the fleet and the reasons are said in the user's language.
  const nameOf = (s: Simulator) => (s.kind === 'monitors' ? t('devices.sim.monitorsName', { n: s.devices }) : s.name);
  const detailOf = (s: Simulator) =>
    s.unavailableReason === 'no-channel' ? t('devices.sim.noChannel', { profile: s.id.replace(/^analyzer-/, '') }) : s.unavailableReason === 'no-broker' ? t('devices.sim.noBroker') : s.detail;
  const status = (s: Simulator) =>
    s.running ? badge('started', t('devices.sim.running')) : s.available ? badge('stopped', t('devices.sim.stopped')) : badge('idle', t('devices.sim.unavailable'));

  const draw = async (focusSelector?: string): Promise<boolean> => {
    let simulators: Simulator[];
    try {
      simulators = (await api.get<{ simulators: Simulator[] }>('/api/demo/simulators')).simulators;
    } catch (error) {
      if (error instanceof ApiError && error.status === 404) return false;
      replace(section, h('h2', { id: 'sim-title' }, t('devices.simulators')), errorNotice(error));
      return true;
    }
    if (!ctx.isCurrent()) return true;
    replace(
      section,
      h('h2', { id: 'sim-title' }, t('devices.simulators')),
      h('p', { class: 'muted small' }, t('devices.simulatorsIntro')),
      manage ? null : notice('info', t('devices.sim.needsManage')),
      table(
        [
          { header: t('devices.col.simulator'), cell: (s) => h('span', null, h('strong', null, nameOf(s)), h('span', { class: 'muted small' }, ` (${s.id})`)) },
          { header: t('devices.col.kind'), cell: (s) => t(`devices.sim.kind.${s.kind}`) },
          { header: t('devices.col.target'), cell: (s) => (s.target ? h('code', null, s.target) : '—') },
          {
            header: t('devices.col.status'),
            cell: (s) =>
              h(
                'span',
                null,
                status(s),
                detailOf(s) ? h('span', { class: 'muted small' }, ` ${detailOf(s)}`) : null,
                s.lastError ? h('span', { class: 'text-bad small' }, ` · ${t('devices.sim.errors', { n: s.errors, message: s.lastError.message })}`) : null,
              ),
          },
          { header: t('devices.col.sent'), cell: (s) => (s.running ? String(s.sent) : '—'), class: 'num' },
          ...(manage
            ? [{
                header: t('channels.col.actions'),
                cell: (s: Simulator) =>
                  s.running
                    ? button(t('devices.stop'), (e) => void act(e.currentTarget as HTMLButtonElement, s, 'stop'), { class: 'btn btn-small btn-secondary', 'data-action': 'stop-simulator', 'aria-label': t('devices.sim.stopLabel', { name: nameOf(s) }) })
                    : s.available
                      ? button(t('devices.start'), (e) => void act(e.currentTarget as HTMLButtonElement, s, 'start'), { class: 'btn btn-small btn-primary', 'data-action': 'start-simulator', 'aria-label': t('devices.sim.startLabel', { name: nameOf(s) }) })
                      : null,
              }]
            : []),
        ],
        simulators,
        { caption: t('devices.simulators'), rowProps: (s) => ({ 'data-simulator': s.id, 'data-running': String(s.running) }), empty: t('devices.none') },
      ),
    );
    // Keyboard users keep their place: focus returns to the row's new button after start/stop.
    if (focusSelector) (section.querySelector(focusSelector) as HTMLElement | null)?.focus();
    // While a simulator runs, its counts move: read them again every few seconds.
    clearTimeout(refreshTimer);
    if (simulators.some((s) => s.running)) refreshTimer = setTimeout(() => void draw().catch(() => undefined), 3000);
    return true;
  };
  return (await draw()) ? section : null;
}

async function render(ctx: PageContext): Promise<void> {
  const body = h('div', null, loading());
  ctx.root.append(pageHeading(t('devices.title')), body);
  let list: ChannelList;
  try {
    list = await api.get<ChannelList>('/api/channels');
  } catch (error) {
    replace(body, errorNotice(error));
    return;
  }
  if (!ctx.isCurrent()) return;
  const [iomt, simulators] = await Promise.all([iomtSection(ctx), simulatorSection(ctx)]).catch((error) => [errorNotice(errorText(error)), null] as const);
  if (!ctx.isCurrent()) return;
  replace(body, facts([[t('devices.summary'), t('devices.summaryText', { n: list.channels.reduce((n, c) => n + c.connections.length, 0) })]]), peersSection(list), iomt, simulators);
  // Link states change: re-read when a connection reports.
  let timer: ReturnType<typeof setTimeout> | undefined;
  ctx.onCleanup(ctx.live.on('connection', () => {
    clearTimeout(timer);
    timer = setTimeout(() => ctx.navigate('/devices', { replace: true }), 1000);
  }));
  ctx.onCleanup(() => clearTimeout(timer));
}

export const devicesPage: PageModule = {
  id: 'devices',
  path: '/devices',
  titleKey: 'devices.title',
  nav: { section: 'devices', order: 10, icon: '⚕' },
  permission: 'channels:read',
  render,
};

// Users and roles, API tokens, the audit log, and the user's own account (password, language).
import { badge, button, confirmDialog, errorNotice, errorText, facts, field, formDialog, input, loading, notice, pageHeading, select, table, toast, withBusy } from '../components/ui';
import { api, can, currentSession, query, setSession } from '../core/api';
import { h, replace } from '../core/dom';
import { formatDateTime } from '../core/format';
import { language, languages, setLanguage, t, type Lang } from '../core/i18n';
import type { PageContext, PageModule } from '../core/page';
import { roles, type ApiToken, type AuditEntry, type Role, type User } from '../core/types';

const roleOptions = () => roles.map((r) => ({ value: r, label: t(`role.${r}`) }));

// ------------------------------------------------------------------ users and roles

async function renderUsers(ctx: PageContext): Promise<void> {
  const body = h('div', null, loading());
  const add = button(t('users.add'), () => void addUserDialog().then((ok) => ok && ctx.navigate('/users', { replace: true })), { class: 'btn btn-primary', 'data-action': 'add-user' });
  ctx.root.append(pageHeading(t('users.title'), add), body);
  let users: User[];
  try {
    users = (await api.get<{ users: User[] }>('/api/users')).users;
  } catch (error) {
    replace(body, errorNotice(error));
    return;
  }
  if (!ctx.isCurrent()) return;
  const me = currentSession()?.user.username;
  const change = async (username: string, patch: Record<string, unknown>, done: string) => {
    await api.put(`/api/users/${encodeURIComponent(username)}`, patch);
    toast(done);
    ctx.navigate('/users', { replace: true });
  };
  replace(
    body,
    table(
      [
        { header: t('users.col.username'), cell: (u) => h('strong', null, u.username) },
        { header: t('users.col.displayName'), cell: (u) => u.displayName ?? '—' },
        {
          header: t('users.col.role'),
          cell: (u) => {
            const roleSelect = select(roleOptions(), { value: u.role, 'aria-label': t('users.roleOf', { user: u.username }), disabled: u.username === me });
            roleSelect.addEventListener('change', () => void change(u.username, { role: roleSelect.value as Role }, t('users.roleChanged', { user: u.username })).catch((e) => toast(errorText(e), 'error')));
            return roleSelect;
          },
        },
        { header: t('users.col.state'), cell: (u) => (u.disabled ? badge('stopped', t('users.disabled')) : badge('ok', t('users.active'))) },
        { header: t('users.col.created'), cell: (u) => formatDateTime(u.createdAt) },
        {
          header: t('channels.col.actions'),
          cell: (u) =>
            h(
              'div',
              { class: 'button-row' },
              button(t('users.resetPassword'), () => void resetPasswordDialog(u.username), { class: 'btn btn-small btn-secondary', 'aria-label': `${t('users.resetPassword')} ${u.username}` }),
              u.username === me
                ? null
                : button(u.disabled ? t('users.enable') : t('users.disable'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, () => change(u.username, { disabled: !u.disabled }, t(u.disabled ? 'users.enabled' : 'users.disabledDone', { user: u.username }))), { class: 'btn btn-small btn-secondary', 'aria-label': `${u.disabled ? t('users.enable') : t('users.disable')} ${u.username}` }),
            ),
        },
      ],
      users,
      { caption: t('users.title'), rowProps: (u) => ({ 'data-user': u.username }) },
    ),
    h(
      'section',
      { class: 'panel', 'aria-labelledby': 'roles-title' },
      h('h2', { id: 'roles-title' }, t('users.roles')),
      h('dl', { class: 'facts' }, ...roles.flatMap((r) => [h('dt', null, t(`role.${r}`)), h('dd', null, t(`role.${r}.may`))])),
    ),
  );
}

function addUserDialog(): Promise<boolean> {
  const username = input({ name: 'username', required: true, pattern: '[A-Za-z0-9._\\-]{2,64}', autocomplete: 'off' });
  const displayName = input({ name: 'displayName', autocomplete: 'off' });
  const role = select(roleOptions(), { name: 'role', value: 'viewer' });
  const password = input({ name: 'password', type: 'password', required: true, minlength: 12, autocomplete: 'new-password' });
  return formDialog({
    title: t('users.add'),
    fields: [field(t('users.col.username'), username, t('users.usernameHint')), field(t('users.col.displayName'), displayName), field(t('users.col.role'), role), field(t('account.newPassword'), password, t('account.passwordHint'))],
    submitLabel: t('users.add'),
    submit: async () => {
      await api.post('/api/users', { username: username.value.trim(), displayName: displayName.value.trim() || undefined, role: role.value, password: password.value });
      toast(t('users.added', { user: username.value.trim() }));
      return undefined;
    },
  });
}

function resetPasswordDialog(username: string): Promise<boolean> {
  const password = input({ name: 'password', type: 'password', required: true, minlength: 12, autocomplete: 'new-password' });
  return formDialog({
    title: t('users.resetPasswordFor', { user: username }),
    fields: [field(t('account.newPassword'), password, t('account.passwordHint'))],
    submitLabel: t('users.resetPassword'),
    submit: async () => {
      await api.put(`/api/users/${encodeURIComponent(username)}`, { password: password.value });
      toast(t('users.passwordReset', { user: username }));
      if (username === currentSession()?.user.username) setSession(undefined);
      return undefined;
    },
  });
}

export const usersPage: PageModule = {
  id: 'users',
  path: '/users',
  titleKey: 'users.title',
  nav: { section: 'admin', order: 10, icon: '☺' },
  permission: 'users:manage',
  render: renderUsers,
};

// ------------------------------------------------------------------ API tokens

async function renderTokens(ctx: PageContext): Promise<void> {
  const body = h('div', null, loading());
  const create = button(t('tokens.create'), () => void createTokenDialog().then((ok) => ok && ctx.navigate('/tokens', { replace: true })), { class: 'btn btn-primary', 'data-action': 'create-token' });
  ctx.root.append(pageHeading(t('tokens.title'), create), h('p', { class: 'muted' }, t('tokens.intro')), body);
  let tokens: ApiToken[];
  try {
    tokens = (await api.get<{ tokens: ApiToken[] }>('/api/tokens')).tokens;
  } catch (error) {
    replace(body, errorNotice(error));
    return;
  }
  if (!ctx.isCurrent()) return;
  replace(
    body,
    table(
      [
        { header: t('tokens.col.name'), cell: (tk) => tk.name ?? '—' },
        ...(can('users:manage') ? [{ header: t('users.col.username'), cell: (tk: ApiToken) => tk.username }] : []),
        { header: t('users.col.created'), cell: (tk) => formatDateTime(tk.createdAt) },
        { header: t('tokens.col.expires'), cell: (tk) => (tk.expiresAt ? formatDateTime(tk.expiresAt) : t('tokens.never')) },
        { header: t('tokens.col.lastUsed'), cell: (tk) => (tk.lastUsedAt ? formatDateTime(tk.lastUsedAt) : '—') },
        {
          header: t('channels.col.actions'),
          cell: (tk) =>
            button(t('tokens.revoke'), (e) => void withBusy(e.currentTarget as HTMLButtonElement, async () => {
              if (!(await confirmDialog({ title: t('tokens.confirmRevoke', { name: tk.name ?? String(tk.id) }), confirmLabel: t('tokens.revoke'), danger: true }))) return;
              await api.delete(`/api/tokens/${tk.id}`);
              toast(t('tokens.revoked'));
              ctx.navigate('/tokens', { replace: true });
            }), { class: 'btn btn-small btn-danger', 'aria-label': `${t('tokens.revoke')} ${tk.name ?? tk.id}` }),
        },
      ],
      tokens,
      { caption: t('tokens.title'), empty: t('tokens.none') },
    ),
  );
}

async function createTokenDialog(): Promise<boolean> {
  const name = input({ name: 'name', required: true, maxlength: 100, autocomplete: 'off' });
  const days = input({ name: 'expiresInDays', type: 'number', min: 1, max: 3650, inputmode: 'numeric' });
  let issued: { id: number; token: string; expiresAt: string | null } | undefined;
  const created = await formDialog({
    title: t('tokens.create'),
    fields: [field(t('tokens.col.name'), name, t('tokens.nameHint')), field(t('tokens.days'), days, t('tokens.daysHint'))],
    submitLabel: t('tokens.create'),
    submit: async () => {
      issued = await api.post<{ id: number; token: string; expiresAt: string | null }>('/api/tokens', { name: name.value.trim(), expiresInDays: days.value ? Number(days.value) : undefined });
      return undefined;
    },
  });
  if (!created || !issued) return false;
  // The secret is shown once, in its own dialog: the engine keeps only its hash.
  const token = issued.token;
  const secret = input({ value: token, readonly: true, class: 'mono', 'data-token': '' });
  await formDialog({
    title: t('tokens.created'),
    fields: [notice('warning', t('tokens.showOnce')), field(t('tokens.secret'), secret), button(t('tokens.copy'), () => void navigator.clipboard?.writeText(token).then(() => toast(t('tokens.copied'))), { class: 'btn btn-secondary' })],
    submitLabel: t('common.close'),
    submit: async () => undefined,
  });
  return true;
}

export const tokensPage: PageModule = {
  id: 'tokens',
  path: '/tokens',
  titleKey: 'tokens.title',
  nav: { section: 'account', order: 20, icon: '✱' },
  render: renderTokens,
};

// ------------------------------------------------------------------ audit log

async function renderAudit(ctx: PageContext): Promise<void> {
  const params = { username: ctx.query.get('username') ?? '', patientId: ctx.query.get('patientId') ?? '', action: ctx.query.get('action') ?? '' };
  const before = ctx.query.get('before') ?? '';
  const username = input({ name: 'username', value: params.username, autocomplete: 'off' });
  const patientId = input({ name: 'patientId', value: params.patientId, autocomplete: 'off' });
  const action = input({ name: 'action', value: params.action, autocomplete: 'off', list: 'audit-actions' });
  const actions = ['login', 'login-failed', 'read-message', 'read-message-metadata', 'search-messages', 'export-message', 'reprocess', 'dlq-replay', 'dlq-discard', 'channel-deploy', 'channel-undeploy', 'channel-pause', 'channel-resume', 'user-add', 'user-change', 'password-changed', 'token-issue', 'token-revoke'];
  const form = h(
    'form',
    {
      class: 'search-form',
      role: 'search',
      onsubmit: (e: Event) => {
        e.preventDefault();
        ctx.navigate(`/audit${query({ username: username.value.trim(), patientId: patientId.value.trim(), action: action.value.trim() })}`);
      },
    },
    h('div', { class: 'form-grid' }, field(t('audit.col.user'), username), field(t('messages.field.patientId'), patientId, t('audit.patientHint')), field(t('audit.col.action'), action)),
    h('datalist', { id: 'audit-actions' }, ...actions.map((a) => h('option', { value: a }))),
    h('div', { class: 'button-row' }, h('button', { type: 'submit', class: 'btn btn-primary' }, t('common.filter'))),
  );
  const body = h('div', { 'aria-live': 'polite' }, loading());
  ctx.root.append(pageHeading(t('audit.title')), h('p', { class: 'muted' }, t('audit.intro')), form, body);
  const limit = 100;
  let entries: AuditEntry[];
  try {
    entries = (await api.get<{ entries: AuditEntry[] }>(`/api/audit${query({ ...params, before, limit })}`)).entries;
  } catch (error) {
    replace(body, errorNotice(error));
    return;
  }
  if (!ctx.isCurrent()) return;
  replace(
    body,
    table(
      [
        { header: t('message.at'), cell: (e) => formatDateTime(e.at) },
        { header: t('audit.col.user'), cell: (e) => e.username },
        { header: t('audit.col.action'), cell: (e) => h('code', null, e.action) },
        { header: t('audit.col.target'), cell: (e) => (e.target?.startsWith('message:') ? h('a', { href: `/messages/${e.target.slice(8)}` }, e.target) : e.target ?? '—') },
        { header: t('messages.field.patientId'), cell: (e) => e.patientId ?? '—' },
        { header: t('audit.col.detail'), cell: (e) => e.detail ?? '—' },
        { header: t('audit.col.remote'), cell: (e) => e.remote ?? '—' },
      ],
      entries,
      { caption: t('audit.title'), empty: t('audit.none') },
    ),
    h(
      'nav',
      { class: 'pager', 'aria-label': t('messages.paging') },
      before ? h('a', { href: `/audit${query(params)}`, class: 'btn btn-secondary' }, t('messages.newest')) : null,
      entries.length === limit ? h('a', { href: `/audit${query({ ...params, before: entries[entries.length - 1].id })}`, class: 'btn btn-secondary' }, t('messages.older')) : null,
    ),
  );
}

export const auditPage: PageModule = {
  id: 'audit',
  path: '/audit',
  titleKey: 'audit.title',
  nav: { section: 'admin', order: 20, icon: '✎' },
  permission: 'audit:read',
  render: renderAudit,
};

// ------------------------------------------------------------------ my account

function renderAccount(ctx: PageContext): void {
  const session = currentSession()!;
  const current = input({ type: 'password', name: 'currentPassword', required: true, autocomplete: 'current-password' });
  const next = input({ type: 'password', name: 'newPassword', required: true, minlength: 12, autocomplete: 'new-password' });
  const repeat = input({ type: 'password', name: 'repeatPassword', required: true, minlength: 12, autocomplete: 'new-password' });
  const status = h('div');
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, t('account.change'));
  const form = h(
    'form',
    {
      class: 'narrow-form',
      'aria-labelledby': 'pw-title',
      onsubmit: async (e: Event) => {
        e.preventDefault();
        status.replaceChildren();
        if (next.value !== repeat.value) {
          status.append(notice('error', t('account.mismatch')));
          repeat.focus();
          return;
        }
        submit.disabled = true;
        try {
          await api.put('/api/me/password', { currentPassword: current.value, newPassword: next.value });
          // The engine ends every session of the user on a password change: log in again.
          toast(t('account.changed'));
          setSession(undefined);
        } catch (error) {
          status.append(notice('error', errorText(error)));
        } finally {
          submit.disabled = false;
        }
      },
    },
    h('h2', { id: 'pw-title' }, t('account.password')),
    field(t('account.currentPassword'), current),
    field(t('account.newPassword'), next, t('account.passwordHint')),
    field(t('account.repeatPassword'), repeat),
    status,
    submit,
  );
  const langSelect = select(languages.map((l) => ({ value: l, label: t(`language.${l}`) })), { value: language() });
  langSelect.addEventListener('change', () => setLanguage(langSelect.value as Lang));
  ctx.root.append(
    pageHeading(t('account.title')),
    facts([
      [t('users.col.username'), session.user.username],
      [t('users.col.displayName'), session.user.displayName ?? '—'],
      [t('users.col.role'), t(`role.${session.user.role}`)],
      [t('account.permissions'), session.user.permissions.join(', ')],
      [t('account.sessionEnds'), session.expiresAt ? formatDateTime(session.expiresAt) : '—'],
    ]),
    h('section', { class: 'panel' }, form),
    h('section', { class: 'panel', 'aria-labelledby': 'lang-title' }, h('h2', { id: 'lang-title' }, t('language.label')), field(t('language.label'), langSelect)),
  );
}

export const accountPage: PageModule = {
  id: 'account',
  path: '/account',
  titleKey: 'account.title',
  nav: { section: 'account', order: 10, icon: '⚙' },
  render: renderAccount,
};

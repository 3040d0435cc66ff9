import { errorText, field, input, notice } from '../components/ui';
import { api, setSession } from '../core/api';
import { h } from '../core/dom';
import { t } from '../core/i18n';
import type { PageModule } from '../core/page';

export const loginPage: PageModule = {
  id: 'login',
  path: '/login',
  titleKey: 'auth.login',
  public: true,
  render(ctx) {
    const username = input({ name: 'username', autocomplete: 'username', required: true, autocapitalize: 'none', spellcheck: 'false', autofocus: true });
    const password = input({ name: 'password', type: 'password', autocomplete: 'current-password', required: true });
    const errorSlot = h('div', { class: 'form-error' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-block' }, t('auth.submit'));
    const form = h(
      'form',
      {
        class: 'login-form',
        'aria-labelledby': 'login-title',
        onsubmit: async (e: Event) => {
          e.preventDefault();
          errorSlot.replaceChildren();
          submit.disabled = true;
          try {
            const session = await api.login(username.value.trim(), password.value);
            setSession(session);
            const next = ctx.query.get('next');
            ctx.navigate(next && next.startsWith('/') && !next.startsWith('//') ? next : '/', { replace: true });
          } catch (error) {
            errorSlot.append(notice('error', (error as { status?: number }).status === 401 ? t('auth.wrong') : errorText(error)));
            password.value = '';
            password.focus();
          } finally {
            submit.disabled = false;
          }
        },
      },
      h('h1', { id: 'login-title' }, t('auth.title')),
      h('p', { class: 'muted' }, t('auth.intro')),
      field(t('auth.username'), username),
      field(t('auth.password'), password),
      errorSlot,
      submit,
      h('p', { class: 'hint' }, t('auth.firstStart')),
    );
    ctx.root.append(h('div', { class: 'login-wrap' }, form));
    username.focus();
  },
};

// The console's entry point: the frame (header, navigation, language switch, user menu), the router
// over the page registry, and the session's live event stream.
import { button, notice, pageHeading } from './components/ui';
import { api, canAny, currentSession, onSessionChange, setSession } from './core/api';
import { h, replace } from './core/dom';
import { addStrings, language, languages, onLanguageChange, setLanguage, t, type Lang } from './core/i18n';
import { live } from './core/live';
import type { NavSection, PageContext, PageModule } from './core/page';
import { Router } from './core/router';
import { pages } from './pages';

for (const page of pages) if (page.strings) addStrings(`page ${page.id}`, page.strings);

const router = new Router(pages);
const appRoot = document.getElementById('app')!;
let activeCleanups: Array<() => void> = [];
let renderCount = 0;
let navOpen = false;

const sectionOrder: NavSection[] = ['operate', 'devices', 'clinical', 'admin', 'account'];

function languageSwitch(): HTMLElement {
  const id = 'language-select';
  const select = h(
    'select',
    { id, onchange: (e: Event) => setLanguage((e.target as HTMLSelectElement).value as Lang) },
    ...languages.map((l) => h('option', { value: l, selected: l === language(), lang: l }, t(`language.${l}`))),
  );
  return h('div', { class: 'lang-switch' }, h('label', { for: id }, t('language.label')), select);
}

function navigation(currentPage: PageModule | undefined): HTMLElement {
  const visible = pages.filter((p) => p.nav && canAny(p.permission));
  const sections = sectionOrder
    .map((section) => ({ section, items: visible.filter((p) => p.nav!.section === section).sort((a, b) => a.nav!.order - b.nav!.order) }))
    .filter((s) => s.items.length > 0);
  return h(
    'nav',
    { id: 'nav', class: navOpen ? 'nav open' : 'nav', 'aria-label': t('nav.label') },
    ...sections.map(({ section, items }) =>
      h(
        'div',
        { class: 'nav-section' },
        h('h2', { class: 'nav-heading' }, t(`nav.section.${section}`)),
        h(
          'ul',
          null,
          ...items.map((p) =>
            h('li', null, h('a', { href: p.path, 'aria-current': currentPage?.id === p.id ? 'page' : false, 'data-nav': p.id, onclick: () => setNavOpen(false) }, p.nav!.icon ? h('span', { class: 'nav-icon', 'aria-hidden': 'true' }, p.nav!.icon) : null, t(p.titleKey))),
          ),
        ),
      ),
    ),
  );
}

function setNavOpen(open: boolean): void {
  navOpen = open;
  document.getElementById('nav')?.classList.toggle('open', open);
  document.querySelector('.nav-toggle')?.setAttribute('aria-expanded', String(open));
}

function liveIndicator(): HTMLElement {
  const el = h('span', { class: 'live-indicator', 'data-live': String(live.connected) }, live.connected ? t('live.on') : t('live.off'));
  const off = live.on('status', ({ connected }: { connected: boolean }) => {
    el.dataset.live = String(connected);
    el.textContent = connected ? t('live.on') : t('live.off');
  });
  activeCleanups.push(off);
  return el;
}

function shell(page: PageModule | undefined, main: HTMLElement): HTMLElement {
  const session = currentSession();
  const header = h(
    'header',
    { class: 'topbar' },
    session
      ? h('button', { type: 'button', class: 'nav-toggle', 'aria-expanded': String(navOpen), 'aria-controls': 'nav', onclick: () => setNavOpen(!navOpen) }, h('span', { 'aria-hidden': 'true' }, '☰ '), t('nav.menu'))
      : null,
    h('a', { href: '/', class: 'brand' }, h('img', { src: '/favicon.svg', alt: '', width: 24, height: 24 }), 'hisbridge'),
    session ? liveIndicator() : null,
    h(
      'div',
      { class: 'topbar-right' },
      languageSwitch(),
      session ? h('a', { href: '/account', class: 'user-link', 'data-user': session.user.username }, `${session.user.displayName ?? session.user.username} · ${t(`role.${session.user.role}`)}`) : null,
      session ? button(t('auth.logout'), () => void logout(), { class: 'btn btn-secondary btn-small', 'data-action': 'logout' }) : null,
    ),
  );
  return h(
    'div',
    { class: session ? 'layout' : 'layout layout-public' },
    h('a', { href: '#main', class: 'skip-link', onclick: (e: Event) => (e.preventDefault(), main.focus()) }, t('nav.skip')),
    header,
    session ? navigation(page) : null,
    main,
  );
}

async function logout(): Promise<void> {
  try {
    await api.post('/api/auth/logout');
  } catch {
    /* already expired: nothing to revoke */
  }
  setSession(undefined);
}

function firstAllowedPath(): string | undefined {
  return pages.filter((p) => p.nav && canAny(p.permission)).sort((a, b) => sectionOrder.indexOf(a.nav!.section) - sectionOrder.indexOf(b.nav!.section) || a.nav!.order - b.nav!.order)[0]?.path;
}

function render(): void {
  for (const cleanup of activeCleanups.splice(0)) cleanup();
  const token = ++renderCount;
  const session = currentSession();
  const path = location.pathname;
  const query = new URLSearchParams(location.search);
  let route = router.match(path);

  if (!session && !route?.page.public) {
    const next = path === '/' || path === '/login' ? '' : `?next=${encodeURIComponent(path + location.search)}`;
    history.replaceState(null, '', `/login${next}`);
    route = router.match('/login');
  } else if (session && route?.page.id === 'login') {
    const next = query.get('next');
    history.replaceState(null, '', next && next.startsWith('/') && !next.startsWith('//') ? next : '/');
    return render();
  }
  const page = route?.page;
  const main = h('main', { id: 'main', tabindex: '-1', 'data-page': page?.id ?? 'not-found' });
  replace(appRoot, shell(page, main));

  if (!route || !page) {
    main.append(pageHeading(t('page.notFound')), notice('warning', t('page.notFoundText', { path })), h('p', null, h('a', { href: '/' }, t('page.backHome'))));
    document.title = `${t('page.notFound')} · hisbridge`;
    return;
  }
  if (session && !canAny(page.permission)) {
    const fallback = firstAllowedPath();
    if (page.path === '/' && fallback && fallback !== '/') {
      history.replaceState(null, '', fallback);
      return render();
    }
    main.append(pageHeading(t(page.titleKey)), notice('warning', t('error.noPermission', { role: t(`role.${session.user.role}`) })));
    return;
  }
  document.title = `${t(page.titleKey)} · hisbridge`;
  const context: PageContext = {
    root: main,
    params: route.params,
    query,
    live,
    navigate: (to, options) => router.navigate(to, options),
    onCleanup: (cleanup) => activeCleanups.push(cleanup),
    isCurrent: () => token === renderCount,
    setTitle: (text) => (document.title = `${text} · hisbridge`),
  };
  const focusHeading = () => {
    if (token !== renderCount || page.public) return;
    (main.querySelector('h1') as HTMLElement | null)?.focus({ preventScroll: true });
  };
  try {
    const result = page.render(context);
    if (result instanceof Promise) {
      result.then(focusHeading, (error) => {
        if (token === renderCount) main.append(notice('error', (error as Error).message));
      });
    } else focusHeading();
  } catch (error) {
    main.append(notice('error', (error as Error).message));
  }
}

onSessionChange((session) => {
  if (session) live.start();
  else {
    live.reset();
    router.navigate('/login', { replace: true });
  }
});
onLanguageChange(() => render());
document.addEventListener('keydown', (e) => {
  if (e.key === 'Escape' && navOpen) setNavOpen(false);
});

router.start(render);
render();
// The live stream opens after the first page has sent its own requests, so they go first.
if (currentSession()) setTimeout(() => live.start(), 0);

// History-API router over the page registry. The engine serves index.html for any path that is not
// an API route, so /messages/42 can be bookmarked and reloaded.
import type { PageModule } from './page';

export interface Route {
  page: PageModule;
  params: Record<string, string>;
}

interface CompiledRoute {
  page: PageModule;
  pattern: RegExp;
  names: string[];
  /** Static paths win over parametrised ones (`/messages/export` before `/messages/:id`). */
  specificity: number;
}

export class Router {
  private readonly routes: CompiledRoute[];
  private listener: (() => void) | undefined;

  constructor(pages: PageModule[]) {
    this.routes = pages
      .map((page) => {
        const names: string[] = [];
        const source = page.path
          .split('/')
          .map((part) => {
            if (part.startsWith(':')) {
              names.push(part.slice(1));
              return '([^/]+)';
            }
            return part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
          })
          .join('/');
        return { page, pattern: new RegExp(`^${source}/?$`), names, specificity: page.path.split('/').filter((p) => p && !p.startsWith(':')).length * 10 - names.length };
      })
      .sort((a, b) => b.specificity - a.specificity);
  }

  match(pathname: string): Route | undefined {
    for (const route of this.routes) {
      const m = route.pattern.exec(pathname);
      if (!m) continue;
      const params: Record<string, string> = {};
      route.names.forEach((name, i) => (params[name] = decodeURIComponent(m[i + 1])));
      return { page: route.page, params };
    }
    return undefined;
  }

  start(onChange: () => void): void {
    this.listener = onChange;
    window.addEventListener('popstate', () => onChange());
    // Same-origin links navigate inside the app; modified clicks (new tab) and downloads do not.
    document.addEventListener('click', (event) => {
      if (event.defaultPrevented || event.button !== 0 || event.metaKey || event.ctrlKey || event.shiftKey || event.altKey) return;
      const anchor = (event.target as Element | null)?.closest?.('a');
      if (!anchor || anchor.target || anchor.hasAttribute('download')) return;
      const href = anchor.getAttribute('href');
      if (!href || !href.startsWith('/') || href.startsWith('//') || href.startsWith('/api/')) return;
      event.preventDefault();
      this.navigate(href);
    });
  }

  navigate(path: string, options: { replace?: boolean } = {}): void {
    const current = location.pathname + location.search;
    if (path !== current) {
      if (options.replace) history.replaceState(null, '', path);
      else history.pushState(null, '', path);
    }
    this.listener?.();
  }
}

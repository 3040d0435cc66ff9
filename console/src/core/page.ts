// What a console page is. Pages are registered in pages/index.ts (one line each); the router finds
// them by path, the navigation lists those with `nav`, and a page the user's role cannot use is
// neither listed nor opened.
import type { LiveHub } from './live';
import type { MessageKey } from './i18n';
import type { Permission } from './types';

export type NavSection = 'operate' | 'devices' | 'clinical' | 'admin' | 'account';

export interface PageContext {
  /** The main content element; the page owns its children. */
  root: HTMLElement;
  /** `:name` parts of the path. */
  params: Record<string, string>;
  query: URLSearchParams;
  live: LiveHub;
  navigate(path: string, options?: { replace?: boolean }): void;
  /** Runs when the user leaves the page (timers, listeners, EventSource subscriptions). */
  onCleanup(cleanup: () => void): void;
  /** False once the user has left: late answers must not draw over the next page. */
  isCurrent(): boolean;
  /** Sets the document title (the page heading is the page's own). */
  setTitle(text: string): void;
}

export interface PageModule {
  /** Unique id (also the `data-page` attribute of the main element, handy in tests). */
  id: string;
  /** `/channels/:id`; `:name` parts become params. */
  path: string;
  /** i18n key of the page's name (navigation and document title). */
  titleKey: MessageKey | (string & {});
  /** Listed in the navigation under a section, sorted by `order`. */
  nav?: { section: NavSection; order: number; icon?: string };
  /** The user needs at least one of these permissions. */
  permission?: Permission | Permission[];
  /** Shown without a session (the login page). */
  public?: boolean;
  /** The page's own strings (both languages, same keys), merged into the dictionaries. */
  strings?: { vi: Record<string, string>; en: Record<string, string> };
  render(ctx: PageContext): void | Promise<void>;
}

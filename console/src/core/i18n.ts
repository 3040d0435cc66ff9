// Two dictionaries, Vietnamese (default) and English. Every visible string goes through t(); a page
// module added by another area brings its own pair of dictionaries (PageModule.strings), merged here.
import { en } from '../i18n/en';
import { vi, type MessageKey } from '../i18n/vi';

export type { MessageKey };
export type Lang = 'vi' | 'en';
export const languages: Lang[] = ['vi', 'en'];

const STORAGE_KEY = 'hisbridge.lang';
const dictionaries: Record<Lang, Record<string, string>> = { vi: { ...vi }, en: { ...en } };
let current: Lang = readStoredLanguage();
const listeners = new Set<(lang: Lang) => void>();

function readStoredLanguage(): Lang {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return stored === 'en' || stored === 'vi' ? stored : 'vi';
  } catch {
    return 'vi';
  }
}

export function language(): Lang {
  return current;
}

/** BCP 47 locale for dates and numbers. */
export function locale(): string {
  return current === 'vi' ? 'vi-VN' : 'en-GB';
}

export function setLanguage(lang: Lang): void {
  if (lang === current) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    /* private mode: the choice lasts for this page only */
  }
  document.documentElement.lang = lang;
  for (const listener of listeners) listener(lang);
}

export function onLanguageChange(listener: (lang: Lang) => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** Translates a key; `{name}` placeholders are replaced from params. Unknown keys show the key itself. */
export function t(key: MessageKey | (string & {}), params?: Record<string, string | number>): string {
  const text = dictionaries[current][key] ?? dictionaries.vi[key] ?? key;
  if (!params) return text;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

/** True when a key exists (for optional labels such as a connector type's friendly name). */
export function hasText(key: string): boolean {
  return key in dictionaries[current] || key in dictionaries.vi;
}

/**
 * Adds a page module's strings. Both languages must define the same keys, so a missing translation
 * is found when the page is registered rather than by a user.
 */
export function addStrings(owner: string, strings: { vi: Record<string, string>; en: Record<string, string> }): void {
  const missingEn = Object.keys(strings.vi).filter((k) => !(k in strings.en));
  const missingVi = Object.keys(strings.en).filter((k) => !(k in strings.vi));
  if (missingEn.length || missingVi.length) {
    throw new Error(`strings of ${owner}: ${missingEn.length ? `no English for ${missingEn.join(', ')}` : ''}${missingVi.length ? ` no Vietnamese for ${missingVi.join(', ')}` : ''}`);
  }
  Object.assign(dictionaries.vi, strings.vi);
  Object.assign(dictionaries.en, strings.en);
}

document.documentElement.lang = current;

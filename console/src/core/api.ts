// The only way pages talk to the engine: fetch with the session's bearer token, JSON in and out, and
// one error type that carries the HTTP status and the field the API named.
import type { Me, Permission } from './types';

export class ApiError extends Error {
  constructor(readonly status: number, message: string, readonly field?: string) {
    super(message);
    this.name = 'ApiError';
  }
}

export interface Session {
  token: string;
  expiresAt: string | null;
  user: Me;
}

// sessionStorage: the session ends with the tab, which suits a shared ward tablet.
const SESSION_KEY = 'hisbridge.session';
let session: Session | undefined = readSession();
const sessionListeners = new Set<(s: Session | undefined) => void>();

function readSession(): Session | undefined {
  try {
    const raw = sessionStorage.getItem(SESSION_KEY);
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as Session;
    if (parsed.expiresAt && Date.parse(parsed.expiresAt) < Date.now()) return undefined;
    return parsed;
  } catch {
    return undefined;
  }
}

export function currentSession(): Session | undefined {
  return session;
}

export function setSession(next: Session | undefined): void {
  session = next;
  try {
    if (next) sessionStorage.setItem(SESSION_KEY, JSON.stringify(next));
    else sessionStorage.removeItem(SESSION_KEY);
  } catch {
    /* storage unavailable: the session lives in memory only */
  }
  for (const listener of sessionListeners) listener(next);
}

export function onSessionChange(listener: (s: Session | undefined) => void): () => void {
  sessionListeners.add(listener);
  return () => sessionListeners.delete(listener);
}

export function can(permission: Permission): boolean {
  return !!session?.user.permissions.includes(permission);
}

export function canAny(permissions: Permission | Permission[] | undefined): boolean {
  if (!permissions) return true;
  return (Array.isArray(permissions) ? permissions : [permissions]).some((p) => can(p));
}

async function request(method: string, url: string, body?: unknown, init: { auth?: boolean } = {}): Promise<Response> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (body !== undefined) headers['content-type'] = 'application/json';
  if (init.auth !== false && session) headers.authorization = `Bearer ${session.token}`;
  let response: Response;
  try {
    response = await fetch(url, { method, headers, body: body !== undefined ? JSON.stringify(body) : undefined });
  } catch (error) {
    throw new ApiError(0, `network: ${(error as Error).message}`);
  }
  if (response.status === 401 && init.auth !== false && session) {
    // The session expired or was revoked (e.g. password changed elsewhere): back to the login page.
    setSession(undefined);
  }
  if (!response.ok) {
    let message = `${response.status} ${response.statusText}`;
    let field: string | undefined;
    try {
      const parsed = await response.json();
      if (parsed && typeof parsed.error === 'string') message = parsed.error;
      if (parsed && typeof parsed.field === 'string') field = parsed.field;
    } catch {
      /* not JSON */
    }
    throw new ApiError(response.status, message, field);
  }
  return response;
}

export const api = {
  async get<T>(url: string): Promise<T> {
    return (await request('GET', url)).json() as Promise<T>;
  },
  async post<T>(url: string, body?: unknown): Promise<T> {
    return (await request('POST', url, body ?? {})).json() as Promise<T>;
  },
  async put<T>(url: string, body: unknown): Promise<T> {
    return (await request('PUT', url, body)).json() as Promise<T>;
  },
  async delete<T>(url: string): Promise<T> {
    return (await request('DELETE', url)).json() as Promise<T>;
  },
  async blob(url: string): Promise<{ blob: Blob; filename: string | null }> {
    const response = await request('GET', url);
    const disposition = response.headers.get('content-disposition') ?? '';
    const filename = /filename="([^"]+)"/.exec(disposition)?.[1] ?? null;
    return { blob: await response.blob(), filename };
  },
  /** Login does not send (or clear) a session. */
  async login(username: string, password: string): Promise<Session> {
    const response = await request('POST', '/api/auth/login', { username, password }, { auth: false });
    const body = (await response.json()) as { token: string; expiresAt: string | null; user: Me };
    return { token: body.token, expiresAt: body.expiresAt, user: body.user };
  },
};

/** Builds a query string from the defined, non-empty values. */
export function query(params: Record<string, string | number | undefined | null>): string {
  const search = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) if (value !== undefined && value !== null && value !== '') search.set(key, String(value));
  const text = search.toString();
  return text ? `?${text}` : '';
}

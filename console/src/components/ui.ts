// Small shared pieces: labelled form fields, state badges, notices, confirmation dialogs, tables.
import { h, uid, type Child, type Props } from '../core/dom';
import { t } from '../core/i18n';
import { ApiError } from '../core/api';

/** A page heading that receives focus after navigation (screen readers and keyboards start here). */
export function pageHeading(text: string, ...extra: Child[]): HTMLElement {
  return h('div', { class: 'page-head' }, h('h1', { tabindex: '-1', id: 'page-title' }, text), extra.length ? h('div', { class: 'page-actions' }, ...extra) : null);
}

type Control = HTMLInputElement | HTMLSelectElement | HTMLTextAreaElement;

/** A form field: a visible <label> tied to its control by id, and an optional hint. */
export function field(label: string, control: Control, hint?: string): HTMLElement {
  if (!control.id) control.id = uid('field');
  const hintEl = hint ? h('small', { id: `${control.id}-hint`, class: 'hint' }, hint) : null;
  if (hintEl) control.setAttribute('aria-describedby', hintEl.id);
  return h('div', { class: 'field' }, h('label', { for: control.id }, label), control, hintEl);
}

export function input(props: Props = {}): HTMLInputElement {
  return h('input', { type: 'text', ...props });
}

export function select(options: Array<{ value: string; label: string }>, props: Props = {}): HTMLSelectElement {
  const value = props.value as string | undefined;
  const { value: _ignored, ...rest } = props;
  const el = h('select', rest, ...options.map((o) => h('option', { value: o.value, selected: o.value === value }, o.label)));
  if (value !== undefined) el.value = value;
  return el;
}

export function button(label: string, onClick: (event: MouseEvent) => void, props: Props = {}): HTMLButtonElement {
  return h('button', { type: 'button', class: 'btn', ...props, onclick: onClick }, label);
}

const STATE_CLASS: Record<string, string> = {
  started: 'ok',
  connected: 'ok',
  listening: 'ok',
  SENT: 'ok',
  ok: 'ok',
  paused: 'warn',
  QUEUED: 'info',
  RECEIVED: 'info',
  idle: 'muted',
  FILTERED: 'muted',
  stopped: 'muted',
  undeployed: 'muted',
  DISCARDED: 'muted',
  failed: 'bad',
  error: 'bad',
  ERROR: 'bad',
  DEAD: 'bad',
  disconnected: 'warn',
  warning: 'warn',
  critical: 'bad',
};

/** A coloured state label; the text (not only the colour) says the state. */
export function badge(state: string, label?: string): HTMLElement {
  const known = `state.${state}`;
  const text = label ?? (t(known) !== known ? t(known) : state);
  return h('span', { class: `badge badge-${STATE_CLASS[state] ?? 'muted'}`, 'data-state': state }, text);
}

export function notice(kind: 'error' | 'info' | 'success' | 'warning', ...children: Child[]): HTMLElement {
  return h('div', { class: `notice notice-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, ...children);
}

export function errorText(error: unknown): string {
  if (error instanceof ApiError) {
    if (error.status === 0) return t('error.network');
    if (error.status === 403) return t('error.forbidden', { detail: error.message });
    return error.message;
  }
  return error instanceof Error ? error.message : String(error);
}

export function errorNotice(error: unknown): HTMLElement {
  return notice('error', errorText(error));
}

export function loading(): HTMLElement {
  return h('p', { class: 'loading', role: 'status' }, t('common.loading'));
}

// ------------------------------------------------------------------ toasts

let toastRegion: HTMLElement | undefined;

/** A short message in a polite live region (announced, disappears after a few seconds). */
export function toast(message: string, kind: 'success' | 'error' | 'info' = 'success'): void {
  if (!toastRegion || !toastRegion.isConnected) {
    toastRegion = h('div', { class: 'toasts', role: 'status', 'aria-live': 'polite' });
    document.body.appendChild(toastRegion);
  }
  const item = h('div', { class: `toast toast-${kind}` }, message);
  toastRegion.appendChild(item);
  setTimeout(() => item.remove(), kind === 'error' ? 8000 : 4000);
}

// ------------------------------------------------------------------ dialogs

/** A modal confirmation (<dialog>: focus stays inside, Escape cancels). Resolves true on confirm. */
export function confirmDialog(options: { title: string; body?: Child; confirmLabel: string; danger?: boolean }): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId });
    const finish = (ok: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    dialog.append(
      h('h2', { id: titleId }, options.title),
      options.body ? h('div', { class: 'dialog-body' }, options.body) : '',
      h(
        'div',
        { class: 'dialog-actions' },
        button(t('common.cancel'), () => finish(false), { class: 'btn btn-secondary', 'data-action': 'cancel' }),
        button(options.confirmLabel, () => finish(true), { class: `btn ${options.danger ? 'btn-danger' : 'btn-primary'}`, 'data-action': 'confirm' }),
      ),
    );
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      finish(false);
    });
    document.body.appendChild(dialog);
    dialog.showModal();
    (dialog.querySelector('[data-action="confirm"]') as HTMLButtonElement).focus();
  });
}

/** A modal form; `submit` returns an error text to keep the dialog open, or undefined to close it. */
export function formDialog(options: { title: string; fields: HTMLElement[]; submitLabel: string; submit: () => Promise<string | undefined> }): Promise<boolean> {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const dialog = h('dialog', { class: 'dialog', 'aria-labelledby': titleId });
    const errorSlot = h('div', { class: 'dialog-error' });
    const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, options.submitLabel);
    const close = (ok: boolean) => {
      dialog.close();
      dialog.remove();
      resolve(ok);
    };
    const form = h(
      'form',
      {
        onsubmit: async (e: Event) => {
          e.preventDefault();
          submit.disabled = true;
          errorSlot.replaceChildren();
          try {
            const problem = await options.submit();
            if (problem) errorSlot.append(notice('error', problem));
            else close(true);
          } catch (error) {
            errorSlot.append(errorNotice(error));
          } finally {
            submit.disabled = false;
          }
        },
      },
      h('h2', { id: titleId }, options.title),
      ...options.fields,
      errorSlot,
      h('div', { class: 'dialog-actions' }, button(t('common.cancel'), () => close(false), { class: 'btn btn-secondary' }), submit),
    );
    dialog.addEventListener('cancel', (e) => {
      e.preventDefault();
      close(false);
    });
    dialog.append(form);
    document.body.appendChild(dialog);
    dialog.showModal();
    (dialog.querySelector('input, select, textarea') as HTMLElement | null)?.focus();
  });
}

// ------------------------------------------------------------------ tables

export interface Column<T> {
  header: string;
  cell: (row: T) => Child;
  class?: string;
}

export function table<T>(columns: Column<T>[], rows: T[], options: { caption?: string; rowProps?: (row: T) => Props; empty?: string } = {}): HTMLElement {
  if (rows.length === 0) return h('p', { class: 'empty' }, options.empty ?? t('common.none'));
  return h(
    'div',
    { class: 'table-wrap' },
    h(
      'table',
      null,
      options.caption ? h('caption', { class: 'visually-hidden' }, options.caption) : null,
      h('thead', null, h('tr', null, ...columns.map((c) => h('th', { scope: 'col', class: c.class }, c.header)))),
      h('tbody', null, ...rows.map((row) => h('tr', options.rowProps?.(row) ?? null, ...columns.map((c) => h('td', { class: c.class, 'data-label': c.header }, c.cell(row)))))),
    ),
  );
}

/** Definition list of label → value pairs. */
export function facts(pairs: Array<[string, Child]>): HTMLElement {
  return h('dl', { class: 'facts' }, ...pairs.flatMap(([k, v]) => [h('dt', null, k), h('dd', null, v ?? '—')]));
}

/** Runs an action with a button disabled meanwhile; reports failure as a toast. */
export async function withBusy(el: HTMLButtonElement, action: () => Promise<void>): Promise<void> {
  el.disabled = true;
  el.setAttribute('aria-busy', 'true');
  try {
    await action();
  } catch (error) {
    toast(errorText(error), 'error');
  } finally {
    el.disabled = false;
    el.removeAttribute('aria-busy');
  }
}

// Error display and the status line. Every failure the app catches ends here, in words, with the next
// step as a button or link (sign in again, try again). Nothing fails silently.
//
// Two places, each with one message at a time: the error box (role=alert) and the status line
// (role=status, polite), a fixed slot in the page's flow, not a toast over the controls. A new
// status replaces the last one, and an error empties the status line, so "Done" never sits under
// "The edit failed". What only the workshop's host can act on (`forHost`, the model access docs)
// stays behind a "For the host" disclosure, apart from the message for the person editing.

import { type ApiError, toApiError } from '../api/errors';
import { h, replace } from './dom';

export interface ErrorOptions {
  /** What the user was doing, e.g. "Loading the history". */
  context?: string;
  /** Offered as "Try again" when the error is worth retrying. */
  retry?: () => void;
}

export interface Notifier {
  error(err: unknown, opts?: ErrorOptions): void;
  clearError(): void;
  /** The status line's new content (screen readers announce it); replaces what it said. */
  info(text: string): void;
}

/** The host's part of an error: their instructions and the model access docs; null when there is none. */
function forHost(err: ApiError): HTMLElement | null {
  const docs = err.action === 'docs' && err.docsUrl ? err.docsUrl : undefined;
  if (!err.forHost && !docs) return null;
  return h(
    'details',
    { class: 'for-host' },
    h('summary', {}, 'For the host'),
    err.forHost ? h('p', {}, err.forHost) : null,
    docs ? h('p', {}, h('a', { href: docs, target: '_blank', rel: 'noopener noreferrer' }, 'How to enable model access (AWS docs)')) : null,
  );
}

export function createNotifier(onSignIn: () => void): { errorEl: HTMLElement; statusEl: HTMLElement; notifier: Notifier } {
  const errorEl = h('section', { class: 'error-box', role: 'alert', 'aria-live': 'assertive', hidden: true });
  const statusEl = h('p', { class: 'status-line', role: 'status', 'aria-live': 'polite' });

  const notifier: Notifier = {
    error(raw, opts = {}) {
      const err: ApiError = toApiError(raw);
      if (err.kind === 'aborted') {
        notifier.info(err.message);
        return;
      }
      statusEl.textContent = '';
      const actions = h('div', { class: 'error-actions' });
      if (err.action === 'sign-in') {
        actions.append(h('button', { type: 'button', class: 'primary', onclick: () => { notifier.clearError(); onSignIn(); } }, 'Sign in again'));
      }
      if (opts.retry && (err.action === 'retry' || err.kind === 'network')) {
        const retry = opts.retry;
        actions.append(h('button', { type: 'button', onclick: () => { notifier.clearError(); retry(); } }, 'Try again'));
      }
      actions.append(h('button', { type: 'button', class: 'link', onclick: () => notifier.clearError() }, 'Dismiss'));
      const detail =
        err.detail && err.detail !== err.message
          ? h('p', { class: 'error-detail' }, `Details from the server: ${err.detail}`, err.field ? ` (field: ${err.field})` : '')
          : null;
      const code = err.status ? h('span', { class: 'error-code' }, ` HTTP ${err.status}${err.code ? ` · ${err.code}` : ''}`) : null;
      replace(errorEl,
        h('h2', {}, opts.context ? `${opts.context} failed` : 'Something went wrong', code),
        h('p', { class: 'error-message' }, err.message),
        detail,
        forHost(err),
        actions,
      );
      errorEl.hidden = false;
      errorEl.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
    },
    clearError() {
      errorEl.hidden = true;
      replace(errorEl);
    },
    info(text) {
      statusEl.textContent = text;
    },
  };
  return { errorEl, statusEl, notifier };
}

// Error display and status messages. Every failure the app catches ends here, in words, with the next
// step as a button or link (sign in again, try again, read the docs). Nothing fails silently.

import { ApiError, toApiError } from '../api/errors';
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
  /** A short, polite status message (screen readers announce it). */
  info(text: string): void;
}

export function createNotifier(onSignIn: () => void): { errorEl: HTMLElement; statusEl: HTMLElement; notifier: Notifier } {
  const errorEl = h('section', { class: 'error-box', role: 'alert', 'aria-live': 'assertive', hidden: true });
  const statusEl = h('p', { class: 'status-line', role: 'status', 'aria-live': 'polite' });
  let statusTimer: ReturnType<typeof setTimeout> | undefined;

  const notifier: Notifier = {
    error(raw, opts = {}) {
      const err: ApiError = toApiError(raw);
      if (err.kind === 'aborted') {
        notifier.info('Cancelled.');
        return;
      }
      const actions = h('div', { class: 'error-actions' });
      if (err.action === 'sign-in') {
        actions.append(h('button', { type: 'button', class: 'primary', onclick: () => { notifier.clearError(); onSignIn(); } }, 'Sign in again'));
      }
      if (err.action === 'docs' && err.docsUrl) {
        actions.append(h('a', { href: err.docsUrl, target: '_blank', rel: 'noopener noreferrer' }, 'How to enable model access (AWS docs)'));
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
        actions,
      );
      errorEl.hidden = false;
      errorEl.scrollIntoView?.({ block: 'nearest', behavior: 'smooth' });
    },
    clearError() {
      errorEl.hidden = true;
      replace(errorEl, );
    },
    info(text) {
      statusEl.textContent = text;
      clearTimeout(statusTimer);
      statusTimer = setTimeout(() => {
        if (statusEl.textContent === text) statusEl.textContent = '';
      }, 6000);
    },
  };
  return { errorEl, statusEl, notifier };
}

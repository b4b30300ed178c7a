// Entry point: load /config.json, restore the session, then show the sign-in screens or the app.
import './polyfills';
import './styles.css';
import { ApiClient } from './api/client';
import { toApiError } from './api/errors';
import { startApp } from './app';
import { CognitoBackend } from './auth/cognito';
import { Session } from './auth/session';
import { type AppConfig, loadConfig } from './config';
import { renderAuth } from './ui/auth-view';
import { h } from './ui/dom';

const root = document.getElementById('app')!;

/** Last-resort display for anything not caught where it happened: never a silent failure. */
function fatal(title: string, message: string): void {
  const box = h(
    'div',
    { class: 'error-box global', role: 'alert' },
    h('h2', {}, title),
    h('p', {}, message),
    h('button', { type: 'button', onclick: () => box.remove() }, 'Dismiss'),
    ' ',
    h('button', { type: 'button', onclick: () => location.reload() }, 'Reload'),
  );
  document.body.prepend(box);
}

window.addEventListener('unhandledrejection', (ev) => {
  const err = toApiError(ev.reason);
  if (err.kind === 'aborted') return;
  ev.preventDefault();
  fatal('Something went wrong', err.message);
});
window.addEventListener('error', (ev) => {
  ev.preventDefault();
  fatal('Something went wrong', ev.message || 'An unexpected error happened.');
});

function run(config: AppConfig): void {
  const session = new Session(new CognitoBackend(config));
  const api = new ApiClient({ baseUrl: config.apiUrl, getIdToken: (o) => session.getIdToken(o) });
  let stop: (() => void) | null = null;
  let signingOut = false;

  const showSignIn = (notice?: string) => {
    stop?.();
    stop = null;
    renderAuth(root, session, config, showApp, notice);
  };
  const showApp = () => {
    stop?.();
    stop = startApp({
      root,
      config,
      session,
      api,
      signOut: (notice) => {
        signingOut = true;
        void session.signOut().finally(() => {
          signingOut = false;
          showSignIn(notice ?? 'You are signed out.');
        });
      },
    });
  };
  // The refresh token was rejected (expired or revoked) while the app was open.
  session.onChange((tokens) => {
    if (!tokens && stop && !signingOut) showSignIn('Your session has ended. Please sign in again.');
  });

  void session.restore().then((signedIn) => (signedIn ? showApp() : showSignIn()));
}

loadConfig().then(run, (err: unknown) => {
  root.replaceChildren(
    h(
      'main',
      { class: 'auth', id: 'main' },
      h('div', { class: 'error-box', role: 'alert' }, h('h1', {}, 'The app cannot start'), h('p', {}, err instanceof Error ? err.message : String(err))),
    ),
  );
});

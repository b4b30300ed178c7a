// The signed-out screens: sign in, first-login new password, sign up + confirmation code (when the
// pool allows self sign-up), forgot password. Calls onSignedIn once the Session holds tokens.

import { authErrorMessage } from '../auth/messages';
import type { Session } from '../auth/session';
import type { AppConfig } from '../config';
import { field, h } from './dom';

type Screen = 'sign-in' | 'new-password' | 'sign-up' | 'confirm' | 'forgot' | 'forgot-confirm';

const PASSWORD_HINT = 'At least 8 characters; use upper and lower case letters, a digit and a symbol.';

export function renderAuth(root: HTMLElement, session: Session, config: AppConfig, onSignedIn: () => void, notice?: string): void {
  // Kept in memory only, to sign in right after a confirmation; never stored.
  let email = '';
  let password = '';

  function input(type: string, name: string, autocomplete: string, extra: Record<string, string | boolean> = {}): HTMLInputElement {
    return h('input', { type, name, autocomplete, required: true, ...extra });
  }

  /** A form whose submit runs `action` with a busy state and shows failures in words. */
  function form(title: string, intro: string | null, fields: HTMLElement[], submitLabel: string, action: (data: FormData) => Promise<void>, links: HTMLElement[] = [], info?: string): HTMLFormElement {
    const errorEl = h('p', { class: 'form-error', role: 'alert' });
    const submit = h('button', { type: 'submit', class: 'primary' }, submitLabel);
    const f = h(
      'form',
      { class: 'auth-form', novalidate: false, 'aria-labelledby': 'auth-title' },
      h('h1', { id: 'auth-title' }, title),
      info ? h('p', { class: 'form-info', role: 'status' }, info) : null,
      intro ? h('p', { class: 'hint' }, intro) : null,
      ...fields,
      errorEl,
      submit,
      links.length ? h('p', { class: 'auth-links' }, ...links) : null,
    );
    f.addEventListener('submit', (ev) => {
      ev.preventDefault();
      errorEl.textContent = '';
      submit.disabled = true;
      submit.setAttribute('aria-busy', 'true');
      action(new FormData(f))
        .catch((err: unknown) => {
          errorEl.textContent = authErrorMessage(err);
        })
        .finally(() => {
          submit.disabled = false;
          submit.removeAttribute('aria-busy');
        });
    });
    return f;
  }

  function link(label: string, to: Screen): HTMLButtonElement {
    return h('button', { type: 'button', class: 'link', onclick: () => go(to) }, label);
  }

  async function afterSignIn(step: Awaited<ReturnType<Session['signIn']>>): Promise<void> {
    if (step.kind === 'signed-in') onSignedIn();
    else if (step.kind === 'new-password-required') go('new-password');
    else go('confirm', 'Your account is not confirmed yet. Enter the code we e-mailed you.');
  }

  function go(screen: Screen, info?: string): void {
    let el: HTMLFormElement;
    switch (screen) {
      case 'sign-in': {
        const emailIn = input('email', 'email', 'username');
        el = form(
          'Sign in',
          null,
          [field('E-mail', emailIn), field('Password', input('password', 'password', 'current-password'))],
          'Sign in',
          async (d) => {
            email = String(d.get('email'));
            password = String(d.get('password'));
            await afterSignIn(await session.signIn(email, password));
          },
          [link('Forgot password?', 'forgot'), ...(config.selfSignUp ? [link('Create an account', 'sign-up')] : [])],
          info,
        );
        emailIn.value = email;
        break;
      }
      case 'new-password':
        el = form(
          'Choose a new password',
          'This is your first sign-in with a temporary password. Choose your own password to continue.',
          [
            field('New password', input('password', 'newPassword', 'new-password', { minlength: '8' }), PASSWORD_HINT),
            field('Repeat the new password', input('password', 'repeat', 'new-password')),
          ],
          'Set password and sign in',
          async (d) => {
            const pw = String(d.get('newPassword'));
            if (pw !== String(d.get('repeat'))) throw new Error('The two passwords are not the same.');
            password = pw;
            await afterSignIn(await session.completeNewPassword(pw));
          },
          [link('Back to sign in', 'sign-in')],
          info,
        );
        break;
      case 'sign-up':
        el = form(
          'Create an account',
          null,
          [
            field('E-mail', input('email', 'email', 'email')),
            field('Password', input('password', 'password', 'new-password', { minlength: '8' }), PASSWORD_HINT),
          ],
          'Create account',
          async (d) => {
            email = String(d.get('email'));
            password = String(d.get('password'));
            const res = await session.backend.signUp(email, password);
            if (res.confirmed) await afterSignIn(await session.signIn(email, password));
            else go('confirm', `We sent a confirmation code to ${res.destination ?? email}.`);
          },
          [link('I already have an account', 'sign-in')],
          info,
        );
        break;
      case 'confirm': {
        const emailIn = input('email', 'email', 'username');
        emailIn.value = email;
        const resend = h('button', { type: 'button', class: 'link' }, 'Send a new code');
        el = form(
          'Confirm your e-mail',
          'Enter the code from the e-mail we sent you.',
          [field('E-mail', emailIn), field('Confirmation code', input('text', 'code', 'one-time-code', { inputmode: 'numeric' }))],
          'Confirm',
          async (d) => {
            email = String(d.get('email'));
            await session.backend.confirmSignUp(email, String(d.get('code')));
            if (password) await afterSignIn(await session.signIn(email, password));
            else go('sign-in', 'Your account is confirmed. Please sign in.');
          },
          [resend, link('Back to sign in', 'sign-in')],
          info,
        );
        resend.addEventListener('click', () => {
          email = emailIn.value;
          session.backend.resendSignUpCode(email).then(
            (r) => go('confirm', `A new code is on its way to ${r.destination ?? email}.`),
            (err: unknown) => go('confirm', authErrorMessage(err)),
          );
        });
        break;
      }
      case 'forgot':
        el = form(
          'Reset your password',
          'We will e-mail you a code to choose a new password.',
          [field('E-mail', input('email', 'email', 'username'))],
          'Send code',
          async (d) => {
            email = String(d.get('email'));
            const r = await session.backend.forgotPassword(email);
            go('forgot-confirm', `We sent a code to ${r.destination ?? email}.`);
          },
          [link('Back to sign in', 'sign-in')],
          info,
        );
        break;
      case 'forgot-confirm':
        el = form(
          'Choose a new password',
          null,
          [
            field('Code from the e-mail', input('text', 'code', 'one-time-code', { inputmode: 'numeric' })),
            field('New password', input('password', 'newPassword', 'new-password', { minlength: '8' }), PASSWORD_HINT),
          ],
          'Change password',
          async (d) => {
            await session.backend.confirmForgotPassword(email, String(d.get('code')), String(d.get('newPassword')));
            go('sign-in', 'Your password was changed. Please sign in with the new one.');
          },
          [link('Back to sign in', 'sign-in')],
          info,
        );
        break;
    }
    root.replaceChildren(
      h(
        'main',
        { class: 'auth', id: 'main' },
        h('p', { class: 'brand' }, 'AI image editor', config.stackName ? h('span', { class: 'stack' }, ` · ${config.stackName}`) : null),
        el,
      ),
    );
    el.querySelector<HTMLInputElement>('input:not([type=hidden])')?.focus();
  }

  go('sign-in', notice);
}

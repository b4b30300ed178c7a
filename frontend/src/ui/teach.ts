// The teaching panel (the seed's "API payload" box, made safe): the request about to be sent with the
// images elided, the ID token's claims decoded in the browser, copy as curl (token as $TOKEN), and —
// only on an explicit click — copy the token itself.

import type { EditRequest } from '../api/types';
import { decodeJwt } from '../auth/jwt';
import type { Session } from '../auth/session';
import { curlCommand, elideImages } from '../teach/format';
import { copyText, download, h } from './dom';
import type { Notifier } from './notify';

const TIME_CLAIMS = new Set(['exp', 'iat', 'auth_time', 'nbf']);

export interface TeachSource {
  url: string;
  /** The request as previewed (cheap; mask may be a placeholder). */
  preview(): EditRequest | null;
  /** The exact request, images encoded (for curl / request.json). */
  full(): Promise<EditRequest | null>;
}

export class TeachPanel {
  readonly el: HTMLDetailsElement;
  private readonly requestPre: HTMLElement;
  private readonly claimsBox: HTMLElement;
  private readonly endpoint: HTMLElement;

  constructor(
    private readonly session: Session,
    private readonly source: TeachSource,
    private readonly notifier: Notifier,
  ) {
    this.endpoint = h('pre', { class: 'endpoint' });
    this.requestPre = h('pre', { class: 'request', tabindex: 0, 'aria-label': 'Request body with images elided' });
    this.claimsBox = h('div', { class: 'claims' });
    this.el = h(
      'details',
      { class: 'teach panel' },
      h('summary', {}, h('h2', {}, 'Under the hood: the API request')),
      h('p', { class: 'hint' }, 'What the app sends to the REST API. Pictures are shortened here; the real request carries them as base64.'),
      h('h3', {}, 'Request'),
      this.endpoint,
      this.requestPre,
      h(
        'div',
        { class: 'teach-actions' },
        h('button', { type: 'button', onclick: () => void this.copyCurl() }, 'Copy as curl'),
        h('button', { type: 'button', onclick: () => void this.downloadBody() }, 'Download request.json'),
      ),
      h('h3', {}, 'Your ID token'),
      h('p', { class: 'hint' }, 'Decoded in your browser. API Gateway checks its signature; the Lambda takes your identity from the "sub" claim.'),
      this.claimsBox,
      h(
        'div',
        { class: 'teach-actions' },
        h('button', { type: 'button', class: 'warn', onclick: () => void this.copyToken() }, 'Copy ID token'),
        h('span', { class: 'hint' }, 'Treat it like a password until it expires.'),
      ),
    );
    this.el.addEventListener('toggle', () => this.refresh());
  }

  /** Re-renders when open (cheap enough to call on every form change). */
  refresh(): void {
    if (!this.el.open) return;
    const req = this.source.preview();
    this.endpoint.textContent = `POST ${this.source.url}\nAuthorization: <your ID token>\nContent-Type: application/json`;
    this.requestPre.textContent = req ? JSON.stringify(elideImages(req), null, 2) : '(choose an operation and a picture to see the request)';
    const token = this.session.current?.idToken;
    const claims = token ? decodeJwt(token) : null;
    if (!claims) {
      this.claimsBox.replaceChildren(h('p', {}, 'Not signed in.'));
      return;
    }
    const rows = Object.entries(claims).map(([k, v]) => {
      let text = typeof v === 'string' ? v : JSON.stringify(v);
      if (TIME_CLAIMS.has(k) && typeof v === 'number') text = `${v} (${new Date(v * 1000).toLocaleString()})`;
      return h('tr', {}, h('th', { scope: 'row' }, k), h('td', {}, text));
    });
    const left = Math.round(this.session.secondsLeft() / 60);
    this.claimsBox.replaceChildren(
      h('table', {}, h('caption', { class: 'visually-hidden' }, 'ID token claims'), h('tbody', {}, ...rows)),
      h('p', { class: 'hint' }, left > 0 ? `Expires in about ${left} minute${left === 1 ? '' : 's'}; the app refreshes it for you.` : 'Expired; it will be refreshed on the next request.'),
    );
  }

  private async copyCurl(): Promise<void> {
    try {
      const req = await this.source.full();
      if (!req) {
        this.notifier.info('Nothing to copy yet: choose an operation and a picture.');
        return;
      }
      const { command, bodyFile } = curlCommand({ method: 'POST', url: this.source.url, body: req });
      const ok = await copyText(command);
      this.notifier.info(
        ok
          ? bodyFile
            ? 'curl command copied. It reads the body from request.json: use "Download request.json" too.'
            : 'curl command copied.'
          : 'Copying is not allowed here; select the text and copy it by hand.',
      );
    } catch (err) {
      this.notifier.error(err, { context: 'Preparing the curl command' });
    }
  }

  private async downloadBody(): Promise<void> {
    try {
      const req = await this.source.full();
      if (!req) {
        this.notifier.info('Nothing to download yet: choose an operation and a picture.');
        return;
      }
      download(new Blob([JSON.stringify(req)], { type: 'application/json' }), 'request.json');
    } catch (err) {
      this.notifier.error(err, { context: 'Preparing request.json' });
    }
  }

  private async copyToken(): Promise<void> {
    try {
      const token = await this.session.getIdToken();
      const ok = await copyText(token);
      this.notifier.info(ok ? 'ID token copied. In a shell: export TOKEN=\'<paste>\'' : 'Copying is not allowed here.');
    } catch (err) {
      this.notifier.error(err, { context: 'Copying the token' });
    }
  }
}

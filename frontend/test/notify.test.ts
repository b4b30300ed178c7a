// @vitest-environment happy-dom
import { describe, expect, it, vi } from 'vitest';
import { errorFromResponse, networkError } from '../src/api/errors';
import { createNotifier } from '../src/ui/notify';

describe('error display', () => {
  it('401: says to sign in again and offers the button', () => {
    const onSignIn = vi.fn();
    const { errorEl, notifier } = createNotifier(onSignIn);
    document.body.append(errorEl);
    notifier.error(errorFromResponse(401, { message: 'Unauthorized' }), { context: 'The edit' });
    expect(errorEl.hidden).toBe(false);
    expect(errorEl.getAttribute('role')).toBe('alert');
    expect(errorEl.textContent).toMatch(/The edit failed/);
    expect(errorEl.textContent).toMatch(/sign in again/i);
    const button = [...errorEl.querySelectorAll('button')].find((b) => b.textContent === 'Sign in again')!;
    button.click();
    expect(onSignIn).toHaveBeenCalled();
    expect(errorEl.hidden).toBe(true);
  });

  it('503: the host\'s instructions and the docs link wait behind "For the host", apart from the message', () => {
    const { errorEl, notifier } = createNotifier(() => undefined);
    notifier.error(
      errorFromResponse(503, { error: { code: 'model_unavailable', message: 'This model cannot be used right now.', forHost: 'Enable us.stability.stable-image-inpaint-v1:0 in us-west-2.' } }),
    );
    const host = errorEl.querySelector('details.for-host')!;
    expect(host.querySelector('summary')!.textContent).toBe('For the host');
    expect(host.hasAttribute('open')).toBe(false);
    expect(host.textContent).toMatch(/Enable us\.stability\.stable-image-inpaint-v1:0 in us-west-2\./);
    const link = host.querySelector('a')!;
    expect(link.href).toMatch(/docs\.aws\.amazon\.com\/bedrock/);
    expect(link.rel).toMatch(/noopener/);
    const message = errorEl.querySelector('.error-message')!.textContent!;
    expect(message).toMatch(/ask your host\.$/);
    expect(message).not.toMatch(/stable-image-inpaint|enable/i);
    expect(errorEl.querySelector('.error-detail')).toBeNull();
    expect(errorEl.textContent).toMatch(/HTTP 503 · model_unavailable/);
  });

  it('an error without a host part has no disclosure', () => {
    const { errorEl, notifier } = createNotifier(() => undefined);
    notifier.error(errorFromResponse(502, { error: { code: 'model_error', message: 'boom' } }));
    expect(errorEl.querySelector('details.for-host')).toBeNull();
    expect(errorEl.querySelector('.error-detail')!.textContent).toBe('Details from the server: boom');
  });

  it('one status at a time: a new one replaces the last, an error empties it', () => {
    const { statusEl, notifier } = createNotifier(() => undefined);
    expect(statusEl.getAttribute('role')).toBe('status');
    expect(statusEl.getAttribute('aria-live')).toBe('polite');
    notifier.info('Done: 1 image in 3.2 s.');
    notifier.info('Picture ready: 512×384.');
    expect(statusEl.textContent).toBe('Picture ready: 512×384.');
    notifier.info('Done: 1 image in 3.2 s.');
    notifier.error(errorFromResponse(502, null), { context: 'The edit' });
    expect(statusEl.textContent).toBe('');
  });

  it('network failure: offers "Try again" when a retry is given', () => {
    const retry = vi.fn();
    const { errorEl, notifier } = createNotifier(() => undefined);
    notifier.error(networkError(), { retry });
    [...errorEl.querySelectorAll('button')].find((b) => b.textContent === 'Try again')!.click();
    expect(retry).toHaveBeenCalled();
  });

  it('a cancelled request is a status message, not an error', () => {
    const { errorEl, statusEl, notifier } = createNotifier(() => undefined);
    notifier.error(new DOMException('stop', 'AbortError'));
    expect(errorEl.hidden).toBe(true);
    expect(statusEl.textContent).toBe('Stopped.');
  });
});

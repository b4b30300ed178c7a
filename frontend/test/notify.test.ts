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

  it('503: links to the model access docs and shows the operator hint', () => {
    const { errorEl, notifier } = createNotifier(() => undefined);
    notifier.error(errorFromResponse(503, { error: { code: 'model_unavailable', message: 'enable us.stability.stable-image-inpaint-v1:0' } }));
    const link = errorEl.querySelector('a')!;
    expect(link.href).toMatch(/docs\.aws\.amazon\.com\/bedrock/);
    expect(link.rel).toMatch(/noopener/);
    expect(errorEl.textContent).toMatch(/Details from the server: enable us\.stability\.stable-image-inpaint/);
    expect(errorEl.textContent).toMatch(/HTTP 503 · model_unavailable/);
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
    expect(statusEl.textContent).toBe('Cancelled.');
  });
});

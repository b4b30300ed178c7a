import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { ApiError, errorFromResponse } from '../src/api/errors';
import { RETRY_POLICY, retryDelayMs, retryReason, stillBeingMade, withRetries } from '../src/api/retry';

// The answers a class meets, as the client turns them into errors (status, body, Retry-After).
const throttled = () => errorFromResponse(429, { error: { code: 'THROTTLED', message: 'Too Many Requests' } }, '1');
const lambdaFull = () => errorFromResponse(503, { error: { code: 'INTEGRATION_FAILURE', message: 'Internal server error' } }, '1');
const modelBusy = () => errorFromResponse(429, { error: { code: 'throttled', message: 'slow down' } }, '5');
const quota = () => errorFromResponse(429, { error: { code: 'quota_exceeded', message: 'used up' } }, '3600');
const notReady = (retryAfter: string | null = '3') =>
  errorFromResponse(503, { error: { code: 'model_not_ready', message: 'Bedrock is preparing the model.', forHost: 'ModelNotReadyException for stability.sd3-5-large-v1:0 in us-west-2' } }, retryAfter);

describe('which answers are retried', () => {
  it('retries what is safe to send again, and nothing else', () => {
    expect(retryReason(throttled())).toMatch(/Many people/);
    expect(retryReason(lambdaFull())).toMatch(/Many people/);
    expect(retryReason(modelBusy())).toMatch(/model is busy/);
    expect(retryReason(errorFromResponse(503, { error: { code: 'history_unavailable', message: 'x' } }, '1'))).not.toBeNull();
    expect(retryReason(errorFromResponse(503, { error: { code: 'model_unavailable', message: 'not ready' } }, '10'))).not.toBeNull();
    // A model Bedrock is still preparing: nothing was made, the same request may go again.
    expect(retryReason(notReady())).toBe('The model is warming up');
    expect(retryReason(notReady(null))).toBe('The model is warming up');
    // Not passing, or may have made (and billed) an image: never repeated blindly.
    expect(retryReason(quota())).toBeNull();
    expect(retryReason(errorFromResponse(503, { error: { code: 'model_unavailable', message: 'access' } }))).toBeNull();
    for (const status of [400, 401, 413, 422, 500, 502, 504]) expect(retryReason(errorFromResponse(status, null))).toBeNull();
    expect(retryReason(new ApiError({ kind: 'network', message: 'offline' }))).toBeNull();
    // The same edit still being made (Idempotency-Key): wait for it; made already: stop.
    expect(retryReason(errorFromResponse(409, { error: { code: 'duplicate_request', message: 'being made' } }, '2'))).toMatch(/still being made/);
    expect(retryReason(errorFromResponse(409, { error: { code: 'duplicate_request', message: 'made already' } }))).toBeNull();
  });

  it('the 503 of a full Lambda says so, not "an administrator has to enable the model"', () => {
    expect(lambdaFull().message).toMatch(/Many people are editing/);
    expect(lambdaFull().action).toBe('retry');
    expect(lambdaFull().retryAfterSeconds).toBe(1);
  });

  it('backs off exponentially with jitter, never sooner than Retry-After', () => {
    expect(retryDelayMs(0, 1, () => 0)).toBe(1000);
    expect(retryDelayMs(3, undefined, () => 1)).toBe(8000);
    expect(retryDelayMs(10, undefined, () => 1)).toBe(RETRY_POLICY.maxDelayMs);
    expect(retryDelayMs(0, 5, () => 1)).toBe(5000);
    expect(retryDelayMs(0, undefined, () => 0)).toBe(250);
  });
});

describe('withRetries', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('waits and sends again by itself until the edit goes through', async () => {
    const answers = [throttled(), lambdaFull(), modelBusy()];
    const attempt = vi.fn(async () => {
      const next = answers.shift();
      if (next) throw next;
      return 'made';
    });
    const waits: number[] = [];
    const done = withRetries(attempt, { random: () => 1, onWait: (w) => waits.push(w.delayMs) });
    await vi.runAllTimersAsync();
    await expect(done).resolves.toBe('made');
    expect(attempt).toHaveBeenCalledTimes(4);
    // Retry-After 1 s, then 2 s of back-off, then the model's Retry-After of 5 s.
    expect(waits).toEqual([1000, 2000, 5000]);
  });

  it('does not retry an answer that is not "not now"', async () => {
    const attempt = vi.fn(async () => {
      throw quota();
    });
    await expect(withRetries(attempt)).rejects.toMatchObject({ code: 'quota_exceeded' });
    expect(attempt).toHaveBeenCalledTimes(1);
  });

  it('gives up after about two minutes with a clear message', async () => {
    const attempt = vi.fn(async () => {
      throw lambdaFull();
    });
    const done = withRetries(attempt, { random: () => 1 });
    const outcome = done.then(
      () => 'resolved',
      (e: ApiError) => e,
    );
    await vi.advanceTimersByTimeAsync(RETRY_POLICY.giveUpAfterMs + 1000);
    const err = await outcome;
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).message).toMatch(/stayed that way for 1\d\d seconds .* Nothing was made/);
    expect((err as ApiError).action).toBe('retry');
    expect(attempt.mock.calls.length).toBeGreaterThan(5);
  });

  it('model_not_ready: waits as long as Retry-After asks, saying the model is warming up', async () => {
    const answers = [notReady('3'), notReady('7')];
    const attempt = vi.fn(async () => {
      const next = answers.shift();
      if (next) throw next;
      return 'made';
    });
    const waits: string[] = [];
    const done = withRetries(attempt, { random: () => 0, onWait: (w) => waits.push(`${w.reason}; trying again in ${w.delayMs / 1000} s`) });
    await vi.runAllTimersAsync();
    await expect(done).resolves.toBe('made');
    expect(waits).toEqual(['The model is warming up; trying again in 3 s', 'The model is warming up; trying again in 7 s']);
  });

  it('model_not_ready for about two minutes: gives up asking the host, the host\'s text kept apart', async () => {
    const attempt = vi.fn(async () => {
      throw notReady('10');
    });
    const outcome = withRetries(attempt, { random: () => 0 }).then(
      () => null,
      (e: ApiError) => e,
    );
    await vi.advanceTimersByTimeAsync(RETRY_POLICY.giveUpAfterMs + 1000);
    const err = (await outcome)!;
    expect(err.message).toMatch(/^The model is warming up, and it stayed that way for 1\d\d seconds .*Nothing was made or counted\. Please ask your host\.$/);
    expect(err.forHost).toMatch(/ModelNotReadyException/);
    expect(err.message).not.toMatch(/ModelNotReadyException/);
    expect(err.code).toBe('model_not_ready');
    // Bounded: at most one attempt per Retry-After within the two minutes.
    expect(attempt.mock.calls.length).toBeLessThanOrEqual(RETRY_POLICY.giveUpAfterMs / 10_000 + 1);
  });

  it('an edit still being made (409 with Retry-After) may finish after a cancel; other refusals made nothing', () => {
    expect(stillBeingMade(errorFromResponse(409, { error: { code: 'duplicate_request', message: 'being made' } }, '2'))).toBe(true);
    expect(stillBeingMade(throttled())).toBe(false);
    expect(stillBeingMade(notReady())).toBe(false);
  });

  it('stops waiting when the person cancels', async () => {
    const ctrl = new AbortController();
    const attempt = vi.fn(async () => {
      throw throttled();
    });
    const done = withRetries(attempt, { signal: ctrl.signal });
    const outcome = done.then(
      () => 'resolved',
      (e: ApiError) => e.kind,
    );
    await vi.advanceTimersByTimeAsync(10);
    ctrl.abort();
    expect(await outcome).toBe('aborted');
    expect(attempt).toHaveBeenCalledTimes(1);
  });
});

// The retry policy for answers that mean "not now" rather than "no" (docs/api.md, "Retrying"),
// written once. A class presses "Edit" in the same second: the gateway's throttle, Lambda's
// concurrency, Bedrock's quota or a busy table may turn some requests away, and each says so with a
// status that is safe to send again (nothing was made, counted or billed) and `Retry-After`. The app
// waits and sends again by itself, telling the person what is happening, so nobody has to press
// "Try again"; after about two minutes it gives up and says so. A model Bedrock is still preparing
// (503 model_not_ready) is waited for the same way; if it is still not ready then, only the host can
// help, and the message says so.

import { ApiError, HOST_CODES, abortedError } from './errors';

export const RETRY_POLICY = {
  /** Stop trying once this much time has gone by since the first attempt. */
  giveUpAfterMs: 120_000,
  /** The first back-off; it doubles with each attempt (full jitter), up to `maxDelayMs`. */
  baseDelayMs: 1_000,
  maxDelayMs: 15_000,
} as const;

/** Whether an answer is safe to send again unchanged, and why it came (for the person). */
export function retryReason(err: unknown): string | null {
  if (!(err instanceof ApiError) || err.kind !== 'http') return null;
  switch (err.status) {
    case 429:
      if (err.code === 'quota_exceeded') return null; // counts to midnight: not "soon"
      if (err.code === 'THROTTLED') return 'Many people are editing right now';
      return 'The model is busy';
    case 409:
      // The same edit (Idempotency-Key) still running: its answer is near.
      return err.code === 'duplicate_request' && err.retryAfterSeconds !== undefined ? 'Your edit is still being made' : null;
    case 503:
      if (err.code === 'INTEGRATION_FAILURE') return 'Many people are editing right now';
      if (err.code === 'history_unavailable') return 'Your history is busy';
      // Nothing was made: the same request may go again (after Retry-After when it is readable).
      if (err.code === 'model_not_ready') return 'The model is warming up';
      // Model access missing is not passing; Bedrock briefly unavailable comes with Retry-After.
      if (err.code === 'model_unavailable' && err.retryAfterSeconds !== undefined) return 'Amazon Bedrock is briefly unavailable';
      return null;
    default:
      return null;
  }
}

/**
 * Whether the refused attempt means an earlier one of the same edit is still being made (409 with
 * Retry-After): stopping now may still leave a picture in the history.
 */
export function stillBeingMade(err: ApiError): boolean {
  return err.status === 409 && err.code === 'duplicate_request';
}

/**
 * How long to wait before attempt `attempt + 1` (0-based): exponential back-off with full jitter,
 * never less than what the answer's `Retry-After` asked for.
 */
export function retryDelayMs(attempt: number, retryAfterSeconds: number | undefined, random: () => number = Math.random): number {
  const ceiling = Math.min(RETRY_POLICY.maxDelayMs, RETRY_POLICY.baseDelayMs * 2 ** Math.min(attempt, 16));
  const jittered = Math.round(random() * ceiling);
  return Math.max((retryAfterSeconds ?? 0) * 1000, jittered, 250);
}

export interface RetryWait {
  /** 1 for the first retry. */
  attempt: number;
  delayMs: number;
  reason: string;
  error: ApiError;
}

export interface RetryOptions {
  signal?: AbortSignal;
  /** Told before each wait (the page says "The model is busy — trying again in 4 s"). */
  onWait?: (wait: RetryWait) => void;
  random?: () => number;
  now?: () => number;
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(abortedError());
      return;
    }
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortedError());
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `attempt` until it succeeds, fails for a reason retrying cannot fix, or time runs out. */
export async function withRetries<T>(attempt: () => Promise<T>, opts: RetryOptions = {}): Promise<T> {
  const now = opts.now ?? Date.now;
  const started = now();
  for (let n = 0; ; n++) {
    try {
      return await attempt();
    } catch (err) {
      const reason = retryReason(err);
      if (reason === null || !(err instanceof ApiError)) throw err;
      const delayMs = retryDelayMs(n, err.retryAfterSeconds, opts.random);
      const waited = now() - started;
      if (waited + delayMs > RETRY_POLICY.giveUpAfterMs) {
        const next = HOST_CODES.has(err.code ?? '') ? 'Please ask your host.' : 'Please try again in a few minutes.';
        throw new ApiError({
          kind: 'http',
          status: err.status,
          code: err.code,
          detail: err.detail,
          forHost: err.forHost,
          docsUrl: err.docsUrl,
          message: `${reason}, and it stayed that way for ${Math.round(waited / 1000)} seconds (${n + 1} attempts). Nothing was made or counted. ${next}`,
          action: 'retry',
        });
      }
      opts.onWait?.({ attempt: n + 1, delayMs, reason, error: err });
      await sleep(delayMs, opts.signal);
    }
  }
}

// Turns what the API (or the network) answered into words a person understands.
// Every failure of a request ends up as an ApiError; the UI shows `message` and offers `action`.
// Two readers: `message` is for the person editing; `forHost` is for the workshop's host (what to
// enable, what to run), shown apart, behind a "For the host" disclosure.

import { browserTimeZone, nextUtcMidnight, resetText } from './day';

export const MODEL_ACCESS_DOCS = 'https://docs.aws.amazon.com/bedrock/latest/userguide/model-access.html';

/** What the UI can offer next to the message. */
export type ErrorAction = 'sign-in' | 'retry' | 'docs' | 'none';

export type ErrorKind =
  | 'http' // the server answered with a non-2xx status
  | 'network' // no answer at all (offline, DNS, CORS refusal)
  | 'aborted' // the user cancelled
  | 'timeout' // our own client-side time limit ran out
  | 'bad-response'; // 2xx but the body was not what the contract promises

export interface ApiErrorInit {
  kind: ErrorKind;
  status?: number;
  code?: string;
  message: string;
  detail?: string;
  field?: string;
  retryAfterSeconds?: number;
  action?: ErrorAction;
  docsUrl?: string;
  forHost?: string;
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly kind: ErrorKind;
  readonly status: number | undefined;
  readonly code: string | undefined;
  /** The server's own message, shown as detail when it adds to `message`. */
  readonly detail: string | undefined;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly action: ErrorAction;
  readonly docsUrl: string | undefined;
  /** What the host can do about it; never part of `message`. */
  readonly forHost: string | undefined;

  constructor(init: ApiErrorInit) {
    super(init.message);
    this.kind = init.kind;
    this.status = init.status;
    this.code = init.code;
    this.detail = init.detail;
    this.field = init.field;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.action = init.action ?? 'none';
    this.docsUrl = init.docsUrl;
    this.forHost = init.forHost;
  }
}

interface ErrorBody {
  code?: string;
  message?: string;
  field?: string;
  forHost?: string;
}

/**
 * The answers only the host can resolve (model access, a model Bedrock is still preparing): the
 * person editing reads a plain sentence that ends with asking the host, the host their own text.
 */
export const HOST_CODES: ReadonlySet<string> = new Set(['model_unavailable', 'model_not_ready']);

/** What the host reads when the API sent no `forHost` (an older function). */
export const HOST_HINTS: Record<string, string> = {
  model_unavailable:
    'Amazon Bedrock refused the model: model access may not be enabled for this account, or the model is not offered in the stack’s region. `provision doctor` checks both.',
  model_not_ready:
    'Amazon Bedrock answered that the model is not ready (ModelNotReadyException): it is still preparing the model in the stack’s region. This usually passes within minutes; `provision doctor` shows the model’s state.',
};

/** Reads `{"error":{code,message,field,forHost}}` (contract), `{"error":"..."}` (seed) or `{"message":"..."}` (gateway). */
export function parseErrorBody(body: unknown): ErrorBody {
  if (typeof body !== 'object' || body === null) return {};
  const b = body as Record<string, unknown>;
  const e = b.error;
  if (typeof e === 'object' && e !== null) {
    const o = e as Record<string, unknown>;
    return {
      code: typeof o.code === 'string' ? o.code : undefined,
      message: typeof o.message === 'string' ? o.message : undefined,
      field: typeof o.field === 'string' ? o.field : undefined,
      forHost: typeof o.forHost === 'string' && o.forHost.trim() ? o.forHost : undefined,
    };
  }
  if (typeof e === 'string') return { message: e };
  if (typeof b.message === 'string') return { message: b.message };
  return {};
}

/** Retry-After is seconds (what the API sends) or an HTTP date. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (!value) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const when = Date.parse(trimmed);
  if (Number.isNaN(when)) return undefined;
  return Math.max(0, Math.ceil((when - now) / 1000));
}

function seconds(n: number): string {
  return n === 1 ? '1 second' : `${n} seconds`;
}

/** The reader's clock and time zone (tests give both). */
export interface Clock {
  now?: number;
  timeZone?: string;
}

/** Maps an HTTP error answer to an ApiError with a human message. Pure: tested for every status in the contract. */
export function errorFromResponse(status: number, body: unknown, retryAfterHeader: string | null = null, clock: Clock = {}): ApiError {
  const { code, message: serverMessage, field, forHost } = parseErrorBody(body);
  const base = { kind: 'http' as const, status, code, field, detail: serverMessage, forHost };
  switch (status) {
    case 400:
      if (code === 'unsupported_operation') {
        return new ApiError({
          ...base,
          message: `This stack's image model cannot do that operation. ${serverMessage ?? ''}`.trim(),
        });
      }
      return new ApiError({
        ...base,
        message: serverMessage
          ? `The request was not accepted: ${serverMessage}`
          : 'The request was not accepted. Check the form and try again.',
      });
    case 401:
      return new ApiError({
        ...base,
        message: 'Your session has expired or is no longer valid. Please sign in again.',
        action: 'sign-in',
      });
    case 403:
      return new ApiError({
        ...base,
        message: 'The API refused access. Sign in again; if that does not help, this account may not be allowed to use the app.',
        action: 'sign-in',
      });
    case 404:
      return new ApiError({
        ...base,
        message: 'Not found: this edit does not exist any more (it may have been deleted).',
      });
    case 413:
      return new ApiError({
        ...base,
        message: 'The image is too large to send. Use a smaller picture (or a smaller mask) and try again.',
      });
    case 409: {
      // duplicate_request: this edit (its Idempotency-Key) was sent before.
      const wait = parseRetryAfter(retryAfterHeader);
      return new ApiError({
        ...base,
        retryAfterSeconds: wait,
        message:
          wait !== undefined
            ? 'Your edit is still being made. Please wait a moment.'
            : `This edit was made already: look for it in your history. ${serverMessage ?? ''}`.trim(),
        action: wait !== undefined ? 'retry' : 'none',
      });
    }
    case 422:
      return new ApiError({
        ...base,
        message: "The model's content filter blocked this request. Try a different prompt or a different picture.",
      });
    case 429: {
      const wait = parseRetryAfter(retryAfterHeader);
      if (code === 'quota_exceeded') {
        // Today's images are used up (the user's or the app's daily limit); no point retrying soon.
        // The counts are per UTC day: the reset is said in the reader's time, UTC beside it.
        const reset = resetText(nextUtcMidnight(clock.now ?? Date.now()), clock.timeZone ?? browserTimeZone());
        return new ApiError({
          ...base,
          retryAfterSeconds: wait,
          message: `${serverMessage ?? "Today's images are used up."} Your limit starts again at ${reset}.`,
          action: 'none',
        });
      }
      return new ApiError({
        ...base,
        retryAfterSeconds: wait,
        message:
          wait !== undefined
            ? `The model is busy right now. Please wait ${seconds(wait)} and try again.`
            : 'The model is busy right now. Please wait a moment and try again.',
        action: 'retry',
      });
    }
    case 502:
      return new ApiError({
        ...base,
        message: 'The image model failed to make a picture. Try again, maybe with other settings.',
        action: 'retry',
      });
    case 503: {
      const wait = parseRetryAfter(retryAfterHeader);
      // Passing: the function never ran (Lambda's concurrency was used up), or the history could
      // not record the request; nothing was made. The app retries these itself (retry.ts).
      if (code === 'INTEGRATION_FAILURE') {
        return new ApiError({
          ...base,
          retryAfterSeconds: wait,
          message: 'Many people are editing at this moment and the app is running as many edits as it can. Nothing was made; please try again in a moment.',
          action: 'retry',
        });
      }
      if (code === 'history_unavailable') {
        return new ApiError({
          ...base,
          retryAfterSeconds: wait,
          message: 'Your history could not record the edit, so nothing was made. Please try again in a moment.',
          action: 'retry',
        });
      }
      // The model's own answers. Their server message may be the host's instructions (an older
      // function put them there): it goes behind the host disclosure, never beside the main line,
      // so the two cannot contradict each other.
      const forTheHost = (fallback: string) => forHost ?? serverMessage ?? fallback;
      if (code === 'model_not_ready') {
        // Bedrock is still preparing the model; nothing was made. The app sends it again (retry.ts).
        return new ApiError({
          ...base,
          detail: undefined,
          forHost: forTheHost(HOST_HINTS.model_not_ready!),
          retryAfterSeconds: wait,
          message: 'The model is warming up in Amazon Bedrock, so nothing was made yet. Please try again in a minute; if it stays this way, ask your host.',
          action: 'retry',
        });
      }
      if (wait !== undefined) {
        // Bedrock briefly unavailable: passing, retried by the app.
        return new ApiError({
          ...base,
          detail: undefined,
          forHost,
          retryAfterSeconds: wait,
          message: `Amazon Bedrock is briefly unavailable, so nothing was made. Please wait ${seconds(wait)} and try again.`,
          action: 'retry',
        });
      }
      return new ApiError({
        ...base,
        detail: undefined,
        forHost: forTheHost(HOST_HINTS.model_unavailable!),
        message: 'This stack cannot use the image model for this operation right now, so nothing was made. Trying again will not help until it is fixed: please ask your host.',
        action: 'docs',
        docsUrl: MODEL_ACCESS_DOCS,
      });
    }
    case 504:
      return new ApiError({
        ...base,
        message:
          'The model took too long (the API allows about 29 seconds). Try again, or with a smaller picture.',
        action: 'retry',
      });
    case 500:
      return new ApiError({
        ...base,
        message: 'Something went wrong on the server. Please try again; if it keeps happening, tell the operator.',
        action: 'retry',
      });
    default:
      return new ApiError({
        ...base,
        message: `The server answered with an unexpected error (HTTP ${status}). Please try again.`,
        action: status >= 500 ? 'retry' : 'none',
      });
  }
}

export function networkError(): ApiError {
  return new ApiError({
    kind: 'network',
    message: 'Could not reach the API. Check your internet connection and try again.',
    action: 'retry',
  });
}

export function abortedError(): ApiError {
  return new ApiError({ kind: 'aborted', message: 'Stopped.' });
}

export function timeoutError(seconds: number): ApiError {
  return new ApiError({
    kind: 'timeout',
    message: `No answer after ${seconds} seconds. The request was stopped; please try again.`,
    action: 'retry',
  });
}

export function badResponseError(what: string): ApiError {
  return new ApiError({
    kind: 'bad-response',
    message: `The API sent an answer this app does not understand (${what}).`,
    action: 'retry',
  });
}

/** Any thrown value → an ApiError-like object the error display can show (never a silent failure). */
export function toApiError(err: unknown): ApiError {
  if (err instanceof ApiError) return err;
  if (err instanceof DOMException && err.name === 'AbortError') return abortedError();
  if (err instanceof Error) return new ApiError({ kind: 'bad-response', message: err.message });
  return new ApiError({ kind: 'bad-response', message: String(err) });
}

// Turns what the API (or the network) answered into words a person understands.
// Every failure of a request ends up as an ApiError; the UI shows `message` and offers `action`.

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
}

export class ApiError extends Error {
  override name = 'ApiError';
  readonly kind: ErrorKind;
  readonly status: number | undefined;
  readonly code: string | undefined;
  /** The server's own message (e.g. the operator hint for 503), shown as detail. */
  readonly detail: string | undefined;
  readonly field: string | undefined;
  readonly retryAfterSeconds: number | undefined;
  readonly action: ErrorAction;
  readonly docsUrl: string | undefined;

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
  }
}

interface ErrorBody {
  code?: string;
  message?: string;
  field?: string;
}

/** Reads `{"error":{code,message,field}}` (contract), `{"error":"..."}` (seed) or `{"message":"..."}` (gateway). */
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

/** Maps an HTTP error answer to an ApiError with a human message. Pure: tested for every status in the contract. */
export function errorFromResponse(status: number, body: unknown, retryAfterHeader: string | null = null): ApiError {
  const { code, message: serverMessage, field } = parseErrorBody(body);
  const base = { kind: 'http' as const, status, code, field, detail: serverMessage };
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
        return new ApiError({
          ...base,
          retryAfterSeconds: wait,
          message: `${serverMessage ?? "Today's images are used up."} Your limit starts again at 00:00 UTC.`,
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
      if (wait !== undefined) {
        return new ApiError({
          ...base,
          retryAfterSeconds: wait,
          message: `The image model is not ready yet. Please wait ${seconds(wait)} and try again.`,
          action: 'retry',
        });
      }
      return new ApiError({
        ...base,
        message:
          'The image model is not available to this stack: model access is not enabled in Amazon Bedrock (or the model is not offered in this region). An administrator has to enable it.',
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
  return new ApiError({ kind: 'aborted', message: 'Cancelled.' });
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

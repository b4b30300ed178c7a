// The REST API client: fetch with the Cognito ID token, one retry after a 401 with a refreshed token,
// cancellation through AbortSignal, and every failure turned into an ApiError (see errors.ts).

import {
  ApiError,
  abortedError,
  badResponseError,
  errorFromResponse,
  networkError,
  timeoutError,
} from './errors';
import type { Capabilities, EditPage, EditRecord, EditRequest, EditResponse, Usage } from './types';

/** Supplies a valid ID token; `forceRefresh` asks for a new one even if the cached one looks valid. */
export type TokenProvider = (opts?: { forceRefresh?: boolean }) => Promise<string>;

export interface ApiClientOptions {
  baseUrl: string;
  getIdToken: TokenProvider;
  fetch?: typeof fetch;
  /** Client-side limit per request. API Gateway gives up after ~29 s, so 60 s means "something is wrong". */
  timeoutMs?: number;
}

interface RequestOptions {
  body?: unknown;
  headers?: Record<string, string>;
  signal?: AbortSignal;
  timeoutMs?: number;
}

export class ApiClient {
  private readonly baseUrl: string;
  private readonly getIdToken: TokenProvider;
  private readonly fetchFn: typeof fetch;
  private readonly timeoutMs: number;

  constructor(opts: ApiClientOptions) {
    this.baseUrl = opts.baseUrl.replace(/\/+$/, '');
    this.getIdToken = opts.getIdToken;
    // Bind: calling an unbound window.fetch throws "Illegal invocation" in browsers.
    this.fetchFn = opts.fetch ?? ((input, init) => globalThis.fetch(input, init));
    this.timeoutMs = opts.timeoutMs ?? 60_000;
  }

  url(path: string): string {
    return `${this.baseUrl}${path}`;
  }

  capabilities(signal?: AbortSignal): Promise<Capabilities> {
    return this.request<Capabilities>('GET', '/capabilities', { signal });
  }

  usage(signal?: AbortSignal): Promise<Usage> {
    return this.request<Usage>('GET', '/usage', { signal });
  }

  /**
   * `idempotencyKey`: one key per edit the person asked for, the same on every retry of it, so a
   * request sent again never makes a second image (docs/openapi.yaml, Idempotency-Key).
   */
  createEdit(req: EditRequest, signal?: AbortSignal, idempotencyKey?: string): Promise<EditResponse> {
    const headers = idempotencyKey ? { 'Idempotency-Key': idempotencyKey } : undefined;
    return this.request<EditResponse>('POST', '/edits', { body: req, signal, headers }).then((res) => {
      if (!res || !Array.isArray(res.images)) throw badResponseError('no images in the answer');
      return res;
    });
  }

  listEdits(params: { limit?: number; cursor?: string | null } = {}, signal?: AbortSignal): Promise<EditPage> {
    const q = new URLSearchParams();
    if (params.limit) q.set('limit', String(params.limit));
    if (params.cursor) q.set('cursor', params.cursor);
    const qs = q.toString();
    return this.request<EditPage>('GET', `/edits${qs ? `?${qs}` : ''}`, { signal }).then((page) => {
      if (!page || !Array.isArray(page.items)) throw badResponseError('no items in the history answer');
      return { items: page.items, nextCursor: page.nextCursor ?? null };
    });
  }

  getEdit(id: string, signal?: AbortSignal): Promise<EditRecord> {
    return this.request<EditRecord>('GET', `/edits/${encodeURIComponent(id)}`, { signal });
  }

  async deleteEdit(id: string, signal?: AbortSignal): Promise<void> {
    await this.request<void>('DELETE', `/edits/${encodeURIComponent(id)}`, { signal });
  }

  async request<T>(method: string, path: string, opts: RequestOptions = {}): Promise<T> {
    if (opts.signal?.aborted) throw abortedError();
    let token = await this.token(false);
    let res = await this.send(method, path, token, opts);
    if (res.status === 401) {
      // The token may have expired between our check and the gateway's: refresh once and retry.
      token = await this.token(true);
      res = await this.send(method, path, token, opts);
    }
    return this.read<T>(res);
  }

  private async token(forceRefresh: boolean): Promise<string> {
    try {
      return await this.getIdToken(forceRefresh ? { forceRefresh: true } : undefined);
    } catch (err) {
      // The session could not be renewed for a passing reason: say so, keep the user signed in.
      if (err instanceof Error && err.name === 'RefreshFailedError') {
        throw new ApiError({
          kind: 'network',
          message: 'Could not reach the sign-in service to renew your session. Check your connection and try again.',
          action: 'retry',
        });
      }
      // No session or the refresh token was rejected: same remedy as a 401.
      throw errorFromResponse(401, null);
    }
  }

  private async send(method: string, path: string, token: string, opts: RequestOptions): Promise<Response> {
    const controller = new AbortController();
    let timedOut = false;
    const timeoutMs = opts.timeoutMs ?? this.timeoutMs;
    const timer = setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    const onAbort = () => controller.abort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    const headers: Record<string, string> = { ...opts.headers, Authorization: token, Accept: 'application/json' };
    if (opts.body !== undefined) headers['Content-Type'] = 'application/json';
    try {
      return await this.fetchFn(this.url(path), {
        method,
        headers,
        body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
        signal: controller.signal,
      });
    } catch (err) {
      if (timedOut) throw timeoutError(Math.round(timeoutMs / 1000));
      if (opts.signal?.aborted || (err instanceof Error && err.name === 'AbortError')) throw abortedError();
      throw networkError();
    } finally {
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
    }
  }

  private async read<T>(res: Response): Promise<T> {
    if (res.status === 204) return undefined as T;
    let text = '';
    try {
      text = await res.text();
    } catch {
      if (res.ok) throw badResponseError('the answer was cut off');
    }
    let body: unknown = null;
    if (text) {
      try {
        body = JSON.parse(text);
      } catch {
        if (res.ok) throw badResponseError('not JSON');
      }
    }
    if (!res.ok) throw errorFromResponse(res.status, body, res.headers.get('Retry-After'));
    return body as T;
  }
}

export { ApiError };

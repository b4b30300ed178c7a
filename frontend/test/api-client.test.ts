import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../src/api/client';
import { ApiError, HOST_HINTS, MODEL_ACCESS_DOCS, errorFromResponse, parseRetryAfter, toApiError } from '../src/api/errors';
import { json, scriptedFetch } from './helpers';

const err = (code: string, message: string, field?: string, forHost?: string) => ({ error: { code, message, ...(field ? { field } : {}), ...(forHost ? { forHost } : {}) } });
const image = { url: 'https://results.example.test/a.png?sig', downloadUrl: 'https://results.example.test/a.png?sig&dl', contentType: 'image/png', width: 8, height: 8, bytes: 99, expiresAt: '2026-12-05T23:00:00Z' };

describe('errorFromResponse — every status in the contract', () => {
  const cases: [number, unknown, RegExp, string][] = [
    [400, err('validation_error', 'prompt: at most 10000 characters', 'prompt'), /not accepted: prompt: at most 10000/, 'none'],
    [400, err('unsupported_operation', 'supported: inpaint, outpaint'), /cannot do that operation\. supported: inpaint, outpaint/, 'none'],
    [401, { message: 'Unauthorized' }, /sign in again/i, 'sign-in'],
    [404, err('not_found', 'no such edit'), /does not exist/, 'none'],
    [413, err('payload_too_large', 'image above 4500000 bytes'), /too large to send/, 'none'],
    [422, err('content_filtered', 'blocked'), /content filter blocked.*different prompt/, 'none'],
    [429, err('throttled', 'slow down'), /busy.*wait/, 'retry'],
    [429, err('quota_exceeded', "you have used today's 50 images"), /today's 50 images.*starts again at .*00:00 UTC/, 'none'],
    [502, err('model_error', 'boom'), /failed to make a picture/, 'retry'],
    [503, err('model_unavailable', 'enable stability.stable-image-inpaint-v1:0 in us-west-2'), /nothing was made\. .*please ask your host\.$/, 'docs'],
    [503, err('model_not_ready', 'still preparing the model'), /warming up.*nothing was made.*ask your host\.$/, 'retry'],
    [504, err('model_timeout', 'over 29 s'), /took too long/, 'retry'],
    [500, err('internal_error', 'panic'), /went wrong on the server/, 'retry'],
  ];
  for (const [status, body, message, action] of cases) {
    it(`${status} ${(body as { error?: { code?: string } }).error?.code ?? '(gateway)'}`, () => {
      const e = errorFromResponse(status, body);
      expect(e).toBeInstanceOf(ApiError);
      expect(e.kind).toBe('http');
      expect(e.status).toBe(status);
      expect(e.message).toMatch(message);
      expect(e.action).toBe(action);
    });
  }

  it('keeps the server message and field as detail', () => {
    const e = errorFromResponse(400, err('validation_error', 'options.seed: at most 4294967294', 'options.seed'));
    expect(e.code).toBe('validation_error');
    expect(e.field).toBe('options.seed');
    expect(e.detail).toBe('options.seed: at most 4294967294');
  });

  it('503 model_unavailable: the host reads `forHost`, the person a sentence that ends with asking the host', () => {
    const e = errorFromResponse(503, err('model_unavailable', 'This model cannot be used right now.', undefined, 'Enable model access to us.stability.stable-outpaint-v1:0 in us-west-2.'));
    expect(e.docsUrl).toBe(MODEL_ACCESS_DOCS);
    expect(e.forHost).toBe('Enable model access to us.stability.stable-outpaint-v1:0 in us-west-2.');
    expect(e.message).toMatch(/ask your host\.$/);
    expect(e.message).not.toMatch(/enable|administrator/i);
    // No detail line beside the main one: nothing there can contradict it.
    expect(e.detail).toBeUndefined();
  });

  it('503 model_unavailable from an older function (the hint in `message`): the hint goes to the host', () => {
    const e = errorFromResponse(503, err('model_unavailable', 'enable model access for us.stability.stable-outpaint-v1:0'));
    expect(e.forHost).toMatch(/stable-outpaint/);
    expect(e.message).not.toMatch(/stable-outpaint/);
    expect(errorFromResponse(503, { message: 'Service Unavailable' }).forHost).toBe('Service Unavailable');
    expect(errorFromResponse(503, null).forHost).toBe(HOST_HINTS.model_unavailable);
  });

  it('503 model_not_ready: retried, with Retry-After; the host gets their own text', () => {
    const e = errorFromResponse(503, err('model_not_ready', 'Bedrock is still preparing the model; send it again.'), '5');
    expect(e.retryAfterSeconds).toBe(5);
    expect(e.forHost).toBe('Bedrock is still preparing the model; send it again.');
    expect(errorFromResponse(503, err('model_not_ready', 'x', undefined, 'ModelNotReadyException for stability.x')).forHost).toBe('ModelNotReadyException for stability.x');
  });

  it('503 of Bedrock briefly unavailable (Retry-After) says to wait, not to ask anyone to enable anything', () => {
    const e = errorFromResponse(503, err('model_unavailable', 'Bedrock is unavailable; an administrator has to enable access'), '30');
    expect(e.message).toMatch(/briefly unavailable.*wait 30 seconds/);
    expect(e.detail).toBeUndefined();
    expect(e.forHost).toBeUndefined();
  });

  it('429 quota_exceeded: the reset in the reader\'s time, with UTC beside it', () => {
    const now = Date.parse('2026-12-05T22:30:00Z');
    expect(errorFromResponse(429, err('quota_exceeded', 'Used up.'), '5400', { now, timeZone: 'Europe/Paris' }).message).toBe(
      'Used up. Your limit starts again at 01:00 your time (00:00 UTC).',
    );
    expect(errorFromResponse(429, err('quota_exceeded', 'Used up.'), null, { now, timeZone: 'UTC' }).message).toBe('Used up. Your limit starts again at 00:00 UTC.');
  });

  it('429 says how long to wait when Retry-After is readable', () => {
    expect(errorFromResponse(429, err('throttled', 'x'), '7').message).toMatch(/wait 7 seconds/);
    expect(errorFromResponse(429, err('throttled', 'x'), '1').retryAfterSeconds).toBe(1);
    expect(errorFromResponse(429, err('throttled', 'x'), null).message).toMatch(/wait a moment/);
  });

  it('reads the seed error shape and unknown statuses', () => {
    expect(errorFromResponse(400, { error: 'Invalid mode', request_id: 'r' }).detail).toBe('Invalid mode');
    expect(errorFromResponse(418, null).message).toMatch(/HTTP 418/);
    expect(errorFromResponse(403, { message: 'Forbidden' }).action).toBe('sign-in');
  });

  it('parseRetryAfter handles seconds and HTTP dates', () => {
    expect(parseRetryAfter('30')).toBe(30);
    expect(parseRetryAfter('Wed, 25 Nov 2026 15:00:10 GMT', Date.parse('Wed, 25 Nov 2026 15:00:00 GMT'))).toBe(10);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('toApiError wraps anything thrown', () => {
    expect(toApiError(new DOMException('x', 'AbortError')).kind).toBe('aborted');
    expect(toApiError('weird').message).toBe('weird');
  });
});

describe('ApiClient', () => {
  const base = 'https://api.example.test/prod/';
  const token = vi.fn(async (_o?: { forceRefresh?: boolean }) => 'ID.TOKEN.1');

  it('sends the raw ID token (no Bearer) and JSON, to the stage URL', async () => {
    const { fetch, calls } = scriptedFetch(json(200, { id: 'e1', images: [image], keptUntil: '2026-12-12T00:00:00Z', seeds: [1], model: 'm', operation: 'inpaint', durationMs: 5 }));
    const api = new ApiClient({ baseUrl: base, getIdToken: token, fetch });
    const res = await api.createEdit({ operation: 'inpaint', prompt: 'x' });
    expect(res.id).toBe('e1');
    expect(calls[0]!.url).toBe('https://api.example.test/prod/edits');
    expect(calls[0]!.init.method).toBe('POST');
    expect(calls[0]!.headers.Authorization).toBe('ID.TOKEN.1');
    expect(calls[0]!.headers['Content-Type']).toBe('application/json');
    expect(JSON.parse(String(calls[0]!.init.body))).toEqual({ operation: 'inpaint', prompt: 'x' });
  });

  it('sends the edit\'s Idempotency-Key when it has one, and none otherwise', async () => {
    const reply = () => json(200, { id: 'e1', images: [image], keptUntil: '2026-12-12T00:00:00Z', seeds: [1], model: 'm', operation: 'inpaint', durationMs: 5 });
    const { fetch, calls } = scriptedFetch(reply(), reply());
    const api = new ApiClient({ baseUrl: base, getIdToken: token, fetch });
    await api.createEdit({ operation: 'inpaint', prompt: 'x' }, undefined, 'k-1');
    await api.createEdit({ operation: 'inpaint', prompt: 'x' });
    expect(calls[0]!.headers['Idempotency-Key']).toBe('k-1');
    expect(calls[1]!.headers['Idempotency-Key']).toBeUndefined();
  });

  it('maps an error answer to an ApiError with the human message', async () => {
    const { fetch } = scriptedFetch(json(422, err('content_filtered', 'blocked by our content filters')));
    const api = new ApiClient({ baseUrl: base, getIdToken: token, fetch });
    const e = await api.createEdit({ operation: 'inpaint' }).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect((e as ApiError).status).toBe(422);
    expect((e as ApiError).message).toMatch(/content filter/);
  });

  it('gateway 401 {"message":"Unauthorized"}: refreshes the token once, retries, then asks to sign in', async () => {
    const getIdToken = vi.fn(async (o?: { forceRefresh?: boolean }) => (o?.forceRefresh ? 'FRESH' : 'STALE'));
    const { fetch, calls } = scriptedFetch(json(401, { message: 'Unauthorized' }), json(401, { message: 'Unauthorized' }));
    const api = new ApiClient({ baseUrl: base, getIdToken, fetch });
    const e = (await api.listEdits().catch((x: unknown) => x)) as ApiError;
    expect(calls.map((c) => c.headers.Authorization)).toEqual(['STALE', 'FRESH']);
    expect(getIdToken).toHaveBeenLastCalledWith({ forceRefresh: true });
    expect(e.status).toBe(401);
    expect(e.action).toBe('sign-in');
  });

  it('a 401 followed by success after the refresh is invisible to the caller', async () => {
    const getIdToken = vi.fn(async (o?: { forceRefresh?: boolean }) => (o?.forceRefresh ? 'FRESH' : 'STALE'));
    const { fetch } = scriptedFetch(json(401, { message: 'Unauthorized' }), json(200, { items: [], nextCursor: null }));
    const api = new ApiClient({ baseUrl: base, getIdToken, fetch });
    await expect(api.listEdits()).resolves.toEqual({ items: [], nextCursor: null });
  });

  it('no session (token provider rejects) → the sign-in error, without calling the API', async () => {
    const { fetch, calls } = scriptedFetch();
    const api = new ApiClient({ baseUrl: base, getIdToken: async () => Promise.reject(new Error('Not signed in')), fetch });
    const e = (await api.capabilities().catch((x: unknown) => x)) as ApiError;
    expect(e.action).toBe('sign-in');
    expect(calls).toHaveLength(0);
  });

  it('network failure (fetch rejects, e.g. offline or CORS) → "could not reach"', async () => {
    const { fetch } = scriptedFetch(new TypeError('Failed to fetch'));
    const api = new ApiClient({ baseUrl: base, getIdToken: token, fetch });
    const e = (await api.capabilities().catch((x: unknown) => x)) as ApiError;
    expect(e.kind).toBe('network');
    expect(e.message).toMatch(/Could not reach the API/);
    expect(e.action).toBe('retry');
  });

  it('cancel: aborting the signal rejects with kind "aborted"', async () => {
    const { fetch } = scriptedFetch(
      (call) =>
        new Promise<never>((_, reject) => {
          call.init.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        }),
    );
    const api = new ApiClient({ baseUrl: base, getIdToken: token, fetch });
    const ctrl = new AbortController();
    const p = api.createEdit({ operation: 'inpaint' }, ctrl.signal);
    setTimeout(() => ctrl.abort(), 5);
    const e = (await p.catch((x: unknown) => x)) as ApiError;
    expect(e.kind).toBe('aborted');
  });

  it('an already aborted signal never calls fetch', async () => {
    const { fetch, calls } = scriptedFetch();
    const api = new ApiClient({ baseUrl: base, getIdToken: token, fetch });
    const ctrl = new AbortController();
    ctrl.abort();
    await expect(api.capabilities(ctrl.signal)).rejects.toMatchObject({ kind: 'aborted' });
    expect(calls).toHaveLength(0);
  });

  it('client-side timeout → kind "timeout"', async () => {
    const { fetch } = scriptedFetch(
      (call) =>
        new Promise<never>((_, reject) => {
          call.init.signal!.addEventListener('abort', () => reject(new DOMException('aborted', 'AbortError')));
        }),
    );
    const api = new ApiClient({ baseUrl: base, getIdToken: token, fetch, timeoutMs: 10 });
    await expect(api.capabilities()).rejects.toMatchObject({ kind: 'timeout' });
  });

  it('a non-JSON error page (e.g. a proxy 502) still maps by status', async () => {
    const { fetch } = scriptedFetch(new Response('<html>Bad gateway</html>', { status: 502 }));
    const api = new ApiClient({ baseUrl: base, getIdToken: token, fetch });
    await expect(api.capabilities()).rejects.toMatchObject({ status: 502, action: 'retry' });
  });

  it('a 200 that is not JSON is reported, not swallowed', async () => {
    const { fetch } = scriptedFetch(new Response('<html>index</html>', { status: 200 }));
    const api = new ApiClient({ baseUrl: base, getIdToken: token, fetch });
    await expect(api.capabilities()).rejects.toMatchObject({ kind: 'bad-response' });
  });

  it('history paging, get and delete (204)', async () => {
    const { fetch, calls } = scriptedFetch(
      json(200, { items: [{ id: 'a' }], nextCursor: 'CUR SOR' }),
      json(200, { id: 'a/b' }),
      new Response(null, { status: 204 }),
    );
    const api = new ApiClient({ baseUrl: base, getIdToken: token, fetch });
    const page = await api.listEdits({ limit: 12, cursor: 'prev+/=' });
    expect(page.nextCursor).toBe('CUR SOR');
    await api.getEdit('a/b');
    await expect(api.deleteEdit('a/b')).resolves.toBeUndefined();
    expect(calls.map((c) => `${c.init.method} ${c.url}`)).toEqual([
      'GET https://api.example.test/prod/edits?limit=12&cursor=prev%2B%2F%3D',
      'GET https://api.example.test/prod/edits/a%2Fb',
      'DELETE https://api.example.test/prod/edits/a%2Fb',
    ]);
    expect(calls[0]!.headers['Content-Type']).toBeUndefined();
  });
});

import { describe, expect, it, vi } from 'vitest';
import { ApiClient } from '../src/api/client';
import { Session } from '../src/auth/session';
import type { AuthBackend, Tokens } from '../src/auth/types';
import { fakeJwt, json, scriptedFetch } from './helpers';

const NOW = 1_800_000_000; // seconds

function tokens(name: string, expInSeconds: number): Tokens {
  return { idToken: fakeJwt({ sub: 'user-1', name, exp: NOW + expInSeconds }), accessToken: `access-${name}`, username: 'a@example.com' };
}

function fakeBackend(over: Partial<AuthBackend> = {}) {
  const backend: AuthBackend = {
    restore: vi.fn(async () => null),
    refresh: vi.fn(async () => tokens('fresh', 3600)),
    signIn: vi.fn(async () => ({ kind: 'signed-in' as const, tokens: tokens('signin', 3600) })),
    completeNewPassword: vi.fn(async () => ({ kind: 'signed-in' as const, tokens: tokens('newpw', 3600) })),
    signUp: vi.fn(async () => ({ confirmed: false })),
    confirmSignUp: vi.fn(async () => undefined),
    resendSignUpCode: vi.fn(async () => ({})),
    forgotPassword: vi.fn(async () => ({})),
    confirmForgotPassword: vi.fn(async () => undefined),
    signOut: vi.fn(async () => undefined),
    ...over,
  };
  return backend;
}

const now = () => NOW * 1000;

describe('Session token refresh', () => {
  it('a token about to expire is refreshed BEFORE the API request, which carries the new token', async () => {
    const order: string[] = [];
    const backend = fakeBackend({
      restore: vi.fn(async () => tokens('old', 3600)),
      refresh: vi.fn(async () => {
        order.push('refresh');
        return tokens('fresh', 3600);
      }),
    });
    let clock = NOW * 1000;
    const s = new Session(backend, { now: () => clock, refreshSkewSeconds: 300 });
    await s.restore();
    expect(order).toEqual([]);
    // 58 minutes later the ID token has two minutes left: inside the 5-minute skew.
    clock += 58 * 60 * 1000;
    const { fetch, calls } = scriptedFetch(() => {
      order.push('request');
      return json(200, { items: [], nextCursor: null });
    });
    const api = new ApiClient({ baseUrl: 'https://x.test/prod', getIdToken: (o) => s.getIdToken(o), fetch });
    await api.listEdits();
    expect(order).toEqual(['refresh', 'request']);
    expect(calls[0]!.headers.Authorization).toBe(tokens('fresh', 3600).idToken);
  });

  it('restore() refreshes a stored token that is about to expire', async () => {
    const backend = fakeBackend({ restore: vi.fn(async () => tokens('old', 60)) });
    const s = new Session(backend, { now, refreshSkewSeconds: 300 });
    expect(await s.restore()).toBe(true);
    expect(backend.refresh).toHaveBeenCalledTimes(1);
    expect(s.current?.accessToken).toBe('access-fresh');
  });

  it('a token with plenty of time left is used as is', async () => {
    const backend = fakeBackend({ restore: vi.fn(async () => tokens('old', 3600)) });
    const s = new Session(backend, { now });
    await s.restore();
    await expect(s.getIdToken()).resolves.toBe(tokens('old', 3600).idToken);
    expect(backend.refresh).not.toHaveBeenCalled();
  });

  it('concurrent requests share one refresh', async () => {
    let resolve!: (t: Tokens) => void;
    const backend = fakeBackend({
      restore: vi.fn(async () => tokens('old', 10)),
      refresh: vi.fn(() => new Promise<Tokens>((r) => (resolve = r))),
    });
    const s = new Session(backend, { now, refreshSkewSeconds: 300 });
    (s as unknown as { tokens: Tokens }).tokens = tokens('old', 10);
    const a = s.getIdToken();
    const b = s.getIdToken();
    const c = s.getIdToken({ forceRefresh: true });
    resolve(tokens('fresh', 3600));
    const got = await Promise.all([a, b, c]);
    expect(new Set(got)).toEqual(new Set([tokens('fresh', 3600).idToken]));
    expect(backend.refresh).toHaveBeenCalledTimes(1);
  });

  it('forceRefresh (after a 401) refreshes even a valid-looking token', async () => {
    const backend = fakeBackend({ restore: vi.fn(async () => tokens('old', 3600)) });
    const s = new Session(backend, { now });
    await s.restore();
    await expect(s.getIdToken({ forceRefresh: true })).resolves.toBe(tokens('fresh', 3600).idToken);
  });

  it('a rejected refresh token signs the user out: listeners hear it, the API reports "sign in again"', async () => {
    const backend = fakeBackend({
      restore: vi.fn(async () => tokens('old', 3600)),
      refresh: vi.fn(async () => Promise.reject(Object.assign(new Error('Refresh Token has been revoked'), { code: 'NotAuthorizedException' }))),
    });
    const s = new Session(backend, { now });
    await s.restore();
    const heard: (Tokens | null)[] = [];
    s.onChange((t) => heard.push(t));
    (s as unknown as { tokens: Tokens }).tokens = tokens('expiring', 5);
    const { fetch, calls } = scriptedFetch();
    const api = new ApiClient({ baseUrl: 'https://x.test/prod', getIdToken: (o) => s.getIdToken(o), fetch });
    await expect(api.capabilities()).rejects.toMatchObject({ status: 401, action: 'sign-in' });
    expect(calls).toHaveLength(0);
    expect(s.current).toBeNull();
    expect(heard).toEqual([null]);
    expect(backend.signOut).toHaveBeenCalledWith(false);
  });

  it('short-lived tokens (5 min) are refreshed in their last quarter, not on every request', async () => {
    const short = (n: string, left: number) => ({ ...tokens(n, left), idToken: fakeJwt({ sub: 'user-1', iat: NOW + left - 300, exp: NOW + left }) });
    const backend = fakeBackend({ restore: vi.fn(async () => short('a', 280)) });
    const s = new Session(backend, { now, refreshSkewSeconds: 300 });
    await s.restore();
    await s.getIdToken();
    expect(backend.refresh).not.toHaveBeenCalled();
    (s as unknown as { tokens: Tokens }).tokens = short('b', 60);
    await s.getIdToken();
    expect(backend.refresh).toHaveBeenCalledTimes(1);
  });

  it('restore: no stored session, or an expired one that cannot be refreshed → signed out', async () => {
    expect(await new Session(fakeBackend(), { now }).restore()).toBe(false);
    const expired = fakeBackend({
      restore: vi.fn(async () => tokens('old', -10)),
      refresh: vi.fn(async () => Promise.reject(Object.assign(new Error('Refresh Token has expired'), { code: 'NotAuthorizedException' }))),
    });
    const s = new Session(expired, { now });
    expect(await s.restore()).toBe(false);
    expect(expired.signOut).toHaveBeenCalledWith(false);
    await expect(s.getIdToken()).rejects.toThrow(/Not signed in/);
  });

  it('restore while offline: not signed in, but the stored tokens are kept for the next reload', async () => {
    const offline = fakeBackend({
      restore: vi.fn(async () => tokens('old', -10)),
      refresh: vi.fn(async () => Promise.reject(Object.assign(new Error('Network error'), { code: 'NetworkError' }))),
    });
    expect(await new Session(offline, { now }).restore()).toBe(false);
    expect(offline.signOut).not.toHaveBeenCalled();
  });

  it('a network failure while refreshing keeps the session and reports a connection problem', async () => {
    const backend = fakeBackend({
      restore: vi.fn(async () => tokens('old', 3600)),
      refresh: vi.fn(async () => Promise.reject(Object.assign(new Error('Network error'), { code: 'NetworkError' }))),
    });
    const s = new Session(backend, { now });
    await s.restore();
    (s as unknown as { tokens: Tokens }).tokens = tokens('expiring', 5);
    const api = new ApiClient({ baseUrl: 'https://x.test/prod', getIdToken: (o) => s.getIdToken(o), fetch: scriptedFetch().fetch });
    await expect(api.capabilities()).rejects.toMatchObject({ kind: 'network', message: expect.stringMatching(/renew your session/) });
    expect(s.current).not.toBeNull();
    expect(backend.signOut).not.toHaveBeenCalled();
  });

  it('restore: a stored session that the library cannot read → signed out', async () => {
    const s = new Session(fakeBackend({ restore: vi.fn(async () => Promise.reject(new Error('Local storage is missing an ID Token'))) }), { now });
    expect(await s.restore()).toBe(false);
  });

  it('sign in, first-login new password, sign out', async () => {
    const backend = fakeBackend({ signIn: vi.fn(async () => ({ kind: 'new-password-required' as const })) });
    const s = new Session(backend, { now });
    const heard: boolean[] = [];
    s.onChange((t) => heard.push(t !== null));
    expect((await s.signIn('a@example.com', 'Temp#1234')).kind).toBe('new-password-required');
    expect(s.current).toBeNull();
    expect((await s.completeNewPassword('Perm#12345')).kind).toBe('signed-in');
    expect(s.current?.accessToken).toBe('access-newpw');
    await s.signOut();
    expect(backend.signOut).toHaveBeenCalledWith(true);
    expect(heard).toEqual([true, false]);
  });
});

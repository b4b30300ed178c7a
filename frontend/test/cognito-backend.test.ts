// @vitest-environment happy-dom
// CognitoBackend against a fake Cognito (the JSON protocol amazon-cognito-identity-js speaks).
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CognitoBackend } from '../src/auth/cognito';
import { Session } from '../src/auth/session';
import type { AppConfig } from '../src/config';
import { fakeJwt } from './helpers';

const config: AppConfig = {
  region: 'us-east-1',
  userPoolId: `us-east-1_${'a1'.repeat(16)}`,
  userPoolClientId: 'client123',
  apiUrl: 'http://127.0.0.1:9/prod',
  cognitoEndpoint: 'http://127.0.0.1:5000',
  selfSignUp: true,
  local: true,
  stackName: 'test',
};

interface Sent {
  url: string;
  target: string;
  body: Record<string, any>;
}

function cognito(handler: (target: string, body: Record<string, any>) => { status?: number; body: unknown }) {
  const sent: Sent[] = [];
  const fetchFn = vi.fn(async (url: string, init: RequestInit) => {
    const target = String((init.headers as Record<string, string>)['X-Amz-Target']).split('.').pop()!;
    const body = JSON.parse(String(init.body));
    sent.push({ url: String(url), target, body });
    const r = handler(target, body);
    return new Response(JSON.stringify(r.body), { status: r.status ?? 200, headers: { 'Content-Type': 'application/x-amz-json-1.1' } });
  });
  vi.stubGlobal('fetch', fetchFn);
  return sent;
}

const now = () => Math.floor(Date.now() / 1000);
const idToken = (n: number) => fakeJwt({ sub: 'u-1', email: 'demo@example.com', token_use: 'id', exp: now() + 3600, iat: now(), n });
const accessToken = (n: number) => fakeJwt({ sub: 'u-1', token_use: 'access', exp: now() + 3600, iat: now(), n });
const authResult = (n: number, refresh = true) => ({
  AuthenticationResult: { IdToken: idToken(n), AccessToken: accessToken(n), ...(refresh ? { RefreshToken: `refresh-${n}` } : {}), ExpiresIn: 3600, TokenType: 'Bearer' },
});

beforeEach(() => localStorage.clear());
afterEach(() => vi.unstubAllGlobals());

describe('CognitoBackend', () => {
  it('local cloud: USER_PASSWORD_AUTH at the configured endpoint; tokens survive a "reload"', async () => {
    const sent = cognito(() => ({ body: authResult(1) }));
    const step = await new CognitoBackend(config).signIn(' demo@example.com ', 'Passw0rd!');
    expect(step.kind).toBe('signed-in');
    expect(sent).toHaveLength(1);
    expect(sent[0]!.url).toBe('http://127.0.0.1:5000');
    expect(sent[0]!.target).toBe('InitiateAuth');
    expect(sent[0]!.body).toMatchObject({ AuthFlow: 'USER_PASSWORD_AUTH', ClientId: 'client123', AuthParameters: { USERNAME: 'demo@example.com', PASSWORD: 'Passw0rd!' } });

    // A new page load: a new backend reads what the library stored.
    const restored = await new CognitoBackend(config).restore();
    expect(restored).toEqual({ idToken: idToken(1), accessToken: accessToken(1), username: 'demo@example.com' });
  });

  it('AWS: SRP sign-in (the password never leaves the browser)', async () => {
    const sent = cognito(() => ({ status: 400, body: { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' } }));
    await expect(new CognitoBackend({ ...config, local: false, cognitoEndpoint: null }).signIn('demo@example.com', 'x')).rejects.toMatchObject({ code: 'NotAuthorizedException' });
    expect(sent[0]!.body.AuthFlow).toBe('USER_SRP_AUTH');
    expect(JSON.stringify(sent[0]!.body)).not.toContain('"PASSWORD"');
    expect(sent[0]!.url).toBe('https://cognito-idp.us-east-1.amazonaws.com/');
  });

  it('first login: NEW_PASSWORD_REQUIRED, then RespondToAuthChallenge', async () => {
    const sent = cognito((target) =>
      target === 'InitiateAuth'
        ? { body: { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'sess-1', ChallengeParameters: { userAttributes: '{"email":"demo@example.com"}', requiredAttributes: '[]' } } }
        : { body: authResult(2) },
    );
    const b = new CognitoBackend(config);
    expect(await b.signIn('demo@example.com', 'Temp0rary!')).toEqual({ kind: 'new-password-required' });
    const step = await b.completeNewPassword('N3w-Passw0rd!');
    expect(step.kind).toBe('signed-in');
    expect(sent[1]!.target).toBe('RespondToAuthChallenge');
    expect(sent[1]!.body).toMatchObject({ ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: 'sess-1', ChallengeResponses: { NEW_PASSWORD: 'N3w-Passw0rd!' } });
  });

  it('refresh: one REFRESH_TOKEN_AUTH call; new tokens stored, refresh token kept', async () => {
    let n = 0;
    const sent = cognito((_t, body) => ({ body: body.AuthFlow === 'REFRESH_TOKEN_AUTH' ? authResult(10, false) : authResult(++n) }));
    const b = new CognitoBackend(config);
    await b.signIn('demo@example.com', 'Passw0rd!');
    const fresh = await b.refresh();
    expect(fresh.idToken).toBe(idToken(10));
    expect(sent[1]!.body).toMatchObject({ AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: 'refresh-1' } });
    expect((await new CognitoBackend(config).restore())?.idToken).toBe(idToken(10));
    expect(localStorage.getItem('CognitoIdentityServiceProvider.client123.demo@example.com.refreshToken')).toBe('refresh-1');
  });

  it('a revoked refresh token fails at once (no retry loop) and the Session signs out', async () => {
    const sent = cognito((_t, body) =>
      body.AuthFlow === 'REFRESH_TOKEN_AUTH'
        ? { status: 400, body: { __type: 'NotAuthorizedException', message: 'Refresh Token has been revoked' } }
        : { body: authResult(1) },
    );
    const b = new CognitoBackend(config);
    await b.signIn('demo@example.com', 'Passw0rd!');
    const session = new Session(b, { now: () => Date.now() + 3590 * 1000 });
    const started = Date.now();
    expect(await session.restore()).toBe(false);
    expect(Date.now() - started).toBeLessThan(1000);
    expect(sent.filter((s) => s.body.AuthFlow === 'REFRESH_TOKEN_AUTH')).toHaveLength(1);
    expect(await new CognitoBackend(config).restore()).toBeNull();
  });

  it('sign up, confirm, forgot password', async () => {
    const sent = cognito((target) => ({
      body:
        target === 'SignUp'
          ? { UserConfirmed: false, UserSub: 'u-2', CodeDeliveryDetails: { Destination: 'd***@e***.com', DeliveryMedium: 'EMAIL' } }
          : target === 'ForgotPassword'
            ? { CodeDeliveryDetails: { Destination: 'd***@e***.com' } }
            : {},
    }));
    const b = new CognitoBackend(config);
    expect(await b.signUp('new@example.com', 'Passw0rd!')).toEqual({ confirmed: false, destination: 'd***@e***.com' });
    await b.confirmSignUp('new@example.com', ' 123456 ');
    expect(await b.forgotPassword('new@example.com')).toEqual({ destination: 'd***@e***.com' });
    await b.confirmForgotPassword('new@example.com', '654321', 'N3w-Passw0rd!');
    expect(sent.map((s) => s.target)).toEqual(['SignUp', 'ConfirmSignUp', 'ForgotPassword', 'ConfirmForgotPassword']);
    expect(sent[0]!.body.UserAttributes).toEqual([{ Name: 'email', Value: 'new@example.com' }]);
    expect(sent[1]!.body.ConfirmationCode).toBe('123456');
  });

  it('sign out forgets the stored tokens (no RevokeToken for tokens without origin_jti)', async () => {
    const sent = cognito(() => ({ body: authResult(1) }));
    const b = new CognitoBackend(config);
    await b.signIn('demo@example.com', 'Passw0rd!');
    await b.signOut(true);
    expect(sent).toHaveLength(1);
    expect(Object.keys(localStorage).filter((k) => k.includes('idToken'))).toEqual([]);
    expect(await b.restore()).toBeNull();
  });
});

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

// Cognito's side of USER_SRP_AUTH as far as the library needs it: InitiateAuth answers the
// PASSWORD_VERIFIER challenge (arbitrary numbers: this fake does not check the proof, the local
// cloud's Cognito does — localcloud/src/moto_patches.py), RespondToAuthChallenge takes the proof.
// USER_ID_FOR_SRP is the user's user name, the sub in a pool that signs in with e-mail addresses;
// the library keeps the tokens under it.
const srpChallenge = {
  ChallengeName: 'PASSWORD_VERIFIER',
  ChallengeParameters: {
    SALT: '5a1e'.repeat(8),
    SRP_B: 'b0'.repeat(384),
    SECRET_BLOCK: Buffer.from('secret block').toString('base64'),
    USERNAME: 'u-1',
    USER_ID_FOR_SRP: 'u-1',
  },
};
const srpStart = (target: string, body: Record<string, any>) => target === 'InitiateAuth' && body.AuthFlow === 'USER_SRP_AUTH';
const srpProof = (target: string, body: Record<string, any>) => target === 'RespondToAuthChallenge' && body.ChallengeName === 'PASSWORD_VERIFIER';
/** Signs in by SRP with `answer` to the proof; `other` answers every other call. */
function srpCognito(
  answer: () => { status?: number; body: unknown },
  other: (target: string, body: Record<string, any>) => { status?: number; body: unknown } = () => ({ body: {} }),
) {
  return cognito((target, body) => (srpStart(target, body) ? { body: srpChallenge } : srpProof(target, body) ? answer() : other(target, body)));
}

beforeEach(() => localStorage.clear());
afterEach(() => vi.unstubAllGlobals());

describe('CognitoBackend', () => {
  it('local cloud: SRP sign-in at the configured endpoint; tokens survive a "reload"', async () => {
    const sent = srpCognito(() => ({ body: authResult(1) }));
    const step = await new CognitoBackend(config).signIn(' demo@example.com ', 'Passw0rd!');
    expect(step.kind).toBe('signed-in');
    expect(sent.map((s) => s.target)).toEqual(['InitiateAuth', 'RespondToAuthChallenge']);
    expect(sent.every((s) => s.url === 'http://127.0.0.1:5000')).toBe(true);
    expect(sent[0]!.body).toMatchObject({ AuthFlow: 'USER_SRP_AUTH', ClientId: 'client123', AuthParameters: { USERNAME: 'demo@example.com' } });
    expect(sent[0]!.body.AuthParameters.SRP_A).toMatch(/^[0-9a-f]{200,}$/);
    // The proof: signed with the challenge's SECRET_BLOCK, under USER_ID_FOR_SRP, at a Cognito
    // timestamp (day not zero-padded). The password itself is never sent.
    expect(sent[1]!.body).toMatchObject({
      ChallengeName: 'PASSWORD_VERIFIER',
      ClientId: 'client123',
      ChallengeResponses: { USERNAME: 'u-1', PASSWORD_CLAIM_SECRET_BLOCK: srpChallenge.ChallengeParameters.SECRET_BLOCK },
    });
    expect(sent[1]!.body.ChallengeResponses.TIMESTAMP).toMatch(/^(Sun|Mon|Tue|Wed|Thu|Fri|Sat) [A-Z][a-z]{2} [1-9]\d? \d\d:\d\d:\d\d UTC \d{4}$/);
    expect(sent[1]!.body.ChallengeResponses.PASSWORD_CLAIM_SIGNATURE).toMatch(/^[A-Za-z0-9+/]{43}=$/);
    expect(JSON.stringify(sent)).not.toContain('Passw0rd!');

    // A new page load: a new backend reads what the library stored.
    const restored = await new CognitoBackend(config).restore();
    expect(restored).toEqual({ idToken: idToken(1), accessToken: accessToken(1), username: 'demo@example.com' });
  });

  it('AWS: SRP at the regional endpoint; a wrong password is refused at the proof', async () => {
    const sent = srpCognito(() => ({ status: 400, body: { __type: 'NotAuthorizedException', message: 'Incorrect username or password.' } }));
    await expect(new CognitoBackend({ ...config, cognitoEndpoint: null }).signIn('demo@example.com', 'wrong-pass')).rejects.toMatchObject({
      code: 'NotAuthorizedException',
    });
    expect(sent.map((s) => `${s.target} ${s.body.AuthFlow ?? s.body.ChallengeName}`)).toEqual(['InitiateAuth USER_SRP_AUTH', 'RespondToAuthChallenge PASSWORD_VERIFIER']);
    expect(JSON.stringify(sent)).not.toContain('wrong-pass');
    expect(sent.every((s) => s.url === 'https://cognito-idp.us-east-1.amazonaws.com/')).toBe(true);
  });

  it('first login: the SRP proof answers NEW_PASSWORD_REQUIRED, then RespondToAuthChallenge', async () => {
    const sent = srpCognito(
      () => ({
        body: {
          ChallengeName: 'NEW_PASSWORD_REQUIRED',
          Session: 'sess-1',
          ChallengeParameters: { USER_ID_FOR_SRP: 'u-1', userAttributes: '{"email":"demo@example.com"}', requiredAttributes: '[]' },
        },
      }),
      () => ({ body: authResult(2) }),
    );
    const b = new CognitoBackend(config);
    expect(await b.signIn('demo@example.com', 'Temp0rary!')).toEqual({ kind: 'new-password-required' });
    const step = await b.completeNewPassword('N3w-Passw0rd!');
    expect(step.kind).toBe('signed-in');
    expect(sent).toHaveLength(3);
    expect(sent[2]!.target).toBe('RespondToAuthChallenge');
    expect(sent[2]!.body).toMatchObject({
      ChallengeName: 'NEW_PASSWORD_REQUIRED',
      Session: 'sess-1',
      ChallengeResponses: { USERNAME: 'u-1', NEW_PASSWORD: 'N3w-Passw0rd!' },
    });
  });

  it('refresh: one REFRESH_TOKEN_AUTH call; new tokens stored, refresh token kept', async () => {
    let n = 0;
    const sent = srpCognito(
      () => ({ body: authResult(++n) }),
      (_t, body) => ({ body: body.AuthFlow === 'REFRESH_TOKEN_AUTH' ? authResult(10, false) : {} }),
    );
    const b = new CognitoBackend(config);
    await b.signIn('demo@example.com', 'Passw0rd!');
    const fresh = await b.refresh();
    expect(fresh.idToken).toBe(idToken(10));
    expect(sent[2]!.body).toMatchObject({ AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: 'refresh-1' } });
    expect((await new CognitoBackend(config).restore())?.idToken).toBe(idToken(10));
    // The library keeps the tokens under USER_ID_FOR_SRP.
    expect(localStorage.getItem('CognitoIdentityServiceProvider.client123.u-1.refreshToken')).toBe('refresh-1');
  });

  it('a revoked refresh token fails at once (no retry loop) and the Session signs out', async () => {
    const sent = srpCognito(
      () => ({ body: authResult(1) }),
      () => ({ status: 400, body: { __type: 'NotAuthorizedException', message: 'Refresh Token has been revoked' } }),
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
    const sent = srpCognito(() => ({ body: authResult(1) }));
    const b = new CognitoBackend(config);
    await b.signIn('demo@example.com', 'Passw0rd!');
    await b.signOut(true);
    expect(sent.map((s) => s.target)).toEqual(['InitiateAuth', 'RespondToAuthChallenge']);
    expect(Object.keys(localStorage).filter((k) => k.includes('idToken'))).toEqual([]);
    expect(await b.restore()).toBeNull();
  });
});

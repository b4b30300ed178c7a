// AuthBackend on top of amazon-cognito-identity-js. The library keeps the tokens in localStorage
// (keys "CognitoIdentityServiceProvider.<clientId>.<user>.idToken|accessToken|refreshToken" and
// ".LastAuthUser"), which is what keeps a session across reloads.
// Users sign in with their e-mail address as the user name.
//
// restore() and refresh() do not go through CognitoUser.getSession()/refreshSession(): those retry a
// rejected refresh token for ~6 s with back-off ("all errors are retryable" in the library), which
// would freeze the page on load after a session expired. We read the stored tokens ourselves and send
// one InitiateAuth REFRESH_TOKEN_AUTH through the library's own client.

/** Thrown when Cognito rejects the refresh token (expired, revoked, user disabled): the user must sign in. */
export class SessionRejectedError extends Error {
  override name = 'SessionRejectedError';
}

interface LibraryClient {
  request(operation: string, params: object, callback: (err: (Error & { code?: string }) | null, data: any) => void): void;
}

interface AuthResult {
  IdToken: string;
  AccessToken: string;
  RefreshToken?: string;
}

import {
  AuthenticationDetails,
  CognitoAccessToken,
  CognitoIdToken,
  CognitoRefreshToken,
  CognitoUser,
  CognitoUserAttribute,
  CognitoUserPool,
  CognitoUserSession,
  type IAuthenticationCallback,
} from 'amazon-cognito-identity-js';
import type { AppConfig } from '../config';
import type { AuthBackend, SignInStep, SignUpResult, Tokens } from './types';

function toTokens(session: CognitoUserSession, username: string): Tokens {
  const id = session.getIdToken();
  const email = id.payload.email;
  return {
    idToken: id.getJwtToken(),
    accessToken: session.getAccessToken().getJwtToken(),
    username: typeof email === 'string' ? email : username,
  };
}

function destinationOf(data: unknown): string | undefined {
  const d = data as { CodeDeliveryDetails?: { Destination?: string }; codeDeliveryDetails?: { Destination?: string } };
  return d?.CodeDeliveryDetails?.Destination ?? d?.codeDeliveryDetails?.Destination;
}

export class CognitoBackend implements AuthBackend {
  private readonly pool: CognitoUserPool;
  /** The user in the middle of a sign-in challenge (new password). */
  private pending: CognitoUser | null = null;

  private readonly storage: Storage;

  constructor(
    private readonly config: AppConfig,
    storage: Storage = window.localStorage,
  ) {
    this.storage = storage;
    this.pool = new CognitoUserPool({
      UserPoolId: config.userPoolId,
      ClientId: config.userPoolClientId,
      Storage: storage,
      ...(config.cognitoEndpoint ? { endpoint: config.cognitoEndpoint } : {}),
    });
  }

  private stored(): { username: string; idToken: string | null; accessToken: string | null; refreshToken: string | null } | null {
    const prefix = `CognitoIdentityServiceProvider.${this.config.userPoolClientId}`;
    const username = this.storage.getItem(`${prefix}.LastAuthUser`);
    if (!username) return null;
    const get = (k: string) => this.storage.getItem(`${prefix}.${username}.${k}`);
    return { username, idToken: get('idToken'), accessToken: get('accessToken'), refreshToken: get('refreshToken') };
  }

  private user(email: string): CognitoUser {
    return new CognitoUser({ Username: email.trim(), Pool: this.pool, Storage: this.storage });
  }

  async restore(): Promise<Tokens | null> {
    const s = this.stored();
    if (!s?.idToken || !s.accessToken) return null;
    const username = (() => {
      try {
        const email = new CognitoIdToken({ IdToken: s.idToken }).payload.email;
        return typeof email === 'string' ? email : s.username;
      } catch {
        return s.username;
      }
    })();
    return { idToken: s.idToken, accessToken: s.accessToken, username };
  }

  async refresh(): Promise<Tokens> {
    const s = this.stored();
    if (!s?.refreshToken) throw new SessionRejectedError('No stored session');
    const client = (this.pool as unknown as { client: LibraryClient }).client;
    const result = await new Promise<AuthResult>((resolve, reject) =>
      client.request(
        'InitiateAuth',
        { ClientId: this.config.userPoolClientId, AuthFlow: 'REFRESH_TOKEN_AUTH', AuthParameters: { REFRESH_TOKEN: s.refreshToken } },
        (err, data: { AuthenticationResult?: AuthResult } | null) => {
          if (err) {
            reject(err.code === 'NotAuthorizedException' || err.code === 'UserNotFoundException' ? new SessionRejectedError(err.message) : err);
          } else if (!data?.AuthenticationResult?.IdToken) {
            reject(new SessionRejectedError('Cognito returned no tokens'));
          } else {
            resolve(data.AuthenticationResult);
          }
        },
      ),
    );
    const session = new CognitoUserSession({
      IdToken: new CognitoIdToken({ IdToken: result.IdToken }),
      AccessToken: new CognitoAccessToken({ AccessToken: result.AccessToken }),
      RefreshToken: new CognitoRefreshToken({ RefreshToken: result.RefreshToken ?? s.refreshToken }),
    });
    // Stores the new tokens under the same keys the library reads.
    new CognitoUser({ Username: s.username, Pool: this.pool, Storage: this.storage }).setSignInUserSession(session);
    return toTokens(session, s.username);
  }

  private callbacks(user: CognitoUser, resolve: (s: SignInStep) => void, reject: (e: unknown) => void): IAuthenticationCallback {
    const unsupported = (what: string) => () => {
      this.pending = null;
      reject(Object.assign(new Error(`${what} is not supported by this app. Ask the administrator to turn it off for your account.`), { code: 'Unsupported' }));
    };
    return {
      onSuccess: (session) => {
        this.pending = null;
        resolve({ kind: 'signed-in', tokens: toTokens(session, user.getUsername()) });
      },
      onFailure: (err: { code?: string }) => {
        if (err?.code === 'UserNotConfirmedException') {
          this.pending = null;
          resolve({ kind: 'confirm-sign-up' });
          return;
        }
        reject(err);
      },
      newPasswordRequired: () => {
        this.pending = user;
        resolve({ kind: 'new-password-required' });
      },
      mfaRequired: unsupported('Multi-factor authentication'),
      totpRequired: unsupported('Multi-factor authentication'),
      mfaSetup: unsupported('Multi-factor authentication'),
      selectMFAType: unsupported('Multi-factor authentication'),
      customChallenge: unsupported('A custom sign-in challenge'),
    };
  }

  signIn(email: string, password: string): Promise<SignInStep> {
    // SRP (USER_SRP_AUTH, the library's default) on AWS and on the local cloud alike: the password
    // never leaves the browser, and Cognito (and the local cloud's stand-in) checks the proof.
    const user = this.user(email);
    const details = new AuthenticationDetails({ Username: email.trim(), Password: password });
    return new Promise((resolve, reject) => user.authenticateUser(details, this.callbacks(user, resolve, reject)));
  }

  completeNewPassword(newPassword: string): Promise<SignInStep> {
    const user = this.pending;
    if (!user) return Promise.reject(new Error('The sign-in has timed out. Please sign in again.'));
    return new Promise((resolve, reject) =>
      // No attributes: e-mail and e-mail_verified are set by the administrator and may not be written here.
      user.completeNewPasswordChallenge(newPassword, {}, this.callbacks(user, resolve, reject)),
    );
  }

  signUp(email: string, password: string): Promise<SignUpResult> {
    const attrs = [new CognitoUserAttribute({ Name: 'email', Value: email.trim() })];
    return new Promise((resolve, reject) =>
      this.pool.signUp(email.trim(), password, attrs, [], (err, result) => {
        if (err || !result) reject(err ?? new Error('Sign-up failed'));
        else resolve({ confirmed: result.userConfirmed, destination: result.codeDeliveryDetails?.Destination });
      }),
    );
  }

  confirmSignUp(email: string, code: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.user(email).confirmRegistration(code.trim(), true, (err: Error | null) => (err ? reject(err) : resolve())),
    );
  }

  resendSignUpCode(email: string): Promise<{ destination?: string }> {
    return new Promise((resolve, reject) =>
      this.user(email).resendConfirmationCode((err, data) => (err ? reject(err) : resolve({ destination: destinationOf(data) }))),
    );
  }

  forgotPassword(email: string): Promise<{ destination?: string }> {
    return new Promise((resolve, reject) =>
      this.user(email).forgotPassword({
        onSuccess: (data) => resolve({ destination: destinationOf(data) }),
        onFailure: reject,
        inputVerificationCode: (data) => resolve({ destination: destinationOf(data) }),
      }),
    );
  }

  confirmForgotPassword(email: string, code: string, newPassword: string): Promise<void> {
    return new Promise((resolve, reject) =>
      this.user(email).confirmPassword(code.trim(), newPassword, { onSuccess: () => resolve(), onFailure: reject }),
    );
  }

  async signOut(revoke: boolean): Promise<void> {
    this.pending = null;
    const user = this.pool.getCurrentUser();
    if (!user) return;
    // Revoke the refresh token too (the library does so only for tokens that carry origin_jti), on
    // AWS and on the local cloud alike. Bounded, so a slow network never blocks signing out.
    const s = this.stored();
    if (revoke && s?.idToken && s.accessToken && s.refreshToken) {
      user.setSignInUserSession(
        new CognitoUserSession({
          IdToken: new CognitoIdToken({ IdToken: s.idToken }),
          AccessToken: new CognitoAccessToken({ AccessToken: s.accessToken }),
          RefreshToken: new CognitoRefreshToken({ RefreshToken: s.refreshToken }),
        }),
      );
      const revocable = user as unknown as { revokeTokens(cb: (err?: Error) => void): void };
      await Promise.race([
        new Promise<void>((resolve) => revocable.revokeTokens(() => resolve())),
        new Promise<void>((resolve) => setTimeout(resolve, 3000)),
      ]);
    }
    // Forget the stored tokens.
    user.signOut();
  }
}

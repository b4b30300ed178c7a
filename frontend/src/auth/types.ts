// The small interface the app uses for authentication. cognito.ts implements it with
// amazon-cognito-identity-js; tests implement it with a fake.

export interface Tokens {
  idToken: string;
  accessToken: string;
  /** The signed-in user's e-mail or user name, for display. */
  username: string;
}

export type SignInStep =
  | { kind: 'signed-in'; tokens: Tokens }
  /** First login of a user an administrator created: a permanent password must be chosen. */
  | { kind: 'new-password-required' }
  /** The user signed up but has not entered the e-mailed code yet. */
  | { kind: 'confirm-sign-up' };

export interface SignUpResult {
  confirmed: boolean;
  /** Where the code went, e.g. "e***@example.com". */
  destination?: string;
}

export interface AuthBackend {
  /** The session kept in browser storage (may refresh over the network if it expired); null = signed out. */
  restore(): Promise<Tokens | null>;
  /** New tokens from the refresh token. Rejects when the refresh token is expired or revoked. */
  refresh(): Promise<Tokens>;
  signIn(email: string, password: string): Promise<SignInStep>;
  /** Completes the first-login challenge started by the last signIn(). */
  completeNewPassword(newPassword: string): Promise<SignInStep>;
  signUp(email: string, password: string): Promise<SignUpResult>;
  confirmSignUp(email: string, code: string): Promise<void>;
  resendSignUpCode(email: string): Promise<{ destination?: string }>;
  forgotPassword(email: string): Promise<{ destination?: string }>;
  confirmForgotPassword(email: string, code: string, newPassword: string): Promise<void>;
  /** Forgets the stored tokens; with `revoke` also revokes the refresh token where the service supports it. */
  signOut(revoke: boolean): Promise<void>;
}

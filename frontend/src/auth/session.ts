// Keeps the signed-in session: restores it on page load, hands out ID tokens that are valid for at least
// `refreshSkewSeconds` more (refreshing proactively, one refresh at a time), and tells listeners when the
// user signs in or out.

import { decodeJwt, tokenExpiry } from './jwt';
import type { AuthBackend, SignInStep, Tokens } from './types';

export interface SessionOptions {
  /** Refresh when the ID token has less than this left. Default 5 minutes. */
  refreshSkewSeconds?: number;
  /** Milliseconds since the epoch; injectable for tests. */
  now?: () => number;
}

type Listener = (tokens: Tokens | null) => void;

export class NotSignedInError extends Error {
  override name = 'NotSignedInError';
  constructor() {
    super('Not signed in');
  }
}

/** The refresh failed for a passing reason (network): the session is kept, the request fails. */
export class RefreshFailedError extends Error {
  override name = 'RefreshFailedError';
}

/** Cognito refused the refresh token (or there is none): only signing in again helps. */
function isRejection(err: unknown): boolean {
  const e = err as { name?: string; code?: string } | null;
  return e?.name === 'SessionRejectedError' || e?.code === 'NotAuthorizedException' || e?.code === 'UserNotFoundException';
}

export class Session {
  private tokens: Tokens | null = null;
  private refreshing: Promise<Tokens> | null = null;
  private readonly listeners = new Set<Listener>();
  private readonly skew: number;
  private readonly now: () => number;

  constructor(
    readonly backend: AuthBackend,
    opts: SessionOptions = {},
  ) {
    this.skew = opts.refreshSkewSeconds ?? 300;
    this.now = opts.now ?? (() => Date.now());
  }

  get current(): Tokens | null {
    return this.tokens;
  }

  onChange(fn: Listener): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  private set(tokens: Tokens | null): void {
    const changed = (this.tokens === null) !== (tokens === null);
    this.tokens = tokens;
    if (changed) for (const fn of this.listeners) fn(tokens);
  }

  /** On page load: true when a stored session could be restored (refreshed if needed). */
  async restore(): Promise<boolean> {
    let tokens: Tokens | null = null;
    try {
      tokens = await this.backend.restore();
    } catch {
      tokens = null;
    }
    let rejected = tokens === null;
    if (tokens && this.expiresSoon(tokens)) {
      try {
        tokens = await this.backend.refresh();
      } catch (err) {
        // Offline at page load: keep the stored tokens for the next reload, but we cannot go on.
        rejected = isRejection(err);
        tokens = null;
      }
    }
    if (!tokens && rejected) await this.backend.signOut(false).catch(() => undefined);
    this.set(tokens);
    return tokens !== null;
  }

  async signIn(email: string, password: string): Promise<SignInStep> {
    const step = await this.backend.signIn(email, password);
    if (step.kind === 'signed-in') this.set(step.tokens);
    return step;
  }

  async completeNewPassword(newPassword: string): Promise<SignInStep> {
    const step = await this.backend.completeNewPassword(newPassword);
    if (step.kind === 'signed-in') this.set(step.tokens);
    return step;
  }

  /** `revoke: false` when the session is already unusable (nothing left to revoke, avoid network calls). */
  async signOut(revoke = true): Promise<void> {
    this.refreshing = null;
    try {
      await this.backend.signOut(revoke);
    } finally {
      this.set(null);
    }
  }

  /** Seconds the ID token has left (negative when expired). */
  secondsLeft(tokens: Tokens | null = this.tokens): number {
    if (!tokens) return -Infinity;
    return tokenExpiry(tokens.idToken) - this.now() / 1000;
  }

  /** Within the skew — or within a quarter of the token's lifetime, for pools with short-lived tokens. */
  private expiresSoon(tokens: Tokens): boolean {
    const claims = decodeJwt(tokens.idToken);
    const lifetime = typeof claims?.exp === 'number' && typeof claims.iat === 'number' ? claims.exp - claims.iat : Infinity;
    return this.secondsLeft(tokens) < Math.min(this.skew, lifetime / 4);
  }

  /**
   * A valid ID token for an API call. Refreshes first when the cached one is about to expire (or when
   * `forceRefresh` is set, e.g. after a 401). Concurrent callers share one refresh. A rejected refresh
   * token signs the user out (NotSignedInError); a network failure keeps the session (RefreshFailedError).
   */
  async getIdToken(opts: { forceRefresh?: boolean } = {}): Promise<string> {
    const tokens = this.tokens;
    if (!tokens) throw new NotSignedInError();
    if (!opts.forceRefresh && !this.expiresSoon(tokens)) return tokens.idToken;
    if (!this.refreshing) {
      const started = this.backend.refresh();
      this.refreshing = started;
      started.then(
        () => {
          if (this.refreshing === started) this.refreshing = null;
        },
        () => {
          if (this.refreshing === started) this.refreshing = null;
        },
      );
    }
    const refreshing = this.refreshing!;
    try {
      const fresh = await refreshing;
      this.set(fresh);
      return fresh.idToken;
    } catch (err) {
      if (!isRejection(err)) throw new RefreshFailedError(err instanceof Error ? err.message : String(err));
      await this.signOut(false).catch(() => undefined);
      throw new NotSignedInError();
    }
  }
}

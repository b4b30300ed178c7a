// One edit's run, from the click to the answer: what the run button says meanwhile, and what
// stopping it means. Pure (the clock is passed in), so the page and the tests agree.
//
//   idle → preparing → sending ⇄ retrying → (stopping) → idle
//
// "Cancel" can only stop the page from waiting: a request that reached the API may still make (and
// record) the picture. So what Cancel reports depends on whether a request may still be running.

export type RunPhase = 'idle' | 'preparing' | 'sending' | 'retrying' | 'stopping';

/** What the run button shows while an edit runs: `what` then `detail`, e.g. "Retrying" "in 3 s… (12 s so far)". */
export interface RunLabel {
  /** What is happening; changes only when the phase does (the button's accessible name). */
  what: string;
  /** The ticking part: the countdown and the seconds since the click (shown, not announced). */
  detail: string;
}

/** What stopping meant, for the status line. */
export interface StopOutcome {
  message: string;
  /** A request may still finish on the server: look for it in History a little later. */
  mayStillFinish: boolean;
}

export const STOPPED_WAITING = 'Stopped waiting. The model may still finish; if it does, the picture will be in History.';

export class RunState {
  private current: RunPhase = 'idle';
  private startedAt = 0;
  private retryAt = 0;
  /** A request of this run may be at work on the server. */
  private inFlight = false;

  get phase(): RunPhase {
    return this.current;
  }

  get running(): boolean {
    return this.current !== 'idle';
  }

  /** Starts a run; false when one is running already (the second click of a double-click). */
  start(now: number): boolean {
    if (this.running) return false;
    this.current = 'preparing';
    this.startedAt = now;
    this.inFlight = false;
    return true;
  }

  /** A request is on its way: from now on the server may make the picture. */
  sending(): void {
    if (!this.running || this.current === 'stopping') return;
    this.current = 'sending';
    this.inFlight = true;
  }

  /**
   * A "not now" answer: the next attempt goes out at `now + delayMs`. `stillBeingMade`: the answer
   * said an earlier attempt of this edit is still at work (otherwise nothing was made).
   */
  retrying(delayMs: number, now: number, stillBeingMade = false): void {
    if (!this.running || this.current === 'stopping') return;
    this.current = 'retrying';
    this.retryAt = now + delayMs;
    this.inFlight = stillBeingMade;
  }

  /** The run ended: an answer, an error, or the end of a cancel. */
  end(): void {
    this.current = 'idle';
    this.inFlight = false;
  }

  /**
   * Cancel pressed: what it means at this moment; null when nothing runs or it is stopping already
   * (Esc pressed twice). The run stays on until `end()`, when the page has stopped waiting.
   */
  cancel(): StopOutcome | null {
    if (!this.running || this.current === 'stopping') return null;
    const outcome: StopOutcome = this.inFlight
      ? { message: STOPPED_WAITING, mayStillFinish: true }
      : { message: this.current === 'preparing' ? 'Stopped. Nothing was sent.' : 'Stopped. Nothing was made or counted.', mayStillFinish: false };
    this.current = 'stopping';
    return outcome;
  }

  /** The run button's text at `now`; null when idle (the button shows the operation). */
  label(now: number): RunLabel | null {
    if (!this.running) return null;
    const elapsed = `${Math.max(0, Math.floor((now - this.startedAt) / 1000))} s`;
    switch (this.current) {
      case 'preparing':
        return { what: 'Preparing the request…', detail: elapsed };
      case 'sending':
        return { what: 'Waiting for the model…', detail: elapsed };
      case 'stopping':
        return { what: 'Stopping…', detail: elapsed };
      default:
        return { what: 'Retrying', detail: `in ${Math.max(1, Math.ceil((this.retryAt - now) / 1000))} s… (${elapsed} so far)` };
    }
  }
}

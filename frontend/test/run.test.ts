import { describe, expect, it } from 'vitest';
import { RunState, STOPPED_WAITING } from '../src/editor/run';

describe('RunState: the run button and what Cancel means', () => {
  it('one run at a time: the second click of a double-click starts nothing', () => {
    const run = new RunState();
    expect(run.start(0)).toBe(true);
    expect(run.start(50)).toBe(false);
    expect(run.running).toBe(true);
    run.end();
    expect(run.running).toBe(false);
    expect(run.start(1000)).toBe(true);
  });

  it('says what is happening and for how long', () => {
    const run = new RunState();
    expect(run.label(0)).toBeNull();
    run.start(10_000);
    expect(run.label(10_400)).toEqual({ what: 'Preparing the request…', detail: '0 s' });
    run.sending();
    expect(run.label(14_200)).toEqual({ what: 'Waiting for the model…', detail: '4 s' });
    run.retrying(3_000, 15_000);
    expect(run.label(15_000)).toEqual({ what: 'Retrying', detail: 'in 3 s… (5 s so far)' });
    expect(run.label(17_500)).toEqual({ what: 'Retrying', detail: 'in 1 s… (7 s so far)' });
    run.sending();
    expect(run.label(18_000)?.what).toBe('Waiting for the model…');
  });

  it('the accessible part ("what") only changes with the phase, not with the seconds', () => {
    const run = new RunState();
    run.start(0);
    run.retrying(9_000, 0);
    const names = new Set([0, 1_000, 2_000, 5_000].map((t) => run.label(t)?.what));
    expect([...names]).toEqual(['Retrying']);
  });

  it('Cancel while a request is out: the model may still finish, the picture then in History', () => {
    const run = new RunState();
    run.start(0);
    run.sending();
    expect(run.cancel()).toEqual({ message: STOPPED_WAITING, mayStillFinish: true });
    expect(STOPPED_WAITING).toBe('Stopped waiting. The model may still finish; if it does, the picture will be in History.');
    // Still running until the page has stopped waiting; a second Esc means nothing more.
    expect(run.running).toBe(true);
    expect(run.label(1_000)?.what).toBe('Stopping…');
    expect(run.cancel()).toBeNull();
    run.end();
    expect(run.cancel()).toBeNull();
  });

  it('Cancel before anything was sent, or between refused attempts: nothing was made', () => {
    const a = new RunState();
    a.start(0);
    expect(a.cancel()).toEqual({ message: 'Stopped. Nothing was sent.', mayStillFinish: false });
    const b = new RunState();
    b.start(0);
    b.sending();
    b.retrying(2_000, 100);
    expect(b.cancel()).toEqual({ message: 'Stopped. Nothing was made or counted.', mayStillFinish: false });
  });

  it('Cancel while an earlier attempt is still being made (409): it may still finish', () => {
    const run = new RunState();
    run.start(0);
    run.sending();
    run.retrying(2_000, 100, true);
    expect(run.cancel()?.mayStillFinish).toBe(true);
  });

  it('a stopping run takes no new phase', () => {
    const run = new RunState();
    run.start(0);
    run.sending();
    run.cancel();
    run.retrying(1_000, 10);
    run.sending();
    expect(run.phase).toBe('stopping');
  });
});

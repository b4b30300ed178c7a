// "How many images are left today": GET /usage, shown under the form and refreshed after each edit,
// so nobody meets the daily limit (429 quota_exceeded) by surprise.

import type { ApiClient } from '../api/client';
import { browserTimeZone, resetText } from '../api/day';
import type { Usage } from '../api/types';
import { h } from './dom';

/** The sentence for `u`: what is left, which limit binds, and when the count starts again. */
export function usageText(u: Usage, timeZone: string = browserTimeZone()): string {
  const images = (n: number) => `${n} image${n === 1 ? '' : 's'}`;
  const reset = resetText(u.resetsAt, timeZone);
  if (u.left <= 0) {
    const who = u.user.left <= 0 ? `You have made your ${images(u.user.limit)} for today` : `This app has made its ${images(u.app.limit)} for today`;
    return `${who}; the count starts again at ${reset}.`;
  }
  const binding = u.app.left < u.user.left ? ` (the whole app has ${u.app.left} of ${u.app.limit} left)` : ` of your ${u.user.limit}`;
  return `${images(u.left)} left today${binding}; the count starts again at ${reset}.`;
}

export class UsageNote {
  readonly el = h('p', { class: 'usage hint', 'aria-live': 'polite', hidden: true });

  constructor(private readonly api: ApiClient) {}

  /** Reads GET /usage; a failure only hides the note (the edit's own answer still says why). */
  async refresh(): Promise<void> {
    try {
      const u = await this.api.usage();
      this.el.textContent = usageText(u);
      this.el.classList.toggle('used-up', u.left <= 0);
      this.el.hidden = false;
    } catch {
      this.el.hidden = true;
    }
  }
}

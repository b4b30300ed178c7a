// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import type { ApiClient } from '../src/api/client';
import type { EditPage, EditRecord, ResultImage } from '../src/api/types';
import { HistoryView, keptLine, matchesFilter, summaryText } from '../src/ui/history';
import type { Notifier } from '../src/ui/notify';

const NOW = Date.parse('2026-12-05T22:00:00Z');
// Kept-until dates are read against the clock: the fixtures' clock, not today's.
beforeEach(() => vi.useFakeTimers({ now: NOW, toFake: ['Date'] }));
afterEach(() => vi.useRealTimers());
const image: ResultImage = {
  url: 'https://bucket.example.test/a.png?sig',
  downloadUrl: 'https://bucket.example.test/a.png?sig&dl',
  contentType: 'image/png',
  width: 8,
  height: 8,
  bytes: 100,
  expiresAt: '2026-12-05T23:00:00Z',
};
let n = 0;
const rec = (status: string, over: Partial<EditRecord> = {}): EditRecord => ({
  id: `01R${String(++n).padStart(4, '0')}`,
  createdAt: '2026-12-05T21:00:00Z',
  operation: 'inpaint',
  prompt: `prompt ${n}`,
  model: 'm',
  seeds: [],
  status,
  durationMs: 1000,
  results: status === 'succeeded' ? [image] : [],
  keptUntil: status === 'succeeded' ? '2026-12-12T00:00:00Z' : null,
  ...over,
});

const notifier = (): Notifier => ({ error: vi.fn(), clearError: vi.fn(), info: vi.fn() });
const actions = () => ({ applySettings: vi.fn(), open: vi.fn(), download: vi.fn(), useAsInput: vi.fn() });
/** An API whose history is `pages`, read one page per call. */
function fakeApi(pages: EditRecord[][]) {
  const listEdits = vi.fn(async ({ cursor }: { cursor?: string | null } = {}): Promise<EditPage> => {
    const i = cursor ? Number(cursor) : 0;
    return { items: pages[i] ?? [], nextCursor: i + 1 < pages.length ? String(i + 1) : null };
  });
  return { api: { listEdits, getEdit: vi.fn(), deleteEdit: vi.fn() } as unknown as ApiClient, listEdits };
}
const shown = (view: HistoryView) => [...view.el.querySelectorAll<HTMLElement>('.history-item')].map((li) => li.querySelector('.badge')!.textContent);
const choose = (view: HistoryView, value: string) => {
  const radio = view.el.querySelector<HTMLInputElement>(`input[name=history-filter][value=${value}]`)!;
  radio.checked = true;
  radio.dispatchEvent(new Event('change'));
};

describe('history filters', () => {
  it('All / Succeeded / Failed / Blocked match by status', () => {
    expect(matchesFilter(rec('failed'), 'all')).toBe(true);
    expect(matchesFilter(rec('failed'), 'failed')).toBe(true);
    expect(matchesFilter(rec('failed'), 'succeeded')).toBe(false);
    expect(matchesFilter(rec('blocked'), 'blocked')).toBe(true);
    expect(matchesFilter(rec('running'), 'failed')).toBe(false);
  });

  it('are a radio group with a name, "All" first and chosen', async () => {
    const view = new HistoryView(fakeApi([[]]).api, notifier(), actions());
    const group = view.el.querySelector('fieldset.history-filter')!;
    expect(group.querySelector('legend')!.textContent).toBe('Show');
    const radios = [...group.querySelectorAll<HTMLInputElement>('input[type=radio]')];
    expect(radios.map((r) => [r.value, r.checked, r.closest('label')!.textContent!.trim()])).toEqual([
      ['all', true, 'All'],
      ['succeeded', false, 'Succeeded'],
      ['failed', false, 'Failed'],
      ['blocked', false, 'Blocked'],
    ]);
    expect(new Set(radios.map((r) => r.name)).size).toBe(1);
  });

  it('a filter shows only its edits; failed attempts stop crowding the succeeded ones', async () => {
    const { api } = fakeApi([[rec('failed'), rec('succeeded'), rec('blocked'), rec('failed'), rec('succeeded')]]);
    const view = new HistoryView(api, notifier(), actions());
    await view.load(true);
    expect(shown(view)).toEqual(['Failed', 'Succeeded', 'Blocked by the content filter', 'Failed', 'Succeeded']);
    choose(view, 'succeeded');
    expect(shown(view)).toEqual(['Succeeded', 'Succeeded']);
    expect(view.el.querySelector('.hint')!.textContent).toMatch(/^2 succeeded of 5 loaded edits\./);
    choose(view, 'blocked');
    expect(shown(view)).toEqual(['Blocked by the content filter']);
    choose(view, 'all');
    expect(shown(view)).toHaveLength(5);
  });

  it('with a filter on, further pages are read until a page\'s worth shows', async () => {
    const failures = Array.from({ length: 12 }, () => rec('failed'));
    const { api, listEdits } = fakeApi([failures, [rec('succeeded'), ...failures.slice(1)], [rec('succeeded')]]);
    const view = new HistoryView(api, notifier(), actions());
    choose(view, 'succeeded');
    await view.load(true);
    expect(listEdits).toHaveBeenCalledTimes(3);
    expect(shown(view)).toEqual(['Succeeded', 'Succeeded']);
    // Back to All: everything read so far shows.
    choose(view, 'all');
    expect(shown(view)).toHaveLength(12 + 12 + 1);
  });
});

describe('history entries', () => {
  it('a kept result: Open, Download and Use as input, and until when it is kept', async () => {
    const kept = rec('succeeded', { prompt: 'a blue door' });
    const { api } = fakeApi([[kept, rec('failed')]]);
    const acts = actions();
    const view = new HistoryView(api, notifier(), acts);
    await view.load(true);
    const [first, second] = [...view.el.querySelectorAll<HTMLElement>('.history-item')];
    const buttons = [...first!.querySelectorAll<HTMLButtonElement>('.history-actions button')];
    expect(buttons.map((b) => b.textContent)).toEqual(['Open', 'Download', 'Use as input']);
    expect(buttons.map((b) => b.getAttribute('aria-label'))).toEqual(['Open full size: Inpaint, a blue door', 'Download: Inpaint, a blue door', 'Use as input: Inpaint, a blue door']);
    buttons[0]!.click();
    buttons[1]!.click();
    buttons[2]!.click();
    expect(acts.open).toHaveBeenCalledWith(kept);
    expect(acts.download).toHaveBeenCalledWith(kept);
    expect(acts.useAsInput).toHaveBeenCalledWith(kept);
    expect(first!.querySelector('.kept')!.textContent).toMatch(/^Kept until /);
    // A failed attempt made nothing: no actions, no "kept" line.
    expect(second!.querySelector('.history-actions')).toBeNull();
    expect(second!.querySelector('.kept')).toBeNull();
  });

  it('says when pictures were deleted, or never kept, next to the thumbnail', () => {
    expect(keptLine(rec('succeeded', { results: [], keptUntil: '2026-11-30T00:00:00Z' }), NOW)).toMatch(/^Pictures deleted on .*time in History ran out/);
    expect(keptLine(rec('succeeded', { results: [], keptUntil: null }), NOW)).toBe('Pictures not kept');
    expect(keptLine(rec('blocked'), NOW)).toBeNull();
  });

  it('the empty state and the summary promise no more than is kept', () => {
    expect(summaryText([], 0, 'all', false)).toMatch(/^No edits yet\..*kept for a limited time/);
    expect(summaryText([rec('succeeded')], 1, 'all', true)).toBe('1 edit shown (more available). Pictures are kept until the date shown on each edit; download the ones you want to keep.');
    expect(summaryText([rec('succeeded', { results: [], keptUntil: null })], 1, 'all', false)).toMatch(/keeps the settings and a thumbnail of each edit, not its pictures/);
  });

  it('deleting asks first, and says the kept pictures go too', async () => {
    const kept = rec('succeeded');
    const { api } = fakeApi([[kept]]);
    vi.mocked(api.getEdit).mockResolvedValue(kept);
    const view = new HistoryView(api, notifier(), actions());
    document.body.append(view.el);
    const dialog = view.el.querySelector('dialog')!;
    dialog.showModal ??= function (this: HTMLDialogElement) { this.setAttribute('open', ''); };
    await view.load(true);
    view.el.querySelector<HTMLButtonElement>('button.history-card')!.click();
    const del = [...dialog.querySelectorAll('button')].find((b) => b.textContent === 'Delete…')!;
    del.click();
    expect(dialog.querySelector('.confirm')!.textContent).toMatch(/^Delete this edit and its kept pictures permanently\? This cannot be undone\./);
    expect(api.deleteEdit).not.toHaveBeenCalled();
    view.el.remove();
  });
});

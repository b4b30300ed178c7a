// History gallery (GET /edits): thumbnails, prompt, operation, date, status, how long the pictures
// are kept; All / Succeeded / Failed / Blocked filters; "Load more" paging; a kept result can be
// opened full size, downloaded or used as the next input; an entry opens in a dialog with its
// metadata and settings; delete (the kept pictures too) with confirmation (DELETE /edits/{id}).

import type { ApiClient } from '../api/client';
import { ApiError } from '../api/errors';
import { keeping } from '../api/results';
import type { EditRecord } from '../api/types';
import { operationLabel } from '../editor/operations';
import { formatBytes } from '../image/downscale';
import { formatDate, h, replace } from './dom';
import type { Notifier } from './notify';
import { localDate } from './results';

const PAGE_SIZE = 12;
/** With a filter on, a load reads further pages until a page's worth shows, at most this many. */
const MAX_PAGES_PER_LOAD = 5;

export type HistoryFilter = 'all' | 'succeeded' | 'failed' | 'blocked';

export const HISTORY_FILTERS: { value: HistoryFilter; label: string }[] = [
  { value: 'all', label: 'All' },
  { value: 'succeeded', label: 'Succeeded' },
  { value: 'failed', label: 'Failed' },
  { value: 'blocked', label: 'Blocked' },
];

export function matchesFilter(record: EditRecord, filter: HistoryFilter): boolean {
  return filter === 'all' || record.status === filter;
}

/**
 * The line over the list: what is shown, and what History keeps (no more than it does). `records`
 * are the loaded ones, `shown` those the filter lets through.
 */
export function summaryText(records: EditRecord[], shown: number, filter: HistoryFilter, more: boolean): string {
  if (records.length === 0) {
    return 'No edits yet. Each edit you make is listed here with its settings; its pictures are kept for a limited time, and each edit says until when.';
  }
  const label = HISTORY_FILTERS.find((f) => f.value === filter)?.label.toLowerCase() ?? filter;
  const what = filter === 'all' ? `${shown} edit${shown === 1 ? '' : 's'} shown` : `${shown} ${label} of ${records.length} loaded edit${records.length === 1 ? '' : 's'}`;
  const keeps = records.some((r) => r.keptUntil)
    ? 'Pictures are kept until the date shown on each edit; download the ones you want to keep.'
    : 'This stack keeps the settings and a thumbnail of each edit, not its pictures: download the ones you want to keep.';
  return `${what}${more ? ' (more available)' : ''}. ${keeps}`;
}

/** Next to the thumbnail: until when the pictures are kept, or that they are not (any more). */
export function keptLine(record: EditRecord, now: number = Date.now()): string | null {
  const k = keeping(record, now);
  switch (k.kind) {
    case 'kept':
      return k.until ? `Kept until ${localDate(k.until)}` : 'Kept';
    case 'expired':
      return `Pictures deleted on ${localDate(k.since)} (time in History ran out)`;
    case 'not-kept':
      return 'Pictures not kept';
    default:
      return null;
  }
}

const STATUS_TEXT: Record<string, string> = {
  succeeded: 'Succeeded',
  blocked: 'Blocked by the content filter',
  failed: 'Failed',
  // Recorded before the model was called and not completed (in progress, or the function stopped).
  running: 'Not finished',
};

export interface HistoryActions {
  /** Put an entry's operation, prompts and options back into the form. */
  applySettings(record: EditRecord): void;
  /** Show the entry's kept pictures full size (the results view). */
  open(record: EditRecord): void;
  /** Download the entry's first kept picture. */
  download(record: EditRecord): void;
  /** Load the entry's first kept picture as the picture to edit. */
  useAsInput(record: EditRecord): void;
}

export class HistoryView {
  readonly el: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly more: HTMLButtonElement;
  private readonly summary: HTMLElement;
  private readonly dialog: HTMLDialogElement;
  private cursor: string | null = null;
  private loading: AbortController | null = null;
  /** Every record loaded, newest first; the filter decides which show. */
  private records: EditRecord[] = [];
  private filter: HistoryFilter = 'all';

  constructor(
    private readonly api: ApiClient,
    private readonly notifier: Notifier,
    private readonly actions: HistoryActions,
  ) {
    this.grid = h('ul', { class: 'history-grid', 'aria-label': 'Your edits, newest first' });
    this.more = h('button', { type: 'button', hidden: true, onclick: () => void this.load(false) }, 'Load more');
    this.summary = h('p', { class: 'hint', 'aria-live': 'polite' });
    const filters = h(
      'fieldset',
      { class: 'history-filter' },
      h('legend', {}, 'Show'),
      ...HISTORY_FILTERS.map((f) =>
        h(
          'label',
          { class: 'inline' },
          h('input', { type: 'radio', name: 'history-filter', value: f.value, checked: f.value === this.filter, onchange: () => this.setFilter(f.value) }),
          ` ${f.label}`,
        ),
      ),
    );
    this.dialog = h('dialog', { class: 'history-dialog', 'aria-labelledby': 'history-dialog-title' });
    // The browser hands focus back to the card that opened the dialog; when a reload of the list
    // replaced that card meanwhile, focus would fall to the page: the card's successor (same id) or
    // the heading takes it instead.
    this.dialog.addEventListener('close', () => {
      if (document.activeElement && document.activeElement !== document.body) return;
      const id = this.dialog.dataset.id;
      const card = id ? this.grid.querySelector<HTMLElement>(`li[data-id="${CSS.escape(id)}"] button.history-card`) : null;
      (card ?? this.el.querySelector<HTMLElement>('#history-title'))?.focus();
    });
    this.el = h(
      'section',
      { class: 'history panel', 'aria-labelledby': 'history-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'history-title', tabindex: -1 }, 'History'), h('button', { type: 'button', class: 'link', onclick: () => void this.load(true) }, 'Refresh')),
      filters,
      this.summary,
      this.grid,
      this.more,
      this.dialog,
    );
  }

  /**
   * First page (reset = true) or the next one. With a filter on, further pages are read (a few at
   * most) until a page's worth of matching edits shows, so a run of failures cannot fill the list.
   */
  async load(reset = true): Promise<void> {
    this.loading?.abort();
    const ctrl = new AbortController();
    this.loading = ctrl;
    this.more.disabled = true;
    this.el.setAttribute('aria-busy', 'true');
    try {
      const loaded: EditRecord[] = [];
      let cursor = reset ? null : this.cursor;
      for (let pages = 0; pages < MAX_PAGES_PER_LOAD; pages++) {
        const page = await this.api.listEdits({ limit: PAGE_SIZE, cursor }, ctrl.signal);
        loaded.push(...page.items);
        cursor = page.nextCursor;
        if (!cursor || loaded.filter((r) => matchesFilter(r, this.filter)).length >= PAGE_SIZE) break;
      }
      this.records = reset ? loaded : [...this.records, ...loaded];
      this.cursor = cursor;
      this.render();
    } catch (err) {
      if (!(err instanceof ApiError && err.kind === 'aborted')) this.notifier.error(err, { context: 'Loading the history', retry: () => void this.load(reset) });
    } finally {
      if (this.loading === ctrl) this.loading = null;
      this.more.disabled = false;
      this.el.removeAttribute('aria-busy');
    }
  }

  private setFilter(filter: HistoryFilter): void {
    this.filter = filter;
    this.render();
    // Too few of these among the loaded edits: read on.
    if (this.cursor && this.records.filter((r) => matchesFilter(r, filter)).length < PAGE_SIZE) void this.load(false);
  }

  /** The list as the filter shows it, and the line over it. */
  private render(): void {
    const shown = this.records.filter((r) => matchesFilter(r, this.filter));
    this.grid.replaceChildren(...shown.map((r) => this.card(r)));
    this.more.hidden = !this.cursor;
    this.summary.textContent = summaryText(this.records, shown.length, this.filter, !!this.cursor);
  }

  private card(item: EditRecord): HTMLLIElement {
    const status = String(item.status);
    const prompt = item.prompt?.trim() || '(no prompt)';
    const what = `${operationLabel(item.operation)}, ${prompt}`;
    const kept = keptLine(item);
    const thumb = item.thumbnail
      ? h('img', { src: item.thumbnail, alt: '', loading: 'lazy', width: 128, height: 128 })
      : h('span', { class: 'no-thumb', 'aria-hidden': 'true' }, status === 'succeeded' ? '—' : '×');
    const li = h(
      'li',
      { class: 'history-item', 'data-id': item.id },
      h(
        'button',
        // No aria-label: the card's visible text (operation, status, prompt, date) is its name, so
        // speech input ("click Inpaint…") and screen readers agree with what is shown.
        { type: 'button', class: 'history-card', onclick: () => void this.open(item, li) },
        thumb,
        h('span', { class: 'history-text' },
          h('span', { class: 'op' }, operationLabel(item.operation), ' ', h('span', { class: `badge status-${status}` }, STATUS_TEXT[status] ?? status)),
          h('span', { class: 'prompt' }, prompt),
          h('time', { datetime: item.createdAt }, formatDate(item.createdAt)),
          kept ? h('span', { class: `kept kept-${keeping(item).kind}` }, kept) : null,
        ),
      ),
      item.results?.length
        ? h(
            'div',
            { class: 'history-actions' },
            // The visible word first in each name (speech input), then which edit it acts on.
            h('button', { type: 'button', onclick: () => this.actions.open(item), 'aria-label': `Open full size: ${what}` }, 'Open'),
            h('button', { type: 'button', onclick: () => this.actions.download(item), 'aria-label': `Download: ${what}` }, 'Download'),
            h('button', { type: 'button', onclick: () => this.actions.useAsInput(item), 'aria-label': `Use as input: ${what}` }, 'Use as input'),
          )
        : null,
    );
    return li;
  }

  private async open(item: EditRecord, li: HTMLElement): Promise<void> {
    this.renderDialog(item, li);
    if (!this.dialog.open) this.dialog.showModal();
    // Refresh from GET /edits/{id} (it may have changed or been deleted elsewhere).
    try {
      const fresh = await this.api.getEdit(item.id);
      if (this.dialog.open && this.dialog.dataset.id === item.id) this.renderDialog(fresh, li);
    } catch (err) {
      if (err instanceof ApiError && err.status === 404) {
        this.dialog.close();
        this.forget(item.id, li);
        this.notifier.info('That edit no longer exists; it was removed from the list.');
      } else {
        this.notifier.error(err, { context: 'Opening the edit' });
      }
    }
  }

  private renderDialog(item: EditRecord, li: HTMLElement): void {
    const status = String(item.status);
    const row = (k: string, v: string | HTMLElement | null | undefined) => (v === null || v === undefined || v === '' ? null : h('div', { class: 'row' }, h('dt', {}, k), h('dd', {}, v)));
    const size = (s: { width: number; height: number; bytes: number } | null) => (s ? `${s.width}×${s.height}, ${formatBytes(s.bytes)}` : null);
    const confirmBox = h('div', { class: 'confirm', hidden: true, role: 'group', 'aria-label': 'Confirm deletion' });
    const del = h('button', { type: 'button', class: 'danger' }, 'Delete…');
    del.addEventListener('click', () => {
      confirmBox.hidden = false;
      del.hidden = true;
      confirmBox.querySelector<HTMLButtonElement>('button.keep')?.focus();
    });
    confirmBox.append(
      h('p', {}, item.results?.length ? 'Delete this edit and its kept pictures permanently? This cannot be undone.' : 'Delete this edit permanently? This cannot be undone.'),
      h('button', { type: 'button', class: 'danger confirm-delete', onclick: () => void this.remove(item, li, confirmBox) }, 'Delete'),
      h('button', { type: 'button', class: 'keep', onclick: () => { confirmBox.hidden = true; del.hidden = false; del.focus(); } }, 'Keep it'),
    );
    this.dialog.dataset.id = item.id;
    replace(this.dialog, 
      h('h2', { id: 'history-dialog-title' }, `${operationLabel(item.operation)} — ${formatDate(item.createdAt)}`),
      item.thumbnail ? h('img', { class: 'dialog-thumb', src: item.thumbnail, alt: 'Thumbnail of the result' }) : null,
      item.standIn ? h('p', { class: 'stand-in' }, 'Made by the local stand-in model, not Amazon Bedrock.') : null,
      h(
        'dl',
        { class: 'meta' },
        row('Status', `${STATUS_TEXT[status] ?? status}${item.errorCode ? ` (${item.errorCode})` : ''}`),
        row('Prompt', item.prompt),
        row('Negative prompt', item.negativePrompt),
        row('Model', item.model),
        row('Seeds', item.seeds?.length ? item.seeds.join(', ') : null),
        row('Time taken', item.durationMs != null ? `${(item.durationMs / 1000).toFixed(1)} s` : null),
        row('Input', size(item.input ?? null)),
        row('Output', item.output ? `${size(item.output)} × ${item.output.count}` : null),
        row('Pictures', keptLine(item)),
        row('Id', h('code', {}, item.id)),
      ),
      item.options && Object.keys(item.options).length ? h('details', {}, h('summary', {}, 'Settings (options as used)'), h('pre', {}, JSON.stringify(item.options, null, 2))) : null,
      h(
        'div',
        { class: 'dialog-actions' },
        h('button', { type: 'button', class: 'primary', onclick: () => { this.actions.applySettings(item); this.dialog.close(); } }, 'Use these settings'),
        del,
        h('button', { type: 'button', class: 'close', onclick: () => this.dialog.close() }, 'Close'),
      ),
      confirmBox,
    );
  }

  /**
   * Takes a card out of the list. Focus was on it (the dialog hands focus back to its opener): it
   * moves to the next card, else the previous one, else the History heading, instead of falling
   * back to the top of the page.
   */
  private drop(li: HTMLElement): void {
    const next = (li.nextElementSibling ?? li.previousElementSibling)?.querySelector<HTMLElement>('button.history-card');
    const hadFocus = li.contains(document.activeElement) || document.activeElement === document.body || this.dialog.contains(document.activeElement);
    li.remove();
    if (hadFocus) (next ?? this.el.querySelector<HTMLElement>('#history-title'))?.focus();
  }

  /** An edit gone from the API: out of the records, its card out of the list, the line updated. */
  private forget(id: string, li: HTMLElement): void {
    this.records = this.records.filter((r) => r.id !== id);
    this.drop(li);
    this.summary.textContent = summaryText(this.records, this.records.filter((r) => matchesFilter(r, this.filter)).length, this.filter, !!this.cursor);
  }

  private async remove(item: EditRecord, li: HTMLElement, confirmBox: HTMLElement): Promise<void> {
    confirmBox.querySelectorAll('button').forEach((b) => (b.disabled = true));
    try {
      await this.api.deleteEdit(item.id);
      this.dialog.close();
      this.forget(item.id, li);
      this.notifier.info(item.results?.length ? 'The edit and its pictures were deleted.' : 'The edit was deleted.');
    } catch (err) {
      confirmBox.querySelectorAll('button').forEach((b) => (b.disabled = false));
      if (err instanceof ApiError && err.status === 404) {
        this.dialog.close();
        this.forget(item.id, li);
        this.notifier.info('That edit was already gone.');
      } else {
        this.dialog.close();
        this.notifier.error(err, { context: 'Deleting the edit' });
      }
    }
  }
}

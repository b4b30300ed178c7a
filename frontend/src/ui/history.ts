// History gallery (GET /edits): thumbnails, prompt, operation, date, status; "Load more" paging; an
// entry opens in a dialog with its metadata and settings; delete with confirmation (DELETE /edits/{id}).

import type { ApiClient } from '../api/client';
import { ApiError } from '../api/errors';
import type { EditRecord } from '../api/types';
import { operationLabel } from '../editor/operations';
import { formatBytes } from '../image/downscale';
import { formatDate, h, replace } from './dom';
import type { Notifier } from './notify';

const PAGE_SIZE = 12;

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
}

export class HistoryView {
  readonly el: HTMLElement;
  private readonly grid: HTMLElement;
  private readonly more: HTMLButtonElement;
  private readonly summary: HTMLElement;
  private readonly dialog: HTMLDialogElement;
  private cursor: string | null = null;
  private loading: AbortController | null = null;
  private count = 0;

  constructor(
    private readonly api: ApiClient,
    private readonly notifier: Notifier,
    private readonly actions: HistoryActions,
  ) {
    this.grid = h('ul', { class: 'history-grid', 'aria-label': 'Your edits, newest first' });
    this.more = h('button', { type: 'button', hidden: true, onclick: () => void this.load(false) }, 'Load more');
    this.summary = h('p', { class: 'hint', 'aria-live': 'polite' });
    this.dialog = h('dialog', { class: 'history-dialog', 'aria-labelledby': 'history-dialog-title' });
    this.el = h(
      'section',
      { class: 'history panel', 'aria-labelledby': 'history-title' },
      h('div', { class: 'panel-head' }, h('h2', { id: 'history-title' }, 'History'), h('button', { type: 'button', class: 'link', onclick: () => void this.load(true) }, 'Refresh')),
      this.summary,
      this.grid,
      this.more,
      this.dialog,
    );
  }

  /** First page (reset = true) or the next one. */
  async load(reset = true): Promise<void> {
    this.loading?.abort();
    const ctrl = new AbortController();
    this.loading = ctrl;
    this.more.disabled = true;
    this.el.setAttribute('aria-busy', 'true');
    try {
      const page = await this.api.listEdits({ limit: PAGE_SIZE, cursor: reset ? null : this.cursor }, ctrl.signal);
      if (reset) {
        this.grid.replaceChildren();
        this.count = 0;
      }
      for (const item of page.items) this.grid.append(this.card(item));
      this.count += page.items.length;
      this.cursor = page.nextCursor;
      this.more.hidden = !page.nextCursor;
      this.summary.textContent = this.count === 0 ? 'No edits yet. Your finished edits appear here.' : `${this.count} edit${this.count === 1 ? '' : 's'} shown${page.nextCursor ? ' (more available)' : ''}.`;
    } catch (err) {
      if (!(err instanceof ApiError && err.kind === 'aborted')) this.notifier.error(err, { context: 'Loading the history', retry: () => void this.load(reset) });
    } finally {
      if (this.loading === ctrl) this.loading = null;
      this.more.disabled = false;
      this.el.removeAttribute('aria-busy');
    }
  }

  private card(item: EditRecord): HTMLLIElement {
    const status = String(item.status);
    const prompt = item.prompt?.trim() || '(no prompt)';
    const thumb = item.thumbnail
      ? h('img', { src: item.thumbnail, alt: '', loading: 'lazy', width: 128, height: 128 })
      : h('span', { class: 'no-thumb', 'aria-hidden': 'true' }, status === 'succeeded' ? '—' : '×');
    const li = h(
      'li',
      { class: 'history-item', 'data-id': item.id },
      h(
        'button',
        { type: 'button', class: 'history-card', onclick: () => void this.open(item, li), 'aria-label': `${operationLabel(item.operation)}, ${STATUS_TEXT[status] ?? status}, ${formatDate(item.createdAt)}: ${prompt}` },
        thumb,
        h('span', { class: 'history-text' },
          h('span', { class: 'op' }, operationLabel(item.operation), ' ', h('span', { class: `badge status-${status}` }, STATUS_TEXT[status] ?? status)),
          h('span', { class: 'prompt' }, prompt),
          h('time', { datetime: item.createdAt }, formatDate(item.createdAt)),
        ),
      ),
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
        li.remove();
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
      h('p', {}, 'Delete this edit permanently? This cannot be undone.'),
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

  private async remove(item: EditRecord, li: HTMLElement, confirmBox: HTMLElement): Promise<void> {
    confirmBox.querySelectorAll('button').forEach((b) => (b.disabled = true));
    try {
      await this.api.deleteEdit(item.id);
      this.dialog.close();
      li.remove();
      this.count = Math.max(0, this.count - 1);
      this.summary.textContent = this.count === 0 ? 'No edits yet. Your finished edits appear here.' : `${this.count} edit${this.count === 1 ? '' : 's'} shown.`;
      this.notifier.info('The edit was deleted.');
    } catch (err) {
      confirmBox.querySelectorAll('button').forEach((b) => (b.disabled = false));
      if (err instanceof ApiError && err.status === 404) {
        this.dialog.close();
        li.remove();
        this.notifier.info('That edit was already gone.');
      } else {
        this.dialog.close();
        this.notifier.error(err, { context: 'Deleting the edit' });
      }
    }
  }
}

// Results of one edit: each image with a before/after slider, its seed (to reproduce it), download,
// "use as new input"; the API's notices; a plain statement when the local stand-in model made it.

import type { EditResponse } from '../api/types';
import { operationLabel } from '../editor/operations';
import { base64ToBlob } from '../image/load';
import { compareSlider } from './compare';
import { download, h } from './dom';

export interface ResultActions {
  useAsInput(blob: Blob, name: string): void;
  reuseSeed(seed: number): void;
}

export interface ShownResult {
  response: EditResponse;
  /** The picture as sent (data URL); null for generate. */
  input: string | null;
  /** What the compare slider shows as "before" (the input, padded like the output for outpainting). */
  before?: string | null;
  /** The mask as sent (data URL), if any. */
  mask: string | null;
  /** The request time, for file names. */
  at: Date;
}

export const STAND_IN_TEXT =
  'Made by the local cloud’s stand-in model, not by Amazon Bedrock: it shows the app works end to end, not what the real model would draw.';

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

export class ResultsView {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;
  /** Object URLs of the shown images, released when they are replaced. */
  private urls: string[] = [];

  constructor(private readonly actions: ResultActions) {
    this.body = h('div', { class: 'results-body' });
    this.el = h('section', { class: 'results panel', 'aria-labelledby': 'results-title', hidden: true }, h('h2', { id: 'results-title' }, 'Results'), this.body);
  }

  clear(): void {
    this.release();
    this.body.replaceChildren();
    this.el.hidden = true;
  }

  private release(): void {
    for (const u of this.urls) URL.revokeObjectURL(u);
    this.urls = [];
  }

  show(r: ShownResult): void {
    this.release();
    const { response } = r;
    const base = `edit-${stamp(r.at)}`;
    const meta = h(
      'p',
      { class: 'result-meta' },
      `${operationLabel(response.operation)} · ${response.images.length} image${response.images.length === 1 ? '' : 's'} · model ${response.model} · ${(response.durationMs / 1000).toFixed(1)} s`,
    );
    const standIn = response.standIn ? h('p', { class: 'stand-in', role: 'note' }, h('strong', {}, 'Stand-in model. '), STAND_IN_TEXT) : null;
    const notices = response.notices?.length
      ? h('ul', { class: 'notices', 'aria-label': 'Notices from the API' }, ...response.notices.map((n) => h('li', {}, n)))
      : null;
    const extras = h(
      'p',
      { class: 'result-extras' },
      r.input ? h('button', { type: 'button', onclick: () => download(r.input!, `${base}-input.${r.input!.startsWith('data:image/jpeg') ? 'jpg' : 'png'}`) }, 'Download input') : null,
      r.mask ? h('button', { type: 'button', onclick: () => download(r.mask!, `${base}-mask.png`) }, 'Download mask') : null,
      h('button', { type: 'button', class: 'link', onclick: () => this.clear() }, 'Clear results'),
    );
    const figures = response.images.map((b64, i) => {
      const blob = base64ToBlob(b64, 'image/png');
      const url = URL.createObjectURL(blob);
      this.urls.push(url);
      const seed = response.seeds[i] ?? response.seeds[0];
      const label = `Result ${i + 1}`;
      const name = `${base}-result-${i + 1}.png`;
      const before = r.before ?? r.input;
      const picture = before ? compareSlider(before, url, label) : h('img', { src: url, alt: label, class: 'result-img' });
      return h(
        'figure',
        { class: 'result' },
        picture,
        h(
          'figcaption',
          {},
          seed !== undefined
            ? h('span', { class: 'seed' }, 'Seed ', h('code', {}, String(seed)), ' ', h('button', { type: 'button', class: 'link', onclick: () => this.actions.reuseSeed(seed), title: 'Put this seed into the form to reproduce the result' }, 'Reuse seed'))
            : null,
          h(
            'span',
            { class: 'result-actions' },
            h('button', { type: 'button', onclick: () => download(blob, name), 'aria-label': `Download ${label}` }, 'Download'),
            h('button', { type: 'button', onclick: () => this.actions.useAsInput(blob, name), 'aria-label': `Use ${label} as the new input` }, 'Use as new input'),
          ),
        ),
      );
    });
    this.body.replaceChildren(h('div', { class: 'result-head' }, meta, standIn, notices, extras), h('div', { class: 'result-grid' }, ...figures));
    this.el.hidden = false;
  }
}

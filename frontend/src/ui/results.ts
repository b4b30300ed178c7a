// Results of one edit, just made or opened from History: each image full size (with a before/after
// slider when the input is at hand), its seed (to reproduce it), download, "use as new input"; the
// API's notices; how long the stack keeps the pictures; a plain statement when the local stand-in
// model made it. Images are read from their links (ResultImage.url); a link that has expired or is
// refused is renewed once through GET /edits/{id} (api/results.ts).

import { type ResultLinks, linkExpired, resultFileName } from '../api/results';
import type { EditRecord, EditResponse, ResultImage } from '../api/types';
import { operationLabel } from '../editor/operations';
import { compareSlider } from './compare';
import { download, h } from './dom';

export interface ResultActions {
  /** "Use as new input": image `index` of edit `editId`, as if the person chose that file. */
  useAsInput(editId: string, index: number, image: ResultImage, name: string): void;
  reuseSeed(seed: number): void;
  /** A download link could not be renewed. */
  failed(err: unknown, context: string): void;
}

/** What the view shows: an answer of POST /edits or a record of History, in one shape. */
export interface ShownResult {
  id: string;
  operation: string;
  model: string;
  durationMs: number | null;
  images: ResultImage[];
  seeds: number[];
  notices: string[];
  standIn: boolean;
  keptUntil: string | null;
  /** The picture as sent (data URL); null for generate, or when opened from History. */
  input: string | null;
  /** What the compare slider shows as "before" (the input, padded like the output for outpainting). */
  before: string | null;
  /** The mask as sent (data URL), if any. */
  mask: string | null;
  /** When the edit was asked for, for file names. */
  at: Date;
}

/** The answer of an edit just made. */
export function fromResponse(res: EditResponse, sent: { input: string | null; before: string | null; mask: string | null; at: Date }): ShownResult {
  return {
    id: res.id,
    operation: res.operation,
    model: res.model,
    durationMs: res.durationMs,
    images: res.images,
    seeds: res.seeds,
    notices: res.notices ?? [],
    standIn: !!res.standIn,
    keptUntil: res.keptUntil ?? null,
    ...sent,
  };
}

/** A History record opened full size: its kept images, without the input (it is not kept). */
export function fromRecord(r: EditRecord): ShownResult {
  const at = new Date(r.createdAt);
  return {
    id: r.id,
    operation: r.operation,
    model: r.model,
    durationMs: r.durationMs,
    images: r.results ?? [],
    seeds: r.seeds ?? [],
    notices: [],
    standIn: !!r.standIn,
    keptUntil: r.keptUntil ?? null,
    input: null,
    before: null,
    mask: null,
    at: Number.isNaN(at.getTime()) ? new Date() : at,
  };
}

export const STAND_IN_TEXT =
  'Made by the local cloud’s stand-in model, not by Amazon Bedrock: it shows the app works end to end, not what the real model would draw.';

function stamp(d: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}${p(d.getMonth() + 1)}${p(d.getDate())}-${p(d.getHours())}${p(d.getMinutes())}${p(d.getSeconds())}`;
}

/** A date as the reader writes it, e.g. "12/12/2026" (their locale). */
export function localDate(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : d.toLocaleDateString();
}

/** What happens to these pictures: kept in History until when, or not kept at all. */
export function keptText(keptUntil: string | null): string {
  return keptUntil
    ? `Kept in History until ${localDate(keptUntil)}.`
    : 'This stack does not keep the pictures: download the ones you want before you leave the page.';
}

/** What an <img> shows until its renewed link arrives (a transparent pixel: no request, no error). */
const BLANK = 'data:image/gif;base64,R0lGODlhAQABAAAAACH5BAEKAAEALAAAAAABAAEAAAICTAEAOw==';

/**
 * Points `img` at image `index` of edit `editId`, renewing the link once: before the first load when
 * it has expired, or after the browser fails to load it (a link dies early when the credentials
 * that signed it expire). A second failure says so in place of the picture.
 */
export function resultImage(links: ResultLinks, editId: string, index: number, image: ResultImage, img: HTMLImageElement): HTMLImageElement {
  let renewed = false;
  const gone = () => {
    img.replaceWith(h('p', { class: 'result-gone', role: 'note' }, 'This picture could not be loaded: it may no longer be kept. Try “Refresh” in History.'));
  };
  const renew = () => {
    renewed = true;
    links.renewed(editId, index).then((fresh) => (img.src = fresh.url), gone);
  };
  img.addEventListener('error', () => (renewed || image.url.startsWith('data:') ? gone() : renew()));
  if (linkExpired(image)) {
    img.src = BLANK;
    renew();
  } else {
    img.src = image.url;
  }
  return img;
}

export class ResultsView {
  readonly el: HTMLElement;
  private readonly body: HTMLElement;

  constructor(
    private readonly links: ResultLinks,
    private readonly actions: ResultActions,
  ) {
    this.body = h('div', { class: 'results-body' });
    this.el = h('section', { class: 'results panel', 'aria-labelledby': 'results-title', hidden: true }, h('h2', { id: 'results-title' }, 'Results'), this.body);
  }

  /** Empties the view only: the pictures stay wherever they are kept (History). */
  clear(): void {
    this.body.replaceChildren();
    this.el.hidden = true;
  }

  show(r: ShownResult): void {
    const base = `edit-${stamp(r.at)}`;
    const n = r.images.length;
    const meta = h(
      'p',
      { class: 'result-meta' },
      [operationLabel(r.operation), `${n} image${n === 1 ? '' : 's'}`, `model ${r.model}`, r.durationMs !== null ? `${(r.durationMs / 1000).toFixed(1)} s` : null]
        .filter(Boolean)
        .join(' · '),
    );
    const kept = h('p', { class: 'result-kept hint' }, keptText(r.keptUntil));
    const standIn = r.standIn ? h('p', { class: 'stand-in', role: 'note' }, h('strong', {}, 'Stand-in model. '), STAND_IN_TEXT) : null;
    const notices = r.notices.length ? h('ul', { class: 'notices', 'aria-label': 'Notices from the API' }, ...r.notices.map((t) => h('li', {}, t))) : null;
    const clearHint = r.keptUntil ? 'Hides these results here; they stay in History.' : 'Hides these results here; this stack does not keep them, so download them first.';
    const extras = h(
      'p',
      { class: 'result-extras' },
      r.input ? h('button', { type: 'button', onclick: () => download(r.input!, `${base}-input.${r.input!.startsWith('data:image/jpeg') ? 'jpg' : 'png'}`) }, 'Download input') : null,
      r.mask ? h('button', { type: 'button', onclick: () => download(r.mask!, `${base}-mask.png`) }, 'Download mask') : null,
      h('button', { type: 'button', class: 'link', title: clearHint, onclick: () => this.clear() }, r.keptUntil ? 'Clear view (kept in History)' : 'Clear view'),
    );
    const figures = r.images.map((image, i) => this.figure(r, image, i, `${base}-result-${i + 1}`));
    const none = n ? null : h('p', { class: 'hint' }, 'No pictures to show: they are no longer kept.');
    this.body.replaceChildren(h('div', { class: 'result-head' }, meta, kept, standIn, notices, extras), none ?? h('div', { class: 'result-grid' }, ...figures));
    this.el.hidden = false;
  }

  private figure(r: ShownResult, image: ResultImage, i: number, base: string): HTMLElement {
    const seed = r.seeds[i] ?? r.seeds[0];
    const label = `Result ${i + 1}`;
    const name = resultFileName(base, image);
    const before = r.before ?? r.input;
    let picture: HTMLElement;
    if (before) {
      picture = compareSlider(before, BLANK, label);
      resultImage(this.links, r.id, i, image, picture.querySelector<HTMLImageElement>('img.after')!);
    } else {
      picture = resultImage(this.links, r.id, i, image, h('img', { alt: label, class: 'result-img', width: image.width || null, height: image.height || null, crossorigin: 'anonymous' }));
    }
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
          h('button', { type: 'button', onclick: () => void this.download(r.id, i, image, name), 'aria-label': `Download ${label}` }, 'Download'),
          h('button', { type: 'button', onclick: () => this.actions.useAsInput(r.id, i, image, name), 'aria-label': `Use as new input: ${label}` }, 'Use as new input'),
        ),
      ),
    );
  }

  /** Through `downloadUrl` (the bucket answers it as an attachment), renewed first when it has expired. */
  private async download(id: string, index: number, image: ResultImage, name: string): Promise<void> {
    try {
      const usable = await this.links.usable(id, index, image);
      download(usable.downloadUrl ?? usable.url, name);
    } catch (err) {
      this.actions.failed(err, 'Downloading the picture');
    }
  }
}

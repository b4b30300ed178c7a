// The picture area: drop zone + file picker + paste target when empty; the picture with the mask layer
// over it; for outpainting a frame showing the new border with drag handles.

import type { Extents } from '../api/types';
import { NO_EXTENTS, paddedSize } from '../outpaint/extents';
import type { ExtentsEditor } from '../outpaint/view';
import type { MaskEditor } from '../mask/editor';
import { ACCEPTED_TYPES } from '../image/downscale';
import { h } from './dom';

export class Stage {
  readonly el: HTMLElement;
  readonly fileInput: HTMLInputElement;
  private readonly frame: HTMLElement;
  private readonly box: HTMLElement;
  private readonly empty: HTMLElement;
  private picture: HTMLCanvasElement | null = null;
  private extents: Extents = { ...NO_EXTENTS };
  private showExtents = false;

  constructor(
    mask: MaskEditor,
    private readonly extentsEditor: ExtentsEditor,
    private readonly onFile: (file: Blob, name: string) => void,
  ) {
    this.fileInput = h('input', {
      type: 'file',
      accept: ACCEPTED_TYPES.join(','),
      class: 'visually-hidden',
      id: 'file-input',
      'aria-label': 'Choose a picture (JPEG, PNG or WebP)',
    });
    this.fileInput.addEventListener('change', () => {
      const file = this.fileInput.files?.[0];
      if (file) this.onFile(file, file.name);
      this.fileInput.value = '';
    });
    this.empty = h(
      'div',
      { class: 'empty-stage' },
      // A touch screen has no Ctrl/⌘+V and nothing to drop: it is offered the picker alone.
      h('p', { class: 'big' }, globalThis.matchMedia?.('(pointer: coarse)').matches ? 'Start with a picture from your device:' : 'Drop a picture here, paste one (Ctrl/⌘+V) or'),
      h('label', { for: 'file-input', class: 'button primary' }, 'Choose a picture…'),
      h('p', { class: 'hint' }, 'JPEG, PNG or WebP. Large pictures are scaled down to what the model accepts.'),
    );
    this.box = h('div', { class: 'picture-box' }, mask.canvas, mask.rectEl);
    this.frame = h('div', { class: 'frame' }, this.box, ...extentsEditor.handles, mask.cursor);
    this.frame.hidden = true;
    this.el = h('div', { class: 'stage', role: 'group', 'aria-label': 'Picture' }, this.fileInput, this.empty, this.frame);
    extentsEditor.scale = () => this.imagePixelsPerScreenPixel();
    this.bindDrop();
  }

  /** Shows the picture (or the empty drop zone when null). */
  setPicture(canvas: HTMLCanvasElement | null): void {
    this.picture?.remove();
    this.picture = canvas;
    if (canvas) {
      canvas.classList.add('picture');
      canvas.setAttribute('role', 'img');
      canvas.setAttribute('aria-label', 'The input picture');
      this.box.prepend(canvas);
    }
    this.empty.hidden = !!canvas;
    this.frame.hidden = !canvas;
    this.layout();
    this.watchPin();
  }

  private pinWatcher: ResizeObserver | null = null;

  /**
   * Phones keep the picture in view while the user types in the form (styles.css pins the picture's
   * section under the header, the tools above the picture scrolled away). CSS cannot know how far
   * down the section the picture starts, nor how tall it is; these two variables tell it:
   * --stage-top on the section, and --pin-h on the page (its scroll padding keeps focused fields
   * out from under the pinned picture).
   */
  private watchPin(): void {
    const section = this.el.parentElement;
    if (this.pinWatcher || !section || typeof ResizeObserver === 'undefined') return;
    const update = () => {
      const top = this.el.getBoundingClientRect().top - section.getBoundingClientRect().top;
      section.style.setProperty('--stage-top', `${Math.round(top)}px`);
      document.documentElement.style.setProperty('--pin-h', `${Math.round(section.getBoundingClientRect().height - top)}px`);
    };
    this.pinWatcher = new ResizeObserver(update);
    this.pinWatcher.observe(section);
    this.pinWatcher.observe(this.el);
  }

  setExtents(extents: Extents, show: boolean): void {
    this.extents = { ...extents };
    this.showExtents = show;
    this.layout();
  }

  private imagePixelsPerScreenPixel(): number {
    const w = this.frame.getBoundingClientRect().width;
    const padded = this.picture ? paddedSize(this.picture.width, this.picture.height, this.showExtents ? this.extents : NO_EXTENTS) : null;
    return padded && w > 0 ? padded.width / w : 1;
  }

  /** Percent-based layout: the frame has the padded picture's aspect ratio; the picture sits inside. */
  private layout(): void {
    for (const hEl of this.extentsEditor.handles) hEl.hidden = !this.showExtents || !this.picture;
    this.frame.classList.toggle('outpaint', this.showExtents);
    if (!this.picture) return;
    const { width, height } = this.picture;
    const e = this.showExtents ? this.extents : NO_EXTENTS;
    const p = paddedSize(width, height, e);
    this.frame.style.setProperty('--ar', String(p.width / p.height));
    Object.assign(this.box.style, {
      left: `${(e.left / p.width) * 100}%`,
      top: `${(e.up / p.height) * 100}%`,
      width: `${(width / p.width) * 100}%`,
      height: `${(height / p.height) * 100}%`,
    });
  }

  private bindDrop(): void {
    const el = this.el;
    el.addEventListener('dragover', (ev) => {
      if (!ev.dataTransfer?.types.includes('Files')) return;
      ev.preventDefault();
      ev.dataTransfer.dropEffect = 'copy';
      el.classList.add('dragging');
    });
    el.addEventListener('dragleave', (ev) => {
      if (ev.target === el || !el.contains(ev.relatedTarget as Node | null)) el.classList.remove('dragging');
    });
    el.addEventListener('drop', (ev) => {
      ev.preventDefault();
      el.classList.remove('dragging');
      const file = ev.dataTransfer?.files?.[0];
      if (file) this.onFile(file, file.name);
    });
  }
}

/** Pasting a picture, or dropping one anywhere on the page, loads it (instead of the browser opening the file). */
export function installPasteAndDrop(onFile: (file: Blob, name: string) => void): () => void {
  const onDragOver = (ev: DragEvent) => {
    if (ev.dataTransfer?.types.includes('Files')) ev.preventDefault();
  };
  const onDrop = (ev: DragEvent) => {
    if (ev.defaultPrevented || !ev.dataTransfer?.files?.length) return;
    ev.preventDefault();
    const file = ev.dataTransfer.files[0]!;
    onFile(file, file.name);
  };
  const onPaste = (ev: ClipboardEvent) => {
    const items = ev.clipboardData?.items;
    if (!items) return;
    for (const item of Array.from(items)) {
      if (item.kind === 'file' && item.type.startsWith('image/')) {
        const file = item.getAsFile();
        if (file) {
          ev.preventDefault();
          onFile(file, file.name || 'pasted-image.png');
          return;
        }
      }
    }
  };
  document.addEventListener('dragover', onDragOver);
  document.addEventListener('drop', onDrop);
  document.addEventListener('paste', onPaste);
  return () => {
    document.removeEventListener('dragover', onDragOver);
    document.removeEventListener('drop', onDrop);
    document.removeEventListener('paste', onPaste);
  };
}

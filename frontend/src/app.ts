// The signed-in app: puts the pieces together and owns the flow
// picture → mask / extents → form → POST /edits → results → history.

import type { ApiClient } from './api/client';
import { ApiError } from './api/errors';
import { ResultLinks, resultFileName } from './api/results';
import { stillBeingMade, withRetries } from './api/retry';
import type { Capabilities, EditRecord, EditRequest, ResultImage } from './api/types';
import type { Session } from './auth/session';
import type { AppConfig } from './config';
import { EditForm } from './editor/form';
import { operationLabel } from './editor/operations';
import { buildRequest, requestTooLarge, usesPaintedMask, validate } from './editor/request';
import { RunState, type StopOutcome } from './editor/run';
import { formatSize } from './image/downscale';
import { type PreparedImage, describePrepared, prepareImage } from './image/load';
import { MaskEditor } from './mask/editor';
import { maskToPngDataUrl } from './mask/export';
import { padPicture } from './outpaint/extents';
import { ExtentsEditor } from './outpaint/view';
import { download, h } from './ui/dom';
import { HistoryView } from './ui/history';
import { createNotifier } from './ui/notify';
import { ResultsView, STAND_IN_TEXT, fromRecord, fromResponse } from './ui/results';
import { SHORTCUT_HELP, installShortcuts } from './ui/shortcuts';
import { Stage, installPasteAndDrop } from './ui/stage';
import { TeachPanel } from './ui/teach';
import { UsageNote } from './ui/usage';

export interface AppDeps {
  root: HTMLElement;
  config: AppConfig;
  session: Session;
  api: ApiClient;
  /** Sign out and show the sign-in screen (with an optional notice). */
  signOut(notice?: string): void;
}

/** Returns a function that tears the app down (listeners, timers). */
export function startApp({ root, config, session, api, signOut }: AppDeps): () => void {
  const { errorEl, statusEl, notifier } = createNotifier(() => signOut('Please sign in again.'));
  const header = h(
    'header',
    { class: 'top' },
    // The page's one h1 (the sections below are h2s), so heading navigation starts somewhere.
    h('h1', { class: 'brand' }, 'AI image editor', config.stackName ? h('span', { class: 'stack' }, ` · ${config.stackName}`) : null),
    h(
      'div',
      { class: 'who' },
      h('span', { class: 'user', title: 'Signed in as' }, session.current?.username ?? ''),
      h('button', { type: 'button', class: 'sign-out', onclick: () => signOut() }, 'Sign out'),
    ),
  );
  const loading = h('p', { class: 'loading', role: 'status' }, 'Loading what this stack can do…');
  // The status line starts here and moves under the form once there is one: a slot in the flow, next
  // to the run button, that never covers a control.
  const main = h('main', { id: 'main', class: 'app' }, errorEl, statusEl, loading);
  root.replaceChildren(h('a', { href: '#main', class: 'skip' }, 'Skip to content'), header, main);

  let disposed = false;
  const cleanups: (() => void)[] = [];
  const load = () => {
    loading.hidden = false;
    api.capabilities().then(
      (caps) => {
        if (disposed) return;
        loading.remove();
        cleanups.push(buildWorkspace(caps));
      },
      (err) => {
        if (disposed) return;
        loading.textContent = 'Could not load the stack’s capabilities.';
        notifier.error(err, { context: 'Loading the stack’s capabilities', retry: load });
      },
    );
  };
  load();

  function buildWorkspace(caps: Capabilities): () => void {
    let picture: PreparedImage | null = null;
    /** Style transfer's style reference. */
    let styleImage: PreparedImage | null = null;
    /** The running edit's phase (editor/run.ts): what the run button says, what Cancel means. */
    const run = new RunState();
    /** The running edit's means to stop waiting, and what Cancel meant once pressed. */
    let running: { ctrl: AbortController; stopped: StopOutcome | null } | null = null;
    /** History refreshes due after a Cancel (the server may still finish the edit). */
    const laterRefreshes: ReturnType<typeof setTimeout>[] = [];
    let attempted = false;

    const mask = new MaskEditor(() => {
      if (!picture) return notifier.info('Choose a picture first.');
      download(maskToPngDataUrl(mask.export()), 'mask.png');
    });
    const extents = new ExtentsEditor();
    const form = new EditForm(extents);
    const pictureInfo = h('p', { class: 'picture-info', 'aria-live': 'polite' });
    const pictureActions = h(
      'p',
      { class: 'picture-actions', hidden: true },
      h('label', { for: 'file-input', class: 'button' }, 'Replace picture…'),
      h('button', { type: 'button', onclick: () => picture && download(picture.dataUrl, `input.${picture.mime === 'image/jpeg' ? 'jpg' : 'png'}`) }, 'Download input'),
    );
    const stage = new Stage(mask, extents, (f, n) => void loadPicture(f, n));
    const noImageNote = h('p', { class: 'hint', hidden: true }, 'This operation makes a new picture from the prompt; no input picture is needed.');
    const scaleNote = h('p', { class: 'hint', hidden: true });
    const links = new ResultLinks((id) => api.getEdit(id));
    const results = new ResultsView(links, {
      useAsInput: (id, index, image, name) => void useResult(id, index, image, name),
      reuseSeed: (seed) => {
        if (run.running) return notifier.info('Wait for the running edit to finish (or cancel it) before changing the settings.');
        form.setSeed(seed);
        notifier.info(`Seed ${seed} is in the form: the same settings will reproduce this result.`);
      },
      failed: (err, context) => notifier.error(err, { context }),
    });
    const firstResult = (record: EditRecord): [ResultImage, string] | null => {
      const image = record.results?.[0];
      return image ? [image, resultFileName(`edit-${record.id}-result-1`, image)] : null;
    };
    const history = new HistoryView(api, notifier, {
      applySettings: (record) => {
        if (run.running) return notifier.info('Wait for the running edit to finish (or cancel it) before changing the settings.');
        if (form.apply(record)) notifier.info(`Settings of that ${operationLabel(record.operation)} edit are in the form.`);
        else notifier.info(`This stack cannot do “${operationLabel(record.operation)}”.`);
      },
      open: (record) => {
        results.show(fromRecord(record));
        results.el.scrollIntoView({ behavior: 'smooth', block: 'start' });
      },
      download: (record) => {
        const first = firstResult(record);
        if (!first) return;
        links.usable(record.id, 0, first[0]).then(
          (image) => download(image.downloadUrl ?? image.url, first[1]),
          (err) => notifier.error(err, { context: 'Downloading the picture' }),
        );
      },
      useAsInput: (record) => {
        const first = firstResult(record);
        if (first) void useResult(record.id, 0, first[0], first[1]);
      },
    });
    const teach = new TeachPanel(session, { url: api.url('/edits'), preview, full: async () => (await assemble())?.req ?? null }, notifier);

    const banner = caps.standIn ? h('p', { class: 'stand-in banner', role: 'note' }, h('strong', {}, 'Local cloud. '), STAND_IN_TEXT) : null;
    const familyNote = h('p', { class: 'family hint' }, `Model family: ${caps.family} · region ${caps.region}`);
    const usage = new UsageNote(api);
    const workspace = h(
      'div',
      { class: 'workspace' },
      h('section', { class: 'canvas-col panel', 'aria-label': 'Picture and mask' }, stage.el, noImageNote, mask.toolbar, pictureInfo, scaleNote, pictureActions),
      h('div', { class: 'form-col' }, form.el, statusEl, usage.el, familyNote),
    );
    const help = h(
      'details',
      { class: 'shortcuts panel' },
      h('summary', {}, h('h2', {}, 'Keyboard shortcuts')),
      h('dl', {}, ...SHORTCUT_HELP.map(([k, v]) => h('div', { class: 'row' }, h('dt', {}, h('kbd', {}, k)), h('dd', {}, v)))),
    );
    main.append(...[banner, workspace, results.el, history.el, teach.el, help].filter((x): x is HTMLElement => x !== null));

    form.configure(caps);
    form.onChange = refresh;
    form.onSubmit = () => void submit();
    form.onCancel = cancel;
    form.onStyleFile = (f, n) => void loadStyleImage(f, n);
    mask.onChange = refresh;
    refresh();
    void history.load(true);
    void usage.refresh();

    /** A result (just made, or kept in History) becomes the picture to edit, as if chosen as a file. */
    async function useResult(id: string, index: number, image: ResultImage, name: string): Promise<void> {
      if (run.running) return notifier.info('Wait for the running edit to finish (or cancel it) before changing the picture.');
      notifier.info('Reading the picture…');
      try {
        const blob = await links.blob(id, index, image);
        await loadPicture(blob, name);
        stage.el.scrollIntoView({ behavior: 'smooth', block: 'start' });
      } catch (err) {
        notifier.error(err, { context: 'Using the picture as input' });
      }
    }

    async function loadPicture(blob: Blob, name: string): Promise<void> {
      if (run.running) return notifier.info('Wait for the running edit to finish (or cancel it) before changing the picture.');
      notifier.info('Reading the picture…');
      try {
        const p = await prepareImage(blob, name, caps.limits, caps.limits.maxUploadBytes);
        picture = p;
        stage.setPicture(p.canvas);
        mask.reset(p.width, p.height);
        pictureActions.hidden = false;
        pictureInfo.replaceChildren(
          h('strong', {}, p.original.name),
          `: ${describePrepared(p)}`,
          ...p.notes.map((n) => h('span', { class: 'note' }, ` ${n}`)),
        );
        notifier.clearError();
        notifier.info(`Picture ready: ${formatSize(p.width, p.height)}.`);
        refresh();
      } catch (err) {
        notifier.error(err, { context: 'Loading the picture' });
      }
    }

    /** The style reference goes the picture's way: same checks, same limits, same downscaling. */
    async function loadStyleImage(blob: Blob, name: string): Promise<void> {
      if (run.running) return notifier.info('Wait for the running edit to finish (or cancel it) before changing the style image.');
      try {
        const p = await prepareImage(blob, name, caps.limits, caps.limits.maxUploadBytes);
        styleImage = p;
        form.showStyleImage(p);
        notifier.clearError();
        notifier.info(`Style image ready: ${formatSize(p.width, p.height)}.`);
        refresh();
      } catch (err) {
        notifier.error(err, { context: 'Loading the style image' });
      }
    }

    function refresh(): void {
      const info = form.info;
      if (!info) return;
      const needsImage = info.image !== 'none';
      stage.el.hidden = !needsImage;
      noImageNote.hidden = needsImage;
      pictureInfo.hidden = !needsImage;
      pictureActions.hidden = !needsImage || !picture;
      const scaledDown = needsImage && !!picture && picture.width * picture.height > info.cap.maxPixels;
      scaleNote.hidden = !scaledDown;
      scaleNote.textContent = scaledDown ? `${operationLabel(info.cap.name)} takes at most ${(info.cap.maxPixels / 1e6).toFixed(1)} megapixels: the picture is scaled down to that first.` : '';
      mask.setEnabled(needsImage && info.mask !== 'none' && !!picture);
      stage.setExtents(extents.extents, info.isOutpaint);
      if (attempted) form.showProblems(problems());
      teach.refresh();
    }

    function inputs() {
      return {
        image: picture ? { width: picture.width, height: picture.height } : null,
        styleImage: styleImage ? { width: styleImage.width, height: styleImage.height } : null,
        maskChanged: picture ? mask.changedPixels : 0,
      };
    }

    function problems() {
      const info = form.info;
      return info ? validate(caps, info, form.state(), inputs()) : [];
    }

    /** The cheap preview for the teaching panel: the mask is described, not encoded. */
    function preview(): EditRequest | null {
      const info = form.info;
      if (!info) return null;
      const maskNote = picture ? `<mask PNG ${formatSize(mask.width, mask.height)}, made when you submit: white = change>` : undefined;
      return buildRequest(caps, info, form.state(), {
        image: picture?.dataUrl,
        styleImage: styleImage?.dataUrl,
        mask: usesPaintedMask(info, inputs()) ? maskNote : undefined,
      });
    }

    /** The exact request, images encoded; null when the form is not valid. */
    async function assemble(): Promise<{ req: EditRequest; input: string | null; mask: string | null } | null> {
      const info = form.info;
      if (!info || problems().length) return null;
      const input = info.image !== 'none' && picture ? picture.dataUrl : null;
      const maskUrl = picture && usesPaintedMask(info, inputs()) ? maskToPngDataUrl(mask.export()) : null;
      const req = buildRequest(caps, info, form.state(), { image: input ?? undefined, styleImage: styleImage?.dataUrl, mask: maskUrl ?? undefined });
      return { req, input, mask: maskUrl };
    }

    /** The form, the picture, the mask tools and the extents handles: locked while an edit runs. */
    function lock(busy: boolean): void {
      form.setRunning(busy ? run : null);
      for (const el of [stage.el, mask.toolbar, pictureActions]) {
        el.inert = busy;
        el.classList.toggle('locked', busy);
      }
    }

    /** Cancel (button or Esc): stop waiting, and say truthfully what that means. */
    function cancel(): boolean {
      const outcome = run.cancel();
      if (!outcome || !running) return false;
      running.stopped = outcome;
      form.showRun();
      running.ctrl.abort();
      return true;
    }

    async function submit(): Promise<void> {
      if (run.running) return;
      attempted = true;
      const found = problems();
      form.showProblems(found);
      if (found.length) {
        form.focusProblem(found);
        notifier.info(found[0]!.message);
        return;
      }
      notifier.clearError();
      const at = new Date();
      run.start(at.getTime());
      const ctrl = new AbortController();
      const current: { ctrl: AbortController; stopped: StopOutcome | null } = { ctrl, stopped: null };
      running = current;
      lock(true);
      try {
        const built = await assemble();
        if (!built) return;
        const tooLarge = requestTooLarge(built.req, caps.limits);
        if (tooLarge) {
          notifier.error(new ApiError({ kind: 'http', status: 413, code: 'payload_too_large', message: tooLarge }), { context: 'The edit' });
          return;
        }
        // "Not now" answers (a class at once: throttles, concurrency, a busy model, a model still
        // warming up) are retried here, saying so, until they succeed or about two minutes have
        // passed (api/retry.ts). One key for this edit, the same on every retry: sent again, it
        // never makes a second image.
        const key = globalThis.crypto?.randomUUID?.() ?? `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}`;
        notifier.info('Waiting for the model…');
        const res = await withRetries(
          () => {
            run.sending();
            form.showRun();
            return api.createEdit(built.req, ctrl.signal, key);
          },
          {
            signal: ctrl.signal,
            onWait: ({ delayMs, reason, error }) => {
              run.retrying(delayMs, Date.now(), stillBeingMade(error));
              form.showRun();
              notifier.info(`${reason}; trying again in ${Math.max(1, Math.round(delayMs / 1000))} s…`);
            },
          },
        );
        // Outpainting adds the border on the server: pad the "before" the same way so the slider lines up.
        const before = form.info?.isOutpaint && picture ? padPicture(picture.canvas, form.state().extents).toDataURL('image/png') : built.input;
        results.show(fromResponse(res, { input: built.input, before, mask: built.mask, at }));
        notifier.info(`Done: ${res.images.length} image${res.images.length === 1 ? '' : 's'} in ${((Date.now() - at.getTime()) / 1000).toFixed(1)} s.`);
        results.el.scrollIntoView({ behavior: 'smooth', block: 'start' });
        void history.load(true);
      } catch (err) {
        // After a Cancel, whatever the stopped request threw (an abort, or an answer cut off) is the stop.
        const stopped = current.stopped;
        if (stopped) {
          notifier.info(stopped.message);
          // The function may still make and record the picture (it runs up to API Gateway's 29 s):
          // look again once it surely has finished, so the picture turns up without a click.
          if (stopped.mayStillFinish) for (const ms of [10_000, 35_000]) laterRefreshes.push(setTimeout(() => void history.load(true), ms));
        } else {
          notifier.error(err, { context: 'The edit', retry: () => void submit() });
          // A blocked or failed edit is recorded too: show it in the history.
          void history.load(true);
        }
      } finally {
        running = null;
        run.end();
        lock(false);
        void usage.refresh();
      }
    }

    const removeShortcuts = installShortcuts((action) => {
      // The mask is locked while an edit runs, its keys too.
      const maskOn = !mask.toolbar.hidden && !run.running;
      switch (action) {
        case 'submit':
          void submit();
          return true;
        case 'cancel':
          return cancel();
        case 'brush':
        case 'eraser':
          if (!maskOn) return false;
          mask.setTool(action);
          notifier.info(action === 'brush' ? 'Brush' : 'Eraser');
          return true;
        case 'undo':
          return maskOn && mask.undo();
        case 'redo':
          return maskOn && mask.redo();
        case 'smaller':
        case 'bigger':
          if (!maskOn) return false;
          mask.stepBrushSize(action === 'bigger' ? 1 : -1);
          return true;
        case 'toggle-mask':
          if (!maskOn) return false;
          mask.toggleVisible();
          return true;
      }
    });
    const removePaste = installPasteAndDrop((f, n) => void loadPicture(f, n));
    return () => {
      running?.ctrl.abort();
      for (const t of laterRefreshes) clearTimeout(t);
      removeShortcuts();
      removePaste();
    };
  }

  return () => {
    disposed = true;
    for (const c of cleanups) c();
  };
}

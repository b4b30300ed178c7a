// The edit form: operation picker (only what the stack offers) with the model choice of upscale and
// generate, the style image of style transfer, the text to find (replace/recolor) before the prompt
// (the order of the task: first what, then into what), prompt and negative prompt with their length
// limits and each operation's own examples, advanced options (seed, count, strength), outpaint
// extents, and the run button: while an edit runs it stays where it is, inert, saying what is
// happening, with Cancel beside it, and every field is locked.

import type { Capabilities, EditRecord, Extents, StrengthLimits } from '../api/types';
import { ACCEPTED_TYPES } from '../image/downscale';
import { type PreparedImage, describePrepared } from '../image/load';
import type { ExtentsEditor } from '../outpaint/view';
import { field, h } from '../ui/dom';
import {
  CHOICE_LABELS,
  OPERATION_LABELS,
  type OperationInfo,
  STRENGTH_LABELS,
  choiceLabel,
  findPlaceholder,
  operationGroups,
  operationInfo,
  operationLabel,
  promptPlaceholder,
} from './operations';
import type { FormState, Problem } from './request';
import type { RunState } from './run';

export class EditForm {
  readonly el: HTMLFormElement;
  onChange: () => void = () => undefined;
  onSubmit: () => void = () => undefined;
  onCancel: () => void = () => undefined;
  /** A style image was picked (style transfer). */
  onStyleFile: (file: Blob, name: string) => void = () => undefined;

  private caps: Capabilities | null = null;
  private readonly op: HTMLSelectElement;
  private readonly opHelp: HTMLElement;
  private readonly choice: HTMLSelectElement;
  private readonly choiceField: HTMLElement;
  private readonly choiceLabel: HTMLLabelElement;
  private readonly styleInput: HTMLInputElement;
  private readonly stylePreview: HTMLImageElement;
  private readonly styleInfo: HTMLElement;
  private readonly styleField: HTMLElement;
  private readonly prompt: HTMLTextAreaElement;
  private readonly promptCount: HTMLElement;
  private readonly promptField: HTMLElement;
  private readonly negative: HTMLTextAreaElement;
  private readonly negativeField: HTMLElement;
  private readonly maskPrompt: HTMLInputElement;
  private readonly maskPromptField: HTMLElement;
  private readonly maskPromptLabel: HTMLLabelElement;
  private readonly advanced: HTMLDetailsElement;
  private readonly seed: HTMLInputElement;
  private readonly seedField: HTMLElement;
  private readonly count: HTMLInputElement;
  private readonly countField: HTMLElement;
  private readonly strengthDefault: HTMLInputElement;
  private readonly strength: HTMLInputElement;
  private readonly strengthOut: HTMLOutputElement;
  private readonly strengthField: HTMLElement;
  private readonly strengthLabel: HTMLElement;
  /** The strength setting shown: another one (operation, model) starts from its default again. */
  private strengthSpec: StrengthLimits | null = null;
  private readonly problemsEl: HTMLElement;
  /** Every field: disabled as one while an edit runs. */
  private readonly fields: HTMLFieldSetElement;
  private readonly submit: HTMLButtonElement;
  private readonly submitWhat: HTMLElement;
  private readonly submitDetail: HTMLElement;
  private readonly cancel: HTMLButtonElement;
  private run: RunState | null = null;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(private readonly extents: ExtentsEditor) {
    const changed = () => {
      this.update();
      this.onChange();
    };
    this.op = h('select', {
      name: 'operation',
      onchange: () => {
        this.fillChoices();
        changed();
      },
    });
    this.opHelp = h('p', { class: 'hint', id: 'op-help' });
    this.choice = h('select', { name: 'choice', onchange: changed });
    this.choiceField = field('Model', this.choice);
    this.choiceLabel = this.choiceField.querySelector('label')!;
    this.styleInput = h('input', { type: 'file', name: 'styleImage', accept: ACCEPTED_TYPES.join(',') });
    this.styleInput.addEventListener('change', () => {
      const file = this.styleInput.files?.[0];
      if (file) this.onStyleFile(file, file.name);
    });
    this.stylePreview = h('img', { class: 'style-preview', alt: '', hidden: true });
    this.styleInfo = h('p', { class: 'hint', 'aria-live': 'polite' }, 'JPEG, PNG or WebP; scaled down like the picture.');
    this.styleField = field('Style image — the look to copy', this.styleInput, this.styleInfo);
    this.styleField.append(this.stylePreview);
    this.prompt = h('textarea', { name: 'prompt', rows: 3, oninput: changed });
    this.promptCount = h('span', { class: 'counter', 'aria-live': 'off' });
    this.promptField = field('Prompt', this.prompt, this.promptCount);
    this.negative = h('textarea', { name: 'negativePrompt', rows: 2, oninput: changed, placeholder: 'e.g. blurry, text, watermark' });
    this.negativeField = field('Negative prompt (optional): what to avoid', this.negative);
    this.maskPrompt = h('input', { type: 'text', name: 'maskPrompt', oninput: changed, autocomplete: 'off' });
    this.maskPromptField = field('What to find in the picture', this.maskPrompt);
    this.maskPromptLabel = this.maskPromptField.querySelector('label')!;

    this.seed = h('input', { type: 'text', name: 'seed', inputmode: 'numeric', pattern: '[0-9]*', placeholder: 'random', oninput: changed, autocomplete: 'off' });
    this.seedField = field('Seed', this.seed, 'Same seed + same settings = same picture. Empty = random.');
    this.count = h('input', { type: 'number', name: 'count', min: 1, max: 1, value: 1, oninput: changed });
    this.countField = field('Number of images', this.count);
    this.strengthDefault = h('input', { type: 'checkbox', checked: true, name: 'strengthDefault' });
    this.strength = h('input', { type: 'range', name: 'strength', min: 0, max: 1, step: 0.05, disabled: true });
    this.strengthOut = h('output', {});
    this.strengthLabel = h('span', {}, 'Strength');
    this.strengthDefault.addEventListener('change', () => {
      this.strength.disabled = this.strengthDefault.checked;
      this.onChange();
    });
    this.strength.addEventListener('input', () => {
      this.strengthOut.textContent = this.strength.value;
      this.onChange();
    });
    this.strengthField = h(
      'fieldset',
      { class: 'strength' },
      h('legend', {}, this.strengthLabel),
      h('label', { class: 'inline' }, this.strengthDefault, ' Use the model’s default'),
      h('label', { class: 'inline' }, h('span', { class: 'visually-hidden' }, 'Value'), this.strength, this.strengthOut),
    );
    this.strength.setAttribute('aria-label', 'Strength value');
    extents.onChange = changed;

    this.problemsEl = h('ul', { class: 'problems', 'aria-live': 'polite' });
    // While running, the button keeps its place and its focus (aria-disabled, not disabled): a
    // second click or Enter lands on it and does nothing, instead of on a Cancel put in its place.
    this.submitWhat = h('span', { class: 'run-what' }, 'Generate');
    this.submitDetail = h('span', { class: 'run-detail', 'aria-hidden': 'true', hidden: true });
    // One text run inside the (flex) button, so a long state wraps as words do.
    this.submit = h('button', { type: 'submit', class: 'primary run', title: 'Ctrl/⌘+Enter' }, h('span', {}, this.submitWhat, this.submitDetail));
    this.cancel = h('button', { type: 'button', class: 'danger cancel', hidden: true, title: 'Esc', onclick: () => this.onCancel() }, 'Cancel');

    this.advanced = h('details', { class: 'advanced' }, h('summary', {}, 'Advanced options'), this.seedField, this.countField, this.strengthField);

    // A fieldset only to disable every field at once (the form itself is named "Edit settings").
    this.fields = h(
      'fieldset',
      { class: 'form-fields' },
      field('Operation', this.op, this.opHelp),
      this.choiceField,
      this.styleField,
      this.maskPromptField,
      this.promptField,
      this.negativeField,
      extents.fieldset,
      this.advanced,
    );
    this.el = h(
      'form',
      { class: 'edit-form panel', 'aria-label': 'Edit settings', novalidate: true },
      this.fields,
      this.problemsEl,
      h('div', { class: 'submit-row' }, this.submit, this.cancel),
    );
    this.el.addEventListener('submit', (ev) => {
      ev.preventDefault();
      if (!this.run?.running) this.onSubmit();
    });
  }

  configure(caps: Capabilities): void {
    this.caps = caps;
    const groups = operationGroups(caps);
    this.op.replaceChildren(...groups.map((g) => h('option', { value: g.name }, operationLabel(g.name))));
    const preferred = groups.find((g) => g.name === 'inpaint') ?? groups[0];
    if (preferred) this.op.value = preferred.name;
    this.fillChoices();
    const max = caps.limits.maxPromptLength;
    for (const t of [this.prompt, this.negative]) t.maxLength = max;
    this.maskPrompt.maxLength = max;
    this.seed.title = `0 to ${caps.limits.maxSeed}`;
    this.update();
  }

  /** The models of the chosen operation (upscalers, generators), its default selected; none for the others. */
  private fillChoices(value?: string): void {
    const choices = (this.caps?.operations ?? []).flatMap((o) => (o.name === this.op.value && o.choice ? [o.choice] : []));
    this.choice.replaceChildren(...choices.map((c) => h('option', { value: c.value }, choiceLabel(c))));
    if (choices[0]) this.choiceLabel.textContent = CHOICE_LABELS[choices[0].option].label;
    const chosen = choices.find((c) => c.value === value) ?? choices.find((c) => c.default) ?? choices[0];
    this.choice.value = chosen?.value ?? '';
  }

  get info(): OperationInfo | null {
    return this.caps ? operationInfo(this.caps, this.op.value, this.choice.value || undefined) : null;
  }

  /** Shows the style image as loaded (preview and what is sent). */
  showStyleImage(p: PreparedImage): void {
    this.stylePreview.src = p.dataUrl;
    this.stylePreview.alt = `Style image: ${p.original.name}`;
    this.stylePreview.hidden = false;
    this.styleInfo.textContent = [`${p.original.name}: ${describePrepared(p)}`, ...p.notes].join(' ');
  }

  /** Shows/hides and relabels fields for the chosen operation. */
  update(): void {
    const info = this.info;
    if (!info || !this.caps) return;
    this.opHelp.textContent = OPERATION_LABELS[info.cap.name]?.help ?? '';
    this.choiceField.hidden = this.choice.options.length < 2;
    this.styleField.hidden = info.styleImage === 'none';
    this.promptField.hidden = info.prompt === 'none';
    this.negativeField.hidden = !info.negativePrompt;
    this.promptField.querySelector('label')!.textContent = info.prompt === 'required' ? 'Prompt (required)' : 'Prompt (optional)';
    this.prompt.required = info.prompt === 'required';
    this.prompt.placeholder = promptPlaceholder(info.cap.name);
    this.maskPrompt.placeholder = findPlaceholder(info.cap.name);
    const max = this.caps.limits.maxPromptLength;
    this.promptCount.textContent = `${this.prompt.value.length} / ${max} characters`;
    this.promptCount.classList.toggle('over', this.prompt.value.length > max);

    this.maskPromptField.hidden = !info.maskPrompt;
    this.maskPromptLabel.textContent = info.maskPromptRequired ? 'What to find in the picture (required)' : 'What to find in the picture (optional)';

    this.extents.fieldset.hidden = !info.isOutpaint;
    this.seedField.hidden = !info.seed;
    this.count.max = String(info.maxCount);
    this.countField.hidden = info.maxCount <= 1;
    const s = info.strength;
    this.strengthField.hidden = !s;
    if (s !== this.strengthSpec) {
      this.strengthSpec = s;
      this.strengthDefault.checked = true;
      this.strength.disabled = true;
    }
    if (s) {
      this.strengthLabel.textContent = STRENGTH_LABELS[s.meaning] ?? `Strength (${s.meaning})`;
      this.strength.min = String(s.min);
      this.strength.max = String(s.max);
      this.strength.step = s.max - s.min <= 2 ? '0.01' : '0.1';
      if (this.strengthDefault.checked) this.strength.value = String(s.default);
      this.strengthOut.textContent = this.strength.value;
    }
    this.advanced.hidden = this.seedField.hidden && this.countField.hidden && this.strengthField.hidden;
    if (!this.run?.running) this.submitWhat.textContent = operationLabel(info.cap.name);
  }

  state(): FormState {
    return {
      operation: this.op.value,
      prompt: this.prompt.value,
      negativePrompt: this.negative.value,
      maskPrompt: this.maskPrompt.value,
      seed: this.seed.value,
      count: Number(this.count.value) || 1,
      strength: this.strengthDefault.checked ? null : Number(this.strength.value),
      extents: this.extents.extents,
    };
  }

  setSeed(seed: number): void {
    this.seed.value = String(seed);
    this.advanced.open = true;
    this.onChange();
  }

  /** "Use these settings" from the history. */
  apply(record: EditRecord): boolean {
    if (!this.caps?.operations.some((o) => o.name === record.operation)) return false;
    // The API writes EditOptionsUsed, but a record written before options were validated holds
    // them as sent: each value is checked before it is used.
    const o: Record<string, unknown> = record.options ?? {};
    this.op.value = record.operation;
    const chosen = o.upscaler ?? o.generator;
    this.fillChoices(typeof chosen === 'string' ? chosen : undefined);
    this.update(); // the chosen model's strength setting, before the record's value goes in
    this.prompt.value = record.prompt ?? '';
    this.negative.value = record.negativePrompt ?? '';
    this.seed.value = typeof o.seed === 'number' ? String(o.seed) : record.seeds?.[0] !== undefined ? String(record.seeds[0]) : '';
    if (typeof o.count === 'number') this.count.value = String(o.count);
    if (typeof o.strength === 'number') {
      this.strengthDefault.checked = false;
      this.strength.disabled = false;
      this.strength.value = String(o.strength);
    }
    if (isExtents(o.extents)) this.extents.set(o.extents);
    this.maskPrompt.value = record.maskPrompt ?? '';
    this.update();
    this.onChange();
    return true;
  }

  showProblems(problems: Problem[]): void {
    this.problemsEl.replaceChildren(...problems.map((p) => h('li', {}, p.message)));
    const byField = new Set(problems.map((p) => p.field));
    const mark = (el: HTMLElement, f: Problem['field']) => el.setAttribute('aria-invalid', String(byField.has(f)));
    mark(this.styleInput, 'styleImage');
    mark(this.prompt, 'prompt');
    mark(this.negative, 'negativePrompt');
    mark(this.maskPrompt, 'maskPrompt');
    mark(this.seed, 'seed');
    mark(this.count, 'count');
  }

  focusProblem(problems: Problem[]): void {
    const first = problems[0]?.field;
    const target: Record<string, HTMLElement | undefined> = {
      styleImage: this.styleInput,
      prompt: this.prompt,
      negativePrompt: this.negative,
      maskPrompt: this.maskPrompt,
      seed: this.seed,
      count: this.count,
    };
    if (first === 'seed' || first === 'count') this.advanced.open = true;
    (first ? target[first] : undefined)?.focus();
  }

  /**
   * An edit runs (`run`) or none does (null): the fields lock, the run button says what is
   * happening and for how long, Cancel appears beside it.
   */
  setRunning(run: RunState | null): void {
    clearInterval(this.timer);
    const busy = !!run?.running;
    const focused = document.activeElement;
    // Disabling the fields drops the focus of the one that has it; hiding Cancel drops its own.
    // Either way the focus goes to the run button, so the keyboard stays where the edit is.
    const keepFocus = focused === null || focused === document.body || focused === this.submit || focused === this.cancel || this.fields.contains(focused);
    this.run = busy ? run : null;
    this.el.setAttribute('aria-busy', String(busy));
    this.submit.setAttribute('aria-disabled', String(busy));
    this.fields.disabled = busy;
    this.cancel.hidden = !busy;
    if (busy) {
      // Never narrower than at the click: Cancel must not slide under the pointer.
      this.submit.style.minWidth = `${this.submit.offsetWidth}px`;
      this.showRun();
      this.timer = setInterval(() => this.showRun(), 250);
    } else {
      this.submit.style.minWidth = '';
      this.submitDetail.hidden = true;
      this.submitDetail.textContent = '';
      this.update();
    }
    if (keepFocus) this.submit.focus({ preventScroll: true });
  }

  /** Renders the running edit's phase now (the timer does it four times a second). */
  showRun(): void {
    const label = this.run?.label(Date.now());
    if (!label) return;
    if (this.submitWhat.textContent !== label.what) this.submitWhat.textContent = label.what;
    this.submitDetail.textContent = ` ${label.detail}`;
    this.submitDetail.hidden = false;
  }
}

/** Outpaint extents as a record holds them: numbers of pixels per side, any side left out. */
function isExtents(v: unknown): v is Partial<Extents> {
  return typeof v === 'object' && v !== null && !Array.isArray(v) && Object.values(v).every((n) => typeof n === 'number');
}

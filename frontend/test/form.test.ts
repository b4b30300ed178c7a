// @vitest-environment happy-dom
import { beforeEach, describe, expect, it, vi } from 'vitest';
import type { EditRecord } from '../src/api/types';
import { EditForm } from '../src/editor/form';
import { RunState } from '../src/editor/run';
import { ExtentsEditor } from '../src/outpaint/view';
import { stabilityCaps } from './helpers';

let form: EditForm;
const $ = <T extends Element>(sel: string) => form.el.querySelector<T>(sel)!;
const op = () => $<HTMLSelectElement>('select[name=operation]');
const choice = () => $<HTMLSelectElement>('select[name=choice]');
const fieldOf = (el: Element) => el.closest('.field') as HTMLElement;
const labelOf = (el: Element) => form.el.querySelector(`label[for="${el.id}"]`)!.textContent;
const pick = (select: HTMLSelectElement, value: string) => {
  select.value = value;
  select.dispatchEvent(new Event('change'));
};
const strength = () => $<HTMLInputElement>('input[name=strength]');
const strengthShown = () => ({
  hidden: $<HTMLElement>('fieldset.strength').hidden,
  label: $('fieldset.strength legend').textContent,
  min: strength().min,
  max: strength().max,
  value: strength().value,
});

beforeEach(() => {
  form = new EditForm(new ExtentsEditor());
  form.configure(stabilityCaps);
});

describe('the operation picker', () => {
  it('lists each operation once, inpaint first chosen, no model choice there', () => {
    const values = Array.from(op().options, (o) => o.value);
    expect(values).toEqual(['inpaint', 'outpaint', 'replace', 'recolor', 'erase', 'remove-background', 'sketch', 'structure', 'style-guide', 'style-transfer', 'upscale', 'generate', 'variation']);
    expect(op().value).toBe('inpaint');
    expect(fieldOf(choice()).hidden).toBe(true);
    expect(form.info?.cap.choice).toBeNull();
  });

  it('upscale: an "Upscaler" select, Fast by default, with only the picture to give', () => {
    pick(op(), 'upscale');
    expect(fieldOf(choice()).hidden).toBe(false);
    expect(labelOf(choice())).toBe('Upscaler');
    expect(Array.from(choice().options, (o) => o.textContent)).toEqual(['Fast', 'Conservative', 'Creative']);
    expect(choice().value).toBe('fast');
    expect(form.info?.cap.model).toBe('us.stability.stable-fast-upscale-v1:0');
    expect($('#op-help').textContent).toBe('Makes the picture larger (4× for Fast).');
    expect(fieldOf($('textarea[name=prompt]')).hidden).toBe(true);
    expect(fieldOf($('textarea[name=negativePrompt]')).hidden).toBe(true);
    // No seed, count or strength: no advanced options at all.
    expect($<HTMLElement>('details.advanced').hidden).toBe(true);
  });

  it('the chosen upscaler decides the fields and the strength range', () => {
    pick(op(), 'upscale');
    pick(choice(), 'conservative');
    expect(form.info?.cap.choice).toEqual({ option: 'upscaler', value: 'conservative', default: false });
    expect(labelOf($('textarea[name=prompt]'))).toBe('Prompt (required)');
    expect(fieldOf($('textarea[name=negativePrompt]')).hidden).toBe(false);
    expect(fieldOf($('input[name=seed]')).hidden).toBe(false);
    expect(strengthShown()).toEqual({ hidden: false, label: 'Creativity', min: '0.2', max: '0.5', value: '0.35' });
    pick(choice(), 'creative');
    expect(strengthShown()).toMatchObject({ min: '0.1', max: '0.5', value: '0.3' });
  });

  it('generate: a "Model" select of the three generators, Core by default', () => {
    pick(op(), 'generate');
    expect(labelOf(choice())).toBe('Model');
    expect(Array.from(choice().options, (o) => [o.value, o.textContent])).toEqual([
      ['core', 'Stable Image Core'],
      ['ultra', 'Stable Image Ultra'],
      ['sd3.5-large', 'SD 3.5 Large'],
    ]);
    expect(choice().value).toBe('core');
    pick(choice(), 'sd3.5-large');
    expect(form.info?.cap.model).toBe('stability.sd3-5-large-v1:0');
    // Back to an operation without models: the select goes away.
    pick(op(), 'variation');
    expect(fieldOf(choice()).hidden).toBe(true);
    expect(form.info?.cap.name).toBe('variation');
  });

  it('a stack with one upscaler shows no select but still uses it', () => {
    form.configure({ ...stabilityCaps, operations: stabilityCaps.operations.filter((o) => o.choice?.value !== 'fast' && o.choice?.value !== 'creative') });
    pick(op(), 'upscale');
    expect(fieldOf(choice()).hidden).toBe(true);
    expect(form.info?.cap.choice?.value).toBe('conservative');
  });

  it('style transfer asks for a style image; the other operations do not', () => {
    const style = $<HTMLInputElement>('input[name=styleImage]');
    expect(fieldOf(style).hidden).toBe(true);
    pick(op(), 'style-transfer');
    expect(fieldOf(style).hidden).toBe(false);
    expect(labelOf(style)).toBe('Style image — the look to copy');
    expect(labelOf($('textarea[name=prompt]'))).toBe('Prompt (optional)');
    expect(strengthShown()).toMatchObject({ label: 'Style strength', value: '1' });
  });

  it('hints and strength labels of the new operations', () => {
    const seen = (name: string) => {
      pick(op(), name);
      return [$('#op-help').textContent, strengthShown().label, strengthShown().value];
    };
    expect(seen('sketch')).toEqual(['Upload or paste a sketch; the prompt says what it shows.', 'How closely to follow the sketch/structure', '0.7']);
    expect(seen('structure')).toEqual(['Keeps the picture’s shapes, changes what they are made of.', 'How closely to follow the sketch/structure', '0.7']);
    expect(seen('style-guide')).toEqual(['Makes a new picture in the style of this one.', 'How closely to follow the style', '0.5']);
    expect(seen('variation')).toEqual(['A new take on the picture.', 'How much to change', '0.7']);
  });

  it('another strength setting starts from its default again', () => {
    pick(op(), 'sketch');
    const useDefault = $<HTMLInputElement>('input[name=strengthDefault]');
    useDefault.checked = false;
    useDefault.dispatchEvent(new Event('change'));
    strength().value = '0.2';
    expect(form.state().strength).toBe(0.2);
    pick(op(), 'style-guide');
    expect(useDefault.checked).toBe(true);
    expect(form.state().strength).toBeNull();
  });
});

describe('apply (history "Use these settings")', () => {
  const record = (operation: string, options: Record<string, unknown>): EditRecord => ({
    id: '01X',
    createdAt: '2026-11-25T15:09:10Z',
    operation,
    prompt: 'a lighthouse',
    model: 'm',
    seeds: [7],
    status: 'succeeded',
    durationMs: 1000,
    options,
  });

  it('puts the model and its strength back', () => {
    expect(form.apply(record('upscale', { upscaler: 'creative', strength: 0.2, seed: 7 }))).toBe(true);
    expect(op().value).toBe('upscale');
    expect(choice().value).toBe('creative');
    expect(form.state()).toMatchObject({ prompt: 'a lighthouse', seed: '7', strength: 0.2 });
    expect(form.apply(record('generate', { generator: 'ultra' }))).toBe(true);
    expect(form.info?.cap.model).toBe('stability.stable-image-ultra-v1:1');
  });

  it('falls back to the default model when the record\'s is not offered', () => {
    form.apply(record('generate', { generator: 'sdxl' }));
    expect(choice().value).toBe('core');
  });
});

describe('fields in the task\'s order, with each operation\'s own examples', () => {
  const visibleFields = () =>
    [...form.el.querySelectorAll<HTMLElement>('[name=maskPrompt], [name=prompt], [name=negativePrompt]')].filter((el) => !fieldOf(el).hidden).map((el) => el.getAttribute('name'));

  it('replace and recolor: what to find comes before the prompt', () => {
    for (const name of ['replace', 'recolor']) {
      pick(op(), name);
      expect(visibleFields(), name).toEqual(['maskPrompt', 'prompt', 'negativePrompt']);
    }
    pick(op(), 'inpaint');
    expect(visibleFields()).toEqual(['prompt', 'negativePrompt']);
  });

  it('every operation with a prompt has its own example, and none shows another\'s', () => {
    const seen = new Map<string, string>();
    for (const name of Array.from(op().options, (o) => o.value)) {
      pick(op(), name);
      if (fieldOf($('textarea[name=prompt]')).hidden) continue;
      const placeholder = $<HTMLTextAreaElement>('textarea[name=prompt]').placeholder;
      expect(placeholder, name).not.toBe('');
      expect([...seen.entries()].find(([, p]) => p === placeholder)?.[0], `${name} shares its example`).toBeUndefined();
      seen.set(name, placeholder);
    }
    expect(seen.size).toBe(10); // upscale (Fast, its default) takes no prompt
    pick(op(), 'recolor');
    expect($<HTMLTextAreaElement>('textarea[name=prompt]').placeholder).toMatch(/colours/);
    expect($<HTMLInputElement>('input[name=maskPrompt]').placeholder).toBe('e.g. the jacket');
    pick(op(), 'inpaint');
    expect($<HTMLTextAreaElement>('textarea[name=prompt]').placeholder).toBe('e.g. a red vintage car parked in the driveway');
  });
});

describe('the run button while an edit runs', () => {
  const submit = () => $<HTMLButtonElement>('button[type=submit]');
  const cancel = () => $<HTMLButtonElement>('button.cancel');

  it('stays in place, marked unavailable, saying what happens; Cancel appears beside it', () => {
    const run = new RunState();
    run.start(Date.now());
    form.setRunning(run);
    const row = $('.submit-row');
    expect([...row.children]).toEqual([submit(), cancel()]);
    expect(submit().hidden).toBe(false);
    expect(submit().getAttribute('aria-disabled')).toBe('true');
    expect(cancel().hidden).toBe(false);
    expect(submit().querySelector('.run-what')!.textContent).toBe('Preparing the request…');
    expect(submit().querySelector('.run-detail')!.getAttribute('aria-hidden')).toBe('true');
    run.sending();
    form.showRun();
    expect(submit().textContent).toMatch(/^Waiting for the model… \d+ s$/);
    run.end();
    form.setRunning(null);
    expect(submit().textContent).toBe('Inpaint');
    expect(submit().getAttribute('aria-disabled')).toBe('false');
    expect(cancel().hidden).toBe(true);
  });

  it('a click on it while running submits nothing more; Cancel cancels', () => {
    const onSubmit = vi.fn();
    const onCancel = vi.fn();
    form.onSubmit = onSubmit;
    form.onCancel = onCancel;
    document.body.append(form.el);
    submit().click();
    expect(onSubmit).toHaveBeenCalledTimes(1);
    const run = new RunState();
    run.start(Date.now());
    form.setRunning(run);
    submit().click();
    submit().click();
    expect(onSubmit).toHaveBeenCalledTimes(1);
    expect(onCancel).not.toHaveBeenCalled();
    cancel().click();
    expect(onCancel).toHaveBeenCalledTimes(1);
    form.setRunning(null);
    form.el.remove();
  });

  it('locks every field, and keeps the focus on the run button', () => {
    document.body.append(form.el);
    const prompt = $<HTMLTextAreaElement>('textarea[name=prompt]');
    prompt.focus();
    const run = new RunState();
    run.start(Date.now());
    form.setRunning(run);
    expect($<HTMLFieldSetElement>('fieldset.form-fields').disabled).toBe(true);
    for (const el of [op(), prompt, $('input[name=seed]')]) expect(el.closest('fieldset.form-fields')).not.toBeNull();
    expect(document.activeElement).toBe(submit());
    form.setRunning(null);
    expect($<HTMLFieldSetElement>('fieldset.form-fields').disabled).toBe(false);
    form.el.remove();
  });
});

// The SPA's types against the contract (docs/openapi.yaml, through the types openapi-typescript generates
// from it in `npm run contract`). These checks are made by the typecheck: when the document and the SPA's
// types drift apart, `npm run typecheck` fails here, naming the type.
import { describe, expect, it } from 'vitest';
import type { components } from '../src/api/openapi.gen';
import type { Capabilities, Choice, EditRecord, EditRequest, EditResponse, OperationName, ResultImage, Usage } from '../src/api/types';
import { capabilities } from './fixtures/capabilities';
import { stabilityCaps } from './helpers';

type Api = components['schemas'];
/** Compiles only when `Sent` (what one side sends) fits `Read` (what the other side reads). */
type Fits<Read, Sent extends Read> = Sent;

// What the API sends fits what the SPA reads …
export type SentByTheApi = [
  Fits<Capabilities, Api['Capabilities']>,
  Fits<EditResponse, Api['EditResponse']>,
  Fits<EditRecord, Api['EditRecord']>,
  Fits<Usage, Api['Usage']>,
  Fits<Choice, Api['Choice']>,
  Fits<ResultImage, Api['ResultImage']>,
];
// … and what the SPA sends fits what the API accepts.
export type SentByTheApp = [Fits<Api['EditRequest'], EditRequest>];
// The SPA knows every operation of the contract, and no other.
export type SameOperations = [Fits<OperationName, Api['Operation']>, Fits<Api['Operation'], OperationName>];

/** Every capabilities entry's fields, in the order the function writes them. */
const ENTRY_FIELDS = [
  'name', 'prompt', 'mask', 'maskPrompt', 'maskPromptRequired', 'image', 'styleImage', 'negativePrompt', 'model',
  'maxCount', 'seed', 'extents', 'maxPixels', 'strength', 'choice',
];

describe('the contract', () => {
  it('the test fixture is the function\'s own answer, for the one family', () => {
    expect(stabilityCaps).toBe(capabilities.stability);
    expect(Object.keys(capabilities)).toEqual(['stability']);
  });

  it('one entry per operation and choice, in the canonical order, with every field', () => {
    const ops = capabilities.stability.operations;
    expect(ops.map((o) => (o.choice ? `${o.name}/${o.choice.value}` : o.name))).toEqual([
      'inpaint', 'outpaint', 'replace', 'recolor', 'erase', 'remove-background', 'sketch', 'structure', 'style-guide',
      'style-transfer', 'upscale/fast', 'upscale/conservative', 'upscale/creative', 'generate/core', 'generate/ultra',
      'generate/sd3.5-large', 'variation',
    ]);
    for (const o of ops) expect(Object.keys(o), o.name).toEqual(ENTRY_FIELDS);
    // One default per option, and only upscale and generate have choices.
    expect(ops.filter((o) => o.choice?.default).map((o) => o.choice?.value)).toEqual(['fast', 'core']);
    expect(new Set(ops.filter((o) => o.choice).map((o) => `${o.name}:${o.choice?.option}`))).toEqual(new Set(['upscale:upscaler', 'generate:generator']));
    expect(ops.filter((o) => o.styleImage === 'required').map((o) => o.name)).toEqual(['style-transfer']);
  });
});

// The SPA's types against the contract (docs/openapi.yaml, through the types openapi-typescript generates
// from it in `npm run contract`). These checks are made by the typecheck: when the document and the SPA's
// types drift apart, `npm run typecheck` fails here, naming the type.
import { describe, expect, it } from 'vitest';
import type { components } from '../src/api/openapi.gen';
import type { Capabilities, EditRecord, EditRequest, EditResponse, Usage } from '../src/api/types';
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
];
// … and what the SPA sends fits what the API accepts.
export type SentByTheApp = [Fits<Api['EditRequest'], EditRequest>];

describe('the contract', () => {
  it('the test fixture is the function\'s own answer, for the one family', () => {
    expect(stabilityCaps).toBe(capabilities.stability);
    expect(Object.keys(capabilities)).toEqual(['stability']);
  });
});

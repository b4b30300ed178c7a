// Shared test helpers: fake JWTs, capabilities of each family, a scriptable fetch.
import type { Capabilities } from '../src/api/types';

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** An unsigned JWT with the given claims (the browser never verifies signatures). */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: 'RS256', kid: 'dummy' }))}.${b64url(JSON.stringify(claims))}.c2ln`;
}

export const stabilityCaps: Capabilities = {
  family: 'stability',
  region: 'us-west-2',
  operations: [
    { name: 'inpaint', prompt: 'optional', mask: 'required', maskPrompt: false, model: 'stability.stable-image-inpaint-v1:0' },
    { name: 'outpaint', prompt: 'optional', mask: 'none', maskPrompt: false, model: 'stability.stable-outpaint-v1:0' },
    { name: 'replace', prompt: 'required', mask: 'none', maskPrompt: true, model: 'stability.stable-image-search-replace-v1:0' },
    { name: 'erase', prompt: 'none', mask: 'required', maskPrompt: false, model: 'stability.stable-image-erase-object-v1:0' },
    { name: 'remove-background', prompt: 'none', mask: 'none', maskPrompt: false, model: 'stability.stable-image-remove-background-v1:0' },
  ],
  limits: {
    maxPromptLength: 10000,
    minSide: 64,
    maxSide: 4096,
    minPixels: 4096,
    maxPixels: 9437184,
    maxAspect: 2.5,
    maxCount: 1,
    maxSeed: 4294967294,
    maxUploadBytes: 4500000,
    strength: { min: 0, max: 1, default: 0.5, meaning: 'creativity' },
  },
  standIn: false,
};

export const titanCaps: Capabilities = {
  family: 'titan',
  region: 'us-east-1',
  operations: [
    { name: 'inpaint', prompt: 'optional', mask: 'required', maskPrompt: true, model: 'amazon.titan-image-generator-v2:0' },
    { name: 'outpaint', prompt: 'required', mask: 'required', maskPrompt: true, model: 'amazon.titan-image-generator-v2:0' },
    { name: 'generate', prompt: 'required', mask: 'none', maskPrompt: false, model: 'amazon.titan-image-generator-v2:0' },
    { name: 'variation', prompt: 'required', mask: 'none', maskPrompt: false, model: 'amazon.titan-image-generator-v2:0' },
  ],
  limits: {
    maxPromptLength: 512,
    minSide: 320,
    maxSide: 1408,
    minPixels: 102400,
    maxPixels: 1982464,
    maxAspect: 4,
    maxCount: 5,
    maxSeed: 858993459,
    maxUploadBytes: 4500000,
    strength: { min: 1.1, max: 10, default: 8, meaning: 'cfgScale' },
  },
  standIn: true,
};

export interface Call {
  url: string;
  init: RequestInit;
  headers: Record<string, string>;
}

type Reply = Response | Error | ((call: Call) => Response | Promise<Response> | Promise<never>);

/** A fetch that answers from a queue and records every call. */
export function scriptedFetch(...replies: Reply[]) {
  const calls: Call[] = [];
  const fn = async (input: RequestInfo | URL, init: RequestInit = {}): Promise<Response> => {
    const call: Call = { url: String(input), init, headers: { ...(init.headers as Record<string, string>) } };
    calls.push(call);
    const reply = replies.shift();
    if (!reply) throw new Error(`unexpected fetch ${call.url}`);
    if (reply instanceof Error) throw reply;
    if (typeof reply === 'function') return reply(call);
    return reply;
  };
  return { fetch: fn as typeof fetch, calls };
}

export function json(status: number, body: unknown, headers: Record<string, string> = {}): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json', ...headers },
  });
}

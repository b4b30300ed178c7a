// Shared test helpers: fake JWTs, the stack's capabilities, a scriptable fetch.
import type { Capabilities } from '../src/api/types';
import { capabilities } from './fixtures/capabilities';

function b64url(s: string): string {
  return Buffer.from(s, 'utf8').toString('base64').replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** An unsigned JWT with the given claims (the browser never verifies signatures). */
export function fakeJwt(claims: Record<string, unknown>): string {
  return `${b64url(JSON.stringify({ alg: 'RS256', kid: 'dummy' }))}.${b64url(JSON.stringify(claims))}.c2ln`;
}

// The function's own GET /capabilities answer (fixtures/capabilities.ts, generated and checked by
// provisioner/tests/it/contract.rs): tests run against the contract the function serves.
export const stabilityCaps: Capabilities = capabilities.stability;

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

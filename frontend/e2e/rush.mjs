// The class rush benchmark: N invited users each press "Edit" E times, all in the same second, on
// the local cloud with a fresh account's settings (Lambda concurrency 10, Bedrock 5 calls at once
// per model, 3 s per image), every client following the web app's own retry policy — its very code:
// src/api/client.ts and src/api/retry.ts, loaded through Vite. Run by scripts/rush, which stands the
// stack up; by hand:
//
//   APP_URL=… API_URL=… STANDINS=http://127.0.0.1:PORT USERS_FILE=users.json RUSH="30x1 100x1" node e2e/rush.mjs
//
// USERS_FILE is `provision --json users add --local …`'s answer (invited users with temporary
// passwords); each signs in as the web app does (SRP, e2e/cognito-sign-in.mjs) and chooses a new
// password before the first scenario. For each scenario it prints: edits completed of asked,
// duplicates (images the model made beyond the 200s answered), lost (200s whose edit is not in the
// history as succeeded), time to a result (p50/p95/max), and each intermediate answer with whether
// it carried Retry-After and CORS. Exits 1 when an edit did not complete, was made twice or lost, or
// a retryable answer lacked Retry-After or CORS; the times are figures, not pass/fail.
//
// Env: RUSH (scenarios, "USERSxEDITS", default "30x1 100x1"), RUSH_LAMBDA_CONCURRENCY (10),
// RUSH_BEDROCK_MAX_CONCURRENT (5), RUSH_MODEL_MS (3000).

import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import http from 'node:http';
import { fileURLToPath } from 'node:url';
import * as cognitoLib from 'amazon-cognito-identity-js';
import { createServer } from 'vite';
import { signInAsTheApp } from './cognito-sign-in.mjs';
import { encodePng } from './png.mjs';

const env = process.env;
for (const k of ['APP_URL', 'API_URL', 'STANDINS', 'USERS_FILE']) {
  if (!env[k]) {
    console.error(`rush: ${k} is not set (scripts/rush sets them all)`);
    process.exit(2);
  }
}
const ORIGIN = new URL(env.APP_URL).origin;
const STANDINS = env.STANDINS.replace(/\/+$/, '');
const scenarios = (env.RUSH ?? '30x1 100x1').split(/\s+/).filter(Boolean).map((s) => {
  const m = /^(\d+)x(\d+)$/.exec(s);
  if (!m) {
    console.error(`rush: RUSH: "${s}" is not USERSxEDITS (e.g. 30x1)`);
    process.exit(2);
  }
  return { users: Number(m[1]), edits: Number(m[2]) };
});
const settings = {
  lambda: Number(env.RUSH_LAMBDA_CONCURRENCY ?? 10),
  bedrock: Number(env.RUSH_BEDROCK_MAX_CONCURRENT ?? 5),
  modelMs: Number(env.RUSH_MODEL_MS ?? 3000),
};

// The web app's client and retry policy, as the browser runs them.
const root = fileURLToPath(new URL('..', import.meta.url));
const vite = await createServer({
  root,
  configFile: false,
  logLevel: 'error',
  appType: 'custom',
  server: { middlewareMode: true, hmr: false },
  optimizeDeps: { noDiscovery: true, include: [] }, // no scan of index.html: two modules are all it loads
});
const { ApiClient } = await vite.ssrLoadModule('/src/api/client.ts');
const { withRetries } = await vite.ssrLoadModule('/src/api/retry.ts');
await vite.close();

// *.localhost names resolve to loopback in browsers, not in Node: connect to 127.0.0.1 and name
// the API in Host, as a browser would. Every answer to POST /edits is noted on the way.
const answers = [];
function loopbackFetch(input, init = {}) {
  const url = new URL(input);
  const headers = { ...(init.headers ?? {}), host: url.host, origin: ORIGIN };
  return new Promise((resolve, reject) => {
    const req = http.request(
      { host: '127.0.0.1', port: url.port, path: url.pathname + url.search, method: init.method ?? 'GET', headers, signal: init.signal },
      (res) => {
        const chunks = [];
        res.on('data', (c) => chunks.push(c));
        res.on('error', reject);
        res.on('end', () => {
          const h = new Headers();
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) h.set(k, Array.isArray(v) ? v.join(', ') : v);
          const body = Buffer.concat(chunks);
          if ((init.method ?? 'GET') === 'POST' && url.pathname.endsWith('/edits')) {
            let code = '';
            try {
              code = JSON.parse(body.toString()).error?.code ?? '';
            } catch {}
            answers.push({ status: res.statusCode, code, retryAfter: h.get('retry-after'), cors: h.get('access-control-allow-origin') });
          }
          resolve(new Response(res.statusCode === 204 ? null : body, { status: res.statusCode, headers: h }));
        });
      },
    );
    req.on('error', reject);
    if (init.body) req.write(init.body);
    req.end();
  });
}

async function post(url, body, headers = {}) {
  const r = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });
  const text = await r.text();
  if (!r.ok) throw new Error(`${url}: HTTP ${r.status} ${text}`);
  return text ? JSON.parse(text) : {};
}

// Sign every invited user in as the web app does (SRP, the new-password challenge answered), a few
// at a time.
const config = await (await loopbackFetch(new URL('/config.json', env.APP_URL).href)).json();
const invited = JSON.parse(readFileSync(env.USERS_FILE, 'utf8')).users;
const most = Math.max(...scenarios.map((s) => s.users));
if (invited.length < most) {
  console.error(`rush: ${invited.length} invited users, the largest scenario needs ${most}`);
  process.exit(2);
}
const tokens = [];
for (let i = 0; i < most; i += 10) {
  const batch = invited.slice(i, Math.min(most, i + 10)).map(async (u) => {
    const session = await signInAsTheApp(cognitoLib, {
      userPoolId: config.userPoolId,
      clientId: config.userPoolClientId,
      endpoint: config.cognitoEndpoint,
      email: u.email,
      password: u.temporaryPassword,
      newPassword: `Rush-pass-${i}-2026`,
    }).catch((err) => {
      throw new Error(`sign-in of ${u.email}: ${err?.code ?? ''} ${err?.message ?? err}`.trim());
    });
    return session.getIdToken().getJwtToken();
  });
  tokens.push(...(await Promise.all(batch)));
}

// One small inpaint: the e2e picture with a white square to repaint.
const W = 512;
const H = 384;
const photo = readFileSync(new URL('./fixtures/photo.png', import.meta.url)).toString('base64');
const mask = encodePng(W, H, (x, y) => (x > 200 && x < 330 && y > 150 && y < 260 ? [255, 255, 255] : [0, 0, 0])).toString('base64');
const edit = { operation: 'inpaint', prompt: 'a red bicycle', image: `data:image/png;base64,${photo}`, mask };

async function standIns(path, body) {
  return body === undefined ? (await fetch(`${STANDINS}${path}`)).json() : post(`${STANDINS}${path}`, body);
}

function pct(sorted, p) {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)];
}

let failed = false;
const report = [];
for (const { users, edits } of scenarios) {
  await standIns('/_localcloud/lambda/config', { accountConcurrency: settings.lambda });
  await standIns('/_localcloud/bedrock/config', { maxConcurrent: settings.bedrock, latencyMs: settings.modelMs });
  answers.length = 0;
  const before = await standIns('/_localcloud/bedrock/invocations');
  const clients = tokens.slice(0, users).map((t) => new ApiClient({ baseUrl: env.API_URL, getIdToken: async () => t, fetch: loopbackFetch, timeoutMs: 60_000 }));
  const started = Date.now();
  const runs = clients.flatMap((client) =>
    Array.from({ length: edits }, async () => {
      const t0 = Date.now();
      const key = randomUUID(); // one per edit, the same on every retry, as the web app does
      try {
        const res = await withRetries(() => client.createEdit(edit, undefined, key));
        return { ok: true, ms: Date.now() - t0, id: res.id, client };
      } catch (err) {
        return { ok: false, ms: Date.now() - t0, error: `${err?.status ?? ''} ${err?.code ?? ''} ${err?.message ?? err}`.trim() };
      }
    }),
  );
  const results = await Promise.all(runs);
  const wall = Date.now() - started;
  const after = await standIns('/_localcloud/bedrock/invocations');
  const ok = results.filter((r) => r.ok);
  // Lost: answered 200, but the history does not hold the edit as succeeded.
  let lost = 0;
  for (const r of ok) {
    const rec = await withRetries(() => r.client.getEdit(r.id)).catch(() => null);
    if (rec?.status !== 'succeeded') lost += 1;
  }
  const made = after.answered - before.answered;
  const duplicates = made - ok.length;
  const times = results.map((r) => r.ms).sort((a, b) => a - b);
  const kinds = {};
  let bare = 0;
  for (const a of answers.filter((a) => a.status !== 200)) {
    const key = `${a.status} ${a.code}`;
    kinds[key] = (kinds[key] ?? 0) + 1;
    if (!a.retryAfter || !a.cors) bare += 1;
  }
  const line = {
    users,
    editsEach: edits,
    asked: users * edits,
    completed: ok.length,
    duplicates,
    lost,
    withoutRetryAfterOrCors: bare,
    seconds: { p50: pct(times, 50) / 1000, p95: pct(times, 95) / 1000, max: times.at(-1) / 1000, wall: wall / 1000 },
    modelCalls: after.count - before.count,
    answers: kinds,
    failures: results.filter((r) => !r.ok).map((r) => r.error).slice(0, 5),
  };
  report.push(line);
  console.log(
    `${users} users × ${edits}: ${ok.length}/${users * edits} completed, ${duplicates} duplicates, ${lost} lost; ` +
      `p50 ${line.seconds.p50.toFixed(1)} s, p95 ${line.seconds.p95.toFixed(1)} s, max ${line.seconds.max.toFixed(1)} s; ` +
      `model calls ${line.modelCalls} (${made} made images); on the way: ${JSON.stringify(kinds)}; ` +
      `${bare} answers without Retry-After or CORS`,
  );
  if (ok.length !== users * edits || duplicates !== 0 || lost !== 0 || bare !== 0) failed = true;
}
await standIns('/_localcloud/lambda/config', { accountConcurrency: 1000 });
await standIns('/_localcloud/bedrock/config', {});
console.log(JSON.stringify({ settings, scenarios: report }));
process.exit(failed ? 1 : 0);

// A throw-away stand-in for the whole backend, for developing and checking the SPA on one machine
// before the real local cloud exists: it serves dist/ + /config.json on one port, and on another
// port (cross-origin, with CORS, like API Gateway) a fake Cognito (the JSON protocol that
// amazon-cognito-identity-js speaks: USER_SRP_AUTH with its proof checked, NEW_PASSWORD_REQUIRED,
// REFRESH_TOKEN_AUTH, sign-up/confirm, forgot password) and the REST API of the contract (results =
// the input picture). Results are kept like the stack's results bucket: served at the mock's own
// signed, expiring links (with CORS for the app, `download=1` as an attachment), listed with fresh
// links in the history until `keptUntil`; MOCK_KEEP_DAYS=0 answers `data:` URLs and keeps nothing.
// The Bedrock stand-in's switches (throttle, fail: not_ready | access_denied | model_error,
// latencyMs) are taken on the app's port at /_localcloud/bedrock/config, as on the local cloud.
// Tokens are unsigned JWTs: this is not a security boundary, only a test double. Loopback only.
//
//   node e2e/mock-backend.mjs            # prints APP_URL; Ctrl-C to stop
//   env: MOCK_APP_PORT (5180), MOCK_API_PORT (5181), DEMO_EMAIL, DEMO_PASSWORD, MOCK_DELAY_MS (600),
//        MOCK_TOKEN_TTL (3600 s), MOCK_KEEP_DAYS (7), MOCK_LINK_TTL (3600 s: how long a result link works),
//        MOCK_ALLOW_ORIGINS (extra CORS origins; the Vite dev server's http://localhost:5173 and
//        http://127.0.0.1:5173 are always allowed, so `npm run dev` can use the mock: it prints the
//        config.json to copy)

import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { extname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { encodePng } from './png.mjs';

const DIST = fileURLToPath(new URL('../dist/', import.meta.url));
const TYPES = { '.html': 'text/html; charset=utf-8', '.js': 'text/javascript', '.css': 'text/css', '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json' };

const b64url = (s) => Buffer.from(s).toString('base64url');
const jwt = (claims) => `${b64url(JSON.stringify({ alg: 'none', kid: 'mock' }))}.${b64url(JSON.stringify(claims))}.bW9jaw`;
const decode = (t) => {
  try {
    return JSON.parse(Buffer.from(String(t).split('.')[1], 'base64url').toString());
  } catch {
    return null;
  }
};

// USER_SRP_AUTH as Cognito speaks it (SRP-6a, RFC 5054's 3072-bit group, g = 2), the mirror of
// amazon-cognito-identity-js's AuthenticationHelper; the local cloud's Cognito does the same
// (localcloud/src/moto_patches.py). A wrong password fails at the proof, as on AWS.
const SRP_N = BigInt(
  '0xFFFFFFFFFFFFFFFFC90FDAA22168C234C4C6628B80DC1CD129024E088A67CC74020BBEA63B139B22514A08798E3404DD' +
    'EF9519B3CD3A431B302B0A6DF25F14374FE1356D6D51C245E485B576625E7EC6F44C42E9A637ED6B0BFF5CB6F406B7ED' +
    'EE386BFB5A899FA5AE9F24117C4B1FE649286651ECE45B3DC2007CB8A163BF0598DA48361C55D39A69163FA8FD24CF5F' +
    '83655D23DCA3AD961C62F356208552BB9ED529077096966D670C354E4ABC9804F1746C08CA18217C32905E462E36CE3B' +
    'E39E772C180E86039B2783A2EC07A28FB5C55DF06F4C52C9DE2BCBF6955817183995497CEA956AE515D2261898FA0510' +
    '15728E5A8AAAC42DAD33170D04507A33A85521ABDF1CBA64ECFB850458DBEF0A8AEA71575D060C7DB3970F85A6E1E4C7' +
    'ABF5AE8CDB0933D71E8C94E04A25619DCEE3D2261AD2EE6BF12FFA06D98A0864D87602733EC86A64521F2B18177B200C' +
    'BBE117577A615D6C770988C0BAD946E208E24FA074E5AB3143DB5BFCE0FD108E4B82D120A93AD2CAFFFFFFFFFFFFFFFF',
);
/** The bytes the library hashes for a number (its padHex: even length, "00" before a set top bit). */
const srpBytes = (n) => {
  let h = n.toString(16);
  if (h.length % 2) h = `0${h}`;
  return Buffer.from(/^[89a-f]/.test(h) ? `00${h}` : h, 'hex');
};
const sha256 = (...parts) => createHash('sha256').update(Buffer.concat(parts)).digest();
const srpNum = (buf) => BigInt(`0x${buf.toString('hex')}`);
function modPow(base, exp, mod) {
  let r = 1n;
  base %= mod;
  for (; exp > 0n; exp >>= 1n) {
    if (exp & 1n) r = (r * base) % mod;
    base = (base * base) % mod;
  }
  return r;
}
const SRP_K = srpNum(sha256(srpBytes(SRP_N), srpBytes(2n)));

/** The challenge for a sign-in by `userId` (USER_ID_FOR_SRP) with client value A; `check` verifies the proof. */
function srpChallenge(poolName, userId, password, A) {
  const salt = randomBytes(16);
  salt[0] |= 1; // no leading zero byte: every client hashes the same salt bytes
  const x = srpNum(sha256(srpBytes(srpNum(salt)), sha256(Buffer.from(`${poolName}${userId}:${password}`))));
  const v = modPow(2n, x, SRP_N);
  const b = srpNum(randomBytes(128));
  const B = (SRP_K * v + modPow(2n, b, SRP_N)) % SRP_N;
  const secretBlock = randomBytes(64).toString('base64');
  const params = { SALT: salt.toString('hex'), SRP_B: B.toString(16), SECRET_BLOCK: secretBlock, USER_ID_FOR_SRP: userId, USERNAME: userId };
  const check = (responses) => {
    const u = srpNum(sha256(srpBytes(A), srpBytes(B)));
    const S = modPow(A * modPow(v, u, SRP_N), b, SRP_N);
    const prk = createHmac('sha256', srpBytes(u)).update(srpBytes(S)).digest();
    const key = createHmac('sha256', prk).update(Buffer.from('Caldera Derived Key\u0001')).digest().subarray(0, 16);
    const message = Buffer.concat([Buffer.from(poolName), Buffer.from(userId), Buffer.from(secretBlock, 'base64'), Buffer.from(String(responses.TIMESTAMP ?? ''))]);
    return createHmac('sha256', key).update(message).digest('base64') === responses.PASSWORD_CLAIM_SIGNATURE && responses.USERNAME === userId;
  };
  return { params, check };
}

// The function's own GET /capabilities answer (written by provisioner/tests/it/contract.rs, which fails
// when it differs from what the function serves).
const CAPS = JSON.parse(readFileSync(fileURLToPath(new URL('../test/fixtures/capabilities.json', import.meta.url)), 'utf8'));

/** What an operation without an input picture "makes": a small gradient. */
const GENERATED = encodePng(96, 64, (x, y) => [40 + x * 2, 80 + y * 2, 160]);

/** Width and height of a PNG (its IHDR) or a baseline/progressive JPEG (its SOF); zeros otherwise. */
function imageSize(buf) {
  if (buf.length > 24 && buf.readUInt32BE(0) === 0x89504e47) return { width: buf.readUInt32BE(16), height: buf.readUInt32BE(20) };
  for (let i = 2; buf[0] === 0xff && buf[1] === 0xd8 && i + 9 < buf.length; ) {
    const marker = buf[i + 1];
    if (marker >= 0xc0 && marker <= 0xc2) return { width: buf.readUInt16BE(i + 7), height: buf.readUInt16BE(i + 5) };
    i += 2 + buf.readUInt16BE(i + 2);
  }
  return { width: 0, height: 0 };
}

/** When a results bucket's lifecycle rule deletes what was written at `at`: `days` later, at the next 00:00 UTC. */
function keptUntil(at, days) {
  const d = new Date(at.getTime() + days * 86_400_000);
  if (d.getUTCHours() || d.getUTCMinutes() || d.getUTCSeconds() || d.getUTCMilliseconds()) d.setUTCHours(24, 0, 0, 0);
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export async function startMock(opts = {}) {
  const appPort = Number(opts.appPort ?? process.env.MOCK_APP_PORT ?? 5180);
  const apiPort = Number(opts.apiPort ?? process.env.MOCK_API_PORT ?? 5181);
  const email = opts.email ?? process.env.DEMO_EMAIL ?? 'demo@example.com';
  const password = opts.password ?? process.env.DEMO_PASSWORD ?? 'Demo-Passw0rd!';
  const delay = Number(opts.delayMs ?? process.env.MOCK_DELAY_MS ?? 600);
  const ttl = Number(opts.tokenTtl ?? process.env.MOCK_TOKEN_TTL ?? 3600);
  const keepDays = Number(opts.keepDays ?? process.env.MOCK_KEEP_DAYS ?? 7);
  const linkTtl = Number(opts.linkTtl ?? process.env.MOCK_LINK_TTL ?? 3600);
  /** The Bedrock stand-in's switches, as the local cloud's (POST /_localcloud/bedrock/config). */
  let bedrock = {};
  const caps = CAPS.stability;
  const clientId = 'mockclient';
  const poolId = 'us-east-1_mockpool';
  const apiOrigin = `http://127.0.0.1:${apiPort}`;
  const appOrigin = `http://127.0.0.1:${appPort}`;

  const users = new Map([[email, { password, sub: randomUUID(), confirmed: true }]]);
  const refreshTokens = new Map(); // token → email
  const srpSignIns = new Map(); // SECRET_BLOCK → { who, check }
  const edits = []; // newest first
  const log = [];
  const kept = new Map(); // "<id>/<n>" → { body: Buffer, contentType }
  const linkKey = randomBytes(32);
  const sign = (path, expires) => createHmac('sha256', linkKey).update(`${path}:${expires}`).digest('base64url');

  /** A ResultImage with links that work for `linkTtl` seconds, like a presigned GET of the bucket. */
  function resultLink(id, n) {
    const { body, contentType } = kept.get(`${id}/${n}`);
    const expires = Math.floor(Date.now() / 1000) + linkTtl;
    const path = `/results/${id}/${n}.${contentType === 'image/jpeg' ? 'jpg' : 'png'}`;
    const url = `${apiOrigin}${path}?expires=${expires}&sig=${sign(path, expires)}`;
    return { url, downloadUrl: `${url}&download=1`, contentType, ...imageSize(body), bytes: body.length, expiresAt: new Date(expires * 1000).toISOString().replace(/\.\d{3}Z$/, 'Z') };
  }

  /** A record as the API answers it: fresh links while its pictures are kept, none after. */
  function view(record) {
    const { sub: _, images = 0, ...rest } = record;
    const live = record.keptUntil && Date.parse(record.keptUntil) > Date.now();
    return { ...rest, results: live ? Array.from({ length: images }, (_, n) => resultLink(record.id, n)) : [] };
  }

  function issue(userEmail) {
    const u = users.get(userEmail);
    const now = Math.floor(Date.now() / 1000);
    const base = { sub: u.sub, iss: `https://cognito-idp.us-east-1.amazonaws.com/${poolId}`, iat: now, auth_time: now, exp: now + ttl, jti: randomUUID() };
    const refresh = randomUUID();
    refreshTokens.set(refresh, userEmail);
    return {
      IdToken: jwt({ ...base, aud: clientId, token_use: 'id', email: userEmail, 'cognito:username': userEmail }),
      AccessToken: jwt({ ...base, client_id: clientId, token_use: 'access', username: userEmail }),
      RefreshToken: refresh,
      ExpiresIn: ttl,
      TokenType: 'Bearer',
    };
  }

  const cognitoError = (type, message) => ({ status: 400, body: { __type: type, message } });
  function cognito(target, body) {
    switch (target) {
      case 'InitiateAuth': {
        if (body.AuthFlow === 'REFRESH_TOKEN_AUTH') {
          const who = refreshTokens.get(body.AuthParameters?.REFRESH_TOKEN);
          if (!who) return cognitoError('NotAuthorizedException', 'Invalid Refresh Token');
          const { RefreshToken: _, ...rest } = issue(who);
          return { body: { AuthenticationResult: rest, ChallengeParameters: {} } };
        }
        // The web app signs in with SRP, as on AWS (the app client allows no password flow there).
        if (body.AuthFlow !== 'USER_SRP_AUTH') return cognitoError('InvalidParameterException', `${body.AuthFlow} flow not enabled for this client`);
        const who = body.AuthParameters?.USERNAME;
        const u = users.get(who);
        const srpA = String(body.AuthParameters?.SRP_A ?? '');
        if (!/^[0-9a-fA-F]+$/.test(srpA)) return cognitoError('InvalidParameterException', 'SRP_A is not a hexadecimal number.');
        const A = BigInt(`0x${srpA}`) % SRP_N;
        if (!u || A === 0n) return cognitoError('NotAuthorizedException', 'Incorrect username or password.');
        if (!u.confirmed) return cognitoError('UserNotConfirmedException', 'User is not confirmed.');
        // USER_ID_FOR_SRP: the user's user name, which in a pool of e-mail sign-ins is the sub.
        const { params, check } = srpChallenge(poolId.split('_')[1], u.sub, u.password, A);
        srpSignIns.set(params.SECRET_BLOCK, { who, check });
        return { body: { ChallengeName: 'PASSWORD_VERIFIER', ChallengeParameters: params } };
      }
      case 'RespondToAuthChallenge': {
        if (body.ChallengeName === 'PASSWORD_VERIFIER') {
          const responses = body.ChallengeResponses ?? {};
          const pending = srpSignIns.get(responses.PASSWORD_CLAIM_SECRET_BLOCK);
          srpSignIns.delete(responses.PASSWORD_CLAIM_SECRET_BLOCK);
          if (!pending || !pending.check(responses)) return cognitoError('NotAuthorizedException', 'Incorrect username or password.');
          const { who } = pending;
          const u = users.get(who);
          if (u.temporary) return { body: { ChallengeName: 'NEW_PASSWORD_REQUIRED', Session: `s-${who}`, ChallengeParameters: { USER_ID_FOR_SRP: u.sub, userAttributes: JSON.stringify({ email: who }), requiredAttributes: '[]' } } };
          return { body: { AuthenticationResult: issue(who), ChallengeParameters: {} } };
        }
        const who = String(body.Session ?? '').slice(2);
        const u = users.get(who);
        if (!u) return cognitoError('NotAuthorizedException', 'Invalid session');
        u.password = body.ChallengeResponses?.NEW_PASSWORD;
        u.temporary = false;
        return { body: { AuthenticationResult: issue(who), ChallengeParameters: {} } };
      }
      case 'SignUp':
        if (users.has(body.Username)) return cognitoError('UsernameExistsException', 'An account with the given email already exists.');
        users.set(body.Username, { password: body.Password, sub: randomUUID(), confirmed: false, code: '123456' });
        return { body: { UserConfirmed: false, UserSub: users.get(body.Username).sub, CodeDeliveryDetails: { Destination: body.Username.replace(/^(.).*@/, '$1***@'), DeliveryMedium: 'EMAIL', AttributeName: 'email' } } };
      case 'ConfirmSignUp': {
        const u = users.get(body.Username);
        if (!u || body.ConfirmationCode !== '123456') return cognitoError('CodeMismatchException', 'Invalid verification code provided, please try again.');
        u.confirmed = true;
        return { body: {} };
      }
      case 'ResendConfirmationCode':
      case 'ForgotPassword':
        return { body: { CodeDeliveryDetails: { Destination: String(body.Username).replace(/^(.).*@/, '$1***@'), DeliveryMedium: 'EMAIL' } } };
      case 'ConfirmForgotPassword': {
        const u = users.get(body.Username);
        if (!u || body.ConfirmationCode !== '123456') return cognitoError('CodeMismatchException', 'Invalid verification code provided, please try again.');
        u.password = body.Password;
        return { body: {} };
      }
      case 'RevokeToken':
        refreshTokens.delete(body.Token);
        return { body: {} };
      default:
        return cognitoError('InvalidActionException', `mock does not implement ${target}`);
    }
  }

  const apiError = (status, code, message, field, forHost) => ({ status, body: { error: { code, message, ...(field ? { field } : {}), ...(forHost ? { forHost } : {}) } } });
  function caller(req) {
    const claims = decode(req.headers.authorization);
    if (!claims || claims.token_use !== 'id' || claims.exp < Date.now() / 1000 || claims.aud !== clientId) return null;
    return claims.sub;
  }
  async function api(method, path, query, body, sub) {
    if (method === 'GET' && path === '/capabilities') return { body: caps };
    if (method === 'GET' && path === '/usage') {
      // Shaped as docs/openapi.yaml's Usage; the mock counts the caller's edits of the session.
      const used = edits.filter((e) => e.sub === sub).length;
      const perUser = caps.limits.imagesPerUserPerDay ?? 50;
      const perApp = caps.limits.imagesPerDay ?? 500;
      const count = (n, limit) => ({ used: n, limit, left: Math.max(0, limit - n) });
      const user = count(used, perUser);
      const app = count(edits.length, perApp);
      const next = new Date();
      next.setUTCHours(24, 0, 0, 0);
      return {
        body: {
          day: new Date().toISOString().slice(0, 10), resetsAt: next.toISOString().replace(/\.\d{3}Z$/, 'Z'),
          secondsToReset: Math.max(1, Math.round((next.getTime() - Date.now()) / 1000)), left: Math.min(user.left, app.left), user, app,
        },
      };
    }
    if (method === 'POST' && path === '/edits') {
      const entries = caps.operations.filter((o) => o.name === body?.operation);
      if (!entries.length) return apiError(400, 'unsupported_operation', `operation "${body?.operation}" is not supported; supported: ${[...new Set(caps.operations.map((o) => o.name))].join(', ')}`);
      // upscale and generate: one entry per model, chosen by options.upscaler / options.generator.
      const option = entries[0].choice?.option;
      const wanted = option && body.options?.[option];
      const op = option ? entries.find((o) => (wanted ? o.choice.value === wanted : o.choice.default)) : entries[0];
      if (!op) return apiError(400, 'validation_error', `options.${option}: one of ${entries.map((o) => o.choice.value).join(', ')}`, `options.${option}`);
      const image = typeof body.image === 'string' ? body.image.replace(/^data:[^,]+,/, '') : null;
      if (op.image === 'required' && !image) return apiError(400, 'validation_error', 'image: required', 'image');
      if (op.styleImage === 'required' && !body.styleImage) return apiError(400, 'validation_error', 'styleImage: required', 'styleImage');
      if (op.mask === 'required' && !body.mask) return apiError(400, 'validation_error', 'mask: required', 'mask');
      if (op.maskPromptRequired && !body.maskPrompt) return apiError(400, 'validation_error', 'maskPrompt: required', 'maskPrompt');
      if (op.prompt === 'required' && !body.prompt) return apiError(400, 'validation_error', 'prompt: required', 'prompt');
      if (/blocked/i.test(body.prompt ?? '')) return apiError(422, 'content_filtered', 'The prompt was blocked by the content filter.');
      // The stand-in's switches: answers that made nothing (and record nothing).
      if (bedrock.throttle) return { ...apiError(429, 'throttled', 'The model is busy (Bedrock throttled the call).'), headers: { 'Retry-After': '1' } };
      if (bedrock.fail === 'not_ready') {
        return {
          ...apiError(503, 'model_not_ready', 'The model is still being prepared; nothing was made. Send the same request again.', undefined, 'Amazon Bedrock answered ModelNotReadyException for the model (mock).'),
          headers: { 'Retry-After': '1' },
        };
      }
      if (bedrock.fail === 'access_denied') {
        return apiError(503, 'model_unavailable', 'This model cannot be used by the stack right now.', undefined, `Enable model access to ${op.model} in the Amazon Bedrock console (mock).`);
      }
      if (bedrock.fail === 'model_error') return apiError(502, 'model_error', 'The model failed (mock switch).');
      await new Promise((r) => setTimeout(r, bedrock.latencyMs ?? delay));
      const seed = op.seed ? (body.options?.seed ?? Math.floor(Math.random() * 4294967294)) : null;
      const id = `01MOCK${String(edits.length + 1).padStart(6, '0')}${randomUUID().slice(0, 8).toUpperCase()}`;
      // The "result" is the input picture (as sent: PNG, or JPEG when the app had to shrink it).
      const made = image ? Buffer.from(image, 'base64') : GENERATED;
      const contentType = made[0] === 0xff ? 'image/jpeg' : 'image/png';
      const createdAt = new Date();
      const thumbnail = `data:${contentType};base64,${made.toString('base64')}`;
      const record = {
        id, sub, createdAt: createdAt.toISOString(), operation: op.name, prompt: body.prompt ?? null, negativePrompt: body.negativePrompt ?? null,
        maskPrompt: body.maskPrompt ?? null, model: op.model, seeds: seed === null ? [] : [seed], status: 'succeeded', errorCode: null, durationMs: delay,
        input: image ? { ...imageSize(made), bytes: made.length } : null,
        output: { ...imageSize(made), bytes: made.length, count: 1 },
        options: body.options ?? {}, thumbnail, standIn: true,
        keptUntil: keepDays > 0 ? keptUntil(createdAt, keepDays) : null, images: keepDays > 0 ? 1 : 0,
      };
      if (keepDays > 0) kept.set(`${id}/0`, { body: made, contentType });
      edits.unshift(record);
      log.push({ op: op.name, choice: op.choice?.value ?? null, hasMask: !!body.mask, hasStyleImage: !!body.styleImage, maskPrompt: body.maskPrompt ?? null });
      const images = keepDays > 0
        ? [resultLink(id, 0)]
        : [{ url: thumbnail, downloadUrl: null, contentType, ...imageSize(made), bytes: made.length, expiresAt: null }];
      return {
        body: {
          id, images, keptUntil: record.keptUntil, seeds: seed === null ? [] : [seed], model: op.model, operation: op.name, durationMs: delay,
          notices: ['mock backend: the result is the input picture'], standIn: true,
        },
      };
    }
    if (method === 'GET' && path === '/edits') {
      const limit = Math.min(50, Math.max(1, Number(query.get('limit') ?? 20)));
      const mine = edits.filter((e) => e.sub === sub);
      const start = query.get('cursor') ? Number(Buffer.from(query.get('cursor'), 'base64url').toString()) : 0;
      const page = mine.slice(start, start + limit).map(view);
      const next = start + limit < mine.length ? Buffer.from(String(start + limit)).toString('base64url') : null;
      return { body: { items: page, nextCursor: next } };
    }
    const m = /^\/edits\/([^/]+)$/.exec(path);
    if (m) {
      const i = edits.findIndex((e) => e.id === decodeURIComponent(m[1]) && e.sub === sub);
      if (i < 0) return apiError(404, 'not_found', 'no such edit');
      if (method === 'GET') return { body: view(edits[i]) };
      if (method === 'DELETE') {
        // The record and its kept pictures: their links stop working.
        for (let n = 0; n < (edits[i].images ?? 0); n++) kept.delete(`${edits[i].id}/${n}`);
        edits.splice(i, 1);
        return { status: 204 };
      }
    }
    return apiError(404, 'not_found', `no route ${method} ${path}`);
  }

  const allowed = new Set([appOrigin, 'http://localhost:5173', 'http://127.0.0.1:5173', ...String(opts.allowOrigins ?? process.env.MOCK_ALLOW_ORIGINS ?? '').split(',').filter(Boolean)]);
  const cors = (req) => {
    const origin = req.headers.origin;
    return allowed.has(origin)
      ? { 'Access-Control-Allow-Origin': origin, 'Access-Control-Allow-Headers': 'Content-Type,Authorization,Idempotency-Key,Access-Control-Allow-Origin,Access-Control-Allow-Headers,X-Amz-Target,X-Amz-User-Agent,Cache-Control', 'Access-Control-Allow-Methods': 'GET,POST,DELETE,OPTIONS', 'Access-Control-Expose-Headers': 'Retry-After', Vary: 'Origin' }
      : { Vary: 'Origin' };
  };
  const readBody = (req) =>
    new Promise((resolve, reject) => {
      const parts = [];
      req.on('data', (c) => parts.push(c));
      req.on('end', () => resolve(Buffer.concat(parts).toString()));
      req.on('error', reject);
    });

  const apiServer = createServer(async (req, res) => {
    const headers = cors(req);
    const url = new URL(req.url, apiOrigin);
    const send = (status, body, type = 'application/json', extra = {}) => {
      res.writeHead(status, { ...headers, ...extra, ...(body === undefined ? {} : { 'Content-Type': type }) });
      res.end(body === undefined ? undefined : JSON.stringify(body));
    };
    try {
      if (req.method === 'OPTIONS') return send(204);
      const raw = await readBody(req);
      // The results bucket: a presigned GET, no token; an expired or forged link is refused as S3 does.
      const link = /^\/results\/([^/]+)\/(\d+)\.(png|jpg)$/.exec(url.pathname);
      if (link && req.method === 'GET') {
        const expires = Number(url.searchParams.get('expires'));
        const valid = url.searchParams.get('sig') === sign(url.pathname, expires) && expires * 1000 > Date.now();
        const image = valid ? kept.get(`${link[1]}/${link[2]}`) : null;
        if (!image) {
          res.writeHead(valid ? 404 : 403, { ...headers, 'Content-Type': 'application/xml' });
          return res.end(valid ? '<Error><Code>NoSuchKey</Code></Error>' : '<Error><Code>AccessDenied</Code><Message>Request has expired</Message></Error>');
        }
        const disposition = url.searchParams.get('download') ? { 'Content-Disposition': `attachment; filename="${link[1]}-${Number(link[2]) + 1}.${link[3]}"` } : {};
        res.writeHead(200, { ...headers, ...disposition, 'Content-Type': image.contentType, 'Content-Length': image.body.length, 'Cache-Control': 'private, max-age=3600' });
        return res.end(image.body);
      }
      if (url.pathname === '/cognito/') {
        const target = String(req.headers['x-amz-target'] ?? '').split('.').pop();
        const r = cognito(target, raw ? JSON.parse(raw) : {});
        return send(r.status ?? 200, r.body, 'application/x-amz-json-1.1');
      }
      if (!url.pathname.startsWith('/prod/')) return send(404, { message: 'Not Found' });
      const sub = caller(req);
      if (!sub) return send(401, { message: 'Unauthorized' });
      const r = await api(req.method, url.pathname.slice(5), url.searchParams, raw ? JSON.parse(raw) : null, sub);
      return send(r.status ?? 200, r.body, 'application/json', r.headers);
    } catch (err) {
      return send(500, { error: { code: 'internal_error', message: String(err) } });
    }
  });

  const config = { region: 'us-east-1', userPoolId: poolId, userPoolClientId: clientId, apiUrl: `${apiOrigin}/prod`, cognitoEndpoint: `${apiOrigin}/cognito/`, selfSignUp: true, local: true, stackName: 'mock' };
  const appServer = createServer(async (req, res) => {
    const path = new URL(req.url, appOrigin).pathname;
    if (path === '/_localcloud/bedrock/config' && req.method === 'POST') {
      bedrock = JSON.parse((await readBody(req)) || '{}');
      res.writeHead(200, { 'Content-Type': 'application/json' });
      return res.end(JSON.stringify(bedrock));
    }
    if (path === '/config.json') {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
      return res.end(JSON.stringify(config));
    }
    const file = normalize(join(DIST, path === '/' ? 'index.html' : path));
    if (!file.startsWith(DIST)) return res.writeHead(403).end();
    try {
      const data = await readFile(file);
      res.writeHead(200, { 'Content-Type': TYPES[extname(file)] ?? 'application/octet-stream' });
      res.end(data);
    } catch {
      res.writeHead(404, { 'Content-Type': 'text/plain' }).end('not found');
    }
  });

  await new Promise((r) => apiServer.listen(apiPort, '127.0.0.1', r));
  await new Promise((r) => appServer.listen(appPort, '127.0.0.1', r));
  return {
    appUrl: `${appOrigin}/`,
    config,
    email,
    password,
    users,
    edits,
    log,
    /** Adds a user who must choose a new password at first sign-in. */
    addTemporaryUser(userEmail, temp) {
      users.set(userEmail, { password: temp, sub: randomUUID(), confirmed: true, temporary: true });
    },
    close: () => Promise.all([new Promise((r) => apiServer.close(r)), new Promise((r) => appServer.close(r))]),
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const m = await startMock();
  console.log(`APP_URL=${m.appUrl}  DEMO_EMAIL=${m.email}  DEMO_PASSWORD=${m.password}  (Ctrl-C stops)`);
  console.log(`For \`npm run dev\`, put this in frontend/config.json:\n${JSON.stringify(m.config, null, 2)}`);
}

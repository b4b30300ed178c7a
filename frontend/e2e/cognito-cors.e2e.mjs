// Can a browser, on the app's own origin, reach every Cognito operation the web app uses?
//
//   APP_URL=http://main.<appId>.amplifyapp.localhost:PORT/ CORS_EMAIL=… CORS_PASSWORD=<temporary> \
//     node e2e/cognito-cors.e2e.mjs
//
// The page calls Cognito cross-origin, so each call is a CORS preflight and then the call; if either
// fails, the browser reports only "network error" and nobody can sign in. This check opens the app
// in headless Chromium, loads the very Cognito client the app uses (amazon-cognito-identity-js, its
// browser build) into the page, and sends each operation through that client's own request — same
// headers, same fetch options — to the endpoint in the app's /config.json. Each one must come back
// as Cognito's answer (a result, or a Cognito error the page can read). The sign-in path is taken for
// real with a freshly invited user (CORS_EMAIL, with its temporary password), through the library's
// own sign-in as the app does it (SRP: InitiateAuth USER_SRP_AUTH, the PASSWORD_VERIFIER proof, the
// new-password challenge), then the tokens, a token refresh, the revocation (after which the refresh
// is refused). It is separate from the long walk (app.e2e.mjs) so that this failure names itself.
//
// Other env: CHROMIUM_PATH (/usr/bin/chromium).

import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import * as cognitoSignIn from './cognito-sign-in.mjs';

const env = process.env;
const LIBRARY = fileURLToPath(new URL('../node_modules/amazon-cognito-identity-js/dist/amazon-cognito-identity.min.js', import.meta.url));

function fail(message) {
  console.error(`\ncognito-cors: ${message}`);
  process.exit(1);
}

for (const k of ['APP_URL', 'CORS_EMAIL', 'CORS_PASSWORD']) {
  if (!env[k]) fail(`${k} is not set. Usage: APP_URL=… CORS_EMAIL=… CORS_PASSWORD=<temporary password> node e2e/cognito-cors.e2e.mjs`);
}

const browser = await chromium.launch({
  executablePath: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
  headless: true,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
});
let failed = 0;
try {
  const page = await browser.newPage();
  await page.goto(env.APP_URL, { waitUntil: 'domcontentloaded' });
  const origin = new URL(page.url()).origin;
  const config = await page.evaluate(async () => (await fetch('/config.json', { cache: 'no-store' })).json());
  const endpoint = config.cognitoEndpoint ?? `https://cognito-idp.${config.region}.amazonaws.com/`;
  if (new URL(endpoint).origin === origin) fail(`the Cognito endpoint ${endpoint} is the app's own origin: this would test no CORS`);
  console.log(`Cognito at ${endpoint}, called from ${origin}`);
  await page.addScriptTag({ path: LIBRARY });
  // The sign-in rush.mjs does in Node, the same function, here next to the library's browser build.
  await page.addScriptTag({ content: `window.signInAsTheApp = ${cognitoSignIn.signInAsTheApp.toString()};` });

  // One operation through the library's own client: { ok, status, code, data } or { network: message }.
  const call = (operation, params) =>
    page.evaluate(
      ({ operation, params, config, endpoint }) =>
        new Promise((resolve) => {
          // The library hides the HTTP status; note it on the way (the library calls the global fetch).
          if (!window.__statusNoted) {
            const fetch0 = window.fetch;
            window.fetch = async (...args) => {
              const resp = await fetch0(...args);
              window.__lastStatus = resp.status;
              return resp;
            };
            window.__statusNoted = true;
          }
          window.__lastStatus = null;
          const pool = new window.AmazonCognitoIdentity.CognitoUserPool({
            UserPoolId: config.userPoolId,
            ClientId: config.userPoolClientId,
            endpoint,
          });
          pool.client.request(operation, params, (err, data) => {
            const status = window.__lastStatus;
            if (!err) resolve({ ok: true, status, data });
            else if (err.message === 'Network error' || err.code === 'NetworkError') resolve({ network: err.message });
            else resolve({ ok: false, status, code: err.code ?? err.name, message: err.message });
          });
        }),
      { operation, params, config, endpoint },
    );

  const client = config.userPoolClientId;
  const email = env.CORS_EMAIL;
  const newPassword = `Cors-check-${Date.now()}`;
  // The app's sign-in (e2e/cognito-sign-in.mjs: the library's CognitoUser.authenticateUser and, at
  // the first login, completeNewPasswordChallenge): every call it makes, as
  // { label, ok, status, code, message } or { label, network }, and the tokens it ends with (or null).
  const signInAsTheApp = (email, password, newPassword) =>
    page.evaluate(
      ({ email, password, newPassword, config, endpoint }) =>
        new Promise((resolve) => {
          const calls = [];
          const fetch0 = window.fetch;
          window.fetch = async (url, init = {}) => {
            const body = JSON.parse(String(init.body ?? '{}'));
            const target = String(init.headers?.['X-Amz-Target'] ?? '').split('.').pop();
            const entry = { label: `${target} ${body.AuthFlow ?? body.ChallengeName ?? ''}`.trim() };
            calls.push(entry);
            try {
              const resp = await fetch0(url, init);
              entry.status = resp.status;
              entry.ok = resp.ok;
              if (!resp.ok) {
                const err = await resp.clone().json().catch(() => ({}));
                entry.code = String(err.__type ?? '').split('#').pop();
                entry.message = err.message;
              }
              return resp;
            } catch (e) {
              entry.network = String(e?.message ?? e);
              throw e;
            }
          };
          const done = (tokens) => {
            window.fetch = fetch0;
            resolve({ calls, tokens });
          };
          window
            .signInAsTheApp(window.AmazonCognitoIdentity, {
              userPoolId: config.userPoolId,
              clientId: config.userPoolClientId,
              endpoint,
              email,
              password,
              newPassword,
            })
            .then((session) => done({ RefreshToken: session.getRefreshToken().getToken() }), () => done(null));
        }),
      { email, password, newPassword, config, endpoint },
    );

  function verdictOf(r, expect) {
    let verdict;
    if (r.network) {
      verdict = `FAILED: the browser could not reach Cognito (${r.network}): the preflight or the CORS headers of the answer were refused`;
    } else if (r.status >= 500) {
      verdict = `FAILED: HTTP ${r.status} (${r.code}): Cognito answers these with a result or a 4xx error`;
    } else if (expect === 'ok' && !r.ok) {
      verdict = `FAILED: Cognito answered ${r.code}: ${r.message}`;
    } else {
      verdict = r.ok ? `ok (${r.status})` : `Cognito answered ${r.status} ${r.code} (expected for this request)`;
    }
    return verdict;
  }
  function report(label, verdict) {
    console.log(`• ${label} … ${verdict}`);
    if (verdict.startsWith('FAILED')) failed += 1;
  }
  // expect: 'ok' (the call must succeed) or 'answer' (any Cognito answer; these use a made-up user).
  async function check(label, operation, params, expect) {
    const r = await call(operation, params);
    report(label, verdictOf(r, expect));
    return r;
  }

  const nobody = 'nobody-cors-check@example.com';
  const signIn = await signInAsTheApp(email, env.CORS_PASSWORD, newPassword);
  for (const c of signIn.calls) report(`${c.label} (the app's sign-in)`, verdictOf(c, 'ok'));
  const steps = signIn.calls.map((c) => c.label).join(' → ');
  const wanted = 'InitiateAuth USER_SRP_AUTH → RespondToAuthChallenge PASSWORD_VERIFIER → RespondToAuthChallenge NEW_PASSWORD_REQUIRED';
  if (signIn.calls.every((c) => c.ok) && steps !== wanted) fail(`${email} is not a freshly invited user (the sign-in went ${steps})`);
  const tokens = signIn.tokens;
  if (tokens) {
    await check('InitiateAuth REFRESH_TOKEN_AUTH (a token refresh)', 'InitiateAuth', {
      ClientId: client,
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken },
    }, 'ok');
  } else {
    console.log('• InitiateAuth REFRESH_TOKEN_AUTH … skipped: the sign-in above gave no tokens');
  }
  await check('SignUp', 'SignUp', {
    ClientId: client,
    Username: 'mallory-cors-check@elsewhere.test',
    Password: newPassword,
    UserAttributes: [{ Name: 'email', Value: 'mallory-cors-check@elsewhere.test' }],
  }, 'answer');
  await check('ConfirmSignUp', 'ConfirmSignUp', { ClientId: client, Username: nobody, ConfirmationCode: '123456' }, 'answer');
  await check('ResendConfirmationCode', 'ResendConfirmationCode', { ClientId: client, Username: nobody }, 'answer');
  await check('ForgotPassword', 'ForgotPassword', { ClientId: client, Username: nobody }, 'answer');
  await check('ConfirmForgotPassword', 'ConfirmForgotPassword', {
    ClientId: client, Username: nobody, ConfirmationCode: '123456', Password: newPassword,
  }, 'answer');
  await check('RevokeToken (signing out)', 'RevokeToken', { ClientId: client, Token: tokens?.RefreshToken ?? 'none' }, 'answer');
  if (tokens) {
    const after = await check('InitiateAuth REFRESH_TOKEN_AUTH with the revoked token', 'InitiateAuth', {
      ClientId: client,
      AuthFlow: 'REFRESH_TOKEN_AUTH',
      AuthParameters: { REFRESH_TOKEN: tokens.RefreshToken },
    }, 'answer');
    if (after.ok || after.code !== 'NotAuthorizedException') {
      console.log(`  FAILED: a revoked refresh token must be refused with NotAuthorizedException (got ${after.ok ? 'tokens' : after.code})`);
      failed += 1;
    }
  }
} finally {
  await browser.close();
}
if (failed) fail(`${failed} Cognito operation(s) the web app uses cannot be reached from the app's origin`);
console.log('cognito-cors: every Cognito operation the web app uses is reachable from its origin');

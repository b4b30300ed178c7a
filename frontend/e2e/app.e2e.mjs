// End-to-end walk through the deployed SPA with playwright-core driving Debian's Chromium (headless).
//
//   APP_URL=http://127.0.0.1:PORT/ DEMO_EMAIL=… DEMO_PASSWORD=… SCREENSHOT_DIR=out node e2e/app.e2e.mjs
//
// Steps (a screenshot after each, NN-step.png in SCREENSHOT_DIR): sign in (answering the first-login
// new-password challenge when NEW_PASSWORD is set) → upload e2e/fixtures/photo.png → paint a mask
// stroke → make a mask with the keyboard alone (rectangle, Enter, Delete, undo) → inpaint → wait for the result → use the compare slider → download the result → find the
// edit in the history → delete it → style transfer (a second image) → a conservative upscale (a
// choice of model) → sign out → a phone-sized pass (touch: a tap paints, a pinch zooms and paints
// nothing; picture, prompt and run button in view while typing, also with an on-screen keyboard's
// worth of height gone; phone.png, phone-keyboard.png) → poisoned/expired stored tokens lead back to
// sign-in. Every screen on the way (sign-in, sign-up, the editor empty and with a picture, results,
// History, an error, the phone) is checked with axe-core (e2e/axe.mjs: WCAG 2.0/2.1 A and AA, light
// and dark; any serious or critical violation fails; counts in SCREENSHOT_DIR/axe.json), and a
// keyboard focus must be visible (also in forced colours) and survive deleting from the History. Exits non-zero with a clear message on the first failure, and fails on
// any console error or uncaught page error (except the expected failed refresh in the expired-session
// step).
//
// Optional self sign-up (needs a way to read the e-mailed code, so it is off unless asked for):
// when /config.json has "selfSignUp": true and CONFIRM_CODE_CMD is set, the script signs up
// SIGNUP_EMAIL (default e2e-<time>@example.com) with SIGNUP_PASSWORD (default DEMO_PASSWORD), runs
// CONFIRM_CODE_CMD through the shell with SIGNUP_EMAIL in its environment, takes the code from the
// last line of its stdout, confirms, checks it is signed in, and signs out again.
//
// Other env: CHROMIUM_PATH (/usr/bin/chromium), E2E_TIMEOUT_MS (90000, per wait for the model),
// E2E_PHONE=0 skips the phone pass, E2E_HEADED=1 shows the browser (needs a display).

import { execSync } from 'node:child_process';
import { mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { checkA11y } from './axe.mjs';

const env = process.env;
const APP_URL = env.APP_URL;
const DEMO_EMAIL = env.DEMO_EMAIL;
const DEMO_PASSWORD = env.DEMO_PASSWORD;
const SCREENSHOT_DIR = env.SCREENSHOT_DIR ?? 'e2e-out';
const MODEL_TIMEOUT = Number(env.E2E_TIMEOUT_MS ?? 90_000);
const FIXTURE = fileURLToPath(new URL('./fixtures/photo.png', import.meta.url));

class StepFailure extends Error {}

function fail(message) {
  throw new StepFailure(message);
}

export async function runE2E() {
  for (const [k, v] of Object.entries({ APP_URL, DEMO_EMAIL, DEMO_PASSWORD })) {
    if (!v) fail(`${k} is not set. Usage: APP_URL=… DEMO_EMAIL=… DEMO_PASSWORD=… SCREENSHOT_DIR=… node e2e/app.e2e.mjs`);
  }
  mkdirSync(SCREENSHOT_DIR, { recursive: true });
  const browser = await chromium.launch({
    executablePath: env.CHROMIUM_PATH ?? '/usr/bin/chromium',
    headless: env.E2E_HEADED !== '1',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });

  let stepNo = 0;
  const consoleErrors = [];
  let allowFailedLoads = false;
  // In the busy-model step the page is *meant* to meet 429s and retry them itself.
  let allowBusyAnswers = false;
  // In the error-state step the browser is offline on purpose.
  let allowOffline = false;

  function watch(page, label) {
    page.on('console', (msg) => {
      if (msg.type() !== 'error') return;
      const text = msg.text();
      // In the expired-session step the refresh is *meant* to be refused (HTTP 400 from Cognito).
      if (allowFailedLoads && /Failed to load resource: the server responded with a status of (400|401)/.test(text)) return;
      if (allowBusyAnswers && /Failed to load resource: the server responded with a status of (429|503)/.test(text)) return;
      if (allowOffline && /net::ERR_INTERNET_DISCONNECTED/.test(text)) return;
      consoleErrors.push(`[${label}] console.error: ${text}`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`[${label}] uncaught: ${err.message}`));
  }

  async function step(page, name, fn) {
    stepNo += 1;
    const tag = `${String(stepNo).padStart(2, '0')}-${name}`;
    const started = Date.now();
    process.stdout.write(`• ${tag} … `);
    try {
      await fn();
      if (consoleErrors.length) fail(`console errors:\n  ${consoleErrors.join('\n  ')}`);
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${tag}.png`), fullPage: true });
      console.log(`ok (${((Date.now() - started) / 1000).toFixed(1)} s)`);
    } catch (err) {
      console.log('FAILED');
      await page.screenshot({ path: join(SCREENSHOT_DIR, `${tag}-FAILED.png`), fullPage: true }).catch(() => undefined);
      const visibleError = await page.locator('.error-box:not([hidden]), .form-error').allInnerTexts().catch(() => []);
      const shown = visibleError.filter((t) => t.trim()).join(' | ');
      throw new StepFailure(`step "${tag}" failed: ${err instanceof Error ? err.message : String(err)}${shown ? `\n  the page shows: ${shown}` : ''}`);
    }
  }

  async function signIn(page, email, password) {
    await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
    await page.getByLabel('E-mail').fill(email);
    await page.getByLabel('Password', { exact: true }).fill(password);
    await page.getByRole('button', { name: 'Sign in', exact: true }).click();
    const outcome = await Promise.race([
      page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 30_000 }).then(() => 'app'),
      page.getByRole('heading', { name: 'Choose a new password' }).waitFor({ timeout: 30_000 }).then(() => 'new-password'),
      page.locator('.form-error:not(:empty)').waitFor({ timeout: 30_000 }).then(() => 'error'),
    ]);
    if (outcome === 'error') fail(`sign-in refused: ${await page.locator('.form-error').innerText()}`);
    if (outcome === 'new-password') {
      if (!env.NEW_PASSWORD) fail('the account asks for a new password (first login); set NEW_PASSWORD to answer the challenge');
      await checkA11y(page, 'new-password');
      await page.getByLabel('New password', { exact: true }).fill(env.NEW_PASSWORD);
      await page.getByLabel('Repeat the new password').fill(env.NEW_PASSWORD);
      await page.getByRole('button', { name: 'Set password and sign in' }).click();
      await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 30_000 });
    }
    // Capabilities loaded = the operation picker is there.
    await page.getByLabel('Operation').waitFor({ timeout: 30_000 });
  }

  async function upload(page) {
    await page.locator('#file-input').setInputFiles(FIXTURE);
    await page.locator('.picture-info').filter({ hasText: 'photo.png' }).waitFor({ timeout: 20_000 });
    await page.locator('canvas.mask-layer').waitFor({ state: 'visible', timeout: 10_000 });
  }

  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, acceptDownloads: true });
  const page = await context.newPage();
  watch(page, 'desktop');
  const base = APP_URL.endsWith('/') ? APP_URL : `${APP_URL}/`;
  // Read through the browser: it resolves *.localhost (the local cloud's hosts) to loopback, Node does not.
  let config = {};
  const marker = `e2e-${Date.now()}`;
  const prompt = `a red bicycle leaning on the wall (${marker})`;
  // The edit the kept-results steps look for (its own marker: the delete step removes `marker`'s).
  const keptMarker = `kept-${Date.now()}`;
  /** The Bedrock stand-in's switches (local cloud, and the mock): taken on the app's port. */
  const standIn = (body) =>
    fetch(`http://127.0.0.1:${new URL(page.url()).port}/_localcloud/bedrock/config`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });

  try {
    await step(page, 'open', async () => {
      await page.goto(base);
      await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
      await checkA11y(page, 'sign-in');
      config = await page.evaluate(async () => (await fetch('/config.json', { cache: 'no-store' })).json()).catch(() => ({}));
    });

    if (config.selfSignUp && env.CONFIRM_CODE_CMD) {
      const email = env.SIGNUP_EMAIL ?? `e2e-${Date.now()}@example.com`;
      const password = env.SIGNUP_PASSWORD ?? DEMO_PASSWORD;
      await step(page, 'sign-up', async () => {
        await page.getByRole('button', { name: 'Create an account' }).click();
        await checkA11y(page, 'sign-up');
        if (env.REFUSED_SIGNUP_EMAIL) {
          // A domain outside `auth.allowed_email_domains`: the pool's pre sign-up trigger refuses it,
          // and the form says why. Cognito answers 400, which the browser logs: expected here.
          allowFailedLoads = true;
          await page.getByLabel('E-mail').fill(env.REFUSED_SIGNUP_EMAIL);
          await page.getByLabel('Password', { exact: true }).fill(password);
          await page.getByRole('button', { name: 'Create account' }).click();
          const refusal = page.locator('.form-error').filter({ hasText: 'open only to e-mail addresses at' });
          await refusal.waitFor({ timeout: 20_000 });
          console.log(`\n    refused: ${(await refusal.innerText()).trim()}`);
          allowFailedLoads = false;
        }
        await page.getByLabel('E-mail').fill(email);
        await page.getByLabel('Password', { exact: true }).fill(password);
        await page.getByRole('button', { name: 'Create account' }).click();
        await page.getByRole('heading', { name: 'Confirm your e-mail' }).waitFor({ timeout: 20_000 });
        await checkA11y(page, 'sign-up-confirm');
      });
      await step(page, 'sign-up-confirm', async () => {
        const out = execSync(env.CONFIRM_CODE_CMD, { env: { ...env, SIGNUP_EMAIL: email }, encoding: 'utf8', timeout: 60_000 });
        const code = out.trim().split('\n').pop()?.trim();
        if (!code) fail('CONFIRM_CODE_CMD printed no code');
        await page.getByLabel('Confirmation code').fill(code);
        await page.getByRole('button', { name: 'Confirm' }).click();
        await page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 30_000 });
        await page.getByRole('button', { name: 'Sign out' }).click();
        await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
      });
    }

    await step(page, 'sign-in', async () => {
      await signIn(page, DEMO_EMAIL, DEMO_PASSWORD);
      await checkA11y(page, 'editor-empty');
      // The file input is visually hidden: tabbing to it must show focus on its visible label.
      for (let i = 0; i < 10 && !(await page.evaluate(() => document.activeElement?.id === 'file-input')); i++) await page.keyboard.press('Tab');
      // And in forced colours (Windows high contrast), where box shadows vanish: an outline it is.
      for (const forcedColors of ['none', 'active']) {
        await page.emulateMedia({ forcedColors });
        const ring = await page.locator('.empty-stage label[for="file-input"]').evaluate((l) => {
          const s = getComputedStyle(l);
          return { style: s.outlineStyle, width: parseFloat(s.outlineWidth) };
        });
        if (ring.style === 'none' || ring.width < 2) fail(`"Choose a picture…" shows no focus when its input has it (forced colours ${forcedColors}: outline ${ring.style} ${ring.width}px)`);
      }
      await page.emulateMedia({ forcedColors: 'none' });
    });

    await step(page, 'upload', () => upload(page));

    await step(page, 'paint-mask', async () => {
      const ops = await page.getByLabel('Operation').locator('option').evaluateAll((os) => os.map((o) => o.value));
      if (!ops.includes('inpaint')) fail(`this stack offers no inpaint (operations: ${ops.join(', ')})`);
      await page.getByLabel('Operation').selectOption('inpaint');
      await page.getByRole('button', { name: 'Brush', exact: true }).click();
      const box = await page.locator('canvas.mask-layer').boundingBox();
      if (!box) fail('mask canvas has no size');
      await page.mouse.move(box.x + box.width * 0.55, box.y + box.height * 0.55);
      await page.mouse.down();
      for (let i = 1; i <= 12; i++) await page.mouse.move(box.x + box.width * (0.55 + i * 0.02), box.y + box.height * (0.55 + i * 0.01));
      await page.mouse.up();
      const painted = await page.locator('canvas.mask-layer').evaluate((c) => {
        const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
        let n = 0;
        for (let i = 3; i < d.length; i += 4) if (d[i] >= 128) n++;
        return n;
      });
      if (painted < 100) fail(`the stroke painted only ${painted} pixels`);
      const undo = page.getByRole('button', { name: 'Undo' });
      if (await undo.isDisabled()) fail('Undo is disabled after painting');
      await checkA11y(page, 'editor-picture');
    });

    // The mask without a mouse: Shift+Tab from the tools reaches the picture, the arrows move a
    // rectangle and Shift+arrows resize it (said in a live region), Enter paints exactly its pixels,
    // Delete takes them out, Ctrl+Z takes both back, Esc leaves for the tools.
    await step(page, 'keyboard-mask', async () => {
      const canvas = page.locator('canvas.mask-layer');
      const painted = (r) =>
        canvas.evaluate((c, r) => {
          const box = r ?? { x: 0, y: 0, w: c.width, h: c.height };
          const d = c.getContext('2d').getImageData(box.x, box.y, box.w, box.h).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] >= 128) n++;
          return n;
        }, r);
      // Undo + redo first: a replayed stroke differs from the live one by a few anti-aliased edge
      // pixels, and the undos below replay it.
      await page.keyboard.press('Control+z');
      await page.keyboard.press('Control+Shift+z');
      const before = await painted();
      await page.getByRole('button', { name: 'Brush', exact: true }).focus();
      await page.keyboard.press('Shift+Tab');
      if (!(await canvas.evaluate((c) => c === document.activeElement))) fail('Shift+Tab from the mask tools does not reach the picture');
      await page.locator('.mask-rect').waitFor({ state: 'visible', timeout: 5_000 });
      for (const k of ['ArrowLeft', 'ArrowLeft', 'ArrowUp', 'Shift+ArrowRight', 'Shift+ArrowDown']) await page.keyboard.press(k);
      await page.screenshot({ path: join(SCREENSHOT_DIR, 'keyboard-mask.png') });
      const said = (await page.locator('.mask-tools [aria-live]').textContent()) ?? '';
      const m = /(\d+) × (\d+) pixels at x (\d+), y (\d+)/.exec(said);
      if (!m) fail(`the live region says "${said}", not the rectangle's size and place`);
      const [w, h, x, y] = m.slice(1).map(Number);
      const r = { x, y, w, h };
      const inside = await painted(r);
      await page.keyboard.press('Enter');
      if ((await painted(r)) !== w * h) fail(`Enter painted ${await painted(r)} of the rectangle's ${w * h} pixels`);
      if ((await painted()) !== before + w * h - inside) fail('Enter painted outside the rectangle');
      await page.keyboard.press('Delete');
      if ((await painted(r)) !== 0) fail('Delete left paint in the rectangle');
      await page.keyboard.press('Control+z');
      await page.keyboard.press('Control+z');
      if ((await painted()) !== before) fail('two undos did not bring the mask back to the painted stroke');
      await page.keyboard.press('Escape');
      if (!(await page.getByRole('button', { name: 'Brush', exact: true }).evaluate((b) => b === document.activeElement))) fail('Esc did not leave the picture for the tools');
      console.log(`\n    ${said}`);
    });

    await step(page, 'inpaint', async () => {
      await page.getByLabel(/^Prompt/).fill(prompt);
      await page.keyboard.press('Control+Enter'); // submit shortcut, from inside the prompt field
      await page.locator('section.results:not([hidden]) figure.result').first().waitFor({ timeout: MODEL_TIMEOUT });
      const meta = await page.locator('.result-meta').innerText();
      if (!/Inpaint/.test(meta)) fail(`unexpected result header: ${meta}`);
      const seed = await page.locator('figure.result .seed code').first().innerText();
      if (!/^\d+$/.test(seed)) fail(`no seed shown (got "${seed}")`);
      // What is left today, re-read after the edit (GET /usage).
      await page.locator('.usage').filter({ hasText: /left today|for today/ }).waitFor({ timeout: 10_000 });
      const standIn = await page.locator('section.results .stand-in').count();
      console.log(`\n    seed ${seed}${standIn ? ', made by the stand-in model (said so on the page)' : ''}`);
      await checkA11y(page, 'results');
    });

    // The model is busy (Bedrock throttles every call, as a reduced quota does in a class): the
    // page says so and tries again by itself; once the model has room the edit completes, and
    // nobody pressed anything. Local cloud only: the stand-ins take the switch on the app's port.
    if (config.local) {
      await step(page, 'busy-model-retried', async () => {
        const switches = `http://127.0.0.1:${new URL(page.url()).port}/_localcloud/bedrock/config`;
        const set = (body) => fetch(switches, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
        const before = await page.locator('figure.result .seed code').first().innerText();
        allowBusyAnswers = true;
        try {
          if (!(await set({ throttle: true })).ok) fail('could not switch the Bedrock stand-in to throttling');
          await page.getByRole('button', { name: 'Inpaint', exact: true }).click();
          const status = page.locator('p.status-line[role=status]');
          await status.filter({ hasText: /trying again in \d+ s/ }).waitFor({ timeout: 20_000 });
          const said = await status.innerText();
          if (await page.locator('.form-error:not(:empty), .error-box:not([hidden])').count()) fail('an error box appeared while retrying');
          await set({});
          await status.filter({ hasText: /^Done:/ }).waitFor({ timeout: 60_000 });
          const after = await page.locator('figure.result .seed code').first().innerText();
          if (after === before) fail('no new result after the retries');
          // One edit, one record: the retries (same Idempotency-Key) took the refused attempts' place.
          await page.locator('.history-item').nth(1).waitFor({ timeout: 15_000 });
          const failed = await page.locator('.history-item').filter({ hasText: 'Failed' }).count();
          if (failed) fail(`the history shows ${failed} failed attempt(s) of an edit that was retried and made`);
          console.log(`\n    the page said "${said}", then completed the edit by itself`);
        } finally {
          await set({});
          allowBusyAnswers = false;
        }
      });
    }

    if (config.local) {
      // A model Bedrock is still preparing (503 model_not_ready): the page waits and sends the same
      // request again by itself, saying so in the run button and the status line, with no error.
      await step(page, 'model-warming-up', async () => {
        allowBusyAnswers = true;
        try {
          if (!(await standIn({ fail: 'not_ready' })).ok) fail('could not switch the Bedrock stand-in to "not ready"');
          await page.getByRole('button', { name: 'Inpaint', exact: true }).click();
          const status = page.locator('p.status-line[role=status]');
          await status.filter({ hasText: /warming up; trying again in \d+ s/ }).waitFor({ timeout: 20_000 });
          const button = await page.locator('form.edit-form button[type="submit"]').innerText();
          if (!/Retrying|Waiting for the model/.test(button)) fail(`the run button says "${button}" while the page waits for the model`);
          if (await page.locator('.error-box:not([hidden])').count()) fail('an error box appeared while the model warmed up');
          await standIn({});
          await status.filter({ hasText: /^Done:/ }).waitFor({ timeout: 60_000 });
        } finally {
          await standIn({});
          allowBusyAnswers = false;
        }
      });

      // Model access missing (503 model_unavailable): the person reads a plain sentence that ends
      // with asking the host; the host's instructions wait behind "For the host".
      await step(page, 'model-unavailable-for-host', async () => {
        allowBusyAnswers = true;
        try {
          if (!(await standIn({ fail: 'access_denied' })).ok) fail('could not switch the Bedrock stand-in to "access denied"');
          await page.getByRole('button', { name: 'Inpaint', exact: true }).click();
          const box = page.locator('.error-box:not([hidden])');
          await box.waitFor({ timeout: 30_000 });
          const message = (await box.locator('.error-message').innerText()).trim();
          if (!/ask your host\.$/.test(message)) fail(`the error does not end with asking the host: "${message}"`);
          const host = box.locator('details.for-host');
          if ((await host.count()) !== 1 || (await host.getAttribute('open')) !== null) fail('no closed "For the host" disclosure');
          await host.locator('summary').click();
          const forHost = (await host.innerText()).replace(/^For the host\s*/, '').trim();
          if (!forHost || message.includes(forHost)) fail('the host’s instructions are missing, or repeated in the main message');
          if (await page.locator('p.status-line').filter({ hasText: /^Done:/ }).count()) fail('"Done" is still shown next to the error');
          await box.getByRole('button', { name: 'Dismiss' }).click();
        } finally {
          await standIn({});
          allowBusyAnswers = false;
        }
      });
    }

    await step(page, 'compare-slider', async () => {
      const range = page.getByRole('slider', { name: /compare before and after/ }).first();
      await range.focus();
      await page.keyboard.press('Home');
      const compare = page.locator('.compare').first();
      if ((await compare.getAttribute('data-split')) !== '0') fail('slider Home did not show the whole result');
      await page.keyboard.press('End');
      if ((await compare.getAttribute('data-split')) !== '100') fail('slider End did not show the whole input');
      const box = await compare.boundingBox();
      await page.mouse.click(box.x + box.width * 0.3, box.y + box.height / 2);
      const split = Number(await compare.getAttribute('data-split'));
      if (Math.abs(split - 30) > 3) fail(`clicking at 30 % set the split to ${split}`);
    });

    await step(page, 'download', async () => {
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 15_000 }), page.getByRole('button', { name: 'Download Result 1' }).click()]);
      const file = join(SCREENSHOT_DIR, download.suggestedFilename());
      await download.saveAs(file);
      const head = readFileSync(file).subarray(0, 8).toString('hex');
      if (statSync(file).size < 100 || head !== '89504e470d0a1a0a') fail(`downloaded ${download.suggestedFilename()} is not a PNG (${statSync(file).size} bytes)`);
    });

    // A double-click on the run button is one edit: the button stays where it is, inert while the
    // edit runs, with Cancel beside it (not under the pointer), so the second click cancels nothing.
    let keptId = null;
    await step(page, 'double-click-run', async () => {
      if (config.local && !(await standIn({ latencyMs: 1500 })).ok) fail('could not slow the Bedrock stand-in down');
      try {
        await page.getByLabel(/^Prompt/).fill(`a blue door in a white wall (${keptMarker})`);
        const run = page.locator('form.edit-form button[type="submit"]');
        const at = await run.boundingBox();
        await run.dblclick();
        const cancel = page.locator('form.edit-form button.cancel:not([hidden])');
        await cancel.waitFor({ timeout: 5_000 });
        const c = await cancel.boundingBox();
        const r = await run.boundingBox();
        if (c.x < r.x + r.width && r.x < c.x + c.width && c.y < r.y + r.height && r.y < c.y + c.height) fail('Cancel overlaps the run button');
        if (Math.abs(r.x - at.x) > 1 || Math.abs(r.y - at.y) > 1) fail('the run button moved when the edit started');
        if ((await run.getAttribute('aria-disabled')) !== 'true') fail('the run button is not marked unavailable while the edit runs');
        if (!(await page.getByLabel(/^Prompt/).isDisabled())) fail('the prompt can be changed while the edit runs');
        await page.getByRole('button', { name: 'Inpaint', exact: true }).waitFor({ timeout: MODEL_TIMEOUT });
        await page.locator('p.status-line').filter({ hasText: /^Done:/ }).waitFor({ timeout: 10_000 });
        const said = await page.locator('p.status-line').innerText();
        if (/Cancelled|Stopped/i.test(said)) fail(`the double-click stopped the edit: "${said}"`);
        const images = await page.locator('section.results figure.result').count();
        if (images !== 1) fail(`${images} images shown after a double-click`);
        await page.getByRole('button', { name: 'Refresh' }).click();
        await page.locator('.history-item').filter({ hasText: keptMarker }).first().waitFor({ timeout: 15_000 });
        await page.waitForTimeout(500);
        const made = await page.locator('.history-item').filter({ hasText: keptMarker }).count();
        if (made !== 1) fail(`a double-click made ${made} edits`);
        keptId = await page.locator('.history-item').filter({ hasText: keptMarker }).getAttribute('data-id');
      } finally {
        if (config.local) await standIn({});
      }
    });

    let editId = null;
    await step(page, 'history', async () => {
      const item = page.locator('.history-item').filter({ hasText: marker }).first();
      await item.waitFor({ timeout: 30_000 });
      editId = await item.getAttribute('data-id');
      await item.locator('button.history-card').click();
      const dialog = page.getByRole('dialog');
      await dialog.waitFor({ timeout: 10_000 });
      const text = await dialog.innerText();
      if (!text.includes(marker)) fail('the history entry does not show the prompt');
      if (!/Seeds/.test(text)) fail('the history entry does not show the seed');
      await checkA11y(page, 'history-entry');
    });

    await step(page, 'delete', async () => {
      const dialog = page.getByRole('dialog');
      await dialog.getByRole('button', { name: 'Delete…' }).click();
      await dialog.getByRole('button', { name: 'Delete', exact: true }).click();
      await dialog.waitFor({ state: 'hidden', timeout: 15_000 });
      await page.locator(`.history-item[data-id="${editId}"]`).waitFor({ state: 'detached', timeout: 15_000 });
      // Focus stays in the History (the next card, or the heading), not back at the top of the page.
      const focused = await page.evaluate(() => (document.activeElement?.closest('section.history') ? document.activeElement.className || document.activeElement.id : null));
      if (!focused) fail(`focus was lost after deleting (it is on ${await page.evaluate(() => document.activeElement?.tagName)})`);
      // Still gone after a fresh load from the API.
      await page.getByRole('button', { name: 'Refresh' }).click();
      await page.waitForTimeout(1500);
      if (await page.locator(`.history-item[data-id="${editId}"]`).count()) fail('the deleted edit came back after a refresh');
      await checkA11y(page, 'history');
    });

    // Offline: a failed load shows the error box with its next step, which has to be accessible too.
    await step(page, 'error-state', async () => {
      allowOffline = true;
      try {
        await context.setOffline(true);
        await page.getByRole('button', { name: 'Refresh' }).click();
        const box = page.locator('.error-box:not([hidden])');
        await box.waitFor({ timeout: 15_000 });
        await checkA11y(page, 'error');
        await context.setOffline(false);
        await box.getByRole('button', { name: 'Try again' }).click();
        await box.waitFor({ state: 'hidden', timeout: 15_000 });
      } finally {
        await context.setOffline(false);
        allowOffline = false;
      }
    });

    // Operations that take more than a picture and a prompt, through the real form: a second image
    // (style transfer) and a choice of model (upscale). The result names the model that made it.
    await step(page, 'style-transfer', async () => {
      await page.getByLabel('Operation', { exact: true }).selectOption({ label: 'Style transfer' });
      await page.getByLabel(/^Style image/).setInputFiles(FIXTURE);
      await page.locator('img.style-preview:not([hidden])').waitFor({ timeout: 15_000 });
      await page.getByRole('button', { name: 'Style transfer', exact: true }).click();
      await page.locator('.result-meta').filter({ hasText: 'stable-style-transfer' }).waitFor({ timeout: MODEL_TIMEOUT });
    });

    await step(page, 'upscale', async () => {
      await page.getByLabel('Operation', { exact: true }).selectOption({ label: 'Upscale' });
      await page.getByLabel('Upscaler', { exact: true }).selectOption({ label: 'Conservative' });
      await page.getByLabel(/^Prompt/).fill('a sharper photo');
      await page.getByRole('button', { name: 'Upscale', exact: true }).click();
      const meta = page.locator('.result-meta').filter({ hasText: 'stable-conservative-upscale' });
      await meta.waitFor({ timeout: MODEL_TIMEOUT });
      console.log(`\n    ${await meta.innerText()}`);
    });

    // Nothing a person makes is lost: the picture is in History after a reload, after signing out
    // and in again, and on a second device, and opens full size from there.
    async function openKept(p) {
      const item = p.locator(`.history-item[data-id="${keptId}"]`);
      await item.waitFor({ timeout: 30_000 });
      const text = await item.innerText();
      if (!/Kept until/.test(text)) fail(`the history entry does not say how long its picture is kept: "${text.replace(/\s+/g, ' ')}"`);
      await item.getByRole('button', { name: /^Open/ }).click();
      const img = p.locator('section.results:not([hidden]) figure.result img').first();
      await img.waitFor({ timeout: 15_000 });
      await p.waitForFunction((el) => el.complete && el.naturalWidth > 0, await img.elementHandle(), { timeout: 20_000 });
      return item;
    }

    await step(page, 'kept-after-reload', async () => {
      await page.reload();
      const where = await Promise.race([
        page.getByRole('button', { name: 'Sign out' }).waitFor({ timeout: 30_000 }).then(() => 'app'),
        page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 30_000 }).then(() => 'sign-in'),
      ]);
      if (where === 'sign-in') await signIn(page, DEMO_EMAIL, env.NEW_PASSWORD ?? DEMO_PASSWORD);
      const item = await openKept(page);
      // "Use as input" reads the kept picture (CORS) and loads it as if chosen as a file.
      await item.getByRole('button', { name: /^Use as input/ }).click();
      await page.locator('.picture-info').filter({ hasText: /edit-.*result-1/ }).waitFor({ timeout: 20_000 });
    });

    await step(page, 'kept-after-sign-in-again', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await signIn(page, DEMO_EMAIL, env.NEW_PASSWORD ?? DEMO_PASSWORD);
      await openKept(page);
    });

    const device = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const second = await device.newPage();
    watch(second, 'second device');
    await step(second, 'kept-on-a-second-device', async () => {
      await second.goto(base);
      await signIn(second, DEMO_EMAIL, env.NEW_PASSWORD ?? DEMO_PASSWORD);
      await openKept(second);
    });
    await device.close();

    await step(page, 'sign-out', async () => {
      await page.getByRole('button', { name: 'Sign out' }).click();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
      const left = await page.evaluate(() => Object.keys(localStorage).filter((k) => /\.(idToken|accessToken|refreshToken)$/.test(k)));
      if (left.length) fail(`tokens left in storage after sign-out: ${left.join(', ')}`);
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 15_000 });
    });

    if (env.E2E_PHONE !== '0') {
      const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
      const p = await phone.newPage();
      watch(p, 'phone');
      await step(p, 'phone', async () => {
        await p.goto(base);
        await signIn(p, DEMO_EMAIL, env.NEW_PASSWORD ?? DEMO_PASSWORD);
        await upload(p);
        const box = await p.locator('canvas.mask-layer').boundingBox();
        await p.touchscreen.tap(box.x + box.width / 2, box.y + box.height / 2);
        const painted = await p.locator('canvas.mask-layer').evaluate((c) => {
          const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
          let n = 0;
          for (let i = 3; i < d.length; i += 4) if (d[i] >= 128) n++;
          return n;
        });
        if (painted < 10) fail('a tap did not paint on the mask');
        const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
        if (overflow > 1) fail(`the page is ${overflow}px wider than the phone screen`);
        // Two fingers must reach the browser (pinch-zoom) while one finger paints.
        const touchAction = await p.locator('canvas.mask-layer').evaluate((c) => getComputedStyle(c).touchAction);
        if (!/pinch-zoom|manipulation|auto/.test(touchAction)) fail(`the mask canvas blocks pinch-zoom (touch-action: ${touchAction})`);
        // Typing the prompt: the picture, the prompt and the run button are in view, and the status
        // covers none of them.
        const promptField = p.getByLabel(/^Prompt/);
        await promptField.focus();
        await promptField.fill('a tree in bloom');
        const run = p.locator('form.edit-form button[type="submit"]');
        const inView = async (when) => {
          const vp = p.viewportSize();
          const headerBottom = (await p.locator('header.top').boundingBox())?.height ?? 0;
          const rects = {
            'the run button': await run.boundingBox(),
            'the picture': await p.locator('canvas.picture').boundingBox(),
            'the prompt': await promptField.boundingBox(),
          };
          for (const [what, r] of Object.entries(rects)) {
            if (!r || r.y < headerBottom - 1 || r.y + r.height > vp.height + 1 || r.x < -1 || r.x + r.width > vp.width + 1) {
              fail(`${what} is not in view ${when} (${JSON.stringify(r)}, viewport ${vp.width}×${vp.height})`);
            }
          }
          return rects;
        };
        const rects = await inView('while typing the prompt');
        // The status line as the app fills it (e.g. "Picture ready"): it must sit clear of the controls.
        const hasStatus = await p.evaluate(() => {
          const el = document.querySelector('.status-line');
          if (el) el.textContent = 'A status message long enough to wrap onto a second line on a phone';
          return !!el;
        });
        const status = hasStatus ? await p.locator('.status-line').boundingBox() : null;
        for (const [what, r] of Object.entries(rects)) {
          const overlap = status && r && status.x < r.x + r.width && r.x < status.x + status.width && status.y < r.y + r.height && r.y < status.y + status.height;
          if (overlap) fail(`the status line covers ${what}`);
        }
        await p.screenshot({ path: join(SCREENSHOT_DIR, 'phone.png') });
        // An on-screen keyboard takes about 40 % of the screen; the page asks for the layout to shrink
        // to what is left (interactive-widget=resizes-content), as a smaller viewport does here.
        await p.setViewportSize({ width: 390, height: 480 });
        await promptField.evaluate((el) => el.scrollIntoView({ block: 'nearest' }));
        await inView('with an on-screen keyboard open (390×480 left)');
        await p.screenshot({ path: join(SCREENSHOT_DIR, 'phone-keyboard.png') });
        await p.setViewportSize({ width: 390, height: 844 });
        await checkA11y(p, 'phone');
        // A pinch on the picture (one finger down, then a second, spreading): the browser zooms the
        // page and the mask gets no paint. Chromium's touch input, through the DevTools protocol.
        const paintedNow = () =>
          p.locator('canvas.mask-layer').evaluate((c) => {
            const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
            let n = 0;
            for (let i = 3; i < d.length; i += 4) if (d[i] >= 128) n++;
            return n;
          });
        const beforePinch = await paintedNow();
        const pic = await p.locator('canvas.mask-layer').boundingBox();
        const [cx, cy] = [pic.x + pic.width / 2, pic.y + pic.height / 2];
        const cdp = await phone.newCDPSession(p);
        const touch = (type, points) => cdp.send('Input.dispatchTouchEvent', { type, touchPoints: points.map(([x, y], id) => ({ x, y, id })) });
        await touch('touchStart', [[cx - 30, cy]]);
        await touch('touchMove', [[cx - 36, cy]]);
        await touch('touchStart', [[cx - 36, cy], [cx + 30, cy]]);
        for (let i = 1; i <= 5; i++) await touch('touchMove', [[cx - 36 - i * 10, cy - i * 5], [cx + 30 + i * 10, cy + i * 5]]);
        await touch('touchEnd', []);
        const scale = await p.evaluate(() => visualViewport.scale);
        if (scale < 1.05) fail(`a pinch on the picture did not zoom the page (scale ${scale})`);
        const afterPinch = await paintedNow();
        if (afterPinch > beforePinch) fail(`a pinch painted ${afterPinch - beforePinch} pixels on the mask`);
      });
      await phone.close();
    }

    await step(page, 'expired-session', async () => {
      await signIn(page, DEMO_EMAIL, env.NEW_PASSWORD ?? DEMO_PASSWORD);
      allowFailedLoads = true;
      // Poison the stored session: expired ID/access tokens, a refresh token Cognito will refuse.
      await page.evaluate(() => {
        const b64 = (o) => btoa(JSON.stringify(o)).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
        const expired = (use) => `${b64({ alg: 'RS256', kid: 'x' })}.${b64({ sub: 'x', token_use: use, exp: 1000, iat: 900 })}.c2ln`;
        for (const k of Object.keys(localStorage)) {
          if (k.endsWith('.idToken')) localStorage.setItem(k, expired('id'));
          if (k.endsWith('.accessToken')) localStorage.setItem(k, expired('access'));
          if (k.endsWith('.refreshToken')) localStorage.setItem(k, 'revoked-by-e2e');
        }
      });
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
      // And a session wiped from storage entirely.
      allowFailedLoads = false;
      await signIn(page, DEMO_EMAIL, env.NEW_PASSWORD ?? DEMO_PASSWORD);
      await page.evaluate(() => localStorage.clear());
      await page.reload();
      await page.getByRole('heading', { name: 'Sign in' }).waitFor({ timeout: 20_000 });
    });
  } finally {
    await browser.close();
  }
  console.log(`\nAll steps passed. Screenshots in ${SCREENSHOT_DIR}`);
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  runE2E().catch((err) => {
    console.error(`\nE2E FAILED: ${err instanceof StepFailure ? err.message : err?.stack ?? err}`);
    process.exit(1);
  });
}

// Runs the e2e walk against the mock backend (e2e/mock-backend.mjs) and the built dist/:
//   npm run build && npm run e2e:mock
// The real target is the local cloud: npm run e2e with APP_URL etc. (see app.e2e.mjs).
import { startMock } from './mock-backend.mjs';

const mock = await startMock({ delayMs: 400 });
process.env.APP_URL = mock.appUrl;
process.env.DEMO_EMAIL = mock.email;
process.env.DEMO_PASSWORD = mock.password;
process.env.SCREENSHOT_DIR ??= 'e2e-out/mock';
// The mock accepts code 123456 for every sign-up: exercise the optional sign-up hook too.
process.env.CONFIRM_CODE_CMD ??= 'echo 123456';
const { runE2E } = await import('./app.e2e.mjs');
let code = 0;
try {
  await runE2E();
} catch (err) {
  console.error(`\nE2E FAILED: ${err?.message ?? err}`);
  code = 1;
} finally {
  await mock.close();
}
process.exit(code);

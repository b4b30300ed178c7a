// Accessibility check for the e2e walk: axe-core (a pinned dev dependency) is injected into the page
// and run against WCAG 2.0 / 2.1 levels A and AA, in the light and the dark colour scheme (the app
// follows `prefers-color-scheme`, so contrast has to hold in both).
//
//   await checkA11y(page, 'sign-in');
//
// Any serious or critical violation fails the step, naming the rule, its impact and the offending
// elements. Every screen's counts go into SCREENSHOT_DIR/axe.json (rewritten after each check), so a
// run leaves a record of what was checked even when it passes. AXE_FAIL=0 records without failing
// (for a survey of a page that is not clean yet).

import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const require = createRequire(import.meta.url);
const AXE_PATH = require.resolve('axe-core/axe.min.js');
const TAGS = ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'];
const BLOCKING = new Set(['serious', 'critical']);

/** screen → scheme → counts; module-wide so one walk (desktop and phone contexts) makes one file. */
const summary = {};

function outDir() {
  return process.env.SCREENSHOT_DIR ?? 'e2e-out';
}

function count(violations) {
  const byImpact = { critical: 0, serious: 0, moderate: 0, minor: 0 };
  let nodes = 0;
  for (const v of violations) {
    byImpact[v.impact ?? 'minor'] += v.nodes.length;
    nodes += v.nodes.length;
  }
  return {
    rules: violations.length,
    nodes,
    ...byImpact,
    violations: violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.length, targets: v.nodes.slice(0, 5).map((n) => n.target) })),
  };
}

async function runAxe(page) {
  // A reload or a new page drops the injected script; inject only when it is missing.
  if (!(await page.evaluate(() => typeof window.axe === 'object'))) await page.addScriptTag({ path: AXE_PATH });
  return page.evaluate(
    async (tags) => {
      const r = await window.axe.run(document, { runOnly: { type: 'tag', values: tags }, resultTypes: ['violations'] });
      // Only what is needed crosses back: the rule, its impact and where it fails.
      return r.violations.map((v) => ({
        id: v.id,
        impact: v.impact,
        help: v.help,
        nodes: v.nodes.map((n) => ({ target: n.target.map(String).join(' '), summary: n.failureSummary ?? '' })),
      }));
    },
    TAGS,
  );
}

/**
 * Runs axe on what `page` shows now, in both colour schemes, records the counts under `screenName`
 * and throws on any serious or critical violation.
 */
export async function checkA11y(page, screenName) {
  const wasDark = await page.evaluate(() => matchMedia('(prefers-color-scheme: dark)').matches);
  const results = {};
  try {
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      results[scheme] = await runAxe(page);
    }
  } finally {
    await page.emulateMedia({ colorScheme: wasDark ? 'dark' : 'light' });
  }
  summary[screenName] = Object.fromEntries(Object.entries(results).map(([s, v]) => [s, count(v)]));
  mkdirSync(outDir(), { recursive: true });
  writeFileSync(join(outDir(), 'axe.json'), `${JSON.stringify(summary, null, 2)}\n`);

  const blocking = Object.entries(results).flatMap(([scheme, vs]) => vs.filter((v) => BLOCKING.has(v.impact)).map((v) => ({ scheme, ...v })));
  if (!blocking.length || process.env.AXE_FAIL === '0') return summary[screenName];
  const lines = blocking.map(
    (v) => `${v.id} (${v.impact}, ${v.scheme}): ${v.help}\n      ${v.nodes.map((n) => n.target).join('\n      ')}`,
  );
  throw new Error(`axe: ${blocking.length} serious/critical rule(s) fail on "${screenName}":\n    ${lines.join('\n    ')}`);
}

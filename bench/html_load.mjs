// Opens a promptdrift HTML report in Debian's headless Chromium (through tests/browser's
// playwright-core) and prints, as JSON: the file's size, the time to the page's `load` event,
// to its summary (#summary) and to the first case row drawn, and the page's JS heap.
// bench/README.md, "HTML report of a large run". Usage:
//   node bench/html_load.mjs /abs/report.html [timeout_s]
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(join(here, '..', 'tests', 'browser', 'package.json'));
const { chromium } = require('playwright-core');

const report = process.argv[2];
const timeout = Number(process.argv[3] ?? 300) * 1000;
const out = { report, bytes: statSync(report).size, timeout_s: timeout / 1000 };
const profile = mkdtempSync(join(tmpdir(), 'promptdrift-bench-chromium-'));
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium', headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
      '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1400, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  const errors = [];
  page.on('pageerror', (e) => errors.push(String(e)));
  const t0 = Date.now();
  await page.goto(pathToFileURL(report).href, { waitUntil: 'load', timeout });
  out.load_ms = Date.now() - t0;
  await page.waitForSelector('#summary', { timeout });
  out.summary_ms = Date.now() - t0;
  await page.waitForSelector('tr.row, tbody tr', { timeout });
  out.first_row_ms = Date.now() - t0;
  out.rows_in_dom = await page.evaluate(() => document.querySelectorAll('tr').length);
  const cdp = await context.newCDPSession(page);
  const heap = await cdp.send('Runtime.getHeapUsage');
  out.js_heap_mb = Math.round(heap.usedSize / 1048576);
  out.page_errors = errors;
} catch (e) {
  out.fatal = String(e).split('\n')[0];
} finally {
  if (context) await context.close();
  rmSync(profile, { recursive: true, force: true });
}
console.log(JSON.stringify(out));
process.exit(out.fatal ? 1 : 0);

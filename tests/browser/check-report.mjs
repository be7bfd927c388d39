// Opens a promptdrift HTML report in Debian's headless Chromium (never a downloaded browser)
// and prints what a person would see, as JSON on stdout, for tests/cli/html.rs to check.
//
//   node check-report.mjs '{"report": "/abs/report.html", "screenshot": "/abs/report.png", ...}'
//
// Plan keys: report (required), screenshot (fullPage: false for the viewport only), detailScreenshot (of the first case opened),
// openCase (case ids to click, one after the other), search (text typed into the search box),
// tag (a tag to select), chromium (default /usr/bin/chromium).
// A comparison report (compare, diff) takes kind: "comparison", classFilters (class buttons to
// click, each from "all"), narrowWidth (a second, narrow window width to check), search, and
// openCase (case names as the table shows them).
// Nothing here decides pass or fail: the Rust test does, against the results file.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium } from 'playwright-core';

const plan = JSON.parse(process.argv[2] ?? '{}');
if (!plan.report) {
  console.error('usage: node check-report.mjs \'{"report": "/abs/path/report.html"}\'');
  process.exit(2);
}

// Flags known to work on this project's machines: no sandbox (root), and nothing that reaches
// out to Google's services from a closed network.
const FLAGS = [
  '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

const profile = mkdtempSync(join(tmpdir(), 'promptdrift-chromium-'));
const watchdog = setTimeout(() => {
  console.error('check-report: timed out after 90 s');
  process.exit(3);
}, 90_000);

const obs = { console: [], pageErrors: [], requests: [], dialogs: [] };
let context;
try {
  context = await chromium.launchPersistentContext(profile, {
    executablePath: plan.chromium ?? '/usr/bin/chromium',
    headless: true,
    args: FLAGS,
    viewport: { width: 1400, height: 900 },
    colorScheme: 'light',
  });
  const page = context.pages()[0] ?? (await context.newPage());
  page.on('console', (m) => obs.console.push({ type: m.type(), text: m.text() }));
  page.on('pageerror', (e) => obs.pageErrors.push(String(e)));
  page.on('request', (r) => obs.requests.push(r.url()));
  page.on('dialog', async (d) => {
    obs.dialogs.push(`${d.type()}: ${d.message()}`);
    await d.dismiss();
  });

  const url = pathToFileURL(plan.report).href;
  obs.url = url;
  const t0 = Date.now();
  await page.goto(url, { waitUntil: 'load' });
  await page.waitForSelector('#summary', { timeout: 30_000 });
  obs.loadMs = Date.now() - t0;

  if (plan.kind === 'comparison') {
    // The comparison view (compare, diff): verdict, gates, class counts, the case table.
    const view = () => page.evaluate(() => {
      const text = (sel) => document.querySelector(sel)?.textContent ?? null;
      return {
        title: document.title,
        status: document.querySelector('#verdict')?.dataset.status ?? null,
        verdict: document.querySelector('#verdict')?.dataset.verdict ?? null,
        headline: text('#verdict'),
        evidence: text('#evidence'),
        counts: Object.fromEntries([...document.querySelectorAll('[data-count]')].map((e) => [e.dataset.count, e.textContent])),
        gates: [...document.querySelectorAll('#gates tbody tr')].map((tr) => [tr.dataset.gate, tr.dataset.status]),
        sides: [...document.querySelectorAll('#sides tbody tr')].map((tr) => tr.querySelector('strong')?.textContent),
        filters: [...document.querySelectorAll('[data-class]')].filter((e) => e.tagName === 'BUTTON').map((b) => b.dataset.class),
        shown: Number(document.querySelector('#shown')?.dataset.shown ?? -1),
        rows: [...document.querySelectorAll('#grid tbody tr.row')].map((tr) => ({
          name: tr.querySelector('.id')?.textContent,
          class: tr.dataset.class,
          reason: tr.querySelector('td.reason')?.textContent,
        })),
        page: text('#page'),
        // Wider than the window: something does not wrap.
        overflowX: document.documentElement.scrollWidth > window.innerWidth,
      };
    });
    obs.initial = await view();
    if (plan.screenshot) await page.screenshot({ path: plan.screenshot, fullPage: plan.fullPage ?? true });
    obs.filtered = {};
    for (const cls of plan.classFilters ?? []) {
      await page.click(`button[data-class="${cls}"]`);
      obs.filtered[cls] = await view();
    }
    if ((plan.classFilters ?? []).length) await page.click('button[data-class="all"]');
    if (plan.narrowWidth) {
      // A narrow window (a laptop split screen): the page still fits its width.
      await page.setViewportSize({ width: plan.narrowWidth, height: 900 });
      obs.narrow = await view();
      await page.setViewportSize({ width: 1400, height: 900 });
    }
    if (plan.search) {
      await page.fill('#f-search', plan.search);
      await page.waitForTimeout(400);
      obs.searched = await view();
      await page.fill('#f-search', '');
      await page.waitForTimeout(400);
    }
    const open = Array.isArray(plan.openCase) ? plan.openCase : plan.openCase ? [plan.openCase] : [];
    obs.details = {};
    for (const [n, name] of open.entries()) {
      const row = page.locator('#grid tr.row', { has: page.locator('.id', { hasText: name }) }).first();
      await row.click();
      await page.waitForSelector('#detail');
      obs.details[name] = await page.evaluate(() => {
        const d = document.querySelector('#detail');
        const strip = (pre, tag) => {
          if (!pre) return null;
          const c = pre.cloneNode(true);
          c.querySelectorAll(tag).forEach((e) => e.remove());
          return c.textContent;
        };
        const side = (role) => {
          const s = d.querySelector(`.side[data-side="${role}"]`);
          const pre = s?.querySelector('pre.output');
          return s ? {
            title: s.querySelector('h3')?.textContent,
            // This side's own answer (each pane marks only its own words: the baseline's
            // removed ones as <del>, the candidate's added ones as <ins>) ...
            text: pre?.textContent ?? null,
            // ... and, without them, the words both sides share.
            common: role === 'baseline' ? strip(pre, 'del') : strip(pre, 'ins'),
            del: [...(pre?.querySelectorAll('del') ?? [])].map((e) => e.textContent),
            ins: [...(pre?.querySelectorAll('ins') ?? [])].map((e) => e.textContent),
            error: s.querySelector('.errbox')?.textContent ?? null,
          } : null;
        };
        return {
          id: d.querySelector('h2')?.textContent,
          head: d.querySelector('.head')?.textContent,
          class: d.dataset.class,
          reasons: [...d.querySelectorAll('#reasons li')].map((li) => li.textContent),
          baseline: side('baseline'),
          candidate: side('candidate'),
          assertions: [...d.querySelectorAll('#assertion-deltas tbody tr')].map((tr) => ({
            change: tr.dataset.change,
            cells: [...tr.children].map((td) => td.textContent),
          })),
        };
      });
      if (plan.detailScreenshot && n === 0) await page.screenshot({ path: plan.detailScreenshot });
      await page.keyboard.press('Escape');
      obs.details[name].closed = (await page.$('#detail')) === null;
    }
  } else {
    // What the page says at first sight.
    const snapshot = () => page.evaluate(() => {
      const text = (sel) => document.querySelector(sel)?.textContent ?? null;
      const rows = [...document.querySelectorAll('#grid tbody tr.row')].map((tr) => ({
        id: tr.querySelector('.id')?.textContent,
        cells: [...tr.querySelectorAll('td.cell')].map((td) => td.dataset.status),
      }));
      return {
        title: document.title,
        verdict: document.querySelector('#verdict')?.dataset.status ?? null,
        headline: text('#verdict'),
        counts: Object.fromEntries([...document.querySelectorAll('[data-count]')].map((e) => [e.dataset.count, e.textContent])),
        columns: [...document.querySelectorAll('#grid thead th[data-col]')].map((th) => th.firstChild?.textContent ?? ''),
        shown: Number(document.querySelector('#shown')?.dataset.shown ?? -1),
        rows,
        page: text('#page'),
        metrics: [...document.querySelectorAll('#metrics tbody tr')].map((tr) => [...tr.children].map((td) => td.textContent)),
        domRows: document.querySelectorAll('tr.row').length,
      };
    });
    obs.initial = await snapshot();
    if (plan.screenshot) await page.screenshot({ path: plan.screenshot, fullPage: plan.fullPage ?? true });

    // Filters: each from a fresh state, by clicking as a person would.
    const reset = async () => {
      await page.click('[data-filter="all"]');
      if (await page.isChecked('#f-changed')) await page.click('#f-changed');
      await page.selectOption('#f-tag', '');
      await page.selectOption('#f-provider', '-1');
      await page.fill('#f-search', '');
      await page.waitForTimeout(200);
    };
    await page.click('[data-filter="failed"]');
    obs.failedOnly = await snapshot();
    await page.click('[data-filter="errors"]');
    obs.errorsOnly = await snapshot();
    await reset();
    await page.click('#f-changed');
    obs.changedOnly = await snapshot();
    await reset();
    if (plan.search) {
      await page.fill('#f-search', plan.search);
      await page.waitForTimeout(400);
      obs.searched = await snapshot();
      await reset();
    }
    if (plan.tag) {
      await page.selectOption('#f-tag', plan.tag);
      obs.tagged = await snapshot();
      await reset();
    }
    if (await page.$('#next')) {
      await page.click('#next');
      obs.secondPage = await snapshot();
      await reset();
    }

    // Cases, side by side: each opened by clicking its row, then closed with Escape.
    const open = Array.isArray(plan.openCase) ? plan.openCase : plan.openCase ? [plan.openCase] : [];
    obs.details = {};
    for (const [n, id] of open.entries()) {
      await page.fill('#f-search', id);
      await page.waitForTimeout(300);
      const row = page.locator('#grid tr.row', { has: page.locator('.id', { hasText: id }) }).first();
      await row.click();
      await page.waitForSelector('#detail');
      obs.details[id] = await page.evaluate(() => {
        const d = document.querySelector('#detail');
        const strip = (pre, tag) => {
          if (!pre) return null;
          const c = pre.cloneNode(true);
          c.querySelectorAll(tag).forEach((e) => e.remove());
          return c.textContent;
        };
        return {
          id: d.querySelector('h2')?.textContent,
          head: d.querySelector('.head')?.textContent,
          sides: [...d.querySelectorAll('.side')].map((s) => {
            const pre = s.querySelector('pre.output');
            return {
              provider: s.querySelector('h3')?.textContent,
              status: s.dataset.status ?? null,
              // Removing <del> gives this side's own text; removing <ins> gives the reference's.
              own: strip(pre, 'del'),
              reference: strip(pre, 'ins'),
              ins: pre ? [...pre.querySelectorAll('ins')].map((e) => e.textContent) : [],
              del: pre ? [...pre.querySelectorAll('del')].map((e) => e.textContent) : [],
              note: s.querySelector('.note')?.textContent ?? null,
              metrics: Object.fromEntries([...s.querySelectorAll('.metrics dt')].map((dt) => [dt.textContent, dt.nextElementSibling?.textContent])),
              assertions: [...s.querySelectorAll('.asserts li')].map((li) => ({
                type: li.querySelector('.atype')?.textContent,
                pass: li.dataset.pass === 'true',
                reason: li.querySelector('.reason')?.textContent,
              })),
              error: s.querySelector('.errbox')?.textContent ?? null,
            };
          }),
        };
      });
      if (plan.detailScreenshot && n === 0) await page.screenshot({ path: plan.detailScreenshot });
      await page.keyboard.press('Escape');
      obs.details[id].closed = (await page.$('#detail')) === null;
      await reset();
    }

  }

  // Injection checks: nothing from the data became markup or ran.
  obs.dom = await page.evaluate(() => ({
    scripts: document.querySelectorAll('script').length,
    images: document.querySelectorAll('img').length,
    iframes: document.querySelectorAll('iframe').length,
    handlers: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length,
    xssFlag: window.__xss ?? null,
  }));
  obs.diffCheck = await page.evaluate(() => window.promptdriftDiff('the cat sat on the mat', 'the dog sat on a mat'));
} catch (e) {
  obs.fatal = String(e?.stack ?? e);
} finally {
  if (context) await context.close().catch(() => {});
  rmSync(profile, { recursive: true, force: true });
  clearTimeout(watchdog);
}
process.stdout.write(JSON.stringify(obs, null, 1) + '\n');
process.exit(obs.fatal ? 1 : 0);

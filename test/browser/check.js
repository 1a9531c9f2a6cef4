// test/browser/check.js: the browser checks of test/suites/browser.sh, run against the example web
// app (examples/webapp) serving the Go blog archive, in Debian's headless Chromium driven by
// playwright-core.
//
//   node check.js <base url> <screenshot folder>
//
// Prints one line per check, "ok     <name>" or "FAILED <name>: <why>", and the screenshots' paths;
// exits 0 when every check passed. The checks:
//   index            GET / shows the h1 "Topics" and a table of topic links to /topics/<slug>
//   topic_page       following the index's first topic link opens that topic: its h1 is the name
//                    the index shows
//   chart            the page has the SVG chart: role="img", a <title> and an aria-label "Posts per
//                    year, FIRST to LAST" whose years are those of the definition's span, at least
//                    one bar and at most one per year, drawn at least 300 px wide and 100 px high
//   references       an h2 "References" followed by a list of as many items as the topic has posts
//                    (post_count of its JSON record)
//   screenshot       a full-page screenshot of the topic page, <slug>.png (and index.png of the index)
//   adjacent_link    following an adjacent-thread link (/topics/<slug> inside the page) opens
//                    another topic page, with its h1 and its chart
//   no_overflow      at a phone's width (390 px) the page has no horizontal scroll (screenshot
//                    <slug>-phone.png)
//   json_record      GET /topics/<slug>.json is the page record (topic, name, post_count)
//   etag_304         the record and the page have ETags; If-None-Match with them gets 304 and no body
//   unknown_404      an unknown topic gets 404, as a page and as a record
//   no_console_error no console error or uncaught page error on any page opened
//   no_failed_request no request failed and none got a status of 400 or more
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { chromium } = require('playwright-core');

const [base, shots] = process.argv.slice(2);
if (!base || !shots) {
  console.error('usage: node check.js <base url> <screenshot folder>');
  process.exit(2);
}

let failed = 0;
function ok(name) {
  console.log(`ok     ${name}`);
}
function fail(name, why) {
  failed++;
  console.log(`FAILED ${name}: ${why}`);
}
// Runs one check: its function returns nothing when it passes, or the reason it failed.
async function check(name, fn) {
  try {
    const why = await fn();
    if (why) fail(name, why); else ok(name);
  } catch (err) {
    fail(name, String(err && err.message ? err.message : err).split('\n')[0]);
  }
}

async function main() {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), 'archive-chromium-'));
  const consoleErrors = [];
  const failedRequests = [];
  let context;
  try {
    context = await chromium.launchPersistentContext(profile, {
      executablePath: '/usr/bin/chromium',
      headless: true,
      chromiumSandbox: false,
      viewport: { width: 1280, height: 900 },
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync',
        '--disable-dev-shm-usage'],
      timeout: 30000,
    });
    context.setDefaultTimeout(10000);
    const page = context.pages()[0] || await context.newPage();
    page.on('console', (msg) => {
      if (msg.type() === 'error') consoleErrors.push(`${page.url()}: ${msg.text()}`);
    });
    page.on('pageerror', (err) => consoleErrors.push(`${page.url()}: ${err.message}`));
    page.on('requestfailed', (req) => failedRequests.push(`${req.url()}: ${req.failure()?.errorText}`));
    page.on('response', (res) => {
      if (res.status() >= 400) failedRequests.push(`${res.url()}: HTTP ${res.status()}`);
    });

    // The topic pages opened: the first from the index, then the one an adjacent link leads to.
    let first = null;   // { slug, name }
    let second = null;

    await check('index', async () => {
      const res = await page.goto(`${base}/`);
      if (res.status() !== 200) return `GET / gave HTTP ${res.status()}`;
      const h1 = (await page.locator('h1').textContent()).trim();
      if (h1 !== 'Topics') return `the h1 is "${h1}"`;
      const links = page.locator('table a[href^="/topics/"]');
      const n = await links.count();
      if (n < 10) return `only ${n} topic links`;
      await page.screenshot({ path: path.join(shots, 'index.png'), fullPage: true });
      return undefined;
    });

    await check('topic_page', async () => {
      const link = page.locator('table a[href^="/topics/"]').first();
      const name = (await link.textContent()).trim();
      const href = await link.getAttribute('href');
      await Promise.all([page.waitForURL(`**${href}`), link.click()]);
      await page.waitForLoadState('load');
      first = { slug: href.replace('/topics/', ''), name };
      const h1 = (await page.locator('main h1').textContent()).trim();
      if (h1 !== name) return `the h1 is "${h1}", the index says "${name}"`;
      return undefined;
    });

    // The chart of the page shown now; returns why it is wrong, or nothing.
    async function chartProblem() {
      const svg = page.locator('main figure svg[role="img"]');
      if (await svg.count() !== 1) return `${await svg.count()} charts with role="img"`;
      const label = await svg.getAttribute('aria-label');
      const m = /^Posts per year, (\d{4})(?: to (\d{4}))?$/.exec(label || '');
      if (!m) return `aria-label "${label}"`;
      const title = (await svg.locator('title').first().textContent()).trim();
      if (title !== label) return `<title> "${title}" is not the aria-label "${label}"`;
      // The definition's span ("from Apr 2010 to Jan 2026", "published in Feb 2017", "all from
      // May 2022") has the same years.
      const definition = await page.locator('main h1 + p').textContent();
      const span = / from [A-Z][a-z]{2} (\d{4}) to [A-Z][a-z]{2} (\d{4})/.exec(definition)
        || / (?:published in|from) [A-Z][a-z]{2} (\d{4})/.exec(definition);
      if (!span) return `no span in the definition "${definition.slice(0, 120)}"`;
      const want = [span[1], span[2] || span[1]];
      const got = [m[1], m[2] || m[1]];
      if (want[0] !== got[0] || want[1] !== got[1]) {
        return `the chart covers ${got.join('-')}, the definition ${want.join('-')}`;
      }
      const bars = await svg.locator('rect').count();
      if (bars < 1 || bars > Number(got[1]) - Number(got[0]) + 1) return `${bars} bars for ${got.join('-')}`;
      const box = await svg.boundingBox();
      if (!box || box.width < 300 || box.height < 100) return `drawn ${box ? `${box.width}x${box.height}` : 'nowhere'}`;
      return undefined;
    }

    await check('chart', chartProblem);

    let record = null;
    await check('json_record', async () => {
      const res = await context.request.get(`${base}/topics/${first.slug}.json`);
      if (res.status() !== 200) return `HTTP ${res.status()}`;
      if (!/^application\/json/.test(res.headers()['content-type'] || '')) return `content-type ${res.headers()['content-type']}`;
      record = await res.json();
      if (record.topic !== first.slug || record.name !== first.name || !(record.post_count > 0)) {
        return `record ${JSON.stringify({ topic: record.topic, name: record.name, post_count: record.post_count })}`;
      }
      return undefined;
    });

    await check('references', async () => {
      const heading = page.locator('main h2', { hasText: /^References$/ });
      if (await heading.count() !== 1) return 'no h2 "References"';
      const items = page.locator('main h2:text-is("References") + ul > li');
      const n = await items.count();
      if (!record) return 'no record to compare with';
      if (n !== Number(record.post_count)) return `${n} references, ${record.post_count} posts`;
      if (await items.first().locator('a[href]').count() < 1) return 'the first reference has no link';
      return undefined;
    });

    await check('screenshot', async () => {
      const file = path.join(shots, `${first.slug}.png`);
      await page.screenshot({ path: file, fullPage: true });
      console.log(`screenshot: ${file}`);
      return undefined;
    });

    await check('adjacent_link', async () => {
      // A topic link inside the page's prose: an adjacent thread.
      const link = page.locator('main p a[href^="/topics/"], main li a[href^="/topics/"]').first();
      if (await link.count() === 0) return 'no adjacent-thread link on the page';
      const href = await link.getAttribute('href');
      const text = (await link.textContent()).trim();
      await Promise.all([page.waitForURL(`**${href}`), link.click()]);
      await page.waitForLoadState('load');
      second = { slug: href.replace('/topics/', '') };
      if (second.slug === first.slug) return `the link leads back to ${href}`;
      const h1 = (await page.locator('main h1').textContent()).trim();
      if (!h1) return `${href} has no h1`;
      if (h1.toLowerCase() !== text.toLowerCase()) return `the link says "${text}", the page's h1 is "${h1}"`;
      const chart = await chartProblem();
      if (chart) return `${href}: ${chart}`;
      return undefined;
    });

    await check('no_overflow', async () => {
      await page.setViewportSize({ width: 390, height: 844 });
      const widths = await page.evaluate(() => [document.documentElement.scrollWidth, window.innerWidth]);
      await page.screenshot({ path: path.join(shots, `${second ? second.slug : 'page'}-phone.png`) });
      await page.setViewportSize({ width: 1280, height: 900 });
      if (widths[0] > widths[1]) return `the page is ${widths[0]} px wide in a ${widths[1]} px window`;
      return undefined;
    });

    await check('etag_304', async () => {
      for (const url of [`${base}/topics/${first.slug}.json`, `${base}/topics/${first.slug}`]) {
        const res = await context.request.get(url);
        const etag = res.headers().etag;
        if (res.status() !== 200 || !etag) return `${url}: HTTP ${res.status()}, ETag ${etag}`;
        const again = await context.request.get(url, { headers: { 'If-None-Match': etag } });
        const body = await again.body();
        if (again.status() !== 304) return `${url} with If-None-Match ${etag}: HTTP ${again.status()}`;
        if (body.length !== 0) return `${url}: 304 with a body of ${body.length} bytes`;
        if (again.headers().etag !== etag) return `${url}: 304 with ETag ${again.headers().etag}`;
        const other = await context.request.get(url, { headers: { 'If-None-Match': '"not-this-one"' } });
        if (other.status() !== 200) return `${url} with another ETag: HTTP ${other.status()}`;
      }
      return undefined;
    });

    await check('unknown_404', async () => {
      for (const url of [`${base}/topics/no-such-topic-here`, `${base}/topics/no-such-topic-here.json`]) {
        const res = await context.request.get(url);
        if (res.status() !== 404) return `${url}: HTTP ${res.status()}`;
      }
      return undefined;
    });

    await check('no_console_error', async () =>
      (consoleErrors.length ? `${consoleErrors.length}: ${consoleErrors.slice(0, 3).join(' | ')}` : undefined));
    await check('no_failed_request', async () =>
      (failedRequests.length ? `${failedRequests.length}: ${failedRequests.slice(0, 3).join(' | ')}` : undefined));
  } finally {
    if (context) await context.close().catch(() => {});
    fs.rmSync(profile, { recursive: true, force: true });
  }
}

main().then(() => process.exit(failed > 0 ? 1 : 0), (err) => {
  console.log(`FAILED browser: ${String(err && err.message ? err.message : err).split('\n')[0]}`);
  process.exit(1);
});

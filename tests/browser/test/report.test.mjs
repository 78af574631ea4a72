// sseload's HTML report (tools/sseload/report_html.cc) opened from a file:// URL in
// headless Chromium: the page renders without errors and without loading anything,
// draws six charts, compares two runs, and shows "—" for what a sparse result lacks.
//
// Needs no server: REPORT_SAMPLE names the report_html_sample program
// (tests/tools/report_html_sample.cc), which writes the pages. CTest's
// report_browser sets it; without it (e.g. under run.sh for demo_browser) these
// tests are skipped.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { pathToFileURL } from 'node:url';

const SAMPLE = process.env.REPORT_SAMPLE;
const SKIP = SAMPLE ? false : 'REPORT_SAMPLE is not set (ctest -R report_browser sets it)';
const ARTIFACTS = process.env.BROWSER_ARTIFACTS || '/tmp/browser-artifacts';
const TEST_TIMEOUT = 45_000;
const WAIT_MS = 10_000;
const DASH = '\u2014';
// report_html_sample puts this into an option of both runs of the two-run page.
const HOSTILE_NOTE = '</script><script>window.__pwned = 1</script><!-- x';
const CHARTS = ['latency', 'deliveries', 'connections', 'rss', 'cpu', 'cdf'];

let browser;
let dir;
const pages = {};

before(async () => {
    if (SKIP) return;
    // Imported here so that a skipped run needs no node_modules.
    const { chromium } = await import('playwright-core');
    dir = mkdtempSync(join(tmpdir(), 'sseload-report-'));
    for (const name of ['two', 'sparse', 'three']) pages[name] = join(dir, `${name}.html`);
    execFileSync(SAMPLE, [pages.two, pages.sparse, pages.three], { stdio: 'inherit' });
    // The same browser settings as lib/harness.mjs (which needs a running server).
    browser = await chromium.launch({
        executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
        headless: true,
        args: [
            '--no-sandbox',
            '--disable-gpu',
            '--disable-quic',
            '--no-first-run',
            '--disable-background-networking',
            '--disable-component-update',
            '--disable-sync',
        ],
        timeout: 30_000,
    });
});
after(async () => {
    await browser?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
});

function artifact(file) {
    mkdirSync(ARTIFACTS, { recursive: true });
    return join(ARTIFACTS, file);
}

// Opens a report and waits until its script has run. Records console errors, page
// errors, dialogs and every request other than the page itself.
async function withReport(file, name, fn) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    const page = await context.newPage();
    page.setDefaultTimeout(WAIT_MS);
    const problems = [];
    const url = pathToFileURL(file).href;
    page.on('console', (m) => {
        if (m.type() === 'error') problems.push(`console error: ${m.text()}`);
    });
    page.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
    page.on('dialog', (d) => {
        problems.push(`dialog: ${d.message()}`);
        d.dismiss().catch(() => {});
    });
    page.on('request', (r) => {
        if (r.url() !== url) problems.push(`request: ${r.url()}`);
    });
    try {
        await page.goto(url);
        await page.waitForSelector('body[data-state=rendered]');
        await fn(page);
        assert.deepEqual(problems, []);
    } catch (e) {
        await page.screenshot({ path: artifact(`failed-report-${name}.png`), fullPage: true }).catch(() => {});
        if (problems.length) e.message += `\n(also: ${problems.join('; ')})`;
        throw e;
    } finally {
        await context.close().catch(() => {});
    }
}

// For each chart: whether it is empty, its paths/polylines, legend entries, points.
function charts(page) {
    return page.$$eval('svg.chart', (svgs) =>
        svgs.map((svg) => ({
            id: svg.id,
            empty: svg.getAttribute('data-empty'),
            lines: svg.querySelectorAll('path, polyline').length,
            legend: Array.from(svg.querySelectorAll('.legend text'), (t) => t.textContent),
            titles: svg.querySelectorAll('circle > title').length,
            noData: Array.from(svg.querySelectorAll('text')).some((t) => t.textContent === 'no data'),
            yLabels: Array.from(svg.querySelectorAll('.axis text[text-anchor=end]'), (t) => t.textContent),
        })),
    );
}

function summary(page) {
    return page.$eval('table[data-testid=summary]', (t) => ({
        head: Array.from(t.querySelectorAll('thead th'), (th) => th.textContent),
        ratio: t.querySelectorAll('thead th[data-testid=ratio]').length,
        rows: Object.fromEntries(
            Array.from(t.querySelectorAll('tbody tr[data-metric]'), (tr) => [
                tr.dataset.metric,
                Array.from(tr.querySelectorAll('td.num'), (td) => td.textContent),
            ]),
        ),
        alignedRight: Array.from(t.querySelectorAll('td.num')).every(
            (td) => getComputedStyle(td).textAlign === 'right',
        ),
    }));
}

test('two runs: six charts, both labels, a ratio column, verdicts', { timeout: TEST_TIMEOUT, skip: SKIP }, () =>
    withReport(pages.two, 'two', async (page) => {
        assert.equal(
            await page.title(),
            'sseload broadcast: ssepushd vs nchan <10k connections & 100 msg/s>',
        );
        assert.equal(await page.textContent('h1'), await page.title());
        assert.equal(await page.getAttribute('body', 'data-runs'), '2');

        // The embedded documents round-trip through JSON.parse, and the "</script>" in
        // an option stayed data: shown as text, never run.
        const parsed = await page.evaluate(() =>
            ['run-1', 'run-2'].map((id) => JSON.parse(document.getElementById(id).textContent)),
        );
        assert.deepEqual(parsed.map((r) => r.label), ['ssepushd', 'nchan']);
        assert.equal(parsed[0].options.note, HOSTILE_NOTE);
        assert.equal(parsed[0].timeline.length, 60);
        assert.equal(await page.evaluate(() => window.__pwned), undefined);
        assert.equal(await page.locator('script').count(), 3);

        // The header: one line per run.
        const runs = await page.locator('[data-testid=run]').allTextContents();
        assert.equal(runs.length, 2);
        assert.match(runs[0], /^ssepushd.*scenario broadcast.*http:\/\/127\.0\.0\.1:8080.*bench-01.*60\.0 s/);
        assert.match(runs[1], /^nchan/);

        // Verdicts: ssepushd passes, nchan fails (lost frames, p99).
        const verdicts = await page.$$eval('[data-testid=verdict]', (els) =>
            els.map((e) => ({
                pass: e.dataset.pass,
                checks: Array.from(e.querySelectorAll('li'), (li) => li.dataset.pass),
            })),
        );
        assert.deepEqual(verdicts, [
            { pass: 'pass', checks: ['pass', 'pass', 'pass'] },
            { pass: 'fail', checks: ['pass', 'fail', 'fail'] },
        ]);

        // The summary: a column per run and the ratio column, numbers with thousands
        // separators, right-aligned.
        const sum = await summary(page);
        assert.deepEqual(sum.head, ['metric', 'unit', 'ssepushd', 'nchan', 'ssepushd / nchan']);
        assert.equal(sum.ratio, 1);
        assert.deepEqual(sum.rows['connections.target'], ['10,000', '10,000', '1.00\u00d7']);
        assert.deepEqual(sum.rows['messages.lost'], ['0', '12', '0.00\u00d7']);
        assert.match(sum.rows['messages.delivered'][0], /^\d{1,3}(,\d{3})+$/);
        assert.match(sum.rows['latency_us.p99'][2], /^\d+\.\d\d\u00d7$/);
        assert.equal(sum.rows['heartbeats.sent'][2], DASH); // nchan: 0 heartbeats, no ratio
        assert.ok(sum.alignedRight);

        // Six charts, none empty, each with lines and a legend naming both runs.
        const cs = await charts(page);
        assert.deepEqual(cs.map((c) => c.id), CHARTS.map((id) => `chart-${id}`));
        for (const c of cs) {
            assert.equal(c.empty, 'false', c.id);
            assert.ok(c.lines >= 1, `${c.id}: no path`);
            assert.ok(c.titles >= 1, `${c.id}: no hover titles`);
            assert.ok(c.legend.some((l) => l.startsWith('ssepushd')), `${c.id}: ${c.legend}`);
            assert.ok(c.legend.some((l) => l.startsWith('nchan')), `${c.id}: ${c.legend}`);
            assert.ok(c.yLabels.length >= 3, `${c.id}: y ticks ${c.yLabels}`);
        }
        const latency = cs.find((c) => c.id === 'chart-latency');
        assert.deepEqual(latency.legend, ['ssepushd p50', 'ssepushd p99', 'nchan p50', 'nchan p99']);
        assert.equal(latency.lines, 4);
        // nchan's 160 ms stall against ~600 us medians: more than 2 decades, a log axis.
        assert.ok(latency.yLabels.includes('1 ms') && latency.yLabels.includes('100 ms'), `${latency.yLabels}`);

        // Hovering a point names the run, the time and the value.
        const tip = await page
            .locator('#chart-connections circle > title')
            .first()
            .textContent();
        assert.match(tip, /^ssepushd \u00b7 t = 1 s: 1,000$/);

        // The options, collapsed, with the hostile note as plain text.
        const details = page.locator('details[data-testid=options]');
        assert.equal(await details.getAttribute('open'), null);
        await details.locator('summary').click();
        await page.locator('table.options td', { hasText: HOSTILE_NOTE }).first().waitFor();
        await page.locator('table.options tr.differs').first().waitFor();
        await details.locator('summary').click();

        await page.screenshot({ path: artifact('report.png'), fullPage: true });
        console.log(`screenshot: ${artifact('report.png')}`);
    }));

test('a sparse run renders "\u2014" and "no data" without errors', { timeout: TEST_TIMEOUT, skip: SKIP }, () =>
    withReport(pages.sparse, 'sparse', async (page) => {
        assert.equal(await page.getAttribute('body', 'data-runs'), '1');
        const run = await page.locator('[data-testid=run]').textContent();
        assert.match(run, new RegExp(`^sparse.*scenario idle.*machine ${DASH}.*started ${DASH}`));

        const sum = await summary(page);
        assert.deepEqual(sum.head, ['metric', 'unit', 'sparse']);
        assert.equal(sum.ratio, 0);
        assert.deepEqual(sum.rows['connections.target'], ['100']);
        for (const m of ['connections.open', 'connections.connect_ms.p50', 'messages.delivered',
                         'latency_us.p99', 'server.cpu_pct_avg', 'server.rss_kib_peak']) {
            assert.deepEqual(sum.rows[m], [DASH], m);
        }

        const verdict = await page.locator('[data-testid=verdict]').getAttribute('data-pass');
        assert.equal(verdict, 'none');
        assert.equal(await page.locator('[data-testid=verdict] .badge').textContent(), DASH);

        // Six charts: open connections has points; the others say "no data".
        const cs = await charts(page);
        assert.equal(cs.length, 6);
        for (const c of cs) {
            if (c.id === 'chart-connections') {
                assert.equal(c.empty, 'false');
                assert.ok(c.lines >= 1);
                // t = 1, 2 and 5; the others lack conns, are not objects or have t = "4".
                assert.equal(c.titles, 3);
            } else {
                assert.equal(c.empty, 'true', c.id);
                assert.ok(c.noData, c.id);
                assert.equal(c.lines, 0, c.id);
            }
        }
        await page.screenshot({ path: artifact('report-sparse.png'), fullPage: true });
    }));

test('three runs, 3,600 timeline points and a result cut short', { timeout: TEST_TIMEOUT, skip: SKIP }, () =>
    withReport(pages.three, 'three', async (page) => {
        assert.equal(await page.getAttribute('body', 'data-runs'), '3');
        // The cut-short file is reported on its run's line, the other two are drawn.
        const errors = await page.locator('[data-testid=run-error]').allTextContents();
        assert.equal(errors.length, 1);
        assert.match(errors[0], /not valid JSON/);
        const sum = await summary(page);
        assert.deepEqual(sum.head, ['metric', 'unit', 'ssepushd', 'ssepushd 1h', 'run 3']);
        assert.equal(sum.ratio, 0);

        const cs = await charts(page);
        for (const c of cs) {
            assert.equal(c.empty, 'false', c.id);
            assert.ok(c.legend.some((l) => l.startsWith('run 3') && l.endsWith('(no data)')), `${c.id}: ${c.legend}`);
        }
        // An hour at one point per second: hover targets are thinned out, the axis is in minutes.
        const conns = await page.$eval('#chart-connections', (svg) => ({
            hit: svg.querySelectorAll('.hit circle').length,
            x: Array.from(svg.querySelectorAll('.axis text[text-anchor=middle]'), (t) => t.textContent),
        }));
        assert.ok(conns.hit > 100 && conns.hit <= 241, `${conns.hit} hover targets`);
        assert.ok(conns.x.includes('60 min'), `${conns.x}`);
        await page.screenshot({ path: artifact('report-three.png'), fullPage: true });
    }));

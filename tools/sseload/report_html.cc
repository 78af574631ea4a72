#include "report_html.h"

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace ssepush::sseload {

namespace {

constexpr std::string_view k_default_title = "sseload report";

// The page is: k_head, the title, k_style, the title again (the h1), k_body, one
// <script type="application/json" id="run-N"> per result, then k_script_open,
// the script parts and k_script_close. Nothing in it refers to another resource
// (the SVG namespace in the script is a name, never fetched), and the CSP meta
// element forbids loading anything. No part may hold "</" followed by "script" or
// "<!--": the script is inline.
constexpr std::string_view k_head = R"html(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<meta name="generator" content="sseload">
<title>)html";

constexpr std::string_view k_style = R"css(</title>
<style>
:root {
  color-scheme: light;
  --fg: #1f2328; --muted: #59636e; --line: #d1d9e0; --soft: #eef1f4; --panel: #f6f8fa;
  --pass: #1a7f37; --fail: #cf222e;
}
* { box-sizing: border-box; }
html { background: #fff; }
body {
  margin: 0; color: var(--fg); background: #fff;
  font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", "Noto Sans",
        "Liberation Sans", Arial, sans-serif;
}
main { max-width: 1320px; margin: 0 auto; padding: 22px 28px 40px; }
h1 { font-size: 22px; margin: 0 0 10px; overflow-wrap: anywhere; }
h2 { font-size: 16px; margin: 26px 0 10px; padding-bottom: 4px; border-bottom: 1px solid var(--line); }
.muted { color: var(--muted); }
.notice { color: var(--fail); font-weight: 600; }
.swatch {
  display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 6px;
  vertical-align: 0; flex: none;
}
ul.runs { list-style: none; margin: 0; padding: 0; }
ul.runs li { margin: 3px 0; overflow-wrap: anywhere; }
ul.runs .part::before { content: "\00a0\00b7\00a0"; color: var(--muted); }
ul.runs .notice { margin-left: 8px; }
.verdicts { display: grid; grid-template-columns: repeat(auto-fill, minmax(330px, 1fr)); gap: 12px; }
.verdict {
  border: 1px solid var(--line); border-left: 4px solid var(--line); border-radius: 6px;
  padding: 9px 12px; background: var(--panel);
}
.verdict.pass { border-left-color: var(--pass); }
.verdict.fail { border-left-color: var(--fail); }
.verdict-head { display: flex; align-items: center; gap: 2px; }
.verdict-head strong { margin-right: 8px; }
.badge {
  display: inline-block; font-size: 11px; font-weight: 700; letter-spacing: .04em; color: #fff;
  background: var(--muted); border-radius: 9px; padding: 1px 8px;
}
.badge.pass { background: var(--pass); }
.badge.fail { background: var(--fail); }
ul.checks { list-style: none; margin: 6px 0 0; padding: 0; }
ul.checks li { margin: 2px 0; }
ul.checks .mark { display: inline-block; width: 1.2em; font-weight: 700; color: var(--muted); }
ul.checks li.pass .mark { color: var(--pass); }
ul.checks li.fail .mark { color: var(--fail); }
ul.checks li.fail .name { color: var(--fail); }
.table-wrap { overflow-x: auto; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { padding: 3px 12px; border-bottom: 1px solid var(--soft); text-align: left; vertical-align: top; }
thead th { border-bottom: 2px solid var(--line); white-space: nowrap; }
th.num, td.num { text-align: right; white-space: nowrap; }
td.unit { color: var(--muted); white-space: nowrap; }
td.ratio, th.ratio { background: #fbfcfd; color: #3d444d; }
tr.section th { background: var(--panel); font-weight: 600; padding-top: 5px; }
table.summary td:first-child { padding-left: 20px; }
.charts { display: grid; grid-template-columns: repeat(auto-fill, minmax(540px, 1fr)); gap: 14px; }
figure.chart { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px 10px 4px; min-width: 0; }
figure.chart figcaption { font-weight: 600; }
figure.chart figcaption .muted { font-weight: 400; }
svg.chart { display: block; width: 100%; height: auto; font-size: 11px; font-family: inherit; }
svg.chart text { fill: var(--muted); }
svg.chart .legend text { fill: var(--fg); }
svg.chart .nodata { font-size: 15px; }
svg.chart .grid line { stroke: var(--soft); }
svg.chart .grid line.minor { stroke: #f5f6f8; }
svg.chart .axis line, svg.chart .frame { stroke: #8c959f; fill: none; }
svg.chart path.line { fill: none; stroke-width: 1.8; stroke-linejoin: round; stroke-linecap: round; }
svg.chart .points circle:hover { stroke-width: 6; stroke-opacity: .35; }
svg.chart .hit circle { fill-opacity: 0; stroke: none; }
svg.chart .hit circle:hover { fill-opacity: 1; }
details { margin-top: 4px; }
details summary { cursor: pointer; color: var(--fg); font-weight: 600; }
table.options { margin-top: 8px; }
table.options td { font-family: ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12.5px; overflow-wrap: anywhere; }
table.options tr.differs td { background: #fff8c5; }
footer { margin-top: 28px; font-size: 12px; }
@media print { .charts { grid-template-columns: 1fr 1fr; } figure.chart { break-inside: avoid; } }
</style>
</head>
<body data-state="loading">
<main>
<header>
<h1 id="title">)css";

constexpr std::string_view k_body = R"html(</h1>
<ul id="runs" class="runs" data-testid="runs"></ul>
</header>
<noscript><p>This report draws its tables and charts with JavaScript. The result documents are embedded in the page source (script elements run-1, run-2, ...).</p></noscript>
<section id="verdict"><h2>Verdict</h2></section>
<section id="summary"><h2>Summary</h2></section>
<section id="charts"><h2>Charts</h2><div class="charts"></div></section>
<section id="options"><h2>Options</h2></section>
<footer id="footer" class="muted"></footer>
</main>
)html";

constexpr std::string_view k_script_open = "<script>\n";

// Data access, formatting, DOM helpers, the header, the verdict and the summary.
constexpr std::string_view k_script_1 = R"js('use strict';
(function () {
  const SVG_NS = 'http://www.w3.org/2000/svg'; // a namespace name, never fetched
  const DASH = '\u2014';
  const MU = '\u00b5';
  const COLORS = ['#1f6feb', '#e8590c', '#1a9e54', '#8250df', '#bf3989', '#0a7e8c'];

  // ---- data access: every field is optional and may have any type
  const isObj = (v) => v !== null && typeof v === 'object' && !Array.isArray(v);
  function get(o, path) {
    let v = o;
    for (const k of path.split('.')) {
      if (!isObj(v)) return undefined;
      v = v[k];
    }
    return v;
  }
  const num = (v) => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
  const arr = (v) => (Array.isArray(v) ? v : []);
  function text(v) {
    if (typeof v === 'string') return v === '' ? undefined : v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
    if (typeof v === 'boolean') return String(v);
    return undefined;
  }

  // ---- formatting
  const formatters = new Map();
  function nf(digits) {
    let f = formatters.get(digits);
    if (!f) {
      f = new Intl.NumberFormat('en-US', {minimumFractionDigits: digits, maximumFractionDigits: digits});
      formatters.set(digits, f);
    }
    return f;
  }
  // A number with thousands separators; digits by magnitude when not given.
  function fmt(v, digits) {
    if (num(v) === undefined) return DASH;
    if (digits === undefined) {
      const a = Math.abs(v);
      digits = Number.isInteger(v) || a >= 100 ? 0 : a >= 10 ? 1 : 2;
    }
    return nf(digits).format(v);
  }
  // Axis labels: at most 3 significant digits.
  const short = (v) => String(Number(v.toPrecision(3)));
  function fmtSI(v) {
    const a = Math.abs(v);
    if (a >= 1e9) return short(v / 1e9) + 'G';
    if (a >= 1e6) return short(v / 1e6) + 'M';
    if (a >= 1e3) return short(v / 1e3) + 'k';
    return short(v);
  }
  // A latency in microseconds, in the unit that suits it.
  function fmtUs(v) {
    const a = Math.abs(v);
    if (a === 0) return '0';
    if (a < 1e3) return short(v) + ' ' + MU + 's';
    if (a < 1e6) return short(v / 1e3) + ' ms';
    return short(v / 1e6) + ' s';
  }

  // ---- DOM: data only ever becomes text nodes or attribute values, never markup
  function h(tag, attrs, ...kids) {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null) continue;
      if (k === 'text') e.textContent = v;
      else e.setAttribute(k, String(v));
    }
    for (const c of kids) if (c !== undefined && c !== null && c !== false) e.append(c);
    return e;
  }
  function s(tag, attrs, title) {
    const e = document.createElementNS(SVG_NS, tag);
    for (const [k, v] of Object.entries(attrs || {}))
      if (v !== undefined && v !== null) e.setAttribute(k, String(v));
    if (title !== undefined) {
      const t = document.createElementNS(SVG_NS, 'title');
      t.textContent = title;
      e.append(t);
    }
    return e;
  }
  function stext(x, y, str, attrs) {
    const t = s('text', Object.assign({x, y}, attrs));
    t.textContent = str;
    return t;
  }
  const swatch = (color) => h('span', {class: 'swatch', style: 'background:' + color});
  function fail(section, e) {
    console.error('sseload report: ' + section + ':', e);
    const where = document.getElementById(section) || document.body;
    where.append(h('p', {class: 'notice', text: 'could not render this part: ' + (e && e.message)}));
  }

  // ---- the runs
  function loadRuns() {
    const blocks = Array.from(
        document.querySelectorAll('script[type="application/json"][id^="run-"]'));
    const seen = new Set();
    return blocks.map((b, i) => {
      let data = {}, error;
      try {
        const parsed = JSON.parse(b.textContent);
        if (isObj(parsed)) data = parsed;
        else error = 'the result is not a JSON object';
      } catch (e) {
        error = 'the result is not valid JSON (' + e.message + ')';
      }
      let label = text(data.label) || text(get(data, 'target.kind')) || 'run ' + (i + 1);
      if (seen.has(label)) label += ' (' + (i + 1) + ')';
      seen.add(label);
      return {index: i, data, error, label, color: COLORS[i % COLORS.length]};
    });
  }

  function renderRuns(runs) {
    const ul = document.getElementById('runs');
    if (!runs.length) {
      ul.append(h('li', {class: 'notice', text: 'No results were given to this report.'}));
      return;
    }
    for (const r of runs) {
      const d = r.data;
      const part = (name, value) =>
          h('span', {class: 'part'}, h('span', {class: 'muted', text: name + ' '}),
            value === undefined || value === '' ? DASH : value);
      const kind = text(get(d, 'target.kind')), url = text(get(d, 'target.url'));
      const flavour = text(get(d, 'target.flavour'));
      let target = [kind, url].filter(Boolean).join(' ');
      if (target && flavour) target += ' (' + flavour + ')';
      const cpus = num(get(d, 'machine.cpus'));
      const kernel = text(get(d, 'machine.kernel'));
      const machine = [
        text(get(d, 'machine.hostname')), cpus === undefined ? undefined : fmt(cpus) + ' CPUs',
        text(get(d, 'machine.cpu_model')), kernel && 'kernel ' + kernel,
      ].filter(Boolean).join(', ');
      const dur = num(d.duration_s);
      ul.append(h('li', {'data-testid': 'run', 'data-run': r.index + 1},
                  swatch(r.color), h('strong', {text: r.label}),
                  part('scenario', text(d.scenario)), part('target', target),
                  part('machine', machine), part('started', text(d.started_at)),
                  part('duration', dur === undefined ? undefined : fmt(dur, 1) + ' s'),
                  r.error && h('span', {class: 'notice', 'data-testid': 'run-error', text: r.error})));
    }
  }

  function renderVerdict(runs) {
    const grid = h('div', {class: 'verdicts'});
    for (const r of runs) {
      const pass = get(r.data, 'verdict.pass');
      const state = pass === true ? 'pass' : pass === false ? 'fail' : 'none';
      const card = h('div', {class: 'verdict ' + state, 'data-testid': 'verdict',
                             'data-run': r.index + 1, 'data-pass': state},
                     h('div', {class: 'verdict-head'}, swatch(r.color), h('strong', {text: r.label}),
                       h('span', {class: 'badge ' + state,
                                  text: state === 'pass' ? 'PASS' : state === 'fail' ? 'FAIL' : DASH})));
      const checks = arr(get(r.data, 'verdict.checks'));
      if (!checks.length) {
        card.append(h('div', {class: 'muted', text: DASH + ' no checks recorded'}));
      } else {
        const ul = h('ul', {class: 'checks'});
        for (const c of checks) {
          const p = get(c, 'pass');
          const st = p === true ? 'pass' : p === false ? 'fail' : 'none';
          const detail = text(get(c, 'detail'));
          ul.append(h('li', {class: st, 'data-pass': st},
                      h('span', {class: 'mark', text: st === 'pass' ? '\u2713' : st === 'fail' ? '\u2717' : DASH}),
                      h('span', {class: 'name', text: text(get(c, 'name')) || DASH}),
                      detail && h('span', {class: 'muted', text: ': ' + detail})));
        }
        card.append(ul);
      }
      grid.append(card);
    }
    if (!runs.length) grid.append(h('p', {class: 'muted', text: DASH}));
    document.getElementById('verdict').append(grid);
  }

  const mib = (kib) => kib / 1024;
  const SUMMARY = [
    {section: 'Connections'},
    {name: 'target', path: 'connections.target'},
    {name: 'open at the end', path: 'connections.open'},
    {name: 'opened in total', path: 'connections.opened_total'},
    {name: 'failed', path: 'connections.failed'},
    {name: 'reconnects', path: 'connections.reconnects'},
    {name: 'connect time p50', path: 'connections.connect_ms.p50', unit: 'ms', digits: 2},
    {name: 'connect time p90', path: 'connections.connect_ms.p90', unit: 'ms', digits: 2},
    {name: 'connect time p99', path: 'connections.connect_ms.p99', unit: 'ms', digits: 2},
    {name: 'connect time max', path: 'connections.connect_ms.max', unit: 'ms', digits: 2},
    {section: 'Messages'},
    {name: 'published', path: 'messages.published'},
    {name: 'publish rate', path: 'messages.publish_per_s', unit: '/s'},
    {name: 'publish errors', path: 'messages.publish_errors'},
    {name: 'expected deliveries', path: 'messages.expected'},
    {name: 'delivered', path: 'messages.delivered'},
    {name: 'delivery rate', path: 'messages.deliveries_per_s', unit: '/s', digits: 0},
    {name: 'lost', path: 'messages.lost'},
    {name: 'duplicated', path: 'messages.duplicated'},
    {name: 'out of order', path: 'messages.out_of_order'},
    {section: 'Delivery latency'},
    {name: 'samples', path: 'latency_us.count'},
    {name: 'mean', path: 'latency_us.mean', unit: MU + 's', digits: 0},
    {name: 'p50', path: 'latency_us.p50', unit: MU + 's', digits: 0},
    {name: 'p90', path: 'latency_us.p90', unit: MU + 's', digits: 0},
    {name: 'p99', path: 'latency_us.p99', unit: MU + 's', digits: 0},
    {name: 'p99.9', path: 'latency_us.p999', unit: MU + 's', digits: 0},
    {name: 'max', path: 'latency_us.max', unit: MU + 's', digits: 0},
    {section: 'Heartbeats'},
    {name: 'sent', path: 'heartbeats.sent'},
    {name: 'answered', path: 'heartbeats.ok'},
    {name: 'failed', path: 'heartbeats.failed'},
    {name: 'OnHeartbeat events', path: 'heartbeats.on_heartbeat'},
    {section: 'Server'},
    {name: 'CPU average', path: 'server.cpu_pct_avg', unit: '% of a core', digits: 1},
    {name: 'CPU max', path: 'server.cpu_pct_max', unit: '% of a core', digits: 1},
    {name: 'RSS at start', path: 'server.rss_kib_start', unit: 'MiB', digits: 1, map: mib},
    {name: 'RSS peak', path: 'server.rss_kib_peak', unit: 'MiB', digits: 1, map: mib},
    {name: 'RSS at the end', path: 'server.rss_kib_end', unit: 'MiB', digits: 1, map: mib},
    {name: 'RSS per connection', path: 'server.rss_bytes_per_conn', unit: 'bytes', digits: 0},
    {section: 'Load generator'},
    {name: 'CPU average', path: 'loadgen.cpu_pct_avg', unit: '% of a core', digits: 1},
    {name: 'RSS peak', path: 'loadgen.rss_kib_peak', unit: 'MiB', digits: 1, map: mib},
    {name: 'threads', path: 'loadgen.threads'},
  ];

  function renderSummary(runs) {
    const sec = document.getElementById('summary');
    if (!runs.length) {
      sec.append(h('p', {class: 'muted', text: 'no data'}));
      return;
    }
    const ratio = runs.length === 2;
    const head = h('tr', {}, h('th', {text: 'metric'}), h('th', {text: 'unit'}));
    for (const r of runs)
      head.append(h('th', {class: 'num', 'data-run': r.index + 1}, swatch(r.color), r.label));
    if (ratio)
      head.append(h('th', {class: 'num ratio', 'data-testid': 'ratio',
                           title: 'the first run divided by the second'},
                    runs[0].label + ' / ' + runs[1].label));
    const body = h('tbody');
    const columns = 2 + runs.length + (ratio ? 1 : 0);
    for (const row of SUMMARY) {
      if (row.section) {
        body.append(h('tr', {class: 'section'}, h('th', {colspan: columns, text: row.section})));
        continue;
      }
      const vals = runs.map((r) => {
        const v = num(get(r.data, row.path));
        return v === undefined || !row.map ? v : row.map(v);
      });
      const tr = h('tr', {'data-metric': row.path}, h('td', {text: row.name}),
                   h('td', {class: 'unit', text: row.unit || ''}));
      for (const v of vals) tr.append(h('td', {class: 'num', text: fmt(v, row.digits)}));
      if (ratio) {
        const [a, b] = vals;
        const ok = a !== undefined && b !== undefined && b !== 0;
        tr.append(h('td', {class: 'num ratio', text: ok ? fmt(a / b, 2) + '\u00d7' : DASH}));
      }
      body.append(tr);
    }
    sec.append(h('div', {class: 'table-wrap'},
                 h('table', {class: 'summary', 'data-testid': 'summary'}, h('thead', {}, head), body)));
  }
)js";

// The charts, the options, the footer and the entry point.
constexpr std::string_view k_script_2 = R"js(
  // ---- charts: inline SVG, one viewBox size, scaled by CSS
  const W = 640, H = 300, ML = 66, MR = 26, MB = 40;
  const r1 = (v) => Math.round(v * 10) / 10;
  const clean = (v) => Number(v.toPrecision(12));

  function niceStep(span, target) {
    const raw = span / target;
    const p = Math.pow(10, Math.floor(Math.log10(raw)));
    const f = raw / p;
    return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 2.5 ? 2.5 : f <= 5 ? 5 : 10) * p;
  }
  function stepAxis(lo, hi, step, label) {
    const a = Math.floor(lo / step + 1e-9) * step, b = Math.ceil(hi / step - 1e-9) * step;
    const ticks = [];
    for (let i = 0; a + i * step <= b + step / 2 && i < 200; i++) {
      const v = clean(a + i * step);
      ticks.push({v, label: label(v)});
    }
    return {lo: a, hi: b, log: false, ticks, minor: []};
  }
  function linearAxis(lo, hi, label, target) {
    if (!(hi > lo)) hi = lo === 0 ? 1 : lo + Math.abs(lo);
    return stepAxis(lo, hi, niceStep(hi - lo, target), label);
  }
  const TIME_STEPS = [1, 2, 5, 10, 15, 20, 30, 60, 120, 300, 600, 900, 1200, 1800, 3600,
                      7200, 10800, 21600, 43200, 86400];
  function timeAxis(lo, hi) {
    if (!(hi > lo)) hi = lo + 1;
    let step = hi - lo < 2 ? niceStep(hi - lo, 5) : TIME_STEPS.find((st) => (hi - lo) / st <= 7);
    if (step === undefined) step = niceStep(hi - lo, 6);
    const minutes = step >= 60 && step % 60 === 0;
    return stepAxis(lo, hi, step, (t) => (minutes ? short(t / 60) + ' min' : short(t) + ' s'));
  }
  function logAxis(lo, hi, label) {
    const e0 = Math.floor(Math.log10(lo) + 1e-9);
    let e1 = Math.ceil(Math.log10(hi) - 1e-9);
    if (e1 <= e0) e1 = e0 + 1;
    const few = e1 - e0 <= 2;
    const ticks = [], minor = [];
    for (let e = e0; e <= e1; e++) {
      const d = Math.pow(10, e);
      ticks.push({v: clean(d), label: label(clean(d))});
      if (e === e1) break;
      for (let m = 2; m <= 9; m++) {
        const v = clean(m * d);
        if (few && (m === 2 || m === 5)) ticks.push({v, label: label(v)});
        else minor.push(v);
      }
    }
    return {lo: Math.pow(10, e0), hi: Math.pow(10, e1), log: true, ticks, minor};
  }
  function scale(axis, from, to) {
    if (axis.log) {
      const l0 = Math.log10(axis.lo), k = (to - from) / (Math.log10(axis.hi) - l0);
      return (v) => from + (Math.log10(v) - l0) * k;
    }
    const k = (to - from) / (axis.hi - axis.lo);
    return (v) => from + (v - axis.lo) * k;
  }

  function noData(svg, top) {
    svg.setAttribute('data-empty', 'true');
    svg.append(s('rect', {class: 'frame', x: ML, y: top, width: W - ML - MR, height: H - MB - top}));
    svg.append(stext((ML + W - MR) / 2, (top + H - MB) / 2 + 5, 'no data',
                     {'text-anchor': 'middle', class: 'nodata'}));
  }

  // spec: {id, title, note, x: 'time' | 'log', xLabel, y: 'linear' | 'auto' (log when the
  // positive values span more than 2 decades), yFixed: [lo, hi], yFmt, xTip, yTip,
  // series: [{label, color, dash, points: [[x, y], ...]}]}; a point whose x or y is not
  // a finite number (or not positive on a log axis) is a gap in its line.
  function chart(spec) {
    const svg = s('svg', {class: 'chart', id: 'chart-' + spec.id, viewBox: '0 0 ' + W + ' ' + H,
                          role: 'img', 'aria-label': spec.title, 'data-testid': 'chart',
                          'data-empty': 'false'});
    const fig = h('figure', {class: 'chart', 'data-chart': spec.id},
                  h('figcaption', {}, spec.title, spec.note && h('span', {class: 'muted', text: ' ' + spec.note})),
                  svg);
    let ylog = false;
    if (spec.y === 'auto') {
      let lo = Infinity, hi = -Infinity;
      for (const se of spec.series)
        for (const p of se.points)
          if (num(p[0]) !== undefined && num(p[1]) !== undefined && p[1] > 0) {
            lo = Math.min(lo, p[1]);
            hi = Math.max(hi, p[1]);
          }
      ylog = hi / lo > 100;
    }
    const xlog = spec.x === 'log';
    const ok = (x, y) => num(x) !== undefined && num(y) !== undefined && (!xlog || x > 0) && (!ylog || y > 0);
    let n = 0, xmin = Infinity, xmax = -Infinity, ymin = Infinity, ymax = -Infinity;
    const series = spec.series.map((se) => {
      let count = 0;
      const pts = se.points.map((p) => {
        if (!ok(p[0], p[1])) return null;
        count++;
        xmin = Math.min(xmin, p[0]);
        xmax = Math.max(xmax, p[0]);
        ymin = Math.min(ymin, p[1]);
        ymax = Math.max(ymax, p[1]);
        return p;
      });
      n += count;
      return Object.assign({}, se, {pts, count});
    });

    // The legend, wrapped onto as many rows as it needs, above the plot.
    const legend = s('g', {class: 'legend'});
    let lx = ML, ly = 12;
    for (const se of series) {
      let label = se.label + (se.count ? '' : ' (no data)');
      if (label.length > 60) label = label.slice(0, 59) + '\u2026';
      const w = 30 + label.length * 6.3 + 16;
      if (lx + w > W - MR && lx > ML) {
        lx = ML;
        ly += 17;
      }
      const g = s('g', {'data-series': se.label}, se.label);
      g.append(s('line', {x1: lx, x2: lx + 22, y1: ly, y2: ly, stroke: se.color, 'stroke-width': 2.5,
                          'stroke-dasharray': se.dash}));
      g.append(stext(lx + 28, ly + 4, label));
      legend.append(g);
      lx += w;
    }
    const top = ly + 16;
    if (n === 0) {
      noData(svg, top);
      svg.append(legend);
      return fig;
    }

    const xa = xlog ? logAxis(xmin, xmax, fmtUs) : timeAxis(Math.min(0, xmin), xmax);
    const ya = spec.yFixed ? linearAxis(spec.yFixed[0], spec.yFixed[1], spec.yFmt, 4)
             : ylog ? logAxis(ymin, ymax, spec.yFmt)
             : linearAxis(Math.min(0, ymin), ymax, spec.yFmt, 5);
    const X = scale(xa, ML, W - MR), Y = scale(ya, H - MB, top);

    const grid = s('g', {class: 'grid'}), axis = s('g', {class: 'axis'});
    for (const v of ya.minor)
      grid.append(s('line', {class: 'minor', x1: ML, x2: W - MR, y1: r1(Y(v)), y2: r1(Y(v))}));
    for (const v of xa.minor)
      grid.append(s('line', {class: 'minor', x1: r1(X(v)), x2: r1(X(v)), y1: top, y2: H - MB}));
    for (const t of ya.ticks) {
      const y = r1(Y(t.v));
      grid.append(s('line', {x1: ML, x2: W - MR, y1: y, y2: y}));
      axis.append(s('line', {x1: ML - 4, x2: ML, y1: y, y2: y}));
      axis.append(stext(ML - 7, y + 4, t.label, {'text-anchor': 'end'}));
    }
    for (const t of xa.ticks) {
      const x = r1(X(t.v));
      grid.append(s('line', {x1: x, x2: x, y1: top, y2: H - MB}));
      axis.append(s('line', {x1: x, x2: x, y1: H - MB, y2: H - MB + 4}));
      axis.append(stext(x, H - MB + 16, t.label, {'text-anchor': 'middle'}));
    }
    axis.append(s('line', {x1: ML, x2: W - MR, y1: H - MB, y2: H - MB}));
    axis.append(s('line', {x1: ML, x2: ML, y1: top, y2: H - MB}));
    axis.append(stext((ML + W - MR) / 2, H - 5, spec.xLabel || 'time since the start',
                      {'text-anchor': 'middle'}));

    const plot = s('g', {class: 'series'});
    for (const se of series) {
      if (!se.count) continue;
      let d = '', pen = false;
      for (const p of se.pts) {
        if (!p) {
          pen = false;
          continue;
        }
        d += (pen ? 'L' : 'M') + r1(X(p[0])) + ' ' + r1(Y(p[1]));
        pen = true;
      }
      plot.append(s('path', {class: 'line', d, stroke: se.color, 'stroke-dasharray': se.dash}, se.label));
      // Hover targets with a title element: every point when there are few (drawn), else
      // about 240 evenly spaced ones (invisible until hovered).
      const valid = se.pts.filter(Boolean);
      const shown = valid.length <= 120;
      const stride = shown ? 1 : Math.ceil(valid.length / 240);
      const g = s('g', {class: shown ? 'points' : 'points hit', fill: se.dash ? '#fff' : se.color,
                        stroke: se.color, 'stroke-width': 1.2});
      for (let i = 0; i < valid.length; i += stride) {
        const [x, y] = valid[i];
        g.append(s('circle', {cx: r1(X(x)), cy: r1(Y(y)), r: shown ? 2.4 : 4},
                   se.label + ' \u00b7 ' + spec.xTip(x) + ': ' + spec.yTip(y)));
      }
      plot.append(g);
    }
    svg.append(grid, axis, plot, legend);
    return fig;
  }

  function line(r, field, name, dash, map) {
    return {
      label: r.label + (name ? ' ' + name : ''), color: r.color, dash,
      points: arr(r.data.timeline).map((p) => {
        const y = num(get(p, field));
        return [num(get(p, 't')), y === undefined || !map ? y : map(y)];
      }),
    };
  }
  function cdf(r) {
    const buckets = arr(r.data.latency_hist)
        .filter((b) => Array.isArray(b) && num(b[0]) !== undefined && num(b[1]) !== undefined &&
                       b[0] > 0 && b[1] >= 0)
        .map((b) => [b[0], b[1]])
        .sort((a, b) => a[0] - b[0]);
    let total = 0, sum = 0;
    for (const b of buckets) total += b[1];
    const points = total > 0 ? buckets.map(([ub, c]) => [ub, (sum += c) / total]) : [];
    return {label: r.label, color: r.color, points};
  }

  function renderCharts(runs) {
    const box = document.querySelector('#charts .charts');
    const us = (v) => fmt(v, 0) + ' ' + MU + 's';
    const at = (t) => 't = ' + fmt(t, Number.isInteger(t) ? 0 : 1) + ' s';
    const base = {x: 'time', y: 'linear', xTip: at};
    const specs = [
      Object.assign({}, base, {
        id: 'latency', title: 'Delivery latency', note: '(p50 solid, p99 dashed)', y: 'auto',
        yFmt: fmtUs, yTip: us,
        series: runs.flatMap((r) => [line(r, 'p50_us', 'p50'), line(r, 'p99_us', 'p99', '6 4')]),
      }),
      Object.assign({}, base, {
        id: 'deliveries', title: 'Deliveries per second', yFmt: fmtSI, yTip: (v) => fmt(v, 0) + ' /s',
        series: runs.map((r) => line(r, 'deliveries_per_s')),
      }),
      Object.assign({}, base, {
        id: 'connections', title: 'Open connections', yFmt: fmtSI, yTip: (v) => fmt(v, 0),
        series: runs.map((r) => line(r, 'conns')),
      }),
      Object.assign({}, base, {
        id: 'rss', title: 'Server RSS', note: '(MiB)', yFmt: (v) => short(v) + ' MiB',
        yTip: (v) => fmt(v, 1) + ' MiB', series: runs.map((r) => line(r, 'server_rss_kib', '', undefined, mib)),
      }),
      Object.assign({}, base, {
        id: 'cpu', title: 'CPU', note: '(% of a core; server solid, load generator dashed)',
        yFmt: (v) => short(v) + '%', yTip: (v) => fmt(v, 1) + '%',
        series: runs.flatMap((r) => [line(r, 'server_cpu_pct', 'server'),
                                     line(r, 'loadgen_cpu_pct', 'loadgen', '3 3')]),
      }),
      {
        id: 'cdf', title: 'Latency distribution', note: '(CDF of latency_hist, log latency axis)',
        x: 'log', xLabel: 'delivery latency (log scale)', y: 'linear', yFixed: [0, 1],
        yFmt: (v) => short(v * 100) + '%', xTip: (v) => '\u2264 ' + us(v),
        yTip: (v) => fmt(v * 100, 2) + '%', series: runs.map(cdf),
      },
    ];
    for (const spec of specs) {
      try {
        box.append(chart(spec));
      } catch (e) {
        fail('charts', e);
      }
    }
  }

  function optionText(v) {
    if (typeof v === 'string') return v;
    if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
    try {
      return JSON.stringify(v);
    } catch (e) {
      return String(v);
    }
  }
  function renderOptions(runs) {
    const keys = new Set();
    for (const r of runs)
      if (isObj(r.data.options)) for (const k of Object.keys(r.data.options)) keys.add(k);
    const details = h('details', {'data-testid': 'options'},
                      h('summary', {text: 'Options of each run (' + keys.size + ')'}));
    if (!keys.size) {
      details.append(h('p', {class: 'muted', text: DASH + ' no options recorded'}));
    } else {
      const head = h('tr', {}, h('th', {text: 'option'}));
      for (const r of runs) head.append(h('th', {}, swatch(r.color), r.label));
      const body = h('tbody');
      for (const k of Array.from(keys).sort()) {
        const vals = runs.map((r) => isObj(r.data.options) &&
                                     Object.prototype.hasOwnProperty.call(r.data.options, k)
                                         ? optionText(r.data.options[k]) : DASH);
        const differs = vals.some((v) => v !== vals[0]);
        const tr = h('tr', {class: differs ? 'differs' : null}, h('td', {text: k}));
        for (const v of vals) tr.append(h('td', {text: v}));
        body.append(tr);
      }
      if (runs.length > 1)
        details.append(h('p', {class: 'muted', text: 'Highlighted: options that differ between the runs.'}));
      details.append(h('div', {class: 'table-wrap'},
                       h('table', {class: 'options'}, h('thead', {}, head), body)));
    }
    document.getElementById('options').append(details);
  }

  function renderFooter(runs) {
    const first = runs.find((r) => text(r.data.tool)) || {data: {}};
    const tool = [text(first.data.tool) || 'sseload', text(first.data.version)].filter(Boolean).join(' ');
    document.getElementById('footer').append(
        'Generated by ' + tool + '. A self-contained page: the result documents are embedded in its ' +
        'source (script elements run-1' + (runs.length > 1 ? ' to run-' + runs.length : '') + ').');
  }

  const runs = loadRuns();
  const parts = [['runs', renderRuns], ['verdict', renderVerdict], ['summary', renderSummary],
                 ['charts', renderCharts], ['options', renderOptions], ['footer', renderFooter]];
  for (const [name, render] of parts) {
    try {
      render(runs);
    } catch (e) {
      fail(name, e);
    }
  }
  document.body.setAttribute('data-runs', String(runs.length));
  document.body.setAttribute('data-state', 'rendered');
})();
)js";

constexpr std::string_view k_script_close = "</script>\n</body>\n</html>\n";

void append_html_escaped(std::string& out, std::string_view s) {
    for (char c : s) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&#39;";
                break;
            default:
                out += c;
        }
    }
}

// The JSON text as the content of a script element: "</" (which could end the
// element) becomes "<\/" and "<!--" (which could make a later "</script>" not end
// it) becomes "\u003c!--". Both only occur inside JSON strings, where the escapes
// mean the same characters, so JSON.parse of the content gives the same value.
void append_script_json(std::string& out, std::string_view json) {
    for (std::size_t i = 0; i < json.size(); ++i) {
        const char c = json[i];
        if (c == '<' && i + 1 < json.size() && json[i + 1] == '/') {
            out += "<\\/";
            ++i;
        } else if (c == '<' && json.substr(i, 4) == "<!--") {
            out += "\\u003c!--";
            i += 3;
        } else {
            out += c;
        }
    }
}

}  // namespace

std::string render_html_report(const std::vector<std::string>& result_json_texts,
                               std::string_view title) {
    if (title.empty()) title = k_default_title;
    std::size_t size = k_head.size() + k_style.size() + k_body.size() + k_script_open.size() +
                       k_script_1.size() + k_script_2.size() + k_script_close.size() +
                       2 * title.size() + 64;
    for (const auto& json : result_json_texts)
        size += json.size() + json.size() / 16 + 64;

    std::string out;
    out.reserve(size);
    out += k_head;
    append_html_escaped(out, title);
    out += k_style;
    append_html_escaped(out, title);
    out += k_body;
    for (std::size_t i = 0; i < result_json_texts.size(); ++i) {
        out += "<script type=\"application/json\" id=\"run-";
        out += std::to_string(i + 1);
        out += "\">";
        append_script_json(out, result_json_texts[i]);
        out += "</script>\n";
    }
    out += k_script_open;
    out += k_script_1;
    out += k_script_2;
    out += k_script_close;
    return out;
}

}  // namespace ssepush::sseload

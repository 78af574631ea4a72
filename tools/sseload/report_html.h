// sseload's HTML report: one self-contained page (inline CSS, inline vanilla JS,
// inline SVG charts; no external scripts, fonts, stylesheets or images) that opens
// from a file:// URL offline.
//
// The C++ side parses nothing: it embeds each result document verbatim in a
// <script type="application/json" id="run-N"> element (N = 1, 2, ... in the order
// given), with "</" written as "<\/" and "<!--" as "\u003c!--" so that no string
// inside the JSON can end the element or open an HTML comment; JSON.parse of the
// element's textContent gives back the same value. The page's script reads the
// documents in the browser and draws: a line per run (label, scenario, target,
// machine, start, duration), the verdict of each run, a summary table (one column
// per run, plus a ratio column first / second when there are exactly two runs),
// six charts (latency p50/p99, deliveries/s, open connections, server RSS, server
// and load generator CPU over time, the latency CDF from latency_hist) that
// overlay the runs, one colour per run, and the options of every run. Every field
// of a result is optional: a missing one shows as "—", an empty series as
// "no data", a document that is not JSON as a notice on its run.
//
// A Content-Security-Policy meta element (default-src 'none') keeps the page from
// loading anything, whatever the embedded data holds.
//
// Pure function, no I/O; allocates the returned string (about the size of the
// inputs plus ~40 KiB of template).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace ssepush::sseload {

// Renders one self-contained HTML page from one or more sseload result JSON
// documents (each the full text of a result file). With several runs (e.g. ssepushd
// and nchan on the same scenario) the charts overlay them, one colour per run, and
// the summary table has one column per run plus, when there are exactly two, a
// ratio column (first / second). `title` is HTML-escaped; empty gives
// "sseload report".
std::string render_html_report(const std::vector<std::string>& result_json_texts,
                               std::string_view title);

}  // namespace ssepush::sseload

// sseload's HTML report (tools/sseload/report_html.cc): the page embeds each result
// document once and intact, nothing in the data can end its script element, the
// title is escaped, and the page refers to no other resource. What the page draws
// is checked in headless Chromium (tests/browser/test/report.test.mjs).
#include "report_html.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace {

using ssepush::sseload::render_html_report;

std::size_t count_of(std::string_view hay, std::string_view needle) {
    std::size_t n = 0;
    for (auto at = hay.find(needle); at != std::string_view::npos;
         at = hay.find(needle, at + needle.size()))
        ++n;
    return n;
}

std::string lower(std::string_view s) {
    std::string out(s);
    std::transform(out.begin(), out.end(), out.begin(),
                   [](unsigned char c) { return char(std::tolower(c)); });
    return out;
}

std::string replace_all(std::string s, std::string_view from, std::string_view to) {
    for (auto at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
        s.replace(at, from.size(), to);
    return s;
}

// The content of <script type="application/json" id="run-<n>">, as an HTML parser
// sees it: up to the first "</script" (any case).
std::string run_block(const std::string& html, int n) {
    const std::string open =
        "<script type=\"application/json\" id=\"run-" + std::to_string(n) + "\">";
    const auto at = html.find(open);
    if (at == std::string::npos) return "(no block run-" + std::to_string(n) + ")";
    const auto from = at + open.size();
    const auto end = lower(html).find("</script", from);
    return html.substr(from, end - from);
}

// The JSON text the block stands for (the renderer's two escapes undone).
std::string unescape(const std::string& block) {
    return replace_all(replace_all(block, "<\\/", "</"), "\\u003c!--", "<!--");
}

// The page without its embedded result documents.
std::string without_data(const std::string& html) {
    std::string out;
    std::size_t pos = 0;
    const std::string open = "<script type=\"application/json\"";
    for (auto at = html.find(open); at != std::string::npos; at = html.find(open, pos)) {
        out.append(html, pos, at - pos);
        pos = lower(html).find("</script>", at) + 9;
    }
    out.append(html, pos);
    return out;
}

const std::string k_run_a =
    R"({"tool":"sseload","version":"0.1","label":"ssepushd","scenario":"broadcast",)"
    R"("target":{"kind":"ssepushd","url":"http://127.0.0.1:8080"},)"
    R"("latency_hist":[[100,5],[200,10]],"timeline":[{"t":1,"conns":10}]})";
const std::string k_run_b =
    R"({"label":"nchan","target":{"url":"https://example.org/sub"},"messages":{"lost":3}})";

TEST(report_html, is_one_html_document) {
    const auto html = render_html_report({k_run_a}, "t");
    EXPECT_EQ(html.rfind("<!doctype html>", 0), 0u);
    EXPECT_TRUE(html.ends_with("</html>\n"));
    EXPECT_EQ(count_of(html, "<title>"), 1u);
    EXPECT_EQ(count_of(html, "<meta charset=\"utf-8\">"), 1u);
    // Loading anything is forbidden by the page itself.
    EXPECT_NE(html.find("Content-Security-Policy\" content=\"default-src 'none';"),
              std::string::npos);
}

TEST(report_html, embeds_each_run_once_and_intact) {
    const std::vector<std::string> runs{k_run_a, k_run_b, R"({"label":"third"})"};
    const auto html = render_html_report(runs, "two servers");
    for (int n = 1; n <= 3; ++n) {
        SCOPED_TRACE(n);
        const auto block = run_block(html, n);
        EXPECT_EQ(unescape(block), runs[std::size_t(n - 1)]);
        EXPECT_EQ(count_of(html, block), 1u);
    }
    EXPECT_EQ(count_of(html, "<script type=\"application/json\""), 3u);
    // In the order given.
    EXPECT_LT(html.find("id=\"run-1\""), html.find("id=\"run-2\""));
    EXPECT_LT(html.find("id=\"run-2\""), html.find("id=\"run-3\""));
    EXPECT_EQ(html.find("id=\"run-4\""), std::string::npos);
}

TEST(report_html, no_runs_gives_a_page_without_data) {
    const auto html = render_html_report({}, "nothing");
    EXPECT_EQ(count_of(html, "<script type=\"application/json\""), 0u);
    EXPECT_TRUE(html.ends_with("</html>\n"));
}

TEST(report_html, script_end_inside_a_json_string_cannot_break_out) {
    const std::string evil = R"({"label":"</script><script>alert(1)</script>","a":"</SCRIPT >",)"
                             R"("b":"<!--<script>","c":"<\/script>","d":"x<y</z","e":"<!-- -->"})";
    const auto html = render_html_report({evil, k_run_a}, "t");
    const auto block = run_block(html, 1);
    EXPECT_EQ(lower(block).find("</script"), std::string::npos);
    EXPECT_EQ(block.find("</"), std::string::npos);
    EXPECT_EQ(block.find("<!--"), std::string::npos);
    // What the page's JSON.parse reads means the same: only "\/" and "\u003c", both
    // inside strings, were added.
    EXPECT_EQ(block,
              R"({"label":"<\/script><script>alert(1)<\/script>","a":"<\/SCRIPT >",)"
              R"("b":"\u003c!--<script>","c":"<\/script>","d":"x<y<\/z","e":"\u003c!-- -->"})");
    // The block is followed by its own end tag, and the next run is intact.
    EXPECT_EQ(html.substr(html.find(block) + block.size(), 10), "</script>\n");
    EXPECT_EQ(unescape(run_block(html, 2)), k_run_a);
    // Every <script> the page opens is closed exactly once: 2 data blocks + the code.
    EXPECT_EQ(count_of(lower(html), "<script"), 3u + 2u);  // + the two in the data
    EXPECT_EQ(count_of(lower(html), "</script"), 3u);
    EXPECT_EQ(count_of(html, "<!--"), 0u);
}

TEST(report_html, title_is_html_escaped) {
    const auto html = render_html_report({k_run_a}, R"(<b>x</b> & "q" 'a' </title><script>)");
    const std::string escaped =
        "&lt;b&gt;x&lt;/b&gt; &amp; &quot;q&quot; &#39;a&#39; &lt;/title&gt;&lt;script&gt;";
    EXPECT_NE(html.find("<title>" + escaped + "</title>"), std::string::npos);
    EXPECT_NE(html.find("<h1 id=\"title\">" + escaped + "</h1>"), std::string::npos);
    EXPECT_EQ(html.find("<b>"), std::string::npos);
    EXPECT_EQ(count_of(html, "</title>"), 1u);
}

TEST(report_html, empty_title_gets_a_default) {
    const auto html = render_html_report({k_run_a}, "");
    EXPECT_NE(html.find("<title>sseload report</title>"), std::string::npos);
}

TEST(report_html, refers_to_no_external_resource) {
    // The data holds URLs; they are data, shown as text.
    const auto html = render_html_report({k_run_a, k_run_b}, "http://not-a-link");
    const auto page = lower(without_data(html));
    EXPECT_EQ(page.find("127.0.0.1"), std::string::npos);  // the data is gone
    // The only URL left is the SVG namespace name in the script (never fetched) and
    // the title (text).
    for (std::string_view scheme : {"http://", "https://"}) {
        for (auto at = page.find(scheme); at != std::string::npos; at = page.find(scheme, at + 1)) {
            const auto rest = page.substr(at);
            EXPECT_TRUE(rest.starts_with("http://www.w3.org/2000/svg'") ||
                        rest.starts_with("http://not-a-link<"))
                << rest.substr(0, 60);
        }
    }
    EXPECT_EQ(count_of(page, "www.w3.org"), 1u);
    for (std::string_view ref : {" src=", " href=", "<link", "@import", "url(", "@font-face",
                                 "fetch(", "xmlhttprequest", "import(", "//cdn"})
        EXPECT_EQ(page.find(ref), std::string::npos) << ref;
}

}  // namespace

// libFuzzer target for JSON string escaping and the json_writer.
//
// The whole input is escaped as one string:
//   - the output never holds a raw control byte (U+0000..U+001F, DEL) or a raw
//     C1 control (0xC2 0x80..0x9F), whatever the input;
//   - input without bytes that need escaping comes out unchanged;
//   - when the input is valid UTF-8, json_string() output parses (simdjson)
//     back to exactly the input bytes.
// Then the input is run as a little program of json_writer calls (one byte per
// call, string arguments taken from the following bytes):
//   - no call crashes, whatever the order;
//   - when the writer says complete() and every string was valid UTF-8, the
//     text is valid JSON; it never holds a raw control byte.
#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ssepush/proto/json.h"

using namespace ssepush::proto;

namespace {

bool needs_escape(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        if (b < 0x20 || b == 0x7f || b == '"' || b == '\\') return true;
        if (b == 0xc2 && i + 1 < s.size()) {
            const auto n = static_cast<unsigned char>(s[i + 1]);
            if (n >= 0x80 && n <= 0x9f) return true;
        }
    }
    return false;
}

void check_no_raw_controls(std::string_view s) {
    for (std::size_t i = 0; i < s.size(); ++i) {
        const auto b = static_cast<unsigned char>(s[i]);
        SSEPUSH_FUZZ_CHECK(b >= 0x20 && b != 0x7f);
        if (b == 0xc2 && i + 1 < s.size()) {
            const auto n = static_cast<unsigned char>(s[i + 1]);
            SSEPUSH_FUZZ_CHECK(n < 0x80 || n > 0x9f);
        }
    }
}

bool valid_utf8(std::string_view s) {
    return simdjson::validate_utf8(s.data(), s.size());
}

simdjson::dom::parser& parser() {
    static simdjson::dom::parser p;
    return p;
}

// Reads bytes of the input as a writer program.
class reader {
public:
    explicit reader(std::string_view in) : in_(in) {}
    bool done() const { return pos_ >= in_.size(); }
    unsigned char byte() { return done() ? 0 : static_cast<unsigned char>(in_[pos_++]); }
    std::string_view chunk() {
        const std::size_t n = byte() % 24;
        const std::size_t take = std::min(n, in_.size() - pos_);
        const std::string_view s = in_.substr(pos_, take);
        pos_ += take;
        return s;
    }

private:
    std::string_view in_;
    std::size_t pos_ = 0;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string_view in(reinterpret_cast<const char*>(data), size);

    std::string escaped = "prefix";
    json_escape(in, escaped);
    SSEPUSH_FUZZ_CHECK(std::string_view(escaped).substr(0, 6) == "prefix");
    const std::string_view body = std::string_view(escaped).substr(6);
    check_no_raw_controls(body);
    SSEPUSH_FUZZ_CHECK(body.size() >= in.size() && body.size() <= 6 * in.size());
    if (!needs_escape(in)) SSEPUSH_FUZZ_CHECK(body == in);

    std::string quoted;
    json_string(in, quoted);
    SSEPUSH_FUZZ_CHECK(quoted.size() == body.size() + 2);
    if (valid_utf8(in)) {
        const simdjson::padded_string padded(quoted);
        simdjson::dom::element doc;
        SSEPUSH_FUZZ_CHECK(parser().parse(padded).get(doc) == simdjson::SUCCESS);
        std::string_view back;
        SSEPUSH_FUZZ_CHECK(doc.get(back) == simdjson::SUCCESS);
        SSEPUSH_FUZZ_CHECK(back == in);
    }

    // The writer program.
    std::string out;
    json_writer w(out);
    bool strings_valid = true;
    reader r(in);
    while (!r.done()) {
        switch (r.byte() % 14) {
            case 0:
                w.begin_object();
                break;
            case 1:
                w.end_object();
                break;
            case 2:
                w.begin_array();
                break;
            case 3:
                w.end_array();
                break;
            case 4:
            case 5: {
                const std::string_view k = r.chunk();
                strings_valid = strings_valid && valid_utf8(k);
                w.key(k);
                break;
            }
            case 6:
            case 7: {
                const std::string_view v = r.chunk();
                strings_valid = strings_valid && valid_utf8(v);
                w.value(v);
                break;
            }
            case 8:
                w.value(static_cast<std::int64_t>(r.byte()) - 128);
                break;
            case 9:
                w.value(std::uint64_t{r.byte()} << 56);
                break;
            case 10: {
                double d = 0;
                unsigned char b[8];
                for (unsigned char& x : b)
                    x = r.byte();
                std::memcpy(&d, b, sizeof d);
                w.value(d);
                break;
            }
            case 11:
                w.value((r.byte() & 1) != 0);
                break;
            case 12:
                w.null();
                break;
            case 13:
                w.raw(R"({"r":[1,"x"]})");
                break;
        }
    }
    check_no_raw_controls(out);
    SSEPUSH_FUZZ_CHECK(w.depth() <= json_writer::k_max_depth);
    if (w.complete() && strings_valid) {
        const simdjson::padded_string padded(out);
        simdjson::dom::element doc;
        SSEPUSH_FUZZ_CHECK(parser().parse(padded).get(doc) == simdjson::SUCCESS);
    }
    return 0;
}

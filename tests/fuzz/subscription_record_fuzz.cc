// parse_subscription_record and meta_json_of on arbitrary bytes: they return
// (ASan/UBSan watch them), a record parsed is written back as complete JSON
// that parses to the same record, and meta_json_of gives the very object the
// parser took the record's meta from.
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "fuzz_check.h"
#include "ssepush/proto/subscription_record.h"

namespace proto = ssepush::proto;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::string in(reinterpret_cast<const char*>(data), size);
    const std::optional<proto::subscription_record> r = proto::parse_subscription_record(in);
    const std::string meta = proto::meta_json_of(in);
    if (!r) return 0;
    SSEPUSH_FUZZ_CHECK(!r->id.empty());

    // write(parse(x)) parses to the same fields, and writing is a fixed point.
    std::string out;
    proto::write_subscription_record(*r, out);
    const std::optional<proto::subscription_record> again = proto::parse_subscription_record(out);
    SSEPUSH_FUZZ_CHECK(again.has_value());
    SSEPUSH_FUZZ_CHECK(*again == *r);
    std::string out2;
    proto::write_subscription_record(*again, out2);
    SSEPUSH_FUZZ_CHECK(out2 == out);

    // meta_json_of is the object the parser read meta from.
    if (meta.empty()) {
        SSEPUSH_FUZZ_CHECK(r->meta.empty());
    } else {
        SSEPUSH_FUZZ_CHECK(meta.front() == '{' && meta.back() == '}');
        const auto wrapped =
            proto::parse_subscription_record(R"({"subscriptionId":"x","meta":)" + meta + "}");
        SSEPUSH_FUZZ_CHECK(wrapped.has_value());
        SSEPUSH_FUZZ_CHECK(wrapped->meta == r->meta);
    }
    const std::string meta_out = proto::meta_json_of(out);
    const auto from_out =
        proto::parse_subscription_record(R"({"subscriptionId":"x","meta":)" + meta_out + "}");
    SSEPUSH_FUZZ_CHECK(from_out.has_value() && from_out->meta == r->meta);
    return 0;
}

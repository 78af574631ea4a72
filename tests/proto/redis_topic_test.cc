// ServiceStack's `sse:topic` messages (PROTOCOL.md §7.2, §7.3): the exact
// strings a ServiceStack server publishes, parsed; ours written and read back.
#include "ssepush/proto/redis_topic.h"

#include <gtest/gtest.h>

namespace ssepush::proto {
namespace {

TEST(redis_topic, notify_all_with_selector_and_body) {
    auto m = parse_topic_message(R"(notify.all cmd.announce {"msg":"hi there"})");
    EXPECT_EQ(m.kind, topic_kind::notify_all);
    EXPECT_EQ(m.who, "");
    EXPECT_EQ(m.selector, "cmd.announce");
    EXPECT_EQ(m.channel, "");
    EXPECT_EQ(m.json, R"({"msg":"hi there"})");
}

TEST(redis_topic, every_notify_target_with_a_channel_filter) {
    struct row {
        const char* text;
        topic_kind kind;
        const char* who;
    };
    for (row r : {row{"notify.channel.home", topic_kind::notify_channel, "home"},
                  row{"notify.subscription.Xq3Zb8Lm2Pf7Tn0Cw5Rk", topic_kind::notify_subscription,
                      "Xq3Zb8Lm2Pf7Tn0Cw5Rk"},
                  row{"notify.userid.-3", topic_kind::notify_user_id, "-3"},
                  row{"notify.username.ada", topic_kind::notify_user_name, "ada"},
                  row{"notify.session.s1", topic_kind::notify_session, "s1"}}) {
        std::string msg = r.text;
        msg += " cmd.chat@lobby {\"a\":1}";
        auto m = parse_topic_message(msg);
        EXPECT_EQ(m.kind, r.kind) << msg;
        EXPECT_EQ(m.who, r.who) << msg;
        EXPECT_EQ(m.selector, "cmd.chat") << msg;
        EXPECT_EQ(m.channel, "lobby") << msg;
        EXPECT_EQ(m.json, "{\"a\":1}") << msg;
    }
}

TEST(redis_topic, a_body_may_hold_spaces_and_at_signs_and_may_be_absent) {
    auto m = parse_topic_message(R"(notify.channel.home cmd.chat {"m":"a b @c"})");
    EXPECT_EQ(m.selector, "cmd.chat");
    EXPECT_EQ(m.channel, "");
    EXPECT_EQ(m.json, R"({"m":"a b @c"})");
    m = parse_topic_message("notify.channel.home cmd.ping");
    EXPECT_EQ(m.kind, topic_kind::notify_channel);
    EXPECT_EQ(m.selector, "cmd.ping");
    EXPECT_EQ(m.json, "");
}

TEST(redis_topic, a_name_with_dots_is_kept_whole) {
    auto m = parse_topic_message("notify.username.ada@example.com cmd.x {}");
    EXPECT_EQ(m.kind, topic_kind::notify_user_name);
    EXPECT_EQ(m.who, "ada@example.com");
    m = parse_topic_message("notify.channel.a.b.c cmd.x");
    EXPECT_EQ(m.who, "a.b.c");
}

TEST(redis_topic, commands_for_held_subscriptions) {
    auto m = parse_topic_message(R"(subscribe.id.Xq3Zb8Lm2Pf7Tn0Cw5Rk "home,lobby")");
    EXPECT_EQ(m.kind, topic_kind::subscribe);
    EXPECT_EQ(m.who, "Xq3Zb8Lm2Pf7Tn0Cw5Rk");
    EXPECT_EQ(m.json, R"("home,lobby")");
    m = parse_topic_message(R"(unsubscribe.id.abc "home")");
    EXPECT_EQ(m.kind, topic_kind::unsubscribe);
    EXPECT_EQ(m.json, R"("home")");
    m = parse_topic_message("unregister.id.abc");
    EXPECT_EQ(m.kind, topic_kind::unregister);
    EXPECT_EQ(m.who, "abc");
    m = parse_topic_message("pulse.id.abc");
    EXPECT_EQ(m.kind, topic_kind::pulse);
    EXPECT_EQ(m.who, "abc");
}

TEST(redis_topic, control_and_foreign_messages_are_to_be_ignored) {
    EXPECT_EQ(parse_topic_message("CTRL:PULSE").kind, topic_kind::control);
    EXPECT_EQ(parse_topic_message("CTRL").kind, topic_kind::control);
    EXPECT_EQ(parse_topic_message("").kind, topic_kind::control);
    for (const char* s : {"notify", "notify.", "notify.channel", "notify.channel.", "notify.all.x",
                          "notify.bogus.x cmd.a", "pulse.id.", "pulse.x.abc", "hello world",
                          "subscribe", " notify.all cmd.x"}) {
        EXPECT_EQ(parse_topic_message(s).kind, topic_kind::unknown) << s;
    }
}

TEST(redis_topic, what_we_write_reads_back) {
    std::string out;
    write_notify(topic_kind::notify_channel, "home", "cmd.chat", "", R"({"m":1})", out);
    EXPECT_EQ(out, R"(notify.channel.home cmd.chat {"m":1})");
    out.clear();
    write_notify(topic_kind::notify_all, "ignored", "cmd.x", "lobby", "", out);
    EXPECT_EQ(out, "notify.all cmd.x@lobby");
    auto m = parse_topic_message(out);
    EXPECT_EQ(m.kind, topic_kind::notify_all);
    EXPECT_EQ(m.channel, "lobby");
    out.clear();
    write_channels_command(topic_kind::subscribe, "abc", "home,lobby", out);
    EXPECT_EQ(out, R"(subscribe.id.abc "home,lobby")");
    out.clear();
    write_id_command(topic_kind::pulse, "abc", out);
    EXPECT_EQ(out, "pulse.id.abc");
    EXPECT_EQ(parse_topic_message(out).kind, topic_kind::pulse);
}

TEST(redis_topic, ticks_are_dotnet_ticks) {
    // 2024-07-01T10:40:00.123Z, as PROTOCOL.md §7.4's createdAt example.
    EXPECT_EQ(ticks_from_unix_ms(1719830400123), 638554272001230000);
    EXPECT_EQ(unix_ms_from_ticks(638554272001230000), 1719830400123);
    EXPECT_EQ(ticks_from_unix_ms(0), k_unix_epoch_ticks);
}

TEST(redis_topic, channels_payload_is_a_json_string_of_the_joined_list) {
    using V = std::vector<std::string>;
    EXPECT_EQ(parse_channels_payload(R"("home,lobby")"), V({"home", "lobby"}));
    EXPECT_EQ(parse_channels_payload(R"( "a" )"), V({"a"}));
    EXPECT_EQ(parse_channels_payload(R"("a,,b,")"), V({"a", "b"}));
    EXPECT_EQ(parse_channels_payload(R"("")"), V{});
    EXPECT_EQ(parse_channels_payload(R"("caf\u00e9,\ud83d\ude00,q\"t")"),
              V({"caf\xc3\xa9", "\xf0\x9f\x98\x80", "q\"t"}));
    EXPECT_EQ(parse_channels_payload("bare,text"), V({"bare", "text"}));
    // What write_channels_command writes reads back.
    std::string msg;
    write_channels_command(topic_kind::subscribe, "X", "a\"b,c\\d", msg);
    const topic_message m = parse_topic_message(msg);
    EXPECT_EQ(parse_channels_payload(m.json), V({"a\"b", "c\\d"}));
    for (const char* bad : {R"("unterminated)", R"("bad \x escape")", R"("\u12")", "\"ctl\x01\""})
        EXPECT_FALSE(parse_channels_payload(bad).has_value()) << bad;
}

}  // namespace
}  // namespace ssepush::proto

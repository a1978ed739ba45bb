// GET /api/v1/queues renders the router's snapshots to the JSON it has always answered: the same
// members, names and values (nlohmann::json orders an object's members by name).
#include <catch2/catch.hpp>

#include "api/queue_admin_api.hpp"

using namespace volley;

TEST_CASE("queue list: a destination with its sources, paths and suspension") {
  delivery::QueueSnapshot q;
  q.domain = "example.com";
  q.queued = 7;
  q.ready = 4;
  q.deferred = 1;
  q.in_flight = 2;
  q.oldest_age_seconds = 60;
  q.connections = 1;
  delivery::SourceSnapshot s;
  s.source = "ip1";
  s.ready = 2;
  s.connections = 1;
  s.max_connections = 8;
  s.max_message_rate = delivery::Rate{100, 1000};
  s.max_messages_per_connection = 1000;
  s.max_recipients_per_transaction = 100;
  s.path = delivery::PathSnapshot{3, 4, delivery::Rate{50, 1000}, 1};
  q.sources.push_back(s);
  delivery::SourceSnapshot bare;
  bare.source = "ip2";
  bare.max_connections = 2;
  q.sources.push_back(bare);
  q.rollup = "google";
  q.provider = "google";
  q.state = "suspended";
  q.suspended = Suspension{1000, 2000, "maintenance"};
  CHECK(api::render_queues({q}) ==
        R"({"queues":[{"connections":1,"deferred":1,"domain":"example.com","in_flight":2,"oldest_age_seconds":60,)"
        R"("provider":"google","queued":7,"ready":4,"rollup":"google","sources":[)"
        R"({"backoff_level":1,"connections":1,"current_max_connections":4,"current_message_rate":"50/s",)"
        R"("limits":{"max_connection_rate":"unlimited","max_connections":8,"max_message_rate":"100/s",)"
        R"("max_messages_per_connection":1000,"max_recipients_per_transaction":100},"path_connections":3,)"
        R"("ready":2,"source":"ip1"},)"
        R"({"connections":0,"limits":{"max_connection_rate":"unlimited","max_connections":2,)"
        R"("max_message_rate":"unlimited","max_messages_per_connection":0,"max_recipients_per_transaction":0},)"
        R"("ready":0,"source":"ip2"}],)"
        R"("state":"suspended","suspended":{"reason":"maintenance","since_ms":1000,"until_ms":2000}}]})");
}

TEST_CASE("queue list: before the MX is known, no rollup, and no provider without a rule") {
  delivery::QueueSnapshot q;
  q.domain = "a.example";
  q.queued = 1;
  q.deferred = 1;
  q.state = "waiting";
  CHECK(api::render_queues({q}) ==
        R"({"queues":[{"connections":0,"deferred":1,"domain":"a.example","in_flight":0,"oldest_age_seconds":0,)"
        R"("queued":1,"ready":0,"sources":[],"state":"waiting"}]})");
  q.rollup = "a.example";
  CHECK(api::render_queues({q}).find(R"("rollup":"a.example")") != std::string::npos);
  CHECK(api::render_queues({q}).find("provider") == std::string::npos);
}

TEST_CASE("queue list: a suspended domain with nothing queued, and an empty list") {
  delivery::QueueSnapshot q;
  q.domain = "quiet.example";
  q.detailed = false;
  q.state = "suspended";
  q.suspended = Suspension{5, 0, ""};
  CHECK(api::render_queues({q}) ==
        R"({"queues":[{"connections":0,"domain":"quiet.example","queued":0,"state":"suspended",)"
        R"("suspended":{"reason":"","since_ms":5}}]})");
  CHECK(api::render_queues({}) == R"({"queues":[]})");
}

// volley-null-api: volleyd's HTTP server with nothing behind it. Every request is answered 202 at
// once, on the io thread, so `volley-loadgen --rate R` against it measures the floor of the
// injection latency on this machine (loadgen, loopback, Beast, scheduling) that volleyd's own
// figures are compared with (loadtest/README.md, "Injection latency"). Runs until SIGTERM/SIGINT.
#include <csignal>
#include <cstdio>
#include <string>

#include <utility>  // before Boost.Asio (see build-facts)

#include <CLI/CLI.hpp>
#include <boost/asio.hpp>

#include "core/config/host_port.hpp"
#include "net/http_server.hpp"

int main(int argc, char** argv) {
  CLI::App app{"volley-null-api: answers every HTTP request 202 without doing anything"};
  std::string listen = "127.0.0.1:0";
  app.add_option("--listen", listen, "address:port (port 0: the kernel picks; printed on stdout)");
  CLI11_PARSE(app, argc, argv);
  std::string error;
  auto where = volley::parse_host_port(listen, volley::HostPortRules{.default_port = std::nullopt, .allow_port_zero = true}, &error);
  if (!where) {
    std::fprintf(stderr, "volley-null-api: --listen: %s\n", error.c_str());
    return 2;
  }
  boost::asio::io_context io{1};
  // The same answer size as a 202 for one recipient.
  const std::string body =
      R"({"id":"0000000000000000000000","recipients":[{"email":"user@example.test","id":"0000000000000000000000-0","status":"queued"}]})";
  volley::HttpServer server(io, [&body](volley::HttpRequest&&, volley::Responder respond) {
    respond(volley::json_response(202, body));
  });
  server.start(*where);
  std::printf("listening %s:%u\n", where->host.c_str(), static_cast<unsigned>(server.port()));
  std::fflush(stdout);
  boost::asio::signal_set signals(io, SIGINT, SIGTERM);
  signals.async_wait([&](const boost::system::error_code&, int) { server.stop(); });
  io.run();
  return 0;
}

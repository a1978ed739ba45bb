#pragma once
// Streamed answers (HttpResponse::stream: an event stream) of the HTTP server's connections,
// kept apart so that a plain answer pays nothing for them: a connection holds one pointer, null
// until it answers with a stream. A mixin of net/http_server.cpp's ServerConnection<Stream>
// (plain or TLS), which befriends it: it drives that connection's stream and timers.
#include <utility>  // before Boost.Asio: Boost 1.74 uses std::exchange without including it

#include <atomic>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include <boost/asio/post.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include "net/http_connection.hpp"

namespace volley::http_detail {

template <class Conn>
class StreamedAnswers {
 public:
  // The producer's side of one stream: counts what waits unwritten and drops a slow reader. Like
  // a Responder it names its connection weakly and reaches it only while the answer gate is open
  // (net/http_connection.hpp): the producer (an actor) may outlive the server and its io_context.
  struct StreamSink final : HttpStream {
    StreamSink(std::shared_ptr<AnswerGate> g, std::weak_ptr<Conn> c, std::size_t max)
        : gate(std::move(g)), conn(std::move(c)), limit(max) {}
    bool write(std::string chunk) override {
      if (over.load(std::memory_order_acquire)) return false;
      if (chunk.empty()) return true;  // an empty chunk would end the body
      bool taken = false;
      const bool reached = gate->reach(conn, [&](std::shared_ptr<Conn> c) {
        if (buffered.fetch_add(chunk.size()) + chunk.size() > limit) {
          over.store(true, std::memory_order_release);
          post_close(std::move(c));  // finish() runs there
        } else {
          post_chunk(std::move(c), std::move(chunk), false);
          taken = true;
        }
      });
      if (!reached) finish();
      return taken;
    }
    void end() override {
      gate->reach(conn, [](std::shared_ptr<Conn> c) { post_chunk(std::move(c), {}, true); });
    }
    void on_close(std::function<void()> f) override {
      std::unique_lock lock(mu);
      if (closed) {
        lock.unlock();
        f();
        return;
      }
      on_close_fn = std::move(f);
    }
    void finish() {
      over.store(true, std::memory_order_release);
      std::function<void()> f;
      {
        std::lock_guard lock(mu);
        if (closed) return;
        closed = true;
        f = std::move(on_close_fn);
      }
      if (f) f();
    }
    std::shared_ptr<AnswerGate> gate;
    std::weak_ptr<Conn> conn;
    const std::size_t limit;
    std::atomic<std::size_t> buffered{0};
    std::atomic<bool> over{false};
    std::mutex mu;
    bool closed = false;
    std::function<void()> on_close_fn;
  };

  // From any thread: closing happens on the strand. `s` is the connection, as below.
  static void post_close(std::shared_ptr<Conn> s) {
    auto executor = s->stream_.get_executor();
    boost::asio::post(executor, [s = std::move(s)] { s->close(); });
  }

  // From any thread (the sink's producer); the write happens on the connection's strand. `s` is
  // the connection: the posted work takes the caller's reference (see ResponderState).
  static void post_chunk(std::shared_ptr<Conn> s, std::string chunk, bool last) {
    auto executor = s->stream_.get_executor();
    boost::asio::post(executor, [s = std::move(s), c = std::move(chunk), last]() mutable {
      if (s->closed_ || !s->streaming_) return;
      if (last) {
        s->streaming_->ending = true;
      } else {
        s->streaming_->chunks.push_back(std::move(c));
      }
      s->write_chunks();
    });
  }

 protected:
  // The status and headers with Transfer-Encoding: chunked, then r.stream gets the sink. The
  // connection serves no other request afterwards.
  void start_stream(HttpResponse r) {
    namespace http = boost::beast::http;
    auto& c = self();
    {
      std::lock_guard lock(c.shared_->mu);
      if (c.shared_->stopped) return c.close();
    }
    auto st = std::make_unique<StreamState>();
    st->head.version(11);
    st->head.result(static_cast<unsigned>(r.status));
    set_answer_headers(st->head, r, c.opts().server_name);
    st->head.chunked(true);
    st->head.keep_alive(false);
    st->serializer.emplace(st->head);
    st->produce = std::move(r.stream);
    streaming_ = std::move(st);
    c.keep_alive_ = false;
    c.lowest().expires_after(c.opts().write_timeout);
    http::async_write_header(c.stream_, *streaming_->serializer, [s = c.shared_from_this()](boost::beast::error_code ec, std::size_t) {
      if (ec) return s->close();
      s->lowest().expires_never();  // a stream may be quiet for hours; chunk writes have their own timeout
      s->watch_for_close();
      auto sink = std::make_shared<StreamSink>(s->shared_->gate, s->weak_from_this(), s->opts().max_stream_buffer);
      s->streaming_->sink = sink;
      auto produce = std::move(s->streaming_->produce);
      try {
        produce(sink);
      } catch (const std::exception&) {
        s->close();
      }
    });
  }

  // When the connection closes or goes away: the producer learns that its stream is over.
  void end_stream() {
    if (streaming_ && streaming_->sink) streaming_->sink->finish();
  }

 private:
  struct StreamState {
    boost::beast::http::response<boost::beast::http::empty_body> head;
    std::optional<boost::beast::http::response_serializer<boost::beast::http::empty_body>> serializer;
    std::function<void(std::shared_ptr<HttpStream>)> produce;
    std::shared_ptr<StreamSink> sink;
    std::deque<std::string> chunks;  // waiting to be written, on the strand
    bool writing = false;
    bool ending = false;
  };

  Conn& self() { return static_cast<Conn&>(*this); }

  // The client sends nothing while it reads a stream: a read completes when it goes away, which
  // ends the stream (and so its subscription) without waiting for the next chunk to fail.
  void watch_for_close() {
    auto& c = self();
    c.stream_.async_read_some(boost::asio::buffer(c.scratch_), [s = c.shared_from_this()](boost::beast::error_code ec, std::size_t) {
      if (ec) return s->close();
      s->watch_for_close();
    });
  }

  void write_chunks() {
    namespace http = boost::beast::http;
    auto& c = self();
    auto& st = *streaming_;
    if (st.writing || c.closed_) return;
    if (st.chunks.empty()) {
      if (!st.ending) return;
      st.writing = true;
      c.lowest().expires_after(c.opts().write_timeout);  // the write's timer only: a read is pending
      boost::asio::async_write(c.stream_, http::make_chunk_last(),
                               [s = c.shared_from_this()](boost::beast::error_code, std::size_t) { s->close(); });
      return;
    }
    st.writing = true;
    c.lowest().expires_after(c.opts().write_timeout);
    boost::asio::async_write(c.stream_, http::make_chunk(boost::asio::buffer(st.chunks.front())),
                             [s = c.shared_from_this()](boost::beast::error_code ec, std::size_t) {
                               if (ec) return s->close();
                               auto& state = *s->streaming_;
                               state.sink->buffered.fetch_sub(state.chunks.front().size());
                               state.chunks.pop_front();
                               state.writing = false;
                               s->write_chunks();
                             });
  }

  std::unique_ptr<StreamState> streaming_;  // only while answering with a stream
};

}  // namespace volley::http_detail

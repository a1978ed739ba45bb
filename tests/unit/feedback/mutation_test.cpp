// Deterministic fuzzing: every corpus sample under seeded mutations (bit flips, byte inserts and
// deletes, splices of two samples, truncation, duplicated boundaries and headers). parse_report must
// return, and what it returns must stay within its limits. Under ASan/UBSan this also checks
// memory safety and leaks; the seed is fixed so a failure reproduces.
#include <catch2/catch.hpp>

#include <random>

#include "core/feedback/report.hpp"
#include "report_bounds.hpp"
#include "samples.hpp"

using namespace volley::feedback;

namespace {

constexpr int kMutationsPerSample = 100;
constexpr int kMutationsPerLargeSample = 8;  // samples over 64 KiB cost more per parse
constexpr std::size_t kLarge = 64 * 1024;

class Mutator {
 public:
  Mutator(std::uint32_t seed, const std::vector<std::string>& corpus) : rng_(seed), corpus_(corpus) {}

  std::string mutate(std::string s) {
    int rounds = pick(1, 4);
    for (int i = 0; i < rounds; ++i) s = once(std::move(s));
    return s;
  }

 private:
  int pick(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng_); }
  std::size_t at(const std::string& s) { return s.empty() ? 0 : std::uniform_int_distribution<std::size_t>(0, s.size() - 1)(rng_); }

  // Bytes MIME parsers care about, inserted more often than chance would.
  char interesting() {
    static constexpr char kBytes[] = {'\r', '\n', '-', ':', ';', '"', '=', '<', '>', '(', ')', '\0', ' ', '\t', '\xff'};
    return pick(0, 2) == 0 ? static_cast<char>(pick(0, 255)) : kBytes[pick(0, sizeof kBytes - 1)];
  }

  // The line starting at or before `pos`.
  std::string line_at(const std::string& s, std::size_t pos) {
    auto start = s.rfind('\n', pos);
    start = start == std::string::npos ? 0 : start + 1;
    auto end = s.find('\n', start);
    return s.substr(start, end == std::string::npos ? std::string::npos : end - start + 1);
  }

  std::string once(std::string s) {
    if (s.empty()) return std::string(1, interesting());
    switch (pick(0, 7)) {
      case 0: {  // flip bits
        for (int i = pick(1, 8); i > 0; --i) s[at(s)] ^= static_cast<char>(1 << pick(0, 7));
        return s;
      }
      case 1: {  // insert bytes
        auto pos = at(s);
        for (int i = pick(1, 16); i > 0; --i) s.insert(s.begin() + static_cast<std::ptrdiff_t>(pos), interesting());
        return s;
      }
      case 2: {  // delete a range
        auto pos = at(s);
        return s.erase(pos, static_cast<std::size_t>(pick(1, 256)));
      }
      case 3: {  // splice: the head of this sample, the tail of another
        const auto& other = corpus_[static_cast<std::size_t>(pick(0, static_cast<int>(corpus_.size()) - 1))];
        return s.substr(0, at(s)) + other.substr(at(other));
      }
      case 4:  // truncate
        return s.substr(0, at(s));
      case 5: {  // duplicate a boundary line, many times
        auto dash = s.find("\n--", at(s));
        if (dash == std::string::npos) dash = s.find("\n--");
        if (dash == std::string::npos) return s;
        auto line = line_at(s, dash + 1);
        std::string copies;
        for (int i = pick(1, 64); i > 0; --i) copies += line;
        return s.insert(dash + 1, copies);
      }
      case 6: {  // duplicate a header or field line, many times
        auto colon = s.find(':', at(s));
        if (colon == std::string::npos) return s;
        auto line = line_at(s, colon);
        std::string copies;
        for (int i = pick(1, 300); i > 0; --i) copies += line;
        return s.insert(colon - std::min(colon, line.find(':')), copies);
      }
      default: {  // swap the line-end convention of a region
        auto from = at(s), to = std::min(s.size(), from + static_cast<std::size_t>(pick(1, 2048)));
        std::string region;
        for (auto i = from; i < to; ++i) {
          if (s[i] == '\r') continue;
          if (s[i] == '\n' && pick(0, 1)) region += '\r';
          region += s[i];
        }
        return s.substr(0, from) + region + s.substr(to);
      }
    }
  }

  std::mt19937 rng_;
  const std::vector<std::string>& corpus_;
};

}  // namespace

TEST_CASE("mutated corpus samples never crash the parser and stay within bounds") {
  std::vector<std::string> corpus;
  for (const auto& name : test::sample_names()) corpus.push_back(test::read_sample(name));
  REQUIRE(corpus.size() >= 24);

  Mutator mutator(20240305, corpus);
  int parses = 0, recognised = 0;
  for (std::size_t k = 0; k < corpus.size(); ++k) {
    const auto& sample = corpus[k];
    int rounds = sample.size() > kLarge ? kMutationsPerLargeSample : kMutationsPerSample;
    for (int i = 0; i < rounds; ++i) {
      auto input = mutator.mutate(sample);
      auto report = parse_report(input);
      ++parses;
      if (report.kind != Report::Kind::unrecognised) ++recognised;
      if (!test::within_bounds(report)) FAIL("out of bounds: mutation " << i << " of " << test::sample_names()[k]);
    }
  }
  CHECK(parses > 3000);
  // Most single mutations leave a report readable: a parser that gave up on everything would pass
  // the bounds checks too.
  CHECK(recognised > parses / 3);
}

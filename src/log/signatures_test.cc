#include "log/signatures.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cstring>
#include <random>

using namespace xsguard::logwatch;

namespace {
std::vector<Match> naive(const std::vector<std::string>& pats, const std::string& text) {
  std::vector<Match> out;
  for (size_t i = 0; i < text.size(); ++i)
    for (size_t p = 0; p < pats.size(); ++p)
      if (text.compare(i, pats[p].size(), pats[p]) == 0) out.push_back({uint32_t(i), uint16_t(p)});
  return out;
}
}  // namespace

TEST_CASE("signatures: the matcher finds exactly what a naive search finds") {
  std::vector<std::string> pats;
  for (const auto& s : signatures()) pats.emplace_back(s.text);
  MultiMatcher m(pats);
  std::mt19937 rng(7);
  const char* alphabet = "abcdeINSTALL FAILED.No disks found space left on device\n";
  for (int round = 0; round < 50; ++round) {
    std::string text;
    for (int i = 0; i < (round % 2 ? 3000 : 20000); ++i) text += alphabet[rng() % std::strlen(alphabet)];
    // Plant a few real signatures, including at the very start and end.
    text.insert(0, pats[rng() % pats.size()]);
    text.insert(rng() % text.size(), pats[rng() % pats.size()]);
    text.insert(text.size() / 2 - 3, pats[rng() % pats.size()]);  // across the split
    text += pats[rng() % pats.size()];
    std::vector<Match> got;
    m.scan(text.data(), text.size(), got);
    auto want = naive(pats, text);
    auto key = [](const Match& a, const Match& b) {
      return a.offset != b.offset ? a.offset < b.offset : a.pattern < b.pattern;
    };
    std::sort(got.begin(), got.end(), key);
    std::sort(want.begin(), want.end(), key);
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      CHECK(got[i].offset == want[i].offset);
      CHECK(got[i].pattern == want[i].pattern);
    }
  }
}

TEST_CASE("signatures: short inputs and empty pattern sets") {
  MultiMatcher m({"abc", "abcd"});
  std::vector<Match> out;
  m.scan("ab", 2, out);
  CHECK(out.empty());
  m.scan("xabcd", 5, out);
  CHECK(out.size() == 2);
  MultiMatcher none({});
  none.scan("anything", 8, out);
  CHECK(out.size() == 2);
}

TEST_CASE("signatures: every signature maps to a kind and the list is stable") {
  CHECK(signatures().size() >= 12);
  CHECK(signature_matcher().size() == signatures().size());
  for (const auto& s : signatures()) CHECK(std::strlen(s.text) >= 13);
}

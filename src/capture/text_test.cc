#include "capture/text.h"

#include <doctest/doctest.h>

using namespace xsguard::capture;

TEST_CASE("capture text: lines, blanks, comments, text or binary") {
  CHECK(split_lines("a\nb\n") == Lines{"a", "b"});
  CHECK(split_lines("a\nb") == Lines{"a", "b"});
  CHECK(split_lines("") == Lines{});
  CHECK(join_lines({"a", "b"}) == "a\nb\n");
  CHECK(normalize("  a \t b  c ") == "a b c");
  CHECK(is_comment_or_blank("   # x"));
  CHECK(is_comment_or_blank(" \t"));
  CHECK(!is_comment_or_blank("x # y"));
  CHECK(fields("a\tb  c") == std::vector<std::string>{"a", "b", "c"});
  CHECK(looks_like_text("SHELL=/bin/bash\n"));
  CHECK(!looks_like_text(std::string("a\0b", 3)));
  CHECK(!looks_like_text("\x01\x02\x03\x04"));
  CHECK(printable("a\x1b[2Jb\tc") == "a?[2Jb\tc");
}

TEST_CASE("capture text: unified diffs") {
  CHECK(unified_diff("a", "b", {"x"}, {"x"}).empty());
  std::string d = unified_diff("a/f", "b/f", {"1", "2", "3"}, {"1", "2", "3", "4"});
  CHECK(d == "--- a/f\n+++ b/f\n@@ -1,3 +1,4 @@\n 1\n 2\n 3\n+4\n");
  d = unified_diff("a/f", "b/f", {"k=1"}, {"k=2"});
  CHECK(d == "--- a/f\n+++ b/f\n@@ -1,1 +1,1 @@\n-k=1\n+k=2\n");
  d = unified_diff("/dev/null", "b/f", {}, {"new"});
  CHECK(d == "--- /dev/null\n+++ b/f\n@@ -0,0 +1,1 @@\n+new\n");
  // Two changes far apart make two hunks.
  Lines a, b;
  for (int i = 0; i < 20; ++i) a.push_back(std::to_string(i));
  b = a;
  b[1] = "one";
  b[18] = "eighteen";
  d = unified_diff("a", "b", a, b);
  CHECK(d.find("@@ -1,5 +1,5 @@") != std::string::npos);
  CHECK(d.find("@@ -16,5 +16,5 @@") != std::string::npos);
}

#include "tui/text.h"

#include <doctest/doctest.h>

using namespace xsguard::tui;

TEST_CASE("printable keeps ASCII and replaces everything else") {
  CHECK(printable("root-xs7") == "root-xs7");
  CHECK(printable("a\tb") == "a b");
  CHECK(printable("\x1b[2Jx") == "?[2Jx");
  CHECK(printable("caf\xc3\xa9") == "caf??");
}

TEST_CASE("fit cuts with an ellipsis") {
  CHECK(fit("abcdef", 6) == "abcdef");
  CHECK(fit("abcdefgh", 6) == "abc...");
  CHECK(fit("abcdef", 2) == "ab");
  CHECK(fit("abc", 0).empty());
}

TEST_CASE("wrap breaks at spaces, keeps indentation and breaks long words") {
  auto lines = wrap("one two three four", 10);
  REQUIRE(lines.size() == 2);
  CHECK(lines[0] == "one two");
  CHECK(lines[1] == "three four");
  lines = wrap("  - a list item that wraps", 12);
  CHECK(lines[0] == "  - a list");
  CHECK(lines[1] == "  item that");
  lines = wrap("xxxxxxxxxxxxxxxxxxxx", 8);
  REQUIRE(lines.size() == 3);
  CHECK(lines[0] == "xxxxxxxx");
  CHECK(lines[2] == "xxxx");
  lines = wrap("para one\n\npara two", 40);
  REQUIRE(lines.size() == 3);
  CHECK(lines[1].empty());
  for (const auto& l : wrap("a b c d e f g h i j k l m n o p q r s t u v w x y z", 5)) CHECK(l.size() <= 5);
}

#include "log/record.h"

#include <doctest/doctest.h>

using namespace xsguard::logwatch;

TEST_CASE("record: python list reprs") {
  std::vector<std::string> v;
  CHECK(parse_python_list("['cp', '-a', '/tmp/a b', '/tmp/root/']", v));
  CHECK(v == std::vector<std::string>{"cp", "-a", "/tmp/a b", "/tmp/root/"});
  v.clear();
  CHECK(parse_python_list("[u'echo', \"it's\", 'a\\'b', 'tab\\there', 3, None]", v));
  CHECK(v == std::vector<std::string>{"echo", "it's", "a'b", "tab\there", "3", "None"});
  v.clear();
  CHECK(parse_python_list("[]", v));
  CHECK(v.empty());
  CHECK_FALSE(parse_python_list("['unterminated", v));
  v.clear();
  CHECK_FALSE(parse_python_list("not a list", v));
}

TEST_CASE("record: command message and body") {
  Command c;
  CHECK(parse_command("ran ['ls', '/x']; rc 2", "STANDARD ERROR:\nls: cannot access '/x'", c));
  CHECK(c.rc == 2);
  CHECK(c.argv == std::vector<std::string>{"ls", "/x"});
  CHECK(c.err == "ls: cannot access '/x'");
  CHECK(c.out.empty());
  Command d;
  CHECK_FALSE(parse_command("ran away", "", d));
  CHECK(parse_command("ran ['a; rc 1', 'b']; rc 0", "", d));  // the last "; rc " counts
  CHECK(d.rc == 0);
  CHECK(d.argv.size() == 2);
}

TEST_CASE("record: task names from functions and bound methods") {
  CHECK(task_name("TASK: Evaluating <function writeFstab at 0x7f8b1c2d3e40>[]") == "writeFstab");
  CHECK(task_name("TASK: Evaluating <bound method ThirdGenUpgrader.completeUpgrade of "
                  "<upgrade.ThirdGenUpgrader object at 0x7f>>['mounts']") == "completeUpgrade");
  CHECK(task_name("TASK: Evaluating something else") == "something");
  CHECK(task_name("no task") == "");
}

TEST_CASE("record: log timestamps") {
  CHECK(parse_log_time("1970-01-01 00:00:00") == 0);
  CHECK(parse_log_time("2017-06-20 09:12:00") == 1497949920);
  CHECK(parse_log_time("2017-06-20 09:12") == -1);
  CHECK(parse_log_time("2017-13-20 09:12:00") == -1);
  CHECK(parse_log_time("20x7-06-20 09:12:00") == -1);
}

#include "capture/rooted.h"

#include <doctest/doctest.h>
#include <sys/stat.h>

#include "capture/testing/tree.h"
#include "model/errors.h"

using namespace xsguard;
using namespace xsguard::capture;
using xsguard::capture::testing::FailingIo;
using xsguard::capture::testing::TempTree;

TEST_CASE("capture rooted: symlinks resolve inside the root, never outside it") {
  TempTree outside, t;
  outside.put("secret", "outside\n");
  t.put("etc/real", "inside\n");
  t.link("etc/abs", "/etc/real");                 // absolute: from the root
  t.link("etc/escape", outside / "secret");       // absolute path of a file outside
  t.link("etc/dotdot", "../../../../../etc/real");  // ".." stops at the root
  t.link("etc/loop", "loop");
  RootedDir root(t.path());

  FileRead a = root.read("etc/abs", 1024);
  CHECK(a.status == FileRead::Status::ok);
  CHECK(a.bytes == "inside\n");
  CHECK(a.via_symlink);
  CHECK(a.resolved == "etc/real");
  CHECK(root.read("etc/dotdot", 1024).bytes == "inside\n");
  FileRead e = root.read("etc/escape", 1024);
  CHECK(e.status == FileRead::Status::missing);  // looked up under the root, not followed out
  CHECK(root.read("etc/loop", 1024).status == FileRead::Status::unreadable);
  CHECK(root.link_target("etc/abs").value() == "/etc/real");
  CHECK(!root.link_target("etc/real"));
}

TEST_CASE("capture rooted: only regular files are read, within the limit") {
  TempTree t;
  t.put("big", std::string(2000, 'x'));
  t.mkdirs("dir");
  REQUIRE(mkfifo((t / "fifo").c_str(), 0600) == 0);
  RootedDir root(t.path());
  CHECK(root.read("big", 1000).status == FileRead::Status::too_large);
  CHECK(root.read("big", 2000).status == FileRead::Status::ok);
  CHECK(root.read("fifo", 10).status == FileRead::Status::not_regular);  // never opened: no hang
  CHECK(root.read("dir", 10).status == FileRead::Status::not_regular);
  CHECK(root.read("none/deeper", 10).status == FileRead::Status::missing);
  CHECK(root.type_of("dir") == S_IFDIR);
  CHECK(root.type_of("none") == 0);
  CHECK_THROWS_AS(RootedDir(t / "big"), InputError);
}

TEST_CASE("capture rooted: list sorts, types entries and says when it stopped early") {
  TempTree t;
  t.put("d/b", "");
  t.put("d/a", "");
  t.link("d/c", "a");
  RootedDir root(t.path());
  bool more = false;
  auto l = root.list("d", 10, &more);
  REQUIRE(l);
  REQUIRE(l->size() == 3);
  CHECK(l->at(0).name == "a");
  CHECK(l->at(2).type == DirEntry::Type::symlink);
  CHECK(!more);
  CHECK(root.list("d", 2, &more)->size() == 2);
  CHECK(more);
  CHECK(!root.list("d/a", 10));
}

TEST_CASE("capture rooted: writes replace whole files, inside the root only") {
  TempTree outside, t;
  t.put("etc/fstab", "old\n", 0640);
  t.link("etc/link", "/etc/fstab");
  t.link("etc/out", outside.path());
  RootedDir root(t.path());
  Io& io = system_io();

  root.write_file(io, "etc/fstab", "new\n", 0640, ::getuid(), ::getgid());
  CHECK(t.get("etc/fstab") == "new\n");
  CHECK(t.mode("etc/fstab") == 0640);
  root.write_file(io, "etc/link", "through the link\n", 0644, ::getuid(), ::getgid());
  CHECK(t.get("etc/fstab") == "through the link\n");  // the link's target inside the root
  root.write_file(io, "var/spool/cron/root", "x\n", 0600, ::getuid(), ::getgid());
  CHECK(t.get("var/spool/cron/root") == "x\n");
  root.write_file(io, "etc/out/file", "y\n", 0644, ::getuid(), ::getgid());
  CHECK(!outside.exists("file"));  // the absolute target is created under the root
  CHECK(t.exists(outside.path().substr(1) + "/file"));

  t.mkdirs("etc/adir");
  CHECK_THROWS_AS(root.write_file(io, "etc/adir", "z", 0644, 0, 0), RefusedError);

  root.set_mode(io, "etc/fstab", 0755);
  CHECK(t.mode("etc/fstab") == 0755);
}

TEST_CASE("capture rooted: a failed fsync leaves the old file and no partial file") {
  TempTree t;
  t.put("etc/crontab", "old\n");
  RootedDir root(t.path());
  FailingIo io;
  io.fail_fsync_at = 1;
  CHECK_THROWS_AS(root.write_file(io, "etc/crontab", "new\n", 0644, ::getuid(), ::getgid()), RefusedError);
  CHECK(t.get("etc/crontab") == "old\n");
  CHECK(!t.exists("etc/.crontab.xsguard-partial"));
}

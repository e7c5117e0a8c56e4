#include "store/blob_tree.h"

#include <doctest/doctest.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <map>
#include <string>

using namespace xsguard::store;

TEST_CASE("DirReader: every entry but . and .., with its type, across many buffers") {
  char t[] = "/tmp/xsguard-dirreader.XXXXXX";
  REQUIRE(mkdtemp(t) != nullptr);
  const std::string dir = t;
  std::map<std::string, unsigned> want;
  for (int i = 0; i < 3000; ++i) {  // names of ~100 bytes: several 32 KiB reads
    std::string n = std::string(90, 'f') + std::to_string(i);
    int fd = open((dir + "/" + n).c_str(), O_WRONLY | O_CREAT, 0600);
    REQUIRE(fd >= 0);
    close(fd);
    want[n] = S_IFREG;
  }
  REQUIRE(mkdir((dir + "/sub").c_str(), 0755) == 0);
  REQUIRE(symlink("/nowhere", (dir + "/link").c_str()) == 0);
  want["sub"] = S_IFDIR;
  want["link"] = S_IFLNK;
  Fd fd(open_dir_nofollow(AT_FDCWD, dir.c_str()));
  REQUIRE(fd.ok());
  DirReader r(fd.get());
  std::map<std::string, unsigned> got;
  for (DirEntry e; r.next(e);) {
    struct stat st {};
    REQUIRE(fstatat(fd.get(), e.name, &st, AT_SYMLINK_NOFOLLOW) == 0);
    got[e.name] = e.type ? e.type : unsigned(st.st_mode & S_IFMT);
  }
  CHECK(r.err() == 0);
  CHECK(got == want);
  Fd file(open((dir + "/link").c_str(), O_PATH | O_NOFOLLOW));
  DirReader bad(file.get());
  DirEntry e;
  CHECK_FALSE(bad.next(e));
  CHECK(r.err() == 0);
  CHECK(bad.err() != 0);
  CHECK(system(("rm -rf '" + dir + "'").c_str()) == 0);
}

// Test support for the capture and post tests: a temporary directory tree removed
// at the end, files written into it in one call, and an Io whose Nth fsync fails.
#pragma once
#include <ftw.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <string>

#include "probe/io.h"

namespace xsguard::capture::testing {

class TempTree {
 public:
  TempTree() {
    char t[] = "/tmp/xsguard-capture-XXXXXX";
    path_ = mkdtemp(t);
  }
  ~TempTree() {
    nftw(
        path_.c_str(), [](const char* p, const struct stat*, int, struct FTW*) { return ::remove(p); }, 16,
        FTW_DEPTH | FTW_PHYS);
  }
  const std::string& path() const { return path_; }
  std::string operator/(const std::string& rel) const { return path_ + "/" + rel; }

  // Writes rel (creating its directories) with the given mode.
  void put(const std::string& rel, const std::string& bytes, mode_t mode = 0644) const {
    if (rel.find('/') != std::string::npos) mkdirs(rel.substr(0, rel.rfind('/')));
    std::ofstream(*this / rel, std::ios::binary | std::ios::trunc) << bytes;
    ::chmod((*this / rel).c_str(), mode);
  }
  void link(const std::string& rel, const std::string& target) const {
    if (rel.find('/') != std::string::npos) mkdirs(rel.substr(0, rel.rfind('/')));
    ::symlink(target.c_str(), (*this / rel).c_str());
  }
  void mkdirs(const std::string& rel) const {
    std::string p = path_;
    std::istringstream in(rel);
    for (std::string c; std::getline(in, c, '/');)
      if (!c.empty()) ::mkdir((p += "/" + c).c_str(), 0755);
  }
  std::string get(const std::string& rel) const {
    std::ifstream in(*this / rel, std::ios::binary);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
  }
  bool exists(const std::string& rel) const {
    struct stat st;
    return ::lstat((*this / rel).c_str(), &st) == 0;
  }
  mode_t mode(const std::string& rel) const {
    struct stat st {};
    ::lstat((*this / rel).c_str(), &st);
    return st.st_mode & 07777;
  }

 private:
  std::string path_;
};

// Fails the Nth fsync (1-based) with EIO; counts every call.
struct FailingIo : Io {
  int fail_fsync_at = 0;
  int fsyncs = 0;
  bool fsync(int fd) override {
    if (++fsyncs == fail_fsync_at) {
      errno = EIO;
      return false;
    }
    return Io::fsync(fd);
  }
};

}  // namespace xsguard::capture::testing

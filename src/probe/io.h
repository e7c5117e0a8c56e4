// The one seam every write to a disk or a file goes through, so tests can make the
// Nth write or fsync fail and check what is left behind.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace xsguard {

class Io {
 public:
  virtual ~Io() = default;
  // Writes all of buf at offset; false (errno set) on any failure or short write.
  virtual bool pwrite_all(int fd, const void* buf, size_t len, uint64_t offset);
  virtual bool fsync(int fd);
};

// The system itself.
Io& system_io();

// Writes bytes to DIR/NAME so that the file is either complete or absent: a
// ".partial" file, fsync, rename, fsync of the directory. Refuses to follow a symlink
// at DIR/NAME and to replace an existing file. Throws std::runtime_error.
void write_file_durably(Io& io, const std::string& dir, const std::string& name,
                        const std::string& bytes);

// The whole file, at most max_bytes (more is an error). Throws InputError.
std::string read_small_file(const std::string& path, size_t max_bytes);

}  // namespace xsguard

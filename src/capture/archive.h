// The capture file: a gzip-compressed pax tar holding inventory.json, inventory.txt
// and files/<path> for every captured file, with its mode, owner and mtime.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "capture/collect.h"
#include "probe/io.h"

namespace xsguard::capture {

// Writes the entries to path: PATH.partial first (never through a symlink), fsync,
// rename, fsync of the directory; refuses to replace an existing file. Every write
// goes through io. Throws RefusedError.
void write_capture(Io& io, const std::string& path, const std::vector<ArchivedFile>& entries);

struct CaptureLimits {
  uint64_t max_entry = uint64_t(16) << 20;
  uint64_t max_total = uint64_t(128) << 20;
  size_t max_entries = 100000;
};

// The entries of a capture, by name. Names other than inventory.json, inventory.txt
// and files/<relative path without "." or ".." components>, entries that are not
// regular files, and captures beyond the limits are an InputError.
std::map<std::string, ArchivedFile> read_capture(const std::string& path,
                                                 const CaptureLimits& l = {});

}  // namespace xsguard::capture

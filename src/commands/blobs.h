// xsguard blobs scan / prune / restore: measure and safely shrink xapi's message store
// (ROOT/var/lib/xcp/blobs), whose size decides how long the installer's upgrade sits at
// 72%: its restore step copies the tree with `cp -a`, then walks it and lchown()s
// every entry.
#pragma once
#include <cstdint>
#include <functional>
#include <iosfwd>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "model/finding.h"
#include "probe/io.h"
#include "report/report.h"

namespace xsguard {

// ---- The prediction model ------------------------------------------------------
// Seconds the installer's restore of the tree takes:
//   T = files * kFileSeconds + symlinks * kLinkSeconds + directories * kDirSeconds
//       + bytes * kByteSeconds
// (see blobs.cc for how the constants were measured).
struct RestoreCost {
  uint64_t files = 0, symlinks = 0, directories = 0, bytes = 0;
};
double predict_restore_seconds(const RestoreCost& c);
// info under 1 minute, low under 5, medium under 20, high from 20 minutes on.
Severity severity_for_seconds(double seconds);

// ---- scan ---------------------------------------------------------------------
struct PartTally {
  uint64_t entries = 0, symlinks = 0, dangling = 0, outside = 0, bytes = 0;
};

struct BlobsScan {
  std::string root, blobs_dir, host_path;
  int64_t now = 0;
  uint64_t total_entries = 0, directories = 0, symlinks = 0, dangling = 0, outside = 0, bytes = 0,
           unreadable_dirs = 0;
  // message_files, class_links, uuids, refs, gen, rrds, other
  std::vector<std::pair<std::string, PartTally>> parts;
  uint64_t messages = 0;
  int64_t oldest_key = 0, newest_key = 0;                       // message timestamps (10 us units)
  std::vector<std::pair<std::string, uint64_t>> age_histogram;  // bucket -> messages
  std::vector<std::pair<std::string, uint64_t>> classes;  // by per-class links, commonest first
  std::vector<std::pair<std::string, uint64_t>> names;    // from a sample, commonest first
  uint64_t names_sampled = 0;
  RestoreCost cost;
  double predicted_seconds = 0;
};

// How a scan spreads its work. Tests set these to reach every path.
struct ScanTuning {
  size_t threads = 0;                  // 0: one per CPU, at most 4
  size_t max_deferred = 65536;         // links a thread keeps until the index exists, then waits
  std::function<void()> before_index;  // runs when messages/ is read, before its index is used
};

// Walks the tree under root (throws InputError when there is none). now: Unix time.
BlobsScan scan_blobs(const std::string& root, int64_t now, const ScanTuning& tuning = {});
nlohmann::ordered_json scan_to_json(const BlobsScan& s);
// blobs.too_many: always returned (info when the restore is quick).
Finding blobs_finding(const BlobsScan& s);

struct BlobsScanOptions {
  std::string root;
  bool json = false;
  int64_t now = 0;  // 0: the current time
};
int run_blobs_scan(const BlobsScanOptions& o, std::ostream& out);

// ---- prune --------------------------------------------------------------------
struct BlobsPruneOptions {
  std::string root;
  std::optional<int64_t> older_than_days;
  std::optional<uint64_t> keep_newest;
  std::string backup;  // "" : ROOT/var/lib/xcp/xsguard-blobs-<UTC>.tar.gz
  bool apply = false;
  int gzip_level = 6;  // measured smaller and no slower than 1 on a 1M-entry tree
  int64_t now = 0;     // 0: the current time
};

// Test seam: called at the named points of an --apply run ("archived", "verified",
// "removing" before each removal with the entry's path). Throwing from it simulates
// an interruption.
struct PruneHooks {
  std::function<void(const std::string& point, const std::string& rel)> at;
};

int run_blobs_prune(const BlobsPruneOptions& o, Io& io, std::ostream& out,
                    const PruneHooks& hooks = {});

// ---- restore ------------------------------------------------------------------
struct BlobsRestoreOptions {
  std::string archive;
  std::string root;
  bool apply = false;
};
int run_blobs_restore(const BlobsRestoreOptions& o, std::ostream& out);

}  // namespace xsguard

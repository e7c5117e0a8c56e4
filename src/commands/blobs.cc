#include "commands/blobs.h"

#include <archive.h>
#include <archive_entry.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <ctime>
#include <memory>
#include <mutex>
#include <ostream>
#include <unordered_map>

#include "commands/disk_change.h"
#include "model/errors.h"
#include "store/blob_tree.h"
#include "store/journal.h"
#include "store/tar_archive.h"
#include "store/task_pool.h"

namespace xsguard {

using namespace store;

// ---- The prediction model ------------------------------------------------------
//
// The installer's restore step does, for the whole tree, `cp -a` from the backup
// partition (mounted read-only, caches cold) to the new root, then a Python os.walk()
// that lstat()s and lchown()s every entry. Its time is linear in the entries, with a
// different cost for a file (open, read, create, write, set owner/mode/times) than for
// a symlink (readlink, symlink, set owner/times) or a directory, plus a small cost
// per byte.
//
// Calibration (bench/blobs.bench.sh measures the same on the machine it runs on): a
// tree made by tools/mkblobs with 200,000 messages (1,000,121 entries: 200,020 files,
// the messages of about 460 bytes and 20 rrds; 800,000 absolute symlinks; 101
// directories), ext4 on a virtio disk, 2 CPUs with one other CPU-bound process running
// (load average 1.0), page cache dropped (echo 3 > /proc/sys/vm/drop_caches) before each
// copy:
//   cp -a of the whole tree:                        60.2 s
//   Python os.walk + lstat + lchown of the copy:    10.9 s
//   together 71.1 s, 71 us per entry (an earlier run at load average 2: 66.2 s)
// The split between kinds comes from trees of one kind (made by a warm copy, so that
// their inodes are packed as the whole tree's are not): 200,000 message files cost
// 134 us each and 200,000 symlinks 128 us each, copy plus walk. In the whole tree an
// entry cost 0.55 times that, so both are scaled to the whole tree's time: file 74 us,
// symlink 70 us, directory taken as a symlink; bytes at 2 ns each
// (500 MB/s) only matter for rrds. The creation of entries on the target dominates, so
// a warm cache does not make it much faster. A spinning disk is slower still: these
// figures are a floor, which is why hosts in the field with a few million entries sit
// at 72% for up to an hour.
constexpr double kFileSeconds = 74e-6;
constexpr double kLinkSeconds = 70e-6;
constexpr double kDirSeconds = 70e-6;
constexpr double kByteSeconds = 2e-9;

double predict_restore_seconds(const RestoreCost& c) {
  return double(c.files) * kFileSeconds + double(c.symlinks) * kLinkSeconds +
         double(c.directories) * kDirSeconds + double(c.bytes) * kByteSeconds;
}

Severity severity_for_seconds(double s) {
  if (s < 60) return Severity::info;
  if (s < 5 * 60) return Severity::low;
  if (s < 20 * 60) return Severity::medium;
  return Severity::high;
}

static std::string human_seconds(double s) {
  if (s < 90) return fmt::format("{:.0f} s", s);
  if (s < 90 * 60) return fmt::format("{:.0f} min", s / 60);
  return fmt::format("{:.1f} h", s / 3600);
}

static int64_t now_or(int64_t now) { return now ? now : int64_t(std::time(nullptr)); }

// ---- scanning ------------------------------------------------------------------

namespace {

struct AgeBucket {
  const char* name;
  int64_t max_days;  // exclusive upper bound
};
const AgeBucket kAges[] = {
    {"under 1 day", 1},   {"1-7 days", 7},    {"7-30 days", 30},   {"30-90 days", 90},
    {"90-365 days", 365}, {"1-2 years", 730}, {"2-5 years", 1826}, {"over 5 years", INT64_MAX}};
constexpr size_t kNameSamples = 4096;

struct Tallies {
  PartTally part[7];
  PartTally& of(Part p) { return part[size_t(p)]; }
};

// The messages/ directory's own files: keys (sorted) and sizes, read once.
struct MessageIndex {
  std::vector<int64_t> keys;  // sorted, unique
  bool has(int64_t k) const { return std::binary_search(keys.begin(), keys.end(), k); }
};

// Everything the scan and the prune share: the tree's fd, the index of messages and
// the link-target rules.
class Tree {
 public:
  explicit Tree(const std::string& root) : loc_(find_blobs(root)) {
    fd_.reset(::open(loc_.path.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC));
    if (!fd_.ok()) throw InputError(loc_.path + ": " + std::strerror(errno));
    int m = open_dir_nofollow(fd_.get(), "messages");
    if (m >= 0) msg_.reset(m);
  }
  const BlobsLocation& loc() const { return loc_; }
  int fd() const { return fd_.get(); }
  int messages_fd() const { return msg_.get(); }

  // Reads messages/ (top level only): each message file's key, via fn(name, key, st);
  // subdirectory names into subdirs; other entries via other(name, type).
  // need_stat false: fn gets a zeroed stat when the directory entry says "file".
  template <class F, class G>
  void read_messages(F&& fn, G&& other, std::vector<std::string>& subdirs, uint64_t& errors,
                     bool need_stat = true) {
    if (!msg_.ok()) return;
    Walker w;
    w.enter = [](const WalkEntry&) { return false; };
    w.error = [&](const WalkError&) { ++errors; };
    w.visit = [&](const WalkEntry& e) {
      unsigned t = e.type;
      struct stat st {};
      bool stated = false;
      if (t == 0 || (t == S_IFREG && need_stat)) {
        if (fstatat(e.dirfd, e.name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
        t = st.st_mode & S_IFMT;
        stated = true;
      } else if (t == S_IFREG) {
        stated = true;
      }
      if (t == S_IFDIR) {
        subdirs.emplace_back(e.name);
        other(e, t);
        return;
      }
      auto key = message_key(e.name);
      if (t == S_IFREG && key && stated) {
        fn(e, *key, st);
        return;
      }
      other(e, t);
    };
    w.walk(msg_.get(), "messages");
  }

  // A link's verdict against the index: has(key) says whether it holds a message.
  enum class Verdict { to_message, dangling, outside, inside_ok };
  template <class Has>
  Verdict judge(const LinkTarget& t, Has&& has) const {
    switch (t.kind) {
      case LinkTarget::outside:
        return Verdict::outside;
      case LinkTarget::message:
        if (has(t.key)) return Verdict::to_message;
        // Not in the snapshot: it may have been written since (a running host). Ask
        // the tree itself before calling the link dangling.
        return exists_in_tree(fd_.get(), t.rel) ? Verdict::to_message : Verdict::dangling;
      case LinkTarget::inside:
        return exists_in_tree(fd_.get(), t.rel) ? Verdict::inside_ok : Verdict::dangling;
    }
    return Verdict::outside;
  }

 private:
  BlobsLocation loc_;
  Fd fd_, msg_;
};

std::string dir_part(const std::string& rel) {
  size_t s = rel.rfind('/');
  return s == std::string::npos ? std::string() : rel.substr(0, s);
}

// The <name> of a message file (first 4 KiB), "" when absent.
std::string message_name(int dirfd, const std::string& file) {
  int fd = openat(dirfd, file.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
  if (fd < 0) return "";
  char buf[4096];
  ssize_t n = ::read(fd, buf, sizeof buf);
  ::close(fd);
  if (n <= 0) return "";
  std::string_view s(buf, size_t(n));
  size_t a = s.find("<name>"), b = s.find("</name>");
  if (a == std::string_view::npos || b == std::string_view::npos || b < a + 6) return "";
  std::string name(s.substr(a + 6, std::min<size_t>(b - a - 6, 128)));
  for (char& c : name)
    if (c < 0x20 || c > 0x7e) c = '?';
  return name;
}

// The names of an even sample of the messages (keys sorted): name -> count, the first
// 1024 distinct names only. *sampled: the messages that had a name.
std::unordered_map<std::string, uint64_t> sample_message_names(int dirfd,
                                                               const std::vector<int64_t>& keys,
                                                               uint64_t* sampled) {
  std::unordered_map<std::string, uint64_t> names;
  *sampled = 0;
  if (keys.empty()) return names;
  const size_t step = std::max<size_t>(1, keys.size() / kNameSamples);
  for (size_t i = 0; i < keys.size(); i += step) {
    std::string n = message_name(dirfd, key_to_name(keys[i]));
    if (n.empty()) continue;
    ++*sampled;
    if (names.size() < 1024 || names.count(n)) ++names[n];
  }
  return names;
}

template <class M>
std::vector<std::pair<std::string, uint64_t>> commonest(const M& m, size_t n) {
  std::vector<std::pair<std::string, uint64_t>> v(m.begin(), m.end());
  std::sort(v.begin(), v.end(), [](const auto& a, const auto& b) {
    return a.second != b.second ? a.second > b.second : a.first < b.first;
  });
  if (v.size() > n) v.resize(n);
  return v;
}

}  // namespace

namespace {

// A link target of the usual form, <host path>/messages/<ts> with <ts> a plain name,
// read without building anything: the key and the name, as resolve_link() would give
// them. False for anything else (resolve_link() then decides).
bool plain_message_target(std::string_view target, std::string_view host_path, int64_t* key,
                          std::string_view* name) {
  static const std::string_view kHosts[] = {"/var/lib/xcp/blobs", "/var/xapi/blobs"};
  constexpr std::string_view kMsg = "/messages/";
  for (std::string_view h : {host_path, kHosts[0], kHosts[1]}) {
    if (target.size() <= h.size() + kMsg.size() || target.substr(0, h.size()) != h ||
        target.substr(h.size(), kMsg.size()) != kMsg)
      continue;
    std::string_view x = target.substr(h.size() + kMsg.size());
    if (x.find('/') != std::string_view::npos || x == "." || x == "..") return false;
    auto k = message_key(x);
    if (!k) return false;
    *key = *k;
    *name = x;
    return true;
  }
  return false;
}

// The message keys as an open-addressing hash set: one probe per link instead of a
// binary search through the whole index (8 bytes a slot, 2 to 4 slots a message).
class KeySet {
 public:
  explicit KeySet(size_t count) {
    size_t n = 16;
    while (n < count * 2) n <<= 1;
    slot_.assign(n, kEmpty);
    mask_ = n - 1;
    shift_ = 64 - unsigned(__builtin_ctzll(n));
  }
  void insert(int64_t k) {  // at most `count` times
    size_t i = hash(k);
    while (slot_[i] != kEmpty && slot_[i] != k) i = (i + 1) & mask_;
    slot_[i] = k;
  }
  // Brings k's slot towards the cache ahead of has(k).
  void prefetch(int64_t k) const { __builtin_prefetch(&slot_[hash(k)]); }
  bool has(int64_t k) const {
    for (size_t i = hash(k);; i = (i + 1) & mask_) {
      if (slot_[i] == k) return true;
      if (slot_[i] == kEmpty) return false;
    }
  }

 private:
  static constexpr int64_t kEmpty = -1;  // keys are never negative
  size_t hash(int64_t k) const { return size_t((uint64_t(k) * 0x9E3779B97F4A7C15ull) >> shift_); }
  std::vector<int64_t> slot_;
  size_t mask_ = 0;
  unsigned shift_ = 60;
};

// What one scanning thread counts; the threads' counts are added up at the end.
struct ScanCounts {
  Tallies t;
  uint64_t total_entries = 0, directories = 0, symlinks = 0, dangling = 0, outside = 0, bytes = 0,
           unreadable_dirs = 0;
  std::unordered_map<std::string, uint64_t> classes;
  std::string last_class_name;  // class links come a directory at a time
  uint64_t* last_class = nullptr;

  void add(const ScanCounts& o) {
    for (size_t i = 0; i < 7; ++i) {
      PartTally& a = t.part[i];
      const PartTally& b = o.t.part[i];
      a.entries += b.entries, a.symlinks += b.symlinks, a.dangling += b.dangling;
      a.outside += b.outside, a.bytes += b.bytes;
    }
    total_entries += o.total_entries, directories += o.directories, symlinks += o.symlinks;
    dangling += o.dangling, outside += o.outside, bytes += o.bytes;
    unreadable_dirs += o.unreadable_dirs;
    for (const auto& [c, n] : o.classes) classes[c] += n;
  }
  void count_class(std::string_view rel) {
    size_t a = rel.find('/'), b = rel.find('/', a + 1);
    std::string_view cls = rel.substr(a + 1, b - a - 1);
    if (!last_class || cls != last_class_name) {
      last_class_name.assign(cls);
      last_class = &classes[last_class_name];
    }
    ++*last_class;
  }
};

// A link to messages/<ts>, judged against the index one link later: its slot in the
// key set is fetched into the cache meanwhile, during the next readlinkat(). Before the
// index exists, links wait for it. <ts> passed message_key(): at most 18 characters.
struct PendingLink {
  int64_t key;
  uint8_t part;
  char name[19];
};

// messages/' own files, as listed: names (NUL-separated), keys, and whether each was
// still a regular file when stat'ed.
struct MessageFiles {
  std::string names;
  std::vector<std::pair<int64_t, uint32_t>> by_key;  // key, offset of the name
  std::vector<unsigned char> ok;
  const char* name(size_t i) const { return names.data() + by_key[i].second; }
  void swap(MessageFiles& o) {
    names.swap(o.names);
    by_key.swap(o.by_key);
    ok.swap(o.ok);
  }
};

// Links outside messages/ are judged by resolving their target in the tree alone; those
// inside it, against the index of messages (by key: "1.5" and "1.50000" name the same
// message).
enum class Judge { by_index, by_tree };

// The scan, spread over a few threads, one directory (or one slice of the message
// files) per task: its cost is in system calls (a readlinkat() per symlink), which the
// cores make side by side. The listing of messages/ builds the index the links are
// judged against; links read before it exists wait in a bounded list. Each thread uses
// its own descriptors: threads sharing one pay for its reference count on every call.
class Scanner {
 public:
  Scanner(const Tree& tree, const ScanTuning& tuning)
      : tree_(tree), host_(tree.loc().host_path), tuning_(tuning) {}

  void run();
  ScanCounts totals() const;
  // The index: the message files that were regular files when stat'ed, sorted and
  // unique. *sampled: the name sample was taken from it (not only from the listing).
  std::vector<int64_t> take_index(bool* sampled);
  const std::unordered_map<std::string, uint64_t>& names() const { return names_; }
  uint64_t names_sampled() const { return names_sampled_; }

 private:
  struct Worker {
    ScanCounts c;
    std::vector<PendingLink> pending;
    Fd messages;  // this thread's own descriptor of messages/
    std::string target;
  };
  static constexpr size_t kMaxQueuedDirs = 256;  // each holds its parent's descriptor open
  static constexpr size_t kMaxDepth = 64;        // as Walker
  static constexpr size_t kSlice = 4096;         // message files stat'ed per task

  void walk_dir(Worker& w, const std::shared_ptr<Fd>& dir, std::string& rel, size_t depth,
                Judge judge);
  void add_dir(const std::shared_ptr<Fd>& parent, const char* name, const std::string& rel,
               size_t depth, Judge judge);
  void entry(Worker& w, int dirfd, const char* name, const std::string& rel, unsigned type,
             Judge judge);
  void count_link(Worker& w, int dirfd, const char* name, const std::string& rel, Part part,
                  Judge judge);
  void judge_pending(Worker& w, const KeySet& keys, size_t keep);
  void list_messages(Worker& w, const std::vector<std::string>& started);
  void read_messages(Worker& w, const Fd& dir, std::vector<std::string>& subdirs,
                     std::vector<std::pair<std::string, unsigned>>& others);
  void stat_files(Worker& w, size_t from, size_t to);
  void sample_names(Worker& w);
  int messages_fd(Worker& w);
  void publish(std::unique_ptr<KeySet> keys);
  const KeySet& wait_keys();

  const Tree& tree_;
  const std::string& host_;
  const ScanTuning& tuning_;
  TaskPool pool_;
  std::vector<Worker> workers_;
  std::atomic<size_t> queued_dirs_{0};
  MessageFiles files_;
  std::vector<int64_t> listed_;
  std::unordered_map<std::string, uint64_t> names_;
  uint64_t names_sampled_ = 0;

  std::unique_ptr<KeySet> key_set_;
  std::atomic<const KeySet*> keys_{nullptr};
  std::mutex keys_mu_;
  std::condition_variable keys_cv_;
};

void Scanner::publish(std::unique_ptr<KeySet> keys) {
  {
    std::lock_guard<std::mutex> l(keys_mu_);
    key_set_ = std::move(keys);
    keys_.store(key_set_.get(), std::memory_order_release);
  }
  keys_cv_.notify_all();
}

const KeySet& Scanner::wait_keys() {
  if (const KeySet* k = keys_.load(std::memory_order_acquire)) return *k;
  std::unique_lock<std::mutex> l(keys_mu_);
  keys_cv_.wait(l, [&] { return key_set_ != nullptr; });
  return *key_set_;
}

int Scanner::messages_fd(Worker& w) {
  if (!w.messages.ok())
    w.messages.reset(openat(tree_.messages_fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  return w.messages.ok() ? w.messages.get() : tree_.messages_fd();
}

void Scanner::count_link(Worker& w, int dirfd, const char* name, const std::string& rel, Part part,
                         Judge judge) {
  ScanCounts& c = w.c;
  PartTally& p = c.t.of(part);
  ++p.symlinks;
  ++c.symlinks;
  if (!read_link(dirfd, name, w.target)) return;
  int64_t key;
  std::string_view msg;
  if (plain_message_target(w.target, host_, &key, &msg)) {
    if (judge == Judge::by_tree) {
      if (!exists_in_tree(tree_.fd(), "messages/" + std::string(msg))) ++p.dangling, ++c.dangling;
      return;
    }
    const KeySet* keys = keys_.load(std::memory_order_acquire);
    if (keys)
      keys->prefetch(key);
    else if (w.pending.size() >= tuning_.max_deferred)
      keys = &wait_keys();
    PendingLink l{key, uint8_t(part), {}};
    msg.copy(l.name, sizeof l.name - 1);
    w.pending.push_back(l);
    if (keys) judge_pending(w, *keys, 1);
    return;
  }
  const LinkTarget lt = resolve_link(w.target, dir_part(rel), host_);
  Tree::Verdict v;
  if (judge == Judge::by_tree || lt.kind != LinkTarget::message) {
    v = tree_.judge(lt, [](int64_t) { return false; });
  } else {
    const KeySet& keys = wait_keys();
    v = tree_.judge(lt, [&](int64_t k) { return keys.has(k); });
  }
  if (v == Tree::Verdict::dangling) ++p.dangling, ++c.dangling;
  if (v == Tree::Verdict::outside) ++p.outside, ++c.outside;
}

void Scanner::entry(Worker& w, int dirfd, const char* name, const std::string& rel, unsigned type,
                    Judge judge) {
  ScanCounts& c = w.c;
  struct stat st {};
  if (type == 0 || type == S_IFREG) {
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) return;
    type = st.st_mode & S_IFMT;
  }
  ++c.total_entries;
  if (type == S_IFDIR) {
    ++c.directories;
    return;
  }
  const bool link = type == S_IFLNK;
  const Part part = classify(rel, link);
  ++c.t.of(part).entries;
  if (link) {
    count_link(w, dirfd, name, rel, part, judge);
    if (part == Part::class_link) c.count_class(rel);
  } else if (type == S_IFREG) {
    c.t.of(part).bytes += uint64_t(st.st_size);
    c.bytes += uint64_t(st.st_size);
  }
}

// A subdirectory is a task of its own while few wait; past that it is walked in place,
// which bounds the descriptors held open.
void Scanner::add_dir(const std::shared_ptr<Fd>& parent, const char* name, const std::string& rel,
                      size_t depth, Judge judge) {
  ++queued_dirs_;
  pool_.add([this, parent, name = std::string(name), rel, depth, judge](size_t id) {
    --queued_dirs_;
    Worker& w = workers_[id];
    auto dir = std::make_shared<Fd>(open_dir_nofollow(parent->get(), name.c_str()));
    if (!dir->ok()) {
      ++w.c.unreadable_dirs;
      return;
    }
    std::string r = rel;
    walk_dir(w, dir, r, depth, judge);
  });
}

// Every entry of dir (its path rel, entries at `depth` as Walker counts them), below it
// too; at the tree's top, messages/ is left to list_messages().
void Scanner::walk_dir(Worker& w, const std::shared_ptr<Fd>& dir, std::string& rel, size_t depth,
                       Judge judge) {
  DirReader reader(dir->get());
  const size_t base = rel.size();
  for (DirEntry e; reader.next(e);) {
    rel.resize(base);
    if (base) rel += '/';
    rel += e.name;
    entry(w, dir->get(), e.name, rel, e.type, judge);
    bool is_dir = e.type == S_IFDIR;
    if (e.type == 0) {
      struct stat st {};
      is_dir = fstatat(dir->get(), e.name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode);
    }
    if (!is_dir || depth + 1 >= kMaxDepth || rel == "messages") continue;
    if (queued_dirs_ < kMaxQueuedDirs) {
      add_dir(dir, e.name, rel, depth + 1, judge);
      continue;
    }
    auto sub = std::make_shared<Fd>(open_dir_nofollow(dir->get(), e.name));
    if (!sub->ok()) {
      ++w.c.unreadable_dirs;
      continue;
    }
    walk_dir(w, sub, rel, depth + 1, judge);
  }
  rel.resize(base);
  if (reader.err()) ++w.c.unreadable_dirs;
}

// messages/ itself, names only: the directory says which entries are files, so the
// index of messages exists before any of them is stat'ed (for their sizes, in slices).
// Then the work that needs the index: the other link directories, messages/' other
// entries, the message files' sizes and the sample of names.
void Scanner::list_messages(Worker& w, const std::vector<std::string>& started) {
  std::vector<std::string> subdirs;
  std::vector<std::pair<std::string, unsigned>> others;
  auto dir =
      std::make_shared<Fd>(openat(tree_.messages_fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  try {
    if (dir->ok())
      read_messages(w, *dir, subdirs, others);
    else
      ++w.c.unreadable_dirs;
    auto keys = std::make_unique<KeySet>(files_.by_key.size());
    for (const auto& [key, offset] : files_.by_key) keys->insert(key);
    if (tuning_.before_index) tuning_.before_index();
    publish(std::move(keys));
  } catch (...) {
    if (!keys_.load()) publish(std::make_unique<KeySet>(0));
    throw;
  }
  if (!dir->ok()) return;
  for (const std::string& sub : subdirs)
    if (std::find(started.begin(), started.end(), sub) == started.end())
      add_dir(dir, sub.c_str(), "messages/" + sub, 0, Judge::by_index);
  std::string rel;
  for (const auto& [name, t] : others) {
    rel.assign("messages/").append(name);
    entry(w, dir->get(), name.c_str(), rel, t, Judge::by_index);
  }
  auto& f = files_.by_key;
  std::sort(f.begin(), f.end());
  files_.ok.assign(f.size(), 0);
  for (const auto& [key, offset] : f)
    if (listed_.empty() || listed_.back() != key) listed_.push_back(key);
  pool_.add([this](size_t id) { sample_names(workers_[id]); });
  for (size_t i = 0; i < f.size(); i += kSlice)
    pool_.add([this, i](size_t id) {
      stat_files(workers_[id], i, std::min(files_.by_key.size(), i + kSlice));
    });
}

void Scanner::read_messages(Worker& w, const Fd& dir, std::vector<std::string>& subdirs,
                            std::vector<std::pair<std::string, unsigned>>& others) {
  // The directory's size bounds its names (a directory entry takes at least 12 bytes
  // for a name of up to 4). Reserved address space costs no memory until used, and
  // spares copying the arrays as they grow, when old and new would both be resident.
  struct stat st {};
  if (fstat(dir.get(), &st) == 0 && st.st_size > 0) {
    const size_t bound = std::min<size_t>(size_t(st.st_size), size_t(1) << 28);
    files_.names.reserve(bound);
    files_.by_key.reserve(bound / 12);
  }
  DirReader reader(dir.get());
  for (DirEntry e; reader.next(e);) {
    unsigned t = e.type;
    if (t == 0) {
      struct stat st {};
      if (fstatat(dir.get(), e.name, &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
      t = st.st_mode & S_IFMT;
    }
    if (t == S_IFDIR) subdirs.emplace_back(e.name);
    if (t == S_IFREG) {
      if (auto key = message_key(e.name)) {
        files_.by_key.emplace_back(*key, uint32_t(files_.names.size()));
        files_.names.append(e.name, std::strlen(e.name) + 1);
        continue;
      }
    }
    others.emplace_back(e.name, t);
  }
  if (reader.err()) ++w.c.unreadable_dirs;
}

// Message files [from, to) of the index: their sizes, and whether each is still a file.
void Scanner::stat_files(Worker& w, size_t from, size_t to) {
  ScanCounts& c = w.c;
  PartTally& files = c.t.of(Part::message_file);
  const int fd = messages_fd(w);
  std::string rel;
  for (size_t k = from; k < to; ++k) {
    struct stat st {};
    if (fstatat(fd, files_.name(k), &st, AT_SYMLINK_NOFOLLOW) != 0) continue;
    if (!S_ISREG(st.st_mode)) {  // changed since the directory was read
      rel.assign("messages/").append(files_.name(k));
      entry(w, fd, files_.name(k), rel, unsigned(st.st_mode & S_IFMT), Judge::by_index);
      continue;
    }
    files_.ok[k] = 1;
    ++c.total_entries;
    ++files.entries;
    files.bytes += uint64_t(st.st_size);
    c.bytes += uint64_t(st.st_size);
  }
}

// Names: an even sample across time (reading every file would cost more than the walk),
// taken from the listing; scan_blobs() takes it again if stat() found some of those
// files gone.
void Scanner::sample_names(Worker& w) {
  names_ = sample_message_names(messages_fd(w), listed_, &names_sampled_);
}

// Judges the pending links but the last `keep`.
void Scanner::judge_pending(Worker& w, const KeySet& keys, size_t keep) {
  auto& pending = w.pending;
  if (pending.size() <= keep) return;
  const auto last = pending.end() - long(keep);
  for (auto l = pending.begin(); l != last; ++l) {
    if (keys.has(l->key)) continue;
    // Not in the snapshot: it may have been written since (a running host).
    if (exists_in_tree(tree_.fd(), std::string("messages/") + l->name)) continue;
    ++w.c.t.part[l->part].dangling;
    ++w.c.dangling;
  }
  pending.erase(pending.begin(), last);
}

void Scanner::run() {
  const size_t threads = tuning_.threads ? tuning_.threads : scan_threads();
  workers_.resize(threads);
  // The biggest link directories start at once, alongside the listing of messages/.
  std::vector<std::string> started;
  auto messages =
      std::make_shared<Fd>(tree_.messages_fd() < 0 ? -1
                                                   : openat(tree_.messages_fd(), ".",
                                                            O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (messages->ok()) {
    pool_.add([this, &started](size_t id) { list_messages(workers_[id], started); });
    for (const char* sub : {"uuids", "refs", "gen"}) {
      auto d = std::make_shared<Fd>(open_dir_nofollow(messages->get(), sub));
      if (!d->ok()) continue;
      started.emplace_back(sub);
      pool_.add([this, d, sub](size_t id) {
        std::string rel = std::string("messages/") + sub;
        walk_dir(workers_[id], d, rel, 0, Judge::by_index);
      });
    }
  } else {
    if (tree_.messages_fd() >= 0) ++workers_[0].c.unreadable_dirs;
    publish(std::make_unique<KeySet>(0));
  }
  auto top = std::make_shared<Fd>(openat(tree_.fd(), ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (top->ok()) {
    pool_.add([this, top](size_t id) {
      std::string rel;
      walk_dir(workers_[id], top, rel, 0, Judge::by_tree);
    });
  } else {
    ++workers_[0].c.unreadable_dirs;
  }
  pool_.run(threads);
  for (Worker& w : workers_) {
    judge_pending(w, wait_keys(), 0);
    std::vector<PendingLink>().swap(w.pending);
  }
}

std::vector<int64_t> Scanner::take_index(bool* sampled) {
  const auto& ok = files_.ok;
  std::vector<int64_t> keys;
  if (std::find(ok.begin(), ok.end(), 0) == ok.end()) {
    keys.swap(listed_);
    *sampled = true;
  } else {
    for (size_t k = 0; k < files_.by_key.size(); ++k)
      if (ok[k] && (keys.empty() || keys.back() != files_.by_key[k].first))
        keys.push_back(files_.by_key[k].first);
    *sampled = keys == listed_;
  }
  MessageFiles().swap(files_);
  return keys;
}

ScanCounts Scanner::totals() const {
  ScanCounts sum;
  for (const Worker& w : workers_) sum.add(w.c);
  return sum;
}

}  // namespace

BlobsScan scan_blobs(const std::string& root, int64_t now, const ScanTuning& tuning) {
  Tree tree(root);
  BlobsScan s;
  s.root = root;
  s.blobs_dir = tree.loc().path;
  s.host_path = tree.loc().host_path;
  s.now = now_or(now);
  Scanner scanner(tree, tuning);
  scanner.run();
  const ScanCounts sum = scanner.totals();

  bool sampled_index = false;
  const std::vector<int64_t> keys = scanner.take_index(&sampled_index);
  std::unordered_map<std::string, uint64_t> names;
  if (sampled_index) {
    names = scanner.names();
    s.names_sampled = scanner.names_sampled();
  } else {
    names = sample_message_names(tree.messages_fd(), keys, &s.names_sampled);
  }
  s.messages = keys.size();
  uint64_t ages[std::size(kAges)] = {};
  for (int64_t k : keys) {
    int64_t age_days = (s.now - key_seconds(k)) / 86400;
    if (age_days < 0) age_days = 0;
    size_t b = 0;
    while (age_days >= kAges[b].max_days) ++b;
    ++ages[b];
  }
  if (!keys.empty()) s.oldest_key = keys.front(), s.newest_key = keys.back();
  for (size_t b = 0; b < std::size(kAges); ++b)
    s.age_histogram.emplace_back(kAges[b].name, ages[b]);

  const Tallies& t = sum.t;
  s.total_entries = sum.total_entries;
  s.directories = sum.directories;
  s.symlinks = sum.symlinks;
  s.dangling = sum.dangling;
  s.outside = sum.outside;
  s.bytes = sum.bytes;
  s.unreadable_dirs = sum.unreadable_dirs;
  for (size_t i = 0; i < 7; ++i) s.parts.emplace_back(part_name(Part(i)), t.part[i]);
  s.classes = commonest(sum.classes, 10);
  if (s.names_sampled) {
    // Scale the sample to the whole.
    double scale = double(s.messages) / double(s.names_sampled);
    for (auto& [n, c] : names) c = uint64_t(double(c) * scale + 0.5);
  }
  s.names = commonest(names, 10);
  s.cost.files = 0;
  for (size_t i = 0; i < 7; ++i) {
    s.cost.symlinks += t.part[i].symlinks;
    s.cost.files += t.part[i].entries - t.part[i].symlinks;
  }
  s.cost.directories = s.directories;
  s.cost.bytes = s.bytes;
  s.predicted_seconds = predict_restore_seconds(s.cost);
  return s;
}

static std::string key_time(int64_t key) {
  std::time_t t = std::time_t(key_seconds(key));
  std::tm tm{};
  gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

nlohmann::ordered_json scan_to_json(const BlobsScan& s) {
  nlohmann::ordered_json j;
  j["blobs_dir"] = s.blobs_dir;
  j["entries"] = s.total_entries;
  j["directories"] = s.directories;
  j["symlinks"] = s.symlinks;
  j["dangling_symlinks"] = s.dangling;
  j["symlinks_leaving_tree"] = s.outside;
  j["bytes"] = s.bytes;
  if (s.unreadable_dirs) j["unreadable_directories"] = s.unreadable_dirs;
  auto& parts = j["subtrees"] = nlohmann::ordered_json::object();
  for (const auto& [name, p] : s.parts) {
    nlohmann::ordered_json o;
    o["entries"] = p.entries;
    o["symlinks"] = p.symlinks;
    o["dangling"] = p.dangling;
    if (p.outside) o["leaving_tree"] = p.outside;
    o["bytes"] = p.bytes;
    parts[name] = o;
  }
  j["messages"] = s.messages;
  if (s.messages) {
    j["oldest_message"] = key_time(s.oldest_key);
    j["newest_message"] = key_time(s.newest_key);
  }
  auto& ages = j["message_age"] = nlohmann::ordered_json::object();
  for (const auto& [b, n] : s.age_histogram) ages[b] = n;
  auto& cls = j["commonest_classes"] = nlohmann::ordered_json::object();
  for (const auto& [c, n] : s.classes) cls[c] = n;
  auto& names = j["commonest_names"] = nlohmann::ordered_json::object();
  for (const auto& [c, n] : s.names) names[c] = n;
  j["names_sampled"] = s.names_sampled;
  nlohmann::ordered_json p;
  p["seconds"] = std::round(s.predicted_seconds);
  p["model"] = fmt::format(
      "files x {:.0f} us + symlinks x {:.0f} us + directories x {:.0f} us + bytes x {:.0f} ns "
      "(cp -a from a cold cache plus an lstat+lchown walk, measured; slower disks take longer)",
      kFileSeconds * 1e6, kLinkSeconds * 1e6, kDirSeconds * 1e6, kByteSeconds * 1e9);
  j["predicted_restore"] = p;
  return j;
}

Finding blobs_finding(const BlobsScan& s) {
  Finding f;
  f.id = "blobs.too_many";
  f.severity = severity_for_seconds(s.predicted_seconds);
  f.title = fmt::format(
      "xapi's blob store holds {} entries: the upgrade's restore step "
      "(72%) should take about {}",
      s.total_entries, human_seconds(s.predicted_seconds));
  f.summary = fmt::format(
      "The installer copies {} with cp -a and then lchown()s every entry, showing 72% all "
      "along. {} messages use {} entries (each message is a file and four symlinks){}.",
      s.blobs_dir, s.messages,
      s.parts.empty()
          ? 0
          : s.parts[0].second.entries + s.parts[1].second.entries + s.parts[2].second.entries +
                s.parts[3].second.entries + s.parts[4].second.entries,
      s.dangling ? fmt::format("; {} symlinks are dangling", s.dangling) : std::string());
  f.evidence = scan_to_json(s);
  f.resources.push_back(s.blobs_dir);
  if (f.severity != Severity::info) {
    f.remediation.push_back(Remediation::command(
        "see what removing messages older than 90 days would save (a dry run)",
        {"xsguard", "blobs", "prune", "--root", s.root, "--older-than", "90"}));
    f.remediation.push_back(Remediation::hint(
        "add --apply to remove them; a verified backup is written first and `xsguard blobs "
        "restore` puts everything back"));
  }
  return f;
}

int run_blobs_scan(const BlobsScanOptions& o, std::ostream& out) {
  BlobsScan s = scan_blobs(o.root, o.now);
  Report r = new_report("blobs scan");
  r.findings.push_back(blobs_finding(s));
  if (o.json)
    write_json(out, r);
  else
    write_text(out, r);
  return exit_code_for(r.findings);
}

// ---- prune ---------------------------------------------------------------------

namespace {

struct Selection {
  MessageIndex idx;
  std::vector<std::string> subdirs;  // of messages/
  int64_t threshold = INT64_MIN;     // messages with key < threshold go
  bool selected(int64_t key) const { return key < threshold; }
};

Selection select_messages(Tree& tree, const BlobsPruneOptions& o, int64_t now,
                          uint64_t& unreadable) {
  Selection sel;
  tree.read_messages(
      [&](const WalkEntry&, int64_t key, const struct stat&) { sel.idx.keys.push_back(key); },
      [](const WalkEntry&, unsigned) {}, sel.subdirs, unreadable, false);
  std::sort(sel.subdirs.begin(), sel.subdirs.end());
  auto& k = sel.idx.keys;
  std::sort(k.begin(), k.end());
  k.erase(std::unique(k.begin(), k.end()), k.end());
  int64_t t = INT64_MAX;
  if (o.older_than_days) t = std::min(t, seconds_to_key(now - *o.older_than_days * 86400));
  if (o.keep_newest)
    t = std::min(t, *o.keep_newest >= k.size() ? INT64_MIN : k[k.size() - *o.keep_newest]);
  sel.threshold = t;
  return sel;
}

// What a prune would remove, streamed to `take` (links first, then message files).
// take(dirfd, name, rel, st, link_target): st from fstatat without following.
struct PlanCounts {
  uint64_t messages = 0, links = 0, dangling = 0, bytes = 0, kept_outside = 0;
  uint64_t entries() const { return messages + links + dangling; }
};

template <class Take>
PlanCounts walk_plan(Tree& tree, const Selection& sel, Take&& take, uint64_t& unreadable) {
  PlanCounts c;
  if (tree.messages_fd() < 0) return c;
  std::string target;
  // The link directories.
  for (const std::string& sub : sel.subdirs) {
    Fd d(open_dir_nofollow(tree.messages_fd(), sub.c_str()));
    if (!d.ok()) {
      ++unreadable;
      continue;
    }
    Walker w;
    w.error = [&](const WalkError&) { ++unreadable; };
    w.visit = [&](const WalkEntry& e) {
      if (e.type != S_IFLNK && e.type != 0) return;
      struct stat st {};
      if (fstatat(e.dirfd, e.name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISLNK(st.st_mode)) return;
      if (!read_link(e.dirfd, e.name, target)) return;
      LinkTarget lt = resolve_link(target, dir_part(e.rel), tree.loc().host_path);
      auto v = tree.judge(lt, [&](int64_t k) { return sel.idx.has(k); });
      bool go = false;
      if (v == Tree::Verdict::dangling) {
        ++c.dangling;
        go = true;
      } else if (v == Tree::Verdict::to_message && sel.selected(lt.key)) {
        ++c.links;
        go = true;
      } else if (v == Tree::Verdict::outside) {
        ++c.kept_outside;
      }
      if (go) take(e.dirfd, e.name, e.rel, st, &target);
    };
    w.walk(d.get(), "messages/" + sub);
  }
  // The message files.
  std::vector<std::string> ignored;
  tree.read_messages(
      [&](const WalkEntry& e, int64_t key, const struct stat& st) {
        if (!sel.selected(key)) return;
        ++c.messages;
        c.bytes += uint64_t(st.st_size);
        take(e.dirfd, e.name, e.rel, st, nullptr);
      },
      [](const WalkEntry&, unsigned) {}, ignored, unreadable);
  return c;
}

std::string default_backup(const BlobsLocation& loc) {
  return loc.parent + "/xsguard-blobs-" + utc_timestamp_compact() + ".tar.gz";
}

bool same_entry(const EntryMeta& a, const EntryMeta& now) {
  return a.symlink == now.symlink && a.mode == now.mode && a.uid == now.uid && a.gid == now.gid &&
         a.mtime_s == now.mtime_s && a.mtime_ns == now.mtime_ns && a.size == now.size &&
         a.link_target == now.link_target;
}

struct RemoveCounts {
  uint64_t removed = 0, already_gone = 0, changed = 0, failed = 0;
  std::vector<std::string> problems;
};

// Removes what the verified archive lists, when the tree still holds it unchanged.
RemoveCounts remove_listed(Tree& tree, const std::string& archive, const PruneHooks& hooks) {
  RemoveCounts rc;
  ArchiveReader r(archive);
  DirCache dirs(tree.fd());
  EntryMeta m;
  std::string leaf, target;
  auto problem = [&](const std::string& s) {
    if (rc.problems.size() < 20) rc.problems.push_back(s);
  };
  bool unsupported = false;
  while (r.next(m, &unsupported)) {
    if (unsupported || !safe_entry_path(m.rel)) {
      ++rc.failed;
      problem(m.rel + ": not an entry xsguard writes; left alone");
      continue;
    }
    if (hooks.at) hooks.at("removing", m.rel);
    int d = dirs.dir_of(m.rel, &leaf);
    if (d < 0) {
      if (errno == ENOENT) {
        ++rc.already_gone;
      } else {
        ++rc.failed;
        problem(m.rel + ": " + std::strerror(errno) +
                " (a directory on its path is not a "
                "plain directory); left alone");
      }
      continue;
    }
    struct stat st {};
    if (fstatat(d, leaf.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
      if (errno == ENOENT)
        ++rc.already_gone;
      else
        ++rc.failed, problem(m.rel + ": " + std::strerror(errno));
      continue;
    }
    EntryMeta now = meta_from_stat(m.rel, st);
    if (now.symlink && !read_link(d, leaf.c_str(), now.link_target)) now.link_target = "?";
    if (!(S_ISREG(st.st_mode) || S_ISLNK(st.st_mode)) || !same_entry(m, now)) {
      ++rc.changed;
      problem(m.rel + ": changed since it was archived; kept");
      continue;
    }
    if (unlinkat(d, leaf.c_str(), 0) != 0) {
      if (errno == ENOENT) {
        ++rc.already_gone;
      } else {
        ++rc.failed;
        problem(m.rel + ": cannot remove: " + std::strerror(errno));
      }
      continue;
    }
    ++rc.removed;
  }
  syncfs(tree.fd());
  return rc;
}

std::string root_of(const BlobsLocation& loc) {
  std::string r = loc.path.substr(0, loc.path.size() - loc.host_path.size());
  return r.empty() ? "/" : r;
}

int finish_removal(Tree& tree, PruneJournal& journal, const JournalState& js,
                   const PruneHooks& hooks, std::ostream& out) {
  out << "Removing the " << js.entries << " entries the backup holds...\n";
  RemoveCounts rc = remove_listed(tree, js.archive, hooks);
  out << fmt::format(
      "Removed {} entries ({} already gone, {} changed since archived and "
      "kept, {} failed).\n",
      rc.removed, rc.already_gone, rc.changed, rc.failed);
  for (const auto& p : rc.problems) out << "  " << p << '\n';
  if (rc.failed) {
    out << "The journal " << journal.path() << " is kept: run the same command again to finish.\n";
    return kExitRefused;
  }
  journal.finish();
  out << "Done. To put everything back: xsguard blobs restore " << js.archive << " --root "
      << root_of(tree.loc()) << " --apply\n";
  return rc.changed ? kExitWarnings : kExitClean;
}

}  // namespace

int run_blobs_prune(const BlobsPruneOptions& o, Io& io, std::ostream& out,
                    const PruneHooks& hooks) {
  if (!o.older_than_days && !o.keep_newest)
    throw UsageError("say which messages go: --older-than DAYS and/or --keep-newest N");
  if (o.older_than_days && *o.older_than_days < 0)
    throw UsageError("--older-than must be 0 or more days");
  if (o.gzip_level < 1 || o.gzip_level > 9) throw UsageError("--gzip-level must be 1 to 9");
  const int64_t now = now_or(o.now);
  Tree tree(o.root);
  PruneJournal journal(io, tree.loc().parent);

  // An interrupted run first.
  JournalState js = journal.read();
  if (js.exists) {
    if (!js.verified) {
      out << "An earlier prune stopped before its backup was verified; nothing was removed "
             "then. Its unfinished backup "
          << js.archive << (o.apply ? " is discarded.\n" : " will be discarded by --apply.\n");
      if (o.apply) {
        unlink((js.archive + ".partial").c_str());
        unlink(js.archive.c_str());
        journal.finish();
      }
    } else if (!o.apply) {
      out << fmt::format(
          "An earlier prune was interrupted after its backup {} ({} entries) "
          "was verified. Run the same command with --apply to finish removing "
          "them.\n",
          js.archive, js.entries);
      return kExitClean;
    } else {
      out << "Resuming an interrupted prune: backup " << js.archive << '\n';
      VerifyResult v = verify_archive(js.archive);
      if (v.entries != js.entries || v.digest != js.digest)
        throw RefusedError(js.archive +
                           " no longer matches what was verified; nothing more "
                           "is removed");
      return finish_removal(tree, journal, js, hooks, out);
    }
  }

  uint64_t unreadable = 0;
  Selection sel = select_messages(tree, o, now, unreadable);
  if (unreadable)
    throw InputError(fmt::format("{}: {} directories cannot be read", tree.loc().path, unreadable));

  if (!o.apply) {
    PlanCounts c = walk_plan(
        tree, sel,
        [](int, const char*, const std::string&, const struct stat&, const std::string*) {},
        unreadable);
    RestoreCost saved{c.messages, c.links + c.dangling, 0, c.bytes};
    out << fmt::format("xsguard blobs prune (dry run) in {}\n", tree.loc().path);
    out << fmt::format("  messages now:            {}\n", sel.idx.keys.size());
    if (sel.threshold != INT64_MIN && sel.threshold != INT64_MAX)
      out << fmt::format("  removing messages before {}\n", key_time(sel.threshold));
    out << fmt::format("  message files to remove: {} ({} bytes)\n", c.messages, c.bytes);
    out << fmt::format("  their symlinks:          {}\n", c.links);
    out << fmt::format("  dangling symlinks:       {}\n", c.dangling);
    out << fmt::format("  entries to remove:       {}\n", c.entries());
    if (c.kept_outside)
      out << fmt::format("  symlinks leaving the tree (kept, never followed): {}\n",
                         c.kept_outside);
    out << fmt::format("  predicted time saved at the upgrade's 72% step: {}\n",
                       human_seconds(predict_restore_seconds(saved)));
    if (c.entries() == 0) {
      out << "Nothing to remove.\n";
      return kExitClean;
    }
    out << "Dry run: nothing was changed. Add --apply to write a backup ("
        << (o.backup.empty() ? default_backup(tree.loc()) : o.backup)
        << "), verify it, then remove these entries.\n";
    return kExitClean;
  }

  // 1. The backup, then the journal that names it.
  const std::string backup = o.backup.empty() ? default_backup(tree.loc()) : o.backup;
  ArchiveWriter w(io, backup, o.gzip_level);
  journal.begin(tree.loc().path, backup);
  bool verified = false;
  try {
    out << "Writing the backup " << backup << "...\n";
    PlanCounts c = walk_plan(
        tree, sel,
        [&](int dirfd, const char* name, const std::string& rel, const struct stat& st,
            const std::string* link_target) {
          EntryMeta m = meta_from_stat(rel, st);
          if (link_target) {
            m.link_target = *link_target;
            w.add_symlink(m);
            return;
          }
          Fd f(openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
          struct stat fst {};
          if (!f.ok() || fstat(f.get(), &fst) != 0 || !S_ISREG(fst.st_mode))
            throw RefusedError(rel + ": cannot be read for the backup: " + std::strerror(errno) +
                               "; nothing was removed");
          w.add_file(meta_from_stat(rel, fst), f.get());
        },
        unreadable);
    if (unreadable)
      throw RefusedError(
          fmt::format("{} directories became unreadable while writing the "
                      "backup; nothing was removed",
                      unreadable));
    if (c.entries() == 0) {
      // Nothing goes: no archive, no journal.
      w.abandon();
      journal.finish();
      out << "Nothing to remove.\n";
      return kExitClean;
    }
    w.finish();
    if (hooks.at) hooks.at("archived", "");

    // 2. Verified from the disk before anything goes.
    VerifyResult v = verify_archive(backup);
    if (v.entries != w.entries() || v.digest != w.digest())
      throw RefusedError(
          fmt::format("the backup {} does not read back as written ({} of {} "
                      "entries); nothing was removed",
                      backup, v.entries, w.entries()));
    journal.mark_verified(v.entries, v.digest);
    out << fmt::format(
        "Backup verified: {} entries ({} message files, {} symlinks, {} "
        "dangling symlinks), {} bytes.\n",
        v.entries, c.messages, c.links, c.dangling, w.bytes_written());
    verified = true;
    if (hooks.at) hooks.at("verified", "");
  } catch (...) {
    // Before verification nothing was removed: leave no backup and no journal behind.
    if (!verified) {
      w.abandon();
      unlink(backup.c_str());
      try {
        journal.finish();
      } catch (...) {
      }
    }
    throw;
  }

  // 3. Removal, driven by the archive.
  js = journal.read();
  return finish_removal(tree, journal, js, hooks, out);
}

// ---- restore -------------------------------------------------------------------

int run_blobs_restore(const BlobsRestoreOptions& o, std::ostream& out) {
  Tree tree(o.root);
  uint64_t total = 0, present = 0, missing = 0, refused = 0;
  std::vector<std::string> problems;
  auto problem = [&](const std::string& s) {
    if (problems.size() < 20) problems.push_back(s);
  };
  {
    ArchiveReader r(o.archive);
    EntryMeta m;
    bool unsupported = false;
    while (r.next(m, &unsupported)) {
      ++total;
      if (unsupported || !safe_entry_path(m.rel)) {
        ++refused;
        problem(m.rel + ": outside messages/ or not a file or symlink; refused");
        continue;
      }
      if (exists_in_tree(tree.fd(), m.rel))
        ++present;
      else
        ++missing;
    }
  }
  out << fmt::format("Backup {}: {} entries; {} to restore into {}, {} already present{}.\n",
                     o.archive, total, missing, tree.loc().path, present,
                     refused ? fmt::format(", {} refused", refused) : std::string());
  for (const auto& p : problems) out << "  " << p << '\n';
  if (!o.apply) {
    out << "Dry run: nothing was changed. Add --apply to restore.\n";
    return refused ? kExitRefused : kExitClean;
  }
  if (missing == 0) {
    out << "Nothing to restore.\n";
    return refused ? kExitRefused : kExitClean;
  }

  // archive_write_disk resolves names against the working directory: make it the tree,
  // and let its secure flags refuse absolute names, ".." and anything through a symlink.
  ArchiveReader r(o.archive);  // opened before the directory changes
  Fd cwd(::open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (fchdir(tree.fd()) != 0) throw InputError(tree.loc().path + ": " + std::strerror(errno));
  struct archive* disk = archive_write_disk_new();
  archive_write_disk_set_options(
      disk, ARCHIVE_EXTRACT_OWNER | ARCHIVE_EXTRACT_PERM | ARCHIVE_EXTRACT_TIME |
                ARCHIVE_EXTRACT_SECURE_SYMLINKS | ARCHIVE_EXTRACT_SECURE_NODOTDOT |
                ARCHIVE_EXTRACT_SECURE_NOABSOLUTEPATHS | ARCHIVE_EXTRACT_NO_OVERWRITE);
  uint64_t restored = 0, failed = 0;
  problems.clear();
  try {
    EntryMeta m;
    bool unsupported = false;
    while (r.next(m, &unsupported)) {
      if (unsupported || !safe_entry_path(m.rel)) continue;
      if (exists_in_tree(tree.fd(), m.rel)) continue;
      archive_entry* e = r.entry();
      int rc = archive_write_header(disk, e);
      if (rc == ARCHIVE_OK && archive_entry_size(e) > 0) {
        const void* buf;
        size_t size;
        la_int64_t off;
        int rr;
        while ((rr = archive_read_data_block(r.raw(), &buf, &size, &off)) == ARCHIVE_OK)
          if (archive_write_data_block(disk, buf, size, off) != ARCHIVE_OK) {
            rc = ARCHIVE_FAILED;
            break;
          }
        if (rr != ARCHIVE_EOF && rc == ARCHIVE_OK)
          throw InputError(o.archive + ": damaged archive: " +
                           (archive_error_string(r.raw()) ? archive_error_string(r.raw()) : "?"));
      }
      if (rc == ARCHIVE_OK) rc = archive_write_finish_entry(disk);
      if (rc != ARCHIVE_OK) {
        ++failed;
        problem(m.rel + ": " +
                (archive_error_string(disk) ? archive_error_string(disk) : "cannot restore"));
        continue;
      }
      ++restored;
    }
  } catch (...) {
    archive_write_free(disk);
    if (cwd.ok() && fchdir(cwd.get()) != 0) {
    }
    throw;
  }
  archive_write_free(disk);
  if (cwd.ok() && fchdir(cwd.get()) != 0) {
  }
  syncfs(tree.fd());
  out << fmt::format("Restored {} entries ({} failed).\n", restored, failed);
  for (const auto& p : problems) out << "  " << p << '\n';
  return failed || refused ? kExitRefused : kExitClean;
}

}  // namespace xsguard

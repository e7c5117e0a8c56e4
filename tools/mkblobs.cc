// mkblobs: builds a blobs tree with xapi's message-store layout, for tests and
// benchmarks of `xsguard blobs`.
//
//   mkblobs ROOT [--messages N] [--days D] [--now EPOCH] [--seed S] [--rrds K]
//               [--dangling K] [--legacy]
//   mkblobs --lchown-walk DIR     (chown every entry to its own owner, like the
//                                  installer's walk after its copy; prints the count)
//
// Layout (under ROOT/var/lib/xcp/blobs, or ROOT/var/xapi/blobs with --legacy):
//   messages/<ts>                         one file per message, mode 0600, mtime = ts,
//                                         <ts> printed "%0.5f", content xapi's XML
//   messages/<cls>/<obj_uuid>/<ts>        absolute symlinks to /var/lib/xcp/blobs/messages/<ts>
//   messages/uuids/<uuid>
//   messages/refs/OpaqueRef:<uuid>
//   messages/gen/<generation>
//   rrds/<uuid>.gz                        K small files
// Message times are spread over the D days before --now (default: the current time);
// --dangling adds K links in uuids/ whose message file does not exist.
// Build: g++ -std=c++17 -O2 -o mkblobs tools/mkblobs.cc
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cinttypes>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <string>
#include <vector>

namespace {

uint64_t rng_state = 1;
uint64_t next_rand() {  // splitmix64
  uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}

std::string uuid() {
  uint64_t a = next_rand(), b = next_rand();
  char s[40];
  snprintf(s, sizeof s, "%08x-%04x-4%03x-%04x-%012" PRIx64, unsigned(a >> 32),
           unsigned(a >> 16) & 0xffff, unsigned(a) & 0xfff, (unsigned(b >> 48) & 0x3fff) | 0x8000,
           uint64_t(b & 0xffffffffffffull));
  return s;
}

[[noreturn]] void die(const std::string& what) {
  fprintf(stderr, "mkblobs: %s: %s\n", what.c_str(), strerror(errno));
  exit(1);
}

void mkdirs(const std::string& path) {
  std::string cur;
  for (size_t i = 0; i <= path.size(); ++i) {
    if (i == path.size() || (path[i] == '/' && i > 0)) {
      cur = path.substr(0, i);
      if (mkdir(cur.c_str(), 0755) != 0 && errno != EEXIST) die("mkdir " + cur);
    }
  }
}

void set_time(int dirfd, const char* name, double t) {
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = time_t(t);
  ts[0].tv_nsec = ts[1].tv_nsec = long((t - double(time_t(t))) * 1e9);
  utimensat(dirfd, name, ts, AT_SYMLINK_NOFOLLOW);
}

struct Obj {
  const char* cls;
  std::string uuid;
};

const char* kNames[] = {"VM_STARTED",
                        "VM_SHUTDOWN",
                        "VM_REBOOTED",
                        "ALARM",
                        "VM_CLONED",
                        "HA_HOST_FAILED",
                        "MULTIPATH_PERIODIC_ALERT",
                        "PBD_PLUG_FAILED_ON_SERVER_START",
                        "HOST_SYNC_DATA_FAILED",
                        "VM_SNAPSHOTTED",
                        "VDI_BACKUP_FAILED"};

// Counts entries below DIR (not DIR itself) and lchown()s each to its own owner.
uint64_t lchown_walk(int dfd) {
  uint64_t n = 0;
  DIR* d = fdopendir(dfd);
  if (!d) die("fdopendir");
  while (struct dirent* e = readdir(d)) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
    struct stat st;
    if (fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0) die(e->d_name);
    if (fchownat(dfd, e->d_name, st.st_uid, st.st_gid, AT_SYMLINK_NOFOLLOW) != 0) die(e->d_name);
    ++n;
    if (S_ISDIR(st.st_mode)) {
      int sub = openat(dfd, e->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (sub < 0) die(e->d_name);
      n += lchown_walk(sub);
    }
  }
  closedir(d);
  return n;
}

}  // namespace

int main(int argc, char** argv) {
  std::string root;
  long messages = 1000, days = 1000, rrds = 20, dangling = 0;
  double now = double(time(nullptr));
  bool legacy = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto val = [&]() -> const char* {
      if (i + 1 >= argc) {
        fprintf(stderr, "mkblobs: %s needs a value\n", a.c_str());
        exit(2);
      }
      return argv[++i];
    };
    if (a == "--messages")
      messages = atol(val());
    else if (a == "--days")
      days = atol(val());
    else if (a == "--now")
      now = atof(val());
    else if (a == "--seed")
      rng_state = strtoull(val(), nullptr, 10);
    else if (a == "--rrds")
      rrds = atol(val());
    else if (a == "--dangling")
      dangling = atol(val());
    else if (a == "--legacy")
      legacy = true;
    else if (a == "--lchown-walk") {
      int fd = open(val(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
      if (fd < 0) die("open");
      printf("%" PRIu64 "\n", lchown_walk(fd));
      return 0;
    } else if (!a.empty() && a[0] != '-' && root.empty())
      root = a;
    else {
      fprintf(stderr,
              "usage: mkblobs ROOT [--messages N] [--days D] [--now EPOCH] [--seed S] "
              "[--rrds K] [--dangling K] [--legacy]\n");
      return 2;
    }
  }
  if (root.empty()) {
    fprintf(stderr, "mkblobs: ROOT missing\n");
    return 2;
  }
  const std::string host_dir = legacy ? "/var/xapi/blobs" : "/var/lib/xcp/blobs";
  const std::string blobs = root + host_dir;
  mkdirs(blobs + "/messages/uuids");
  mkdirs(blobs + "/messages/refs");
  mkdirs(blobs + "/messages/gen");
  mkdirs(blobs + "/rrds");

  // Objects: a few hosts, SRs and a pool, many VMs and VDIs.
  std::vector<Obj> objs;
  auto add = [&](const char* cls, int n) {
    for (int i = 0; i < n; ++i) objs.push_back({cls, uuid()});
  };
  add("Host", 4), add("SR", 6), add("Pool", 1), add("VM", 60), add("VDI", 20);
  for (const Obj& o : objs) mkdirs(blobs + "/messages/" + o.cls + "/" + o.uuid);

  int mfd = open((blobs + "/messages").c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  int ufd = openat(mfd, "uuids", O_RDONLY | O_DIRECTORY);
  int rfd = openat(mfd, "refs", O_RDONLY | O_DIRECTORY);
  int gfd = openat(mfd, "gen", O_RDONLY | O_DIRECTORY);
  if (mfd < 0 || ufd < 0 || rfd < 0 || gfd < 0) die("open messages");
  std::vector<int> objfd(objs.size());
  for (size_t i = 0; i < objs.size(); ++i) {
    objfd[i] = openat(mfd, (std::string(objs[i].cls) + "/" + objs[i].uuid).c_str(),
                      O_RDONLY | O_DIRECTORY);
    if (objfd[i] < 0) die("open obj dir");
  }

  const double span = double(days) * 86400.0;
  const double start = now - span;
  long generation = 1000;
  char ts[64];
  std::string body;
  for (long m = 0; m < messages; ++m) {
    // Evenly spread, with jitter; names are unique because the steps are.
    double t = start + span * (double(m) + 0.5 * double(next_rand() % 1000) / 1000.0) /
                           double(messages > 0 ? messages : 1);
    snprintf(ts, sizeof ts, "%0.5f", t);
    const Obj& o = objs[next_rand() % objs.size()];
    const size_t oi = size_t(&o - objs.data());
    const char* name = kNames[next_rand() % (sizeof kNames / sizeof *kNames)];
    const std::string id = uuid(), ref = "OpaqueRef:" + uuid();
    ++generation;
    body = "<message><generation>" + std::to_string(generation) + "</generation><ref>" + ref +
           "</ref><name>" + name + "</name><priority>" + std::to_string(1 + next_rand() % 5) +
           "</priority><cls>" + o.cls + "</cls><obj_uuid>" + o.uuid + "</obj_uuid><timestamp>" +
           ts + "</timestamp><uuid>" + id +
           "</uuid><body>value: " + std::to_string(next_rand() % 100000) +
           " config: &lt;variable&gt; &lt;name value=&quot;" + name +
           "&quot;/&gt; &lt;alarm_trigger_level value=&quot;0.9&quot;/&gt;</body></message>";
    int fd = openat(mfd, ts, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) die(std::string("create ") + ts);
    if (write(fd, body.data(), body.size()) != ssize_t(body.size())) die("write");
    close(fd);
    fchmodat(mfd, ts, 0600, 0);
    set_time(mfd, ts, t);
    const std::string target = host_dir + "/messages/" + ts;
    const std::string gen = std::to_string(generation);
    if (symlinkat(target.c_str(), objfd[oi], ts) != 0) die("symlink cls");
    if (symlinkat(target.c_str(), ufd, id.c_str()) != 0) die("symlink uuid");
    if (symlinkat(target.c_str(), rfd, ref.c_str()) != 0) die("symlink ref");
    if (symlinkat(target.c_str(), gfd, gen.c_str()) != 0) die("symlink gen");
    set_time(objfd[oi], ts, t), set_time(ufd, id.c_str(), t), set_time(rfd, ref.c_str(), t),
        set_time(gfd, gen.c_str(), t);
  }
  for (long k = 0; k < dangling; ++k) {
    snprintf(ts, sizeof ts, "%0.5f", start - 86400.0 * double(k + 1));
    const std::string target = host_dir + "/messages/" + ts;
    if (symlinkat(target.c_str(), ufd, uuid().c_str()) != 0) die("symlink dangling");
  }
  for (long k = 0; k < rrds; ++k) {
    std::string p = blobs + "/rrds/" + uuid() + ".gz";
    int fd = open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0) die("create rrd");
    std::string data(2048 + next_rand() % 4096, char('a' + next_rand() % 26));
    if (write(fd, data.data(), data.size()) != ssize_t(data.size())) die("write rrd");
    close(fd);
  }
  return 0;
}

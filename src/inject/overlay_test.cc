#include "inject/overlay.h"

#include <archive.h>
#include <archive_entry.h>
#include <doctest/doctest.h>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

#include "inject/hook_files.h"
#include "inject/inject_command.h"
#include "model/digest.h"
#include "model/errors.h"

using namespace xsguard;
using namespace xsguard::inject;

namespace {

const unsigned char* u(const std::string& s) {
  return reinterpret_cast<const unsigned char*>(s.data());
}

// A newc cpio with the given (path, data) files, through FILTER ("" = none). Paths are
// written as given, so a test can make unsafe ones.
std::string make_cpio(const std::vector<std::pair<std::string, std::string>>& files,
                      const std::string& filter = "") {
  std::string out;
  archive* a = archive_write_new();
  archive_write_set_format_cpio_newc(a);
  if (filter == "gzip") archive_write_add_filter_gzip(a);
  if (filter == "bzip2") archive_write_add_filter_bzip2(a);
  if (filter == "xz") archive_write_add_filter_xz(a);
  archive_write_set_bytes_in_last_block(a, 1);
  archive_write_open(
      a, &out, nullptr,
      [](archive*, void* c, const void* b, size_t n) -> la_ssize_t {
        static_cast<std::string*>(c)->append(static_cast<const char*>(b), n);
        return la_ssize_t(n);
      },
      nullptr);
  for (const auto& [path, data] : files) {
    archive_entry* e = archive_entry_new();
    archive_entry_set_pathname(e, path.c_str());
    archive_entry_set_filetype(e, AE_IFREG);
    archive_entry_set_perm(e, 0644);
    archive_entry_set_size(e, la_int64_t(data.size()));
    archive_write_header(a, e);
    archive_write_data(a, data.data(), data.size());
    archive_entry_free(e);
  }
  archive_write_close(a);
  archive_write_free(a);
  return out;
}

Manifest manifest_for(const std::string& base) {
  return {base.size(), sha256_hex(base.data(), base.size()), "test"};
}

struct TempFile {
  std::string path;
  explicit TempFile(const std::string& bytes) {
    char tmpl[] = "/tmp/xsguard-inject-test-XXXXXX";
    int fd = mkstemp(tmpl);
    REQUIRE(fd >= 0);
    REQUIRE(write(fd, bytes.data(), bytes.size()) == ssize_t(bytes.size()));
    close(fd);
    path = tmpl;
  }
  ~TempFile() {
    unlink(path.c_str());
    unlink((path + ".out").c_str());
  }
  std::string read(const std::string& p) const {
    std::ifstream f(p, std::ios::binary);
    std::stringstream ss;
    ss << f.rdbuf();
    return ss.str();
  }
};

// Fails every write after the first N.
struct FailingIo : Io {
  int allowed;
  explicit FailingIo(int n) : allowed(n) {}
  bool pwrite_all(int fd, const void* b, size_t n, uint64_t off) override {
    if (allowed-- <= 0) {
      errno = EIO;
      return false;
    }
    return Io::pwrite_all(fd, b, n, off);
  }
};

}  // namespace

TEST_CASE("inject: initrd formats are told apart by magic") {
  CHECK(detect_format(u(std::string("\x1f\x8b\x08\x00", 4)), 4) == ImageFormat::gzip);
  CHECK(detect_format(u("BZh91AY"), 7) == ImageFormat::bzip2);
  CHECK(detect_format(u(std::string("\xfd" "7zXZ\0", 6)), 6) == ImageFormat::xz);
  CHECK(detect_format(u("070701000"), 9) == ImageFormat::cpio);
  CHECK_THROWS_AS(detect_format(u("070707000"), 9), InputError);  // odc: the kernel wants newc
  CHECK_THROWS_AS(detect_format(u("MZ\x90"), 3), InputError);
  CHECK_THROWS_AS(detect_format(u(""), 0), InputError);
  CHECK_THROWS_WITH_AS(detect_format(u("hello world"), 11),
                       doctest::Contains("68 65 6c 6c 6f 20"), InputError);
}

TEST_CASE("inject: the first cpio header is checked behind every filter") {
  for (std::string filter : {"", "gzip", "bzip2", "xz"}) {
    std::string img = make_cpio({{"init", "#!/bin/sh\n"}}, filter);
    CHECK_NOTHROW(check_first_entry(u(img), img.size(), detect_format(u(img), img.size())));
  }
  // gzip of something that is not a cpio archive.
  std::string notcpio = make_cpio({{"a", "b"}}, "gzip");
  std::string gz = notcpio.substr(0, 10) + std::string(40, '\x55');
  CHECK_THROWS_AS(check_first_entry(u(gz), gz.size(), ImageFormat::gzip), InputError);
}

TEST_CASE("inject: overlay paths must be relative and plain") {
  for (std::string ok : {"usr/bin/xsguard", "etc/systemd/system/a.service", "x"})
    CHECK_NOTHROW(check_path(ok));
  for (std::string bad : std::vector<std::string>{"", "/etc/passwd", "../x", "usr/../../x", "usr//bin", "usr/",
                          "./usr", "usr/./bin", "a\nb", std::string(300, 'a')})
    CHECK_THROWS_AS(check_path(bad), InputError);
  CHECK_THROWS_AS(build_overlay({{"../etc/shadow", "x", 0644, false}}, {1, std::string(64, 'a'), ""}),
                  InputError);
  CHECK_THROWS_AS(build_overlay({{"/etc/shadow", "x", 0644, false}}, {1, std::string(64, 'a'), ""}),
                  InputError);
  CHECK_THROWS_AS(build_overlay({{"a/b", "x", 0644, false}, {"a/b", "y", 0644, false}},
                                {1, std::string(64, 'a'), ""}),
                  InputError);
}

TEST_CASE("inject: an appended overlay is found, listed and read back") {
  for (std::string filter : {"", "gzip", "bzip2", "xz"}) {
    CAPTURE(filter);
    std::string base = make_cpio({{"init", "#!/bin/sh\n"}, {"etc/x", std::string(5000, 'x')}},
                                 filter);
    CHECK_FALSE(find_overlay(u(base), base.size()));
    std::string overlay = build_overlay(
        {{"usr/bin/tool", "ELF", 0755, false}, {"etc/systemd/system/a.d/b.conf", "[Unit]\n", 0644, false}},
        manifest_for(base));
    std::string img = base + overlay;
    auto found = find_overlay(u(img), img.size());
    REQUIRE(found);
    CHECK(found->offset == base.size());
    CHECK(found->manifest.original_sha256 == sha256_hex(base.data(), base.size()));
    auto entries = list_overlay(u(img), img.size(), found->offset);
    std::vector<std::string> paths;
    for (auto& e : entries) paths.push_back(e.path + (e.directory ? "/" : ""));
    // Parents come before their children; the manifest is the first file.
    CHECK(paths == std::vector<std::string>{"usr/", "usr/lib/", "usr/lib/xsguard/", kManifestPath,
                                            "usr/bin/", "usr/bin/tool", "etc/", "etc/systemd/",
                                            "etc/systemd/system/", "etc/systemd/system/a.d/",
                                            "etc/systemd/system/a.d/b.conf", kChecksumPath});
    CHECK(entries[5].mode == 0755);
    CHECK(read_overlay_file(u(img), img.size(), found->offset, "usr/bin/tool") == "ELF");
  }
}

TEST_CASE("inject: gzip-looking bytes and foreign gzip members are not taken for the overlay") {
  // A gzip original: its own member at offset 0 is a cpio without a manifest.
  std::string base = make_cpio({{"init", "x"}}, "gzip");
  std::mt19937 rng(7);
  std::string noise;
  for (int i = 0; i < 200000; ++i) noise += char(rng());
  for (int i = 0; i < 50; ++i) noise.replace(size_t(rng() % (noise.size() - 4)), 3, "\x1f\x8b\x08");
  std::string img = base + noise;
  CHECK_FALSE(find_overlay(u(img), img.size()));
  // A manifest naming another offset (an overlay copied onto another image) is ignored.
  std::string other = build_overlay({}, {12345, std::string(64, 'b'), ""});
  img = base + other;
  CHECK_FALSE(find_overlay(u(img), img.size()));
}

TEST_CASE("inject: the checksum is asked for last and a damaged overlay has none") {
  std::string base = make_cpio({{"init", "x"}}, "bzip2");
  bool asked = false;
  // (libarchive hands out decompressed data in 64 KiB blocks: a cut overlay is seen
  // when at least that much of it was written, as with the real one of a few MB.)
  std::mt19937 rng(3);
  std::string noise;
  for (int i = 0; i < 400000; ++i) noise += char(rng());
  std::string overlay = build_overlay({{"a", noise, 0644, false}}, {base.size(), "", "t"}, [&] {
    asked = true;
    return sha256_hex(base.data(), base.size());
  });
  CHECK(asked);
  std::string img = base + overlay;
  auto found = find_overlay(u(img), img.size());
  REQUIRE(found);
  CHECK(found->manifest.original_sha256 == sha256_hex(base.data(), base.size()));
  // Cut short (a write that never finished): still recognised, but without a checksum.
  std::string cut = img.substr(0, base.size() + overlay.size() / 2);
  auto partial = find_overlay(u(cut), cut.size());
  REQUIRE(partial);
  CHECK(partial->offset == base.size());
  CHECK(partial->manifest.original_sha256.empty());
  CHECK_THROWS_AS(build_overlay({}, {1, "", ""}, [] { return std::string("nope"); }),
                  std::runtime_error);
}

TEST_CASE("inject: manifests are parsed strictly") {
  Manifest m{42, std::string(64, 'c'), "1.2.3"};
  auto back = parse_manifest(manifest_json(m));
  REQUIRE(back);
  CHECK(back->original_length == 42);
  CHECK(back->xsguard_version == "1.2.3");
  CHECK_FALSE(parse_manifest("{}"));
  CHECK_FALSE(parse_manifest("not json"));
  CHECK_FALSE(parse_manifest(R"({"format":"xsguard-overlay/1","original_length":-1,"original_sha256":"aa"})"));
  CHECK_FALSE(parse_manifest(R"({"format":"other","original_length":1,"original_sha256":"aa"})"));
}

TEST_CASE("inject: an overlay with an unsafe path is refused when listed") {
  std::string base = make_cpio({{"init", "x"}});
  // Hand-made overlay: the manifest first, then a path climbing out of the root.
  std::string evil = make_cpio({{kManifestPath, manifest_json(manifest_for(base))},
                                {"../../etc/cron.d/x", "boom"}},
                               "gzip");
  std::string img = base + evil;
  auto found = find_overlay(u(img), img.size());
  REQUIRE(found);
  CHECK_THROWS_WITH_AS(list_overlay(u(img), img.size(), found->offset),
                       doctest::Contains("parent directory"), InputError);
}

TEST_CASE("inject: the binary is carried without its debug sections and still runs") {
  std::string self = TempFile("").read("/proc/self/exe");
  std::string cut = loadable_image(self);
  CHECK(cut.size() <= self.size());
  CHECK(cut.compare(0, 4, "\x7f" "ELF") == 0);
  CHECK(loadable_image("not an elf") == "not an elf");
  auto end = loadable_end(u(self), self.size(), self.size());
  REQUIRE(end);
  CHECK(*end == cut.size());
  std::string broken = self.substr(0, 100);
  CHECK(loadable_image(broken) == broken);
}

TEST_CASE("inject: the hook files are all there and executable where they must be") {
  std::map<std::string, unsigned> modes;
  for (size_t i = 0; i < kHookFileCount; ++i) {
    CHECK_NOTHROW(check_path(kHookFiles[i].path));
    modes[kHookFiles[i].path] = kHookFiles[i].mode;
    CHECK(kHookFiles[i].size > 0);
  }
  for (std::string exe : {"usr/lib/xsguard/preflight", "usr/lib/xsguard/monitor",
                          "usr/lib/xsguard/answerfile/installation-start",
                          "usr/lib/xsguard/answerfile/filesystem-populated",
                          "usr/lib/xsguard/answerfile/installation-complete"}) {
    CAPTURE(exe);
    REQUIRE(modes.count(exe));
    CHECK(modes[exe] == 0755);
  }
  CHECK(modes.count("etc/systemd/system/installer.service.d/xsguard.conf"));
  CHECK(modes.count("etc/systemd/system/xsguard-monitor.service"));
}

TEST_CASE("inject: in place, a failed write leaves exactly the original bytes") {
  std::string base = make_cpio({{"init", std::string(3000, 'i')}}, "bzip2");
  TempFile f(base);
  InjectOptions o;
  o.image = f.path;
  std::ostringstream out, err;
  FailingIo io(0);
  CHECK_THROWS(run_inject(o, out, err, io));
  CHECK(f.read(f.path) == base);
  // Injected, then a second inject whose write fails: the overlay is gone, the original
  // remains, and a retry works.
  CHECK(run_inject(o, out, err) == 0);
  CHECK(f.read(f.path).size() > base.size());
  FailingIo io2(0);
  CHECK_THROWS(run_inject(o, out, err, io2));
  CHECK(f.read(f.path) == base);
  CHECK(run_inject(o, out, err) == 0);
  o.remove = true;
  CHECK(run_inject(o, out, err) == 0);
  CHECK(f.read(f.path) == base);
}

TEST_CASE("inject: a half-written overlay is replaced by inject but not removed") {
  std::string base = make_cpio({{"init", std::string(2000, 'z')}}, "gzip");
  TempFile f(base);
  InjectOptions o;
  o.image = f.path;
  std::ostringstream out, err;
  REQUIRE(run_inject(o, out, err) == 0);
  std::string full = f.read(f.path);
  REQUIRE(truncate(f.path.c_str(), off_t(base.size() + (full.size() - base.size()) / 2)) == 0);
  InjectOptions r = o;
  r.remove = true;
  CHECK_THROWS_WITH_AS(run_inject(r, out, err), doctest::Contains("damaged"), InputError);
  CHECK(run_inject(o, out, err) == 0);
  CHECK(f.read(f.path) == full);
  CHECK(run_inject(r, out, err) == 0);
  CHECK(f.read(f.path) == base);
}

TEST_CASE("inject: -o leaves the input alone; a changed original is refused") {
  std::string base = make_cpio({{"init", "x"}}, "gzip");
  TempFile f(base);
  InjectOptions o;
  o.image = f.path;
  o.output = f.path + ".out";
  std::ostringstream out, err;
  CHECK(run_inject(o, out, err) == 0);
  CHECK(f.read(f.path) == base);
  std::string injected = f.read(o.output);
  CHECK(injected.compare(0, base.size(), base) == 0);
  // Flip a byte of the original part: --remove must not cut it back.
  std::string changed = injected;
  changed[base.size() - 3] ^= 0x40;
  TempFile g(changed);
  InjectOptions r;
  r.image = g.path;
  r.remove = true;
  CHECK_THROWS_WITH_AS(run_inject(r, out, err), doctest::Contains("checksum"), InputError);
  CHECK(g.read(g.path) == changed);
  InjectOptions both;
  both.image = f.path;
  both.list = both.remove = true;
  CHECK_THROWS_AS(run_inject(both, out, err), UsageError);
}

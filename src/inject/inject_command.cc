#include "inject/inject_command.h"

#include <fcntl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <future>
#include <memory>

#include "inject/hook_files.h"
#include "model/digest.h"
#include "model/errors.h"

namespace xsguard::inject {

namespace {

constexpr const char* kTerminfoNames[] = {"linux", "vt100", "vt102", "xterm"};
constexpr const char* kBinaryPath = "usr/bin/xsguard";
constexpr const char* kTerminfoDir = "usr/share/xsguard/terminfo";

std::string errno_text() { return std::strerror(errno); }

// The image, open and mapped read-only for the whole command.
class Image {
 public:
  Image(const std::string& path, bool writable) : path_(path) {
    fd_ = ::open(path.c_str(), (writable ? O_RDWR : O_RDONLY) | O_CLOEXEC | O_NOFOLLOW);
    if (fd_ < 0 && writable && errno == EACCES)
      throw InputError(path + ": cannot open for writing: " + errno_text());
    if (fd_ < 0 && errno == ELOOP)
      throw InputError(path + ": a symbolic link; name the image file itself");
    if (fd_ < 0) throw InputError(path + ": " + errno_text());
    struct stat st {};
    if (fstat(fd_, &st) != 0) throw InputError(path + ": " + errno_text());
    if (!S_ISREG(st.st_mode)) throw InputError(path + ": not a regular file");
    dev_ = st.st_dev;
    ino_ = st.st_ino;
    size_ = static_cast<size_t>(st.st_size);
    if (size_ == 0) throw InputError(path + ": empty file, not an initrd");
    void* m = mmap(nullptr, size_, PROT_READ, MAP_SHARED | MAP_POPULATE, fd_, 0);
    if (m == MAP_FAILED) throw InputError(path + ": cannot map: " + errno_text());
    data_ = static_cast<const unsigned char*>(m);
  }
  ~Image() {
    if (data_) munmap(const_cast<unsigned char*>(data_), size_);
    if (fd_ >= 0) ::close(fd_);
  }
  Image(const Image&) = delete;
  Image& operator=(const Image&) = delete;

  const unsigned char* data() const { return data_; }
  size_t size() const { return size_; }
  int fd() const { return fd_; }
  const std::string& path() const { return path_; }
  bool same_file(const std::string& other) const {
    struct stat st {};
    return ::stat(other.c_str(), &st) == 0 && st.st_dev == dev_ && st.st_ino == ino_;
  }

 private:
  std::string path_;
  int fd_ = -1;
  const unsigned char* data_ = nullptr;
  size_t size_ = 0;
  dev_t dev_{};
  ino_t ino_{};
};

// The original part of IMAGE (all of it, or what precedes the overlay), checked by its
// magic and first cpio header.
struct Base {
  uint64_t length = 0;
  std::optional<FoundOverlay> overlay;
  ImageFormat format = ImageFormat::cpio;
};

Base examine(const Image& img) {
  Base b;
  b.format = detect_format(img.data(), img.size());
  b.overlay = find_overlay(img.data(), img.size());
  b.length = b.overlay ? b.overlay->offset : img.size();
  check_first_entry(img.data(), b.length, b.format);
  return b;
}

// The bytes before the overlay must still be the ones it was added to.
void verify_base(const Image& img, const Base& b, const std::string& actual_sha256) {
  if (!b.overlay || b.overlay->manifest.original_sha256.empty()) return;
  if (actual_sha256 != b.overlay->manifest.original_sha256)
    throw InputError(img.path() + ": the " + std::to_string(b.length) +
                     " bytes before the xsguard overlay do not match the checksum recorded "
                     "when it was added; the image was changed since (start again from the "
                     "original install.img)");
}

// Writes BASE_LEN bytes of IMG then TAIL to OUT through a ".partial" file and a rename.
void write_copy(Io& io, const Image& img, uint64_t base_len, const std::string& tail,
                const std::string& out) {
  const std::string partial = out + ".partial";
  int fd = ::open(partial.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0644);
  if (fd < 0 && errno == EEXIST)
    throw InputError(partial + " exists (left by an interrupted run, or another inject is "
                     "writing it): remove it and run again");
  if (fd < 0) throw InputError(partial + ": cannot create: " + errno_text());
  bool ok = true;
  loff_t in_off = 0, out_off = 0;
  while (ok && static_cast<uint64_t>(in_off) < base_len) {
    ssize_t n = copy_file_range(img.fd(), &in_off, fd, &out_off,
                                base_len - static_cast<uint64_t>(in_off), 0);
    if (n < 0 && (errno == EXDEV || errno == ENOSYS || errno == EINVAL)) {
      ok = io.pwrite_all(fd, img.data() + in_off, base_len - in_off, in_off);
      in_off = out_off = static_cast<loff_t>(base_len);
    } else if (n <= 0) {
      ok = false;
    }
  }
  ok = ok && io.pwrite_all(fd, tail.data(), tail.size(), base_len) && io.fsync(fd);
  int saved = errno;
  ::close(fd);
  if (ok && ::rename(partial.c_str(), out.c_str()) != 0) {
    saved = errno;
    ok = false;
  }
  if (!ok) {
    ::unlink(partial.c_str());
    errno = saved;
    throw std::runtime_error(out + ": cannot write: " + errno_text());
  }
}

// Cuts IMG back to BASE_LEN and appends TAIL, in place. The bytes before BASE_LEN are
// never written.
void write_in_place(Io& io, const Image& img, uint64_t base_len, const std::string& tail) {
  if (base_len < img.size() && ftruncate(img.fd(), static_cast<off_t>(base_len)) != 0)
    throw std::runtime_error(img.path() + ": cannot truncate: " + errno_text());
  if (!tail.empty() && !io.pwrite_all(img.fd(), tail.data(), tail.size(), base_len))
    throw std::runtime_error(img.path() + ": cannot append: " + errno_text());
  if (!io.fsync(img.fd())) throw std::runtime_error(img.path() + ": fsync: " + errno_text());
}

std::string describe(const FoundOverlay& f, size_t image_size) {
  return "overlay at byte " + std::to_string(f.offset) + " (" +
         std::to_string(image_size - f.offset) + " bytes, xsguard " +
         (f.manifest.xsguard_version.empty() ? "?" : f.manifest.xsguard_version) +
         "); original " + std::to_string(f.offset) + " bytes, sha256 " +
         f.manifest.original_sha256;
}

std::string octal(unsigned mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

// The program at PATH as loadable_image() makes it, reading only the bytes it keeps.
std::string read_program(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw InputError(path + ": " + errno_text());
  std::unique_ptr<int, void (*)(int*)> closer(&fd, [](int* f) { ::close(*f); });
  struct stat st {};
  if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) throw InputError(path + ": not a regular file");
  auto read_at = [&](std::string& buf, uint64_t len) {
    buf.resize(len);
    size_t got = 0;
    while (got < len) {
      ssize_t n = ::pread(fd, buf.data() + got, len - got, static_cast<off_t>(got));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) throw InputError(path + ": short read");
      got += size_t(n);
    }
  };
  const uint64_t size = static_cast<uint64_t>(st.st_size);
  std::string head;
  read_at(head, std::min<uint64_t>(size, 65536));
  auto end = loadable_end(reinterpret_cast<const unsigned char*>(head.data()), head.size(), size);
  std::string bytes;
  if (!end || *end >= size) {
    read_at(bytes, size);
    return bytes;
  }
  read_at(bytes, *end);
  drop_section_headers(bytes);
  return bytes;
}

}  // namespace

std::vector<OverlayFile> overlay_files(const InjectOptions& o,
                                       std::vector<std::string>* missing) {
  std::vector<OverlayFile> files;
  files.push_back({kBinaryPath, read_program(o.self_exe), 0755, false});
  for (const char* name : kTerminfoNames) {
    bool found = false;
    for (const auto& dir : o.terminfo_dirs) {
      const std::string rel = std::string(1, name[0]) + "/" + name;
      struct stat st {};
      if (::stat((dir + "/" + rel).c_str(), &st) != 0 || !S_ISREG(st.st_mode)) continue;
      files.push_back({std::string(kTerminfoDir) + "/" + rel,
                       read_small_file(dir + "/" + rel, 1 << 20), 0644, false});
      found = true;
      break;
    }
    if (!found && missing) missing->push_back(name);
  }
  for (size_t i = 0; i < kHookFileCount; ++i)
    files.push_back({kHookFiles[i].path, std::string(kHookFiles[i].data, kHookFiles[i].size),
                     kHookFiles[i].mode, false});
  return files;
}

int run_inject(const InjectOptions& o, std::ostream& out, std::ostream& err, Io& io) {
  if (o.list && o.remove) throw UsageError("--list and --remove exclude each other");
  if (o.list && !o.output.empty()) throw UsageError("--list writes nothing: drop -o");
  bool in_place = o.output.empty();

  if (o.list) {
    Image img(o.image, false);
    Base b = examine(img);
    if (b.overlay) verify_base(img, b, sha256_hex(img.data(), b.length));
    out << o.image << ": " << to_string(b.format) << " initrd, " << img.size() << " bytes\n";
    if (!b.overlay) {
      out << "no xsguard overlay\n";
      return 0;
    }
    out << describe(*b.overlay, img.size()) << '\n';
    for (const auto& e : list_overlay(img.data(), img.size(), b.overlay->offset))
      out << (e.directory ? 'd' : '-') << ' ' << octal(e.mode) << ' ' << e.size << ' '
          << e.path << (e.directory ? "/" : "") << '\n';
    return 0;
  }

  std::optional<Image> holder;
  holder.emplace(o.image, false);
  if (!in_place && holder->same_file(o.output)) in_place = true;
  if (in_place) holder.emplace(o.image, true);
  const Image& img = *holder;
  Base b = examine(img);

  if (o.remove) {
    if (b.overlay && b.overlay->manifest.original_sha256.empty())
      throw InputError(o.image + ": the xsguard overlay is damaged (no readable checksum); "
                       "cannot prove what the original was: inject again, then remove");
    if (b.overlay) verify_base(img, b, sha256_hex(img.data(), b.length));
    if (!b.overlay) {
      out << o.image << ": no xsguard overlay, nothing to remove\n";
      if (!in_place) write_copy(io, img, img.size(), "", o.output);
      return 0;
    }
    if (in_place)
      write_in_place(io, img, b.length, "");
    else
      write_copy(io, img, b.length, "", o.output);
    out << (in_place ? o.image : o.output) << ": removed the xsguard overlay; "
        << b.length << " bytes left, sha256 " << b.overlay->manifest.original_sha256
        << " as recorded\n";
    return 0;
  }

  // The checksum of the original runs on a second core while the overlay is built; the
  // overlay asks for it last, and nothing is written before it is known and checked.
  std::future<std::string> original_sha = std::async(
      std::launch::async, [&img, &b] { return sha256_hex(img.data(), b.length); });
  std::vector<std::string> missing;
  std::vector<OverlayFile> files = overlay_files(o, &missing);
  if (!missing.empty()) {
    err << "xsguard: warning: no terminfo entry for";
    for (const auto& m : missing) err << ' ' << m;
    err << " on this machine; the installer's own entries will be used\n";
  }
  Manifest m;
  m.original_length = b.length;
  m.xsguard_version = XSGUARD_VERSION;
  const std::string overlay = build_overlay(files, m, [&] {
    m.original_sha256 = original_sha.get();
    verify_base(img, b, m.original_sha256);
    return m.original_sha256;
  });
  if (in_place)
    write_in_place(io, img, b.length, overlay);
  else
    write_copy(io, img, b.length, overlay, o.output);
  out << (in_place ? o.image : o.output) << ": " << (b.overlay ? "replaced the" : "appended an")
      << " xsguard overlay: " << files.size() << " files, " << overlay.size()
      << " bytes at byte " << b.length << " after the original " << to_string(b.format)
      << " initrd (sha256 " << m.original_sha256 << ")\n";
  return 0;
}

}  // namespace xsguard::inject

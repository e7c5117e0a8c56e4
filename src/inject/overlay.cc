#include "inject/overlay.h"

#include <archive.h>
#include <archive_entry.h>

#include <cstring>
#include <memory>
#include <nlohmann/json.hpp>
#include <set>

#include "model/errors.h"

namespace xsguard::inject {

namespace {

struct ReadCloser {
  void operator()(archive* a) const { archive_read_free(a); }
};
struct WriteCloser {
  void operator()(archive* a) const { archive_write_free(a); }
};
using ReadArchive = std::unique_ptr<archive, ReadCloser>;
using WriteArchive = std::unique_ptr<archive, WriteCloser>;

// A reader for the newc cpio behind one filter, over a slice of memory.
ReadArchive open_reader(const unsigned char* data, size_t size, ImageFormat f) {
  ReadArchive a(archive_read_new());
  if (!a) throw std::bad_alloc();
  archive_read_support_format_cpio(a.get());
  switch (f) {
    case ImageFormat::gzip: archive_read_support_filter_gzip(a.get()); break;
    case ImageFormat::bzip2: archive_read_support_filter_bzip2(a.get()); break;
    case ImageFormat::xz: archive_read_support_filter_xz(a.get()); break;
    case ImageFormat::cpio: break;
  }
  if (archive_read_open_memory(a.get(), data, size) != ARCHIVE_OK) return nullptr;
  return a;
}

std::string hex_bytes(const unsigned char* data, size_t size) {
  static const char* digits = "0123456789abcdef";
  std::string out;
  for (size_t i = 0; i < size && i < 6; ++i) {
    if (i) out += ' ';
    out += digits[data[i] >> 4];
    out += digits[data[i] & 15];
  }
  return out.empty() ? "nothing" : out;
}

uint16_t le16(const unsigned char* p) { return uint16_t(p[0] | p[1] << 8); }
uint32_t le32(const unsigned char* p) { return le16(p) | uint32_t(le16(p + 2)) << 16; }
uint64_t le64(const unsigned char* p) { return le32(p) | uint64_t(le32(p + 4)) << 32; }
void put_le16(unsigned char* p, uint16_t v) { p[0] = v & 0xff; p[1] = v >> 8; }
void put_le64(unsigned char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = (v >> (8 * i)) & 0xff;
}

}  // namespace

const char* to_string(ImageFormat f) {
  switch (f) {
    case ImageFormat::gzip: return "gzip";
    case ImageFormat::bzip2: return "bzip2";
    case ImageFormat::xz: return "xz";
    case ImageFormat::cpio: return "cpio";
  }
  return "?";
}

ImageFormat detect_format(const unsigned char* d, size_t n) {
  if (n >= 3 && d[0] == 0x1f && d[1] == 0x8b && d[2] == 0x08) return ImageFormat::gzip;
  if (n >= 4 && d[0] == 'B' && d[1] == 'Z' && d[2] == 'h' && d[3] >= '1' && d[3] <= '9')
    return ImageFormat::bzip2;
  if (n >= 6 && std::memcmp(d, "\xfd" "7zXZ\0", 6) == 0) return ImageFormat::xz;
  if (n >= 6 && (std::memcmp(d, "070701", 6) == 0 || std::memcmp(d, "070702", 6) == 0))
    return ImageFormat::cpio;
  if (n == 0) throw InputError("empty file, not an initrd");
  throw InputError("not an initrd: expected gzip, bzip2, xz or newc cpio, found bytes " +
                   hex_bytes(d, n));
}

void check_first_entry(const unsigned char* data, size_t size, ImageFormat f) {
  ReadArchive a = open_reader(data, size, f);
  archive_entry* e = nullptr;
  if (!a || archive_read_next_header(a.get(), &e) != ARCHIVE_OK ||
      (archive_format(a.get()) != ARCHIVE_FORMAT_CPIO_SVR4_NOCRC &&
       archive_format(a.get()) != ARCHIVE_FORMAT_CPIO_SVR4_CRC)) {
    const char* why = a ? archive_error_string(a.get()) : nullptr;
    throw InputError(std::string("a ") + to_string(f) +
                     " stream that does not hold a newc cpio archive" +
                     (why ? std::string(" (") + why + ")" : std::string()));
  }
}

void check_path(const std::string& path) {
  auto bad = [&](const char* why) {
    throw InputError("unsafe path in overlay: \"" + path + "\" (" + why + ")");
  };
  if (path.empty()) bad("empty");
  if (path.size() > 255) bad("too long");
  if (path[0] == '/') bad("absolute");
  for (unsigned char c : path)
    if (c < 0x20 || c == 0x7f) bad("control character");
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find('/', start);
    if (end == std::string::npos) end = path.size();
    std::string part = path.substr(start, end - start);
    if (part.empty()) bad("empty component");
    if (part == "..") bad("parent directory");
    if (part == ".") bad("\".\" component");
    start = end + 1;
  }
}

std::string manifest_json(const Manifest& m) {
  nlohmann::ordered_json j;
  j["format"] = kManifestFormat;
  j["original_length"] = m.original_length;
  j["checksum_file"] = kChecksumPath;
  j["xsguard_version"] = m.xsguard_version;
  return j.dump(2) + "\n";
}

std::optional<Manifest> parse_manifest(const std::string& text) {
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) return std::nullopt;
  if (j.value("format", "") != kManifestFormat) return std::nullopt;
  auto len = j.find("original_length");
  if (len == j.end() || !len->is_number_unsigned()) return std::nullopt;
  Manifest m;
  m.original_length = len->get<uint64_t>();
  auto v = j.find("xsguard_version");
  if (v != j.end() && v->is_string()) m.xsguard_version = v->get<std::string>();
  return m;
}

static bool is_sha256_hex(const std::string& s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

std::string build_overlay(const std::vector<OverlayFile>& files, const Manifest& manifest,
                          const std::function<std::string()>& original_sha256) {
  std::vector<OverlayFile> all;
  all.push_back({kManifestPath, manifest_json(manifest), 0644, false});
  all.insert(all.end(), files.begin(), files.end());
  all.push_back({kChecksumPath, "", 0644, false});  // filled in last

  std::string out;
  WriteArchive a(archive_write_new());
  if (!a) throw std::bad_alloc();
  auto fail = [&](const char* what) {
    throw std::runtime_error(std::string("writing the overlay: ") + what + ": " +
                             (archive_error_string(a.get()) ? archive_error_string(a.get())
                                                            : "unknown error"));
  };
  if (archive_write_set_format_cpio_newc(a.get()) != ARCHIVE_OK) fail("newc format");
  if (archive_write_add_filter_gzip(a.get()) != ARCHIVE_OK) fail("gzip filter");
  // Level 1: the overlay is a few MB; speed matters more than the last 10% of size.
  archive_write_set_filter_option(a.get(), "gzip", "compression-level", "1");
  archive_write_set_filter_option(a.get(), "gzip", "timestamp", nullptr);  // reproducible
  archive_write_set_bytes_in_last_block(a.get(), 1);
  auto writer = [](archive*, void* client, const void* buf, size_t n) -> la_ssize_t {
    static_cast<std::string*>(client)->append(static_cast<const char*>(buf), n);
    return static_cast<la_ssize_t>(n);
  };
  if (archive_write_open(a.get(), &out, nullptr, writer, nullptr) != ARCHIVE_OK) fail("open");

  std::set<std::string> written;
  std::unique_ptr<archive_entry, void (*)(archive_entry*)> e(archive_entry_new(),
                                                              archive_entry_free);
  auto put = [&](const std::string& path, const std::string* data, unsigned mode, bool dir) {
    archive_entry_clear(e.get());
    archive_entry_set_pathname(e.get(), path.c_str());
    archive_entry_set_filetype(e.get(), dir ? AE_IFDIR : AE_IFREG);
    archive_entry_set_perm(e.get(), mode & 07777);
    archive_entry_set_uid(e.get(), 0);
    archive_entry_set_gid(e.get(), 0);
    archive_entry_set_nlink(e.get(), dir ? 2 : 1);
    archive_entry_set_mtime(e.get(), 0, 0);
    archive_entry_set_size(e.get(), dir ? 0 : static_cast<la_int64_t>(data->size()));
    if (archive_write_header(a.get(), e.get()) != ARCHIVE_OK) fail(path.c_str());
    if (!dir && !data->empty() &&
        archive_write_data(a.get(), data->data(), data->size()) !=
            static_cast<la_ssize_t>(data->size()))
      fail(path.c_str());
    written.insert(path);
  };
  for (auto& f : all) {
    if (f.path == kChecksumPath && &f == &all.back()) {
      f.data = (original_sha256 ? original_sha256() : manifest.original_sha256);
      if (!is_sha256_hex(f.data)) throw std::runtime_error("overlay checksum is not a SHA-256");
      f.data += "\n";
    }
    check_path(f.path);
    if (written.count(f.path)) throw InputError("duplicate path in overlay: " + f.path);
    for (size_t slash = f.path.find('/'); slash != std::string::npos;
         slash = f.path.find('/', slash + 1)) {
      std::string parent = f.path.substr(0, slash);
      if (!written.count(parent)) put(parent, nullptr, 0755, true);
    }
    put(f.path, &f.data, f.mode, f.directory);
  }
  if (archive_write_close(a.get()) != ARCHIVE_OK) fail("close");
  return out;
}

namespace {

// The manifest of the gzip member starting at OFFSET, if its first few entries hold one.
std::optional<Manifest> manifest_at(const unsigned char* data, size_t size, uint64_t offset) {
  ReadArchive a = open_reader(data + offset, size - offset, ImageFormat::gzip);
  if (!a) return std::nullopt;
  archive_entry* e = nullptr;
  for (int i = 0; i < 8; ++i) {
    if (archive_read_next_header(a.get(), &e) != ARCHIVE_OK) return std::nullopt;
    const char* name = archive_entry_pathname(e);
    if (!name || std::strcmp(name, kManifestPath) != 0) continue;
    la_int64_t n = archive_entry_size(e);
    if (n <= 0 || n > 65536) return std::nullopt;
    std::string text(static_cast<size_t>(n), '\0');
    if (archive_read_data(a.get(), text.data(), text.size()) != n) return std::nullopt;
    return parse_manifest(text);
  }
  return std::nullopt;
}

}  // namespace

std::optional<FoundOverlay> find_overlay(const unsigned char* data, size_t size) {
  // Candidates are gzip magics, latest first: bytes inside the overlay's compressed data
  // that happen to look like a header fail to decompress within the first block.
  if (size < 4) return std::nullopt;
  const size_t floor = size > kMaxOverlayBytes ? size - kMaxOverlayBytes : 0;
  for (size_t p = size - 3;; --p) {
    const void* hit = memrchr(data + floor, 0x1f, p + 1 - floor);
    if (!hit) break;
    p = static_cast<const unsigned char*>(hit) - data;
    if (p + 3 <= size && data[p + 1] == 0x8b && data[p + 2] == 0x08 && p > 0) {
      if (auto m = manifest_at(data, size, p); m && m->original_length == p) {
        try {
          auto sum = read_overlay_file(data, size, p, kChecksumPath);
          if (sum && sum->size() == 65 && is_sha256_hex(sum->substr(0, 64)))
            m->original_sha256 = sum->substr(0, 64);
        } catch (const InputError&) {
          // A damaged overlay: found, but without a checksum to trust.
        }
        return FoundOverlay{p, *m};
      }
    }
    if (p == floor) break;
  }
  return std::nullopt;
}

namespace {

template <typename F>
void walk_overlay(const unsigned char* data, size_t size, uint64_t offset, F&& each) {
  if (offset >= size) throw InputError("overlay offset beyond the end of the image");
  ReadArchive a = open_reader(data + offset, size - offset, ImageFormat::gzip);
  if (!a) throw InputError("overlay unreadable");
  archive_entry* e = nullptr;
  for (;;) {
    int r = archive_read_next_header(a.get(), &e);
    if (r == ARCHIVE_EOF) break;
    if (r != ARCHIVE_OK)
      throw InputError(std::string("overlay damaged: ") +
                       (archive_error_string(a.get()) ? archive_error_string(a.get()) : "?"));
    const char* name = archive_entry_pathname(e);
    std::string path = name ? name : "";
    check_path(path);
    if (!each(a.get(), e, path)) return;
  }
}

}  // namespace

std::vector<ListedEntry> list_overlay(const unsigned char* data, size_t size, uint64_t offset) {
  std::vector<ListedEntry> out;
  walk_overlay(data, size, offset, [&](archive*, archive_entry* e, const std::string& path) {
    ListedEntry l;
    l.path = path;
    l.directory = archive_entry_filetype(e) == AE_IFDIR;
    l.size = l.directory ? 0 : static_cast<uint64_t>(archive_entry_size(e));
    l.mode = archive_entry_perm(e);
    out.push_back(std::move(l));
    return true;
  });
  return out;
}

std::optional<std::string> read_overlay_file(const unsigned char* data, size_t size,
                                             uint64_t offset, const std::string& want) {
  std::optional<std::string> found;
  walk_overlay(data, size, offset, [&](archive* a, archive_entry* e, const std::string& path) {
    if (path != want) return true;
    std::string bytes;
    char buf[65536];
    la_ssize_t n;
    while ((n = archive_read_data(a, buf, sizeof buf)) > 0) bytes.append(buf, n);
    if (n < 0) throw InputError("overlay damaged in " + path);
    (void)e;
    found = std::move(bytes);
    return false;
  });
  return found;
}

std::optional<uint64_t> loadable_end(const unsigned char* d, size_t n, uint64_t file_size) {
  if (n < 64 || std::memcmp(d, "\x7f" "ELF", 4) != 0 || d[4] != 2 /*64-bit*/ ||
      d[5] != 1 /*little endian*/)
    return std::nullopt;
  const uint64_t phoff = le64(d + 32);
  const uint16_t phentsize = le16(d + 54), phnum = le16(d + 56);
  if (phentsize < 56 || phnum == 0 || phoff > n || (n - phoff) / phentsize < phnum)
    return std::nullopt;
  uint64_t end = phoff + uint64_t(phentsize) * phnum;
  for (uint16_t i = 0; i < phnum; ++i) {
    const unsigned char* ph = d + phoff + uint64_t(i) * phentsize;
    const uint64_t off = le64(ph + 8), filesz = le64(ph + 32);
    if (off > file_size || filesz > file_size - off) return std::nullopt;
    end = std::max(end, off + filesz);
  }
  return end;
}

std::string loadable_image(const std::string& elf) {
  const auto* d = reinterpret_cast<const unsigned char*>(elf.data());
  auto end = loadable_end(d, elf.size(), elf.size());
  if (!end || *end >= elf.size()) return elf;
  std::string out = elf.substr(0, *end);
  drop_section_headers(out);
  return out;
}

void drop_section_headers(std::string& elf) {
  if (elf.size() < 64) return;
  auto* o = reinterpret_cast<unsigned char*>(elf.data());
  put_le64(o + 40, 0);  // e_shoff
  put_le16(o + 60, 0);  // e_shnum
  put_le16(o + 62, 0);  // e_shstrndx
}

}  // namespace xsguard::inject

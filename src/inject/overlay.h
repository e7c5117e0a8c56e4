// The overlay xsguard appends to an installer initrd (install.img). The kernel unpacks
// an initramfs made of several concatenated, separately compressed newc cpio archives,
// later files winning, so one more gzip member at the end adds files without touching
// the bytes before it. The overlay's first file is a manifest recording the length and
// SHA-256 of those bytes: that is how a later inject finds and replaces the overlay, and
// how --remove proves that cutting the file back gives the original image.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

namespace xsguard::inject {

// Where the manifest lives inside the overlay (and so inside the installer's root). It
// is the first file, so an overlay is recognised from its first few headers; the
// checksum of the original is the last file, so that it can be computed while the rest
// of the overlay is being compressed.
inline constexpr const char* kManifestPath = "usr/lib/xsguard/overlay.json";
inline constexpr const char* kChecksumPath = "usr/lib/xsguard/overlay.sha256";
// An overlay is searched for in the image's last 64 MiB.
inline constexpr size_t kMaxOverlayBytes = size_t(64) << 20;
inline constexpr const char* kManifestFormat = "xsguard-overlay/1";

// What an initrd starts with. Anything else is refused.
enum class ImageFormat { gzip, bzip2, xz, cpio };
const char* to_string(ImageFormat f);

// The format named by the first bytes; throws InputError naming what was found.
ImageFormat detect_format(const unsigned char* data, size_t size);

// Reads the first cpio header of the image with libarchive (the detected filter, newc
// cpio). Throws InputError when the bytes after the magic are not a cpio archive.
void check_first_entry(const unsigned char* data, size_t size, ImageFormat f);

struct OverlayFile {
  std::string path;  // relative, '/'-separated
  std::string data;
  unsigned mode = 0644;  // permission bits
  bool directory = false;
};

struct Manifest {
  uint64_t original_length = 0;
  std::string original_sha256;  // from the checksum file; empty when it is unreadable
  std::string xsguard_version;
};

// Throws InputError unless PATH is relative, non-empty, without "." / ".." / empty
// components and without characters that cannot appear in an installer path.
void check_path(const std::string& path);

// The overlay as one gzip-compressed newc cpio: the manifest first, then FILES, every
// missing parent directory added before its first child, then the checksum file holding
// ORIGINAL_SHA256() (called only then; manifest.original_sha256 when not given). Paths
// are checked.
std::string build_overlay(const std::vector<OverlayFile>& files, const Manifest& manifest,
                          const std::function<std::string()>& original_sha256 = nullptr);

struct FoundOverlay {
  uint64_t offset = 0;  // == manifest.original_length
  Manifest manifest;
};

// The overlay at the end of an image, if any: the last gzip member (within the last
// kMaxOverlayBytes) whose first entries hold a manifest that names this very offset as
// the original's length. Its checksum file is read into manifest.original_sha256.
std::optional<FoundOverlay> find_overlay(const unsigned char* data, size_t size);

struct ListedEntry {
  std::string path;
  uint64_t size = 0;
  unsigned mode = 0;
  bool directory = false;
};

// Every entry of the overlay that starts at OFFSET; throws InputError on a damaged
// archive or an unsafe path.
std::vector<ListedEntry> list_overlay(const unsigned char* data, size_t size, uint64_t offset);

// Reads one file's bytes out of the overlay at OFFSET (tests and --list use it).
std::optional<std::string> read_overlay_file(const unsigned char* data, size_t size,
                                             uint64_t offset, const std::string& path);

// An ELF executable cut to what its program headers load: the debug sections go, the
// section header table is dropped. The program runs the same. Returns the input
// unchanged when it is not a 64-bit little-endian ELF whose headers make sense.
std::string loadable_image(const std::string& elf);

// Where the last byte a program header loads ends, from the first N bytes of an ELF file
// of FILE_SIZE bytes (they must hold the program header table); nullopt when it is not a
// 64-bit little-endian ELF with sane headers.
// Zeroes an ELF header's section header table fields (offset, count, name index).
void drop_section_headers(std::string& elf);

std::optional<uint64_t> loadable_end(const unsigned char* head, size_t n, uint64_t file_size);

std::string manifest_json(const Manifest& m);
std::optional<Manifest> parse_manifest(const std::string& json);

}  // namespace xsguard::inject

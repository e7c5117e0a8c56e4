// Read-only, byte-addressed access to a disk or disk image. Everything in the model
// that needs a disk's bytes sees it through this interface, so tests can hand in
// in-memory disks and the probe can hand in a file descriptor.
#pragma once
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <vector>

namespace xsguard {

class ByteSource {
 public:
  virtual ~ByteSource() = default;
  virtual uint64_t size() const = 0;
  // Fills buf with len bytes at offset. False when any part of the range lies past
  // the end or cannot be read; buf is then unspecified.
  virtual bool read(uint64_t offset, void* buf, size_t len) const = 0;
};

// A disk of a given size whose bytes are zero except where written. Sparse, so a
// test can describe a 3 TiB disk with a few sectors of content.
class SparseDisk : public ByteSource {
 public:
  explicit SparseDisk(uint64_t size) : size_(size) {}
  uint64_t size() const override { return size_; }
  bool read(uint64_t offset, void* buf, size_t len) const override;
  void write(uint64_t offset, const void* data, size_t len);
  void put_u8(uint64_t offset, uint8_t v) { write(offset, &v, 1); }
  void put_le16(uint64_t offset, uint16_t v);
  void put_le32(uint64_t offset, uint32_t v);
  void put_le64(uint64_t offset, uint64_t v);

 private:
  static constexpr uint64_t kChunk = 4096;
  uint64_t size_;
  std::map<uint64_t, std::vector<uint8_t>> chunks_;  // chunk index -> kChunk bytes
};

// Another source with some byte ranges replaced: "this disk as it would be after
// the planned change", without touching the disk.
class PatchedSource : public ByteSource {
 public:
  explicit PatchedSource(const ByteSource& base) : base_(base) {}
  uint64_t size() const override { return base_.size(); }
  bool read(uint64_t offset, void* buf, size_t len) const override;
  void patch(uint64_t offset, std::vector<uint8_t> bytes);

 private:
  const ByteSource& base_;
  std::map<uint64_t, std::vector<uint8_t>> patches_;
};

// Memoises reads that fall inside one 512-byte unit: GRUB's rules re-read the same few
// sectors once per candidate core size. Bounded: past kMaxUnits it reads through.
class CachedSource : public ByteSource {
 public:
  explicit CachedSource(const ByteSource& base) : base_(base) {}
  uint64_t size() const override { return base_.size(); }
  bool read(uint64_t offset, void* buf, size_t len) const override;

 private:
  static constexpr size_t kMaxUnits = 8192;  // 4 MiB
  const ByteSource& base_;
  mutable std::map<uint64_t, std::vector<uint8_t>> units_;  // empty vector = unreadable
};

uint16_t le16(const uint8_t* p);
uint32_t le32(const uint8_t* p);
uint64_t le64(const uint8_t* p);

}  // namespace xsguard

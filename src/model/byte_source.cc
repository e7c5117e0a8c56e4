#include "model/byte_source.h"

#include <algorithm>
#include <cstring>

namespace xsguard {

uint16_t le16(const uint8_t* p) { return uint16_t(p[0] | (p[1] << 8)); }
uint32_t le32(const uint8_t* p) { return uint32_t(le16(p)) | (uint32_t(le16(p + 2)) << 16); }
uint64_t le64(const uint8_t* p) { return uint64_t(le32(p)) | (uint64_t(le32(p + 4)) << 32); }

static bool in_range(uint64_t offset, size_t len, uint64_t size) {
  return offset <= size && len <= size - offset;
}

bool SparseDisk::read(uint64_t offset, void* buf, size_t len) const {
  if (!in_range(offset, len, size_)) return false;
  auto* out = static_cast<uint8_t*>(buf);
  while (len > 0) {
    uint64_t index = offset / kChunk, within = offset % kChunk;
    size_t n = std::min<uint64_t>(len, kChunk - within);
    auto it = chunks_.find(index);
    if (it == chunks_.end())
      std::memset(out, 0, n);
    else
      std::memcpy(out, it->second.data() + within, n);
    out += n, offset += n, len -= n;
  }
  return true;
}

void SparseDisk::write(uint64_t offset, const void* data, size_t len) {
  const auto* in = static_cast<const uint8_t*>(data);
  while (len > 0) {
    uint64_t index = offset / kChunk, within = offset % kChunk;
    size_t n = std::min<uint64_t>(len, kChunk - within);
    auto& chunk = chunks_[index];
    if (chunk.empty()) chunk.assign(kChunk, 0);
    std::memcpy(chunk.data() + within, in, n);
    in += n, offset += n, len -= n;
  }
}

void SparseDisk::put_le16(uint64_t offset, uint16_t v) {
  uint8_t b[2] = {uint8_t(v), uint8_t(v >> 8)};
  write(offset, b, 2);
}
void SparseDisk::put_le32(uint64_t offset, uint32_t v) {
  put_le16(offset, uint16_t(v));
  put_le16(offset + 2, uint16_t(v >> 16));
}
void SparseDisk::put_le64(uint64_t offset, uint64_t v) {
  put_le32(offset, uint32_t(v));
  put_le32(offset + 4, uint32_t(v >> 32));
}

bool PatchedSource::read(uint64_t offset, void* buf, size_t len) const {
  if (!base_.read(offset, buf, len)) return false;
  auto* out = static_cast<uint8_t*>(buf);
  for (const auto& [at, bytes] : patches_) {
    uint64_t lo = std::max(at, offset), hi = std::min(at + bytes.size(), offset + len);
    if (lo < hi) std::memcpy(out + (lo - offset), bytes.data() + (lo - at), hi - lo);
  }
  return true;
}

void PatchedSource::patch(uint64_t offset, std::vector<uint8_t> bytes) {
  patches_[offset] = std::move(bytes);
}

bool CachedSource::read(uint64_t offset, void* buf, size_t len) const {
  const uint64_t unit = offset / 512 * 512;
  if (len > 512 || offset - unit + len > 512) return base_.read(offset, buf, len);
  auto it = units_.find(unit);
  if (it == units_.end()) {
    if (units_.size() >= kMaxUnits) return base_.read(offset, buf, len);
    std::vector<uint8_t> bytes(512);
    if (!base_.read(unit, bytes.data(), 512)) bytes.clear();
    it = units_.emplace(unit, std::move(bytes)).first;
  }
  if (it->second.empty()) return base_.read(offset, buf, len);  // a short tail may still read
  std::memcpy(buf, it->second.data() + (offset - unit), len);
  return true;
}

}  // namespace xsguard

// libFuzzer target for xsguard's partition-table reader and the GRUB embedding
// simulation. The input is the start of a disk; the rest of the disk reads as zeros.
// Each input is tried as a disk of exactly its own length and as the first bytes of a
// larger disk (so GPT backup headers and EBR links far out are reachable),
// with 512- and 4096-byte logical sectors, and against several core.img sizes.
//
//   make fuzz                     # FUZZ_SECONDS=60 by default
//   build/fuzz_partition_table crash-file   # replay one input
//
// Seeds (tests/fuzz/seeds, each under 64 KiB): the first sectors of the images in
// images/ (MBR and GPT structures; 4Kn ones up to LBA 6), the first 32 KiB of the
// msdos ones (gap included, FlexNet signature in flexnet-gap.bin), and three
// hand-made 64 KiB msdos disks whose whole EBR chain fits in the seed: a sound one
// (ebr-chain.bin), one whose last EBR links back to the first with relative start 0
// (ebr-loop.bin) and one whose last EBR links to itself (ebr-loop-self.bin).
#include <algorithm>
#include <cstdint>
#include <cstring>
#include <vector>

#include "model/byte_source.h"
#include "model/disk_layout.h"
#include "model/grub_embed.h"
#include "model/partition_table.h"

namespace {

using namespace xsguard;

// The fuzz input at offset 0, zeros up to a stated size. Reads past the size fail,
// as on a real disk.
class BufferDisk : public ByteSource {
 public:
  BufferDisk(const uint8_t* data, size_t len, uint64_t size) : data_(data), len_(len), size_(size) {}
  uint64_t size() const override { return size_; }
  bool read(uint64_t offset, void* buf, size_t len) const override {
    if (offset > size_ || len > size_ - offset) return false;
    auto* out = static_cast<uint8_t*>(buf);
    size_t copied = 0;
    if (offset < len_) {
      copied = std::min<uint64_t>(len, len_ - offset);
      std::memcpy(out, data_ + offset, copied);
    }
    std::memset(out + copied, 0, len - copied);
    return true;
  }

 private:
  const uint8_t* data_;
  size_t len_;
  uint64_t size_;
};

void exercise(const ByteSource& disk, uint32_t sector_size) {
  DiskLayout layout;
  layout.path = "fuzz.img";
  layout.size_bytes = disk.size();
  layout.logical_sector = sector_size;
  layout.physical_sector = sector_size;
  read_partition_table(disk, layout);

  // Whatever was read must be self-consistent enough for the rest of the program.
  for (const auto& p : layout.partitions) {
    (void)p.end();
    (void)partition_device(layout.path, p.number, false);
  }
  (void)layout.by_start();
  (void)to_string(layout.label);
  if (!layout.partitions.empty()) {
    const int number = layout.partitions.front().number;
    (void)layout.find(number);
    auto edits = plan_partition_removal(disk, layout, number);
    // The planned change, applied in memory, must itself be readable.
    PatchedSource patched(disk);
    for (auto& e : edits) patched.patch(e.offset, e.bytes);
    DiskLayout after = layout;
    read_partition_table(patched, after);
  }

  // A GPT header may claim up to a million entries, which GRUB (and so the
  // simulation) walks one by one: keep the number of runs per input small.
  for (uint32_t core : {1u, 889u}) {
    EmbedOutcome o = simulate_grub_embed(disk, sector_size, core);
    (void)to_string(o.reason);
  }
  EmbedOptions plain;
  plain.rs_codes = false;
  plain.warn_short_gap = true;
  (void)simulate_grub_embed(disk, sector_size, 62, plain);
  CoreSize range{62, 63, CoreSource::option, "fuzz"};
  EmbedVerdict v = judge_grub_embed(disk, sector_size, range);
  (void)to_string(v.verdict);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  // The disk exactly as long as the input.
  for (uint32_t ss : {512u, 4096u}) {
    BufferDisk exact(data, size, size);
    exercise(exact, ss);
  }
  // The input as the first bytes of a disk of 1 GiB + 3 sectors (a size that 4096
  // does not divide): reads far out, where the backup GPT header is looked for.
  // Larger sizes find nothing new and only lengthen GRUB's walk over huge GPT
  // entry arrays.
  BufferDisk large(data, size, (uint64_t(1) << 30) + 3 * 512);
  exercise(large, 512);
  exercise(large, 4096);
  // What the probe would guess for this disk.
  BufferDisk exact(data, size, size);
  (void)guess_logical_sector_size(exact);
  return 0;
}

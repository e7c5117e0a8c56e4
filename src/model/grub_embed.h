// GRUB i386-pc embedding, simulated exactly: what grub-install / grub-bios-setup
// (GRUB 2.06) will do with a core.img of C sectors on a disk, and the warning line it
// will print. Pure: it sees the disk only through a ByteSource, in 512-byte units as
// GRUB does, whatever the disk's logical sector size.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

#include "model/byte_source.h"

namespace xsguard {

enum class EmbedReason {
  fits,
  no_post_mbr_gap,
  core_too_large,
  area_too_small,
  other_software,
  no_bios_boot_partition,
  bios_boot_too_small,
  bad_partition_map,
  no_partition_map,
};
const char* to_string(EmbedReason r);

struct EmbedOptions {
  bool rs_codes = true;         // grub-install's default; --no-rs-codes writes exactly C
  bool warn_short_gap = false;  // grub-install with modules outside its small-gap list
  std::string disk_name = "hd0";
};

// GRUB's answer for one core size.
struct EmbedOutcome {
  bool fits = false;
  EmbedReason reason = EmbedReason::no_partition_map;
  std::string partmap;                 // "msdos", "gpt" or "" (none recognised)
  uint64_t gap_sectors = 0;            // msdos: end - 1; gpt: BIOS boot length; 512-byte units
  uint64_t area_start = 0;             // first sector GRUB may use (512-byte units)
  std::vector<uint64_t> skipped_sectors;   // msdos: sectors holding another program's signature
  std::vector<uint64_t> embed_sectors;     // where core.img goes when it fits
  std::vector<std::string> warnings;       // lines GRUB prints before the verdict, verbatim
  std::string message;                     // GRUB's failure line verbatim; "" when it fits
};

EmbedOutcome simulate_grub_embed(const ByteSource& disk, uint32_t logical_sector_size,
                                 uint32_t core_sectors, const EmbedOptions& options = {});

// Where the core size came from; the verdict always says.
enum class CoreSource { file, option, target_root, default_range };
const char* to_string(CoreSource s);

struct CoreSize {
  uint32_t low = 0, high = 0;  // equal unless the size is only known as a range
  CoreSource source = CoreSource::default_range;
  std::string why;  // e.g. "grub-mkimage in /tmp/root: biosdisk part_gpt ext2 = 31 KiB"
};

// The documented fallback when nothing better is known: GRUB 2.02-2.06 images for
// an ext3 root on a plain partition (biosdisk part_msdos ext2: 53 sectors) up to
// the same with part_gpt, lvm, mdraid1x and diskfilter (70 sectors).
CoreSize default_core_range();

enum class EmbedVerdictKind { fits, fails, at_risk };
const char* to_string(EmbedVerdictKind v);

struct EmbedVerdict {
  EmbedVerdictKind verdict = EmbedVerdictKind::fails;
  CoreSize core;
  EmbedOutcome outcome;           // at core.high (the worst case), or at the first failing C
  uint32_t smallest_failing_core = 0;  // 0: every C in range fits
  uint32_t largest_fitting_core = 0;   // 0: none in range fits
};

// Runs the simulation over the whole range and classifies it.
EmbedVerdict judge_grub_embed(const ByteSource& disk, uint32_t logical_sector_size,
                              const CoreSize& core, const EmbedOptions& options = {});

}  // namespace xsguard

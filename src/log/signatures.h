// The fixed strings that mark known installer failures, and a multi-pattern matcher
// fast enough to run over every byte of a log at disk-cache speed.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace xsguard::logwatch {

// What a matched string means. Several strings can map to one kind.
enum class Sig : uint8_t {
  grub_embed,          // GRUB cannot embed core.img after the MBR
  bootloader_failed,   // "Failed to install bootloader"
  install_failed,      // "INSTALL FAILED."
  fatal_exception,     // "A fatal exception occurred"
  traceback,           // a python traceback starts
  not_upgradeable,     // the existing installation fails the upgradeability test
  scan_failed,         // scanning for existing installations raised
  boot_mode_mismatch,  // installer booted BIOS, target UEFI or the reverse
  no_disks,            // no disks visible (RAID mode controller, missing driver)
  ha_enabled,          // pool HA still armed
  master_first,        // a pool member upgraded before its master
  script_failed,       // an answerfile hook script exited non-zero
  no_space,            // ENOSPC anywhere
};

struct Signature {
  Sig sig;
  const char* text;
};

// Every signature, in a fixed order. Matching is case-sensitive; strings that GRUB
// capitalises differently between versions start after the first letter.
const std::vector<Signature>& signatures();

struct Match {
  uint32_t offset;   // of the first byte, from the start of the scanned buffer
  uint16_t pattern;  // index into the pattern list
};

// Wu-Manber style matcher: a shift table over 3-byte blocks (hashed to 15 bits)
// lets it skip most of the text without looking at it; only windows whose last
// block ends some pattern's prefix are verified. Patterns must be at least 3 bytes.
class MultiMatcher {
 public:
  explicit MultiMatcher(std::vector<std::string> patterns);
  // Appends every match in [p, p+n), in increasing offset. n < 4 GiB.
  void scan(const char* p, size_t n, std::vector<Match>& out) const;
  const std::string& pattern(size_t i) const { return patterns_[i]; }
  size_t size() const { return patterns_.size(); }

 private:
  std::vector<std::string> patterns_;
  size_t m_ = 3;                  // window: the shortest pattern's length
  std::vector<uint8_t> shift_;    // kTable entries
  std::vector<int32_t> head_;     // kTable entries: first pattern whose window ends so
  std::vector<int32_t> next_;     // chain of patterns sharing that last block
  std::vector<uint16_t> prefix_;  // first two bytes of each pattern, for a quick check
};

// The matcher over signatures(), built once.
const MultiMatcher& signature_matcher();

}  // namespace xsguard::logwatch

#include "log/signatures.h"

#include <algorithm>
#include <cstring>

namespace xsguard::logwatch {

const std::vector<Signature>& signatures() {
  static const std::vector<Signature> kSigs = {
      // GRUB 2's own wording; the installer logs grub-install's stderr, both in the
      // command record and inside the RuntimeError it raises.
      {Sig::grub_embed, "mbedding area is unusually small"},
      {Sig::grub_embed, "mbedding is not possible"},
      {Sig::grub_embed, "will not proceed with blocklists"},
      {Sig::bootloader_failed, "Failed to install bootloader"},
      {Sig::install_failed, "INSTALL FAILED."},
      {Sig::fatal_exception, "A fatal exception occurred"},
      {Sig::traceback, "Traceback (most recent call last)"},
      {Sig::not_upgradeable, "Upgradeability test failed"},
      {Sig::not_upgradeable, "expected file missing"},
      {Sig::not_upgradeable, "cannot be upgraded"},
      {Sig::scan_failed, "A problem occurred whilst scanning"},
      {Sig::boot_mode_mismatch, "is mismatched with target boot mode"},
      // The installer's "No Disks" dialog: its wording in the log is not pinned down,
      // so the usual phrasings are listed, from the second letter so that "No" and
      // "no" both match. Every string is at least 13 bytes long: the matcher skips
      // up to the shortest length minus one per step.
      {Sig::no_disks, "o Disks found"},
      {Sig::no_disks, "o disks found"},
      {Sig::no_disks, "o disks were found"},
      {Sig::no_disks, "o disks were detected"},
      {Sig::ha_enabled, "HA is enabled"},
      {Sig::ha_enabled, "High Availability is enabled"},
      {Sig::master_first, "pool master must be upgraded"},
      {Sig::master_first, "upgrade the pool master first"},
      {Sig::script_failed, "Script returned "},
      {Sig::no_space, "No space left on device"},
  };
  return kSigs;
}

constexpr unsigned kTable = 1u << 15;
// Hash of the 3-byte block ending at p.
static inline unsigned block_at(const unsigned char* p) {
  return ((unsigned(p[-2]) << 10) ^ (unsigned(p[-1]) << 5) ^ p[0]) & (kTable - 1);
}
static inline unsigned prefix_at(const unsigned char* p) { return unsigned(p[0]) << 8 | p[1]; }

MultiMatcher::MultiMatcher(std::vector<std::string> patterns) : patterns_(std::move(patterns)) {
  m_ = SIZE_MAX;
  for (auto& p : patterns_) m_ = std::min(m_, p.size());
  if (patterns_.empty() || m_ < 3) m_ = 3;
  shift_.assign(kTable, uint8_t(std::min<size_t>(m_ - 2, 255)));
  head_.assign(kTable, -1);
  next_.assign(patterns_.size(), -1);
  prefix_.resize(patterns_.size());
  for (size_t i = 0; i < patterns_.size(); ++i) {
    const auto* p = reinterpret_cast<const unsigned char*>(patterns_[i].data());
    if (patterns_[i].size() < 3) continue;
    prefix_[i] = uint16_t(prefix_at(p));
    // The block ending at position j of the window (j = 2 .. m-1) may shift m-1-j.
    for (size_t j = 2; j < m_; ++j) {
      unsigned b = block_at(p + j);
      shift_[b] = uint8_t(std::min<size_t>(shift_[b], m_ - 1 - j));
    }
    unsigned last = block_at(p + m_ - 1);
    next_[i] = head_[last];
    head_[last] = int32_t(i);
  }
}

void MultiMatcher::scan(const char* text, size_t n, std::vector<Match>& out) const {
  if (n < m_ || patterns_.empty()) return;
  const auto* t = reinterpret_cast<const unsigned char*>(text);
  const uint8_t* shift = shift_.data();
  const size_t start_out = out.size();
  auto verify = [&](size_t pos) {  // the window ending at pos
    size_t start = pos - (m_ - 1);
    unsigned pre = prefix_at(t + start);
    for (int32_t i = head_[block_at(t + pos)]; i >= 0; i = next_[size_t(i)]) {
      const std::string& pat = patterns_[size_t(i)];
      if (prefix_[size_t(i)] == pre && start + pat.size() <= n &&
          std::memcmp(t + start, pat.data(), pat.size()) == 0)
        out.push_back({uint32_t(start), uint16_t(i)});
    }
  };
  // Each skip depends on the table entry the previous one found, so one cursor is
  // bound by load latency. Two cursors over the two halves run side by side: the
  // first covers windows starting before `mid`, the second the rest.
  size_t a = m_ - 1, b = n, a_end = n;
  if (n >= 4096) {
    size_t mid = n / 2;
    a_end = mid + m_ - 1;
    b = a_end;
    while (a < a_end && b < n) {
      unsigned sa = shift[block_at(t + a)];
      unsigned sb = shift[block_at(t + b)];
      if (sa && sb) {
        a += sa;
        b += sb;
        continue;
      }
      if (sa) {
        a += sa;
      } else {
        verify(a);
        ++a;
      }
      if (sb) {
        b += sb;
      } else {
        verify(b);
        ++b;
      }
    }
  }
  for (; a < a_end;) {
    unsigned s = shift[block_at(t + a)];
    if (s) {
      a += s;
      continue;
    }
    verify(a);
    ++a;
  }
  for (; b < n;) {
    unsigned s = shift[block_at(t + b)];
    if (s) {
      b += s;
      continue;
    }
    verify(b);
    ++b;
  }
  if (out.size() - start_out > 1)
    std::stable_sort(out.begin() + long(start_out), out.end(),
                     [](const Match& x, const Match& y) { return x.offset < y.offset; });
}

const MultiMatcher& signature_matcher() {
  static const MultiMatcher kMatcher = [] {
    std::vector<std::string> pats;
    for (const auto& s : signatures()) pats.emplace_back(s.text);
    return MultiMatcher(std::move(pats));
  }();
  return kMatcher;
}

}  // namespace xsguard::logwatch

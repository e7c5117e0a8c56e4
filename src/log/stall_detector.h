// When has the log been quiet long enough to call it a stall, and when should the
// measurement be refreshed. Pure: the caller passes the time (see Clock), so tests
// move a fake clock instead of sleeping.
#pragma once
#include <cstdint>
#include <limits>

namespace xsguard::logwatch {

class StallDetector {
 public:
  static constexpr int64_t kNever = std::numeric_limits<int64_t>::max();
  enum class Action { none, stalled, refresh };

  // stall_after_ms: silence that counts as a stall. refresh_ms: how often a running
  // stall is measured again while something can be measured; otherwise it is
  // reported again every stall_after_ms.
  StallDetector(int64_t stall_after_ms, int64_t refresh_ms = 5000)
      : stall_after_(stall_after_ms), refresh_(refresh_ms) {}

  // Something was logged. Returns true when this ends a stall.
  bool activity(int64_t now_ms) {
    bool ended = stalled_;
    armed_ = true;
    stalled_ = false;
    last_ = now_ms;
    return ended;
  }
  void set_measuring(bool m) { measuring_ = m; }

  // Absolute time of the next action, kNever before the first activity.
  int64_t next_deadline() const {
    if (!armed_) return kNever;
    if (!stalled_) return last_ + stall_after_;
    return last_report_ + (measuring_ ? refresh_ : stall_after_);
  }

  Action poll(int64_t now_ms) {
    if (!armed_ || now_ms < next_deadline()) return Action::none;
    last_report_ = now_ms;
    if (!stalled_) {
      stalled_ = true;
      return Action::stalled;
    }
    return Action::refresh;
  }

  bool stalled() const { return stalled_; }
  int64_t silent_ms(int64_t now_ms) const { return armed_ ? now_ms - last_ : 0; }

 private:
  int64_t stall_after_, refresh_;
  int64_t last_ = 0, last_report_ = 0;
  bool armed_ = false, stalled_ = false, measuring_ = false;
};

}  // namespace xsguard::logwatch

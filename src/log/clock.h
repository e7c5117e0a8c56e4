// Time as the watcher sees it, injected so that stall logic runs in tests without
// sleeping: a monotonic clock for timers and a wall clock to compare with the
// timestamps the installer writes into its log.
#pragma once
#include <cstdint>

namespace xsguard::logwatch {

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t monotonic_ms() const = 0;  // never goes back
  virtual int64_t wall_s() const = 0;        // local time as if UTC, like log timestamps
  virtual int64_t utc_s() const = 0;         // seconds since the epoch (file mtimes)
};

class SystemClock : public Clock {
 public:
  int64_t monotonic_ms() const override;
  int64_t wall_s() const override;
  int64_t utc_s() const override;
};

// A clock the caller moves by hand.
class FakeClock : public Clock {
 public:
  explicit FakeClock(int64_t wall_s = 1500000000) : wall_base_(wall_s) {}
  int64_t monotonic_ms() const override { return ms_; }
  int64_t wall_s() const override { return wall_base_ + ms_ / 1000; }
  int64_t utc_s() const override { return wall_s(); }
  void advance_ms(int64_t ms) { ms_ += ms; }

 private:
  int64_t ms_ = 0;
  int64_t wall_base_;
};

}  // namespace xsguard::logwatch

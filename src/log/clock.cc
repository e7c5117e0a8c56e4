#include "log/clock.h"

#include <ctime>

namespace xsguard::logwatch {

int64_t SystemClock::monotonic_ms() const {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t(ts.tv_sec) * 1000 + ts.tv_nsec / 1000000;
}

// The installer logs local time (python logging's asctime). The installer image runs
// in UTC unless told otherwise, so comparing with the local wall time is right in
// both cases: mktime on a broken-down local time undoes the same offset.
int64_t SystemClock::wall_s() const {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  localtime_r(&t, &tm);
  // Express the local broken-down time as if it were UTC, the way log timestamps
  // are parsed (see parse_log_time).
  return int64_t(timegm(&tm));
}

}  // namespace xsguard::logwatch

namespace xsguard::logwatch {
int64_t SystemClock::utc_s() const { return int64_t(std::time(nullptr)); }
}  // namespace xsguard::logwatch

// Errors that end a command with a documented exit code and one line for the user.
#pragma once
#include <stdexcept>
#include <string>

namespace xsguard {

// Input missing, unreadable or not what it claims to be: exit 66.
struct InputError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// The command line asks for something impossible: exit 64.
struct UsageError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// xsguard will not change the disk in this state (mounted, held, changed, ...): exit 3.
struct RefusedError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace xsguard

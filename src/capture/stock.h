// What xsguard knows about the stock contents of the files it captures, and how it
// tells one entry of a file from another.
//
// xsguard does not ship every release's stock files. It knows, as rules, the few
// files whose stock lines are the same in XenServer 6.5 to 7.x and easy to state:
//   fstab     the installer writes only the root, swap, logs, ESP, XenCenter ISO and
//             pseudo filesystem entries (labels differ per host, so entries are
//             judged by mount point and label prefix, not by text);
//   crontab   the stock /etc/crontab only sets SHELL/PATH/MAILTO/HOME and, on 6.x,
//             runs the cron.hourly/daily/weekly/monthly directories;
//   rc.local  the stock rc.local of CentOS 5 and 7 only touches
//             /var/lock/subsys/local;
//   hosts     the stock hosts file only names localhost.
// Comments and blank lines always count as stock. For every other file the stock
// version of the old release is unknown: post then takes the new release's file as
// the merge base and says so.
#pragma once
#include <string>
#include <string_view>

namespace xsguard::capture {

enum class StockRule { unknown, fstab, crontab, rc_local, hosts };

// True when the line is one the old release's own file has (by the rule).
// StockRule::unknown: only comments and blank lines.
bool is_stock_line(StockRule rule, std::string_view line);
// How the inventory describes what is known about the stock file.
const char* stock_basis(StockRule rule);

// Two lines with the same key set the same thing; a different value under the same
// key is a conflict rather than an addition.
enum class KeyRule { none, fstab_mount, sysctl, modprobe, iscsi_name };
// The line's key, "" when it has none (comments, blank lines, or KeyRule::none).
std::string line_key(KeyRule rule, std::string_view line);

}  // namespace xsguard::capture

#include "capture/stock.h"

#include "capture/text.h"

namespace xsguard::capture {

namespace {

bool starts_with(std::string_view s, std::string_view p) { return s.substr(0, p.size()) == p; }

bool stock_fstab(std::string_view line) {
  auto f = fields(line);
  if (f.size() < 3) return false;
  const std::string &dev = f[0], &mnt = f[1], &type = f[2];
  for (const char* m : {"/", "/boot/efi", "/dev/pts", "/dev/shm", "/proc", "/sys", "/var/xen/xc-install"})
    if (mnt == m) return true;
  // Swap: a swap partition (7.x) or the swap file (6.x).
  if (type == "swap") return starts_with(dev, "LABEL=swap-") || starts_with(dev, "/var/swap/");
  // The logs partition of the 7.x layout.
  if (mnt == "/var/log") return starts_with(dev, "LABEL=logs-");
  return false;
}

bool stock_crontab(std::string_view line) {
  std::string t = trim(line);
  for (const char* var : {"SHELL=", "PATH=", "MAILTO=", "HOME="})
    if (starts_with(t, var)) return true;
  auto f = fields(t);
  if (f.size() < 2 || f[f.size() - 2] != "run-parts") return false;
  for (const char* d : {"/etc/cron.hourly", "/etc/cron.daily", "/etc/cron.weekly", "/etc/cron.monthly"})
    if (f.back() == d) return true;
  return false;
}

bool stock_hosts(std::string_view line) {
  auto f = fields(line);
  if (f.size() < 2 || (f[0] != "127.0.0.1" && f[0] != "::1")) return false;
  for (size_t i = 1; i < f.size(); ++i)
    if (!starts_with(f[i], "localhost")) return false;
  return true;
}

}  // namespace

bool is_stock_line(StockRule rule, std::string_view line) {
  if (is_comment_or_blank(line)) return true;
  switch (rule) {
    case StockRule::fstab:
      return stock_fstab(line);
    case StockRule::crontab:
      return stock_crontab(line);
    case StockRule::rc_local:
      return normalize(line) == "touch /var/lock/subsys/local";
    case StockRule::hosts:
      return stock_hosts(line);
    case StockRule::unknown:
      return false;
  }
  return false;
}

const char* stock_basis(StockRule rule) {
  switch (rule) {
    case StockRule::fstab:
      return "known: the installer's own entries (root, swap, logs, ESP, XenCenter ISO, "
             "pseudo filesystems), judged by mount point and label";
    case StockRule::crontab:
      return "known: the stock crontab only sets SHELL/PATH/MAILTO/HOME and runs the "
             "cron.hourly/daily/weekly/monthly directories";
    case StockRule::rc_local:
      return "known: the stock rc.local of XenServer 6.x and 7.x only touches "
             "/var/lock/subsys/local";
    case StockRule::hosts:
      return "known: the stock hosts file only names localhost";
    case StockRule::unknown:
      return "unknown: the old release's stock file is not known to xsguard; post takes "
             "the new release's file as the merge base";
  }
  return "";
}

std::string line_key(KeyRule rule, std::string_view line) {
  if (is_comment_or_blank(line)) return "";
  auto f = fields(line);
  switch (rule) {
    case KeyRule::fstab_mount:
      // Swap entries have no mount point worth comparing: many may coexist.
      return f.size() >= 3 && f[2] != "swap" ? "mount " + f[1] : "";
    case KeyRule::sysctl: {
      std::string t = trim(line);
      if (t[0] == ';') return "";
      size_t eq = t.find('=');
      return eq == std::string::npos ? "" : "sysctl " + normalize(t.substr(0, eq));
    }
    case KeyRule::modprobe:
      // "options e1000e ...", "blacklist floppy", "alias eth0 ...", "install x ..."
      return f.size() >= 2 ? f[0] + " " + f[1] : "";
    case KeyRule::iscsi_name: {
      std::string t = trim(line);
      size_t eq = t.find('=');
      return eq == std::string::npos ? "" : trim(t.substr(0, eq));
    }
    case KeyRule::none:
      return "";
  }
  return "";
}

}  // namespace xsguard::capture

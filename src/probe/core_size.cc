#include "probe/core_size.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <thread>
#include <vector>

#include "model/errors.h"

namespace xsguard {

namespace {

uint32_t sectors_for(uint64_t bytes) { return uint32_t((bytes + 511) / 512); }

// GRUB refuses core images below one sector or above 0xFFFF sectors.
void check_core_bytes(const std::string& what, uint64_t bytes) {
  if (bytes < 512) throw InputError(what + ": " + std::to_string(bytes) + " bytes is too small for a core.img");
  if (bytes > 0xFFFFull * 512) throw InputError(what + ": too large for a core.img");
}

constexpr int kMkimageTimeoutSeconds = 60;

}  // namespace

CoreSize core_from_image_file(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) throw InputError(path + ": " + std::strerror(errno));
  if (!S_ISREG(st.st_mode)) throw InputError(path + ": not a regular file");
  check_core_bytes(path, uint64_t(st.st_size));
  uint32_t c = sectors_for(uint64_t(st.st_size));
  return {c, c, CoreSource::file, path + ": " + std::to_string(st.st_size) + " bytes"};
}

std::optional<CoreSize> core_from_target_root(const std::string& root, LabelKind label,
                                              int root_partition, std::string& why_not) {
  std::string mkimage;
  for (const char* candidate : {"/usr/bin/grub-mkimage", "/usr/bin/grub2-mkimage",
                                "/usr/sbin/grub-mkimage", "/usr/sbin/grub2-mkimage"}) {
    if (access((root + candidate).c_str(), X_OK) == 0) {
      mkimage = candidate;
      break;
    }
  }
  if (mkimage.empty()) {
    why_not = "no grub-mkimage in " + root;
    return std::nullopt;
  }
  if (geteuid() != 0) {
    why_not = "running grub-mkimage inside " + root + " needs root (chroot)";
    return std::nullopt;
  }
  const std::string partmap = label == LabelKind::gpt ? "gpt" : "msdos";
  const std::string prefix =
      "(," + partmap + std::to_string(root_partition > 0 ? root_partition : 1) + ")/boot/grub";
  const std::string out = "/tmp/.xsguard-core-" + std::to_string(getpid()) + ".img";
  std::vector<std::string> args = {mkimage, "-O", "i386-pc", "-o", out, "-p", prefix,
                                   "biosdisk", "part_" + partmap, "ext2"};
  mkdir((root + "/tmp").c_str(), 01777);

  pid_t pid = fork();
  if (pid < 0) {
    why_not = std::string("fork: ") + std::strerror(errno);
    return std::nullopt;
  }
  if (pid == 0) {
    int null = open("/dev/null", O_RDWR);
    if (null >= 0) dup2(null, 0), dup2(null, 1), dup2(null, 2);
    if (chroot(root.c_str()) != 0 || chdir("/") != 0) _exit(126);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    execv(argv[0], argv.data());
    _exit(127);
  }
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(kMkimageTimeoutSeconds);
  for (;;) {
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) break;
    if (r < 0 && errno != EINTR) break;
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      why_not = mkimage + " did not finish in " + std::to_string(kMkimageTimeoutSeconds) + " s";
      unlink((root + out).c_str());
      return std::nullopt;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  struct stat st {};
  bool built = WIFEXITED(status) && WEXITSTATUS(status) == 0 && stat((root + out).c_str(), &st) == 0;
  unlink((root + out).c_str());
  if (!built || st.st_size < 512) {
    why_not = mkimage + " in " + root + " failed (status " + std::to_string(status) + ")";
    return std::nullopt;
  }
  uint32_t c = sectors_for(uint64_t(st.st_size));
  std::string modules;
  for (size_t i = 7; i < args.size(); ++i) modules += " " + args[i];
  return CoreSize{c, c, CoreSource::target_root,
                  mkimage + " in " + root + " (" + prefix + modules + "): " +
                      std::to_string(st.st_size) + " bytes"};
}

}  // namespace xsguard

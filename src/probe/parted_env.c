/* Debian's libparted runs `dmidecode` through popen() from a constructor unless
 * PARTED_GPT_APPLE is set; in an empty chroot (no /bin/sh) that crashes before main.
 * This constructor runs first (priority 101) and sets it. */
#include <stdlib.h>

__attribute__((constructor(101))) static void xsguard_quiet_libparted(void) {
  setenv("PARTED_GPT_APPLE", "0", 0);
}

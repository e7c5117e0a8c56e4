/* Debian ships no static libdevmapper. libparted calls these only for device-mapper
 * disks; with this stand-in it sees every disk as a plain disk and cannot commit to a
 * dm device. xsguard detects dm devices itself (sysfs) and refuses to write to them.
 * Only the static build links this file. */
#include <stddef.h>
#include <stdint.h>

struct dm_task;
struct dm_info;

struct dm_task *dm_task_create(int type) { (void)type; return NULL; }
void dm_task_destroy(struct dm_task *t) { (void)t; }
int dm_task_run(struct dm_task *t) { (void)t; return 0; }
int dm_task_set_name(struct dm_task *t, const char *n) { (void)t; (void)n; return 0; }
int dm_task_set_uuid(struct dm_task *t, const char *u) { (void)t; (void)u; return 0; }
int dm_task_set_major_minor(struct dm_task *t, int ma, int mi, int allow) {
  (void)t; (void)ma; (void)mi; (void)allow; return 0;
}
int dm_task_get_info(struct dm_task *t, struct dm_info *i) { (void)t; (void)i; return 0; }
const char *dm_task_get_name(const struct dm_task *t) { (void)t; return NULL; }
const char *dm_task_get_uuid(const struct dm_task *t) { (void)t; return NULL; }
void *dm_task_get_deps(struct dm_task *t) { (void)t; return NULL; }
int dm_task_no_open_count(struct dm_task *t) { (void)t; return 0; }
int dm_task_retry_remove(struct dm_task *t) { (void)t; return 0; }
int dm_task_update_nodes(void) { return 0; }
int dm_task_set_cookie(struct dm_task *t, uint32_t *c, uint16_t f) { (void)t; (void)c; (void)f; return 0; }
int dm_task_add_target(struct dm_task *t, uint64_t s, uint64_t n, const char *tt, const char *p) {
  (void)t; (void)s; (void)n; (void)tt; (void)p; return 0;
}
void *dm_get_next_target(struct dm_task *t, void *next, uint64_t *s, uint64_t *l, char **tt, char **p) {
  (void)t; (void)next; (void)s; (void)l; (void)tt; (void)p; return NULL;
}
int dm_set_dev_dir(const char *d) { (void)d; return 0; }
int dm_udev_set_sync_support(int s) { (void)s; return 0; }
int dm_udev_wait(uint32_t c) { (void)c; return 0; }

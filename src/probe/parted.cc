#include "probe/parted.h"

#include <parted/parted.h>

#include <memory>

namespace xsguard {

namespace {

// libparted asks questions through its exception handler; xsguard never lets it
// "fix" anything on its own: ignore where that is an option, else cancel, and keep
// the message for the caller.
thread_local std::string* g_messages = nullptr;

PedExceptionOption quiet_handler(PedException* ex) {
  if (g_messages && ex->message) {
    if (!g_messages->empty()) *g_messages += "; ";
    *g_messages += ex->message;
  }
  if (ex->options & PED_EXCEPTION_IGNORE) return PED_EXCEPTION_IGNORE;
  return PED_EXCEPTION_CANCEL;
}

class HandlerScope {
 public:
  explicit HandlerScope(std::string& messages) : previous_(g_messages) {
    g_messages = &messages;
    ped_exception_set_handler(quiet_handler);
  }
  ~HandlerScope() { g_messages = previous_; }

 private:
  std::string* previous_;
};

struct DeviceCloser {
  void operator()(PedDevice* d) const { ped_device_destroy(d); }
};
struct DiskCloser {
  void operator()(PedDisk* d) const { ped_disk_destroy(d); }
};

}  // namespace

PartedTable parted_read(const std::string& path) {
  PartedTable t;
  std::string messages;
  HandlerScope scope(messages);
  std::unique_ptr<PedDevice, DeviceCloser> dev(ped_device_get(path.c_str()));
  if (!dev) {
    t.error = messages.empty() ? "libparted cannot open the device" : messages;
    return t;
  }
  std::unique_ptr<PedDisk, DiskCloser> disk(ped_disk_new(dev.get()));
  if (!disk) {
    t.error = messages.empty() ? "libparted finds no partition table" : messages;
    return t;
  }
  t.label = disk->type->name;
  for (PedPartition* p = ped_disk_next_partition(disk.get(), nullptr); p;
       p = ped_disk_next_partition(disk.get(), p)) {
    if (p->num <= 0 || (p->type & (PED_PARTITION_EXTENDED | PED_PARTITION_FREESPACE |
                                   PED_PARTITION_METADATA)))
      continue;
    t.partitions.push_back({p->num, uint64_t(p->geom.start), uint64_t(p->geom.length)});
  }
  return t;
}

std::string parted_inform_kernel(const std::string& path) {
  std::string messages;
  HandlerScope scope(messages);
  std::unique_ptr<PedDevice, DeviceCloser> dev(ped_device_get(path.c_str()));
  if (!dev) return messages.empty() ? "libparted cannot open the device" : messages;
  std::unique_ptr<PedDisk, DiskCloser> disk(ped_disk_new(dev.get()));
  if (!disk) return messages.empty() ? "libparted finds no partition table" : messages;
  if (!ped_disk_commit_to_os(disk.get()))
    return messages.empty() ? "the kernel did not accept the new table" : messages;
  return "";
}

}  // namespace xsguard

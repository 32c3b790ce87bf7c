/* caps.c - narrowing the capability sets with capget/capset. */
#include "caps.h"

#include <linux/capability.h>
#include <sys/syscall.h>
#include <unistd.h>

int ld_caps_limit(uint64_t keep) {
    struct __user_cap_header_struct hdr = {.version = _LINUX_CAPABILITY_VERSION_3, .pid = 0};
    struct __user_cap_data_struct data[_LINUX_CAPABILITY_U32S_3];
    if (syscall(SYS_capget, &hdr, data) < 0)
        return -1;
    for (int i = 0; i < _LINUX_CAPABILITY_U32S_3; i++) {
        uint32_t mask = (uint32_t)(keep >> (32 * i));
        data[i].effective &= mask;
        data[i].permitted &= mask;
        data[i].inheritable &= mask;
    }
    return (int)syscall(SYS_capset, &hdr, data);
}

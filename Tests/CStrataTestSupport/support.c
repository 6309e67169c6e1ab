#define _GNU_SOURCE
#include <sys/syscall.h>
#include <unistd.h>
#include "CStrataTestSupport.h"

int strata_test_tgkill(pid_t pid, pid_t tid, int signal) {
    return (int)syscall(SYS_tgkill, pid, tid, signal);
}

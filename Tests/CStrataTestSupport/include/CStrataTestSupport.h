// What the Swift tests need from Linux that Swift does not import.
#pragma once
#include <sys/types.h>

/// Sends `signal` to thread `tid` of process `pid` (tgkill(2)); 0 on success, −1 otherwise.
int strata_test_tgkill(pid_t pid, pid_t tid, int signal);

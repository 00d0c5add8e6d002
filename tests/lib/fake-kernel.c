/* SPDX-License-Identifier: MIT */
/*
 * fake-kernel HOOK PROGRAM [ARG...]: run PROGRAM and, after each write() of
 * it to a file whose path ends in /unbind or /drivers_probe, run
 * HOOK PATH DATA before PROGRAM goes on.
 *
 * A fixture tree is plain files: a write to unbind or drivers_probe changes
 * nothing by itself, while the kernel has carried the write out by the time
 * write() returns. Stopping the program at the end of the syscall (ptrace)
 * and letting the hook change the tree there gives it that kernel: the
 * program reads back exactly what a real one would show, with no race.
 * It works on any binary (the static klcc one included) and needs no
 * privilege: a parent may trace its own child. Exits with PROGRAM's status.
 *
 * LeakSanitizer stops the world at exit by tracing the process from a
 * thread of its own (a clone with CLONE_VM), which fails under a tracer:
 * that clone is where this one lets go. gpupass itself has no threads.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

static int ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), t = strlen(tail);

	return n >= t && !strcmp(s + n - t, tail);
}

/* PROGRAM wrote COUNT bytes at ADDR to descriptor FD: hand them to the hook if they matter. */
static void wrote(const char *hook, pid_t pid, int fd, unsigned long long addr, long count)
{
	char link[64], path[4096], data[256];
	struct iovec local, remote;
	ssize_t n;
	pid_t h;
	int st;

	snprintf(link, sizeof(link), "/proc/%d/fd/%d", (int)pid, fd);
	n = readlink(link, path, sizeof(path) - 1);
	if (n < 0)
		return;
	path[n] = '\0';
	if (!ends_with(path, "/unbind") && !ends_with(path, "/drivers_probe"))
		return;
	if (count > (long)sizeof(data) - 1)
		count = sizeof(data) - 1;
	local.iov_base = data;
	local.iov_len = (size_t)count;
	remote.iov_base = (void *)(unsigned long)addr;
	remote.iov_len = (size_t)count;
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0)
		return;
	data[n] = '\0';
	data[strcspn(data, "\n")] = '\0';
	h = fork();
	if (h == 0) {
		execl(hook, hook, path, data, (char *)NULL);
		_exit(127);
	}
	while (h > 0 && waitpid(h, &st, 0) < 0 && errno == EINTR)
		;
}

int main(int argc, char **argv)
{
	struct __ptrace_syscall_info info;
	unsigned long long addr = 0;
	long count = 0;
	int status, fd = -1, sig;
	pid_t pid;

	if (argc < 3) {
		fprintf(stderr, "usage: fake-kernel HOOK PROGRAM [ARG...]\n");
		return 2;
	}
	pid = fork();
	if (pid < 0)
		return 2;
	if (pid == 0) {
		ptrace(PTRACE_TRACEME, 0, NULL, NULL);
		raise(SIGSTOP);
		execvp(argv[2], argv + 2);
		_exit(127);
	}
	if (waitpid(pid, &status, 0) < 0)
		return 2;
	ptrace(PTRACE_SETOPTIONS, pid, NULL,
	       (void *)(long)(PTRACE_O_TRACESYSGOOD | PTRACE_O_EXITKILL | PTRACE_O_TRACEEXEC));
	sig = 0;
	for (;;) {
		if (ptrace(PTRACE_SYSCALL, pid, NULL, (void *)(long)sig) < 0)
			return 2;
		sig = 0;
		if (waitpid(pid, &status, 0) < 0)
			return 2;
		if (WIFEXITED(status))
			return WEXITSTATUS(status);
		if (WIFSIGNALED(status))
			return 128 + WTERMSIG(status);
		if (!WIFSTOPPED(status))
			continue;
		if (WSTOPSIG(status) != (SIGTRAP | 0x80)) {
			/* An exec event is ours; any other signal is the program's. */
			if (status >> 8 != (SIGTRAP | (PTRACE_EVENT_EXEC << 8)))
				sig = WSTOPSIG(status);
			continue;
		}
		if (ptrace(PTRACE_GET_SYSCALL_INFO, pid, (void *)sizeof(info), &info) <= 0)
			continue;
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY && info.entry.nr == SYS_clone &&
		    (info.entry.args[0] & CLONE_VM)) {
			ptrace(PTRACE_DETACH, pid, NULL, NULL);
			while (waitpid(pid, &status, 0) < 0 || !(WIFEXITED(status) || WIFSIGNALED(status)))
				if (errno == ECHILD)
					return 2;
			return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
		}
		if (info.op == PTRACE_SYSCALL_INFO_ENTRY) {
			fd = info.entry.nr == SYS_write ? (int)info.entry.args[0] : -1;
			addr = info.entry.args[1];
			count = (long)info.entry.args[2];
		} else if (info.op == PTRACE_SYSCALL_INFO_EXIT && fd >= 0) {
			if (!info.exit.is_error && info.exit.rval > 0)
				wrote(argv[1], pid, fd, addr, (long)info.exit.rval < count ?
				      (long)info.exit.rval : count);
			fd = -1;
		}
	}
}

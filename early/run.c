/* SPDX-License-Identifier: MIT */
/*
 * Child processes (modprobe) with a time limit. A module whose init hangs
 * (a GPU driver waiting on firmware, a wedged device) must not hang the
 * boot or a host command with it: after the limit the child is killed and
 * the caller carries on as if the load had failed.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "gpupass.h"

const char *gp_find_modprobe(const struct gp_paths *p)
{
	static const char *const dirs[] = { "/sbin/modprobe", "/usr/sbin/modprobe",
					     "/bin/modprobe", "/usr/bin/modprobe" };
	size_t i;

	if (p->modprobe)
		return access(p->modprobe, X_OK) == 0 ? p->modprobe : NULL;
	for (i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++)
		if (access(dirs[i], X_OK) == 0)
			return dirs[i];
	return NULL;
}

/*
 * Run PROG with ARGV, stdin from /dev/null, in a process group of its own.
 * Returns its exit status (0-255), 256 when it died of a signal, -ETIMEDOUT
 * when it outlived TIMEOUT seconds and was killed, or -errno when it could
 * not be started. Killing means the whole group: what hangs is often not
 * modprobe but a command it started (an `install` line in modprobe.d), and
 * that would otherwise live on, orphaned, for the rest of the boot.
 */
int gp_run(const char *prog, char *const argv[], int timeout)
{
	/* 20 ms steps: modprobe of a loaded module returns in about a millisecond. */
	const struct timespec step = { 0, 20000000L };
	long waited = 0;
	pid_t pid, r;
	int status, fd;

	pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		setpgid(0, 0);
		fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (fd >= 0 && fd != 0)
			dup2(fd, 0);
		execv(prog, argv);
		_exit(127);
	}
	/* Both sides set the group, so it exists before either relies on it. */
	setpgid(pid, pid);
	for (;;) {
		r = waitpid(pid, &status, WNOHANG);
		if (r == pid)
			break;
		if (r < 0 && errno != EINTR)
			return -errno;
		if (waited >= (long)timeout * 50) {
			kill(-pid, SIGKILL);
			kill(pid, SIGKILL);
			while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
				;
			return -ETIMEDOUT;
		}
		nanosleep(&step, NULL);
		waited++;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 256;
}

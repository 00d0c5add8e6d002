/* SPDX-License-Identifier: MIT */
/*
 * Messages. On the boot path each message is one /dev/kmsg record
 * "<PRI>gpupass: text", the shape klibc's syslog() writes. Host commands
 * print results on stdout and diagnostics ("error:", "warning:") on
 * stderr, as lspci and kmod do, so that a pipe gets only the results.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gpupass.h"

/*
 * The kernel rejects a /dev/kmsg write longer than its record limit with
 * EINVAL (992 bytes on 6.1, 1024 on 6.12, prefix included): stay below both.
 */
#define KMSG_RECORD_MAX 976

static const char *kmsg_path;   /* NULL: stdio mode */
static int to_both;             /* kmsg and stdout: release and claim */
static int kmsg_failed;
static int quiet;
static int counts[8];

void gp_log_to_kmsg(const char *path)
{
	kmsg_path = path;
	kmsg_failed = 0;
	to_both = 0;
}

void gp_log_to_stdio(void)
{
	kmsg_path = NULL;
	to_both = 0;
}

/* A runtime switch: dmesg keeps the whole story next to the boot's, the user sees it too. */
void gp_log_to_both(const char *path)
{
	kmsg_path = path;
	kmsg_failed = 0;
	to_both = 1;
}

/* 0: everything; 1: diagnostics only; 2: nothing (the caller sums up from the counts). */
void gp_log_quiet(int q)
{
	quiet = q;
}

int gp_log_count(int level)
{
	return counts[level & 7];
}

static const char *level_word(int level)
{
	switch (level) {
	case GP_ERR:
		return "error: ";
	case GP_WARN:
		return "warning: ";
	default:
		return "";
	}
}

/*
 * kmsg rate-limits each open descriptor to 10 records per 5 seconds and
 * drops the rest silently, so every record gets a descriptor of its own.
 */
static int kmsg_write(int level, const char *msg)
{
	char rec[KMSG_RECORD_MAX + 1];
	int fd, n, ok;

	/*
	 * Facility 1 (user): the kernel would turn facility 0 into user anyway.
	 * The kernel drops a trailing newline; a test's plain file keeps one record a line.
	 */
	n = snprintf(rec, sizeof(rec), "<%d>gpupass: %s\n", 8 + (level & 7), msg);
	if (n < 0)
		return -1;
	if ((size_t)n >= sizeof(rec)) {
		n = sizeof(rec) - 1;
		rec[n - 1] = '\n';
	}
	fd = open(kmsg_path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return -1;
	ok = write(fd, rec, (size_t)n) == n;
	close(fd);
	return ok ? 0 : -1;
}

void gp_log(int level, const char *fmt, ...)
{
	char msg[KMSG_RECORD_MAX];
	va_list ap;
	int n;

	counts[level & 7]++;
	va_start(ap, fmt);
	n = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	/* A cut message says so rather than ending mid-word without a sign. */
	if ((size_t)n >= sizeof(msg))
		memcpy(msg + sizeof(msg) - 4, "...", 4);

	if (kmsg_path && to_both) {
		if (!kmsg_failed && kmsg_write(level, msg) < 0)
			kmsg_failed = 1;
		printf("%s%s\n", level_word(level), msg);
		return;
	}
	if (kmsg_path) {
		if (!kmsg_failed && kmsg_write(level, msg) == 0)
			return;
		/* No /dev/kmsg (early, or a container): stderr is what is left. */
		kmsg_failed = 1;
		fprintf(stderr, "gpupass: %s%s\n", level_word(level), msg);
		return;
	}
	if (quiet > 1 || (quiet && level > GP_WARN))
		return;
	if (level <= GP_WARN) {
		/* Keep the order the lines were logged in when both streams go to one place. */
		fflush(stdout);
		fprintf(stderr, "%s%s\n", level_word(level), msg);
		return;
	}
	printf("%s%s\n", level_word(level), msg);
}

/*
 * Quote text from a user for a message: printable ASCII as is, the rest as
 * \xNN, so that no control character reaches the console or the journal.
 */
void gp_quote(char *dst, size_t len, const char *s, size_t n)
{
	size_t o = 0, i;

	for (i = 0; i < n && o + 5 < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch >= 0x20 && ch < 0x7f)
			dst[o++] = (char)ch;
		else
			o += (size_t)snprintf(dst + o, len - o, "\\x%02x", ch);
	}
	if (i < n && o + 4 < len) {
		memcpy(dst + o, "...", 3);
		o += 3;
	}
	dst[o] = '\0';
}

/* SPDX-License-Identifier: MIT */
/*
 * Kernel command line parameters:
 *   gpupass=on|off|dry-run   the mode for this boot (off is the rescue switch)
 *   gpupass.add=ENTRY        one more entry, words separated by commas
 *   gpupass.timeout=SECONDS  how long modprobe vfio-pci may take (1-600, default 60)
 * Parameters are read left to right and a later gpupass= overrides an
 * earlier one, as the kernel's own parameters do.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gpupass.h"

#define ORIGIN "kernel command line"

/* Room for a value of GP_LINE_MAX bytes quoted in part as \xNN. */
#define SHOWN_MAX 512

/* The command line is anyone's bytes: quote them as config lines are quoted. */
static const char *shown_as(char *buf, const char *s)
{
	gp_quote(buf, SHOWN_MAX, s, strlen(s));
	return buf;
}

/* Next parameter, splitting at blanks outside double quotes (as the kernel does). */
static char *next_param(char **pos)
{
	char *p = *pos, *start, *o;
	int quoted = 0;

	while (*p == ' ' || *p == '\t' || *p == '\n')
		p++;
	if (!*p) {
		*pos = p;
		return NULL;
	}
	start = o = p;
	for (; *p; p++) {
		if (*p == '"') {
			quoted = !quoted;
			continue;
		}
		if (!quoted && (*p == ' ' || *p == '\t' || *p == '\n'))
			break;
		*o++ = *p;
	}
	if (*p)
		p++;
	*o = '\0';
	*pos = p;
	return start;
}

static void add_entry(struct gp_config *c, const char *value, int index)
{
	struct gp_entry e;
	char buf[GP_LINE_MAX], shown[SHOWN_MAX], shown_bad[SHOWN_MAX];
	const char *msg, *bad;
	size_t i;

	memset(&e, 0, sizeof(e));
	if (strlen(value) >= sizeof(buf)) {
		gp_log(GP_ERR, ORIGIN ": gpupass.add= longer than %d characters", GP_LINE_MAX - 1);
		c->errors++;
		return;
	}
	gp_copy(buf, value, sizeof(buf));
	for (i = 0; buf[i]; i++)
		if (buf[i] == ',')
			buf[i] = ' ';
	if (!buf[strspn(buf, " ")]) {
		gp_log(GP_ERR, ORIGIN ": gpupass.add=%s is empty (give an address or a vendor:device id)",
		       value);
		c->errors++;
		return;
	}
	gp_copy(e.text, buf, sizeof(e.text));
	e.origin = ORIGIN;
	e.line = index;
	msg = gp_parse_entry(buf, &e, &bad);
	if (msg) {
		gp_log(GP_ERR, ORIGIN ": gpupass.add=%s: %s: '%s'", shown_as(shown, value), msg,
		       shown_as(shown_bad, bad));
		c->errors++;
		return;
	}
	if (gp_config_add(c, &e) < 0) {
		gp_log(GP_ERR, ORIGIN ": out of memory");
		c->errors++;
	}
}

/*
 * A module whose init hangs must not hold the boot for long, and a slow
 * machine may need longer than the default: the user decides, within bounds.
 */
static void set_timeout(struct gp_config *c, const char *p)
{
	char shown[SHOWN_MAX];
	int t;

	if (gp_parse_dec(p + 16, GP_TIMEOUT_MAX, &t) < 0 || t < 1) {
		gp_log(GP_ERR, ORIGIN ": %s: not a number of seconds from 1 to %d", shown_as(shown, p),
		       GP_TIMEOUT_MAX);
		c->errors++;
		return;
	}
	c->timeout = t;
}

/* Parse a command line in place; bad parameters are logged and counted. */
void gp_cmdline_parse(struct gp_config *c, char *line)
{
	char *pos = line, *p, shown[SHOWN_MAX];
	int adds = 0;

	while ((p = next_param(&pos))) {
		if (!strcmp(p, "gpupass=on")) {
			c->mode = GP_MODE_ON;
			c->mode_seen = 1;
		} else if (!strcmp(p, "gpupass=off")) {
			c->mode = GP_MODE_OFF;
			c->mode_seen = 1;
		} else if (!strcmp(p, "gpupass=dry-run")) {
			c->mode = GP_MODE_DRYRUN;
			c->mode_seen = 1;
		} else if (!strncmp(p, "gpupass=", 8)) {
			gp_log(GP_ERR, ORIGIN ": %s: unknown value (on, off or dry-run)", shown_as(shown, p));
			c->errors++;
		} else if (!strncmp(p, "gpupass.add=", 12)) {
			add_entry(c, p + 12, ++adds);
		} else if (!strncmp(p, "gpupass.timeout=", 16)) {
			set_timeout(c, p);
		} else if (!strcmp(p, "gpupass") || !strncmp(p, "gpupass.", 8)) {
			gp_log(GP_ERR, ORIGIN ": %s: unknown parameter (gpupass=, gpupass.add= or gpupass.timeout=)",
			       shown_as(shown, p));
			c->errors++;
		}
	}
}

/* Returns 0, or -errno when the file cannot be read; the caller decides what a missing one means. */
int gp_cmdline_load(struct gp_config *c, const char *path)
{
	size_t len;
	int err;
	char *buf = gp_read_file(path, 65536, &len, &err);

	if (!buf)
		return -err;
	if (memchr(buf, '\0', len)) {
		gp_log(GP_ERR, "%s: NUL byte in the command line", path);
		c->errors++;
		free(buf);
		return 0;
	}
	gp_cmdline_parse(c, buf);
	free(buf);
	return 0;
}

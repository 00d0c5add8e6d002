/* SPDX-License-Identifier: MIT */
/*
 * The sysfs readers and the planner over a tree the input builds: attribute
 * contents, link targets (dangling, looping, odd depth), directories where
 * files belong, and the entries that name functions in it. One record a line:
 *
 *   d ADDR              a function: devices/pci0000:00/ADDR, linked from bus/pci/devices
 *   a ADDR NAME VALUE   attribute NAME of ADDR holds VALUE (\n \0 \\ \xHH decoded)
 *   r ADDR NAME         NAME is a directory, not a file
 *   l ADDR NAME TARGET  NAME is a link to TARGET (relative, at most 3 ".." components)
 *   g GROUP MEMBER      kernel/iommu_groups/GROUP/devices/MEMBER, as the kernel links it
 *   h ADDR TYPE         64 bytes of config space with header type TYPE (hex)
 *   e ENTRY             a configuration entry
 *
 * Names never contain '/' and are never "." or "..", so the tree stays in
 * its temporary directory and nothing outside it is read.
 */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpupass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char base[64];
static char sys[GP_PATH_MAX];
static unsigned round_no;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void rm_base(void)
{
	rmdir(base);
}

static int ok_name(const char *s)
{
	return *s && strlen(s) < 200 && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..");
}

/* A relative target that cannot climb out of SYS from a function directory. */
static int ok_target(const char *s)
{
	const char *p = s;
	int up = 0;

	if (!*s || *s == '/' || strlen(s) >= GP_PATH_MAX / 2)
		return 0;
	while ((p = strstr(p, ".."))) {
		up++;
		p += 2;
	}
	return up <= 3;
}

static size_t unescape(char *s)
{
	char *o = s, *p = s;

	while (*p) {
		if (*p != '\\' || !p[1]) {
			*o++ = *p++;
			continue;
		}
		p++;
		switch (*p) {
		case 'n':
			*o++ = '\n';
			p++;
			break;
		case '0':
			*o++ = '\0';
			p++;
			break;
		case 'x':
			if (p[1] && p[2]) {
				char hex[3] = { p[1], p[2], 0 };

				*o++ = (char)strtoul(hex, NULL, 16);
				p += 3;
				break;
			}
			/* fall through */
		default:
			*o++ = *p++;
		}
	}
	return (size_t)(o - s);
}

static void write_file(const char *path, const char *buf, size_t n)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);

	if (fd < 0)
		return;
	if (write(fd, buf, n) < 0)
		abort();
	close(fd);
}

static void dev_path(char *buf, const char *addr, const char *name)
{
	if (name)
		gp_path(buf, GP_PATH_MAX, "%s/devices/pci0000:00/%s/%s", sys, addr, name);
	else
		gp_path(buf, GP_PATH_MAX, "%s/devices/pci0000:00/%s", sys, addr);
}

/* Each reader on its own, on whatever the record made. */
static void read_all(const char *path)
{
	char buf[GP_NAME_MAX];
	unsigned hex;
	int n;

	n = gp_read_attr(path, buf, sizeof(buf));
	if (n > (int)sizeof(buf) - 1 || (n >= 0 && strlen(buf) != (size_t)n))
		abort();
	gp_read_hex(AT_FDCWD, path, &hex);
	gp_read_int(AT_FDCWD, path, &n);
	if (gp_read_link_base(path, buf, sizeof(buf)) == 0 &&
	    (!buf[0] || strchr(buf, '/') || strlen(buf) >= sizeof(buf)))
		abort();
}

static void record(char *line, struct gp_config *c, int lineno)
{
	char path[GP_PATH_MAX], link[GP_PATH_MAX], *arg1, *arg2, *rest = NULL;
	char kind = line[0];

	if (!kind || line[1] != ' ')
		return;
	arg1 = line + 2;
	if (kind == 'e') {
		struct gp_entry e;
		const char *bad;

		memset(&e, 0, sizeof(e));
		gp_copy(e.text, arg1, sizeof(e.text));
		e.origin = "fuzz";
		e.line = lineno;
		if (strlen(arg1) < GP_LINE_MAX && !gp_parse_entry(arg1, &e, &bad))
			gp_config_add(c, &e);
		return;
	}
	arg2 = strchr(arg1, ' ');
	if (arg2) {
		*arg2++ = '\0';
		rest = strchr(arg2, ' ');
		if (rest && (kind == 'a' || kind == 'l'))
			*rest++ = '\0';
	}
	if (!ok_name(arg1))
		return;
	switch (kind) {
	case 'd':
		dev_path(path, arg1, NULL);
		mkdir(path, 0755);
		gp_path(link, sizeof(link), "%s/bus/pci/devices/%s", sys, arg1);
		gp_path(path, sizeof(path), "../../../devices/pci0000:00/%s", arg1);
		symlink(path, link);
		break;
	case 'a':
		if (!arg2 || !ok_name(arg2) || !rest)
			return;
		dev_path(path, arg1, arg2);
		write_file(path, rest, unescape(rest));
		read_all(path);
		break;
	case 'r':
		if (!arg2 || !ok_name(arg2))
			return;
		dev_path(path, arg1, arg2);
		mkdir(path, 0755);
		read_all(path);
		break;
	case 'l':
		if (!arg2 || !ok_name(arg2) || !rest || !ok_target(rest))
			return;
		dev_path(path, arg1, arg2);
		symlink(rest, path);
		read_all(path);
		break;
	case 'g':
		if (!arg2 || !ok_name(arg2))
			return;
		/* The group's directory first: mkdir makes one level only. */
		gp_path(path, sizeof(path), "%s/kernel/iommu_groups/%s", sys, arg1);
		mkdir(path, 0755);
		gp_path(path, sizeof(path), "%s/kernel/iommu_groups/%s/devices", sys, arg1);
		mkdir(path, 0755);
		gp_path(link, sizeof(link), "%s/%s", path, arg2);
		gp_path(path, sizeof(path), "../../../../devices/pci0000:00/%s", arg2);
		symlink(path, link);
		break;
	case 'h':
		if (arg2) {
			unsigned char cfg[64];

			memset(cfg, 0, sizeof(cfg));
			cfg[0x0e] = (unsigned char)strtoul(arg2, NULL, 16);
			dev_path(path, arg1, "config");
			write_file(path, (const char *)cfg, sizeof(cfg));
		}
		break;
	}
}

/* The host-critical classes, written out again rather than taken from gp_critical_kind(). */
static int critical(const struct gp_dev *d)
{
	unsigned cls = d->class >> 16, sub = d->class >> 8;

	return cls == 0x01 || cls == 0x02 || cls == 0x03 || sub == 0x0601 || sub == 0x0c05;
}

static int addr_names(const struct gp_entry *e, const struct gp_dev *d)
{
	char addr[GP_ADDR_MAX];

	if (!(e->flags & GP_E_ADDR))
		return 0;
	gp_entry_addr(e, addr, sizeof(addr));
	return !strcmp(addr, d->addr);
}

static int id_matches(const struct gp_entry *e, const struct gp_dev *d)
{
	return !(e->flags & GP_E_ADDR) && (e->flags & GP_E_ID) && d->vendor == e->vendor &&
	       d->device == e->device;
}

/* What gp_pci_match() would match: the ids were readable. */
static int ids_read(const struct gp_dev *d)
{
	return !d->unreadable || (strcmp(d->unreadable, "vendor") && strcmp(d->unreadable, "device") &&
				  strcmp(d->unreadable, "directory"));
}

/*
 * No plan hands over a disk, a network link or a screen that no entry names:
 * a bound host-critical function is named by an address, or matched by an id
 * entry (which for storage and network must match such functions in one
 * device only, and for the boot VGA device nothing else), or sits in a group
 * where an allow-critical entry names a member. Checked against a table of
 * every function (ALL), counting the matches here, not in the planner.
 */
static void no_host_device_taken(const struct gp_config *c, const struct gp_plan *plan,
				 const struct gp_pci *all)
{
	int i, j, k, x;

	for (i = 0; i < plan->n; i++) {
		const struct gp_group *g = &plan->g[i];

		for (j = 0; j < g->n && !g->refused; j++) {
			const struct gp_dev *d = g->m[j].d;
			int by_addr = 0, by_id = 0, allowed = 0;

			if (g->m[j].role != GP_ROLE_BIND || !critical(d))
				continue;
			for (k = 0; k < c->n; k++) {
				const struct gp_entry *e = &c->v[k];

				by_addr |= addr_names(e, d);
				if (e->flags & GP_E_ALLOW)
					for (x = 0; x < g->n; x++)
						if (g->m[x].d && (addr_names(e, g->m[x].d) ||
								  id_matches(e, g->m[x].d)))
							allowed = 1;
			}
			if (by_addr)
				continue;
			for (k = 0; k < c->n; k++) {
				const struct gp_entry *e = &c->v[k];
				int matches = 0, devices = 0;
				const char *last = NULL;

				if (!id_matches(e, d))
					continue;
				for (x = 0; x < all->n; x++) {
					const struct gp_dev *o = all->v[x];
					unsigned cls = o->class >> 16;

					if (!ids_read(o) || !id_matches(e, o))
						continue;
					matches++;
					if (!o->unreadable && (cls == 0x01 || cls == 0x02)) {
						if (!last || strncmp(last, o->addr, strlen(o->addr) - 1))
							devices++;
						last = o->addr;
					}
				}
				/* An id that does not name it: nothing else may take it either. */
				if (((d->class >> 16) == 0x01 || (d->class >> 16) == 0x02) && devices > 1)
					abort();
				if (d->boot_vga == 1 && matches > 1)
					abort();
				by_id = 1;
			}
			if (!by_id && !allowed)
				abort();
		}
	}
}

/* Same groups, same refusals, same role for every member, same count of skipped targets. */
static void same_plan(const struct gp_plan *a, const struct gp_plan *b)
{
	int i, j;

	if (a->n != b->n || a->skipped != b->skipped)
		abort();
	for (i = 0; i < a->n; i++) {
		const struct gp_group *x = &a->g[i], *y = &b->g[i];

		if (x->id != y->id || x->refused != y->refused || x->n != y->n ||
		    x->nbind != y->nbind || x->allow != y->allow)
			abort();
		for (j = 0; j < x->n; j++)
			if (strcmp(x->m[j].name, y->m[j].name) || x->m[j].role != y->m[j].role)
				abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct gp_paths p;
	struct gp_config c;
	struct gp_pci pci, full;
	struct gp_plan plan, ref;
	char *text, *line, *save;
	int i, j, lineno = 0;

	if (size > 4096)
		return -1;
	if (!base[0]) {
		const char *tmp = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";

		snprintf(base, sizeof(base), "%s/gpupass-fuzz.XXXXXX", tmp);
		if (!mkdtemp(base))
			abort();
		atexit(rm_base);
		gp_log_to_kmsg("/dev/null");
	}
	gp_path(sys, sizeof(sys), "%s/%u", base, round_no++);
	mkdir(sys, 0755);
	for (i = 0; i < 4; i++) {
		static const char *const dirs[] = { "bus/pci/devices", "kernel/iommu_groups",
						    "devices/pci0000:00", "dev" };
		char path[GP_PATH_MAX], *s;

		gp_path(path, sizeof(path), "%s/%s", sys, dirs[i]);
		for (s = path + strlen(sys) + 1; (s = strchr(s, '/')); s++) {
			*s = '\0';
			mkdir(path, 0755);
			*s = '/';
		}
		mkdir(path, 0755);
	}

	text = malloc(size + 1);
	if (!text)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&c, 0, sizeof(c));
	for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		record(line, &c, ++lineno);

	memset(&p, 0, sizeof(p));
	p.sysfs = sys;
	p.devdir = base;
	/* The boot's table reads functions as planning asks for them ... */
	if (gp_pci_open(&p, &pci) == 0) {
		gp_plan_build(&p, &c, &pci, &plan, GP_WARN);
		for (i = 1; i < pci.n; i++)
			if (strcmp(pci.v[i - 1]->addr, pci.v[i]->addr) >= 0)
				abort();   /* gp_pci_find bisects: the table must be sorted */
		for (i = 0; i < plan.n; i++) {
			const struct gp_group *g = &plan.g[i];

			for (j = 0; j < g->n && !g->refused; j++) {
				const struct gp_dev *d = g->m[j].d;

				/* Only readable functions of this very group are in a plan. */
				if (!d || d->unreadable || d->group != g->id)
					abort();
				if (g->m[j].role == GP_ROLE_BIND && (gp_is_bridge(d) || d->numvfs > 0))
					abort();
				/* A bridge left on a DMA-API driver makes the group unusable: refused. */
				if (g->m[j].role == GP_ROLE_BRIDGE && d->driver[0] &&
				    strcmp(d->driver, "pcieport") && strcmp(d->driver, "pci-stub") &&
				    strcmp(d->driver, "vfio-pci"))
					abort();
			}
		}
		/* ... and must plan exactly what a table of every function plans. */
		if (gp_pci_scan(&p, &full) == 0) {
			gp_plan_build(&p, &c, &full, &ref, GP_WARN);
			same_plan(&plan, &ref);
			no_host_device_taken(&c, &plan, &full);
			gp_plan_free(&ref);
		}
		gp_pci_free(&full);
		gp_plan_show(&plan, 1);
		gp_plan_free(&plan);
		gp_pci_free(&pci);
	}
	gp_config_free(&c);
	free(text);
	nftw(sys, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

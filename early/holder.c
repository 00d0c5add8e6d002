/* SPDX-License-Identifier: MIT */
/*
 * Who holds a VFIO group open. A VM holds /dev/vfio/N (the legacy group
 * interface) or, with iommufd, /dev/vfio/devices/vfioX of each function.
 * Unbinding vfio-pci from a device a VM still uses does not fail: the
 * kernel's remove() waits until the VM lets go, so the write to unbind
 * hangs. Hence the scan before any release, through PROCDIR/PID/fd.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpupass.h"

#define MAX_NODES 32

/* The device nodes of group G: the group's own, then each function's vfio cdev. */
static int group_nodes(const struct gp_paths *p, const struct gp_group *g,
		       char nodes[][GP_PATH_MAX])
{
	char path[GP_PATH_MAX], **names;
	int n = 0, i, j, cnt;

	if (gp_path(nodes[n], GP_PATH_MAX, "%s/vfio/%d", p->devdir, g->id) == 0)
		n++;
	for (i = 0; i < g->n; i++) {
		if (g->m[i].role != GP_ROLE_BIND ||
		    gp_path(path, sizeof(path), "%s/bus/pci/devices/%s/vfio-dev", p->sysfs,
			    g->m[i].d->addr) < 0 ||
		    gp_list_dir_raw(path, &names, &cnt) < 0)
			continue;
		for (j = 0; j < cnt && n < MAX_NODES; j++)
			if (gp_path(nodes[n], GP_PATH_MAX, "%s/vfio/devices/%s", p->devdir,
				    names[j]) == 0)
				n++;
		gp_free_list(names, cnt);
	}
	return n;
}

/* 1 when a descriptor of process DIR is one of NODES, 0 when none, -errno when unreadable. */
static int holds(const char *fddir, char nodes[][GP_PATH_MAX], int n)
{
	char path[GP_PATH_MAX], link[GP_PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(fddir);
	ssize_t len;
	int i, found = 0;

	if (!d)
		return -errno;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.' ||
		    gp_path(path, sizeof(path), "%s/%s", fddir, de->d_name) < 0)
			continue;
		len = readlink(path, link, sizeof(link) - 1);
		if (len < 0)
			continue;   /* closed since the directory was read */
		link[len] = '\0';
		for (i = 0; i < n && !found; i++)
			found = !strcmp(link, nodes[i]);
	}
	closedir(d);
	return found;
}

/*
 * 1 and *PID, COMM when a process holds G open; 0 when none does; -errno
 * when the scan could not see every process (not root: it cannot tell, so
 * the caller must not release).
 */
int gp_group_holder(const struct gp_paths *p, const struct gp_group *g, int *pid,
		    char *comm, size_t len)
{
	char nodes[MAX_NODES][GP_PATH_MAX], path[GP_PATH_MAX];
	struct dirent *de;
	DIR *d;
	int n, r, err = 0, found = 0;

	n = group_nodes(p, g, nodes);
	d = opendir(p->procdir);
	if (!d)
		return -errno;
	while (!found && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    gp_parse_dec(de->d_name, 0x3fffffff, pid) < 0 ||
		    gp_path(path, sizeof(path), "%s/%s/fd", p->procdir, de->d_name) < 0)
			continue;
		r = holds(path, nodes, n);
		if (r == 1)
			found = 1;
		else if (r < 0 && r != -ENOENT)
			err = r;   /* a process gone meanwhile is fine; one we may not read is not */
	}
	closedir(d);
	if (found) {
		if (gp_path(path, sizeof(path), "%s/%d/comm", p->procdir, *pid) < 0 ||
		    gp_read_attr(path, comm, len) < 0)
			gp_copy(comm, "?", len);
		return 1;
	}
	return err;
}

/* SPDX-License-Identifier: MIT */
/*
 * Where bind runs. The initramfs run is the boot's own: it alone writes the
 * status record, and it must come before udev. Every generator leaves a
 * marker in its image that the real root does not have:
 *   /etc/initrd-release   dracut, mkinitcpio and every systemd initrd (the
 *                         file systemd itself tests to know it is in one)
 *   /usr/lib/initrd-release  dracut: from dracut-ng 106 on ("/etc/initrd-release
 *                         is only for systemd"), its shell /init images have
 *                         only this one
 *   /conf/initramfs.conf  initramfs-tools, whose /init sources it
 * All are looked for under the root given by --root, so tests can choose.
 */
#include <ctype.h>
#include <dirent.h>
#include <string.h>
#include <unistd.h>

#include "gpupass.h"

static int exists_under(const struct gp_paths *p, const char *name)
{
	char path[GP_PATH_MAX];

	return gp_path(path, sizeof(path), "%s%s", p->root, name) == 0 && access(path, F_OK) == 0;
}

int gp_in_initramfs(const struct gp_paths *p)
{
	return exists_under(p, "/etc/initrd-release") || exists_under(p, "/usr/lib/initrd-release") ||
	       exists_under(p, "/conf/initramfs.conf");
}

static int is_udevd(const char *comm)
{
	return !strcmp(comm, "systemd-udevd") || !strcmp(comm, "udevd");
}

/*
 * The pid of a running udevd, 0 when udev is not running. The control
 * socket comes first (cheap, and what udevadm itself talks to), but alone
 * it proves nothing in a systemd initrd: systemd-udevd-control.socket
 * creates it before udevd starts, with no ordering against gpupass. So a
 * udevd process must be there too. A process table that cannot be read
 * leaves the socket as the only sign: -1.
 */
int gp_udev_running(const struct gp_paths *p)
{
	char path[GP_PATH_MAX], comm[GP_NAME_MAX];
	struct dirent *de;
	DIR *d;
	int pid, found = 0;

	if (!exists_under(p, "/run/udev/control"))
		return 0;
	d = opendir(p->procdir);
	if (!d)
		return -1;
	while (!found && (de = readdir(d))) {
		if (!isdigit((unsigned char)de->d_name[0]) ||
		    gp_parse_dec(de->d_name, 0x3fffffff, &pid) < 0 ||
		    gp_path(path, sizeof(path), "%s/%s/comm", p->procdir, de->d_name) < 0 ||
		    gp_read_attr(path, comm, sizeof(comm)) < 0)
			continue;
		if (is_udevd(comm))
			found = pid;
	}
	closedir(d);
	return found;
}

/* SPDX-License-Identifier: MIT */
/*
 * IOMMU groups: who is in one, and whether a VM could use it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <linux/vfio.h>

#include "gpupass.h"

/* Group numbers go into the hundreds: list the directory, never guess. */
int gp_group_members(const struct gp_paths *p, int group, char ***names, int *n)
{
	char path[GP_PATH_MAX];

	if (gp_path(path, sizeof(path), "%s/kernel/iommu_groups/%d/devices", p->sysfs, group) < 0)
		return -ENAMETOOLONG;
	return gp_list_dir(path, names, n);
}

/*
 * The question QEMU asks before it attaches a group: VFIO_GROUP_GET_STATUS
 * sets VFIO_GROUP_FLAGS_VIABLE only when every member is unbound or on a
 * driver that does not use the DMA API (vfio-pci, pci-stub, pcieport).
 */
int gp_group_viable(const struct gp_paths *p, int group, char *why, size_t len)
{
	struct vfio_group_status st;
	char path[GP_PATH_MAX];
	int fd, r;

	why[0] = '\0';
	if (gp_path(path, sizeof(path), "%s/vfio/%d", p->devdir, group) < 0) {
		snprintf(why, len, "path too long");
		return GP_VIABLE_UNKNOWN;
	}
	fd = open(path, O_RDWR | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		snprintf(why, len, "no %s", path);
		return GP_VIABLE_NONODE;
	}
	if (fd < 0) {
		r = errno;
		snprintf(why, len, "cannot open %s: %s%s", path, strerror(r),
			 r == EACCES || r == EPERM ? " (run as root)" :
			 r == EBUSY ? " (a VM has it open)" : "");
		return GP_VIABLE_UNKNOWN;
	}
	memset(&st, 0, sizeof(st));
	st.argsz = sizeof(st);
	r = ioctl(fd, VFIO_GROUP_GET_STATUS, &st);
	if (r < 0) {
		r = errno;
		close(fd);
		snprintf(why, len, "VFIO_GROUP_GET_STATUS on %s: %s", path, strerror(r));
		return GP_VIABLE_UNKNOWN;
	}
	close(fd);
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		snprintf(why, len, "a member is on a host driver");
		return GP_VIABLE_NO;
	}
	return GP_VIABLE_YES;
}

/* SPDX-License-Identifier: MIT */
/*
 * IOMMU groups: who is in one, whether a VM could use it, and how to get
 * them when the IOMMU is off.
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
	/*
	 * vfio lets one file at a time hold a group open: EBUSY means a VM (or
	 * another VFIO user) already attached it, the best proof it is usable.
	 */
	if (fd < 0 && errno == EBUSY) {
		snprintf(why, len, "in use by a VM");
		return GP_VIABLE_IN_USE;
	}
	if (fd < 0) {
		r = errno;
		snprintf(why, len, "cannot open %s: %s%s", path, strerror(r),
			 r == EACCES || r == EPERM ? " (run as root)" : "");
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

/*
 * What turns the IOMMU on, by the host bridge's vendor. Intel's depends on
 * the kernel's build default (CONFIG_INTEL_IOMMU_DEFAULT_ON), so the
 * parameter is the fix; AMD-Vi is on whenever the firmware enables it and
 * amd_iommu= knows no "on" (parse_amd_iommu_options() in
 * drivers/iommu/amd/init.c), so only the firmware or an "off" stands in the way.
 */
#define ADVICE_INTEL "add intel_iommu=on to the kernel command line (and enable VT-d in the firmware setup)"
#define ADVICE_AMD "enable the IOMMU (AMD-Vi) in the firmware setup, and remove amd_iommu=off or iommu=off from the kernel command line if present"

const char *gp_iommu_advice(struct gp_pci *pci)
{
	const struct gp_dev *host = pci ? gp_pci_find(pci, "0000:00:00.0") : NULL;

	if (host && host->vendor == 0x8086)
		return ADVICE_INTEL;
	if (host && (host->vendor == 0x1022 || host->vendor == 0x1dd8))
		return ADVICE_AMD;
	return "Intel: " ADVICE_INTEL "; AMD: " ADVICE_AMD;
}

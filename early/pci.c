/*
 * The PCI function table: one pass over SYSFS/bus/pci/devices, reading only
 * what planning needs. Everything else is read again when it is acted on.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpupass.h"

/* Directory names are "dddd:bb:dd.f"; anything else is not a function we know. */
static int valid_addr(const char *s)
{
	const char *p = s;
	int n;

	for (n = 0; *p && *p != ':'; p++, n++)
		if (!((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f')))
			return 0;
	if (n < 4 || n > 8 || *p != ':' || strlen(p) != 8)
		return 0;
	return p[3] == ':' && p[6] == '.' && p[7] >= '0' && p[7] <= '7';
}

/* Header type is config byte 0x0e without bit 7 (multi-function). */
static int read_header_type(const char *path)
{
	unsigned char cfg[64];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, cfg, sizeof(cfg));
	close(fd);
	if (n < 0x0f)
		return -1;
	return cfg[0x0e] & 0x7f;
}

int gp_pci_refresh_driver(const struct gp_paths *p, struct gp_dev *d)
{
	char path[GP_PATH_MAX];
	int r;

	if (gp_path(path, sizeof(path), "%s/bus/pci/devices/%s/driver", p->sysfs, d->addr) < 0)
		return -ENAMETOOLONG;
	r = gp_read_link_base(path, d->driver, sizeof(d->driver));
	if (r == -ENOENT) {
		d->driver[0] = '\0';
		return 0;
	}
	if (r < 0)
		d->driver[0] = '\0';
	return r;
}

static void read_dev(const struct gp_paths *p, struct gp_dev *d)
{
	char dir[GP_PATH_MAX], path[GP_PATH_MAX], grp[GP_NAME_MAX], *end;
	long g;
	int r;

	d->header = -1;
	d->boot_vga = -1;
	d->numvfs = -1;
	d->group = -1;
	if (gp_path(dir, sizeof(dir), "%s/bus/pci/devices/%s", p->sysfs, d->addr) < 0) {
		d->unreadable = "path";
		return;
	}
#define ATTR(name) (gp_path(path, sizeof(path), "%s/" name, dir) < 0 ? "" : path)
	if (gp_read_hex(ATTR("vendor"), &d->vendor) < 0 || d->vendor > 0xffff)
		d->unreadable = "vendor";
	else if (gp_read_hex(ATTR("device"), &d->device) < 0 || d->device > 0xffff)
		d->unreadable = "device";
	else if (gp_read_hex(ATTR("class"), &d->class) < 0 || d->class > 0xffffff)
		d->unreadable = "class";
	d->header = read_header_type(ATTR("config"));
	if (d->header < 0 && !d->unreadable)
		d->unreadable = "config";
	if (gp_read_int(ATTR("boot_vga"), &d->boot_vga) < 0)
		d->boot_vga = -1;
	if (gp_read_int(ATTR("sriov_numvfs"), &d->numvfs) < 0)
		d->numvfs = -1;
	r = gp_read_link_base(ATTR("iommu_group"), grp, sizeof(grp));
	if (r == 0) {
		errno = 0;
		g = strtol(grp, &end, 10);
		if (errno || *end || end == grp || g < 0 || g > 0x7fffffff)
			d->unreadable = "iommu_group";
		else
			d->group = (int)g;
	} else if (r != -ENOENT) {
		/* Something named iommu_group that is not a link to a group. */
		d->unreadable = "iommu_group";
	}
#undef ATTR
	gp_pci_refresh_driver(p, d);
}

int gp_pci_scan(const struct gp_paths *p, struct gp_pci *pci)
{
	char path[GP_PATH_MAX], **names;
	int n, i, r;

	pci->v = NULL;
	pci->n = 0;
	if (gp_path(path, sizeof(path), "%s/bus/pci/devices", p->sysfs) < 0)
		return -ENAMETOOLONG;
	r = gp_list_dir(path, &names, &n);
	if (r < 0)
		return r;
	pci->v = calloc((size_t)(n ? n : 1), sizeof(*pci->v));
	if (!pci->v) {
		gp_free_list(names, n);
		return -ENOMEM;
	}
	for (i = 0; i < n; i++) {
		struct gp_dev *d = &pci->v[pci->n];

		if (!valid_addr(names[i]))
			continue;
		gp_copy(d->addr, names[i], sizeof(d->addr));
		read_dev(p, d);
		pci->n++;
	}
	gp_free_list(names, n);
	return 0;
}

void gp_pci_free(struct gp_pci *pci)
{
	free(pci->v);
	pci->v = NULL;
	pci->n = 0;
}

static int cmp_addr(const void *key, const void *elem)
{
	return strcmp((const char *)key, ((const struct gp_dev *)elem)->addr);
}

/* The table is in directory order, which gp_list_dir sorted by name. */
struct gp_dev *gp_pci_find(const struct gp_pci *pci, const char *addr)
{
	if (!pci->n)
		return NULL;
	return bsearch(addr, pci->v, (size_t)pci->n, sizeof(*pci->v), cmp_addr);
}

/*
 * vfio-pci refuses anything whose header type is not 0, and host bridges
 * (class 0x0600) are type 0 but belong to the chipset: never touch either.
 */
int gp_is_bridge(const struct gp_dev *d)
{
	return d->header != 0 || (d->class >> 16) == 0x06;
}

/* Devices whose loss takes the host down with them. */
const char *gp_critical_kind(const struct gp_dev *d)
{
	if ((d->class >> 16) == 0x01)
		return "mass storage controller";
	if ((d->class >> 8) == 0x0601)
		return "ISA/LPC bridge";
	if ((d->class >> 8) == 0x0c05)
		return "SMBus controller";
	return NULL;
}

static const struct {
	unsigned class;   /* base class << 8 | subclass */
	const char *name;
} class_names[] = {
	{ 0x0100, "SCSI storage controller" },
	{ 0x0101, "IDE interface" },
	{ 0x0104, "RAID bus controller" },
	{ 0x0106, "SATA controller" },
	{ 0x0108, "Non-Volatile memory controller" },
	{ 0x0200, "Ethernet controller" },
	{ 0x0280, "Network controller" },
	{ 0x0300, "VGA compatible controller" },
	{ 0x0302, "3D controller" },
	{ 0x0380, "Display controller" },
	{ 0x0401, "Multimedia audio controller" },
	{ 0x0403, "Audio device" },
	{ 0x0500, "RAM memory" },
	{ 0x0600, "Host bridge" },
	{ 0x0601, "ISA bridge" },
	{ 0x0604, "PCI bridge" },
	{ 0x0880, "System peripheral" },
	{ 0x0c03, "USB controller" },
	{ 0x0c05, "SMBus" },
	{ 0x0c80, "Serial bus controller" },
	{ 0x1180, "Signal processing controller" },
	{ 0x1200, "Processing accelerators" },
};

/* lspci's class names for the classes a GPU card and its neighbours have. */
const char *gp_class_name(unsigned class)
{
	size_t i;

	for (i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
		if (class_names[i].class == class >> 8)
			return class_names[i].name;
	return "Class";
}

/* SPDX-License-Identifier: MIT */
/*
 * The PCI function table, read from SYSFS/bus/pci/devices as planning asks
 * for functions, and only what planning needs. Everything else is read
 * again when it is acted on.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gpupass.h"

static int lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/*
 * DOMAIN:BB:DD.F as the kernel names a PCI function, in lowercase hex
 * (a domain of 4 to 8 digits, device 00 to 1f, function 0 to 7): anything
 * else is not a function we know. Such a name becomes part of a sysfs path.
 */
int gp_valid_addr(const char *s)
{
	size_t d = 0;

	while (lower_hex(s[d]))
		d++;
	if (d < 4 || d > 8 || strlen(s) != d + 8)
		return 0;
	s += d;
	return s[0] == ':' && lower_hex(s[1]) && lower_hex(s[2]) && s[3] == ':' &&
	       (s[4] == '0' || s[4] == '1') && lower_hex(s[5]) && s[6] == '.' &&
	       s[7] >= '0' && s[7] <= '7';
}

/* Header type is config byte 0x0e without bit 7 (multi-function). */
static int read_header_type(int dir)
{
	unsigned char cfg[64];
	ssize_t n;
	int fd = openat(dir, "config", O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return -1;
	n = read(fd, cfg, sizeof(cfg));
	close(fd);
	if (n < 0x0f)
		return -1;
	return cfg[0x0e] & 0x7f;
}

static int read_driver(int dir, const char *name, struct gp_dev *d)
{
	int r = gp_read_link_base_at(dir, name, d->driver, sizeof(d->driver));

	if (r < 0)
		d->driver[0] = '\0';
	return r == -ENOENT ? 0 : r;
}

int gp_pci_refresh_driver(const struct gp_paths *p, struct gp_dev *d)
{
	char path[GP_PATH_MAX];

	if (gp_path(path, sizeof(path), "%s/bus/pci/devices/%s/driver", p->sysfs, d->addr) < 0)
		return -ENAMETOOLONG;
	return read_driver(AT_FDCWD, path, d);
}

static void read_group(int dir, struct gp_dev *d)
{
	char grp[GP_NAME_MAX];
	int r = gp_read_link_base_at(dir, "iommu_group", grp, sizeof(grp));

	if (r == 0) {
		if (gp_parse_dec(grp, INT_MAX, &d->group) < 0) {
			d->group = -1;
			d->unreadable = "iommu_group";
		}
	} else if (r != -ENOENT) {
		/* Something named iommu_group that is not a link to a group. */
		d->unreadable = "iommu_group";
	}
}

/* Open the function's directory once; every attribute is read relative to it. */
static int open_dev(const struct gp_pci *pci, const char *addr)
{
	int fd = openat(pci->fd, addr, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	return fd < 0 ? -errno : fd;
}

/* The two attributes an id entry is matched on. */
static const char *read_ids(int dir, unsigned *vendor, unsigned *device)
{
	if (gp_read_hex(dir, "vendor", vendor) < 0 || *vendor > 0xffff)
		return "vendor";
	if (gp_read_hex(dir, "device", device) < 0 || *device > 0xffff)
		return "device";
	return NULL;
}

/* Read what planning needs of one function through DIR (its open directory, or an error). */
static void read_dev(struct gp_dev *d, int dir)
{
	int r;

	d->header = -1;
	d->boot_vga = -1;
	d->numvfs = -1;
	d->group = -1;
	if (dir < 0) {
		d->unreadable = "directory";
		return;
	}
	d->unreadable = read_ids(dir, &d->vendor, &d->device);
	if (!d->unreadable && (gp_read_hex(dir, "class", &d->class) < 0 || d->class > 0xffffff))
		d->unreadable = "class";
	d->header = read_header_type(dir);
	if (d->header < 0 && !d->unreadable)
		d->unreadable = "config";
	if (gp_read_int(dir, "boot_vga", &d->boot_vga) < 0)
		d->boot_vga = -1;
	/* Absent is "no SR-IOV"; present and unreadable must not pass for absent. */
	r = gp_read_int(dir, "sriov_numvfs", &d->numvfs);
	if (r < 0)
		d->numvfs = -1;
	if (r < 0 && r != -ENOENT && !d->unreadable)
		d->unreadable = "sriov_numvfs";
	read_group(dir, d);
	read_driver(dir, "driver", d);
	close(dir);
}

int gp_pci_open(const struct gp_paths *p, struct gp_pci *pci)
{
	char path[GP_PATH_MAX];

	memset(pci, 0, sizeof(*pci));
	pci->p = p;
	pci->fd = -1;
	if (gp_path(path, sizeof(path), "%s/bus/pci/devices", p->sysfs) < 0)
		return -ENAMETOOLONG;
	pci->fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return pci->fd < 0 ? -errno : 0;
}

/* Binary search: the index of ADDR, or where it would go (as -1 - index). */
static int lookup(const struct gp_pci *pci, const char *addr)
{
	int lo = 0, hi = pci->n;

	while (lo < hi) {
		int mid = lo + (hi - lo) / 2, c = strcmp(pci->v[mid]->addr, addr);

		if (!c)
			return mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1 - lo;
}

int gp_pci_index(const struct gp_pci *pci, const char *addr)
{
	int at = lookup(pci, addr);

	return at < 0 ? -1 : at;
}

/*
 * Functions are allocated in chunks, not one by one: klibc's malloc walks
 * its free list on every call, and thousands of small blocks interleaved
 * with freed directory names made each later opendir() cost a walk over
 * all of them.
 */
struct gp_chunk {
	struct gp_chunk *next;
	int used, cap;
	struct gp_dev dev[];
};

static struct gp_dev *new_dev(struct gp_pci *pci, int want)
{
	struct gp_chunk *c = pci->chunks;

	if (!c || c->used == c->cap) {
		int cap = want > 16 ? want : 16;

		c = calloc(1, sizeof(*c) + (size_t)cap * sizeof(c->dev[0]));
		if (!c)
			return NULL;
		c->cap = cap;
		c->next = pci->chunks;
		pci->chunks = c;
	}
	return &c->dev[c->used++];
}

/* A new function at position AT of the table; WANT sizes a new chunk. */
static struct gp_dev *insert(struct gp_pci *pci, int at, const char *addr, int want)
{
	struct gp_dev *d, **nv;

	if (pci->n == pci->cap) {
		int cap = pci->cap ? pci->cap * 2 : 16;

		if (cap < pci->n + want)
			cap = pci->n + want;
		nv = realloc(pci->v, (size_t)cap * sizeof(struct gp_dev *));
		if (!nv)
			return NULL;
		pci->v = nv;
		pci->cap = cap;
	}
	d = new_dev(pci, want);
	if (!d)
		return NULL;
	gp_copy(d->addr, addr, sizeof(d->addr));
	memmove(&pci->v[at + 1], &pci->v[at], (size_t)(pci->n - at) * sizeof(struct gp_dev *));
	pci->v[at] = d;
	pci->n++;
	return d;
}

/*
 * The addresses of the functions with id VENDOR:DEVICE, sorted. An id may
 * match anywhere, so this reads vendor and device of every function; it
 * takes them in the directory's order and sorts only the matches, which
 * keeps it linear in the number of functions.
 */
int gp_pci_match(struct gp_pci *pci, unsigned vendor, unsigned device, char ***addrs, int *n)
{
	char path[GP_PATH_MAX], **names;
	unsigned v, d;
	int cnt, i, k = 0, dir, r;

	*addrs = NULL;
	*n = 0;
	if (gp_path(path, sizeof(path), "%s/bus/pci/devices", pci->p->sysfs) < 0)
		return -ENAMETOOLONG;
	r = gp_list_dir_raw(path, &names, &cnt);
	if (r < 0)
		return r;
	/* The matches move to the front of names[]; k never passes i. */
	for (i = 0; i < cnt; i++) {
		char *name = names[i];
		int match = 0;

		names[i] = NULL;
		dir = gp_valid_addr(name) ? open_dev(pci, name) : -1;
		if (dir >= 0) {
			match = !read_ids(dir, &v, &d) && v == vendor && d == device;
			close(dir);
		}
		if (match)
			names[k++] = name;
		else
			free(name);
	}
	gp_sort_names(names, k);
	*addrs = names;
	*n = k;
	return 0;
}

/* The whole table, every function read: what `gpupass list` shows. */
int gp_pci_scan(const struct gp_paths *p, struct gp_pci *pci)
{
	char path[GP_PATH_MAX], **names;
	int n, i, r = gp_pci_open(p, pci);

	if (r < 0)
		return r;
	if (gp_path(path, sizeof(path), "%s/bus/pci/devices", p->sysfs) < 0)
		return -ENAMETOOLONG;
	r = gp_list_dir(path, &names, &n);
	if (r < 0)
		return r;
	/* Sorted names into an empty table: each one goes at the end. */
	for (i = 0; i < n && !r; i++)
		if (gp_valid_addr(names[i]) && !insert(pci, pci->n, names[i], n - i))
			r = -ENOMEM;
	gp_free_list(names, n);
	pci->listed = 1;
	for (i = 0; i < pci->n; i++)
		read_dev(pci->v[i], open_dev(pci, pci->v[i]->addr));
	return r;
}

void gp_pci_free(struct gp_pci *pci)
{
	struct gp_chunk *c;

	while ((c = pci->chunks)) {
		pci->chunks = c->next;
		free(c);
	}
	free(pci->v);
	pci->v = NULL;
	pci->n = pci->cap = 0;
	if (pci->fd >= 0)
		close(pci->fd);
	pci->fd = -1;
}

/*
 * The function at ADDR, read in full, or NULL when there is none (or no
 * memory to hold it, which planning also treats as absent). A name
 * not in the table is looked up in sysfs, unless the table was listed.
 */
struct gp_dev *gp_pci_find(struct gp_pci *pci, const char *addr)
{
	struct gp_dev *d;
	char c;
	int at = lookup(pci, addr), dir;

	if (at >= 0)
		return pci->v[at];
	if (pci->listed || !gp_valid_addr(addr))
		return NULL;
	dir = open_dev(pci, addr);
	/* No such name; a dangling link or a file there is a function planning must refuse. */
	if (dir == -ENOENT && readlinkat(pci->fd, addr, &c, 1) < 0)
		return NULL;
	d = insert(pci, -1 - at, addr, 1);
	if (!d) {
		if (dir >= 0)
			close(dir);
		return NULL;
	}
	read_dev(d, dir);
	return d;
}

/*
 * vfio-pci refuses anything whose header type is not 0, and host bridges
 * (class 0x0600) are type 0 but belong to the chipset: never touch either.
 */
int gp_is_bridge(const struct gp_dev *d)
{
	return d->header != 0 || (d->class >> 16) == 0x06;
}

/*
 * Devices whose loss takes the host down with them: its disks, its way in
 * (on a headless server the network is the only one), its screen, and the
 * chipset functions firmware and sensors rely on.
 */
const char *gp_critical_kind(const struct gp_dev *d)
{
	switch (d->class >> 16) {
	case 0x01:
		return "mass storage controller";
	case 0x02:
		return "network controller";
	case 0x03:
		return "display controller";
	}
	if ((d->class >> 8) == 0x0601)
		return "ISA/LPC bridge";
	if ((d->class >> 8) == 0x0c05)
		return "SMBus controller";
	return NULL;
}

/*
 * Classes whose host device is so often the very model a user passes (the
 * same SSD twice, the same NIC twice): an id entry matching more than one
 * device of these names none of them.
 */
int gp_same_model_risk(const struct gp_dev *d)
{
	return (d->class >> 16) == 0x01 || (d->class >> 16) == 0x02;
}

/* lspci's names (pci.ids) for base class << 8 | subclass, then for base classes alone. */
static const struct {
	unsigned class;
	const char *name;
} class_names[] = {
	{ 0x0000, "Non-VGA unclassified device" },
	{ 0x0001, "VGA compatible unclassified device" },
	{ 0x0100, "SCSI storage controller" },
	{ 0x0101, "IDE interface" },
	{ 0x0104, "RAID bus controller" },
	{ 0x0105, "ATA controller" },
	{ 0x0106, "SATA controller" },
	{ 0x0107, "Serial Attached SCSI controller" },
	{ 0x0108, "Non-Volatile memory controller" },
	{ 0x0200, "Ethernet controller" },
	{ 0x0207, "Infiniband controller" },
	{ 0x0280, "Network controller" },
	{ 0x0300, "VGA compatible controller" },
	{ 0x0302, "3D controller" },
	{ 0x0380, "Display controller" },
	{ 0x0400, "Multimedia video controller" },
	{ 0x0401, "Multimedia audio controller" },
	{ 0x0403, "Audio device" },
	{ 0x0480, "Multimedia controller" },
	{ 0x0500, "RAM memory" },
	{ 0x0580, "Memory controller" },
	{ 0x0600, "Host bridge" },
	{ 0x0601, "ISA bridge" },
	{ 0x0604, "PCI bridge" },
	{ 0x0680, "Bridge" },
	{ 0x0700, "Serial controller" },
	{ 0x0780, "Communication controller" },
	{ 0x0805, "SD Host controller" },
	{ 0x0806, "IOMMU" },
	{ 0x0880, "System peripheral" },
	{ 0x0c00, "FireWire (IEEE 1394)" },
	{ 0x0c03, "USB controller" },
	{ 0x0c05, "SMBus" },
	{ 0x0c80, "Serial bus controller" },
	{ 0x0d80, "Wireless controller" },
	{ 0x1000, "Network and computing encryption device" },
	{ 0x1080, "Encryption controller" },
	{ 0x1101, "Performance counters" },
	{ 0x1180, "Signal processing controller" },
	{ 0x1200, "Processing accelerators" },
	{ 0x1300, "Non-Essential Instrumentation" },
}, base_names[] = {
	{ 0x00, "Unclassified device" },
	{ 0x01, "Mass storage controller" },
	{ 0x02, "Network controller" },
	{ 0x03, "Display controller" },
	{ 0x04, "Multimedia controller" },
	{ 0x05, "Memory controller" },
	{ 0x06, "Bridge" },
	{ 0x07, "Communication controller" },
	{ 0x08, "Generic system peripheral" },
	{ 0x09, "Input device controller" },
	{ 0x0a, "Docking station" },
	{ 0x0b, "Processor" },
	{ 0x0c, "Serial bus controller" },
	{ 0x0d, "Wireless controller" },
	{ 0x0e, "Intelligent controller" },
	{ 0x0f, "Satellite communications controller" },
	{ 0x10, "Encryption controller" },
	{ 0x11, "Signal processing controller" },
	{ 0x12, "Processing accelerators" },
	{ 0x13, "Non-Essential Instrumentation" },
	{ 0x40, "Coprocessor" },
	{ 0xff, "Unassigned class" },
};

/* The name lspci gives the class, without needing pci.ids in the initramfs. */
const char *gp_class_name(unsigned class)
{
	size_t i;

	for (i = 0; i < sizeof(class_names) / sizeof(class_names[0]); i++)
		if (class_names[i].class == class >> 8)
			return class_names[i].name;
	for (i = 0; i < sizeof(base_names) / sizeof(base_names[0]); i++)
		if (base_names[i].class == class >> 16)
			return base_names[i].name;
	return "Unknown class";
}

/* SPDX-License-Identifier: MIT */
/*
 * `gpupass list`: every IOMMU group with its functions, the view every
 * passthrough guide asks users to produce with a script, plus which
 * functions the configuration targets.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupass.h"

#define PCIIDS_MAX (16 << 20)

struct names {
	char *buf;
	const char **vendor, **device;   /* per function of the table, NULL if unknown */
	int *order;                      /* function indexes sorted by vendor:device */
};

static const struct gp_pci *sort_pci;

static unsigned key_of(const struct gp_dev *d)
{
	return d->vendor << 16 | d->device;
}

static int cmp_key(const void *a, const void *b)
{
	unsigned ka = key_of(sort_pci->v[*(const int *)a]);
	unsigned kb = key_of(sort_pci->v[*(const int *)b]);

	return ka < kb ? -1 : ka > kb;
}

/* First position in order[] whose key is >= k. */
static int lower_bound(const struct gp_pci *pci, const int *order, unsigned k)
{
	int lo = 0, hi = pci->n;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (key_of(pci->v[order[mid]]) < k)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/*
 * One pass over pci.ids: "vvvv  Vendor" lines, then "\tdddd  Device" lines
 * under each; the class section ("C ...") ends the part we read. The file
 * has some 36,000 lines for a machine's few dozen ids: a line is looked at
 * only as far as its first bytes, and the device lines of a vendor no
 * function has are skipped without parsing.
 */
static void load_names(const struct gp_paths *p, const struct gp_pci *pci, struct names *nm)
{
	static const char *const where[] = { "/usr/share/misc/pci.ids", "/usr/share/hwdata/pci.ids" };
	char *line, *nl, *end;
	size_t len, i;
	long vendor = -1, v;
	int err, at, j;

	memset(nm, 0, sizeof(*nm));
	if (p->pciids)
		nm->buf = gp_read_file(p->pciids, PCIIDS_MAX, &len, &err);
	for (i = 0; !p->pciids && !nm->buf && i < sizeof(where) / sizeof(where[0]); i++)
		nm->buf = gp_read_file(where[i], PCIIDS_MAX, &len, &err);
	if (!nm->buf || !pci->n)
		return;
	nm->vendor = calloc((size_t)pci->n, sizeof(*nm->vendor));
	nm->device = calloc((size_t)pci->n, sizeof(*nm->device));
	nm->order = malloc((size_t)pci->n * sizeof(*nm->order));
	if (!nm->vendor || !nm->device || !nm->order)
		return;
	for (j = 0; j < pci->n; j++)
		nm->order[j] = j;
	sort_pci = pci;
	qsort(nm->order, (size_t)pci->n, sizeof(*nm->order), cmp_key);

	end = nm->buf + len;
	for (line = nm->buf; line < end; line = nl + 1) {
		nl = memchr(line, '\n', (size_t)(end - line));
		if (!nl)
			nl = end;
		*nl = '\0';
		if (line[0] == 'C' && line[1] == ' ')
			break;
		if (line[0] == '#' || nl - line < 7)
			continue;
		if (line[0] != '\t') {
			vendor = gp_hex_field(line, line + 4, 4, 4);
			if (vendor < 0)
				continue;
			at = lower_bound(pci, nm->order, (unsigned)vendor << 16);
			if (at == pci->n || pci->v[nm->order[at]]->vendor != (unsigned)vendor)
				vendor = -1;   /* no function of this vendor: skip its devices */
			for (j = at; j < pci->n && pci->v[nm->order[j]]->vendor == (unsigned)vendor; j++)
				nm->vendor[nm->order[j]] = line + 6;
			continue;
		}
		if (line[1] == '\t' || vendor < 0)
			continue;
		v = gp_hex_field(line + 1, line + 5, 4, 4);
		if (v < 0)
			continue;
		at = lower_bound(pci, nm->order, (unsigned)vendor << 16 | (unsigned)v);
		for (j = at; j < pci->n && key_of(pci->v[nm->order[j]]) == ((unsigned)vendor << 16 | (unsigned)v); j++)
			nm->device[nm->order[j]] = line + 7;
	}
}

static void free_names(struct names *nm)
{
	free(nm->buf);
	free(nm->vendor);
	free(nm->device);
	free(nm->order);
}

static const struct gp_entry *targeted_by(const struct gp_config *c, const struct gp_dev *d)
{
	char addr[GP_ADDR_MAX];
	int i;

	for (i = 0; i < c->n; i++) {
		const struct gp_entry *e = &c->v[i];

		if (e->flags & GP_E_ADDR) {
			gp_entry_addr(e, addr, sizeof(addr));
			if (strcmp(addr, d->addr))
				continue;
		}
		if ((e->flags & GP_E_ID) && (e->vendor != d->vendor || e->device != d->device))
			continue;
		return e;
	}
	return NULL;
}

/* D is function I of the table. */
static void show_dev(const struct gp_config *c, const struct names *nm, const struct gp_dev *d,
		     int i)
{
	const struct gp_entry *e = targeted_by(c, d);
	const char *vn = nm->vendor ? nm->vendor[i] : NULL;
	const char *dn = nm->device ? nm->device[i] : NULL;

	printf("  %s %s [%04x]: ", d->addr, gp_class_name(d->class), d->class >> 8);
	if (vn)
		printf("%s %s ", vn, dn ? dn : "Device");
	printf("[%04x:%04x] (%s)", d->vendor, d->device, d->driver[0] ? d->driver : "no driver");
	if (e)
		printf("  <- %s:%d", e->origin, e->line);
	putchar('\n');
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

int gp_cmd_list(const struct gp_paths *p, const struct gp_config *c)
{
	char path[GP_PATH_MAX], **groups, **members;
	struct gp_pci pci;
	struct names nm;
	int ng, nmem, i, j, k = 0, *ids, r, rc = GP_EXIT_OK;

	r = gp_pci_scan(p, &pci);
	if (r < 0) {
		gp_pci_free(&pci);
		fprintf(stderr, "gpupass: cannot read %s/bus/pci/devices: %s\n", p->sysfs, strerror(-r));
		return GP_EXIT_PLAN;
	}
	load_names(p, &pci, &nm);
	if (gp_path(path, sizeof(path), "%s/kernel/iommu_groups", p->sysfs) < 0 ||
	    gp_list_dir(path, &groups, &ng) < 0)
		ng = 0, groups = NULL;
	if (!ng) {
		printf("no IOMMU groups: the IOMMU is off (add intel_iommu=on or amd_iommu=on to the kernel command line)\n");
		for (i = 0; i < pci.n; i++)
			show_dev(c, &nm, pci.v[i], i);
		rc = GP_EXIT_PLAN;
	}
	ids = malloc((size_t)(ng ? ng : 1) * sizeof(*ids));
	for (i = 0, k = 0; ids && i < ng; i++) {
		/* Only numbered directories are groups: "abc" must not list group 0's members. */
		if (gp_parse_dec(groups[i], INT_MAX, &ids[k]) == 0)
			k++;
	}
	if (ids)
		qsort(ids, (size_t)k, sizeof(*ids), cmp_int);
	for (i = 0; ids && i < k; i++) {
		printf("IOMMU group %d\n", ids[i]);
		if (gp_group_members(p, ids[i], &members, &nmem) < 0)
			continue;
		for (j = 0; j < nmem; j++) {
			int at = gp_pci_index(&pci, members[j]);

			if (at >= 0)
				show_dev(c, &nm, pci.v[at], at);
			else
				printf("  %s (not a PCI function)\n", members[j]);
		}
		gp_free_list(members, nmem);
	}
	free(ids);
	gp_free_list(groups, ng);
	free_names(&nm);
	gp_pci_free(&pci);
	return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * `gpupass list`: every IOMMU group with its functions, the view every
 * passthrough guide asks users to produce with a script, plus what the
 * next boot will do to each function: the plan `check` shows, per line.
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

/* Does entry E name D? The same test for config entries and for -s / -d. */
static int entry_matches(const struct gp_entry *e, const struct gp_dev *d)
{
	char addr[GP_ADDR_MAX];

	if (e->flags & GP_E_ADDR) {
		gp_entry_addr(e, addr, sizeof(addr));
		if (strcmp(addr, d->addr))
			return 0;
	}
	return !(e->flags & GP_E_ID) || (e->vendor == d->vendor && e->device == d->device);
}

static const struct gp_entry *targeted_by(const struct gp_config *c, const struct gp_dev *d)
{
	int i;

	for (i = 0; i < c->n; i++)
		if (entry_matches(&c->v[i], d))
			return &c->v[i];
	return NULL;
}

/* What the next boot does to D, after its line: the plan's role for it, and which entry. */
static void show_fate(const struct gp_config *c, const struct gp_plan *plan, const struct gp_dev *d)
{
	const struct gp_entry *e = targeted_by(c, d), *mate = NULL;
	int i, j;

	if (c->errors) {
		if (e)
			printf("  not bound: the configuration has errors (%s:%d)", e->origin, e->line);
		return;
	}
	for (i = 0; i < plan->n; i++) {
		const struct gp_group *g = &plan->g[i];

		for (j = 0; j < g->n && !mate; j++)
			if (g->m[j].d && g->m[j].d->named)
				mate = g->m[j].d->named;
		for (j = 0; j < g->n; j++) {
			const struct gp_member *m = &g->m[j];

			if (m->d != d)
				continue;
			if (g->refused && e)
				printf("  refused (%s:%d; see gpupass check)", e->origin, e->line);
			else if (g->refused)
				printf("  refused with its group (see gpupass check)");
			else if (m->role == GP_ROLE_BRIDGE)
				printf("  bridge (stays on %s)", d->driver[0] ? d->driver : "no driver");
			else if (e)
				printf("  -> vfio-pci (%s:%d)", e->origin, e->line);
			else if (mate)
				printf("  -> vfio-pci (same group as %s:%d)", mate->origin, mate->line);
			else
				printf("  -> vfio-pci");
			return;
		}
		mate = NULL;
	}
	if (e && gp_is_bridge(d))
		printf("  bridge: not bound (%s:%d)", e->origin, e->line);
	else if (e)
		printf("  not bound (%s:%d; see gpupass check)", e->origin, e->line);
}

/* D is function I of the table. */
static void show_dev(const struct gp_config *c, const struct gp_plan *plan, const struct names *nm,
		     const struct gp_dev *d, int i)
{
	const char *vn = nm->vendor ? nm->vendor[i] : NULL;
	const char *dn = nm->device ? nm->device[i] : NULL;

	printf("  %s %s [%04x]: ", d->addr, gp_class_name(d->class), d->class >> 8);
	if (vn)
		printf("%s %s ", vn, dn ? dn : "Device");
	printf("[%04x:%04x] (%s)", d->vendor, d->device, d->driver[0] ? d->driver : "no driver");
	show_fate(c, plan, d);
	putchar('\n');
}

static int cmp_int(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return x < y ? -1 : x > y;
}

/* Does group ID hold a function FILTER matches? */
static int group_matches(const struct gp_paths *p, const struct gp_pci *pci, int id,
			 const struct gp_entry *filter)
{
	char **members;
	int n, j, at, hit = 0;

	if (gp_group_members(p, id, &members, &n) < 0)
		return 0;
	for (j = 0; j < n && !hit; j++) {
		at = gp_pci_index(pci, members[j]);
		hit = at >= 0 && entry_matches(filter, pci->v[at]);
	}
	gp_free_list(members, n);
	return hit;
}

/*
 * FILTER (list -s, -d) keeps the groups that hold a matching function,
 * whole: what else is in the group is what passthrough is about. Without
 * IOMMU groups it keeps the matching functions.
 */
int gp_cmd_list(const struct gp_paths *p, const struct gp_config *c, const struct gp_entry *filter)
{
	char path[GP_PATH_MAX], **groups, **members;
	struct gp_pci pci;
	struct gp_plan plan;
	struct names nm;
	int ng, nmem, i, j, k = 0, *ids, r, rc = GP_EXIT_OK;

	r = gp_pci_scan(p, &pci);
	if (r < 0) {
		gp_pci_free(&pci);
		fprintf(stderr, "error: cannot read %s/bus/pci/devices: %s\n", p->sysfs, strerror(-r));
		return GP_EXIT_PLAN;
	}
	/* The plan of `check`, built quietly: the caller sums up what went wrong. */
	memset(&plan, 0, sizeof(plan));
	if (!c->errors)
		gp_plan_build(p, c, &pci, &plan, GP_WARN);
	load_names(p, &pci, &nm);
	if (gp_path(path, sizeof(path), "%s/kernel/iommu_groups", p->sysfs) < 0 ||
	    gp_list_dir(path, &groups, &ng) < 0)
		ng = 0, groups = NULL;
	if (!ng) {
		fflush(stdout);
		fprintf(stderr, "error: no IOMMU groups: the IOMMU is off (add intel_iommu=on or amd_iommu=on to the kernel command line)\n");
		for (i = 0; i < pci.n; i++)
			if (entry_matches(filter, pci.v[i]))
				show_dev(c, &plan, &nm, pci.v[i], i);
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
		if (filter->flags && !group_matches(p, &pci, ids[i], filter))
			continue;
		printf("IOMMU group %d\n", ids[i]);
		if (gp_group_members(p, ids[i], &members, &nmem) < 0)
			continue;
		for (j = 0; j < nmem; j++) {
			int at = gp_pci_index(&pci, members[j]);

			if (at >= 0)
				show_dev(c, &plan, &nm, pci.v[at], at);
			else
				printf("  %s (not a PCI function)\n", members[j]);
		}
		gp_free_list(members, nmem);
	}
	free(ids);
	gp_free_list(groups, ng);
	free_names(&nm);
	gp_plan_free(&plan);
	gp_pci_free(&pci);
	return rc;
}

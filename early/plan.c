/* SPDX-License-Identifier: MIT */
/*
 * Planning: entries -> functions -> IOMMU groups -> what to bind.
 *
 * The plan is a value: `check` prints it, `bind` carries it out, and a dry
 * run shows exactly what the boot would do. Every doubt resolves to binding
 * nothing for the target concerned, with a message saying what to do.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupass.h"

void gp_dev_describe(const struct gp_dev *d, char *buf, size_t len)
{
	snprintf(buf, len, "%s [%04x:%04x] %s", d->addr, d->vendor, d->device,
		 gp_class_name(d->class));
}

static const char *driver_of(const struct gp_dev *d)
{
	return d->driver[0] ? d->driver : "no driver";
}

/* DOMAIN:BUS:DEV of two function addresses are the same: one device (one card). */
static int same_device(const char *a, const char *b)
{
	const char *dot = strrchr(a, '.');

	return dot && !strncmp(a, b, (size_t)(dot - a + 1));
}

static struct gp_group *find_group(struct gp_plan *plan, int id)
{
	int i;

	for (i = 0; i < plan->n; i++)
		if (plan->g[i].id == id)
			return &plan->g[i];
	return NULL;
}

/* The plan's group ID, added (empty) when it is not there yet; NULL when out of memory. */
struct gp_group *gp_plan_group(struct gp_plan *plan, int id)
{
	struct gp_group *g = find_group(plan, id), *ng;

	if (g)
		return g;
	ng = realloc(plan->g, (size_t)(plan->n + 1) * sizeof(*ng));
	if (!ng)
		return NULL;
	plan->g = ng;
	g = &plan->g[plan->n++];
	memset(g, 0, sizeof(*g));
	g->id = id;
	return g;
}

/*
 * One function an entry resolved to: take its group into the plan, or say
 * why not. NAMES is 0 for an id entry's match that the id does not name
 * (see resolve()): its group is planned, and refused unless another entry
 * names the function.
 */
static void target(const struct gp_entry *e, struct gp_dev *d, int names, struct gp_pci *pci,
		   struct gp_plan *plan)
{
	struct gp_group *g;
	char desc[128];

	if (d->unreadable) {
		gp_log(GP_ERR, "%s:%d: cannot read %s of %s: binding nothing for this %s",
		       e->origin, e->line, d->unreadable, d->addr,
		       e->flags & GP_E_ADDR ? "entry" : "device");
		d->doubt = 1;
		plan->skipped++;
		return;
	}
	gp_dev_describe(d, desc, sizeof(desc));
	if (gp_is_bridge(d)) {
		gp_log(GP_ERR, "%s:%d: %s is a bridge: bridges stay on their driver; name the device behind it",
		       e->origin, e->line, desc);
		plan->skipped++;
		return;
	}
	if (d->group < 0) {
		gp_log(GP_ERR, "%s:%d: %s has no IOMMU group: the IOMMU is off; %s; binding nothing",
		       e->origin, e->line, desc, gp_iommu_advice(pci));
		plan->skipped++;
		return;
	}
	if (names && !d->named)
		d->named = e;
	if (!names && !d->unsure)
		d->unsure = e;
	g = gp_plan_group(plan, d->group);
	if (!g) {
		gp_log(GP_ERR, "%s:%d: out of memory", e->origin, e->line);
		plan->skipped++;
		return;
	}
	if (names && (e->flags & GP_E_ALLOW))
		g->allow = 1;
	gp_log(GP_INFO, "%s:%d: %s (%s) is in IOMMU group %d", e->origin, e->line, desc,
	       driver_of(d), d->group);
}

/*
 * Whether an id entry names one of its matches. It names every match, with
 * two exceptions for devices the host's own is so often the same model as:
 * storage and network functions when the id matches such functions in more
 * than one device (the host's root disk or its link may be the twin), and
 * the boot VGA device (the host's console) unless it is the only match.
 */
static int id_names(const struct gp_dev *d, int found, int risky_devices)
{
	if (d->unreadable)
		return 1;   /* target() refuses it for what it is */
	if (gp_same_model_risk(d) && risky_devices > 1)
		return 0;
	return !(d->boot_vga == 1 && found > 1);
}

/*
 * ABSENT: the level for a target that is not there. At boot a warning (an
 * eGPU may be unplugged, and errors reach the console under quiet); for
 * `check` an error, since it makes the exit status 3.
 */
static void resolve(const struct gp_entry *e, struct gp_pci *pci, struct gp_plan *plan, int absent)
{
	char addr[GP_ADDR_MAX];
	const char *last = NULL;
	struct gp_dev *d;
	char **addrs;
	int i, n, r, found = 0, risky = 0;

	if (e->flags & GP_E_ADDR) {
		gp_entry_addr(e, addr, sizeof(addr));
		d = gp_pci_find(pci, addr);
		if (!d) {
			gp_log(absent, "%s:%d: no PCI device at %s: nothing to bind for this entry",
			       e->origin, e->line, addr);
			plan->skipped++;
			return;
		}
		if ((e->flags & GP_E_ID) && !d->unreadable &&
		    (d->vendor != e->vendor || d->device != e->device)) {
			/* Fail closed: the card was moved or replaced since the entry was written. */
			gp_log(GP_ERR, "%s:%d: %s is [%04x:%04x], not [%04x:%04x]: the card was moved or replaced; binding nothing for this entry (fix the entry, then regenerate the initramfs)",
			       e->origin, e->line, addr, d->vendor, d->device, e->vendor, e->device);
			d->doubt = 1;
			plan->skipped++;
			return;
		}
		target(e, d, 1, pci, plan);
		return;
	}
	/* An id may match anywhere: only this kind of entry reads every function. */
	r = gp_pci_match(pci, e->vendor, e->device, &addrs, &n);
	if (r < 0) {
		gp_log(GP_ERR, "%s:%d: cannot list %s/bus/pci/devices: %s; binding nothing for this entry",
		       e->origin, e->line, pci->p->sysfs, strerror(-r));
		plan->skipped++;
		return;
	}
	/*
	 * Count first: whether the id names a match depends on the others. The
	 * matches are sorted, so the functions of one device (the ports of one
	 * NIC) are neighbours and count once.
	 */
	for (i = 0; i < n; i++) {
		d = gp_pci_find(pci, addrs[i]);
		if (!d)
			continue;   /* gone since it was matched, or no memory */
		found++;
		if (!d->unreadable && gp_same_model_risk(d)) {
			if (!last || !same_device(last, d->addr))
				risky++;
			last = d->addr;
		}
	}
	for (i = 0; i < n; i++) {
		d = gp_pci_find(pci, addrs[i]);
		if (d)
			target(e, d, id_names(d, found, risky), pci, plan);
	}
	gp_free_list(addrs, n);
	if (!found) {
		gp_log(absent, "%s:%d: no device [%04x:%04x] present: nothing to bind for this entry",
		       e->origin, e->line, e->vendor, e->device);
		plan->skipped++;
	}
}

static int refuse(struct gp_group *g, struct gp_plan *plan)
{
	if (!g->refused) {
		g->refused = 1;
		plan->skipped++;
	}
	return 0;
}

/* Decide the role of one member; returns 0 when the group must be refused. */
static int classify(struct gp_group *g, struct gp_member *m, struct gp_plan *plan)
{
	struct gp_dev *d = m->d;
	const char *crit;
	char desc[128];
	int i;

	m->role = GP_ROLE_FOREIGN;
	if (!d) {
		gp_log(GP_ERR, "group %d: refused: member %s is not a PCI function; binding nothing in this group",
		       g->id, m->name);
		return refuse(g, plan);
	}
	if (d->unreadable) {
		gp_log(GP_ERR, "group %d: refused: cannot read %s of member %s; binding nothing in this group",
		       g->id, d->unreadable, d->addr);
		return refuse(g, plan);
	}
	/* The group's list and the member's own link disagree: sysfs changed under us. */
	if (d->group != g->id) {
		gp_log(GP_ERR, "group %d: refused: member %s is not in this group by its own iommu_group link; binding nothing in this group",
		       g->id, d->addr);
		return refuse(g, plan);
	}
	gp_dev_describe(d, desc, sizeof(desc));
	if (d->doubt) {
		gp_log(GP_ERR, "group %d: refused: %s failed its entry's check; binding nothing in this group",
		       g->id, desc);
		return refuse(g, plan);
	}
	if (d->unsure && !d->named) {
		const struct gp_entry *e = d->unsure;

		if (d->boot_vga == 1)
			gp_log(GP_ERR, "group %d: refused: %s (on %s) is the boot VGA device (the host's console), and %04x:%04x (%s:%d) matches other cards too; binding nothing in this group (to pass it too, add the line %s)",
			       g->id, desc, driver_of(d), e->vendor, e->device, e->origin, e->line, d->addr);
		else
			gp_log(GP_ERR, "group %d: refused: %s (on %s) is one of several devices matching %04x:%04x (%s:%d), which names none of them since the host's own may be one; binding nothing in this group (write the address of the one you mean instead, e.g. the line %s; gpupass list shows them)",
			       g->id, desc, driver_of(d), e->vendor, e->device, e->origin, e->line, d->addr);
		return refuse(g, plan);
	}
	crit = gp_critical_kind(d);
	if (crit && !d->named && !g->allow) {
		/* A bridge cannot be named (vfio-pci refuses it): only allow-critical passes it. */
		if (gp_is_bridge(d))
			gp_log(GP_ERR, "group %d: refused: it holds %s (%s, on %s), which the host needs; binding nothing in this group (add allow-critical to the entry to override)",
			       g->id, desc, crit, driver_of(d));
		else
			gp_log(GP_ERR, "group %d: refused: it holds %s (%s, on %s), which the host needs and no entry names; binding nothing in this group (to pass it too, add the line %s, or allow-critical to the entry)",
			       g->id, desc, crit, driver_of(d), d->addr);
		return refuse(g, plan);
	}
	if (gp_is_bridge(d)) {
		/*
		 * A bridge stays on its driver; one that uses the DMA API (anything
		 * but these) makes the kernel refuse the whole group to a VM.
		 */
		if (d->driver[0] && strcmp(d->driver, "pcieport") && strcmp(d->driver, "pci-stub") &&
		    strcmp(d->driver, "vfio-pci")) {
			gp_log(GP_ERR, "group %d: refused: %s is on %s, and a VM cannot attach a group with a member on a host driver; binding nothing in this group (blacklist the module of %s, or leave this group to the host)",
			       g->id, desc, d->driver, d->driver);
			return refuse(g, plan);
		}
		m->role = GP_ROLE_BRIDGE;
		return 1;
	}
	if (d->numvfs > 0) {
		gp_log(GP_ERR, "group %d: refused: %s has %d SR-IOV virtual functions enabled, and vfio-pci refuses it; binding nothing in this group (write 0 to its sriov_numvfs first)",
		       g->id, desc, d->numvfs);
		return refuse(g, plan);
	}
	m->role = GP_ROLE_BIND;
	g->nbind++;
	if (d->boot_vga == 1)
		gp_log(GP_WARN, "group %d: %s is the boot VGA device: its console goes dark when vfio-pci takes it",
		       g->id, desc);
	if (d->named)
		return 1;
	for (i = 0; i < g->n; i++)
		if (g->m[i].d && g->m[i].d->named && same_device(g->m[i].d->addr, d->addr))
			return 1;
	/* Not part of the card: the group forces it on us, so say what the host loses. */
	gp_log(GP_WARN, "group %d: %s (on %s) is not part of the card but shares its IOMMU group: it goes to vfio-pci too",
	       g->id, desc, driver_of(d));
	return 1;
}

static int is_member(const struct gp_group *g, const struct gp_dev *d)
{
	int i;

	for (i = 0; i < g->n; i++)
		if (g->m[i].d == d)
			return 1;
	return 0;
}

static void plan_group(const struct gp_paths *p, struct gp_group *g, struct gp_pci *pci,
		       struct gp_plan *plan)
{
	char **names;
	int n, i, r;

	r = gp_group_members(p, g->id, &names, &n);
	if (r < 0 || n == 0) {
		gp_log(GP_ERR, "group %d: refused: cannot list its members (%s); binding nothing in this group",
		       g->id, r < 0 ? strerror(-r) : "empty");
		refuse(g, plan);
		return;
	}
	g->m = calloc((size_t)n, sizeof(*g->m));
	if (!g->m) {
		gp_free_list(names, n);
		refuse(g, plan);
		return;
	}
	g->n = n;
	/* Find every member first: whether one is part of the card depends on the others. */
	for (i = 0; i < n; i++) {
		gp_copy(g->m[i].name, names[i], sizeof(g->m[i].name));
		g->m[i].d = gp_pci_find(pci, names[i]);
	}
	gp_free_list(names, n);
	/*
	 * A target whose iommu_group link names this group but which the group
	 * does not list: binding the listed members would leave the target out
	 * and take the others for nothing.
	 */
	for (i = 0; i < pci->n; i++) {
		const struct gp_dev *t = pci->v[i];

		if ((t->named || t->unsure) && t->group == g->id && !is_member(g, t)) {
			gp_log(GP_ERR, "group %d: refused: %s is not among its members, though its iommu_group link names it; binding nothing in this group",
			       g->id, t->addr);
			refuse(g, plan);
		}
	}
	/* Classify every member, so that every reason for a refusal is shown at once. */
	for (i = 0; i < n; i++)
		classify(g, &g->m[i], plan);
	if (!g->refused && !g->nbind) {
		gp_log(GP_ERR, "group %d: refused: nothing to bind (only bridges)", g->id);
		refuse(g, plan);
	}
	if (g->refused)
		return;
	/* Only now is it certain that they go: say what allow-critical takes. */
	for (i = 0; i < n; i++) {
		const struct gp_dev *d = g->m[i].d;
		const char *crit = gp_critical_kind(d);
		char desc[128];

		if (g->m[i].role != GP_ROLE_BIND || !crit || d->named)
			continue;
		gp_dev_describe(d, desc, sizeof(desc));
		gp_log(GP_WARN, "group %d: %s (%s, on %s) goes to vfio-pci too, by allow-critical",
		       g->id, desc, crit, driver_of(d));
	}
}

int gp_plan_build(const struct gp_paths *p, const struct gp_config *c,
		  struct gp_pci *pci, struct gp_plan *plan, int absent)
{
	int i;

	memset(plan, 0, sizeof(*plan));
	for (i = 0; i < c->n; i++)
		resolve(&c->v[i], pci, plan, absent);
	for (i = 0; i < plan->n; i++)
		plan_group(p, &plan->g[i], pci, plan);
	return 0;
}

void gp_plan_free(struct gp_plan *plan)
{
	int i;

	for (i = 0; i < plan->n; i++)
		free(plan->g[i].m);
	free(plan->g);
	memset(plan, 0, sizeof(*plan));
}

/* The plan as `check` and a dry run show it. */
void gp_plan_show(const struct gp_plan *plan, int dry_run)
{
	const char *pre = dry_run ? "dry-run: " : "";
	char desc[128];
	int i, j;

	for (i = 0; i < plan->n; i++) {
		const struct gp_group *g = &plan->g[i];

		if (g->refused)
			continue;
		gp_log(GP_NOTICE, "%sgroup %d: would bind %d function%s", pre, g->id, g->nbind,
		       g->nbind == 1 ? "" : "s");
		for (j = 0; j < g->n; j++) {
			const struct gp_member *m = &g->m[j];

			gp_dev_describe(m->d, desc, sizeof(desc));
			if (m->role == GP_ROLE_BIND)
				gp_log(GP_INFO, "%sgroup %d: %s: %s -> vfio-pci", pre, g->id, desc,
				       driver_of(m->d));
			else
				gp_log(GP_INFO, "%sgroup %d: %s: bridge, stays on %s", pre, g->id, desc,
				       driver_of(m->d));
		}
	}
}

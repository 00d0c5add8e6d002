/* SPDX-License-Identifier: MIT */
/*
 * Switching at runtime, a whole IOMMU group at a time:
 *   release  vfio-pci -> the host drivers (CUDA, a game, a second screen)
 *   claim    the host drivers -> vfio-pci (before a VM starts)
 * Claim is the boot's bind through the same planner and safety policy.
 * Release undoes it in the order the kernel needs:
 *   1. clear driver_override   (or vfio-pci would take the function again)
 *   2. unbind from vfio-pci
 *   3. modprobe the modalias   (what udev does on an add event; unbinding
 *                               vfio-pci raises none, so nothing else loads
 *                               a host driver that was never loaded)
 *   4. drivers_probe           (for host drivers already loaded)
 *   5. read the driver link    (drivers_probe succeeds even when none matched)
 * Both are all or nothing: a bad target, a refused group or a group a VM
 * holds leaves every group as it was; a group that would end up split
 * between vfio-pci and the host drivers is put back the way it came.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupass.h"

#define VFIO "vfio-pci"
#define ORIGIN "command line"

static const char *driver_of(const struct gp_dev *d)
{
	return d->driver[0] ? d->driver : "no driver";
}

static const char *plural(int n)
{
	return n == 1 ? "" : "s";
}

static int dev_attr(const struct gp_paths *p, const struct gp_dev *d, const char *attr,
		    char *buf, size_t len)
{
	return gp_path(buf, len, "%s/bus/pci/devices/%s/%s", p->sysfs, d->addr, attr);
}

/* Each argument is one entry, as a config line or gpupass.add= holds one. */
static void parse_targets(const struct gp_switch *s, struct gp_config *c)
{
	struct gp_entry e;
	char buf[GP_LINE_MAX];
	const char *msg, *bad;
	int i;

	for (i = 0; i < s->n; i++) {
		memset(&e, 0, sizeof(e));
		if (strlen(s->targets[i]) >= GP_LINE_MAX) {
			gp_log(GP_ERR, ORIGIN ":%d: target longer than %d characters", i + 1,
			       GP_LINE_MAX - 1);
			c->errors++;
			continue;
		}
		gp_copy(buf, s->targets[i], sizeof(buf));
		gp_copy(e.text, buf, sizeof(e.text));
		e.origin = ORIGIN;
		e.line = i + 1;
		msg = gp_parse_target(buf, &e, &bad);
		if (msg) {
			gp_log(GP_ERR, ORIGIN ":%d: %s: '%s'", i + 1, msg, bad);
			c->errors++;
		} else if (gp_config_add(c, &e) < 0) {
			gp_log(GP_ERR, ORIGIN ":%d: out of memory", i + 1);
			c->errors++;
		}
	}
}

/* ---- release: which groups ---- */

static void release_target(const struct gp_entry *e, struct gp_dev *d, struct gp_plan *plan)
{
	struct gp_group *g;
	char desc[128];

	if (d->unreadable) {
		gp_log(GP_ERR, "%s:%d: cannot read %s of %s: releasing nothing", e->origin, e->line,
		       d->unreadable, d->addr);
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
		gp_log(GP_ERR, "%s:%d: %s has no IOMMU group: gpupass never had it; releasing nothing",
		       e->origin, e->line, desc);
		plan->skipped++;
		return;
	}
	if (!d->named)
		d->named = e;
	g = gp_plan_group(plan, d->group);
	if (!g) {
		gp_log(GP_ERR, "%s:%d: out of memory", e->origin, e->line);
		plan->skipped++;
		return;
	}
	if (e->flags & GP_E_ALLOW)
		g->allow = 1;
}

static void release_resolve(const struct gp_entry *e, struct gp_pci *pci, struct gp_plan *plan)
{
	char addr[GP_ADDR_MAX];
	struct gp_dev *d;
	char **addrs;
	int i, n, found = 0;

	if (e->flags & GP_E_ADDR) {
		gp_entry_addr(e, addr, sizeof(addr));
		d = gp_pci_find(pci, addr);
		if (!d) {
			gp_log(GP_ERR, "%s:%d: no PCI device at %s: releasing nothing", e->origin,
			       e->line, addr);
			plan->skipped++;
		} else if ((e->flags & GP_E_ID) && !d->unreadable &&
			   (d->vendor != e->vendor || d->device != e->device)) {
			gp_log(GP_ERR, "%s:%d: %s is [%04x:%04x], not [%04x:%04x]: releasing nothing",
			       e->origin, e->line, addr, d->vendor, d->device, e->vendor, e->device);
			plan->skipped++;
		} else {
			release_target(e, d, plan);
		}
		return;
	}
	if (gp_pci_match(pci, e->vendor, e->device, &addrs, &n) < 0)
		n = 0;
	for (i = 0; i < n; i++) {
		d = gp_pci_find(pci, addrs[i]);
		if (d) {
			found++;
			release_target(e, d, plan);
		}
	}
	gp_free_list(addrs, n);
	if (!found) {
		gp_log(GP_ERR, "%s:%d: no device [%04x:%04x] present: releasing nothing", e->origin,
		       e->line, e->vendor, e->device);
		plan->skipped++;
	}
}

static void refuse(struct gp_group *g, struct gp_plan *plan)
{
	if (!g->refused) {
		g->refused = 1;
		plan->skipped++;
	}
}

/*
 * Release takes only groups gpupass could have bound: the same refusals as
 * the planner's (plan.c), so a release never hands the host a chipset
 * function or touches a bridge.
 */
static void release_members(const struct gp_paths *p, struct gp_group *g, struct gp_pci *pci,
			    struct gp_plan *plan)
{
	const char *crit;
	char **names, desc[128];
	int n, i, r;

	r = gp_group_members(p, g->id, &names, &n);
	if (r == 0 && n > 0)
		g->m = calloc((size_t)n, sizeof(*g->m));
	if (!g->m) {
		gp_log(GP_ERR, "group %d: not released: cannot list its members (%s)", g->id,
		       r < 0 ? strerror(-r) : n ? "out of memory" : "empty");
		if (r == 0)
			gp_free_list(names, n);
		refuse(g, plan);
		return;
	}
	g->n = n;
	for (i = 0; i < n; i++) {
		struct gp_member *m = &g->m[i];

		gp_copy(m->name, names[i], sizeof(m->name));
		m->d = gp_pci_find(pci, names[i]);
		m->role = GP_ROLE_FOREIGN;
		if (!m->d || m->d->unreadable || m->d->group != g->id) {
			gp_log(GP_ERR, "group %d: not released: member %s is %s", g->id, m->name,
			       !m->d ? "not a PCI function" : m->d->unreadable ? "unreadable" :
			       "not in this group by its own iommu_group link");
			refuse(g, plan);
			continue;
		}
		gp_dev_describe(m->d, desc, sizeof(desc));
		crit = gp_critical_kind(m->d);
		if (crit && !m->d->named && !g->allow) {
			gp_log(GP_ERR, "group %d: not released: it holds %s (%s), which no target names (name it, or add allow-critical to the target)",
			       g->id, desc, crit);
			refuse(g, plan);
			continue;
		}
		if (gp_is_bridge(m->d)) {
			m->role = GP_ROLE_BRIDGE;
			continue;
		}
		m->role = GP_ROLE_BIND;
		g->nbind++;
	}
	gp_free_list(names, n);
	if (!g->refused && !g->nbind) {
		gp_log(GP_ERR, "group %d: not released: only bridges", g->id);
		refuse(g, plan);
	}
}

/* ---- release: carrying it out ---- */

static int read_override(const struct gp_paths *p, const struct gp_dev *d)
{
	char path[GP_PATH_MAX], cur[GP_NAME_MAX];

	return dev_attr(p, d, "driver_override", path, sizeof(path)) == 0 &&
	       gp_read_attr(path, cur, sizeof(cur)) >= 0 && !strcmp(cur, VFIO);
}

/* Writing a lone newline clears an override (sysfs-bus-pci ABI). */
static int write_override(const struct gp_paths *p, const struct gp_dev *d, const char *text)
{
	char path[GP_PATH_MAX];

	if (dev_attr(p, d, "driver_override", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	return gp_write_attr(path, text);
}

static void write_probe(const struct gp_paths *p, const struct gp_dev *d)
{
	char path[GP_PATH_MAX];

	if (gp_path(path, sizeof(path), "%s/bus/pci/drivers_probe", p->sysfs) == 0)
		gp_write_attr(path, d->addr);
}

/* Load the function's host driver by its modalias, as udev would on an add event. */
static void load_host_driver(const struct gp_paths *p, const struct gp_group *g,
			     const struct gp_dev *d, const char *modprobe)
{
	char path[GP_PATH_MAX], alias[GP_PATH_MAX];
	char *argv[] = { (char *)"modprobe", (char *)"-b", alias, NULL };
	int r;

	if (!modprobe || dev_attr(p, d, "modalias", path, sizeof(path)) < 0 ||
	    gp_read_attr(path, alias, sizeof(alias)) <= 0)
		return;
	r = gp_run(modprobe, argv, GP_CHILD_TIMEOUT);
	if (r == -ETIMEDOUT)
		gp_log(GP_ERR, "group %d: %s: %s %s did not finish in %d s: killed it", g->id,
		       d->addr, modprobe, alias, GP_CHILD_TIMEOUT);
	else if (r < 0)
		gp_log(GP_ERR, "group %d: %s: cannot run %s: %s", g->id, d->addr, modprobe,
		       strerror(-r));
	else if (r == 0)
		gp_log(GP_INFO, "group %d: %s: modprobe -b %s", g->id, d->addr, alias);
	else
		gp_log(GP_INFO, "group %d: %s: modprobe -b %s found no module (exit status %d)",
		       g->id, d->addr, alias, r == 256 ? -1 : r);
}

/*
 * Put back what steps 1 and 2 did: the overrides cleared, the functions
 * unbound; vfio-pci takes those again on drivers_probe.
 */
static void undo_release(const struct gp_paths *p, struct gp_group *g, const char *cleared,
			 const char *unbound)
{
	int i;

	for (i = 0; i < g->n; i++) {
		if (cleared[i])
			write_override(p, g->m[i].d, VFIO);
		if (unbound[i])
			write_probe(p, g->m[i].d);
	}
	gp_log(GP_ERR, "group %d: not released: put back on vfio-pci (a split group is unusable)",
	       g->id);
}

/* Returns 0 when no function is left on vfio-pci, -1 when the group was put back. */
static int release_group(const struct gp_paths *p, struct gp_group *g)
{
	char path[GP_PATH_MAX], *cleared, *unbound;
	const char *modprobe = gp_find_modprobe(p);
	int i, r, host = 0, left = 0, rc = -1;

	cleared = calloc((size_t)g->n, 2);
	if (!cleared)
		return -1;
	unbound = cleared + g->n;
	for (i = 0; i < g->n; i++) {
		struct gp_dev *d = g->m[i].d;

		if (g->m[i].role != GP_ROLE_BIND || !read_override(p, d))
			continue;
		r = write_override(p, d, "\n");
		if (r < 0) {
			gp_log(GP_ERR, "group %d: %s: cannot clear driver_override: %s", g->id, d->addr,
			       strerror(-r));
			undo_release(p, g, cleared, unbound);
			goto out;
		}
		cleared[i] = 1;
		gp_log(GP_INFO, "group %d: %s: driver_override cleared", g->id, d->addr);
	}
	for (i = 0; i < g->n; i++) {
		struct gp_dev *d = g->m[i].d;

		if (g->m[i].role != GP_ROLE_BIND)
			continue;
		gp_pci_refresh_driver(p, d);
		if (strcmp(d->driver, VFIO))
			continue;
		r = dev_attr(p, d, "driver/unbind", path, sizeof(path));
		if (r == 0)
			r = gp_write_attr(path, d->addr);
		if (r < 0) {
			gp_log(GP_ERR, "group %d: %s: cannot unbind from vfio-pci: %s", g->id, d->addr,
			       strerror(-r));
			undo_release(p, g, cleared, unbound);
			goto out;
		}
		unbound[i] = 1;
		gp_log(GP_INFO, "group %d: %s: unbound from vfio-pci", g->id, d->addr);
	}
	if (!modprobe)
		gp_log(GP_WARN, "no modprobe found: host drivers that are not loaded stay unloaded");
	for (i = 0; i < g->n; i++) {
		struct gp_dev *d = g->m[i].d;

		if (g->m[i].role != GP_ROLE_BIND)
			continue;
		gp_pci_refresh_driver(p, d);
		if (d->driver[0] && !unbound[i]) {
			host += strcmp(d->driver, VFIO) != 0;
			left += !strcmp(d->driver, VFIO);
			gp_log(GP_INFO, "group %d: %s: already on %s", g->id, d->addr, d->driver);
			continue;
		}
		load_host_driver(p, g, d, modprobe);
		gp_pci_refresh_driver(p, d);
		if (!d->driver[0]) {
			write_probe(p, d);
			gp_pci_refresh_driver(p, d);
		}
		if (!strcmp(d->driver, VFIO)) {
			left++;
			gp_log(GP_ERR, "group %d: %s: vfio-pci took it again", g->id, d->addr);
		} else if (d->driver[0]) {
			host++;
			gp_log(GP_NOTICE, "group %d: %s: released to %s", g->id, d->addr, d->driver);
		} else {
			gp_log(GP_WARN, "group %d: %s: released; no host driver took it (no module matches it)",
			       g->id, d->addr);
		}
	}
	gp_log(left ? GP_ERR : GP_NOTICE, "group %d: released: %d/%d functions on host drivers%s",
	       g->id, host, g->nbind, left ? ", some still on vfio-pci" : "");
	rc = left ? -1 : 0;
out:
	free(cleared);
	return rc;
}

/* ---- the record ---- */

struct record {
	struct gp_status st;
	int ok;
};

static void record_open(const struct gp_paths *p, struct record *r, int dry_run)
{
	int e;

	r->ok = 0;
	memset(&r->st, 0, sizeof(r->st));
	if (dry_run)
		return;
	e = gp_status_load(p, &r->st);
	if (e == -ENOENT)
		gp_log(GP_NOTICE, "no %s/status (gpupass did not run at boot): gpupass status will not show this switch",
		       p->rundir);
	else if (e < 0)
		gp_log(GP_ERR, "%s/status is damaged: not updated (gpupass status shows what is wrong)",
		       p->rundir);
	else
		r->ok = 1;
}

static void record_set(struct record *r, const struct gp_group *g, const char *state)
{
	if (r->ok && gp_status_set_group(&r->st, g, state) < 0) {
		gp_log(GP_ERR, "group %d: out of memory for the status record", g->id);
		r->ok = 0;
	}
}

static void record_close(const struct gp_paths *p, struct record *r, int changed)
{
	if (r->ok && changed)
		gp_status_save(p, &r->st);
	gp_status_free(&r->st);
}

/* ---- release ---- */

/* release --all: every group the record has on vfio-pci; the boot's plan already allowed them. */
static int record_groups(const struct gp_paths *p, struct gp_plan *plan)
{
	struct gp_status st;
	struct gp_group *g;
	int i, e;

	e = gp_status_load(p, &st);
	if (e < 0) {
		gp_log(e == -ENOENT ? GP_NOTICE : GP_ERR, "%s/status: %s: no group to release",
		       p->rundir, e == -ENOENT ? "no record (gpupass did not run at boot)" : "damaged");
		return e == -ENOENT ? 0 : -1;
	}
	for (i = 0; i < st.ng; i++) {
		const char *s = st.g[i].state;

		if (strcmp(s, "bound") && strcmp(s, "partial") && strcmp(s, "claimed"))
			continue;
		g = gp_plan_group(plan, st.g[i].id);
		if (!g) {
			gp_status_free(&st);
			return -1;
		}
		g->allow = 1;
	}
	gp_status_free(&st);
	return 0;
}

/* Every group first: if a VM holds any of them, none is released. */
static int check_holders(const struct gp_paths *p, const struct gp_plan *plan)
{
	char comm[GP_NAME_MAX];
	int i, r, pid, rc = GP_EXIT_OK;

	for (i = 0; i < plan->n; i++) {
		r = gp_group_holder(p, &plan->g[i], &pid, comm, sizeof(comm));
		if (r == 1) {
			gp_log(GP_ERR, "group %d: in use: process %d (%s) holds %s/vfio/%d open; shut the VM down, then release",
			       plan->g[i].id, pid, comm, p->devdir, plan->g[i].id);
			rc = GP_EXIT_BUSY;
		} else if (r < 0) {
			gp_log(GP_ERR, "group %d: cannot tell whether a VM holds it: cannot read the open files under %s: %s (run as root)",
			       plan->g[i].id, p->procdir, strerror(-r));
			if (rc == GP_EXIT_OK)
				rc = GP_EXIT_PLAN;
		}
	}
	return rc;
}

static void show_release(const struct gp_group *g)
{
	char desc[128];
	int j;

	gp_log(GP_NOTICE, "dry-run: group %d: would release %d function%s", g->id, g->nbind,
	       plural(g->nbind));
	for (j = 0; j < g->n; j++) {
		gp_dev_describe(g->m[j].d, desc, sizeof(desc));
		if (g->m[j].role == GP_ROLE_BIND)
			gp_log(GP_INFO, "dry-run: group %d: %s: %s -> host driver", g->id, desc,
			       driver_of(g->m[j].d));
		else
			gp_log(GP_INFO, "dry-run: group %d: %s: bridge, stays on %s", g->id, desc,
			       driver_of(g->m[j].d));
	}
}

int gp_cmd_release(const struct gp_paths *p, const struct gp_switch *s)
{
	struct gp_config c;
	struct gp_plan plan;
	struct gp_pci pci;
	struct record rec;
	int i, r, rc = GP_EXIT_OK, done = 0;

	gp_log_to_both(p->kmsg);
	memset(&c, 0, sizeof(c));
	memset(&plan, 0, sizeof(plan));
	parse_targets(s, &c);
	if (c.errors) {
		gp_log(GP_ERR, "%d bad target%s: releasing nothing", c.errors, plural(c.errors));
		gp_config_free(&c);
		return GP_EXIT_CONFIG;
	}
	r = gp_pci_open(p, &pci);
	if (r < 0) {
		gp_log(GP_ERR, "cannot read %s/bus/pci/devices: %s: releasing nothing", p->sysfs,
		       strerror(-r));
		gp_config_free(&c);
		return GP_EXIT_PLAN;
	}
	if (s->all && record_groups(p, &plan) < 0)
		plan.skipped++;
	for (i = 0; i < c.n; i++)
		release_resolve(&c.v[i], &pci, &plan);
	for (i = 0; i < plan.n; i++)
		release_members(p, &plan.g[i], &pci, &plan);
	if (plan.skipped) {
		gp_log(GP_ERR, "%d target%s refused: releasing nothing", plan.skipped,
		       plural(plan.skipped));
		rc = GP_EXIT_PLAN;
		goto out;
	}
	if (!plan.n) {
		gp_log(GP_NOTICE, "no group on vfio-pci: nothing to release");
		goto out;
	}
	rc = check_holders(p, &plan);
	if (rc != GP_EXIT_OK) {
		gp_log(GP_ERR, "releasing nothing");
		goto out;
	}
	if (s->dry_run) {
		for (i = 0; i < plan.n; i++)
			show_release(&plan.g[i]);
		goto out;
	}
	record_open(p, &rec, 0);
	for (i = 0; i < plan.n; i++) {
		if (release_group(p, &plan.g[i]) < 0) {
			rc = GP_EXIT_PLAN;
			continue;
		}
		record_set(&rec, &plan.g[i], "released");
		done++;
	}
	record_close(p, &rec, done);
	gp_log(rc ? GP_ERR : GP_NOTICE, "done: %d group%s released, %d failed", done, plural(done),
	       plan.n - done);
out:
	gp_plan_free(&plan);
	gp_pci_free(&pci);
	gp_config_free(&c);
	return rc;
}

/* ---- claim ---- */

/* Unbinding a display driver at runtime blanks what it shows: say so before it happens. */
static void warn_displays(const struct gp_plan *plan)
{
	int i, j;

	for (i = 0; i < plan->n; i++)
		for (j = 0; j < plan->g[i].n; j++) {
			const struct gp_dev *d = plan->g[i].m[j].d;

			if (plan->g[i].m[j].role == GP_ROLE_BIND && (d->class >> 16) == 0x03 &&
			    d->driver[0] && strcmp(d->driver, VFIO))
				gp_log(GP_WARN, "group %d: %s: taking this display from %s: its screens go dark and programs using it lose it",
				       plan->g[i].id, d->addr, d->driver);
		}
}

int gp_cmd_claim(const struct gp_paths *p, const struct gp_switch *s)
{
	struct gp_config c;
	struct gp_plan plan;
	struct gp_pci pci;
	struct record rec;
	int i, r, rc = GP_EXIT_OK, done = 0;

	gp_log_to_both(p->kmsg);
	memset(&c, 0, sizeof(c));
	if (s->all) {
		/* The entries the boot binds, read the way the boot reads them. */
		if (gp_cmdline_load(&c, p->cmdline) < 0) {
			gp_log(GP_ERR, "%s: cannot read", p->cmdline);
			c.errors++;
		}
		gp_config_load(&c, p->config);
	}
	parse_targets(s, &c);
	if (c.errors) {
		gp_log(GP_ERR, "%d error%s in the targets: claiming nothing", c.errors,
		       plural(c.errors));
		gp_config_free(&c);
		return GP_EXIT_CONFIG;
	}
	if (!c.n) {
		gp_log(GP_NOTICE, "%s names no device: nothing to claim", p->config);
		gp_config_free(&c);
		return GP_EXIT_OK;
	}
	r = gp_pci_open(p, &pci);
	if (r < 0) {
		gp_log(GP_ERR, "cannot read %s/bus/pci/devices: %s: claiming nothing", p->sysfs,
		       strerror(-r));
		gp_config_free(&c);
		return GP_EXIT_PLAN;
	}
	gp_plan_build(p, &c, &pci, &plan, GP_ERR);
	if (plan.skipped) {
		gp_log(GP_ERR, "%d target%s refused: claiming nothing", plan.skipped,
		       plural(plan.skipped));
		rc = GP_EXIT_PLAN;
		goto out;
	}
	if (s->dry_run) {
		gp_plan_show(&plan, 1);
		goto out;
	}
	warn_displays(&plan);
	record_open(p, &rec, 0);
	gp_bind(p, &plan, GP_CHILD_TIMEOUT);
	for (i = 0; i < plan.n; i++) {
		struct gp_group *g = &plan.g[i];

		if (g->refused) {
			rc = GP_EXIT_PLAN;
		} else if (g->nbound != g->nbind) {
			/* The boot's rule: a half-bound group is unusable, so the host gets it all back. */
			gp_log(GP_ERR, "group %d: only %d/%d functions on vfio-pci: giving the group back to the host drivers",
			       g->id, g->nbound, g->nbind);
			if (release_group(p, g) == 0)
				record_set(&rec, g, "released");
			rc = GP_EXIT_PLAN;
		} else {
			record_set(&rec, g, "claimed");
			done++;
		}
	}
	record_close(p, &rec, 1);
	gp_log(rc ? GP_ERR : GP_NOTICE, "done: %d group%s on vfio-pci, %d failed", done,
	       plural(done), plan.n - done);
out:
	gp_plan_free(&plan);
	gp_pci_free(&pci);
	gp_config_free(&c);
	return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * Carrying out a plan. In the order the kernel needs, and so that a failure
 * at any step leaves every group whole with the host:
 *   1. driver_override = vfio-pci   (so no host driver can take it back)
 *   2. load vfio-pci if it is not   (before any unbind: without it an
 *                                    unbound function has no driver at all)
 *   3. unbind the host driver       (built-in drivers bind before any hook)
 *   4. drivers_probe                (vfio-pci attached only unbound ones on load)
 *   5. read the driver link back    (drivers_probe reports success regardless);
 *      a function not on vfio-pci is unbound and probed once more, and a
 *      group still split after that goes back to the host whole
 * driver_override stays set afterwards: a later reprobe must not hand the
 * function back to a host driver. Running twice changes nothing.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "gpupass.h"

#define VFIO "vfio-pci"

static int dev_attr(const struct gp_paths *p, const struct gp_dev *d, const char *attr,
		    char *buf, size_t len)
{
	return gp_path(buf, len, "%s/bus/pci/devices/%s/%s", p->sysfs, d->addr, attr);
}

static int set_override(const struct gp_paths *p, struct gp_dev *d, int group)
{
	char path[GP_PATH_MAX], cur[GP_NAME_MAX];
	int r;

	if (dev_attr(p, d, "driver_override", path, sizeof(path)) < 0)
		return -ENAMETOOLONG;
	if (gp_read_attr(path, cur, sizeof(cur)) >= 0 && !strcmp(cur, VFIO)) {
		gp_log(GP_INFO, "group %d: %s: driver_override already vfio-pci", group, d->addr);
		return 0;
	}
	r = gp_write_attr(path, VFIO);
	if (r < 0) {
		gp_log(GP_ERR, "group %d: %s: cannot write %s: %s", group, d->addr, path, strerror(-r));
		return r;
	}
	gp_log(GP_INFO, "group %d: %s: driver_override set to vfio-pci", group, d->addr);
	return 0;
}

/* Writing a lone newline clears an override (sysfs-bus-pci ABI). Returns 1 when it did. */
static int clear_override(const struct gp_paths *p, struct gp_dev *d, int group)
{
	char path[GP_PATH_MAX];

	if (dev_attr(p, d, "driver_override", path, sizeof(path)) < 0 ||
	    gp_write_attr(path, "\n") < 0) {
		gp_log(GP_ERR, "group %d: %s: cannot clear driver_override", group, d->addr);
		return 0;
	}
	gp_log(GP_INFO, "group %d: %s: driver_override cleared again", group, d->addr);
	return 1;
}

static void unbind_host(const struct gp_paths *p, struct gp_dev *d, int group)
{
	char path[GP_PATH_MAX], was[GP_NAME_MAX];
	int r;

	gp_pci_refresh_driver(p, d);
	if (!d->driver[0] || !strcmp(d->driver, VFIO))
		return;
	gp_copy(was, d->driver, sizeof(was));
	if (dev_attr(p, d, "driver/unbind", path, sizeof(path)) < 0)
		return;
	r = gp_write_attr(path, d->addr);
	if (r < 0) {
		gp_log(GP_ERR, "group %d: %s: cannot unbind from %s: %s", group, d->addr, was,
		       strerror(-r));
		return;
	}
	gp_log(GP_INFO, "group %d: %s: unbound from %s", group, d->addr, was);
}

/*
 * The IOMMU backend a VM needs to use a group (without it QEMU says "No
 * available IOMMU models"). modprobe vfio-pci brings it in, but a vfio-pci
 * that was there before gpupass (built in, or loaded by something earlier)
 * may have come without it: the boot tests saw exactly that. Built in, it
 * has a /sys/module directory (it has parameters). Not loading it binds no
 * less, so it is a warning.
 */
static void load_backend(const struct gp_paths *p, const char *modprobe, int timeout)
{
	char path[GP_PATH_MAX];
	char *const argv[] = { (char *)"modprobe", (char *)"vfio_iommu_type1", NULL };
	int r;

	if (gp_path(path, sizeof(path), "%s/module/vfio_iommu_type1", p->sysfs) < 0 || gp_is_dir(path))
		return;
	if (!modprobe)
		modprobe = gp_find_modprobe(p);
	r = modprobe ? gp_run(modprobe, argv, timeout) : -ENOENT;
	if (r == 0 && gp_is_dir(path)) {
		gp_log(GP_INFO, "loaded vfio_iommu_type1 with %s", modprobe);
		return;
	}
	gp_log(GP_WARN, "vfio_iommu_type1 is not loaded (%s): a VM cannot use the bound groups until it is, unless the kernel offers iommufd instead",
	       r == -ETIMEDOUT ? "modprobe hung" : !modprobe ? "no modprobe" : "modprobe failed");
}

/* vfio-pci's id table matches only overrides, so no uevent ever loads it: we must. */
static int load_vfio(const struct gp_paths *p, int timeout)
{
	char path[GP_PATH_MAX];
	char *const argv[] = { (char *)"modprobe", (char *)VFIO, NULL };
	const char *modprobe;
	int r;

	if (gp_path(path, sizeof(path), "%s/bus/pci/drivers/" VFIO, p->sysfs) < 0)
		return -1;
	if (gp_is_dir(path)) {
		load_backend(p, NULL, timeout);
		return 0;
	}
	modprobe = gp_find_modprobe(p);
	if (!modprobe) {
		gp_log(GP_ERR, "vfio-pci is not loaded and no modprobe was found: nothing can be bound");
		return -1;
	}
	r = gp_run(modprobe, argv, timeout);
	if (r == -ETIMEDOUT)
		gp_log(GP_ERR, "%s vfio-pci did not finish in %d s: killed it (gpupass.timeout= sets the limit)",
		       modprobe, timeout);
	else if (r < 0)
		gp_log(GP_ERR, "cannot run %s: %s", modprobe, strerror(-r));
	else if (r != 0)
		gp_log(GP_ERR, "%s vfio-pci failed (exit status %d)", modprobe, r == 256 ? -1 : r);
	else
		gp_log(GP_INFO, "loaded vfio-pci with %s", modprobe);
	if (!gp_is_dir(path)) {
		/* A hang is not a missing module: the advice must point at what hung. */
		if (r == -ETIMEDOUT)
			gp_log(GP_ERR, "vfio-pci is not available: loading it hung; look for an install or softdep line for vfio-pci in /etc/modprobe.d, then regenerate the initramfs");
		else
			gp_log(GP_ERR, "vfio-pci is not available: the vfio-pci module is missing from the initramfs; reinstall gpupass and regenerate the initramfs");
		return -1;
	}
	load_backend(p, modprobe, timeout);
	return 0;
}

static void probe(const struct gp_paths *p, struct gp_dev *d, int group)
{
	char path[GP_PATH_MAX];
	int r;

	gp_pci_refresh_driver(p, d);
	if (!strcmp(d->driver, VFIO))
		return;
	if (gp_path(path, sizeof(path), "%s/bus/pci/drivers_probe", p->sysfs) < 0)
		return;
	r = gp_write_attr(path, d->addr);
	if (r < 0)
		gp_log(GP_ERR, "group %d: %s: cannot write %s: %s", group, d->addr, path, strerror(-r));
}

/* Step 1 for a whole group, undone if any member refuses the override. */
static int override_group(const struct gp_paths *p, struct gp_group *g)
{
	int i, j;

	for (i = 0; i < g->n; i++) {
		if (g->m[i].role != GP_ROLE_BIND)
			continue;
		if (set_override(p, g->m[i].d, g->id) == 0)
			continue;
		for (j = 0; j < i; j++)
			if (g->m[j].role == GP_ROLE_BIND)
				clear_override(p, g->m[j].d, g->id);
		gp_log(GP_ERR, "group %d: left to the host: a half-bound group is unusable", g->id);
		return -1;
	}
	return 0;
}

/*
 * Clear the overrides of G and reprobe each function, so the host drivers
 * take it back (now, or when udev loads them). A function on vfio-pci is
 * unbound from it first. Returns the number of functions that could not be
 * let go of (still on vfio-pci, or still pinned to it).
 */
static int give_group_back(const struct gp_paths *p, struct gp_group *g)
{
	char probe_path[GP_PATH_MAX], path[GP_PATH_MAX];
	int j, stuck = 0;

	if (gp_path(probe_path, sizeof(probe_path), "%s/bus/pci/drivers_probe", p->sysfs) < 0)
		return g->nbind;
	for (j = 0; j < g->n; j++) {
		struct gp_dev *d = g->m[j].d;

		if (g->m[j].role != GP_ROLE_BIND)
			continue;
		/* A function that is gone (hot-unplugged meanwhile) holds nothing back. */
		if (dev_attr(p, d, "", path, sizeof(path)) < 0 || !gp_is_dir(path))
			continue;
		if (!clear_override(p, d, g->id)) {
			stuck++;
			continue;
		}
		gp_pci_refresh_driver(p, d);
		if (!strcmp(d->driver, VFIO) &&
		    (dev_attr(p, d, "driver/unbind", path, sizeof(path)) < 0 ||
		     gp_write_attr(path, d->addr) < 0)) {
			gp_log(GP_ERR, "group %d: %s: cannot unbind from vfio-pci", g->id, d->addr);
			stuck++;
			continue;
		}
		gp_write_attr(probe_path, d->addr);
	}
	return stuck;
}

/* Without vfio-pci nothing was unbound: clearing the overrides is all it takes. */
static void give_back(const struct gp_paths *p, struct gp_plan *plan)
{
	int i;

	for (i = 0; i < plan->n; i++) {
		struct gp_group *g = &plan->g[i];

		if (g->refused)
			continue;
		give_group_back(p, g);
		g->nbound = 0;
		g->returned = 1;
		gp_log(GP_ERR, "group %d: left to the host drivers: vfio-pci is not available", g->id);
	}
}

/* How many of G's functions are on vfio-pci; LOG: say where each one is. */
static int count_bound(const struct gp_paths *p, struct gp_group *g, int log)
{
	int j, n = 0;

	for (j = 0; j < g->n; j++) {
		struct gp_dev *d = g->m[j].d;

		if (g->m[j].role != GP_ROLE_BIND)
			continue;
		gp_pci_refresh_driver(p, d);
		if (!strcmp(d->driver, VFIO)) {
			n++;
			if (log)
				gp_log(GP_INFO, "group %d: %s: on vfio-pci", g->id, d->addr);
		} else if (log) {
			gp_log(GP_ERR, "group %d: %s: not on vfio-pci (%s)", g->id, d->addr,
			       d->driver[0] ? d->driver : "no driver");
		}
	}
	return n;
}

/*
 * Step 5. A straggler gets one more unbind and probe: a host driver that
 * bound between our unbind and our probe (one udev loaded meanwhile) lets go
 * the second time. A group still split is of no use to a VM and leaves the
 * host without the rest of the card: it goes back to the host whole.
 */
static void settle(const struct gp_paths *p, struct gp_group *g)
{
	int j;

	g->nbound = count_bound(p, g, 0);
	for (j = 0; j < g->n && g->nbound < g->nbind; j++) {
		struct gp_dev *d = g->m[j].d;

		if (g->m[j].role != GP_ROLE_BIND || !strcmp(d->driver, VFIO))
			continue;
		gp_log(GP_WARN, "group %d: %s: not on vfio-pci (%s) after probing: trying once more",
		       g->id, d->addr, d->driver[0] ? d->driver : "no driver");
		unbind_host(p, d, g->id);
		probe(p, d, g->id);
	}
	g->nbound = count_bound(p, g, 1);
	gp_log(g->nbound == g->nbind ? GP_NOTICE : GP_ERR,
	       "group %d: %d/%d functions on vfio-pci", g->id, g->nbound, g->nbind);
	if (g->nbound == g->nbind)
		return;
	for (j = 0; j < g->n; j++)
		if (g->m[j].role == GP_ROLE_BIND && strcmp(g->m[j].d->driver, VFIO))
			gp_log(GP_ERR, "group %d: %s stays on %s: giving the whole group back to the host (a split group is unusable)",
			       g->id, g->m[j].d->addr,
			       g->m[j].d->driver[0] ? g->m[j].d->driver : "no driver");
	if (give_group_back(p, g) == 0) {
		g->nbound = 0;
		g->returned = 1;
		gp_log(GP_ERR, "group %d: left to the host drivers", g->id);
	} else {
		g->nbound = count_bound(p, g, 0);
		gp_log(GP_ERR, "group %d: could not be given back whole: %d/%d functions still on vfio-pci",
		       g->id, g->nbound, g->nbind);
	}
}

int gp_bind(const struct gp_paths *p, struct gp_plan *plan, int timeout)
{
	int i, j, todo = 0;

	for (i = 0; i < plan->n; i++) {
		struct gp_group *g = &plan->g[i];

		if (g->refused)
			continue;
		if (override_group(p, g) < 0) {
			g->refused = 1;
			plan->skipped++;
			continue;
		}
		todo++;
	}
	if (!todo)
		return 0;
	if (load_vfio(p, timeout) < 0) {
		give_back(p, plan);
		return 0;
	}
	for (i = 0; i < plan->n; i++) {
		struct gp_group *g = &plan->g[i];

		if (g->refused)
			continue;
		/* Every host driver of the group lets go before any probe: vfio-pci wants the group whole. */
		for (j = 0; j < g->n; j++)
			if (g->m[j].role == GP_ROLE_BIND)
				unbind_host(p, g->m[j].d, g->id);
		for (j = 0; j < g->n; j++)
			if (g->m[j].role == GP_ROLE_BIND)
				probe(p, g->m[j].d, g->id);
		settle(p, g);
	}
	return 0;
}

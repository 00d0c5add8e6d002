/* SPDX-License-Identifier: MIT */
/*
 * Carrying out a plan. Per function, in the order the kernel needs:
 *   1. driver_override = vfio-pci   (so no host driver can take it back)
 *   2. unbind the host driver       (built-in drivers bind before any hook)
 *   3. load vfio-pci if it is not   (loading attaches overridden, unbound devices)
 *   4. drivers_probe                (for the ones the load did not attach)
 *   5. read the driver link back    (drivers_probe reports success regardless)
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

/* Writing a lone newline clears an override (sysfs-bus-pci ABI). */
static void clear_override(const struct gp_paths *p, struct gp_dev *d, int group)
{
	char path[GP_PATH_MAX];

	if (dev_attr(p, d, "driver_override", path, sizeof(path)) == 0 &&
	    gp_write_attr(path, "\n") == 0)
		gp_log(GP_INFO, "group %d: %s: driver_override cleared again", group, d->addr);
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

/* vfio-pci's id table matches only overrides, so no uevent ever loads it: we must. */
static int load_vfio(const struct gp_paths *p)
{
	char path[GP_PATH_MAX];
	char *const argv[] = { (char *)"modprobe", (char *)VFIO, NULL };
	const char *modprobe;
	int r;

	if (gp_path(path, sizeof(path), "%s/bus/pci/drivers/" VFIO, p->sysfs) < 0)
		return -1;
	if (gp_is_dir(path))
		return 0;
	modprobe = gp_find_modprobe(p);
	if (!modprobe) {
		gp_log(GP_ERR, "vfio-pci is not loaded and no modprobe was found: nothing can be bound");
		return -1;
	}
	r = gp_run(modprobe, argv, GP_CHILD_TIMEOUT);
	if (r == -ETIMEDOUT)
		gp_log(GP_ERR, "%s vfio-pci did not finish in %d s: killed it", modprobe,
		       GP_CHILD_TIMEOUT);
	else if (r < 0)
		gp_log(GP_ERR, "cannot run %s: %s", modprobe, strerror(-r));
	else if (r != 0)
		gp_log(GP_ERR, "%s vfio-pci failed (exit status %d)", modprobe, r == 256 ? -1 : r);
	else
		gp_log(GP_INFO, "loaded vfio-pci with %s", modprobe);
	if (!gp_is_dir(path)) {
		gp_log(GP_ERR, "vfio-pci is not available: the vfio-pci module is missing from the initramfs; reinstall gpupass and regenerate the initramfs");
		return -1;
	}
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
 * Without vfio-pci the overrides would leave every function driverless: a
 * black screen if the card was the only GPU. Clear them and reprobe, so the
 * host drivers take the card back (now, or when udev loads them).
 */
static void give_back(const struct gp_paths *p, struct gp_plan *plan)
{
	char path[GP_PATH_MAX];
	int i, j;

	if (gp_path(path, sizeof(path), "%s/bus/pci/drivers_probe", p->sysfs) < 0)
		return;
	for (i = 0; i < plan->n; i++) {
		struct gp_group *g = &plan->g[i];

		if (g->refused)
			continue;
		for (j = 0; j < g->n; j++) {
			if (g->m[j].role != GP_ROLE_BIND)
				continue;
			clear_override(p, g->m[j].d, g->id);
			gp_write_attr(path, g->m[j].d->addr);
		}
		gp_log(GP_ERR, "group %d: left to the host drivers: vfio-pci is not available", g->id);
	}
}

int gp_bind(const struct gp_paths *p, struct gp_plan *plan)
{
	int i, j, todo = 0, vfio;

	for (i = 0; i < plan->n; i++) {
		struct gp_group *g = &plan->g[i];

		if (g->refused)
			continue;
		if (override_group(p, g) < 0) {
			g->refused = 1;
			plan->skipped++;
			continue;
		}
		for (j = 0; j < g->n; j++)
			if (g->m[j].role == GP_ROLE_BIND)
				unbind_host(p, g->m[j].d, g->id);
		todo++;
	}
	if (!todo)
		return 0;
	vfio = load_vfio(p);
	if (vfio < 0)
		give_back(p, plan);
	for (i = 0; i < plan->n; i++) {
		struct gp_group *g = &plan->g[i];

		if (g->refused)
			continue;
		g->nbound = 0;
		for (j = 0; j < g->n; j++) {
			struct gp_dev *d = g->m[j].d;

			if (g->m[j].role != GP_ROLE_BIND)
				continue;
			if (vfio == 0)
				probe(p, d, g->id);
			gp_pci_refresh_driver(p, d);
			if (!strcmp(d->driver, VFIO)) {
				g->nbound++;
				gp_log(GP_INFO, "group %d: %s: on vfio-pci", g->id, d->addr);
			} else {
				gp_log(GP_ERR, "group %d: %s: not on vfio-pci (%s)", g->id, d->addr,
				       d->driver[0] ? d->driver : "no driver");
			}
		}
		gp_log(g->nbound == g->nbind ? GP_NOTICE : GP_ERR,
		       "group %d: %d/%d functions on vfio-pci", g->id, g->nbound, g->nbind);
	}
	return 0;
}

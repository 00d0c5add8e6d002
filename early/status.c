/*
 * The status record: what the boot path planned and did, kept in
 * RUNDIR/status (/run survives the switch to the real root), and
 * `gpupass status`, which compares it with what is true now.
 *
 *   version 1
 *   mode bind|dry-run|off
 *   config PATH HASH|none
 *   group ID bound|partial|refused|planned BOUND TOTAL
 *   function ID ADDRESS VENDOR:DEVICE
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpupass.h"

static const char *group_state(const struct gp_group *g, const char *mode)
{
	if (g->refused)
		return "refused";
	if (strcmp(mode, "bind"))
		return "planned";
	return g->nbound == g->nbind ? "bound" : "partial";
}

int gp_status_write(const struct gp_paths *p, const struct gp_config *c,
		    const struct gp_plan *plan, const char *mode)
{
	char path[GP_PATH_MAX], tmp[GP_PATH_MAX];
	FILE *f;
	int i, j, bad;

	if (gp_path(path, sizeof(path), "%s/status", p->rundir) < 0 ||
	    gp_path(tmp, sizeof(tmp), "%s/status.new", p->rundir) < 0)
		return -ENAMETOOLONG;
	if (mkdir(p->rundir, 0755) < 0 && errno != EEXIST) {
		gp_log(GP_ERR, "cannot create %s: %s", p->rundir, strerror(errno));
		return -1;
	}
	f = fopen(tmp, "w");
	if (!f) {
		gp_log(GP_ERR, "cannot write %s: %s", tmp, strerror(errno));
		return -1;
	}
	fprintf(f, "version 1\nmode %s\n", mode);
	if (c->file_missing)
		fprintf(f, "config %s none\n", p->config);
	else
		fprintf(f, "config %s %016llx\n", p->config, c->hash);
	for (i = 0; plan && i < plan->n; i++) {
		const struct gp_group *g = &plan->g[i];

		fprintf(f, "group %d %s %d %d\n", g->id, group_state(g, mode), g->nbound, g->nbind);
		for (j = 0; j < g->n; j++)
			if (g->m[j].role == GP_ROLE_BIND)
				fprintf(f, "function %d %s %04x:%04x\n", g->id, g->m[j].d->addr,
					g->m[j].d->vendor, g->m[j].d->device);
	}
	bad = ferror(f);
	if (fclose(f) != 0 || bad || rename(tmp, path) < 0) {
		gp_log(GP_ERR, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

static char *read_record(const struct gp_paths *p, int *err)
{
	char path[GP_PATH_MAX];
	size_t len;

	if (gp_path(path, sizeof(path), "%s/status", p->rundir) < 0) {
		*err = ENAMETOOLONG;
		return NULL;
	}
	return gp_read_file(path, GP_CONFIG_MAX, &len, err);
}

static const char *next_line(const char *line)
{
	const char *nl = strchr(line, '\n');

	return nl && nl[1] ? nl + 1 : NULL;
}

/*
 * Editing the config without regenerating the initramfs is the classic
 * mistake: compare the file now with the hash the boot recorded.
 * Returns 1 when they differ, 0 when not, -1 when there is no record.
 */
int gp_status_config_changed(const struct gp_paths *p)
{
	char *rec, *now, hash[24] = "none";
	const char *line, *sp;
	size_t len;
	int err, changed;

	rec = read_record(p, &err);
	if (!rec)
		return -1;
	for (line = rec; line; line = next_line(line))
		if (!strncmp(line, "config ", 7) && (sp = strchr(line + 7, ' ')))
			sscanf(sp + 1, "%23s", hash);  /* klibc's %s does not skip blanks */
	free(rec);
	now = gp_read_file(p->config, GP_CONFIG_MAX, &len, &err);
	if (!now)
		return strcmp(hash, "none") != 0;
	changed = !strcmp(hash, "none") || strtoull(hash, NULL, 16) != gp_hash(now, len);
	free(now);
	return changed;
}

/* Driver names come from links the kernel made, but print them safely anyway. */
static void json_str(const char *s)
{
	putchar('"');
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			printf("\\%c", *s);
		else if ((unsigned char)*s < 0x20)
			printf("\\u%04x", (unsigned char)*s);
		else
			putchar(*s);
	}
	putchar('"');
}

struct fstate {
	char addr[GP_ADDR_MAX];
	char id[16];
	char driver[GP_NAME_MAX];
};

static int function_driver(const struct gp_paths *p, const char *addr, char *drv, size_t len)
{
	char path[GP_PATH_MAX];

	drv[0] = '\0';
	if (gp_path(path, sizeof(path), "%s/bus/pci/devices/%s/driver", p->sysfs, addr) < 0)
		return -1;
	return gp_read_link_base(path, drv, len) == 0 && !strcmp(drv, "vfio-pci");
}

/* One group of the record: its functions now, and whether a VM could take it. */
static int status_group(const struct gp_paths *p, const char *rec, int id, const char *state,
			int json, int *first_group)
{
	const char *line;
	char why[256], addr[GP_ADDR_MAX], vid[16];
	struct fstate fs[64];
	int n = 0, on = 0, i, gid, viable = GP_VIABLE_UNKNOWN, rc = GP_EXIT_OK;

	for (line = rec; line && n < 64; line = next_line(line)) {
		/* NOLINTNEXTLINE(cert-err34-c): our own record in root-only /run; a bad number names no group */
		if (sscanf(line, "function %d %23s %15s", &gid, addr, vid) != 3 || gid != id)
			continue;
		gp_copy(fs[n].addr, addr, sizeof(fs[n].addr));
		gp_copy(fs[n].id, vid, sizeof(fs[n].id));
		on += function_driver(p, addr, fs[n].driver, sizeof(fs[n].driver)) == 1;
		n++;
	}
	why[0] = '\0';
	if (!strcmp(state, "refused") || !strcmp(state, "planned") || on < n)
		rc = GP_EXIT_PLAN;
	if (!strcmp(state, "bound") || !strcmp(state, "partial")) {
		viable = gp_group_viable(p, id, why, sizeof(why));
		if (viable == GP_VIABLE_NO && rc == GP_EXIT_OK)
			rc = GP_EXIT_VIABLE;
	}
	if (json) {
		printf("%s{\"group\":%d,\"state\":", *first_group ? "" : ",", id);
		json_str(state);
		printf(",\"on_vfio\":%d,\"functions\":%d,\"viable\":%s,\"functions_list\":[", on, n,
		       viable == GP_VIABLE_YES ? "true" : viable == GP_VIABLE_NO ? "false" : "null");
		for (i = 0; i < n; i++) {
			printf("%s{\"address\":", i ? "," : "");
			json_str(fs[i].addr);
			printf(",\"id\":");
			json_str(fs[i].id);
			printf(",\"driver\":");
			json_str(fs[i].driver);
			putchar('}');
		}
		printf("]}");
	} else {
		printf("group %d: %s at boot; now %d/%d functions on vfio-pci; viable: %s%s%s%s\n", id,
		       state, on, n,
		       viable == GP_VIABLE_YES ? "yes" : viable == GP_VIABLE_NO ? "no" : "unknown",
		       why[0] ? " (" : "", why, why[0] ? ")" : "");
		for (i = 0; i < n; i++)
			printf("  %s [%s] %s\n", fs[i].addr, fs[i].id,
			       fs[i].driver[0] ? fs[i].driver : "no driver");
	}
	*first_group = 0;
	return rc;
}

int gp_cmd_status(const struct gp_paths *p, int json)
{
	char *rec, mode[16] = "?", state[16];
	const char *line;
	int err, id, rc = GP_EXIT_OK, r, first = 1, changed;

	rec = read_record(p, &err);
	if (!rec) {
		if (json)
			printf("{\"ran\":false}\n");
		else
			printf("gpupass did not run in this boot (no %s/status: %s)\n", p->rundir,
			       strerror(err));
		return GP_EXIT_NORECORD;
	}
	for (line = rec; line; line = next_line(line))
		sscanf(line, "mode %15s", mode);
	/* Configuration errors at boot meant nothing was bound. */
	if (!strcmp(mode, "error"))
		rc = GP_EXIT_PLAN;
	changed = gp_status_config_changed(p) == 1;
	if (json) {
		printf("{\"ran\":true,\"mode\":");
		json_str(mode);
		printf(",\"config_changed\":%s,\"groups\":[", changed ? "true" : "false");
	} else {
		printf("mode at boot: %s%s\n", mode,
		       rc ? " (the configuration had errors: nothing was bound; see dmesg)" : "");
	}
	for (line = rec; line; line = next_line(line)) {
		/* NOLINTNEXTLINE(cert-err34-c): our own record in root-only /run; a bad number names no group */
		if (sscanf(line, "group %d %15s", &id, state) != 2)
			continue;
		r = status_group(p, line, id, state, json, &first);
		if (r > rc)
			rc = r;
	}
	free(rec);
	if (json) {
		printf("],\"exit\":%d}\n", rc);
	} else {
		if (first)
			printf("no groups were planned at boot\n");
		if (changed)
			printf("warning: %s differs from the one this boot used: regenerate the initramfs (update-initramfs -u, or dracut -f) and reboot\n",
			       p->config);
	}
	return rc;
}

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

/* The config hash the boot used: the basis of "edited but not regenerated". */
int gp_status_config_hash(const struct gp_paths *p, unsigned long long *hash, int *present)
{
	char *rec, *line, *pos, word[24];
	int err;

	rec = read_record(p, &err);
	if (!rec)
		return -err;
	*present = 0;
	for (pos = rec; (line = strsep(&pos, "\n"));) {
		if (strncmp(line, "config ", 7))
			continue;
		line = strrchr(line, ' ') + 1;
		if (sscanf(line, "%23s", word) == 1 && strcmp(word, "none")) {
			*hash = strtoull(word, NULL, 16);
			*present = 1;
		}
		break;
	}
	free(rec);
	return 0;
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
static int status_group(const struct gp_paths *p, char *rec_after, int id, const char *state,
			int json, int *first_group)
{
	char *pos = rec_after, *line, why[256], addr[GP_ADDR_MAX], vid[16];
	struct fstate fs[64];
	int n = 0, on = 0, i, gid, viable = GP_VIABLE_UNKNOWN, rc = GP_EXIT_OK;

	while ((line = strsep(&pos, "\n")) && n < 64) {
		if (sscanf(line, "function %d %23s %15s", &gid, addr, vid) != 3 || gid != id)
			continue;
		gp_copy(fs[n].addr, addr, sizeof(fs[n].addr));
		gp_copy(fs[n].id, vid, sizeof(fs[n].id));
		on += function_driver(p, addr, fs[n].driver, sizeof(fs[n].driver)) == 1;
		n++;
	}
	why[0] = '\0';
	if (!strcmp(state, "refused") || !strcmp(state, "planned"))
		rc = GP_EXIT_PLAN;
	else if (on < n)
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
	char *rec, *copy, *pos, *line, mode[16] = "?", state[16], cpath[GP_PATH_MAX];
	unsigned long long boot_hash = 0, now_hash = 0;
	int err, id, a, b, rc = GP_EXIT_OK, r, first = 1, changed = 0, present = 0;
	size_t len;
	char *now;

	rec = read_record(p, &err);
	if (!rec) {
		if (json)
			printf("{\"ran\":false}\n");
		else
			printf("gpupass did not run in this boot (no %s/status: %s)\n", p->rundir,
			       strerror(err));
		return GP_EXIT_NORECORD;
	}
	for (pos = rec; (line = strchr(pos, '\n')) || *pos; pos = line ? line + 1 : pos + strlen(pos)) {
		if (sscanf(pos, "mode %15s", mode) == 1)
			continue;
		if (sscanf(pos, "config %511s", cpath) == 1)
			continue;
		if (!line)
			break;
	}
	if (gp_status_config_hash(p, &boot_hash, &present) == 0) {
		now = gp_read_file(p->config, GP_CONFIG_MAX, &len, &err);
		if (now)
			now_hash = gp_hash(now, len);
		changed = (now != NULL) != present || (now && now_hash != boot_hash);
		free(now);
	}
	if (json) {
		printf("{\"ran\":true,\"mode\":");
		json_str(mode);
		printf(",\"config_changed\":%s,\"groups\":[", changed ? "true" : "false");
	} else {
		printf("mode at boot: %s\n", mode);
	}
	copy = strdup(rec);
	for (pos = rec; copy && (line = strsep(&pos, "\n"));) {
		if (sscanf(line, "group %d %15s %d %d", &id, state, &a, &b) != 4)
			continue;
		strcpy(copy, pos ? pos : "");
		r = status_group(p, copy, id, state, json, &first);
		if (r > rc)
			rc = r;
	}
	free(copy);
	free(rec);
	if (json) {
		printf("],\"exit\":%d}\n", rc);
	} else {
		if (first)
			printf("no groups were planned at boot\n");
		if (changed)
			printf("warning: %s changed since this boot's initramfs was built: regenerate it (update-initramfs -u or dracut -f) and reboot\n",
			       p->config);
	}
	return rc;
}

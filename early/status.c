/* SPDX-License-Identifier: MIT */
/*
 * The status record: what the boot path planned and did, kept in
 * RUNDIR/status (/run survives the switch to the real root), and
 * `gpupass status`, which compares it with what is true now.
 *
 *   version 1
 *   mode bind|dry-run|off|error
 *   config PATH HASH|none
 *   group ID bound|partial|refused|planned|released|claimed BOUND TOTAL
 *   function ID ADDRESS VENDOR:DEVICE
 *
 * The boot writes the first four states; `gpupass release` and `gpupass
 * claim` rewrite the line of each group they switch, so the record says
 * where every group is now: released (BOUND is 0: the host drivers have
 * it) or claimed (BOUND equals TOTAL: all on vfio-pci again).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpupass.h"

static const char *group_state(const struct gp_group *g, const char *mode)
{
	/* A group bind gave back to the host is, like a refused one, the host's. */
	if (g->refused || g->returned)
		return "refused";
	if (strcmp(mode, "bind"))
		return "planned";
	return g->nbound == g->nbind ? "bound" : "partial";
}

/* The record is replaced whole (a new file renamed over it): a reader never sees half of one. */
static FILE *open_new(const struct gp_paths *p, char *path, char *tmp)
{
	FILE *f;

	if (gp_path(path, GP_PATH_MAX, "%s/status", p->rundir) < 0 ||
	    gp_path(tmp, GP_PATH_MAX, "%s/status.new", p->rundir) < 0) {
		gp_log(GP_ERR, "%s/status: path too long", p->rundir);
		return NULL;
	}
	if (mkdir(p->rundir, 0755) < 0 && errno != EEXIST) {
		gp_log(GP_ERR, "cannot create %s: %s", p->rundir, strerror(errno));
		return NULL;
	}
	f = fopen(tmp, "w");
	if (!f)
		gp_log(GP_ERR, "cannot write %s: %s", tmp, strerror(errno));
	return f;
}

static int commit(FILE *f, const char *path, const char *tmp)
{
	int bad = ferror(f);

	if (fclose(f) != 0 || bad || rename(tmp, path) < 0) {
		gp_log(GP_ERR, "cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return -1;
	}
	return 0;
}

int gp_status_write(const struct gp_paths *p, const struct gp_config *c,
		    const struct gp_plan *plan, const char *mode)
{
	char path[GP_PATH_MAX], tmp[GP_PATH_MAX];
	FILE *f;
	int i, j;

	f = open_new(p, path, tmp);
	if (!f)
		return -1;
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
	return commit(f, path, tmp);
}

/* A record read back, rewritten in the same shapes: what release and claim leave. */
int gp_status_save(const struct gp_paths *p, const struct gp_status *st)
{
	char path[GP_PATH_MAX], tmp[GP_PATH_MAX];
	FILE *f;
	int i, j;

	f = open_new(p, path, tmp);
	if (!f)
		return -1;
	fprintf(f, "version 1\nmode %s\n", st->mode);
	if (st->has_hash)
		fprintf(f, "config %s %016llx\n", st->config, st->hash);
	else
		fprintf(f, "config %s none\n", st->config);
	for (i = 0; i < st->ng; i++) {
		const struct gp_status_group *g = &st->g[i];

		fprintf(f, "group %d %s %d %d\n", g->id, g->state, g->bound, g->total);
		for (j = 0; j < g->nf; j++)
			fprintf(f, "function %d %s %04x:%04x\n", g->id, g->f[j].addr, g->f[j].vendor,
				g->f[j].device);
	}
	return commit(f, path, tmp);
}

static char *read_record(const struct gp_paths *p, char *path, size_t plen, size_t *len, int *err)
{
	if (gp_path(path, plen, "%s/status", p->rundir) < 0) {
		*err = ENAMETOOLONG;
		return NULL;
	}
	return gp_read_file(path, GP_CONFIG_MAX, len, err);
}

/*
 * Reading the record back. It is gpupass's own file in root-only /run, but
 * a damaged one must not be believed: each line is taken only in the exact
 * shape gp_status_write gives it, and any other line is reported at
 * PATH:LINE and left out. The lines of a group whose group line is bad go
 * with it (that line's error covers them).
 */
#define REC_LINE_MAX (GP_PATH_MAX + 32)   /* the longest line: config, a path, a hash */

static const char *const modes[] = { "bind", "dry-run", "off", "error" };
static const char *const states[] = { "bound", "partial", "refused", "planned", "released",
				      "claimed" };
#define N_STATES ((int)(sizeof(states) / sizeof(states[0])))
enum { ST_BOUND, ST_PARTIAL, ST_REFUSED, ST_PLANNED, ST_RELEASED, ST_CLAIMED };

struct rec {
	struct gp_status *st;
	const char *path;
	int lineno;
	int stop;              /* a record version this gpupass does not read */
	int cur;               /* index of the group whose function lines may follow, or -1 */
	int cur_line;
	const char *cur_text;  /* that group's line, for messages */
	size_t cur_len;
	int cur_damaged;       /* a bad line came after it */
	int skipping;          /* the last group line was bad: its functions go with it */
};

/* PATH:LINE: what is wrong: 'the line', bytes other than printable ASCII as \xNN. */
static void report(struct rec *r, int lineno, const char *msg, const char *s, size_t n)
{
	char text[128], where[24] = "";
	size_t o = 0, i;

	r->st->errors++;
	for (i = 0; i < n && o + 8 < sizeof(text); i++) {
		unsigned char ch = (unsigned char)s[i];

		o += (size_t)snprintf(text + o, sizeof(text) - o, ch >= 0x20 && ch < 0x7f ? "%c" : "\\x%02x", ch);
	}
	snprintf(text + o, sizeof(text) - o, "%s", i < n ? "..." : "");
	if (lineno)
		snprintf(where, sizeof(where), ":%d", lineno);
	gp_log(GP_ERR, "%s%s: %s%s%s%s", r->path, where, msg, s ? ": '" : "", s ? text : "",
	       s ? "'" : "");
}

static int lower_hex(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

/*
 * Numbers are read back only in the shape gp_status_write prints them:
 * "%d" as gp_parse_dec takes it, "%04x" and "%016llx" as lowercase hex of
 * that width.
 */
static int dec(const char *s, int *val)
{
	return gp_parse_dec(s, INT_MAX, val);
}

static int hex(const char *s, size_t width, unsigned long long *val)
{
	char *end;
	size_t i;

	for (i = 0; i < width; i++)
		if (!lower_hex(s[i]))
			return -1;
	if (s[width])
		return -1;
	errno = 0;
	*val = strtoull(s, &end, 16);
	return errno || *end ? -1 : 0;
}

static int word_in(const char *w, const char *const *set, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(w, set[i]))
			return i;
	return -1;
}

static const char *parse_version(struct rec *r, char **w)
{
	int v;

	if (dec(w[0], &v) < 0)
		return "bad record version";
	if (v != 1) {
		r->stop = 1;
		return "unknown record version (this gpupass reads version 1): the rest is left out";
	}
	return NULL;
}

static const char *parse_mode(struct rec *r, char **w)
{
	int i = word_in(w[0], modes, 4);

	if (i < 0)
		return "bad mode (bind, dry-run, off, error)";
	r->st->mode = modes[i];
	return NULL;
}

static const char *parse_config(struct rec *r, char **w)
{
	unsigned long long h = 0;

	if (strlen(w[0]) >= sizeof(r->st->config))
		return "config path too long";
	if (strcmp(w[1], "none") && hex(w[1], 16, &h) < 0)
		return "bad config hash (16 lowercase hex digits, or none)";
	gp_copy(r->st->config, w[0], sizeof(r->st->config));
	r->st->has_hash = strcmp(w[1], "none") != 0;
	r->st->hash = r->st->has_hash ? h : 0;
	return NULL;
}

/* The array V of N elements, with room for one more: grown 16 at a time; NULL when out of memory. */
static void *grow(void *v, int n, size_t size)
{
	return n % 16 ? v : realloc(v, (size_t)(n + 16) * size);
}

static const char *parse_group(struct rec *r, char **w)
{
	struct gp_status *st = r->st;
	struct gp_status_group *g;
	int id, state, bound, total, i;

	if (dec(w[0], &id) < 0)
		return "bad group number (0 to 2147483647)";
	state = word_in(w[1], states, N_STATES);
	if (state < 0)
		return "bad group state (bound, partial, refused, planned, released, claimed)";
	if (dec(w[2], &bound) < 0 || dec(w[3], &total) < 0 || bound > total)
		return "bad function counts (BOUND TOTAL, 0 <= BOUND <= TOTAL <= 2147483647)";
	if (((state == ST_BOUND || state == ST_CLAIMED) && bound != total) ||
	    (state == ST_PARTIAL && bound == total) || (state == ST_RELEASED && bound != 0))
		return "group state and function counts disagree";
	for (i = 0; i < st->ng; i++)
		if (st->g[i].id == id)
			return "group repeated";
	g = grow(st->g, st->ng, sizeof(*g));
	if (!g)
		return "out of memory";
	st->g = g;
	g = &st->g[st->ng];
	memset(g, 0, sizeof(*g));
	g->id = id;
	g->state = states[state];
	g->bound = bound;
	g->total = total;
	r->cur = st->ng++;
	r->skipping = 0;
	return NULL;
}

static const char *parse_function(struct rec *r, char **w)
{
	struct gp_status_group *g;
	struct gp_status_fn *f;
	unsigned long long vendor, device;
	int id;

	if (dec(w[0], &id) < 0)
		return "bad group number (0 to 2147483647)";
	if (!gp_valid_addr(w[1]))
		return "bad PCI address (DOMAIN:BB:DD.F in lowercase hex)";
	if (strlen(w[2]) != 9 || w[2][4] != ':')
		return "bad vendor:device id (4+4 lowercase hex digits)";
	w[2][4] = '\0';
	if (hex(w[2], 4, &vendor) < 0 || hex(w[2] + 5, 4, &device) < 0)
		return "bad vendor:device id (4+4 lowercase hex digits)";
	if (r->cur < 0 || r->st->g[r->cur].id != id)
		return "function line outside its group's lines";
	g = &r->st->g[r->cur];
	if (g->nf >= g->total)
		return "more function lines than the group line counts";
	f = grow(g->f, g->nf, sizeof(*f));
	if (!f)
		return "out of memory";
	g->f = f;
	f = &g->f[g->nf++];
	gp_copy(f->addr, w[1], sizeof(f->addr));
	f->vendor = (unsigned)vendor;
	f->device = (unsigned)device;
	return NULL;
}

/*
 * Every kind of line, with the number of words after the keyword. The
 * first three open the record, on lines 1 to 3 in this order; then each
 * group line is followed by its function lines.
 */
static const struct line_kind {
	const char *word;
	int nargs;
	const char *usage;
	const char *(*parse)(struct rec *r, char **w);
} kinds[] = {
	{ "version", 1, "truncated line (version 1)", parse_version },
	{ "mode", 1, "truncated line (mode MODE)", parse_mode },
	{ "config", 2, "truncated line (config PATH HASH|none)", parse_config },
	{ "group", 4, "truncated line (group ID STATE BOUND TOTAL)", parse_group },
	{ "function", 3, "truncated line (function GROUP ADDRESS VENDOR:DEVICE)", parse_function },
};
#define N_HEADER 3
#define N_KINDS ((int)(sizeof(kinds) / sizeof(kinds[0])))

/*
 * Words are separated by one blank (-1: a stray blank); config's path may
 * hold blanks, so its hash is the last word.
 */
static int split(char *s, char **w, int max, int path_first)
{
	char *sp;
	int n = 0;

	if (!*s)
		return 0;
	if (path_first) {
		sp = strrchr(s, ' ');
		if (!sp || sp == s)
			return 1;
		*sp = '\0';
		w[0] = s;
		w[1] = sp + 1;
		return 2;
	}
	for (;;) {
		if (n == max)
			return max + 1;
		w[n++] = s;
		sp = strchr(s, ' ');
		if (sp == s || (!sp && !*s))
			return -1;
		if (!sp)
			return n;
		*sp = '\0';
		s = sp + 1;
	}
}

static const char *parse_line(struct rec *r, char *line)
{
	const struct line_kind *k;
	char *args, *w[4];
	int i, n;

	args = strchr(line, ' ');
	if (args)
		*args++ = '\0';
	else
		args = line + strlen(line);
	for (i = 0; i < N_KINDS && strcmp(line, kinds[i].word); i++)
		;
	if (i == N_KINDS)
		return "unknown keyword (version, mode, config, group, function)";
	k = &kinds[i];
	if (i < N_HEADER ? r->lineno != i + 1 : r->lineno <= N_HEADER)
		return "line out of place (a record begins with version, mode and config lines)";
	if (!strcmp(k->word, "function") && r->skipping)
		return NULL;
	n = split(args, w, k->nargs, !strcmp(k->word, "config"));
	if (n < 0)
		return "stray blank (words are separated by one blank)";
	if (n < k->nargs)
		return k->usage;
	if (n > k->nargs)
		return "trailing text";
	return k->parse(r, w);
}

/* The group before this point ends: does it list as many functions as it counts? */
static void close_group(struct rec *r)
{
	const struct gp_status_group *g;

	if (r->cur < 0)
		return;
	g = &r->st->g[r->cur];
	if (!r->cur_damaged && g->nf < g->total)
		report(r, r->cur_line, "fewer function lines than the group line counts",
		       r->cur_text, r->cur_len);
	r->cur = -1;
	r->cur_damaged = 0;
}

/* One line of the record; CUT: it has no newline, so the record was cut short in it. */
static void record_line(struct rec *r, const char *s, size_t n, int cut)
{
	char line[REC_LINE_MAX];
	const char *msg = NULL;
	size_t i;
	int was = r->cur;

	if (cut)
		msg = "truncated line (no newline at its end)";
	else if (n >= sizeof(line))
		msg = "line too long";
	for (i = 0; !msg && i < n; i++)
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			msg = "control character in line";
	if (!msg) {
		memcpy(line, s, n);
		line[n] = '\0';
		if (!strncmp(line, "group ", 6) || !strcmp(line, "group")) {
			close_group(r);
			r->skipping = 1;
			was = -1;
		}
		msg = parse_line(r, line);
	}
	if (msg) {
		report(r, r->lineno, msg, s, n);
		if (was >= 0)
			r->cur_damaged = 1;
	} else if (r->cur != was) {
		r->cur_line = r->lineno;
		r->cur_text = s;
		r->cur_len = n;
	}
}

int gp_status_parse(struct gp_status *st, const char *path, const char *buf, size_t len)
{
	struct rec r;
	const char *nl;
	size_t start, end;

	memset(st, 0, sizeof(*st));
	memset(&r, 0, sizeof(r));
	r.st = st;
	r.path = path;
	r.cur = -1;
	for (start = 0; start < len && !r.stop; start = end + 1) {
		nl = memchr(buf + start, '\n', len - start);
		end = nl ? (size_t)(nl - buf) : len;
		r.lineno++;
		/* The writer ends every line: one without a newline was cut short. */
		record_line(&r, buf + start, end - start, !nl);
	}
	if (!r.stop)
		close_group(&r);
	if (r.lineno < N_HEADER && !r.stop) {
		char msg[64];

		snprintf(msg, sizeof(msg), "truncated record: no %s line", kinds[r.lineno].word);
		report(&r, 0, msg, NULL, 0);
	}
	return st->errors ? -1 : 0;
}

void gp_status_free(struct gp_status *st)
{
	int i;

	for (i = 0; i < st->ng; i++)
		free(st->g[i].f);
	free(st->g);
	st->g = NULL;
	st->ng = 0;
}

/*
 * The record for release and claim to update: 0, -ENOENT when there is
 * none, -EINVAL when it is damaged (the bad lines reported): rewriting a
 * damaged record would drop the evidence with the bad lines.
 */
int gp_status_load(const struct gp_paths *p, struct gp_status *st)
{
	char path[GP_PATH_MAX], *rec;
	size_t len;
	int err;

	memset(st, 0, sizeof(*st));
	rec = read_record(p, path, sizeof(path), &len, &err);
	if (!rec)
		return -err;
	gp_status_parse(st, path, rec, len);
	free(rec);
	if (st->errors || !st->mode || !st->config[0]) {
		gp_status_free(st);
		return -EINVAL;
	}
	return 0;
}

/* Put G's line in the record as STATE (released or claimed), replacing the one it had. */
int gp_status_set_group(struct gp_status *st, const struct gp_group *g, const char *state)
{
	struct gp_status_group *sg = NULL;
	struct gp_status_fn *f;
	int i, k;

	k = word_in(state, states, N_STATES);
	if (k != ST_RELEASED && k != ST_CLAIMED)
		return -EINVAL;
	f = calloc((size_t)(g->nbind ? g->nbind : 1), sizeof(*f));
	if (!f)
		return -ENOMEM;
	for (i = 0; i < st->ng; i++)
		if (st->g[i].id == g->id)
			sg = &st->g[i];
	if (!sg) {
		sg = grow(st->g, st->ng, sizeof(*sg));
		if (!sg) {
			free(f);
			return -ENOMEM;
		}
		st->g = sg;
		sg = &st->g[st->ng++];
		memset(sg, 0, sizeof(*sg));
		sg->id = g->id;
	}
	free(sg->f);
	sg->f = f;
	sg->nf = 0;
	for (i = 0; i < g->n; i++) {
		if (g->m[i].role != GP_ROLE_BIND)
			continue;
		gp_copy(f[sg->nf].addr, g->m[i].d->addr, sizeof(f[sg->nf].addr));
		f[sg->nf].vendor = g->m[i].d->vendor;
		f[sg->nf].device = g->m[i].d->device;
		sg->nf++;
	}
	sg->state = states[k];
	sg->total = sg->nf;
	sg->bound = k == ST_CLAIMED ? sg->nf : 0;
	return 0;
}

/* The boot's config hash against the file now: 1 differs, 0 same, -1 cannot tell. */
static int config_changed(const struct gp_paths *p, const struct gp_status *st)
{
	char *now;
	size_t len;
	int err, changed;

	if (!st->config[0])
		return -1;
	now = gp_read_file(p->config, GP_CONFIG_MAX, &len, &err);
	if (!now)
		return st->has_hash;
	changed = !st->has_hash || st->hash != gp_hash(now, len);
	free(now);
	return changed;
}

/*
 * Editing the config without regenerating the initramfs is the classic
 * mistake: compare the file now with the hash the boot recorded.
 * Returns 1 when they differ, 0 when not, -1 when there is no record or
 * its config line is bad (reported).
 */
int gp_status_config_changed(const struct gp_paths *p)
{
	struct gp_status st;
	char path[GP_PATH_MAX], *rec;
	size_t len;
	int err, changed;

	rec = read_record(p, path, sizeof(path), &len, &err);
	if (!rec)
		return -1;
	gp_status_parse(&st, path, rec, len);
	free(rec);
	changed = config_changed(p, &st);
	gp_status_free(&st);
	return changed;
}

/* Driver names come from links the kernel made, but print them safely anyway; NULL or "" is null. */
static void json_str(const char *s)
{
	if (!s || !*s) {
		fputs("null", stdout);
		return;
	}
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

static int function_driver(const struct gp_paths *p, const char *addr, char *drv, size_t len)
{
	char path[GP_PATH_MAX];

	drv[0] = '\0';
	if (gp_path(path, sizeof(path), "%s/bus/pci/devices/%s/driver", p->sysfs, addr) < 0)
		return -1;
	return gp_read_link_base(path, drv, len) == 0 && !strcmp(drv, "vfio-pci");
}

/*
 * One group of the record: its functions now, and whether a VM could take
 * it. Counted against the functions the boot planned (its group line), so
 * that a function line left out of the record counts as not on vfio-pci.
 */
static int status_group(const struct gp_paths *p, const struct gp_status_group *g, int json,
			int *first_group)
{
	char why[256], reason[320], (*drv)[GP_NAME_MAX];
	int on = 0, i, viable = GP_VIABLE_UNKNOWN, rc = GP_EXIT_OK, runtime;

	drv = calloc((size_t)(g->nf ? g->nf : 1), sizeof(*drv));
	if (!drv)
		return GP_EXIT_PLAN;
	for (i = 0; i < g->nf; i++)
		on += function_driver(p, g->f[i].addr, drv[i], sizeof(drv[i])) == 1;
	why[0] = '\0';
	runtime = !strcmp(g->state, "released") || !strcmp(g->state, "claimed");
	/* A group handed back to the host on request is where the user wants it. */
	if (!strcmp(g->state, "refused") || !strcmp(g->state, "planned") ||
	    (on < g->total && strcmp(g->state, "released")))
		rc = GP_EXIT_PLAN;
	if (strcmp(g->state, "refused") && strcmp(g->state, "planned") &&
	    strcmp(g->state, "released")) {
		viable = gp_group_viable(p, g->id, why, sizeof(why));
		if (viable == GP_VIABLE_NO && rc == GP_EXIT_OK)
			rc = GP_EXIT_VIABLE;
	}
	/*
	 * vfio makes /dev/vfio/N when a member binds to vfio-pci: with every
	 * function there, a missing node is /dev's fault (no devtmpfs, udev),
	 * not a host driver's. Without them, no node is what vfio-pci's absence means.
	 */
	if (viable == GP_VIABLE_NONODE && rc == GP_EXIT_OK) {
		viable = GP_VIABLE_UNKNOWN;
		snprintf(why + strlen(why), sizeof(why) - strlen(why),
			 " although every function is on vfio-pci: is %s a devtmpfs?", p->devdir);
		rc = GP_EXIT_NODE;
	} else if (viable == GP_VIABLE_NONODE) {
		viable = GP_VIABLE_NO;
	}
	if (!strcmp(g->state, "refused"))
		snprintf(reason, sizeof(reason), "refused at boot (dmesg says why)");
	else if (!strcmp(g->state, "planned"))
		snprintf(reason, sizeof(reason), "only planned at boot (dry-run)");
	else if (!strcmp(g->state, "released"))
		snprintf(reason, sizeof(reason), "released to the host since boot");
	else if (on < g->total)
		snprintf(reason, sizeof(reason), "%d of %d functions not on vfio-pci", g->total - on,
			 g->total);
	else
		snprintf(reason, sizeof(reason), "%s", viable == GP_VIABLE_YES ? "" : why);
	if (json) {
		printf("%s{\"group\":%d,\"state\":", *first_group ? "" : ",", g->id);
		json_str(g->state);
		printf(",\"on_vfio\":%d,\"functions\":%d,\"viable\":%s,\"in_use\":%s,\"reason\":",
		       on, g->total,
		       viable == GP_VIABLE_YES || viable == GP_VIABLE_IN_USE ? "true" :
		       viable == GP_VIABLE_NO ? "false" : "null",
		       viable == GP_VIABLE_IN_USE ? "true" : "false");
		json_str(reason);
		printf(",\"exit\":%d,\"functions_list\":[", rc);
		for (i = 0; i < g->nf; i++) {
			printf("%s{\"address\":\"%s\",\"id\":\"%04x:%04x\",\"driver\":", i ? "," : "",
			       g->f[i].addr, g->f[i].vendor, g->f[i].device);
			json_str(drv[i]);
			putchar('}');
		}
		printf("]}");
	} else if (!strcmp(g->state, "released")) {
		printf("group %d: released since boot; now %d/%d functions on vfio-pci: the host has it\n",
		       g->id, on, g->total);
		for (i = 0; i < g->nf; i++)
			printf("  %s [%04x:%04x] %s\n", g->f[i].addr, g->f[i].vendor, g->f[i].device,
			       drv[i][0] ? drv[i] : "no driver");
	} else {
		printf("group %d: %s %s; now %d/%d functions on vfio-pci; viable: %s%s%s%s\n", g->id,
		       g->state, runtime ? "since boot" : "at boot", on, g->total,
		       viable == GP_VIABLE_YES || viable == GP_VIABLE_IN_USE ? "yes" :
		       viable == GP_VIABLE_NO ? "no" : "unknown",
		       why[0] ? " (" : "", why, why[0] ? ")" : "");
		for (i = 0; i < g->nf; i++)
			printf("  %s [%04x:%04x] %s\n", g->f[i].addr, g->f[i].vendor, g->f[i].device,
			       drv[i][0] ? drv[i] : "no driver");
	}
	free(drv);
	*first_group = 0;
	return rc;
}

/* Of two groups' outcomes the status keeps the graver; a missing node is the mildest failure. */
static int rank(int rc)
{
	return rc == GP_EXIT_OK ? 0 : rc == GP_EXIT_NODE ? 1 : 1 + rc;
}

int gp_cmd_status(const struct gp_paths *p, int json)
{
	struct gp_status st;
	char path[GP_PATH_MAX], *rec;
	const char *mode;
	size_t len;
	int err, rc = GP_EXIT_OK, r, first = 1, changed, i;

	rec = read_record(p, path, sizeof(path), &len, &err);
	if (!rec) {
		if (json)
			printf("{\"ran\":false}\n");
		else
			printf("gpupass did not run in this boot (no %s/status: %s)\n", p->rundir,
			       strerror(err));
		return GP_EXIT_NORECORD;
	}
	/* Bad lines are reported on stderr: with --json, stdout holds one object. */
	gp_status_parse(&st, path, rec, len);
	free(rec);
	mode = st.mode ? st.mode : "?";
	/* Configuration errors at boot meant nothing was bound; a damaged record proves nothing. */
	if (!strcmp(mode, "error") || st.errors)
		rc = GP_EXIT_PLAN;
	changed = config_changed(p, &st) == 1;
	if (json) {
		printf("{\"ran\":true,\"mode\":");
		json_str(mode);
		printf(",\"config_changed\":%s,\"groups\":[", changed ? "true" : "false");
	} else {
		printf("mode at boot: %s%s\n", mode,
		       !strcmp(mode, "error") ? " (the configuration had errors: nothing was bound; see dmesg)" : "");
	}
	for (i = 0; i < st.ng; i++) {
		r = status_group(p, &st.g[i], json, &first);
		if (rank(r) > rank(rc))
			rc = r;
	}
	if (json) {
		printf("],\"record_errors\":%d,\"exit\":%d}\n", st.errors, rc);
	} else {
		if (first)
			printf("no groups were planned at boot\n");
	}
	if (st.errors)
		gp_log(GP_ERR, "%s is damaged (%d error%s above): this report may be incomplete; dmesg has what the boot did",
		       path, st.errors, st.errors == 1 ? "" : "s");
	if (changed)
		gp_log(GP_WARN, "%s differs from the one this boot used: regenerate the initramfs (update-initramfs -u, or dracut -f) and reboot",
		       p->config);
	gp_status_free(&st);
	return rc;
}

/* SPDX-License-Identifier: MIT */
/*
 * The vfio modules' options: what modprobe.d asks for, against what the
 * running modules have (`gpupass check`). A module takes its options once,
 * when it loads, and gpupass loads vfio-pci inside the initramfs: a line
 * added to /etc/modprobe.d afterwards, or one the image lacks, does nothing
 * until the image carries it and the machine boots it. hook/vfio-options
 * puts the same lines into the images; both read modprobe.d(5)'s
 * directories with its precedence (a file name in an earlier directory
 * hides the same name in a later one; files are read in name order), all
 * below --root, and the parameters below --sysfs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gpupass.h"

#define OPT_FILE_MAX ((size_t)256 * 1024)

static const char *const dirs[] = {
	"/etc/modprobe.d", "/run/modprobe.d", "/usr/local/lib/modprobe.d",
	"/usr/lib/modprobe.d", "/lib/modprobe.d",
};

struct conf {
	char *name;              /* "vfio.conf" */
	char path[GP_PATH_MAX];  /* where it was found, below the root */
};

struct opt {
	char mod[GP_NAME_MAX], param[GP_NAME_MAX], value[GP_LINE_MAX];
	char origin[GP_PATH_MAX];
	int line;
};

struct opts {
	struct conf *files;
	int nfiles;
	struct opt *v;
	int n;
};

static int cmp_conf(const void *a, const void *b)
{
	return strcmp(((const struct conf *)a)->name, ((const struct conf *)b)->name);
}

/* The *.conf files modprobe would read, in its order, the hidden ones left out. */
static int collect(const struct gp_paths *p, struct opts *o)
{
	char dir[GP_PATH_MAX], **names;
	size_t len;
	int d, i, j, n;

	for (d = 0; d < (int)(sizeof(dirs) / sizeof(dirs[0])); d++) {
		if (gp_path(dir, sizeof(dir), "%s%s", p->root, dirs[d]) < 0 ||
		    gp_list_dir(dir, &names, &n) < 0)
			continue;
		for (i = 0; i < n; i++) {
			struct conf *v;

			len = strlen(names[i]);
			if (len < 6 || strcmp(names[i] + len - 5, ".conf"))
				continue;
			for (j = 0; j < o->nfiles && strcmp(o->files[j].name, names[i]); j++)
				;
			if (j < o->nfiles)
				continue;
			v = realloc(o->files, (size_t)(o->nfiles + 1) * sizeof(*v));
			if (!v)
				break;
			o->files = v;
			v += o->nfiles;
			if (gp_path(v->path, sizeof(v->path), "%s/%s", dir, names[i]) < 0)
				continue;
			v->name = names[i];
			names[i] = NULL;
			o->nfiles++;
		}
		gp_free_list(names, n);
	}
	if (o->nfiles > 1)
		qsort(o->files, (size_t)o->nfiles, sizeof(*o->files), cmp_conf);
	return 0;
}

/* Module names: modprobe treats '-' and '_' alike. */
static void module_name(char *dst, size_t len, const char *s)
{
	size_t i;

	for (i = 0; s[i] && i + 1 < len; i++) {
		dst[i] = s[i];
		if (dst[i] == '-')
			dst[i] = '_';
	}
	dst[i] = '\0';
}

static int is_vfio_module(const char *m)
{
	return !strncmp(m, "vfio", 4) || !strcmp(m, "irqbypass");
}

/* A later line for the same parameter wins, as the kernel applies them in order. */
static void add_opt(struct opts *o, const char *mod, char *word, const char *origin, int line)
{
	char *eq = strchr(word, '='), *val = eq ? eq + 1 : (char *)"";
	size_t vlen;
	struct opt *v;
	int i;

	if (eq)
		*eq = '\0';
	/* param="a b": the kernel strips the quotes (modprobe passes them on). */
	vlen = strlen(val);
	if (vlen >= 2 && val[0] == '"' && val[vlen - 1] == '"') {
		val[vlen - 1] = '\0';
		val++;
	}
	for (i = 0; i < o->n; i++)
		if (!strcmp(o->v[i].mod, mod) && !strcmp(o->v[i].param, word))
			break;
	if (i == o->n) {
		v = realloc(o->v, (size_t)(o->n + 1) * sizeof(*v));
		if (!v)
			return;
		o->v = v;
		o->n++;
	}
	v = &o->v[i];
	gp_copy(v->mod, mod, sizeof(v->mod));
	gp_copy(v->param, word, sizeof(v->param));
	/* A bool parameter named alone means "on". */
	gp_copy(v->value, eq ? val : "Y", sizeof(v->value));
	gp_copy(v->origin, origin, sizeof(v->origin));
	v->line = line;
}

/* Words of an "options" line: whitespace separates them, except inside double quotes. */
static char *next_word(char **s)
{
	char *w;
	int quoted = 0;

	while (**s == ' ' || **s == '\t')
		(*s)++;
	if (!**s)
		return NULL;
	w = *s;
	for (; **s && (quoted || (**s != ' ' && **s != '\t')); (*s)++)
		if (**s == '"')
			quoted = !quoted;
	if (**s)
		*(*s)++ = '\0';
	return w;
}

/* One logical line (continuations already joined); line is where it starts. */
static void parse_line(struct opts *o, char *s, const char *origin, int line)
{
	char mod[GP_NAME_MAX], *w;

	w = next_word(&s);
	if (!w || w[0] == '#' || strcmp(w, "options"))
		return;
	w = next_word(&s);
	if (!w)
		return;
	module_name(mod, sizeof(mod), w);
	if (!is_vfio_module(mod))
		return;
	while ((w = next_word(&s)))
		add_opt(o, mod, w, origin, line);
}

static void parse_file(struct opts *o, const struct conf *f, const char *root)
{
	char *buf, logical[4 * GP_LINE_MAX];
	const char *origin = f->path + strlen(root);
	size_t len, i, n = 0;
	int err, lineno = 1, start = 1;

	buf = gp_read_file(f->path, OPT_FILE_MAX, &len, &err);
	if (!buf)
		return;
	for (i = 0; i <= len; i++) {
		if (i < len && buf[i] != '\n') {
			if (n + 1 < sizeof(logical))
				logical[n++] = buf[i];
			continue;
		}
		/* A backslash at the end joins the next line (both go), as modprobe reads it. */
		if (i < len && n && logical[n - 1] == '\\') {
			n--;
			lineno++;
			continue;
		}
		logical[n] = '\0';
		parse_line(o, logical, origin, start);
		n = 0;
		start = ++lineno;
	}
	free(buf);
}

/* kstrtobool's words, for the kernel's "Y"/"N" display of bool parameters. */
static int as_bool(const char *v)
{
	switch (v[0]) {
	case 'y': case 'Y': case '1':
		return 'Y';
	case 'n': case 'N': case '0':
		return 'N';
	case 'o': case 'O':
		if (v[1] == 'n' || v[1] == 'N')
			return 'Y';
		if (v[1] == 'f' || v[1] == 'F')
			return 'N';
	}
	return 0;
}

static int same_value(const char *want, const char *have)
{
	if ((!strcmp(have, "Y") || !strcmp(have, "N")) && as_bool(want))
		return as_bool(want) == have[0];
	return !strcmp(want, have);
}

/*
 * Compare, warn per difference; returns how many differ. A module that is not
 * loaded has nothing to compare (its options apply when it loads); a
 * parameter the module does not have is a typo the kernel only logs.
 */
int gp_modopts_check(const struct gp_paths *p)
{
	struct opts o = { NULL, 0, NULL, 0 };
	char path[GP_PATH_MAX], have[GP_LINE_MAX];
	int i, bad = 0, r;

	collect(p, &o);
	for (i = 0; i < o.nfiles; i++)
		parse_file(&o, &o.files[i], p->root);
	for (i = 0; i < o.n; i++) {
		const struct opt *v = &o.v[i];

		if (gp_path(path, sizeof(path), "%s/module/%s", p->sysfs, v->mod) < 0 || !gp_is_dir(path))
			continue;
		if (gp_path(path, sizeof(path), "%s/module/%s/parameters/%s", p->sysfs, v->mod,
			    v->param) < 0)
			continue;
		r = gp_read_attr(path, have, sizeof(have));
		if (r == -ENOENT) {
			gp_log(GP_WARN, "%s:%d: %s has no parameter '%s': the kernel ignores it",
			       v->origin, v->line, v->mod, v->param);
			bad++;
		} else if (r < 0) {
			continue;  /* write-only parameters cannot be compared */
		} else if (!same_value(v->value, have)) {
			gp_log(GP_WARN, "%s:%d: options %s %s=%s, but the running module has %s=%s: it loaded before the line was in the initramfs; regenerate it (update-initramfs -u, dracut -f or mkinitcpio -P) and reboot",
			       v->origin, v->line, v->mod, v->param, v->value, v->param, have);
			bad++;
		} else {
			gp_log(GP_INFO, "%s:%d: %s %s=%s, as configured", v->origin, v->line, v->mod,
			       v->param, have);
		}
	}
	for (i = 0; i < o.nfiles; i++)
		free(o.files[i].name);
	free(o.files);
	free(o.v);
	return bad;
}

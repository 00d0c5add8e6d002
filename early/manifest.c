/* SPDX-License-Identifier: MIT */
/*
 * Image manifests: what each kernel's initramfs holds, written by the
 * generators' hooks through `gpupass manifest` while the image is built,
 * and read back by `gpupass check`, per installed kernel. One file per
 * kernel, ROOT/var/lib/gpupass/manifest-KVER:
 *
 *   version 1
 *   generator initramfs-tools|dracut|mkinitcpio
 *   kernel KVER
 *   image PATH
 *   config PATH HASH|none
 *   vfio-pci yes|no
 *   driver NAME builtin|early|udev
 *
 * HASH is gp_hash of the config as the hook found it, the same sum the
 * boot record carries, so the one program computes it at both ends. A
 * driver line names a display driver the image holds (or the kernel has
 * built in), in the order of the table below: builtin binds before any
 * userspace, so before gpupass; early is loaded by the image itself before
 * udev (the generator's module lists, modules-load.d), after gpupass in
 * every flavour of its hooks; udev is loaded only when udev asks for it.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "gpupass.h"

/*
 * The drivers of PCI display functions that take a card before vfio-pci
 * can. bochs was bochs-drm up to Linux 5.x. The firmware framebuffer
 * drivers (simpledrm, efifb) are left out: they drive no PCI function.
 */
static const char *const display[GP_DISPLAY_N] = {
	"amdgpu", "bochs", "bochs_drm", "i915", "nouveau", "nvidia", "nvidia_drm",
	"nvidia_modeset", "radeon", "xe",
};

static const char *const stages[] = { "", "udev", "early", "builtin" };
static const char *const generators[] = { "initramfs-tools", "dracut", "mkinitcpio" };
#define N_GENERATORS ((int)(sizeof(generators) / sizeof(generators[0])))

/*
 * An image built this long before its manifest is still the one the hook
 * saw: the hook writes the manifest while the generator builds, and the
 * generator writes the image file afterwards (compression takes minutes on
 * a slow machine).
 */
#define BUILD_SLACK 3600

static int word_index(const char *w, const char *const *set, int n)
{
	int i;

	for (i = 0; i < n; i++)
		if (!strcmp(w, set[i]))
			return i;
	return -1;
}

/* A kernel version as it names a directory of /usr/lib/modules: no '/', no blank, no leading dot. */
static int valid_kernel(const char *s)
{
	size_t n = strlen(s);

	return n && n < GP_KVER_MAX && s[0] != '.' &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+~-") == n;
}

/* "kernel/drivers/gpu/drm/tiny/bochs-drm.ko.xz" or "bochs-drm": the module name, bochs_drm. */
static void module_name(char *dst, size_t len, const char *s)
{
	const char *base = strrchr(s, '/'), *ko;
	size_t n, i;

	base = base ? base + 1 : s;
	ko = strstr(base, ".ko");
	n = ko ? (size_t)(ko - base) : strlen(base);
	if (n >= len)
		n = len - 1;
	memcpy(dst, base, n);
	dst[n] = '\0';
	for (i = 0; i < n; i++)
		if (dst[i] == '-')
			dst[i] = '_';
}

int gp_display_index(const char *module)
{
	char name[GP_NAME_MAX];

	module_name(name, sizeof(name), module);
	return word_index(name, display, GP_DISPLAY_N);
}

const char *gp_display_name(int i)
{
	return display[i];
}

void gp_manifest_print(FILE *f, const struct gp_manifest *m)
{
	int i;

	fprintf(f, "version 1\ngenerator %s\nkernel %s\nimage %s\n", m->generator, m->kernel, m->image);
	if (m->has_hash)
		fprintf(f, "config %s %016llx\n", m->config, m->hash);
	else
		fprintf(f, "config %s none\n", m->config);
	fprintf(f, "vfio-pci %s\n", m->vfio ? "yes" : "no");
	for (i = 0; i < GP_DISPLAY_N; i++)
		if (m->drv[i])
			fprintf(f, "driver %s %s\n", display[i], stages[m->drv[i]]);
}

/* ---- writing: `gpupass manifest`, run by the hooks ---- */

/* Each line of F names a module file (or a module): what it says about vfio-pci and display drivers. */
static void read_modules(FILE *f, struct gp_manifest *m, int stage)
{
	char line[GP_PATH_MAX], name[GP_NAME_MAX];
	int i, whole = 1;

	while (fgets(line, sizeof(line), f)) {
		size_t n = strlen(line);
		int was_whole = whole;

		whole = n && line[n - 1] == '\n';
		if (whole)
			line[n - 1] = '\0';
		if (!was_whole)
			continue;   /* the rest of a line too long to be a module's path */
		module_name(name, sizeof(name), line);
		if (!strcmp(name, "vfio_pci"))
			m->vfio = 1;
		i = word_index(name, display, GP_DISPLAY_N);
		if (i >= 0 && m->drv[i] < stage)
			m->drv[i] = stage;
	}
}

static void note_list(const char *list, struct gp_manifest *m, int stage)
{
	char word[GP_NAME_MAX];
	const char *s = list;
	size_t n;
	int i;

	while (*s) {
		s += strspn(s, " \t\n,");
		n = strcspn(s, " \t\n,");
		if (!n)
			break;
		snprintf(word, sizeof(word), "%.*s", (int)(n < sizeof(word) ? n : sizeof(word) - 1), s);
		s += n;
		i = gp_display_index(word);
		if (i >= 0 && m->drv[i] < stage)
			m->drv[i] = stage;
		if (!strcmp(word, "vfio_pci") || !strcmp(word, "vfio-pci"))
			m->vfio = 1;
	}
}

/* ROOT/usr/lib/modules/KVER/NAME, or ROOT/lib/modules/KVER/NAME on a system without merged /usr. */
static FILE *open_kernel_file(const struct gp_paths *p, const char *kernel, const char *name)
{
	char path[GP_PATH_MAX];
	FILE *f = NULL;

	if (gp_path(path, sizeof(path), "%s/usr/lib/modules/%s/%s", p->root, kernel, name) == 0)
		f = fopen(path, "r");
	if (!f && gp_path(path, sizeof(path), "%s/lib/modules/%s/%s", p->root, kernel, name) == 0)
		f = fopen(path, "r");
	return f;
}

static int manifest_dir(const struct gp_paths *p, char *buf, size_t len)
{
	return gp_path(buf, len, "%s/var/lib/gpupass", p->root);
}

int gp_cmd_manifest(const struct gp_paths *p, const struct gp_manifest_args *a)
{
	char dir[GP_PATH_MAX], path[GP_PATH_MAX], tmp[GP_PATH_MAX], *conf;
	struct gp_manifest m;
	size_t len;
	FILE *f;
	int err, bad;

	gp_log_to_stdio();
	memset(&m, 0, sizeof(m));
	if (!a->generator || word_index(a->generator, generators, N_GENERATORS) < 0) {
		gp_log(GP_ERR, "manifest: --generator must be initramfs-tools, dracut or mkinitcpio");
		return GP_EXIT_USAGE;
	}
	if (!a->kernel || !valid_kernel(a->kernel)) {
		gp_log(GP_ERR, "manifest: --kernel needs a kernel version (a directory name of /usr/lib/modules)");
		return GP_EXIT_USAGE;
	}
	if (!a->image || a->image[0] != '/' || strlen(a->image) >= sizeof(m.image) ||
	    strpbrk(a->image, "\n\r\t")) {
		gp_log(GP_ERR, "manifest: --image needs the absolute path of the image being built");
		return GP_EXIT_USAGE;
	}
	if (strlen(p->config) >= sizeof(m.config) || strchr(p->config, '\n')) {
		gp_log(GP_ERR, "manifest: %s: path too long", p->config);
		return GP_EXIT_USAGE;
	}
	gp_copy(m.generator, a->generator, sizeof(m.generator));
	gp_copy(m.kernel, a->kernel, sizeof(m.kernel));
	gp_copy(m.image, a->image, sizeof(m.image));
	gp_copy(m.config, p->config, sizeof(m.config));
	conf = gp_read_file(p->config, GP_CONFIG_MAX, &len, &err);
	if (!conf && err != ENOENT) {
		gp_log(GP_ERR, "manifest: cannot read %s: %s", p->config, strerror(err));
		return GP_EXIT_CONFIG;
	}
	m.has_hash = conf != NULL;
	m.hash = conf ? gp_hash(conf, len) : 0;
	free(conf);
	if (a->modules) {
		f = strcmp(a->modules, "-") ? fopen(a->modules, "r") : stdin;
		if (!f) {
			gp_log(GP_ERR, "manifest: cannot read %s: %s", a->modules, strerror(errno));
			return GP_EXIT_USAGE;
		}
		read_modules(f, &m, GP_DRV_UDEV);
		if (f != stdin)
			fclose(f);
	}
	note_list(a->early ? a->early : "", &m, GP_DRV_EARLY);
	f = open_kernel_file(p, a->kernel, "modules.builtin");
	if (f) {
		read_modules(f, &m, GP_DRV_BUILTIN);
		fclose(f);
	}
	if (manifest_dir(p, dir, sizeof(dir)) < 0 ||
	    gp_path(path, sizeof(path), "%s/manifest-%s", dir, a->kernel) < 0 ||
	    gp_path(tmp, sizeof(tmp), "%s/manifest-%s.new", dir, a->kernel) < 0) {
		gp_log(GP_ERR, "manifest: %s: path too long", dir);
		return GP_EXIT_USAGE;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST) {
		gp_log(GP_ERR, "manifest: cannot create %s: %s", dir, strerror(errno));
		return GP_EXIT_CONFIG;
	}
	/* Replaced whole, as the boot record is: check never reads half of one. */
	f = fopen(tmp, "w");
	if (!f) {
		gp_log(GP_ERR, "manifest: cannot write %s: %s", tmp, strerror(errno));
		return GP_EXIT_CONFIG;
	}
	gp_manifest_print(f, &m);
	bad = ferror(f);
	if (fclose(f) != 0 || bad || chmod(tmp, 0644) < 0 || rename(tmp, path) < 0) {
		gp_log(GP_ERR, "manifest: cannot write %s: %s", path, strerror(errno));
		unlink(tmp);
		return GP_EXIT_CONFIG;
	}
	gp_log(GP_NOTICE, "wrote %s", path);
	return GP_EXIT_OK;
}

/* ---- reading back ---- */

struct mread {
	struct gp_manifest *m;
	const char *path;
	int lineno;
	int last;         /* index of the last driver line taken, for their order */
};

#define LINE_MAX_M (2 * GP_PATH_MAX)

static void report(struct mread *r, int lineno, const char *msg, const char *s, size_t n)
{
	char text[128], where[24] = "";

	r->m->errors++;
	if (lineno)
		snprintf(where, sizeof(where), ":%d", lineno);
	if (s)
		gp_quote(text, sizeof(text), s, n);
	gp_log(GP_ERR, "%s%s: %s%s%s%s", r->path, where, msg, s ? ": '" : "", s ? text : "",
	       s ? "'" : "");
}

/* One word, no blank in it: the whole of ARGS. */
static int one_word(const char *args)
{
	return *args && !strchr(args, ' ');
}

static int lower_hex16(const char *s, unsigned long long *val)
{
	char *end;

	if (strlen(s) != 16 || strspn(s, "0123456789abcdef") != 16)
		return -1;
	*val = strtoull(s, &end, 16);
	return *end ? -1 : 0;
}

static const char *parse_version(struct mread *r, char *args)
{
	(void)r;
	return strcmp(args, "1") ? "unknown manifest version (this gpupass reads version 1)" : NULL;
}

static const char *parse_generator(struct mread *r, char *args)
{
	if (word_index(args, generators, N_GENERATORS) < 0)
		return "unknown generator (initramfs-tools, dracut, mkinitcpio)";
	gp_copy(r->m->generator, args, sizeof(r->m->generator));
	return NULL;
}

static const char *parse_kernel(struct mread *r, char *args)
{
	if (!valid_kernel(args))
		return "bad kernel version";
	gp_copy(r->m->kernel, args, sizeof(r->m->kernel));
	return NULL;
}

static const char *parse_image(struct mread *r, char *args)
{
	if (args[0] != '/' || strlen(args) >= sizeof(r->m->image))
		return "bad image path (absolute, shorter than 512 bytes)";
	gp_copy(r->m->image, args, sizeof(r->m->image));
	return NULL;
}

/* config PATH HASH: the path may hold blanks, the hash is the last word. */
static const char *parse_config(struct mread *r, char *args)
{
	char *sp = strrchr(args, ' ');
	unsigned long long h = 0;

	if (!sp || sp == args)
		return "truncated line (config PATH HASH|none)";
	*sp++ = '\0';
	if (strlen(args) >= sizeof(r->m->config))
		return "config path too long";
	if (strcmp(sp, "none") && lower_hex16(sp, &h) < 0)
		return "bad config hash (16 lowercase hex digits, or none)";
	gp_copy(r->m->config, args, sizeof(r->m->config));
	r->m->has_hash = strcmp(sp, "none") != 0;
	r->m->hash = h;
	return NULL;
}

static const char *parse_vfio(struct mread *r, char *args)
{
	if (strcmp(args, "yes") && strcmp(args, "no"))
		return "bad vfio-pci line (yes or no)";
	r->m->vfio = !strcmp(args, "yes");
	return NULL;
}

static const char *parse_driver(struct mread *r, char *args)
{
	char *sp = strchr(args, ' ');
	int i, s;

	if (!sp)
		return "truncated line (driver NAME builtin|early|udev)";
	*sp++ = '\0';
	i = word_index(args, display, GP_DISPLAY_N);
	if (i < 0)
		return "not a display driver gpupass knows";
	if (strchr(sp, ' '))
		return "trailing text";
	s = word_index(sp, stages, 4);
	if (s <= 0)
		return "bad driver stage (builtin, early, udev)";
	if (i <= r->last)
		return "driver repeated or out of order";
	r->last = i;
	r->m->drv[i] = s;
	return NULL;
}

/* The lines in their order: the first six once each, then any number of driver lines. */
static const struct mkind {
	const char *word;
	const char *(*parse)(struct mread *r, char *args);
	int one_word;
} mkinds[] = {
	{ "version", parse_version, 1 },
	{ "generator", parse_generator, 1 },
	{ "kernel", parse_kernel, 1 },
	{ "image", parse_image, 0 },
	{ "config", parse_config, 0 },
	{ "vfio-pci", parse_vfio, 1 },
	{ "driver", parse_driver, 0 },
};
#define N_HEAD 6

static const char *parse_mline(struct mread *r, char *line)
{
	const struct mkind *k;
	char *args = strchr(line, ' ');
	int want = r->lineno <= N_HEAD ? r->lineno - 1 : N_HEAD;

	if (args)
		*args++ = '\0';
	else
		args = line + strlen(line);
	k = &mkinds[want];
	if (strcmp(line, k->word)) {
		int i;

		for (i = 0; i <= N_HEAD && strcmp(line, mkinds[i].word); i++)
			;
		return i > N_HEAD ? "unknown keyword (version, generator, kernel, image, config, vfio-pci, driver)"
				  : "line out of place (version, generator, kernel, image, config, vfio-pci, then driver lines)";
	}
	if (!*args)
		return "truncated line (a value must follow the keyword)";
	if (args[0] == ' ' || args[strlen(args) - 1] == ' ' || strstr(args, "  "))
		return "stray blank (words are separated by one blank)";
	if (k->one_word && !one_word(args))
		return "trailing text";
	return k->parse(r, args);
}

int gp_manifest_parse(struct gp_manifest *m, const char *path, const char *buf, size_t len)
{
	struct mread r;
	char line[LINE_MAX_M];
	const char *nl, *msg;
	size_t start, end, n, i;

	memset(m, 0, sizeof(*m));
	memset(&r, 0, sizeof(r));
	r.m = m;
	r.path = path;
	r.last = -1;
	for (start = 0; start < len; start = end + 1) {
		nl = memchr(buf + start, '\n', len - start);
		end = nl ? (size_t)(nl - buf) : len;
		n = end - start;
		r.lineno++;
		msg = NULL;
		/* The writer ends every line: one without a newline was cut short. */
		if (!nl)
			msg = "truncated line (no newline at its end)";
		else if (n >= sizeof(line))
			msg = "line too long";
		for (i = 0; !msg && i < n; i++)
			if ((unsigned char)buf[start + i] < 0x20 || buf[start + i] == 0x7f)
				msg = "control character in line";
		if (!msg) {
			memcpy(line, buf + start, n);
			line[n] = '\0';
			msg = parse_mline(&r, line);
		}
		if (msg)
			report(&r, r.lineno, msg, buf + start, n);
		/* Another version's lines mean other things: nothing after them is read. */
		if (r.lineno == 1 && msg)
			break;
	}
	if (r.lineno < N_HEAD && !m->errors) {
		char msg2[64];

		snprintf(msg2, sizeof(msg2), "truncated manifest: no %s line", mkinds[r.lineno].word);
		report(&r, 0, msg2, NULL, 0);
	}
	return m->errors ? -1 : 0;
}

/* ---- `gpupass check`, per installed kernel ---- */

/*
 * Only root (or whoever runs check, who could write the answer anyway) may
 * have written a manifest or its directory: one that others can write could
 * say "up to date" about any image.
 */
static int trusted(const char *path, const struct stat *st, int want_dir)
{
	if (want_dir ? !S_ISDIR(st->st_mode) : !S_ISREG(st->st_mode)) {
		gp_log(GP_ERR, "%s: not a %s: not trusted", path, want_dir ? "directory" : "regular file");
		return 0;
	}
	if ((st->st_uid != 0 && st->st_uid != geteuid()) || (st->st_mode & 022)) {
		gp_log(GP_ERR, "%s: owner uid %u, mode %03o: only root may write it, so it is not trusted (chown root: %s && chmod go-w %s)",
		       path, (unsigned)st->st_uid, (unsigned)(st->st_mode & 0777), path, path);
		return 0;
	}
	return 1;
}

static void regen_cmd(char *buf, size_t len, const char *generator, const char *kernel)
{
	if (!strcmp(generator, "initramfs-tools"))
		snprintf(buf, len, "update-initramfs -u -k %s", kernel);
	else if (!strcmp(generator, "dracut"))
		snprintf(buf, len, "dracut -f --kver %s", kernel);
	else if (!strcmp(generator, "mkinitcpio"))
		snprintf(buf, len, "mkinitcpio -P");
	else
		snprintf(buf, len, "update-initramfs -u -k %s, dracut -f --kver %s or mkinitcpio -P",
			 kernel, kernel);
}

/* 0: read and parsed; -ENOENT: none; -EINVAL: there, but not to be believed (said why). */
static int load_manifest(const char *path, struct gp_manifest *m)
{
	struct stat st;
	size_t len;
	char *buf;
	int err;

	memset(m, 0, sizeof(*m));
	if (lstat(path, &st) < 0) {
		if (errno == ENOENT)
			return -ENOENT;
		gp_log(GP_ERR, "%s: cannot read: %s", path, strerror(errno));
		return -EINVAL;
	}
	if (!trusted(path, &st, 0))
		return -EINVAL;
	if (st.st_size > GP_MANIFEST_MAX) {
		gp_log(GP_ERR, "%s: too large (%lld bytes; a manifest is at most %d): not trusted", path,
		       (long long)st.st_size, GP_MANIFEST_MAX);
		return -EINVAL;
	}
	buf = gp_read_file(path, GP_MANIFEST_MAX, &len, &err);
	if (!buf) {
		gp_log(GP_ERR, "%s: cannot read: %s", path, strerror(err));
		return -EINVAL;
	}
	gp_manifest_parse(m, path, buf, len);
	free(buf);
	return m->errors ? -EINVAL : 0;
}

/*
 * What one kernel's image will do: 1 when it will not do what the
 * configuration says. *CURRENT: the image holds the configuration.
 */
static int check_kernel(const struct gp_paths *p, const struct gp_config *c, const char *dir,
			int dir_ok, const char *kernel, int *current)
{
	char path[GP_PATH_MAX], image[GP_PATH_MAX], cmd[GP_PATH_MAX];
	struct gp_manifest m;
	struct stat ist, mst;
	int i, r, bad = 0;

	if (gp_path(path, sizeof(path), "%s/manifest-%s", dir, kernel) < 0)
		return 1;
	r = dir_ok ? load_manifest(path, &m) : -EINVAL;
	if (r == -ENOENT) {
		regen_cmd(cmd, sizeof(cmd), "", kernel);
		gp_log(GP_ERR, "kernel %s: no manifest in %s: its image was built before gpupass was installed, or without its hook; regenerate it (%s)",
		       kernel, dir, cmd);
		return 1;
	}
	if (r < 0 || strcmp(m.kernel, kernel)) {
		regen_cmd(cmd, sizeof(cmd), r < 0 ? "" : m.generator, kernel);
		gp_log(GP_ERR, "kernel %s: %s%s: what its image holds is unknown; regenerate it (%s)",
		       kernel, r < 0 ? "the manifest is not trusted" : "the manifest names another kernel: ",
		       r < 0 ? "" : m.kernel, cmd);
		return 1;
	}
	regen_cmd(cmd, sizeof(cmd), m.generator, kernel);
	if (gp_path(image, sizeof(image), "%s%s", p->root, m.image) < 0 || stat(image, &ist) < 0) {
		gp_log(GP_ERR, "kernel %s: its manifest names %s, which does not exist; regenerate it (%s)",
		       kernel, m.image, cmd);
		return 1;
	}
	if (lstat(path, &mst) == 0 && ist.st_mtime > mst.st_mtime + BUILD_SLACK) {
		gp_log(GP_ERR, "kernel %s: %s is newer than its manifest: it was rebuilt without gpupass's hook (or by hand), so what it holds is unknown; regenerate it (%s)",
		       kernel, m.image, cmd);
		return 1;
	}
	if (m.has_hash != !c->file_missing || (m.has_hash && m.hash != c->hash)) {
		gp_log(GP_ERR, "kernel %s: %s is stale: it holds %s %s; regenerate it (%s)", kernel, m.image,
		       m.has_hash ? "another" : "no", p->config, cmd);
		bad = 1;
	} else {
		gp_log(GP_NOTICE, "kernel %s: %s is up to date with %s", kernel, m.image, p->config);
		*current = 1;
	}
	if (!m.vfio) {
		gp_log(GP_ERR, "kernel %s: vfio-pci is not in %s: gpupass binds nothing when this kernel boots (modinfo -k %s vfio-pci says whether the kernel has it)",
		       kernel, m.image, kernel);
		bad = 1;
	}
	for (i = 0; i < GP_DISPLAY_N; i++) {
		if (m.drv[i] == GP_DRV_BUILTIN)
			gp_log(GP_WARN, "kernel %s: %s is built into the kernel: it binds before gpupass runs, and gpupass unbinds it from the devices it takes",
			       kernel, display[i]);
		else if (m.drv[i] == GP_DRV_EARLY)
			gp_log(GP_NOTICE, "kernel %s: %s loads %s itself, before udev; gpupass runs before that, so it takes the configured devices first",
			       kernel, m.image, display[i]);
	}
	return bad;
}

/*
 * A kernel is installed when its modules directory is there and so is the
 * kernel itself: /boot/vmlinuz-VERSION (Debian) or vmlinuz in that directory
 * (Fedora, Arch). A removed kernel can leave its directory behind, holding
 * DKMS modules or files of no package, and has no image to check.
 */
static int kernel_present(const struct gp_paths *p, const char *moddir, const char *kernel)
{
	char path[GP_PATH_MAX];
	struct stat st;

	if (gp_path(path, sizeof(path), "%s/%s", moddir, kernel) < 0 || !gp_is_dir(path))
		return 0;
	if (gp_path(path, sizeof(path), "%s/%s/vmlinuz", moddir, kernel) == 0 && stat(path, &st) == 0)
		return 1;
	return gp_path(path, sizeof(path), "%s/boot/vmlinuz-%s", p->root, kernel) == 0 &&
	       stat(path, &st) == 0;
}

/* The installed kernels of ROOT/usr/lib/modules and ROOT/lib/modules, sorted, once each. */
static int installed_kernels(const struct gp_paths *p, char ***names, int *n)
{
	static const char *const where[] = { "usr/lib/modules", "lib/modules" };
	char path[GP_PATH_MAX], **v, **all = NULL, **na;
	int i, j, k, nv, cnt = 0;

	for (i = 0; i < 2; i++) {
		if (gp_path(path, sizeof(path), "%s/%s", p->root, where[i]) < 0 ||
		    gp_list_dir(path, &v, &nv) < 0)
			continue;
		for (j = 0; j < nv; j++) {
			for (k = 0; k < cnt && strcmp(all[k], v[j]); k++)
				;
			if (k < cnt || !valid_kernel(v[j]) || !kernel_present(p, path, v[j]))
				continue;
			na = realloc(all, (size_t)(cnt + 1) * sizeof(*all));
			if (!na)
				break;
			all = na;
			all[cnt++] = v[j];
			v[j] = NULL;
		}
		gp_free_list(v, nv);
	}
	gp_sort_names(all, cnt);
	*names = all;
	*n = cnt;
	return 0;
}

/* The number of installed kernels whose image will not do what C says; *RUNNING_CURRENT: uname -r's image holds C. */
int gp_manifest_check(const struct gp_paths *p, const struct gp_config *c, int *running_current)
{
	char dir[GP_PATH_MAX], **kernels;
	struct utsname u;
	struct stat st;
	int i, n, bad = 0, dir_ok = 1, current;

	*running_current = 0;
	if (manifest_dir(p, dir, sizeof(dir)) < 0)
		return 0;
	if (uname(&u) < 0)
		u.release[0] = '\0';
	installed_kernels(p, &kernels, &n);
	if (n && lstat(dir, &st) == 0)
		dir_ok = trusted(dir, &st, 1);
	for (i = 0; i < n; i++) {
		current = 0;
		bad += check_kernel(p, c, dir, dir_ok, kernels[i], &current);
		if (current && !strcmp(kernels[i], u.release))
			*running_current = 1;
	}
	gp_free_list(kernels, n);
	return bad;
}

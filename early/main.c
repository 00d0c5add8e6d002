/* SPDX-License-Identifier: MIT */
/*
 * gpupass COMMAND [OPTIONS]: the commands, their options and exit codes.
 * Only this file turns results into exit codes; the rest never exits.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gpupass.h"

struct ctx {
	struct gp_paths paths;
	int dry_run;            /* --dry-run */
	int json;
	int config_given;       /* --config, --cmdline, --pci-ids were on the command line */
	int cmdline_given;
	int pciids_given;
	struct gp_entry filter; /* list -s, -d: flags 0 lists everything */
	int all;                /* release, claim: --all */
	char **args;            /* release, claim: the targets after the command */
	int nargs;
	struct gp_manifest_args manifest;
};

/*
 * The default /proc/cmdline may be missing (a container): an empty command
 * line. One named by --cmdline must exist; main checks that for the host
 * commands, and here it binds nothing at boot rather than guess.
 */
static int load_config(const struct ctx *x, struct gp_config *c)
{
	const struct gp_paths *p = &x->paths;
	int r;

	memset(c, 0, sizeof(*c));
	r = gp_cmdline_load(c, p->cmdline);
	if (r == -ENOENT && !x->cmdline_given)
		r = 0;
	if (r < 0) {
		gp_log(GP_ERR, "%s: cannot read: %s", p->cmdline,
		       r == -EINVAL ? "not a regular file" : strerror(-r));
		c->errors++;
	}
	return gp_config_load(c, p->config);
}

/*
 * Record the boot's outcome; failing to is logged, never fatal. Only the
 * initramfs run records: `status` and `check` compare the record with now,
 * and a dry run on the host must not replace what the boot did.
 */
static int finish_bind(const struct gp_paths *p, struct gp_config *c, struct gp_plan *plan,
		       const char *mode)
{
	if (gp_in_initramfs(p))
		gp_status_write(p, c, plan, mode);
	else
		gp_log(GP_INFO, "not run from the initramfs: %s/status, the boot's record, left as it is",
		       p->rundir);
	if (plan)
		gp_plan_free(plan);
	gp_config_free(c);
	return GP_EXIT_OK;
}

/*
 * The boot path. It exits 0 whatever happens: a failure here must never
 * stop the boot; it is logged and the host keeps its devices.
 */
static int cmd_bind(struct ctx *x)
{
	const struct gp_paths *p = &x->paths;
	struct gp_config c;
	struct gp_plan plan;
	struct gp_pci pci;
	const char *why = x->dry_run ? "--dry-run" : "gpupass=dry-run";
	int r, i, bound = 0, failed = 0, udevd;

	gp_log_to_kmsg(p->kmsg);
	/* On the host udev always runs; in the initramfs it means the hook came too late. */
	udevd = gp_in_initramfs(p) ? gp_udev_running(p) : 0;
	if (udevd) {
		char who[48];

		if (udevd > 0)
			snprintf(who, sizeof(who), "udevd is process %d", udevd);
		else
			snprintf(who, sizeof(who), "/run/udev/control exists");
		gp_log(GP_ERR, "udev is already running (%s): it started before gpupass, so host drivers may own the devices already; gpupass must run before udev starts: check the hook order in the initramfs and regenerate it",
		       who);
	}
	load_config(x, &c);
	if (c.mode == GP_MODE_OFF) {
		gp_log(GP_NOTICE, "disabled by gpupass=off on the kernel command line: binding nothing");
		return finish_bind(p, &c, NULL, "off");
	}
	if (c.mode == GP_MODE_DRYRUN)
		x->dry_run = 1;
	if (c.errors) {
		gp_log(GP_ERR, "%d error%s in the configuration: binding nothing (fix them, run gpupass check, then regenerate the initramfs)",
		       c.errors, c.errors == 1 ? "" : "s");
		return finish_bind(p, &c, NULL, "error");
	}
	if (!c.n) {
		if (c.file_missing)
			gp_log(GP_NOTICE, "no %s and no gpupass.add= on the kernel command line: nothing to do",
			       p->config);
		else
			gp_log(GP_NOTICE, "%s names no device: nothing to do", p->config);
		return finish_bind(p, &c, NULL, "bind");
	}
	gp_log(GP_NOTICE, "gpupass %s: %d entr%s%s%s%s", GPUPASS_VERSION, c.n, c.n == 1 ? "y" : "ies",
	       x->dry_run ? ", dry-run (" : "", x->dry_run ? why : "",
	       x->dry_run ? "): binding nothing" : "");
	r = gp_pci_open(p, &pci);
	if (r < 0) {
		gp_log(GP_ERR, "cannot read %s/bus/pci/devices: %s: binding nothing", p->sysfs,
		       strerror(-r));
		return finish_bind(p, &c, NULL, "error");
	}
	gp_plan_build(p, &c, &pci, &plan, GP_WARN);
	if (x->dry_run) {
		gp_plan_show(&plan, 1);
	} else {
		gp_bind(p, &plan, c.timeout ? c.timeout : GP_CHILD_TIMEOUT);
		for (i = 0; i < plan.n; i++) {
			if (plan.g[i].refused)
				continue;
			if (plan.g[i].nbound == plan.g[i].nbind && !plan.g[i].returned)
				bound++;
			else
				failed++;
		}
		/* The last line is the one people read: it says whether binding failed. */
		if (failed)
			gp_log(GP_ERR, "failed: %d group%s on vfio-pci, %d not (see above), %d target%s skipped",
			       bound, bound == 1 ? "" : "s", failed, plan.skipped,
			       plan.skipped == 1 ? "" : "s");
		else
			gp_log(plan.skipped ? GP_WARN : GP_NOTICE, "done: %d group%s on vfio-pci, %d target%s skipped",
			       bound, bound == 1 ? "" : "s", plan.skipped, plan.skipped == 1 ? "" : "s");
	}
	finish_bind(p, &c, &plan, x->dry_run ? "dry-run" : "bind");
	gp_pci_free(&pci);
	return GP_EXIT_OK;
}

/* The file decides which devices leave the host: only root may write it. */
static void check_owner(const char *path)
{
	struct stat st;

	if (stat(path, &st) < 0 || S_ISDIR(st.st_mode))
		return;
	if (st.st_uid != 0 || (st.st_mode & 022))
		gp_log(GP_WARN, "%s is writable by others than root (owner uid %u, mode %03o): it decides which devices leave the host; run chown root: %s && chmod go-w %s",
		       path, (unsigned)st.st_uid, (unsigned)(st.st_mode & 0777), path, path);
}

/* RUNNING_CURRENT: the running kernel's image holds the config already (its manifest says so). */
static void check_regenerated(const struct gp_paths *p, int running_current)
{
	if (gp_status_config_changed(p) != 1)
		return;
	if (running_current)
		gp_log(GP_WARN, "%s differs from the one this boot used; the running kernel's image holds it already: reboot to use it",
		       p->config);
	else
		gp_log(GP_WARN, "%s differs from the one this boot used: regenerate the initramfs (update-initramfs -u, or dracut -f) and reboot",
		       p->config);
}

static int cmd_check(struct ctx *x)
{
	const struct gp_paths *p = &x->paths;
	char path[GP_PATH_MAX];
	struct gp_config c;
	struct gp_plan plan;
	struct gp_pci pci;
	int r, rc = GP_EXIT_OK, i, nbind = 0, current = 0;

	gp_log_to_stdio();
	load_config(x, &c);
	check_owner(p->config);
	if (c.file_missing)
		gp_log(GP_WARN, "%s: no such file: the next boot binds %s", p->config,
		       c.n ? "only the gpupass.add= entries" : "nothing");
	if (c.errors) {
		gp_log(GP_ERR, "%d error%s: at boot gpupass would bind nothing", c.errors,
		       c.errors == 1 ? "" : "s");
		gp_config_free(&c);
		return GP_EXIT_CONFIG;
	}
	if (c.mode == GP_MODE_OFF)
		gp_log(GP_NOTICE, "this boot has gpupass=off on its kernel command line");
	else if (c.mode == GP_MODE_DRYRUN)
		gp_log(GP_NOTICE, "this boot has gpupass=dry-run on its kernel command line: it bound nothing");
	/* Each installed kernel's image, from its manifest: exit 8 unless the plan's 3 says more. */
	if (gp_manifest_check(p, &c, &current))
		rc = GP_EXIT_IMAGE;
	check_regenerated(p, current);
	gp_modopts_check(p);
	/* Opened before it is needed: the IOMMU advice depends on the host bridge. */
	r = gp_pci_open(p, &pci);
	if (gp_path(path, sizeof(path), "%s/kernel/iommu_groups", p->sysfs) < 0 ||
	    gp_dir_has_entries(path) != 1) {
		gp_log(GP_ERR, "no IOMMU groups: the IOMMU is off; %s", gp_iommu_advice(r < 0 ? NULL : &pci));
		rc = GP_EXIT_PLAN;
	}
	if (!c.n) {
		gp_log(GP_NOTICE, "no entries: nothing to bind");
		gp_pci_free(&pci);
		gp_config_free(&c);
		return rc;
	}
	if (r < 0) {
		gp_log(GP_ERR, "cannot read %s/bus/pci/devices: %s", p->sysfs, strerror(-r));
		gp_pci_free(&pci);
		gp_config_free(&c);
		return GP_EXIT_PLAN;
	}
	gp_plan_build(p, &c, &pci, &plan, GP_ERR);
	gp_plan_show(&plan, 0);
	for (i = 0; i < plan.n; i++)
		if (!plan.g[i].refused)
			nbind++;
	if (plan.skipped) {
		gp_log(GP_ERR, "%d target%s would not be bound; %d group%s would be", plan.skipped,
		       plan.skipped == 1 ? "" : "s", nbind, nbind == 1 ? "" : "s");
		rc = GP_EXIT_PLAN;
	} else {
		gp_log(GP_NOTICE, "ok: %d group%s would be bound", nbind, nbind == 1 ? "" : "s");
	}
	gp_plan_free(&plan);
	gp_pci_free(&pci);
	gp_config_free(&c);
	return rc;
}

/* The list is the result; what is wrong with the configuration is summed up once, after it. */
static int cmd_list(struct ctx *x)
{
	struct gp_config c;
	int rc;

	gp_log_to_stdio();
	gp_log_quiet(2);
	load_config(x, &c);
	rc = gp_cmd_list(&x->paths, &c, &x->filter);
	gp_log_quiet(0);
	if (c.errors)
		gp_log(GP_WARN, "%d error%s in the configuration: the next boot binds nothing (run gpupass check)",
		       c.errors, c.errors == 1 ? "" : "s");
	else if (c.file_missing && x->config_given)
		gp_log(GP_WARN, "%s: no such file: the next boot binds %s", x->paths.config,
		       c.n ? "only the gpupass.add= entries" : "nothing");
	gp_config_free(&c);
	return rc;
}

static int cmd_status(struct ctx *x)
{
	return gp_cmd_status(&x->paths, x->json);
}

/* release and claim: TARGET... or --all, never both missing. */
static int switch_cmd(struct ctx *x, int (*run)(const struct gp_paths *, const struct gp_switch *))
{
	struct gp_switch s = { x->args, x->nargs, x->all, x->dry_run };

	if (!x->nargs && !x->all) {
		fprintf(stderr, "gpupass: name a target (an address, an id, or ADDRESS,ID) or give --all (see gpupass --help)\n");
		return GP_EXIT_USAGE;
	}
	return run(&x->paths, &s);
}

static int cmd_release(struct ctx *x)
{
	return switch_cmd(x, gp_cmd_release);
}

static int cmd_claim(struct ctx *x)
{
	return switch_cmd(x, gp_cmd_claim);
}

static int cmd_manifest(struct ctx *x)
{
	return gp_cmd_manifest(&x->paths, &x->manifest);
}

static int cmd_help(struct ctx *x);
static int cmd_version(struct ctx *x);

/* The bit of a command in an option's `cmds`: its index in this table. */
enum { C_BIND = 1, C_CHECK = 2, C_LIST = 4, C_STATUS = 8, C_RELEASE = 16, C_CLAIM = 32,
       C_MANIFEST = 64, C_HELP = 128, C_VERSION = 256 };
#define C_ALL 0x1ff
#define C_TARGETS (C_RELEASE | C_CLAIM)

static const struct command {
	const char *name;
	int (*run)(struct ctx *x);
	const char *help;
} commands[] = {
	{ "bind",    cmd_bind,    "bind the configured groups to vfio-pci (the initramfs runs this; always exits 0)" },
	{ "check",   cmd_check,   "validate the configuration and show what the next boot would bind" },
	{ "list",    cmd_list,    "list IOMMU groups with their devices, drivers and what the next boot does" },
	{ "status",  cmd_status,  "after boot: is every planned function on vfio-pci, is each group viable" },
	{ "release", cmd_release, "TARGET...|--all: hand the targets' groups to the host drivers now" },
	{ "claim",   cmd_claim,   "TARGET...|--all: take the targets' groups from the host drivers to vfio-pci now" },
	{ "manifest", cmd_manifest, "record what a kernel's initramfs holds (the generators' hooks run this)" },
	{ "help",    cmd_help,    "this text" },
	{ "version", cmd_version, "the version" },
};
#define N_COMMANDS ((int)(sizeof(commands) / sizeof(commands[0])))

/*
 * Every option. `arg` names the value in the help ("FILE"), `need` says
 * what is missing when it is not given; `cmds` are the commands it is for.
 * The paths are for every command, so that one set of them can be given
 * to each (tests, another machine's tree).
 */
static const struct option {
	const char *name;
	const char *arg, *need;
	const char *help;
	unsigned cmds;
	char letter;
} options[] = {
	{ "config", "FILE", "a file", "configuration (default /etc/gpupass.conf)", C_ALL, 0 },
	{ "cmdline", "FILE", "a file", "kernel command line (default /proc/cmdline)", C_ALL, 0 },
	{ "sysfs", "DIR", "a directory", "sysfs root (default /sys)", C_ALL, 0 },
	{ "kmsg", "FILE", "a file", "kernel log device (default /dev/kmsg)", C_ALL, 0 },
	{ "run", "DIR", "a directory", "status record directory (default /run/gpupass)", C_ALL, 0 },
	{ "dev", "DIR", "a directory", "device directory, for /dev/vfio (default /dev)", C_ALL, 0 },
	{ "modprobe", "PATH", "a path", "modprobe to load vfio-pci (default: searched)", C_ALL, 0 },
	{ "pci-ids", "FILE", "a file", "PCI names database (default: searched)", C_ALL, 0 },
	{ "proc", "DIR", "a directory", "process directory, for who holds /dev/vfio (default /proc)", C_ALL, 0 },
	{ "root", "DIR", "a directory", "where the initramfs markers, /run/udev, modprobe.d, /var/lib/gpupass, /usr/lib/modules and /boot are (default /)", C_ALL, 0 },
	{ "dry-run", NULL, NULL, "say what would be done, change nothing", C_BIND | C_TARGETS, 0 },
	{ "all", NULL, NULL, "every group bound at boot (release) or configured (claim)", C_TARGETS, 0 },
	{ "json", NULL, NULL, "print JSON", C_STATUS, 0 },
	{ "generator", "NAME", "initramfs-tools, dracut or mkinitcpio", "the generator building the image", C_MANIFEST, 0 },
	{ "kernel", "VERSION", "a kernel version", "the kernel the image is for", C_MANIFEST, 0 },
	{ "image", "PATH", "a path", "the image being built", C_MANIFEST, 0 },
	{ "early", "LIST", "a list of modules", "modules the image loads before udev", C_MANIFEST, 0 },
	{ "modules", "FILE", "a file", "the image's module files, one a line (-: standard input)", C_MANIFEST, 0 },
	{ NULL, "ADDR", "an address ([domain:]bus:device.function, as lspci -s)",
	  "only the groups holding the function at ADDR", C_LIST, 's' },
	{ NULL, "VENDOR:DEVICE", "a vendor:device id (as lspci -d)",
	  "only the groups holding a function with this id", C_LIST, 'd' },
	{ "help", NULL, NULL, "this text", C_ALL, 'h' },
	{ "version", NULL, NULL, "the version", C_ALL, 'V' },
};
#define N_OPTIONS ((int)(sizeof(options) / sizeof(options[0])))

/* "status", "bind and check": the commands an option is for, for messages. */
static void command_names(unsigned cmds, char *buf, size_t len)
{
	int i, n = 0, total = 0;

	for (i = 0; i < N_COMMANDS; i++)
		total += (int)((cmds >> i) & 1);
	buf[0] = '\0';
	for (i = 0; i < N_COMMANDS; i++) {
		if (!((cmds >> i) & 1))
			continue;
		n++;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			 n == 1 ? "" : n == total ? " and " : ", ", commands[i].name);
	}
}

static void usage(FILE *f)
{
	char name[48], only[48];
	int i;

	fprintf(f, "usage: gpupass COMMAND [OPTIONS]\n\ncommands:\n");
	for (i = 0; i < N_COMMANDS; i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\noptions:\n");
	for (i = 0; i < N_OPTIONS; i++) {
		const struct option *o = &options[i];

		if (o->name && o->letter)
			snprintf(name, sizeof(name), "-%c, --%s", o->letter, o->name);
		else if (o->name)
			snprintf(name, sizeof(name), "--%s%s%s", o->name, o->arg ? " " : "",
				 o->arg ? o->arg : "");
		else
			snprintf(name, sizeof(name), "-%c %s", o->letter, o->arg);
		only[0] = '\0';
		if (o->cmds != C_ALL)
			command_names(o->cmds, only, sizeof(only));
		fprintf(f, "  %-18s %s%s%s\n", name, only, only[0] ? ": " : "", o->help);
	}
	fprintf(f, "\nexit status: 0 ok, 1 configuration errors, 2 usage, 3 a target is (or would be)\n"
		"left unbound, 4 a group is not viable, 5 gpupass did not run in this boot,\n"
		"6 every function is on vfio-pci but a group has no /dev/vfio node,\n"
		"7 a process (a VM) holds a group open, 8 an installed kernel's initramfs is stale,\n"
		"lacks vfio-pci or has no manifest\n");
}

static int cmd_help(struct ctx *x)
{
	(void)x;
	usage(stdout);
	return GP_EXIT_OK;
}

static int cmd_version(struct ctx *x)
{
	(void)x;
	printf("gpupass %s\n", GPUPASS_VERSION);
	return GP_EXIT_OK;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static int usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("gpupass: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see gpupass --help)\n", stderr);
	return GP_EXIT_USAGE;
}

/* -s and -d take what a config line takes, through the same parser: KIND is GP_E_ADDR or GP_E_ID. */
static int set_filter(struct ctx *x, const struct option *o, const char *val, unsigned kind)
{
	char buf[GP_LINE_MAX], opt[3] = { '-', o->letter, '\0' };
	const char *msg, *bad;
	struct gp_entry e;

	memset(&e, 0, sizeof(e));
	if (!val)
		return usage_error("%s needs %s", opt, o->need);
	if (strlen(val) >= sizeof(buf))
		return usage_error("%s: too long: '%s'", opt, val);
	gp_copy(buf, val, sizeof(buf));
	msg = gp_parse_entry(buf, &e, &bad);
	if (!msg && e.flags != kind)
		return usage_error("%s needs %s", opt, o->need);
	if (msg) {
		fprintf(stderr, "gpupass: %s: %s: '%s'\n", opt, msg, bad);
		return GP_EXIT_USAGE;
	}
	x->filter.flags |= kind;
	if (kind == GP_E_ADDR) {
		x->filter.domain = e.domain;
		x->filter.bus = e.bus;
		x->filter.dev = e.dev;
		x->filter.fn = e.fn;
	} else {
		x->filter.vendor = e.vendor;
		x->filter.device = e.device;
	}
	return GP_EXIT_OK;
}

/* Returns GP_EXIT_OK, or the exit status to leave with (usage printed). */
static int apply(struct ctx *x, const struct option *o, const char *val)
{
	struct gp_paths *p = &x->paths;

	if (o->letter == 's')
		return set_filter(x, o, val, GP_E_ADDR);
	if (o->letter == 'd')
		return set_filter(x, o, val, GP_E_ID);
	if (o->letter == 'h')
		return -1;
	if (o->letter == 'V')
		return -2;
	if (!strcmp(o->name, "config")) {
		p->config = val;
		x->config_given = 1;
	} else if (!strcmp(o->name, "cmdline")) {
		p->cmdline = val;
		x->cmdline_given = 1;
	} else if (!strcmp(o->name, "sysfs")) {
		p->sysfs = val;
	} else if (!strcmp(o->name, "kmsg")) {
		p->kmsg = val;
	} else if (!strcmp(o->name, "run")) {
		p->rundir = val;
	} else if (!strcmp(o->name, "dev")) {
		p->devdir = val;
	} else if (!strcmp(o->name, "modprobe")) {
		p->modprobe = val;
	} else if (!strcmp(o->name, "pci-ids")) {
		p->pciids = val;
		x->pciids_given = 1;
	} else if (!strcmp(o->name, "proc")) {
		p->procdir = val;
	} else if (!strcmp(o->name, "root")) {
		p->root = val && strcmp(val, "/") ? val : "";
	} else if (!strcmp(o->name, "dry-run")) {
		x->dry_run = 1;
	} else if (!strcmp(o->name, "all")) {
		x->all = 1;
	} else if (!strcmp(o->name, "json")) {
		x->json = 1;
	} else if (!strcmp(o->name, "generator")) {
		x->manifest.generator = val;
	} else if (!strcmp(o->name, "kernel")) {
		x->manifest.kernel = val;
	} else if (!strcmp(o->name, "image")) {
		x->manifest.image = val;
	} else if (!strcmp(o->name, "early")) {
		x->manifest.early = val;
	} else if (!strcmp(o->name, "modules")) {
		x->manifest.modules = val;
	}
	return GP_EXIT_OK;
}

/*
 * Options follow the command: --name VALUE, --name=VALUE, -s VALUE, -sVALUE.
 * Each mistake is named: a user must not have to guess which word was wrong.
 */
static int parse_options(struct ctx *x, unsigned cmd, int argc, char **argv)
{
	char only[48], shown[GP_LINE_MAX];
	const struct option *o;
	const char *a, *val;
	size_t n;
	int i, k, r;

	for (i = 2; i < argc; i++) {
		a = argv[i];
		/* release and claim take targets, before or after the options. */
		if ((cmd & C_TARGETS) && !strcmp(a, "--")) {
			while (++i < argc)
				x->args[x->nargs++] = argv[i];
			break;
		}
		if ((cmd & C_TARGETS) && (a[0] != '-' || !a[1])) {
			x->args[x->nargs++] = argv[i];
			continue;
		}
		if (!strcmp(a, "--") && i + 1 < argc)
			return usage_error("unexpected argument '%s'", argv[i + 1]);
		if (!strcmp(a, "--"))
			break;
		if (a[0] != '-' || !a[1])
			return usage_error("unexpected argument '%s'", a);
		val = NULL;
		o = NULL;
		if (a[1] == '-') {
			n = strcspn(a + 2, "=");
			if (a[2 + n])
				val = a + 3 + n;
			for (k = 0; k < N_OPTIONS && !o; k++)
				if (options[k].name && strlen(options[k].name) == n &&
				    !strncmp(options[k].name, a + 2, n))
					o = &options[k];
			snprintf(shown, sizeof(shown), "%.*s", (int)(n + 2), a);
		} else {
			for (k = 0; k < N_OPTIONS && !o; k++)
				if (options[k].letter == a[1])
					o = &options[k];
			if (o && a[2] && !o->arg)
				o = NULL;   /* "-hV": one letter at a time */
			if (o && a[2])
				val = a + 2;
			if (o)
				snprintf(shown, sizeof(shown), "-%c", a[1]);
			else
				snprintf(shown, sizeof(shown), "%s", a);
		}
		if (!o)
			return usage_error("unknown option '%s'", shown);
		if (!(o->cmds & cmd)) {
			command_names(o->cmds, only, sizeof(only));
			return usage_error("%s is only for %s", shown, only);
		}
		if (!o->arg && val)
			return usage_error("%s takes no value", shown);
		/* "--sysfs --json": the next option is not the directory. */
		if (o->arg && !val && i + 1 < argc && (argv[i + 1][0] != '-' || !argv[i + 1][1]))
			val = argv[++i];
		if (o->arg && (!val || !*val))
			return usage_error("%s needs %s", shown, o->need);
		r = apply(x, o, val);
		if (r)
			return r;
	}
	return GP_EXIT_OK;
}

/* An input file named on the command line must exist: a typo must not pass as "nothing there". */
static int named_input_missing(const char *opt, int given, const char *path)
{
	struct stat st;

	if (!given || stat(path, &st) == 0 || errno != ENOENT)
		return 0;
	fprintf(stderr, "gpupass: %s %s: no such file\n", opt, path);
	return 1;
}

int main(int argc, char **argv)
{
	struct ctx x;
	const struct command *cmd = NULL;
	unsigned bit = 0;
	int i, r;

	memset(&x, 0, sizeof(x));
	x.paths.sysfs = "/sys";
	x.paths.config = "/etc/gpupass.conf";
	x.paths.cmdline = "/proc/cmdline";
	x.paths.kmsg = "/dev/kmsg";
	x.paths.rundir = "/run/gpupass";
	x.paths.devdir = "/dev";
	x.paths.procdir = "/proc";
	x.paths.root = "";
	if (argc < 2) {
		usage(stderr);
		return GP_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))
		return cmd_help(&x);
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version"))
		return cmd_version(&x);
	for (i = 0; i < N_COMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name)) {
			cmd = &commands[i];
			bit = 1u << i;
		}
	if (!cmd) {
		fprintf(stderr, "gpupass: unknown command '%s' (bind, check, list, status, release, claim, manifest, help, version)\n",
			argv[1]);
		return GP_EXIT_USAGE;
	}
	/* At most every word after the command is a target. */
	x.args = calloc((size_t)argc, sizeof(*x.args));
	if (!x.args) {
		fprintf(stderr, "gpupass: out of memory\n");
		return GP_EXIT_USAGE;
	}
	r = parse_options(&x, bit, argc, argv);
	if (r == -1)
		r = cmd_help(&x);
	else if (r == -2)
		r = cmd_version(&x);
	/* bind never refuses to run: a missing --cmdline is logged there and binds nothing. */
	else if (!r && bit != C_BIND &&
		 (named_input_missing("--cmdline", x.cmdline_given, x.paths.cmdline) ||
		  (bit == C_LIST && named_input_missing("--pci-ids", x.pciids_given, x.paths.pciids))))
		r = GP_EXIT_USAGE;
	else if (!r)
		r = cmd->run(&x);
	free(x.args);
	return r;
}

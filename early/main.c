/* SPDX-License-Identifier: MIT */
/*
 * gpupass COMMAND [OPTIONS]: the commands, their options and exit codes.
 * Only this file turns results into exit codes; the rest never exits.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "gpupass.h"

struct ctx {
	struct gp_paths paths;
	int dry_run;
	int json;
	int all;
	char **args;   /* what follows the options: release and claim targets */
	int nargs;
};

static int load_config(const struct gp_paths *p, struct gp_config *c)
{
	int r;

	memset(c, 0, sizeof(*c));
	r = gp_cmdline_load(c, p->cmdline);
	if (r < 0) {
		gp_log(GP_ERR, "%s: cannot read: %s", p->cmdline,
		       r == -EINVAL ? "not a regular file" : strerror(-r));
		c->errors++;
	}
	return gp_config_load(c, p->config);
}

/* Record the boot's outcome; failing to is logged, never fatal. */
static int finish_bind(const struct gp_paths *p, struct gp_config *c, struct gp_plan *plan,
		       const char *mode)
{
	gp_status_write(p, c, plan, mode);
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
	int r, i, bound = 0;

	gp_log_to_kmsg(p->kmsg);
	load_config(p, &c);
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
	gp_log(GP_NOTICE, "gpupass %s: %d entr%s%s", GPUPASS_VERSION, c.n, c.n == 1 ? "y" : "ies",
	       x->dry_run ? ", dry-run (gpupass=dry-run): binding nothing" : "");
	r = gp_pci_open(p, &pci);
	if (r < 0) {
		gp_log(GP_ERR, "cannot read %s/bus/pci/devices: %s: binding nothing", p->sysfs,
		       strerror(-r));
		return finish_bind(p, &c, NULL, "error");
	}
	gp_plan_build(p, &c, &pci, &plan);
	if (x->dry_run) {
		gp_plan_show(&plan, 1);
	} else {
		gp_bind(p, &plan);
		for (i = 0; i < plan.n; i++)
			bound += !plan.g[i].refused && plan.g[i].nbound == plan.g[i].nbind;
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

static void check_regenerated(const struct gp_paths *p)
{
	if (gp_status_config_changed(p) == 1)
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
	int r, rc = GP_EXIT_OK, i, nbind = 0;

	gp_log_to_stdio();
	load_config(p, &c);
	check_owner(p->config);
	if (c.file_missing)
		gp_log(GP_NOTICE, "%s: no such file", p->config);
	if (c.errors) {
		gp_log(GP_ERR, "%d error%s: at boot gpupass would bind nothing", c.errors,
		       c.errors == 1 ? "" : "s");
		gp_config_free(&c);
		return GP_EXIT_CONFIG;
	}
	if (c.mode == GP_MODE_OFF)
		gp_log(GP_NOTICE, "this boot has gpupass=off on its kernel command line");
	check_regenerated(p);
	if (gp_path(path, sizeof(path), "%s/kernel/iommu_groups", p->sysfs) < 0 ||
	    gp_dir_has_entries(path) != 1) {
		gp_log(GP_ERR, "no IOMMU groups: the IOMMU is off (add intel_iommu=on or amd_iommu=on to the kernel command line)");
		rc = GP_EXIT_PLAN;
	}
	if (!c.n) {
		gp_log(GP_NOTICE, "no entries: nothing to bind");
		gp_config_free(&c);
		return rc;
	}
	r = gp_pci_open(p, &pci);
	if (r < 0) {
		gp_log(GP_ERR, "cannot read %s/bus/pci/devices: %s", p->sysfs, strerror(-r));
		gp_config_free(&c);
		return GP_EXIT_PLAN;
	}
	gp_plan_build(p, &c, &pci, &plan);
	gp_plan_show(&plan, 0);
	for (i = 0; i < plan.n; i++)
		if (!plan.g[i].refused)
			nbind++;
	if (plan.skipped) {
		gp_log(GP_WARN, "%d target%s would not be bound; %d group%s would be", plan.skipped,
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

static int cmd_list(struct ctx *x)
{
	struct gp_config c;
	int rc;

	gp_log_to_stdio();
	gp_log_quiet(2);
	load_config(&x->paths, &c);
	gp_log_quiet(0);
	rc = gp_cmd_list(&x->paths, &c);
	if (c.errors)
		printf("(%s has errors, so targets may be missing above: run gpupass check)\n",
		       x->paths.config);
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
		fprintf(stderr, "gpupass: name a target (an address, an id, or ADDRESS,ID) or give --all\n");
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

static const struct command {
	const char *name;
	int (*run)(struct ctx *x);
	const char *help;
	int targets;   /* takes TARGET arguments */
} commands[] = {
	{ "bind",   cmd_bind,   "bind the configured groups to vfio-pci (the initramfs runs this; always exits 0)", 0 },
	{ "check",  cmd_check,  "validate the configuration and show what the next boot would bind", 0 },
	{ "list",   cmd_list,   "list IOMMU groups with their devices, drivers and targets", 0 },
	{ "status", cmd_status, "after boot: is every planned function on vfio-pci, is each group viable", 0 },
	{ "release", cmd_release, "TARGET...|--all: hand the targets' groups to the host drivers now", 1 },
	{ "claim",  cmd_claim,  "TARGET...|--all: take the targets' groups from the host drivers to vfio-pci now", 1 },
};

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: gpupass COMMAND [OPTIONS]\n\ncommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-8s %s\n", commands[i].name, commands[i].help);
	fprintf(f, "\noptions:\n"
		"  --config FILE    configuration (default /etc/gpupass.conf)\n"
		"  --cmdline FILE   kernel command line (default /proc/cmdline)\n"
		"  --sysfs DIR      sysfs root (default /sys)\n"
		"  --kmsg FILE      kernel log device (default /dev/kmsg)\n"
		"  --run DIR        status record directory (default /run/gpupass)\n"
		"  --dev DIR        device directory, for /dev/vfio (default /dev)\n"
		"  --proc DIR       process directory, for who holds /dev/vfio (default /proc)\n"
		"  --modprobe PATH  modprobe for vfio-pci and host drivers (default: searched)\n"
		"  --pci-ids FILE   PCI names database (default: searched)\n"
		"  --dry-run        bind, release, claim: show the plan, change nothing\n"
		"  --all            release: every group on vfio-pci; claim: the configuration's\n"
		"  --json           status: print JSON\n"
		"  -h, --help       this text\n"
		"  -V, --version    the version\n\n"
		"exit status: 0 ok, 1 configuration errors, 2 usage, 3 a target is (or would be)\n"
		"left unbound (or not released), 4 a group is not viable, 5 gpupass did not run\n"
		"in this boot, 6 a process (a VM) holds a group open\n");
}

static const struct option options[] = {
	{ "config", required_argument, NULL, 'c' },
	{ "cmdline", required_argument, NULL, 'k' },
	{ "sysfs", required_argument, NULL, 's' },
	{ "kmsg", required_argument, NULL, 'm' },
	{ "run", required_argument, NULL, 'r' },
	{ "dev", required_argument, NULL, 'd' },
	{ "modprobe", required_argument, NULL, 'M' },
	{ "pci-ids", required_argument, NULL, 'i' },
	{ "dry-run", no_argument, NULL, 'n' },
	{ "json", no_argument, NULL, 'j' },
	{ "proc", required_argument, NULL, 'P' },
	{ "all", no_argument, NULL, 'a' },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

int main(int argc, char **argv)
{
	struct ctx x = { { "/sys", "/etc/gpupass.conf", "/proc/cmdline", "/dev/kmsg",
			   "/run/gpupass", "/dev", NULL, NULL, "/proc" }, 0, 0, 0, NULL, 0 };
	const struct command *cmd = NULL;
	size_t i;
	int opt, rc;

	if (argc < 2) {
		usage(stderr);
		return GP_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help")) {
		usage(stdout);
		return GP_EXIT_OK;
	}
	if (!strcmp(argv[1], "-V") || !strcmp(argv[1], "--version")) {
		printf("gpupass %s\n", GPUPASS_VERSION);
		return GP_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(argv[1], commands[i].name))
			cmd = &commands[i];
	if (!cmd) {
		fprintf(stderr, "gpupass: unknown command '%s' (bind, check, list, status, release, claim; see --help)\n",
			argv[1]);
		return GP_EXIT_USAGE;
	}
	/*
	 * Options follow the command: argv[1] plays argv[0] for getopt. Targets may come before options or after them. glibc's getopt_long
	 * moves them to the end; klibc's stops at the first one: so take each
	 * one where getopt stops, and go on.
	 */
	x.args = calloc((size_t)argc, sizeof(*x.args));
	if (!x.args)
		return GP_EXIT_USAGE;
	for (;;) {
		opt = getopt_long(argc - 1, argv + 1, "+hV", options, NULL);
		if (opt == -1) {
			if (optind >= argc - 1)
				break;
			if (!cmd->targets) {
				fprintf(stderr, "gpupass: unexpected argument '%s'\n", argv[optind + 1]);
				free(x.args);
				return GP_EXIT_USAGE;
			}
			x.args[x.nargs++] = argv[1 + optind++];
			continue;
		}
		switch (opt) {
		case 'c': x.paths.config = optarg; break;
		case 'k': x.paths.cmdline = optarg; break;
		case 's': x.paths.sysfs = optarg; break;
		case 'm': x.paths.kmsg = optarg; break;
		case 'r': x.paths.rundir = optarg; break;
		case 'd': x.paths.devdir = optarg; break;
		case 'M': x.paths.modprobe = optarg; break;
		case 'i': x.paths.pciids = optarg; break;
		case 'n': x.dry_run = 1; break;
		case 'j': x.json = 1; break;
		case 'P': x.paths.procdir = optarg; break;
		case 'a': x.all = 1; break;
		case 'h': usage(stdout); free(x.args); return GP_EXIT_OK;
		case 'V': printf("gpupass %s\n", GPUPASS_VERSION); free(x.args); return GP_EXIT_OK;
		default:
			fprintf(stderr, "gpupass: see gpupass --help\n");
			free(x.args);
			return GP_EXIT_USAGE;
		}
	}
	rc = cmd->run(&x);
	free(x.args);
	return rc;
}

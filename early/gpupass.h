/* SPDX-License-Identifier: MIT */
/*
 * gpupass: hand whole IOMMU groups to vfio-pci from the initramfs.
 *
 * One header for the whole program; each .c file is one concern:
 *   sysfs.c    attribute and link I/O under the one sysfs root
 *   log.c      /dev/kmsg records (boot) or plain lines (host commands)
 *   config.c   entry syntax and /etc/gpupass.conf
 *   cmdline.c  gpupass= and gpupass.add= on the kernel command line
 *   pci.c      the PCI function table read from sysfs
 *   iommu.c    IOMMU group members and the VFIO viability query
 *   plan.c     targets -> groups -> what to bind, with the safety policy
 *   bind.c     carrying a plan out through driver_override
 *   status.c   the /run/gpupass record and `gpupass status`
 *   list.c     `gpupass list` and pci.ids names
 *   switch.c   `gpupass release` and `gpupass claim`: groups to the host and back
 *   holder.c   which process holds a VFIO group open
 *   run.c      child processes (modprobe) with a time limit
 *   initrd.c   whether bind runs from the initramfs, and whether udev beat it there
 *   modopts.c  modprobe.d options of the vfio modules against the running ones
 *   manifest.c what each kernel's initramfs holds: `gpupass manifest`, and check's part
 *   main.c     commands, options, exit codes
 *
 * It builds with klcc (klibc, static, for the initramfs) and with gcc or
 * clang against glibc (tests, sanitizers), so it stays inside what klibc has.
 */
#ifndef GPUPASS_H
#define GPUPASS_H

#include <stddef.h>
#include <stdio.h>

#ifndef GPUPASS_VERSION
#define GPUPASS_VERSION "0.1.0"
#endif

#define GP_ADDR_MAX 24     /* "dddddddd:bb:dd.f" and a NUL */
#define GP_NAME_MAX 64     /* driver names, group member names */
#define GP_PATH_MAX 512
#define GP_LINE_MAX 256    /* longest config line or gpupass.add= value */
#define GP_CONFIG_MAX (1 << 20)

/* Exit codes: a contract with scripts, documented in README and gpupass(8). */
enum {
	GP_EXIT_OK = 0,
	GP_EXIT_CONFIG = 1,   /* check: configuration has errors */
	GP_EXIT_USAGE = 2,    /* bad command line for gpupass itself */
	GP_EXIT_PLAN = 3,     /* check: a target would not be bound; status: not all on vfio-pci */
	GP_EXIT_VIABLE = 4,   /* status: a group is not viable for a VM */
	GP_EXIT_NORECORD = 5, /* status: gpupass did not run in this boot */
	GP_EXIT_NODE = 6,     /* status: every function on vfio-pci, but no /dev/vfio/N */
	GP_EXIT_BUSY = 7,     /* release, claim: a process (a VM) holds the group open */
	GP_EXIT_IMAGE = 8,    /* check: an installed kernel's initramfs would not do what the config says */
};

/* Every path gpupass touches is built from these; tests point them at fixtures. */
struct gp_paths {
	const char *sysfs;    /* /sys */
	const char *config;   /* /etc/gpupass.conf */
	const char *cmdline;  /* /proc/cmdline */
	const char *kmsg;     /* /dev/kmsg */
	const char *rundir;   /* /run/gpupass */
	const char *devdir;   /* /dev */
	const char *modprobe; /* NULL: search the usual places */
	const char *pciids;   /* NULL: search the usual places */
	const char *procdir;  /* /proc, scanned for processes holding /dev/vfio/N */
	const char *root;     /* "": /; the initramfs markers, /run/udev, /var/lib/gpupass,
			       * /usr/lib/modules and /boot are looked for under it */
};

/* ---- sysfs.c ---- */
int gp_path(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
int gp_read_attr(const char *path, char *buf, size_t len);
int gp_read_attr_at(int dir, const char *name, char *buf, size_t len);
int gp_read_hex(int dir, const char *name, unsigned *val);
long gp_hex_field(const char *s, const char *end, int min, int max);
int gp_read_int(int dir, const char *name, int *val);
int gp_parse_dec(const char *s, int max, int *val);
int gp_read_link_base(const char *path, char *buf, size_t len);
int gp_read_link_base_at(int dir, const char *name, char *buf, size_t len);
int gp_write_attr(const char *path, const char *text);
int gp_is_dir(const char *path);
void gp_copy(char *dst, const char *src, size_t len);
char *gp_read_file(const char *path, size_t max, size_t *len, int *err);
int gp_list_dir(const char *path, char ***names, int *n);
int gp_list_dir_raw(const char *path, char ***names, int *n);
void gp_sort_names(char **names, int n);
int gp_dir_has_entries(const char *path);
void gp_free_list(char **names, int n);

/* ---- log.c ---- */
enum { GP_ERR = 3, GP_WARN = 4, GP_NOTICE = 5, GP_INFO = 6 };
void gp_log_to_kmsg(const char *kmsg_path);
void gp_log_to_stdio(void);
void gp_log_to_both(const char *kmsg_path);
void gp_log_quiet(int quiet);
void gp_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int gp_log_count(int level);
void gp_quote(char *dst, size_t len, const char *s, size_t n);

/* ---- config.c ---- */
#define GP_E_ADDR  0x1u
#define GP_E_ID    0x2u
#define GP_E_ALLOW 0x4u

struct gp_entry {
	const char *origin;   /* file name, or "kernel command line" */
	int line;             /* line in the file, or the parameter's position */
	unsigned flags;
	unsigned domain, bus, dev, fn;
	unsigned vendor, device;
	char text[GP_LINE_MAX];  /* as written, for messages */
};

enum { GP_MODE_ON, GP_MODE_OFF, GP_MODE_DRYRUN };

struct gp_config {
	struct gp_entry *v;
	int n, cap;
	int errors;
	int mode;
	int mode_seen;          /* gpupass= was on the command line */
	int file_missing;
	int timeout;            /* gpupass.timeout= seconds; 0: GP_CHILD_TIMEOUT */
	unsigned long long hash;  /* FNV-1a of the file as read; 0 when missing */
};

const char *gp_parse_entry(char *text, struct gp_entry *e, const char **bad);
const char *gp_parse_target(char *text, struct gp_entry *e, const char **bad);
int gp_config_add(struct gp_config *c, const struct gp_entry *e);
int gp_config_load(struct gp_config *c, const char *path);
void gp_config_free(struct gp_config *c);
unsigned long long gp_hash(const char *buf, size_t len);
void gp_entry_addr(const struct gp_entry *e, char *buf, size_t len);

/* ---- cmdline.c ---- */
int gp_cmdline_load(struct gp_config *c, const char *path);
void gp_cmdline_parse(struct gp_config *c, char *line);

/* ---- pci.c ---- */
struct gp_dev {
	char addr[GP_ADDR_MAX];
	unsigned vendor, device, class;
	int header;        /* PCI header type (without the multi-function bit); -1 unknown */
	int boot_vga;      /* 1, 0, or -1 when the attribute is absent */
	int numvfs;        /* sriov_numvfs, -1 when absent */
	int group;         /* IOMMU group, -1 when there is no iommu_group link */
	char driver[GP_NAME_MAX];    /* "" when unbound */
	const char *unreadable;      /* attribute (or "directory") that could not be read, or NULL */
	const struct gp_entry *named; /* first entry that names this function */
	const struct gp_entry *unsure; /* an id entry that matches it but does not name it */
	int doubt;         /* an entry failed closed on this function */
};

/*
 * The functions read so far, sorted by address. A function is read on its
 * first gp_pci_find(), so planning for address entries touches only the
 * named functions and their group members (and 0000:00:00.0, to name the
 * IOMMU parameter when a target has no group); gp_pci_match() reads two
 * attributes of every function for entries that may match anywhere, and
 * gp_pci_scan() reads everything, for `gpupass list`. The functions live
 * in chunks that never move: a gp_dev pointer stays valid as the table
 * grows.
 */
struct gp_chunk;

struct gp_pci {
	const struct gp_paths *p;
	struct gp_dev **v;
	int n, cap;
	int listed;        /* v holds every function of bus/pci/devices */
	int fd;            /* bus/pci/devices, open: each function is one openat() */
	struct gp_chunk *chunks;
};

int gp_valid_addr(const char *s);
int gp_pci_open(const struct gp_paths *p, struct gp_pci *pci);
int gp_pci_match(struct gp_pci *pci, unsigned vendor, unsigned device, char ***addrs, int *n);
int gp_pci_scan(const struct gp_paths *p, struct gp_pci *pci);
void gp_pci_free(struct gp_pci *pci);
struct gp_dev *gp_pci_find(struct gp_pci *pci, const char *addr);
int gp_pci_index(const struct gp_pci *pci, const char *addr);
int gp_pci_refresh_driver(const struct gp_paths *p, struct gp_dev *d);
int gp_is_bridge(const struct gp_dev *d);
const char *gp_critical_kind(const struct gp_dev *d);
int gp_same_model_risk(const struct gp_dev *d);
const char *gp_class_name(unsigned class);

/* ---- iommu.c ---- */
int gp_group_members(const struct gp_paths *p, int group, char ***names, int *n);
/* NONODE: no /dev/vfio/N, which vfio makes once a member is on vfio-pci. IN_USE: a VM holds it. */
enum { GP_VIABLE_YES = 1, GP_VIABLE_NO = 0, GP_VIABLE_UNKNOWN = -1, GP_VIABLE_NONODE = -2,
       GP_VIABLE_IN_USE = 2 };
int gp_group_viable(const struct gp_paths *p, int group, char *why, size_t len);
const char *gp_iommu_advice(struct gp_pci *pci);

/* ---- plan.c ---- */
enum { GP_ROLE_BIND, GP_ROLE_BRIDGE, GP_ROLE_FOREIGN };

struct gp_member {
	char name[GP_NAME_MAX];
	struct gp_dev *d;      /* NULL for a member that is not a PCI function */
	int role;
};

struct gp_group {
	int id;
	int refused;
	int allow;             /* an entry naming this group said allow-critical */
	struct gp_member *m;
	int n;
	int nbind;             /* members with GP_ROLE_BIND */
	int nbound;            /* after binding: how many are on vfio-pci */
	int returned;          /* bind gave it back to the host drivers whole */
};

struct gp_plan {
	struct gp_group *g;
	int n;
	int skipped;           /* entries or groups that will not be bound */
};

struct gp_group *gp_plan_group(struct gp_plan *plan, int id);
int gp_plan_build(const struct gp_paths *p, const struct gp_config *c,
		  struct gp_pci *pci, struct gp_plan *plan, int absent);
void gp_plan_free(struct gp_plan *plan);
void gp_plan_show(const struct gp_plan *plan, int dry_run);
void gp_dev_describe(const struct gp_dev *d, char *buf, size_t len);

/* ---- bind.c ---- */
int gp_bind(const struct gp_paths *p, struct gp_plan *plan, int timeout);

/* ---- status.c ---- */
/* The record read back: only the lines that parsed; every other one was reported and counted. */
struct gp_status_fn {
	char addr[GP_ADDR_MAX];
	unsigned vendor, device;
};

struct gp_status_group {
	int id;
	const char *state;        /* bound, partial, refused or planned */
	int bound, total;         /* on vfio-pci after the boot, of the functions it planned */
	struct gp_status_fn *f;   /* the function lines that parsed */
	int nf;
};

struct gp_status {
	const char *mode;         /* bind, dry-run, off or error; NULL without a good mode line */
	char config[GP_PATH_MAX]; /* the config the boot read; "" without a good config line */
	int has_hash;             /* the file existed, and hash is its gp_hash */
	unsigned long long hash;
	struct gp_status_group *g;
	int ng;
	int errors;               /* bad lines (and a cut record end), reported and left out */
};

int gp_status_parse(struct gp_status *st, const char *path, const char *buf, size_t len);
void gp_status_free(struct gp_status *st);
int gp_status_write(const struct gp_paths *p, const struct gp_config *c,
		    const struct gp_plan *plan, const char *mode);
int gp_status_config_changed(const struct gp_paths *p);
int gp_cmd_status(const struct gp_paths *p, int json);
int gp_status_load(const struct gp_paths *p, struct gp_status *st);
int gp_status_set_group(struct gp_status *st, const struct gp_group *g, const char *state);
int gp_status_save(const struct gp_paths *p, const struct gp_status *st);

/* ---- run.c ---- */
#define GP_CHILD_TIMEOUT 60   /* seconds a modprobe may take before it is killed */
#define GP_TIMEOUT_MAX 600    /* the most gpupass.timeout= may ask for */
const char *gp_find_modprobe(const struct gp_paths *p);
int gp_run(const char *prog, char *const argv[], int timeout);

/* ---- initrd.c ---- */
int gp_in_initramfs(const struct gp_paths *p);
int gp_udev_running(const struct gp_paths *p);

/* ---- modopts.c ---- */
int gp_modopts_check(const struct gp_paths *p);

/* ---- holder.c ---- */
int gp_group_holder(const struct gp_paths *p, const struct gp_group *g, int *pid,
		    char *comm, size_t len);

/* ---- switch.c ---- */
struct gp_switch {
	char **targets;        /* as given on the command line */
	int n;
	int all;               /* release: every group the record has on vfio-pci; claim: the configuration */
	int dry_run;
};
int gp_cmd_release(const struct gp_paths *p, const struct gp_switch *s);
int gp_cmd_claim(const struct gp_paths *p, const struct gp_switch *s);

/* ---- manifest.c ---- */
#define GP_MANIFEST_MAX 65536
#define GP_KVER_MAX 128
#define GP_DISPLAY_N 10        /* display drivers a manifest can name */
enum { GP_DRV_NONE, GP_DRV_UDEV, GP_DRV_EARLY, GP_DRV_BUILTIN };

struct gp_manifest {
	char generator[16];
	char kernel[GP_KVER_MAX];
	char image[GP_PATH_MAX];
	char config[GP_PATH_MAX];
	int has_hash;             /* the config existed, and hash is its gp_hash */
	unsigned long long hash;
	int vfio;                 /* vfio-pci is in the image (or built in) */
	int drv[GP_DISPLAY_N];    /* per gp_display_name(i): GP_DRV_* */
	int errors;               /* bad lines, each reported */
};

/* `gpupass manifest`: what the hook knows; the rest is read by the program. */
struct gp_manifest_args {
	const char *generator;    /* initramfs-tools, dracut, mkinitcpio */
	const char *kernel;
	const char *image;        /* the image being built */
	const char *early;        /* modules the image loads before udev, blank- or comma-separated */
	const char *modules;      /* file listing the image's module files, "-": stdin */
};

int gp_display_index(const char *module);
const char *gp_display_name(int i);
void gp_manifest_print(FILE *f, const struct gp_manifest *m);
int gp_manifest_parse(struct gp_manifest *m, const char *path, const char *buf, size_t len);
int gp_cmd_manifest(const struct gp_paths *p, const struct gp_manifest_args *a);
int gp_manifest_check(const struct gp_paths *p, const struct gp_config *c, int *running_current);

/* ---- list.c ---- */
int gp_cmd_list(const struct gp_paths *p, const struct gp_config *c, const struct gp_entry *filter);

#endif

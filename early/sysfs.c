/* SPDX-License-Identifier: MIT */
/*
 * Plain checked I/O on sysfs attributes and links. Every function returns
 * 0 or a length on success and -errno on failure; callers add the path.
 * The _at forms read relative to an open directory: a function's eight
 * attributes then cost one path walk through bus/pci/devices, not eight.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "gpupass.h"

/* snprintf that reports truncation: a cut path would name another file. */
int gp_path(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= len) {
		buf[0] = '\0';
		return -ENAMETOOLONG;
	}
	return 0;
}

void gp_copy(char *dst, const char *src, size_t len)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * One read() per attribute: sysfs hands the whole value to the first read,
 * and an attribute larger than the buffer is not one we understand.
 */
int gp_read_attr_at(int dir, const char *name, char *buf, size_t len)
{
	int fd, e;
	ssize_t n;

	/* buf is a string whatever happens, so no caller can read stale bytes. */
	buf[0] = '\0';
	fd = openat(dir, name, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	buf[n] = '\0';
	if ((size_t)n == len - 1)
		return -EOVERFLOW;
	if (memchr(buf, '\0', (size_t)n))
		return -EINVAL;
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return (int)n;
}

int gp_read_attr(const char *path, char *buf, size_t len)
{
	return gp_read_attr_at(AT_FDCWD, path, buf, len);
}

/* 0-15 for a hex digit, -1 for anything else. */
static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Exactly min..max hex digits from s up to end, nothing else; -1 otherwise. */
long gp_hex_field(const char *s, const char *end, int min, int max)
{
	long v = 0;
	int n = (int)(end - s), i, h;

	if (n < min || n > max)
		return -1;
	for (i = 0; i < n; i++) {
		h = hex_digit(s[i]);
		if (h < 0)
			return -1;
		v = v * 16 + h;
	}
	return v;
}

/*
 * vendor, device and class read "0x%04x" / "0x%06x": accept exactly that
 * shape, hex digits alone after the 0x. strtoul would also take blanks, a
 * sign and a second 0x, and klibc reads "0x0x" as 0: a class of 0 would
 * pass a storage controller off as harmless.
 */
int gp_read_hex(int dir, const char *name, unsigned *val)
{
	char buf[32];
	long v;
	int n = gp_read_attr_at(dir, name, buf, sizeof(buf));

	if (n < 0)
		return n;
	if (n < 3 || buf[0] != '0' || (buf[1] != 'x' && buf[1] != 'X'))
		return -EINVAL;
	v = gp_hex_field(buf + 2, buf + n, 1, 8);
	if (v < 0)
		return -EINVAL;
	*val = (unsigned)v;
	return 0;
}

/*
 * A decimal number as the kernel prints one: digits alone (strtoull would
 * also take blanks and a sign), no leading zero, at most MAX. klibc's
 * strtoull neither saturates nor sets ERANGE on overflow (it wraps), so
 * bounding the digits is what keeps both builds in range and alike.
 */
int gp_parse_dec(const char *s, int max, int *val)
{
	size_t n = strspn(s, "0123456789");
	unsigned long long v;
	char *end;

	if (n == 0 || n > 10 || s[n] || (s[0] == '0' && n > 1))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > (unsigned long long)max)
		return -EINVAL;
	*val = (int)v;
	return 0;
}

int gp_read_int(int dir, const char *name, int *val)
{
	char buf[32];
	int n = gp_read_attr_at(dir, name, buf, sizeof(buf));

	return n < 0 ? n : gp_parse_dec(buf, 1000000, val);
}

/* Links such as driver and iommu_group matter only by their last component. */
int gp_read_link_base_at(int dir, const char *name, char *buf, size_t len)
{
	char target[GP_PATH_MAX];
	const char *base;
	ssize_t n = readlinkat(dir, name, target, sizeof(target) - 1);

	if (n < 0)
		return -errno;
	target[n] = '\0';
	while (n > 1 && target[n - 1] == '/')
		target[--n] = '\0';
	base = strrchr(target, '/');
	base = base ? base + 1 : target;
	if (!*base || strlen(base) >= len)
		return -EINVAL;
	gp_copy(buf, base, len);
	return 0;
}

int gp_read_link_base(const char *path, char *buf, size_t len)
{
	return gp_read_link_base_at(AT_FDCWD, path, buf, len);
}

/* sysfs takes a value in one write(); a short write means it was not taken. */
int gp_write_attr(const char *path, const char *text)
{
	size_t len = strlen(text);
	ssize_t n;
	int fd, e;

	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, text, len);
	e = errno;
	if (close(fd) < 0 && n >= 0)
		return -errno;
	if (n < 0)
		return -e;
	if ((size_t)n != len)
		return -EIO;
	return 0;
}

int gp_is_dir(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/* Whole small files (config, cmdline, status record, pci.ids) in one buffer. */
char *gp_read_file(const char *path, size_t max, size_t *len, int *err)
{
	struct stat st;
	size_t cap = 4096, n = 0;
	char *buf, *nb;
	ssize_t r;
	int fd;

	*err = 0;
	/* O_NONBLOCK: opening a FIFO put where a file belongs would wait forever. */
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		*err = errno;
		return NULL;
	}
	if (fstat(fd, &st) < 0)
		*err = errno;
	else if (!S_ISREG(st.st_mode))
		*err = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
	if (*err) {
		close(fd);
		return NULL;
	}
	/* Sized from the file, pci.ids (1.4 MB) takes one read instead of ten reallocs. */
	if (st.st_size > 0 && (size_t)st.st_size < max && (size_t)st.st_size >= cap)
		cap = (size_t)st.st_size + 1;
	buf = malloc(cap + 1);
	if (!buf) {
		close(fd);
		*err = ENOMEM;
		return NULL;
	}
	for (;;) {
		if (n == cap) {
			if (cap >= max) {
				*err = EFBIG;
				break;
			}
			cap *= 2;
			nb = realloc(buf, cap + 1);
			if (!nb) {
				*err = ENOMEM;
				break;
			}
			buf = nb;
		}
		r = read(fd, buf + n, cap - n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			*err = errno;
			break;
		}
		if (r == 0)
			break;
		n += (size_t)r;
	}
	close(fd);
	if (*err) {
		free(buf);
		return NULL;
	}
	buf[n] = '\0';
	*len = n;
	return buf;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

void gp_sort_names(char **names, int n)
{
	if (n > 1)
		qsort(names, (size_t)n, sizeof(*names), cmp_names);
}

/* Directory entries in the directory's own order, without "." and "..". */
int gp_list_dir_raw(const char *path, char ***names, int *n)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	char **v = NULL, **nv;
	int cnt = 0, cap = 0, e = 0;

	*names = NULL;
	*n = 0;
	if (!dir)
		return -errno;
	while ((de = readdir(dir))) {
		if (de->d_name[0] == '.')
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 32;
			nv = realloc(v, (size_t)cap * sizeof(*v));
			if (!nv) {
				e = -ENOMEM;
				break;
			}
			v = nv;
		}
		v[cnt] = strdup(de->d_name);
		if (!v[cnt]) {
			e = -ENOMEM;
			break;
		}
		cnt++;
	}
	closedir(dir);
	if (e) {
		gp_free_list(v, cnt);
		return e;
	}
	*names = v;
	*n = cnt;
	return 0;
}

/* Directory entries, sorted by name, without "." and "..". */
int gp_list_dir(const char *path, char ***names, int *n)
{
	int r = gp_list_dir_raw(path, names, n);

	if (r == 0)
		gp_sort_names(*names, *n);
	return r;
}

/* 1 when PATH lists a name that does not start with a dot, 0 when not, -errno when unreadable. */
int gp_dir_has_entries(const char *path)
{
	DIR *dir = opendir(path);
	struct dirent *de;
	int found = 0;

	if (!dir)
		return -errno;
	while (!found && (de = readdir(dir)))
		found = de->d_name[0] != '.';
	closedir(dir);
	return found;
}

void gp_free_list(char **names, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

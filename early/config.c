/* SPDX-License-Identifier: MIT */
/*
 * The entry syntax, shared by /etc/gpupass.conf and gpupass.add=:
 *
 *   entry  = word { blank word }
 *   word   = address | id | "allow-critical"
 *   address = [domain ":"] bus ":" device "." function   (lspci -s)
 *   id     = vendor ":" device                          (lspci -d, 4 hex digits each)
 *
 * At most one address and one id per entry, and at least one of them.
 * The parser is strict on purpose: a typo must never name another device.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupass.h"

static const char *parse_addr(const char *w, struct gp_entry *e)
{
	const char *dot = strrchr(w, '.'), *c1, *c2;
	long dom = 0, bus, dev, fn;

	if (strchr(w, '/') || strstr(w, ".."))
		return "not a PCI address (bus:device.function)";
	c2 = NULL;
	for (c1 = w; *c1; c1++)
		if (*c1 == ':')
			c2 = c1;
	if (!c2 || c2 > dot)
		return "not a PCI address (bus:device.function)";
	for (c1 = c2 - 1; c1 >= w && *c1 != ':'; c1--)
		;
	if (c1 >= w) {
		const char *c0;

		for (c0 = c1 - 1; c0 >= w; c0--)
			if (*c0 == ':')
				return "not a PCI address (bus:device.function)";
		dom = gp_hex_field(w, c1, 1, 8);
		if (dom < 0)
			return "bad PCI domain (1 to 8 hex digits)";
		bus = gp_hex_field(c1 + 1, c2, 1, 2);
	} else {
		bus = gp_hex_field(w, c2, 1, 2);
	}
	if (bus < 0)
		return "bad PCI bus number (00 to ff)";
	dev = gp_hex_field(c2 + 1, dot, 1, 2);
	if (dev < 0 || dev > 0x1f)
		return "bad PCI device number (00 to 1f)";
	fn = gp_hex_field(dot + 1, dot + strlen(dot), 1, 1);
	if (fn < 0 || fn > 7)
		return "bad PCI function number (0 to 7)";
	e->domain = (unsigned)dom;
	e->bus = (unsigned)bus;
	e->dev = (unsigned)dev;
	e->fn = (unsigned)fn;
	return NULL;
}

static const char *parse_id(const char *w, struct gp_entry *e)
{
	const char *colon = strchr(w, ':');
	long v, d;

	if (strchr(w, '*'))
		return "wildcards are not supported: name the vendor:device id";
	if (!colon || strchr(colon + 1, ':'))
		return "not a vendor:device id";
	v = gp_hex_field(w, colon, 4, 4);
	d = gp_hex_field(colon + 1, colon + strlen(colon), 4, 4);
	if (v < 0 || d < 0)
		return "a vendor:device id has 4 hex digits on each side, as lspci -nn shows";
	if (v == 0xffff)
		return "ffff is no vendor";
	e->vendor = (unsigned)v;
	e->device = (unsigned)d;
	return NULL;
}

/*
 * Parse one entry (already stripped of its comment) in place. Returns NULL,
 * or a message with *bad pointing at the offending word; the caller says where.
 */
const char *gp_parse_entry(char *text, struct gp_entry *e, const char **bad)
{
	const char *msg;
	char *p = text, *w;

	e->flags = 0;
	*bad = text;
	for (;;) {
		while (*p == ' ' || *p == '\t' || *p == '\r')
			p++;
		if (!*p)
			break;
		w = p;
		while (*p && *p != ' ' && *p != '\t' && *p != '\r')
			p++;
		if (*p)
			*p++ = '\0';
		*bad = w;
		if (!strcmp(w, "allow-critical")) {
			if (e->flags & GP_E_ALLOW)
				return "allow-critical given twice";
			e->flags |= GP_E_ALLOW;
		} else if (strchr(w, '.') || strchr(w, '/')) {
			if (e->flags & GP_E_ADDR)
				return "a second address in one entry (one device per line)";
			msg = parse_addr(w, e);
			if (msg)
				return msg;
			e->flags |= GP_E_ADDR;
		} else if (strchr(w, ':')) {
			if (e->flags & GP_E_ID) {
				return "a second id in one entry (one device per line)";
			}
			msg = parse_id(w, e);
			if (msg) {
				/* "02:00" is a cut address more often than an id. */
				if (strlen(w) < 9 && !strchr(w, '*'))
					return "neither a vendor:device id (4+4 hex digits) nor an address (bus:device.function)";
				return msg;
			}
			e->flags |= GP_E_ID;
		} else {
			return "unknown word (expected an address, a vendor:device id or allow-critical)";
		}
	}
	if (!(e->flags & (GP_E_ADDR | GP_E_ID))) {
		*bad = text;
		return "allow-critical needs an address or an id on the same line";
	}
	return NULL;
}

/*
 * A target of release or claim: one command-line argument holding one
 * entry, its words separated by blanks or, as in gpupass.add=, by commas
 * ("01:00.0,10de:1e84"), so that it needs no quoting.
 */
const char *gp_parse_target(char *text, struct gp_entry *e, const char **bad)
{
	char *c;

	*bad = text;
	if (strlen(text) >= GP_LINE_MAX)
		return "longer than 255 characters";
	for (c = text; *c; c++)
		if (*c == ',')
			*c = ' ';
	return gp_parse_entry(text, e, bad);
}

void gp_entry_addr(const struct gp_entry *e, char *buf, size_t len)
{
	snprintf(buf, len, "%04x:%02x:%02x.%x", e->domain, e->bus, e->dev, e->fn);
}

static int same_entry(const struct gp_entry *a, const struct gp_entry *b)
{
	if ((a->flags & ~GP_E_ALLOW) != (b->flags & ~GP_E_ALLOW))
		return 0;
	if ((a->flags & GP_E_ADDR) && (a->domain != b->domain || a->bus != b->bus ||
				       a->dev != b->dev || a->fn != b->fn))
		return 0;
	if ((a->flags & GP_E_ID) && (a->vendor != b->vendor || a->device != b->device))
		return 0;
	return 1;
}

int gp_config_add(struct gp_config *c, const struct gp_entry *e)
{
	struct gp_entry *nv;
	int i;

	for (i = 0; i < c->n; i++) {
		if (same_entry(&c->v[i], e)) {
			/* Harmless, but a sign the file was edited twice. */
			gp_log(GP_WARN, "%s:%d: '%s' repeats %s:%d", e->origin, e->line,
			       e->text, c->v[i].origin, c->v[i].line);
			if (e->flags & GP_E_ALLOW)
				c->v[i].flags |= GP_E_ALLOW;
			return 0;
		}
	}
	if (c->n == c->cap) {
		c->cap = c->cap ? c->cap * 2 : 16;
		nv = realloc(c->v, (size_t)c->cap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		c->v = nv;
	}
	c->v[c->n++] = *e;
	return 0;
}

unsigned long long gp_hash(const char *buf, size_t len)
{
	unsigned long long h = 1469598103934665603ULL;
	size_t i;

	for (i = 0; i < len; i++) {
		h ^= (unsigned char)buf[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* A whole line's trouble: bytes that no entry can contain. */
static const char *line_trouble(const char *s, size_t n)
{
	size_t i;

	if (n >= GP_LINE_MAX)
		return "line longer than 255 characters";
	for (i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];

		if (ch == '\0')
			return "NUL byte in line";
		if (ch >= 0x80)
			return "non-ASCII byte in line";
		if (ch < 0x20 && ch != '\t' && ch != '\r')
			return "control character in line";
	}
	return NULL;
}

/*
 * One line. A comment may hold any bytes (an editor's UTF-8, a name with an
 * accent): only the text before '#' must be an entry.
 */
static void config_line(struct gp_config *c, const char *path, int lineno,
			const char *s, size_t n)
{
	struct gp_entry e;
	char buf[GP_LINE_MAX], shown[96];
	const char *msg, *bad, *hash;
	size_t i;

	memset(&e, 0, sizeof(e));
	hash = memchr(s, '#', n);
	if (hash)
		n = (size_t)(hash - s);
	msg = line_trouble(s, n);
	if (msg) {
		gp_quote(shown, sizeof(shown), s, n);
		gp_log(GP_ERR, "%s:%d: %s: '%s'", path, lineno, msg, shown);
		c->errors++;
		return;
	}
	memcpy(buf, s, n);
	buf[n] = '\0';
	for (i = strlen(buf); i > 0 && (buf[i - 1] == ' ' || buf[i - 1] == '\t' || buf[i - 1] == '\r'); i--)
		buf[i - 1] = '\0';
	for (i = 0; buf[i] == ' ' || buf[i] == '\t' || buf[i] == '\r'; i++)
		;
	if (!buf[i])
		return;
	gp_copy(e.text, buf + i, sizeof(e.text));
	e.origin = path;
	e.line = lineno;
	msg = gp_parse_entry(buf + i, &e, &bad);
	if (msg) {
		gp_log(GP_ERR, "%s:%d: %s: '%s'", path, lineno, msg, bad);
		c->errors++;
		return;
	}
	if (gp_config_add(c, &e) < 0) {
		gp_log(GP_ERR, "%s:%d: out of memory", path, lineno);
		c->errors++;
	}
}

/*
 * Load the file, reporting every bad line (not just the first) and counting
 * them in c->errors. A missing file is not an error: nothing to do.
 */
int gp_config_load(struct gp_config *c, const char *path)
{
	size_t len = 0, start, i;
	int err, lineno = 0;
	char *buf;

	buf = gp_read_file(path, GP_CONFIG_MAX, &len, &err);
	if (!buf) {
		if (err == ENOENT) {
			c->file_missing = 1;
			return 0;
		}
		gp_log(GP_ERR, "%s: cannot read: %s", path,
		       err == EFBIG ? "larger than 1 MiB" :
		       err == EINVAL ? "not a regular file" : strerror(err));
		c->errors++;
		return -err;
	}
	c->hash = gp_hash(buf, len);
	start = 0;
	/* Notepad and some Windows editors begin UTF-8 files with a byte-order mark. */
	if (len >= 3 && !memcmp(buf, "\xef\xbb\xbf", 3)) {
		gp_log(GP_WARN, "%s:1: UTF-8 byte-order mark skipped (an editor added it; it is harmless)",
		       path);
		start = 3;
	}
	for (i = start; i <= len; i++) {
		if (i < len && buf[i] != '\n')
			continue;
		lineno++;
		if (i > start || i < len)
			config_line(c, path, lineno, buf + start, i - start);
		start = i + 1;
	}
	free(buf);
	return 0;
}

void gp_config_free(struct gp_config *c)
{
	free(c->v);
	c->v = NULL;
	c->n = c->cap = 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The status record as `gpupass status` and `gpupass check` read it back
 * from /run/gpupass/status: whatever the bytes, gp_status_parse keeps only
 * what gp_status_write could have written. Every group and function it
 * keeps is in range and safe to put in a sysfs path, and a record it
 * takes without an error is, byte for byte, what the writer prints for
 * what was parsed: no damaged line passes for a good one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const states[] = { "bound", "partial", "refused", "planned", "released",
				      "claimed" };

static int known_state(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++)
		if (!strcmp(s, states[i]))
			return 1;
	return 0;
}

/* The record gp_status_write prints for this content (same formats). */
static void rewrite(FILE *f, const struct gp_status *st)
{
	int i, j;

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
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	struct gp_status st;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;
	int i, j, r;

	if (!quiet) {
		gp_log_to_kmsg("/dev/null");
		quiet = 1;
	}
	r = gp_status_parse(&st, "status", (const char *)data, size);
	if ((r == 0) != (st.errors == 0) || st.errors < 0)
		abort();
	for (i = 0; i < st.ng; i++) {
		const struct gp_status_group *g = &st.g[i];

		if (g->id < 0 || !known_state(g->state) || g->bound < 0 || g->bound > g->total ||
		    g->nf < 0 || g->nf > g->total)
			abort();
		/* released: the host has every function; claimed: vfio-pci has them all. */
		if ((!strcmp(g->state, "released") && g->bound != 0) ||
		    (!strcmp(g->state, "claimed") && g->bound != g->total))
			abort();
		for (j = 0; j < i; j++)
			if (st.g[j].id == g->id)
				abort();
		for (j = 0; j < g->nf; j++) {
			const struct gp_status_fn *fn = &g->f[j];

			if (!memchr(fn->addr, '\0', sizeof(fn->addr)) || strchr(fn->addr, '/') ||
			    strstr(fn->addr, "..") || strlen(fn->addr) < 12 ||
			    fn->vendor > 0xffff || fn->device > 0xffff)
				abort();
		}
	}
	if (!memchr(st.config, '\0', sizeof(st.config)))
		abort();
	if (st.errors == 0) {
		if (!st.mode || !st.config[0])
			abort();
		f = open_memstream(&out, &outlen);
		if (!f)
			abort();
		rewrite(f, &st);
		if (fclose(f) != 0 || outlen != size || memcmp(out, data, size))
			abort();
		free(out);
	}
	gp_status_free(&st);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * An image manifest as `gpupass check` reads it from /var/lib/gpupass:
 * whatever the bytes, gp_manifest_parse keeps only what gp_manifest_print
 * could have written. Every field it keeps is in range (the kernel version
 * is safe in a path, the image path absolute, every driver stage known),
 * and a manifest it takes without an error is, byte for byte, what the
 * writer prints for what was parsed: no damaged line passes for a good one.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gpupass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int terminated(const char *s, size_t len)
{
	return memchr(s, '\0', len) != NULL;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int quiet;
	struct gp_manifest m;
	char *out = NULL;
	size_t outlen = 0;
	FILE *f;
	int i, r;

	if (!quiet) {
		gp_log_to_kmsg("/dev/null");
		quiet = 1;
	}
	r = gp_manifest_parse(&m, "manifest", (const char *)data, size);
	if ((r == 0) != (m.errors == 0) || m.errors < 0)
		abort();
	if (!terminated(m.generator, sizeof(m.generator)) || !terminated(m.kernel, sizeof(m.kernel)) ||
	    !terminated(m.image, sizeof(m.image)) || !terminated(m.config, sizeof(m.config)))
		abort();
	if (strchr(m.kernel, '/') || strchr(m.kernel, ' ') || m.kernel[0] == '.')
		abort();
	if (m.image[0] && m.image[0] != '/')
		abort();
	for (i = 0; i < GP_DISPLAY_N; i++)
		if (m.drv[i] < GP_DRV_NONE || m.drv[i] > GP_DRV_BUILTIN)
			abort();
	if (m.errors == 0) {
		if (!m.generator[0] || !m.kernel[0] || !m.image[0] || !m.config[0])
			abort();
		f = open_memstream(&out, &outlen);
		if (!f)
			abort();
		gp_manifest_print(f, &m);
		if (fclose(f) != 0 || outlen != size || memcmp(out, data, size))
			abort();
		free(out);
	}
	return 0;
}

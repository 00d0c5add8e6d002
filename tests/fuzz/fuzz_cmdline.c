/* SPDX-License-Identifier: MIT */
/*
 * The kernel command line: gpupass=, gpupass.add= and everything else the
 * boot loader puts there, quotes included. The parser works in place, so
 * the input is copied and NUL-terminated as /proc/cmdline's reader does.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpupass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int init;
	struct gp_config c;
	char *line;
	int i;

	if (!init) {
		gp_log_to_kmsg("/dev/null");
		init = 1;
	}
	if (size > 65536 || memchr(data, '\0', size))
		return -1;   /* gp_cmdline_load refuses both before parsing */
	line = malloc(size + 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	line[size] = '\0';
	memset(&c, 0, sizeof(c));
	gp_cmdline_parse(&c, line);
	if (c.mode != GP_MODE_ON && c.mode != GP_MODE_OFF && c.mode != GP_MODE_DRYRUN)
		abort();
	for (i = 0; i < c.n; i++)
		if (!(c.v[i].flags & (GP_E_ADDR | GP_E_ID)) || c.v[i].line < 1)
			abort();
	gp_config_free(&c);
	free(line);
	return 0;
}

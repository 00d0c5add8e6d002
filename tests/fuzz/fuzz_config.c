/* SPDX-License-Identifier: MIT */
/*
 * The whole /etc/gpupass.conf loader: the input is the file. It goes
 * through a memfd so that gp_config_load reads it by path, as it does
 * at boot, without touching the disk.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "gpupass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	struct gp_config c;
	int i;

	if (fd < 0) {
		fd = memfd_create("gpupass.conf", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
		gp_log_to_kmsg("/dev/null");
	}
	if (ftruncate(fd, 0) < 0 || pwrite(fd, data, size, 0) != (ssize_t)size)
		abort();
	memset(&c, 0, sizeof(c));
	gp_config_load(&c, path);
	for (i = 0; i < c.n; i++) {
		const struct gp_entry *e = &c.v[i];

		if (!(e->flags & (GP_E_ADDR | GP_E_ID)) || e->line < 1 ||
		    !memchr(e->text, '\0', sizeof(e->text)))
			abort();
		if ((e->flags & GP_E_ADDR) && (e->bus > 0xff || e->dev > 0x1f || e->fn > 7))
			abort();
	}
	gp_config_free(&c);
	return 0;
}

/* SPDX-License-Identifier: MIT */
/*
 * The entry syntax (config lines and gpupass.add= values): whatever the
 * bytes, gp_parse_entry either rejects the text or yields an entry that
 * names a real PCI address or id. A parse that accepts an out-of-range
 * number would hand another device to vfio-pci. The same holds for
 * gp_parse_target, the path of release and claim targets (commas too).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gpupass.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* PARSE either yields a real entry or says where the text is bad. */
static void one(const char *(*parse)(char *, struct gp_entry *, const char **),
		const uint8_t *data, size_t size)
{
	struct gp_entry e;
	const char *msg, *bad;
	char *text;

	text = malloc(size + 1);
	if (!text)
		return;
	memcpy(text, data, size);
	text[size] = '\0';
	memset(&e, 0, sizeof(e));
	msg = parse(text, &e, &bad);
	/* bad points into the text the caller owns, whatever the outcome. */
	if (bad < text || bad > text + size)
		abort();
	if (!msg) {
		if (!(e.flags & (GP_E_ADDR | GP_E_ID)))
			abort();
		if ((e.flags & GP_E_ADDR) && (e.bus > 0xff || e.dev > 0x1f || e.fn > 7))
			abort();
		if ((e.flags & GP_E_ID) && (e.vendor >= 0xffff || e.device > 0xffff))
			abort();
	}
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size >= GP_LINE_MAX)
		return -1;
	one(gp_parse_entry, data, size);
	one(gp_parse_target, data, size);
	return 0;
}

# SPDX-License-Identifier: MIT
# The same static binary against musl instead of klibc, for distributions that do not package
# klibc: Arch Linux ships musl (musl-gcc) in its repositories, klibc only in the AUR.
#   make LIBC=musl            ./gpupass, static, against musl (after `make clean` if klibc built it)
#   make build/gpupass-musl   the musl binary beside the klibc one
# musl-gcc puts musl's headers alone on the include path, so the kernel's UAPI headers
# (linux/vfio.h) come from a directory of links to the system's: Debian keeps asm/ in the
# multiarch directory, Arch in /usr/include.
LIBC         ?= klibc
MUSL_GCC     ?= musl-gcc
UAPI_INCLUDE ?= /usr/include
UAPI_ASM     ?= $(firstword $(wildcard $(UAPI_INCLUDE)/$(shell $(CC) -print-multiarch 2>/dev/null)/asm) \
		$(UAPI_INCLUDE)/asm)
MUSL_CC       = $(MUSL_GCC) -static -isystem build/musl-uapi

build/musl-uapi:
	@rm -rf $@ && mkdir -p $@
	ln -s $(UAPI_INCLUDE)/linux $(UAPI_INCLUDE)/asm-generic $@/
	ln -s $(UAPI_ASM) $@/asm

ifeq ($(LIBC),musl)
KLCC = $(MUSL_CC)
gpupass: | build/musl-uapi
else ifneq ($(LIBC),klibc)
$(error LIBC=$(LIBC): klibc or musl)
endif

build/gpupass-musl: $(SRCS) $(HDRS) Makefile | build/musl-uapi
	$(MUSL_CC) $(KCFLAGS) $(KLDFLAGS) -s -o $@ $(SRCS)

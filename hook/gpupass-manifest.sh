#!/bin/sh
# SPDX-License-Identifier: MIT
# gpupass-manifest.sh GENERATOR KERNEL IMAGE STAGING MODULES [EARLY...]
#
# Each generator's hook runs this while it builds KERNEL's image IMAGE in the directory
# STAGING, to record what the image holds in /var/lib/gpupass/manifest-KERNEL for
# `gpupass check`. The program writes the manifest (and sums the config the same way the
# boot record does); this only gathers what the generator knows:
#   - the image's module files: every *.ko* below STAGING, and, when MODULES is "-", the
#     paths on standard input (modules the generator has chosen but not copied yet);
#   - the modules the image loads itself before udev: the EARLY words (a module name, or
#     rd.driver.pre=A,B; other words with a '=' are ignored), the modules-load.d files
#     and the rd.driver.pre= of cmdline.d files already in STAGING.
# It never fails the image build: a manifest it cannot write is a warning, and check then
# reports the kernel as having none.
gen=$1 kernel=$2 image=$3 staging=$4 modules=$5
shift 5 || exit 0
gpupass=${GPUPASS_MANIFEST_BIN:-/usr/sbin/gpupass}

early=
add_words() {
	for w in "$@"; do
		case $w in
		rd.driver.pre=*) early="$early $(printf '%s' "${w#*=}" | tr , ' ')" ;;
		*=*) ;;
		*) early="$early $w" ;;
		esac
	done
}
add_words "$@"
for f in "$staging"/etc/modules-load.d/*.conf "$staging"/usr/lib/modules-load.d/*.conf \
	"$staging"/lib/modules-load.d/*.conf; do
	[ -f "$f" ] || continue
	set -f   # the words are module names, never patterns
	# shellcheck disable=SC2046 # one module name a line
	add_words $(sed 's/[#;].*//' "$f")
	set +f
done
for f in "$staging"/etc/cmdline.d/*.conf; do
	[ -f "$f" ] || continue
	set -f
	# shellcheck disable=SC2046 # a kernel command line
	add_words $(sed 's/#.*//' "$f" | tr ' ' '\n' | grep '^rd\.driver\.pre=')
	set +f
done

{
	find "$staging" -name '*.ko*' 2>/dev/null
	[ "$modules" != - ] || cat
} | "$gpupass" manifest --generator "$gen" --kernel "$kernel" --image "$image" \
	${early:+--early "$early"} --modules - >/dev/null ||
	echo "W: gpupass: could not record what the image for $kernel holds: gpupass check will say it has no manifest" >&2
exit 0

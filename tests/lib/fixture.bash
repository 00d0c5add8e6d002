# SPDX-License-Identifier: MIT
# Fixture sysfs trees for the unit tests: small builders, one call per fact.
# A tree is shaped like the kernel's: bus/pci/devices/ADDR links into
# devices/pci0000:00/ADDR, iommu_group links to kernel/iommu_groups/N, and
# each group lists its members under devices/.

load '/usr/lib/bats/bats-support/load'
load '/usr/lib/bats/bats-assert/load'

GPUPASS=${GPUPASS:-$BATS_TEST_DIRNAME/../../gpupass}
FX_LIB=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

# A fixture tree is a few hundred mkdir and ln calls: as bash builtins
# (Debian's bash-builtins, in tests/deps.txt) they cost no fork, which
# halves the suite's time. Without them the programs do the same.
for b in mkdir ln rm; do
	[ -f "/usr/lib/bash/$b" ] && enable -f "/usr/lib/bash/$b" "$b" 2>/dev/null
done
unset b
# fx_link TARGET NAME: a fresh symbolic link NAME (replacing one that is there).
fx_link() { rm -f "$2" && ln -s "$1" "$2"; }

fx_init() {
	SYS=$BATS_TEST_TMPDIR/sys
	KMSG=$BATS_TEST_TMPDIR/kmsg
	RUN=$BATS_TEST_TMPDIR/run
	CONF=$BATS_TEST_TMPDIR/gpupass.conf
	CMDLINE=$BATS_TEST_TMPDIR/cmdline
	MODPROBE=$BATS_TEST_TMPDIR/modprobe
	# The root bind looks for its initramfs markers under: by default the
	# tests are the boot's run (dracut's and mkinitcpio's marker).
	ROOTFS=$BATS_TEST_TMPDIR/root
	mkdir -p "$ROOTFS/etc" "$ROOTFS/run"
	: >"$ROOTFS/etc/initrd-release"
	mkdir -p "$SYS/bus/pci/devices" "$SYS/bus/pci/drivers" "$SYS/kernel/iommu_groups" \
		"$SYS/devices/pci0000:00"
	: >"$SYS/bus/pci/drivers_probe"
	: >"$KMSG"
	# A sanitizer report goes to a file of this test's, which teardown reads.
	export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}log_path=$BATS_TEST_TMPDIR/sanitizer"
	export UBSAN_OPTIONS="${UBSAN_OPTIONS:+$UBSAN_OPTIONS:}log_path=$BATS_TEST_TMPDIR/sanitizer"
	echo "BOOT_IMAGE=/vmlinuz root=/dev/sda1 quiet" >"$CMDLINE"
	# gp names it with --pci-ids, which must exist: an empty database names nothing.
	: >"$BATS_TEST_TMPDIR/pci.ids"
	fx_fake_modprobe
	fx_kernel_init
}

# The kernel behind unbind and drivers_probe. tests/lib/fake-kernel.c runs
# gpupass and stops it at the end of each such write() while
# $BATS_TEST_TMPDIR/kernel carries the write out in the tree, as the
# kernel has by the time write() returns:
#   unbind         the function loses its driver, "ADDR DRIVER" goes to
#                  unbound.log (a host driver's name is also kept in
#                  host.ADDR: that driver stays loaded)
#   drivers_probe  an unbound function whose override is vfio-pci goes to
#                  vfio-pci once it is loaded, unless its address is in
#                  vfio.refuse (always) or probe.refuse-once (the first
#                  time); one without an override goes back to its host driver
# Every write is logged, in order, to kernel.log as "PATH-UNDER-SYS DATA".
fx_kernel_init() {
	FX_KERNEL_BIN=$BATS_RUN_TMPDIR/fake-kernel
	if [ ! -x "$FX_KERNEL_BIN" ]; then
		cc -O2 -o "$FX_KERNEL_BIN.$$" "$FX_LIB/fake-kernel.c" &&
			mv -f "$FX_KERNEL_BIN.$$" "$FX_KERNEL_BIN"
	fi
	cat >"$BATS_TEST_TMPDIR/kernel" <<SH
#!/bin/bash
t=$BATS_TEST_TMPDIR sys=$SYS
path=\$1 a=\$2 dev=\$sys/devices/pci0000:00/\$2
echo "\${path#\$sys/} \$a" >>"\$t/kernel.log"
attach() {
	mkdir -p "\$sys/bus/pci/drivers/\$2" "\$sys/drv/\$1/\$2"
	: >"\$sys/drv/\$1/\$2/unbind"
	ln -s "../../../drv/\$1/\$2" "\$dev/driver"
}
case \$path in
*/unbind)
	[ -L "\$dev/driver" ] || exit 0
	drv=\$(readlink "\$dev/driver"); drv=\${drv##*/}
	[ "\$drv" = vfio-pci ] || echo "\$drv" >"\$t/host.\$a"
	# Like fx_fake_kernel's modprobe: logged once, then forgotten, as a kernel does.
	echo "\$a \$drv" >>"\$t/unbound.log"
	: >"\$path"
	rm -f "\$dev/driver" ;;
*/drivers_probe)
	[ -d "\$dev" ] && [ ! -e "\$dev/driver" ] || exit 0
	o=\$(head -n 1 "\$dev/driver_override")
	if [ "\$o" = vfio-pci ]; then
		[ -d "\$sys/bus/pci/drivers/vfio-pci" ] || exit 0
		grep -qx "\$a" "\$t/vfio.refuse" 2>/dev/null && exit 0
		if grep -qx "\$a" "\$t/probe.refuse-once" 2>/dev/null; then
			grep -vx "\$a" "\$t/probe.refuse-once" >"\$t/probe.refuse-once.new"
			mv "\$t/probe.refuse-once.new" "\$t/probe.refuse-once"
			exit 0
		fi
		attach "\$a" vfio-pci
	elif [ -z "\$o" ] || [ "\$o" = "(null)" ]; then
		[ -f "\$t/host.\$a" ] && attach "\$a" "\$(cat "\$t/host.\$a")"
	fi ;;
esac
exit 0
SH
	chmod +x "$BATS_TEST_TMPDIR/kernel"
}

# fx_kernel PROGRAM [ARG...]: run PROGRAM with the fixture's kernel behind it.
fx_kernel() { "$FX_KERNEL_BIN" "$BATS_TEST_TMPDIR/kernel" "$@"; }

# Every test fails when the sanitizer build reported anything (a leak at
# exit included), whatever exit status the test expected. A test file that
# needs a teardown of its own must call fx_teardown from it.
fx_teardown() {
	local f
	for f in "$BATS_TEST_TMPDIR"/sanitizer.*; do
		[ -e "$f" ] || continue
		echo "sanitizer report from $GPUPASS:"
		cat "$f"
		return 1
	done
}
teardown() { fx_teardown; }

# fx_needs WHAT WHY: a test that cannot run here fails, except under
# `make check-unit` (GPUPASS_TEST_SKIP_OK, set by tests/run-all unit), where
# it is skipped and the runner counts the skip.
fx_needs() {
	if [ -n "${GPUPASS_TEST_SKIP_OK:-}" ]; then skip "needs $1: $2"; fi
	fail "needs $1 ($2); make check installs tests/deps.txt and runs as root"
}

# fx_dev ADDR VENDOR:DEVICE CLASS [GROUP|-] [DRIVER|-] [HEADER]
fx_dev() {
	local addr=$1 id=$2 class=$3 group=${4:--} driver=${5:--} header=${6:-0}
	local dir=$SYS/devices/pci0000:00/$addr
	mkdir -p "$dir"
	echo "0x${id%%:*}" >"$dir/vendor"
	echo "0x${id##*:}" >"$dir/device"
	echo "0x$class" >"$dir/class"
	# Subsystem ids as a board vendor sets them; gpupass must never match on them.
	echo "0x1462" >"$dir/subsystem_vendor"
	echo "0x8c96" >"$dir/subsystem_device"
	echo "(null)" >"$dir/driver_override"
	# 64 bytes of config space; byte 0x0e is the header type.
	local hx
	printf -v hx '%02x' "$header"
	{ printf '\0%.0s' {1..14}; printf "\\x$hx"; printf '\0%.0s' {1..49}; } >"$dir/config"
	fx_link "../../../devices/pci0000:00/$addr" "$SYS/bus/pci/devices/$addr"
	[ "$group" = - ] || fx_group_add "$group" "$addr"
	[ "$driver" = - ] || fx_bind "$addr" "$driver"
}

fx_group_add() {
	local group=$1 addr=$2
	mkdir -p "$SYS/kernel/iommu_groups/$group/devices"
	fx_link "../../../kernel/iommu_groups/$group" "$SYS/devices/pci0000:00/$addr/iommu_group"
	fx_link "../../../../devices/pci0000:00/$addr" "$SYS/kernel/iommu_groups/$group/devices/$addr"
}

# Each function's driver link leads to a directory of its own whose name is
# the driver's (gpupass reads only the link's last component), so every
# function has its own unbind file and a test sees exactly what was unbound.
fx_bind() {
	local addr=$1 driver=$2 dir=$SYS/drv/$1/$2
	mkdir -p "$SYS/bus/pci/drivers/$driver" "$dir"
	: >"$dir/unbind"
	fx_link "../../../drv/$addr/$driver" "$SYS/devices/pci0000:00/$addr/driver"
}

# fx_unbound ADDR DRIVER: ADDR when DRIVER was unbound from it (carried out by the
# fixture's kernel, or only written).
fx_unbound() {
	{ grep -x "$1 $2" "$BATS_TEST_TMPDIR/unbound.log" 2>/dev/null | cut -d' ' -f1
	  cat "$SYS/drv/$1/$2/unbind" 2>/dev/null; } | grep -m1 . || true
}

fx_attr() { echo "$3" >"$SYS/devices/pci0000:00/$1/$2"; }
fx_driver_of() { basename "$(readlink "$SYS/devices/pci0000:00/$1/driver" 2>/dev/null)" 2>/dev/null || true; }
# The kernel keeps the text before the first newline; a plain file is not
# truncated by a write, so read it the same way.
fx_override_of() { head -n 1 "$SYS/devices/pci0000:00/$1/driver_override"; }

# The kernel, as far as loading vfio-pci goes: it attaches every unbound
# function whose override is vfio-pci. Each overridden function's driver at
# that moment goes to at-load.log ("ADDR DRIVER", "-" for none).
fx_fake_modprobe() {
	cat >"$MODPROBE" <<SH
#!/bin/sh
echo "\$*" >>"$BATS_TEST_TMPDIR/modprobe.log"
# vfio-pci's IOMMU backend (bind loads it when it is missing): a module directory.
[ "\$1" != vfio_iommu_type1 ] || exec mkdir -p "$SYS/module/vfio_iommu_type1"
[ "\$1" = vfio-pci ] || exit 1
[ -e "$BATS_TEST_TMPDIR/modprobe.fail" ] && exit 1
sys=$SYS
mkdir -p "\$sys/bus/pci/drivers/vfio-pci"
for d in "\$sys"/devices/pci0000:00/*; do
	[ "\$(head -n 1 "\$d/driver_override")" = vfio-pci ] || continue
	a=\${d##*/}
	drv=\$(readlink "\$d/driver" 2>/dev/null) && echo "\$a \${drv##*/}" || echo "\$a -"
	[ -e "\$d/driver" ] && continue
	mkdir -p "\$sys/drv/\$a/vfio-pci"; : >"\$sys/drv/\$a/vfio-pci/unbind"
	ln -s "../../../drv/\$a/vfio-pci" "\$d/driver"
done >>"$BATS_TEST_TMPDIR/at-load.log"
SH
	chmod +x "$MODPROBE"
}

# A GPU card as it sits in slot 01:00: VGA, HDMI audio, USB, USB-C (UCSI).
# Function 0 of a multi-function card sets bit 7 of its header type (0x80),
# as real cards do; only bits 0-6 say "not a bridge".
fx_card() {
	local bus=${1:-01} group=${2:-14} vid=${3:-10de:1e84}
	fx_dev "0000:$bus:00.0" "$vid" 030000 "$group" nouveau 128
	fx_dev "0000:$bus:00.1" 10de:10f8 040300 "$group" snd_hda_intel
	fx_dev "0000:$bus:00.2" 10de:1ad8 0c0330 "$group" xhci_hcd
	fx_dev "0000:$bus:00.3" 10de:1ad9 0c8000 "$group" nvidia-gpu
}

# The chipset group every Intel desktop has: LPC, SMBus, SATA.
fx_chipset() {
	local group=${1:-9}
	fx_dev 0000:00:00.0 8086:3e30 060000 - - 0
	fx_dev 0000:00:1f.0 8086:a305 060100 "$group" - 0
	fx_dev 0000:00:1f.2 8086:a352 010601 "$group" ahci
	fx_dev 0000:00:1f.4 8086:a323 0c0500 "$group" i801_smbus
}

gp() { fx_kernel "$GPUPASS" "$@" --sysfs "$SYS" --config "$CONF" --cmdline "$CMDLINE" --kmsg "$KMSG" \
	--run "$RUN" --modprobe "$MODPROBE" --dev "$BATS_TEST_TMPDIR/dev" --pci-ids "$BATS_TEST_TMPDIR/pci.ids" \
	--root "$ROOTFS"; }

# fx_fake_kernel: a modprobe that also loads host drivers, for release and
# claim (switch.bats). Like fx_fake_modprobe it acts only when modprobe runs:
# it carries out the unbinds written so far (logging "ADDR DRIVER" to
# unbound.log, then emptying the unbind file, since a kernel forgets them),
# attaches vfio-pci to unbound functions whose override is vfio-pci (not
# those listed in vfio.refuse), and for "modprobe -b MODALIAS" attaches the
# host driver fx_host_driver gave each unbound function with that modalias
# and no override. vfio-pci attaches as drv/ADDR/vfio-pci, so it has an
# unbind file of its own.
fx_fake_kernel() {
	cat >"$MODPROBE" <<SH
#!/bin/bash
t=$BATS_TEST_TMPDIR sys=$SYS
echo "\$*" >>"\$t/modprobe.log"
[ -e "\$t/modprobe.fail" ] && exit 1
[ "\$1" != vfio_iommu_type1 ] || exec mkdir -p "\$sys/module/vfio_iommu_type1"
for u in "\$sys"/drv/*/*/unbind; do
	[ -f "\$u" ] || continue
	a=\$(cat "\$u"); [ -n "\$a" ] || continue
	drv=\${u%/unbind}; drv=\${drv##*/}
	echo "\$a \$drv" >>"\$t/unbound.log"
	: >"\$u"
	rm -f "\$sys/devices/pci0000:00/\$a/driver"
done
attach() {
	mkdir -p "\$sys/bus/pci/drivers/\$2" "\$sys/drv/\$1/\$2"
	: >"\$sys/drv/\$1/\$2/unbind"
	ln -s "../../../drv/\$1/\$2" "\$sys/devices/pci0000:00/\$1/driver"
}
rc=1
for d in "\$sys"/devices/pci0000:00/*; do
	a=\${d##*/}
	[ -e "\$d/driver" ] && continue
	o=\$(head -n 1 "\$d/driver_override")
	if [ "\$1" = vfio-pci ]; then
		rc=0
		[ "\$o" = vfio-pci ] || continue
		grep -qx "\$a" "\$t/vfio.refuse" 2>/dev/null && continue
		attach "\$a" vfio-pci
	elif [ "\$1" = -b ] && [ "\$(cat "\$d/modalias" 2>/dev/null)" = "\$2" ] &&
		[ -f "\$t/hostdrv/\$a" ]; then
		rc=0
		[ -z "\$o" ] || [ "\$o" = "(null)" ] || continue
		attach "\$a" "\$(cat "\$t/hostdrv/\$a")"
	fi
done
[ "\$1" = vfio-pci ] && mkdir -p "\$sys/bus/pci/drivers/vfio-pci"
exit \$rc
SH
	chmod +x "$MODPROBE"
}

# fx_host_driver ADDR DRIVER: the function's modalias, and the host driver
# that fx_fake_kernel's modprobe loads for it.
fx_host_driver() {
	local dir=$SYS/devices/pci0000:00/$1 v d c
	v=$(cat "$dir/vendor") d=$(cat "$dir/device") c=$(cat "$dir/class")
	v=${v#0x} d=${d#0x} c=${c#0x}
	printf 'pci:v0000%sd0000%ssv00001462sd00008C96bc%ssc%si%s\n' "${v^^}" "${d^^}" \
		"${c:0:2}" "${c:2:2}" "${c:4:2}" >"$dir/modalias"
	mkdir -p "$BATS_TEST_TMPDIR/hostdrv"
	echo "$2" >"$BATS_TEST_TMPDIR/hostdrv/$1"
}

#!/bin/bash
# SPDX-License-Identifier: MIT
# make demo: from a fresh clone to a booted machine whose card gpupass gave to vfio-pci.
# Installs what it needs (as root), builds gpupass, fetches a Debian kernel, makes an
# initramfs with the package's initramfs-tools hook and an /etc/gpupass.conf that names the
# emulated card, boots it in QEMU, and shows gpupass's kernel log lines and lspci -nnk.
#   GPUPASS_DEMO_GENERATOR=dracut   use dracut instead of initramfs-tools
#   GPUPASS_DEMO_GENERATOR=mkinitcpio          mkinitcpio, HOOKS=(base gpupass udev ...)
#   GPUPASS_DEMO_GENERATOR=mkinitcpio-systemd  mkinitcpio, HOOKS=(base systemd gpupass ...)
#   GPUPASS_DEMO_SUITE=trixie       use Debian 13's kernel instead of Debian 12's
set -eu
cd "$(dirname "$0")/../.."
gen=${GPUPASS_DEMO_GENERATOR:-initramfs-tools}
suite=${GPUPASS_DEMO_SUITE:-bookworm}

say() { printf '\n== %s\n' "$*"; }

missing=()
for pkg in make gcc libklibc-dev $(grep -v '^#' tests/boot/deps.txt); do
	dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q 'ok installed' || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" != 0 ]; then
		echo "demo: missing packages: ${missing[*]}; run as root, or install them first" >&2
		exit 1
	fi
	say "installing ${missing[*]}"
	apt-get update -qq
	DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
if [ "$(id -u)" != 0 ]; then
	echo "demo: building images needs root (a private mount namespace)" >&2
	exit 1
fi

say "building gpupass"
make -s gpupass

. tests/boot/lib/boot.bash
. tests/boot/lib/mkinitcpio.bash
case $gen in
mkinitcpio) gen=mkinitcpio-busybox ;;
esac
case $gen in
mkinitcpio-*)
	say "setting up mkinitcpio"
	mk_setup
	echo "$MKINITCPIO"
	;;
esac
say "fetching the $suite kernel"
kernel_root "$suite"
echo "$KVER"

say "/etc/gpupass.conf in the image"
mkdir -p "$BOOT_BUILD/conf"
conf=$BOOT_BUILD/conf/demo.conf
cat >"$conf" <<EOT
# The emulated card in slot 5, pinned to its id (lspci -nn shows both).
00:05.0 $VGA_ID
EOT
cat "$conf"

say "building the initramfs with $gen"
stage_package
image=$("build_${gen//-/_}" demo "$conf")
ls -l "$image"

boot_accel >/dev/null
say "booting it (QEMU, $GPUPASS_ACCEL): a card of three functions in slot 5, its twin in slot 6"
start=$SECONDS
boot_vm "$image" demo
echo "booted and powered off in $((SECONDS - start)) s"

say "dmesg | grep gpupass"
section kmsg | grep 'gpupass: '
say "lspci -nnk"
section 'lspci -nnk'
say "gpupass status"
section 'gpupass status' | grep -v '^status-exit'

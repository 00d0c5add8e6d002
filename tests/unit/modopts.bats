#!/usr/bin/env bats
# SPDX-License-Identifier: MIT
# The vfio modules' options: `gpupass check` compares modprobe.d with the running modules'
# parameters, and hook/vfio-options carries the same lines into the images.
bats_require_minimum_version 1.5.0
load '../lib/fixture'

setup() {
	fx_init
	fx_chipset 9
	fx_card 01 14
	echo "01:00.0" >"$CONF"
	mkdir -p "$ROOTFS/etc/modprobe.d" "$ROOTFS/usr/lib/modprobe.d" "$ROOTFS/run/modprobe.d"
	# The running modules: vfio_pci with two parameters, vfio_iommu_type1 with one.
	mkdir -p "$SYS/module/vfio_pci/parameters" "$SYS/module/vfio_iommu_type1/parameters"
	echo N >"$SYS/module/vfio_pci/parameters/disable_vga"
	echo 1234:1111 >"$SYS/module/vfio_pci/parameters/ids"
	echo N >"$SYS/module/vfio_iommu_type1/parameters/allow_unsafe_interrupts"
}

@test "check: an option the running module has is reported as configured, no warning" {
	echo "options vfio_pci disable_vga=0" >"$ROOTFS/etc/modprobe.d/vfio.conf"
	run gp check
	assert_success
	assert_line --partial "/etc/modprobe.d/vfio.conf:1: vfio_pci disable_vga=N, as configured"
	refute_output --partial "warning"
}

@test "check: an option the running module lacks names the file, the line and what to do" {
	printf '# for the VM\n\noptions vfio-pci disable_vga=1\n' >"$ROOTFS/etc/modprobe.d/vfio.conf"
	run gp check
	assert_success
	assert_line "warning: /etc/modprobe.d/vfio.conf:3: options vfio_pci disable_vga=1, but the running module has disable_vga=N: it loaded before the line was in the initramfs; regenerate it (update-initramfs -u, dracut -f or mkinitcpio -P) and reboot"
}

@test "check: bool words as the kernel reads them (y, on, 1 are Y)" {
	for v in y on 1 Y; do
		echo "options vfio_iommu_type1 allow_unsafe_interrupts=$v" >"$ROOTFS/etc/modprobe.d/u.conf"
		run gp check
		assert_line --partial "allow_unsafe_interrupts=$v, but the running module has allow_unsafe_interrupts=N"
	done
	echo "options vfio_iommu_type1 allow_unsafe_interrupts=off" >"$ROOTFS/etc/modprobe.d/u.conf"
	run gp check
	refute_output --partial "warning"
}

@test "check: a parameter the module does not have is a typo, reported" {
	echo "options vfio_pci disabel_vga=1" >"$ROOTFS/etc/modprobe.d/vfio.conf"
	run gp check
	assert_line "warning: /etc/modprobe.d/vfio.conf:1: vfio_pci has no parameter 'disabel_vga': the kernel ignores it"
}

@test "check: a module that is not loaded has nothing to compare; other modules are not ours" {
	printf 'options vfio_virqfd x=1\noptions e1000e debug=1\n' >"$ROOTFS/etc/modprobe.d/a.conf"
	run gp check
	assert_success
	refute_output --partial "vfio_virqfd"
	refute_output --partial "e1000e"
}

@test "check: modprobe.d's precedence: /etc hides the same name in /usr/lib, name order, last line wins" {
	echo "options vfio_pci disable_vga=1" >"$ROOTFS/usr/lib/modprobe.d/vfio.conf"
	echo "options vfio_pci disable_vga=0" >"$ROOTFS/etc/modprobe.d/vfio.conf"
	run gp check
	refute_output --partial "warning"
	# z.conf comes after vfio.conf, whatever its directory: its line wins.
	echo "options vfio_pci disable_vga=1" >"$ROOTFS/run/modprobe.d/z.conf"
	run gp check
	assert_line --partial "warning: /run/modprobe.d/z.conf:1: options vfio_pci disable_vga=1"
	refute_output --partial "vfio.conf"
}

@test "check: continued lines and quoted values" {
	printf 'options vfio_pci \\\n  disable_vga=0 \\\n  ids="1234:1111"\noptions vfio_pci ids=10de:1e84\n' \
		>"$ROOTFS/etc/modprobe.d/vfio.conf"
	run gp check
	assert_line --partial "vfio.conf:1: vfio_pci disable_vga=N, as configured"
	assert_line --partial "warning: /etc/modprobe.d/vfio.conf:4: options vfio_pci ids=10de:1e84, but the running module has ids=1234:1111"
	printf 'options vfio_pci \\\n  ids="1234:1111"\n' >"$ROOTFS/etc/modprobe.d/vfio.conf"
	run gp check
	assert_line --partial "vfio.conf:1: vfio_pci ids=1234:1111, as configured"
}

@test "vfio-options: the lines for the images, with the same precedence as check" {
	echo "options vfio_pci disable_vga=1" >"$ROOTFS/usr/lib/modprobe.d/vfio.conf"
	printf 'options vfio-pci disable_vga=0\noptions snd_hda_intel enable=0\ninstall vfio-pci /bin/false\n' \
		>"$ROOTFS/etc/modprobe.d/vfio.conf"
	printf 'softdep vfio-pci pre: vfio_iommu_type1\noptions irqbypass \\\n x=1\n' >"$ROOTFS/run/modprobe.d/b.conf"
	run "$BATS_TEST_DIRNAME/../../hook/vfio-options" "$ROOTFS"
	assert_success
	assert_output "$(printf '%s\n' '# /run/modprobe.d/b.conf' 'softdep vfio-pci pre: vfio_iommu_type1' \
		'options irqbypass  x=1' '# /etc/modprobe.d/vfio.conf' 'options vfio-pci disable_vga=0')"
}

@test "vfio-options: nothing configured prints nothing" {
	run "$BATS_TEST_DIRNAME/../../hook/vfio-options" "$ROOTFS"
	assert_success
	assert_output ""
}

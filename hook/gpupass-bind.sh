# SPDX-License-Identifier: MIT
# gpupass boot wrapper, shared by the initramfs-tools init-top script and the dracut cmdline hook
# (shell /init only; a systemd image runs gpupass.service instead).
# Both run it before udev starts, so vfio-pci claims the target devices before their host drivers
# can. dracut sources its hooks and initramfs-tools sources this file from its script: no exit, no
# return, and nothing here may stop the boot. gpupass bind always exits 0 and logs to /dev/kmsg.
if [ -x /usr/sbin/gpupass ]; then
	/usr/sbin/gpupass bind
else
	echo "<11>gpupass: /usr/sbin/gpupass is missing from the initramfs, nothing bound" >/dev/kmsg
fi

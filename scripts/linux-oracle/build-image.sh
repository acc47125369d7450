#!/usr/bin/env bash
# Builds the Linux-oracle VM image (docs/linux-oracle.md): Debian's cloud kernel, fetched with `apt-get download`
# and never committed, and a minimal initramfs holding busybox-static, iproute2's `ip` with its shared libraries,
# the IPsec, tun and crypto modules (indexed with `depmod -b`), the init script and the agent built here from
# agent.c. Usage: build-image.sh OUTDIR. Writes OUTDIR/vmlinuz, OUTDIR/initrd.img and OUTDIR/image.stamp; does
# nothing when the stamp matches (same kernel package, same init and agent sources).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
out="${1:?usage: build-image.sh OUTDIR}"
mkdir -p "$out"
out="$(cd "$out" && pwd)"
# One builder at a time (tests and a campaign may start together); the others wait, then find the stamp current.
exec 9>"$out/.lock"
flock 9

# The package behind linux-image-cloud-amd64, e.g. linux-image-6.1.0-57-cloud-amd64.
package="$(apt-cache depends linux-image-cloud-amd64 2>/dev/null | awk '/Depends: linux-image-/ {print $2; exit}')"
if [ -z "$package" ]; then
  echo "build-image: apt knows no linux-image-cloud-amd64 (run apt-get update)" >&2
  exit 1
fi
version="$(apt-cache policy "$package" | awk '/Candidate:/ {print $2}')"
stamp="$package $version $(cat "$here/init" "$here/agent.c" "$0" | sha256sum | cut -c1-16)"
if [ -f "$out/image.stamp" ] && [ "$(cat "$out/image.stamp")" = "$stamp" ] && [ -f "$out/vmlinuz" ] \
   && [ -f "$out/initrd.img" ]; then
  exit 0
fi
for tool in busybox cpio depmod gcc; do
  command -v "$tool" >/dev/null || { echo "build-image: $tool is missing (run scripts/setup.sh)" >&2; exit 1; }
done
[ -f /etc/protocols ] || { echo "build-image: /etc/protocols is missing (netbase)" >&2; exit 1; }
[ -x /usr/bin/ip ] || { echo "build-image: iproute2's /usr/bin/ip is missing (run scripts/setup.sh)" >&2; exit 1; }
echo "build-image: building the oracle VM from $package $version" >&2

work="$out/work"
rm -rf "$work"
mkdir -p "$work/deb" "$work/root"
(cd "$work/deb" && apt-get download -q "$package=$version" >/dev/null 2>&1) || {
  echo "build-image: apt-get download $package failed" >&2; exit 1; }
dpkg-deb -x "$work"/deb/*.deb "$work/kernel"
kver="$(ls "$work/kernel/lib/modules")"
root="$work/root"
mkdir -p "$root"/{bin,sbin,lib,lib64,proc,sys,dev,tmp,run,etc}

# iproute2 reads protocol names (`proto udp` in a selector) from /etc/protocols (Debian's netbase).
cp /etc/protocols "$root/etc/protocols"
cp /bin/busybox "$root/bin/busybox"
ln -s /bin/busybox "$root/sbin/modprobe"   # the kernel loads crypto templates on demand through it
cp /usr/bin/ip "$root/sbin/ip"              # iproute2's: busybox's ip has no xfrm
for lib in $(ldd /usr/bin/ip | awk '/=>/ {print $3} /ld-linux/ {print $1}'); do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
done
gcc -static -O2 -Wall -o "$root/agent" "$here/agent.c"
cp "$here/init" "$root/init"
chmod +x "$root/init" "$root/agent"

# Modules: IPsec (net/ipv4, net/ipv6, net/xfrm, net/key), the generic crypto templates and ciphers (crypto/, and
# lib/ for zlib and the library ciphers), tun. arch/x86/crypto is left out on purpose: under TCG the generic C
# implementations are synchronous and behave the same on any host.
src="$work/kernel/lib/modules/$kver"
dst="$root/lib/modules/$kver"
mkdir -p "$dst"
cp "$src"/modules.builtin "$src"/modules.builtin.modinfo "$src"/modules.order "$dst/"
(cd "$src" && find kernel/crypto kernel/lib kernel/net/ipv4 kernel/net/ipv6 kernel/net/xfrm kernel/net/key \
   kernel/drivers/net/tun.ko -name '*.ko' -not -path '*/netfilter/*' 2>/dev/null) | while read -r m; do
  mkdir -p "$dst/$(dirname "$m")"
  cp "$src/$m" "$dst/$m"
done
depmod -b "$root" "$kver"

(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet) | zstd -q -3 -o "$out/initrd.img.tmp" -f
cp "$work/kernel/boot/vmlinuz-$kver" "$out/vmlinuz.tmp"
mv "$out/initrd.img.tmp" "$out/initrd.img"
mv "$out/vmlinuz.tmp" "$out/vmlinuz"
echo "$kver" > "$out/kernel.release"
echo "$stamp" > "$out/image.stamp"
rm -rf "$work"
echo "build-image: $out/vmlinuz and $out/initrd.img ($(du -h "$out/initrd.img" | cut -f1)) for $kver" >&2

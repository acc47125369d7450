#!/usr/bin/env bash
# Installs what IPsecLab needs on a Debian machine: the C libraries it links, the oracles its tests use
# (tshark, scapy pinned in a virtual environment). Idempotent: quick when everything is present.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(libssl-dev libpcap-dev zlib1g-dev pkg-config tshark python3-venv)
# Intel's IPsec Multi-Buffer library, the fast crypto backend (docs/ipsec-mb.md): optional for building, tested by
# `make test`. Debian ships it for amd64 only; elsewhere IPsecLab builds and runs without it.
if [ "$(dpkg --print-architecture)" = amd64 ]; then APT_PACKAGES+=(libipsec-mb-dev); fi
# The Linux-kernel oracle (docs/linux-oracle.md): qemu, and what its VM image is built from besides Debian's kernel.
APT_PACKAGES+=(qemu-system-x86 busybox-static iproute2 netbase kmod cpio zstd gcc libc6-dev)
SCAPY_VERSION=2.8.0
CRYPTOGRAPHY_VERSION=48.0.0
VENV=.venv

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  # wireshark-common asks whether non-root users may capture; answer it so the install never blocks.
  echo "wireshark-common wireshark-common/install-setuid boolean false" | debconf-set-selections
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# scapy is an oracle; its version is pinned because its known bugs (facts.md) are named in our tests.
if ! "$VENV/bin/python" -c "import scapy, cryptography, sys; sys.exit(scapy.__version__ != '$SCAPY_VERSION')" 2>/dev/null; then
  echo "setup: creating $VENV with scapy $SCAPY_VERSION" >&2
  rm -rf "$VENV"
  /usr/bin/python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --disable-pip-version-check "scapy==$SCAPY_VERSION" "cryptography==$CRYPTOGRAPHY_VERSION"
fi

# The Linux-oracle VM image: Debian's cloud kernel fetched with apt-get download, a minimal initramfs; cached in
# .build-linux-oracle/ and rebuilt only when the kernel package or the guest's sources change.
if ! bash scripts/linux-oracle/build-image.sh .build-linux-oracle; then
  apt-get update -qq
  bash scripts/linux-oracle/build-image.sh .build-linux-oracle
fi

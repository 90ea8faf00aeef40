#!/usr/bin/env bash
# Idempotent set-up for a fresh Debian machine: Debian packages, npm packages, bpffs.
# Safe to run again and again; does only what is missing. `--quiet` prints only actions.
set -euo pipefail
cd "$(dirname "$0")/.."
quiet=0; [ "${1:-}" = "--quiet" ] && quiet=1
say() { [ $quiet = 1 ] || echo "bootstrap: $*"; }
act() { echo "bootstrap: $*" >&2; }

# Debian packages kmlib needs at run time and in its tests.
#   libbpf1: the kernel interface (loaded through koffi); libbpf-dev + gcc: the C anchors in
#   benchmarks; clang + llvm: reference compiler and llvm-objdump for disassembler tests;
#   iproute2: netns/veth; hping3, iperf3, nginx-light, curl, wrk, nmap, slowhttptest: real traffic in the lab.
DEB_PKGS=(libbpf1 libbpf-dev gcc make clang llvm iproute2 iputils-ping ethtool hping3 bpftool python3 nginx-light iperf3 curl wrk nmap slowhttptest python3-sklearn python3-xgboost python3-onnx)
missing=()
for p in "${DEB_PKGS[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" != 0 ]; then
    echo "bootstrap: missing Debian packages: ${missing[*]} (run as root, or: sudo apt-get install ${missing[*]})" >&2
    exit 1
  fi
  act "installing Debian packages: ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null || apt-get update
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "Debian packages present"
fi

# npm packages: install when node_modules is missing or older than the lock file.
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  act "installing npm packages"
  npm ci --no-audit --no-fund --loglevel=error
else
  say "npm packages present"
fi

# bpffs for pinning under /sys/fs/bpf/kmlib.
if [ "$(id -u)" = 0 ]; then
  if ! mount | grep -q ' /sys/fs/bpf type bpf'; then
    act "mounting bpffs on /sys/fs/bpf"
    mkdir -p /sys/fs/bpf && mount -t bpf bpf /sys/fs/bpf
  fi
  mkdir -p /sys/fs/bpf/kmlib
fi
say "ready"

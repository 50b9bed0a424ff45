#!/usr/bin/env bash
# Checks that neuncut configures (and, with --build, builds and runs) on a fresh Debian 12 with
# exactly the packages scripts/setup.sh installs: a minimal bookworm chroot (debootstrap
# --variant=minbase) gets a copy of this checkout, runs scripts/setup.sh, then cmake. This is the
# failure CI on a fully provisioned machine cannot see: a dependency that only happened to be
# installed (oneDNN's CMake config needed OpenCL headers that no package here pulls in).
#
# Usage (root; needs debootstrap: scripts/setup.sh --with-ci):
#   scripts/check-fresh-machine.sh [--build]
#     default   setup.sh + cmake configure of the full project (tests, Python module)
#     --build   also builds the library and the CLI and clusters a small data set with it
# Environment: NEUNCUT_DEBIAN_MIRROR (default: the first Debian URI in apt's sources here, so a
# machine that reaches Debian only through a local mirror uses it); NEUNCUT_DEBOOTSTRAP_CACHE
# (default /var/cache/neuncut-debootstrap): downloaded .debs are kept there between runs (apt
# verifies them against the mirror's index), the chroot itself is new every time.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
mode=configure
case "${1:-}" in
  "") ;;
  --build) mode=build ;;
  *) sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
esac

if [[ ! -f "$root/CMakeLists.txt" || ! -f "$root/scripts/setup.sh" ]]; then
  echo "check-fresh-machine.sh: $root is not a neuncut checkout (run the script where it lies in one)" >&2
  exit 2
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "check-fresh-machine.sh: needs root (debootstrap and chroot)" >&2
  exit 1
fi
if ! command -v debootstrap >/dev/null; then
  echo "check-fresh-machine.sh: debootstrap is missing; run scripts/setup.sh --with-ci" >&2
  exit 1
fi

debian_mirror() {
  local uri
  uri=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.sources \
          /etc/apt/sources.list.d/*.list 2>/dev/null |
        grep -oE 'https?://[^ ]*/debian/?( |$)' | grep -v security | head -n1 | tr -d ' ')
  echo "${uri:-http://deb.debian.org/debian}"
}
mirror=${NEUNCUT_DEBIAN_MIRROR:-$(debian_mirror)}
cache=${NEUNCUT_DEBOOTSTRAP_CACHE:-/var/cache/neuncut-debootstrap}
mkdir -p "$cache"

chroot_dir=$(mktemp -d /var/tmp/neuncut-fresh.XXXXXX)
cleanup() {
  # Unmount before deleting; never delete through a mount point still in place.
  for m in proc dev/pts dev; do
    mountpoint -q "$chroot_dir/$m" && umount -l "$chroot_dir/$m"
  done
  if ! grep -q " $chroot_dir/" /proc/mounts; then
    rm -rf --one-file-system "$chroot_dir"
  else
    echo "check-fresh-machine.sh: $chroot_dir still has mounts; left in place" >&2
  fi
}
trap cleanup EXIT

stamp() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*"; }
start=$SECONDS
stamp "debootstrap minbase bookworm from $mirror into $chroot_dir"
debootstrap --variant=minbase --cache-dir="$cache" bookworm "$chroot_dir" "$mirror" >"$chroot_dir.log" 2>&1 ||
  { tail -n 30 "$chroot_dir.log" >&2; rm -f "$chroot_dir.log"; exit 1; }
rm -f "$chroot_dir.log"
stamp "debootstrap done ($((SECONDS - start)) s)"

# apt in the chroot: the same mirror, main only (what a plain Debian 12 has); no services started.
# dpkg without fsync after every file: the same packages get installed, several times faster
# (the chroot is thrown away, so a crash mid-install costs nothing).
echo "deb $mirror bookworm main" >"$chroot_dir/etc/apt/sources.list"
printf '#!/bin/sh\nexit 101\n' >"$chroot_dir/usr/sbin/policy-rc.d"
chmod +x "$chroot_dir/usr/sbin/policy-rc.d"
echo force-unsafe-io >"$chroot_dir/etc/dpkg/dpkg.cfg.d/neuncut-check-unsafe-io"
# Packages downloaded by an earlier run are offered to apt again (it checks their hashes).
mkdir -p "$cache/archives"
find "$cache/archives" -maxdepth 1 -name '*.deb' -exec cp -t "$chroot_dir/var/cache/apt/archives/" {} +
mount -t proc proc "$chroot_dir/proc"
mount --bind /dev "$chroot_dir/dev"

# The checkout as CI sees it: tracked and untracked-but-not-ignored files (no build trees).
mkdir -p "$chroot_dir/src/neuncut"
if git -C "$root" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  (cd "$root" && git ls-files -z --cached --others --exclude-standard |
     xargs -0 -I{} sh -c 'test -e "{}" && printf "%s\0" "{}"' | tar --null -T - -cf -) |
    tar -xf - -C "$chroot_dir/src/neuncut"
else
  tar -C "$root" --exclude='./build*' -cf - . | tar -xf - -C "$chroot_dir/src/neuncut"
fi

in_chroot() { chroot "$chroot_dir" /usr/bin/env -i HOME=/root PATH=/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8 "$@"; }

t=$SECONDS
stamp "scripts/setup.sh in the chroot"
in_chroot bash /src/neuncut/scripts/setup.sh
stamp "setup.sh done ($((SECONDS - t)) s)"
find "$chroot_dir/var/cache/apt/archives" -maxdepth 1 -name '*.deb' -exec cp -n -t "$cache/archives/" {} +

t=$SECONDS
stamp "cmake configure (same options as scripts/build.sh)"
in_chroot cmake -S /src/neuncut -B /src/neuncut/build -DCMAKE_BUILD_TYPE=Release -DNEUNCUT_BUILD_TESTS=ON \
  -DNEUNCUT_BUILD_PYTHON=ON -DPython_EXECUTABLE=/usr/bin/python3 -DNEUNCUT_WITH_ONEDNN=ON
stamp "configure done ($((SECONDS - t)) s)"

if [[ $mode == build ]]; then
  t=$SECONDS
  stamp "build of the library and the CLI"
  in_chroot cmake --build /src/neuncut/build -j"$(nproc)" --target neuncut_cli
  in_chroot /src/neuncut/build/neuncut --version
  in_chroot /src/neuncut/build/neuncut fit --data /src/neuncut/tests/data/blobs_200.npy --k 3 --epochs 5 \
    --labels-out /tmp/labels.npy --json
  stamp "build and run done ($((SECONDS - t)) s)"
fi
stamp "fresh-machine check passed ($mode, $((SECONDS - start)) s in all)"

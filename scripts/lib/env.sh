# shellcheck shell=bash
# TrackerDesk build environment: decides where the build runs and provisions it.
#
#   native  - the host has Qt >= 6.5 with QtLocation (or apt can install it)
#   rootfs  - the host's Qt is too old (Debian 12): a Debian 13 root filesystem is
#             provisioned in a cache folder outside the clone and every build/test/run
#             command is executed inside it (unshare + chroot, see docs/architecture.md).
#
# Sourced by scripts/run, scripts/test, scripts/package. Public functions:
#   td_setup          make sure the environment is ready (idempotent, cached)
#   td_exec CMD...    run CMD in the build environment, cwd = source tree

TD_SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
TD_T0=$(date +%s)
TD_SUITE=${TD_SUITE:-trixie}
TD_MIRROR=${TD_MIRROR:-http://deb.debian.org/debian}
if [ -n "${TRACKERDESK_CACHE:-}" ]; then TD_CACHE=$TRACKERDESK_CACHE
elif [ "$(id -u)" = 0 ]; then TD_CACHE=/var/cache/trackerdesk
else TD_CACHE=${XDG_CACHE_HOME:-$HOME/.cache}/trackerdesk; fi
TD_ROOT="$TD_CACHE/rootfs-$TD_SUITE"

# Everything a full build, test, fuzz and package run needs, inside the root filesystem.
TD_PACKAGES="g++ cmake ninja-build pkg-config qt6-base-dev qt6-base-dev-tools qt6-declarative-dev
qt6-declarative-dev-tools qt6-declarative-private-dev qt6-location-dev qt6-location-plugins
qt6-positioning-dev qt6-serialport-dev libqt6sql6-sqlite qml6-module-qtlocation
qml6-module-qtpositioning qml6-module-qtquick qml6-module-qtquick-controls
qml6-module-qtquick-layouts qml6-module-qtquick-window qml6-module-qtquick-shapes
qml6-module-qtqml-workerscript qml6-module-qtquick-templates qt6-svg-dev libqt6svg6 qt6-svg-plugins
qt6-qpa-plugins libgl1-mesa-dri fonts-dejavu-core xvfb xauth python3 socat file dpkg-dev
clang libclang-rt-dev gpsbabel libxml2-utils tshark sqlite3 procps ca-certificates
lintian appstream desktop-file-utils imagemagick qtkeychain-qt6-dev"
# The same packages by name on a native Debian/Ubuntu host with a recent enough Qt.
TD_NATIVE_APT="g++ cmake ninja-build qt6-base-dev qt6-declarative-dev qt6-declarative-private-dev
qt6-location-dev qt6-location-plugins qt6-positioning-dev qt6-serialport-dev libqt6sql6-sqlite
qml6-module-qtlocation qml6-module-qtpositioning qml6-module-qtquick qt6-qpa-plugins qt6-svg-dev
xvfb xauth python3 socat"

td_log() { printf '[setup %4ss] %s\n' "$(( $(date +%s) - TD_T0 ))" "$*" >&2; }
td_info() { [ -n "${TD_QUIET:-}" ] || td_log "$@"; }
td_die() { printf '[setup] ERROR: %s\n' "$*" >&2; exit 1; }

# Prints the Qt version found by a native probe, or nothing.
td_native_qt() {
  local f v
  for f in ${Qt6_DIR:+"$Qt6_DIR/../Qt6Location/Qt6LocationConfig.cmake"} \
           ${CMAKE_PREFIX_PATH:+"$CMAKE_PREFIX_PATH/lib/cmake/Qt6Location/Qt6LocationConfig.cmake"} \
           /usr/lib/*/cmake/Qt6Location/Qt6LocationConfig.cmake \
           /usr/lib64/cmake/Qt6Location/Qt6LocationConfig.cmake \
           /usr/lib/cmake/Qt6Location/Qt6LocationConfig.cmake; do
    [ -f "$f" ] || continue
    v=$(sed -n 's/.*PACKAGE_VERSION "\([0-9.]*\)".*/\1/p' "$(dirname "$f")/Qt6LocationConfigVersionImpl.cmake" 2>/dev/null | head -1)
    [ -n "$v" ] || v=6.5
    echo "$v"; return 0
  done
  return 1
}

td_version_ge() { [ "$(printf '%s\n%s\n' "$2" "$1" | sort -V | head -1)" = "$2" ]; }

td_mode() {
  if [ -n "${TRACKERDESK_MODE:-}" ]; then echo "$TRACKERDESK_MODE"; return; fi
  local v; v=$(td_native_qt) && td_version_ge "$v" 6.5 && { echo native; return; }
  if command -v apt-cache >/dev/null 2>&1; then
    local cand
    cand=$(apt-cache policy qt6-location-dev 2>/dev/null | sed -n 's/.*Candidate: *\([0-9][0-9.]*\).*/\1/p')
    if [ -n "$cand" ] && td_version_ge "$cand" 6.5; then echo native-apt; return; fi
    echo rootfs; return
  fi
  echo unsupported
}

td_need_root() {
  [ "$(id -u)" = 0 ] && return 0
  command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null && return 0
  td_die "$1 needs root (run as root or allow passwordless sudo)."
}
td_sudo() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo -n "$@"; fi; }

td_apt_host() {
  td_need_root "installing $*"
  if [ ! -f "$TD_CACHE/.apt-updated" ] || [ -n "$(find "$TD_CACHE/.apt-updated" -mmin +720 2>/dev/null)" ]; then
    td_log "apt-get update (host)"
    td_sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq \
      || td_die "apt-get update failed: is the package mirror reachable?"
    mkdir -p "$TD_CACHE" && touch "$TD_CACHE/.apt-updated"
  fi
  td_log "apt-get install (host): $*"
  # shellcheck disable=SC2086
  td_sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null \
    || td_die "apt-get install $* failed (network? disk full?)."
}

td_pkg_hash() { printf '%s' "$TD_PACKAGES" | tr -s ' \n' '\n\n' | sort | sha256sum | cut -c1-16; }

td_check_disk() {
  local need_mb=$1 dir=$2 avail
  mkdir -p "$dir" 2>/dev/null || td_die "cannot create $dir"
  avail=$(df -Pm "$dir" | awk 'NR==2{print $4}')
  [ "${avail:-0}" -ge "$need_mb" ] || td_die "not enough disk in $dir: ${avail} MB free, ${need_mb} MB needed."
}

td_provision_rootfs() {
  td_need_root "provisioning the Debian 13 build root"
  local stamp="$TD_ROOT/.trackerdesk-packages" want; want=$(td_pkg_hash)
  if [ -f "$TD_ROOT/.trackerdesk-bootstrapped" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$want" ]; then
    return 0
  fi
  td_check_disk 3000 "$TD_CACHE"
  if [ ! -f "$TD_ROOT/.trackerdesk-bootstrapped" ]; then
    command -v debootstrap >/dev/null 2>&1 || td_apt_host debootstrap
    command -v unshare >/dev/null 2>&1 || td_die "unshare (util-linux) is missing."
    td_log "debootstrap $TD_SUITE into $TD_ROOT (about a minute)"
    rm -rf "$TD_ROOT"
    td_sudo debootstrap --variant=minbase "$TD_SUITE" "$TD_ROOT" "$TD_MIRROR" > "$TD_CACHE/debootstrap.log" 2>&1 \
      || { tail -20 "$TD_CACHE/debootstrap.log" >&2; td_die "debootstrap failed (log: $TD_CACHE/debootstrap.log). Network to $TD_MIRROR?"; }
    touch "$TD_ROOT/.trackerdesk-bootstrapped"
  fi
  td_log "installing build packages inside the root filesystem (a few minutes the first time)"
  cp -L /etc/resolv.conf "$TD_ROOT/etc/resolv.conf" 2>/dev/null || true
  # shellcheck disable=SC2086
  TD_INROOT_CWD=/ td_inroot sh -c "export DEBIAN_FRONTEND=noninteractive
      echo 'wireshark-common wireshark-common/install-setuid boolean false' | debconf-set-selections
      apt-get update -qq && apt-get install -y -qq --no-install-recommends $(echo $TD_PACKAGES)" \
      > "$TD_CACHE/apt-rootfs.log" 2>&1 \
    || { tail -20 "$TD_CACHE/apt-rootfs.log" >&2; td_die "package installation inside the root filesystem failed (log: $TD_CACHE/apt-rootfs.log)."; }
  echo "$want" > "$stamp"
  td_log "root filesystem ready ($(du -sm "$TD_ROOT" 2>/dev/null | cut -f1) MB)"
}

# Runs "$@" inside the root filesystem with the source tree bound at the same path.
td_inroot() {
  local cwd=${TD_INROOT_CWD:-$PWD}
  local envs=(HOME=/root LANG=C.UTF-8 LC_ALL=C.UTF-8 PATH=/usr/sbin:/usr/bin:/sbin:/bin TRACKERDESK_INROOT=1)
  local v
  for v in DISPLAY CI QT_QPA_PLATFORM QT_LOGGING_RULES CTEST_PARALLEL_LEVEL CTEST_OUTPUT_ON_FAILURE \
           TRACKERDESK_FUZZ_SECONDS TRACKERDESK_BENCH TD_SCREENSHOT TERM; do
    [ -n "${!v:-}" ] && envs+=("$v=${!v}")
  done
  local xsock=""
  if [ -n "${DISPLAY:-}" ]; then
    [ -d /tmp/.X11-unix ] && xsock=1
    local xa=${XAUTHORITY:-$HOME/.Xauthority}
    if [ -f "$xa" ] && cp "$xa" "$TD_ROOT/root/.Xauthority" 2>/dev/null; then envs+=(XAUTHORITY=/root/.Xauthority); fi
  fi
  td_sudo env R="$TD_ROOT" SRC="$TD_SRC" CWD="$cwd" XSOCK="$xsock" \
    unshare --mount --propagation private --pid --fork --kill-child -- bash -c '
    set -e
    mount -t proc proc "$R/proc"; mount --rbind /sys "$R/sys"; mount --rbind /dev "$R/dev"
    mkdir -p "$R$SRC"; mount --bind "$SRC" "$R$SRC"
    mkdir -p "$R/tmp"; chmod 1777 "$R/tmp"
    if [ -n "$XSOCK" ]; then mkdir -p "$R/tmp/.X11-unix"; mount --bind /tmp/.X11-unix "$R/tmp/.X11-unix"; fi
    [ -d "$R$CWD" ] || CWD="$SRC"
    n=$1; shift; envs=("${@:1:$n}"); shift "$n"
    exec chroot "$R" /usr/bin/env -i "${envs[@]}" bash -c "cd \"\$0\" && exec \"\$@\"" "$CWD" "$@"
  ' bash "${#envs[@]}" "${envs[@]}" "$@"
}

td_setup() {
  TD_MODE=$(td_mode)
  case "$TD_MODE" in
    native) td_info "native build: Qt $(td_native_qt) with QtLocation found on this host" ;;
    native-apt) td_apt_host $TD_NATIVE_APT; TD_MODE=native ;;
    rootfs) td_info "host Qt is missing or older than 6.5: building in a Debian 13 ($TD_SUITE) root filesystem ($TD_ROOT)"
            td_provision_rootfs ;;
    *) td_die "no Qt >= 6.5 with QtLocation found and no apt to install one. Install Qt 6.5+ (Location, Positioning, SerialPort, Sql, Quick) and set CMAKE_PREFIX_PATH." ;;
  esac
  export TD_MODE
}

td_exec() {
  if [ "$TD_MODE" = rootfs ]; then td_inroot "$@"; else (cd "$TD_SRC" && "$@"); fi
}

# Build with a CMake preset (configure only when needed). Build dirs are per mode so a
# native tree and a root-filesystem tree never mix.
td_build() {
  local preset=$1; shift
  local bdir="$TD_SRC/build/$preset"
  if [ ! -f "$bdir/build.ninja" ]; then
    td_log "configuring ($preset)"
    td_exec cmake --preset "$preset" >&2 || td_die "cmake configure failed"
  fi
  td_log "building ($preset)"
  td_exec cmake --build "$bdir" "$@" >&2 || td_die "build failed"
  td_log "build done"
}

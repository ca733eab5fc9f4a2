#!/usr/bin/env bash
# A container run without a container engine, for scripts/container-check.sh: runs COMMAND in
# the root filesystem ROOT the way `docker run` runs an image's process.
#
#   run-in-root.sh --root DIR [--user UID:GID] [--workdir DIR] [--env KEY=VALUE]...
#                  [--volume HOST_DIR:PATH]... [--network host|none] [--hostname NAME]
#                  [--read-only] -- COMMAND...
#
# New mount, UTS, IPC and PID namespaces (COMMAND is PID 1, so it gets SIGTERM the way a
# container's entrypoint does), a fresh /proc, read-only /sys, a small /dev, the host's
# resolv.conf, the volumes bind-mounted, a clean environment (only --env, PATH, HOME, HOSTNAME)
# and, with --network none, a network namespace of its own with loopback and an eth0 at
# 10.88.0.2/24 (a veth whose peer stays in the namespace): a server must listen beyond
# loopback to be reached there, as behind a published port. --read-only makes the root filesystem read-only
# with a tmpfs on /tmp (Kubernetes' readOnlyRootFilesystem with an emptyDir there). Needs root. Everything it mounts lives in the
# new mount namespace and disappears with it.
set -euo pipefail

root="" user="0:0" workdir="/" network="host" hostname="entropyinfer" inside=0 read_only=0
environment=() volumes=()
while [[ $# -gt 0 ]]; do
    case "$1" in
        --root) root="$2"; shift 2 ;;
        --user) user="$2"; shift 2 ;;
        --workdir) workdir="$2"; shift 2 ;;
        --env) environment+=("$2"); shift 2 ;;
        --volume) volumes+=("$2"); shift 2 ;;
        --network) network="$2"; shift 2 ;;
        --hostname) hostname="$2"; shift 2 ;;
        --read-only) read_only=1; shift ;;
        --inside) inside=1; shift ;;
        --) shift; break ;;
        *) echo "run-in-root: unknown option $1" >&2; exit 2 ;;
    esac
done
[[ -n "$root" && -d "$root" && $# -gt 0 ]] || { echo "run-in-root: need --root DIR and a command" >&2; exit 2; }
[[ "$network" == host || "$network" == none ]] || { echo "run-in-root: --network is host or none" >&2; exit 2; }

if [[ $inside -eq 0 ]]; then
    arguments=(--root "$root" --user "$user" --workdir "$workdir" --network "$network" --hostname "$hostname")
    for item in "${environment[@]}"; do arguments+=(--env "$item"); done
    for item in "${volumes[@]}"; do arguments+=(--volume "$item"); done
    [[ $read_only -eq 1 ]] && arguments+=(--read-only)
    net=()
    [[ "$network" == none ]] && net=(--net)
    # --kill-child: if this process dies, so does the container.
    exec unshare --mount --uts --ipc --pid "${net[@]}" --fork --kill-child --propagation private \
        -- "$0" --inside "${arguments[@]}" -- "$@"
fi

# --- inside the new namespaces: we are PID 1 until the final exec ---------------------------
root="$(cd "$root" && pwd -P)"
# The root as a mount of its own, so it can be made read-only at the end.
mount --bind "$root" "$root"
mount -t proc -o nosuid,nodev,noexec proc "$root/proc"
mount -t sysfs -o ro,nosuid,nodev,noexec sysfs "$root/sys" 2>/dev/null \
    || mount --rbind -o ro /sys "$root/sys"
mount -t tmpfs -o nosuid,mode=0755,size=65536k tmpfs "$root/dev"
for device in null zero full random urandom tty; do
    touch "$root/dev/$device"
    mount --bind "/dev/$device" "$root/dev/$device"
done
mkdir -p "$root/dev/shm" "$root/dev/pts"
mount -t tmpfs -o nosuid,nodev,noexec,mode=1777,size=65536k shm "$root/dev/shm"
ln -s /proc/self/fd "$root/dev/fd"
ln -s /proc/self/fd/0 "$root/dev/stdin"
ln -s /proc/self/fd/1 "$root/dev/stdout"
ln -s /proc/self/fd/2 "$root/dev/stderr"

# Name resolution as Docker sets it up: the host's resolvers, a hosts file with localhost.
etc="$(mktemp -d)"
printf '127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t%s\n' "$hostname" >"$etc/hosts"
printf '%s\n' "$hostname" >"$etc/hostname"
for file in hosts hostname resolv.conf; do
    [[ -e "$root/etc/$file" && ! -L "$root/etc/$file" ]] || { rm -f "$root/etc/$file"; touch "$root/etc/$file"; }
done
mount --bind "$etc/hosts" "$root/etc/hosts"
mount --bind "$etc/hostname" "$root/etc/hostname"
mount --bind -o ro /etc/resolv.conf "$root/etc/resolv.conf"
hostname "$hostname"

for volume in "${volumes[@]}"; do
    source="${volume%%:*}" target="${volume#*:}"
    mkdir -p "$root$target"
    mount --bind "$source" "$root$target"
done

if [[ $read_only -eq 1 ]]; then
    mkdir -p "$root/tmp"
    mount -t tmpfs -o nosuid,nodev,mode=1777,size=65536k tmpfs "$root/tmp"
    mount -o remount,bind,ro "$root"
fi

if [[ "$network" == none ]]; then
    ip link set lo up
    ip link add eth0 type veth peer name peer0
    ip addr add 10.88.0.2/24 dev eth0
    ip link set eth0 up
    ip link set peer0 up
fi

uid="${user%%:*}" gid="${user#*:}"
home="$(awk -F: -v uid="$uid" '$3 == uid { print $6; exit }' "$root/etc/passwd")"
base_environment=(
    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
    "HOSTNAME=$hostname"
    "HOME=${home:-/}"
)
# exec all the way down: COMMAND replaces this shell as PID 1.
exec env -i "${base_environment[@]}" "${environment[@]}" \
    unshare --root="$root" --wd="$workdir" --setuid "$uid" --setgid "$gid" -- "$@"

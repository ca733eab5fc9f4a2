#!/usr/bin/env bash
# make container-check: proves the Dockerfile's image works, without a Docker engine.
#
#   scripts/container-check.sh [--negative all|none|PACKAGE] [--fresh] [--keep] [--dockerfile PATH]
#
# 1. Reads the Dockerfile (scripts/container/dockerfile.py): the builder stage's base and
#    `swift build` line, the runtime stage's base release, RUN steps, COPY, ENV, USER, WORKDIR,
#    VOLUME, EXPOSE, HEALTHCHECK, STOPSIGNAL, ENTRYPOINT and CMD.
# 2. Builds the binary with the builder stage's own `swift build` command on this host, after
#    checking that the host is the builder image's Debian release and Swift version.
# 3. Builds the runtime stage: `debootstrap --variant=minbase` of its Debian release, made slim
#    as debian:*-slim is, then the stage's RUN steps verbatim inside it (they install exactly
#    the packages the Dockerfile lists and create the user), then the binary where COPY puts it.
# 4. Runs the image as a container would (scripts/container/run-in-root.sh: own mount, PID and
#    network namespaces, the image's USER, WORKDIR, ENV, a fresh volume, and a read-only root
#    filesystem with a tmpfs on /tmp, as deploy/kubernetes/deployment.yaml runs it):
#      `ENTRYPOINT pull MODEL`        the volume-filling step (network: the host's)
#      `ENTRYPOINT CMD`               the server, PID 1 in a network namespace of its own
#      `HEALTHCHECK CMD`              executed inside the container until it passes
#      one chat completion            curl to the container's eth0 address (not loopback, so
#                                     the server must listen as it must behind a published
#                                     port), answer checked
#      /metrics                       must export the series the Kubernetes HPA scales on
#      STOPSIGNAL                     the server must exit 0
# 5. Negative controls: the same run on the same image with one runtime package purged
#    (`dpkg --purge --force-depends`) must fail, for every package of the runtime stage's
#    `apt-get install` (or the one given with --negative).
#
# The base root filesystem and the image (keyed by the runtime stage's RUN steps) are cached in
# $CONTAINER_CHECK_CACHE (default .build-container/rootfs), the Swift build in
# $CONTAINER_CHECK_SCRATCH (default .build-container/swift); --fresh drops both first.
# Needs root (debootstrap, namespaces, mounts) and network access to the Debian mirror and PyPI.
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd -P)"
# Its own build folder: `make test` builds release with testing enabled in .build, and sharing
# it would recompile every module each time one follows the other.
scratch="${CONTAINER_CHECK_SCRATCH:-$repo/.build-container/swift}"
cache="${CONTAINER_CHECK_CACHE:-$repo/.build-container/rootfs}"
mirror="${CONTAINER_CHECK_MIRROR:-http://deb.debian.org/debian}"
security_mirror="${CONTAINER_CHECK_SECURITY_MIRROR:-http://deb.debian.org/debian-security}"
negative="all" fresh=0 keep=0 dockerfile_path="$repo/Dockerfile"
while [[ $# -gt 0 ]]; do
    case "$1" in
        --dockerfile) dockerfile_path="$(cd "$(dirname "$2")" && pwd -P)/$(basename "$2")"; shift 2 ;;
        --negative) negative="$2"; shift 2 ;;
        --fresh) fresh=1; shift ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        *) echo "container-check: unknown option $1 (see --help)" >&2; exit 2 ;;
    esac
done

helpers="$repo/scripts/container"
container_address=10.88.0.2  # eth0 inside the server's network namespace (run-in-root.sh)
started=$SECONDS
log() { printf '[container-check %4ds] %s\n' "$((SECONDS - started))" "$*"; }
fail() { printf '[container-check %4ds] FAILED: %s\n' "$((SECONDS - started))" "$*" >&2; exit 1; }

[[ $(id -u) -eq 0 ]] || fail "needs root (debootstrap, mount and unshare); run it as root"

# --- 1. the Dockerfile ---------------------------------------------------------------------
facts="$(python3 "$helpers/dockerfile.py" vars "$dockerfile_path")" || fail "cannot read the Dockerfile (above)"
eval "$facts"
log "Dockerfile: builder $BUILDER_BASE, runtime $RUNTIME_BASE with ${RUNTIME_APT_PACKAGES[*]}"
log "image: user $RUNTIME_USER, workdir $RUNTIME_WORKDIR, env ${RUNTIME_ENV[*]}, volume ${RUNTIME_VOLUMES[*]:-none}"
log "image: entrypoint [${RUNTIME_ENTRYPOINT[*]}] cmd [${RUNTIME_CMD[*]}] healthcheck [${RUNTIME_HEALTHCHECK[*]}]"
[[ ${#RUNTIME_COPY_DESTINATIONS[@]} -eq 1 ]] || fail "the runtime stage must COPY exactly one file (the binary) from the builder"
[[ ${#RUNTIME_VOLUMES[@]} -le 1 ]] || fail "container-check supports at most one VOLUME"
port="${RUNTIME_EXPOSE[0]:-}"
port="${port%%/*}"
[[ "$port" =~ ^[0-9]+$ ]] || fail "the runtime stage must EXPOSE the server's port"

# --- 2. the host is the builder image, then the builder's build -----------------------------
# shellcheck disable=SC1091  # /etc/os-release is the host's, not part of this repository
host_suite="$(. /etc/os-release && echo "${VERSION_CODENAME:-}")"
[[ "$host_suite" == "$BUILDER_SUITE" ]] \
    || fail "this host runs Debian '$host_suite' but the builder stage is $BUILDER_BASE: the binary would not be built as the image builds it"
host_swift="$(swift --version 2>&1 | sed -n 's/.*Swift version \([0-9.]*\).*/\1/p' | head -n 1)"
[[ "$host_swift" == "$BUILDER_SWIFT_VERSION" ]] \
    || fail "this host has Swift $host_swift but the builder stage is $BUILDER_BASE"

missing=()
for package in debootstrap curl "${BUILDER_APT_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
if [[ ${#missing[@]} -gt 0 ]]; then
    log "installing on the host: ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

if [[ $fresh -eq 1 ]]; then
    log "--fresh: removing $scratch and $cache"
    rm -rf "$scratch" "$cache"
fi
log "building as the builder stage does: ${BUILDER_SWIFT_BUILD[*]} (in $scratch)"
(cd "$repo" && "${BUILDER_SWIFT_BUILD[@]}" --scratch-path "$scratch" 2>&1 | grep -v -e 'warning: the use of `mktemp' -e 'libFoundationEssentials.a(Data+Writing' | tail -n 3) \
    || fail "the builder stage's swift build failed"
binary="$(cd "$repo" && "${BUILDER_SWIFT_BUILD[@]}" --scratch-path "$scratch" --show-bin-path)/entropyinfer"
[[ -x "$binary" ]] || fail "$binary was not built"
needed="$(readelf -d "$binary" | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p' | tr '\n' ' ')"
[[ "$needed" != *libswift* && "$needed" != *libFoundation* ]] \
    || fail "the binary loads the Swift runtime dynamically ($needed); the image has none"
log "binary: $(du -h "$binary" | cut -f1), shared libraries: $needed"
model="$("$binary" serve --print-config-example | python3 -c 'import json, sys; print(json.load(sys.stdin)["model"])')"

# --- 3. the runtime stage ----------------------------------------------------------------------
mkdir -p "$cache"
# Bump when the recipe of the base below changes, so cached bases are rebuilt.
base_recipe=2
base="$cache/base-$RUNTIME_SUITE-$base_recipe"
if [[ ! -f "$base/.container-check-complete" ]]; then
    log "debootstrap --variant=minbase $RUNTIME_SUITE from $mirror (cold run: a few minutes)"
    rm -rf "$cache"/base-* "$cache"/image-*
    # Its own mount namespace: whatever debootstrap mounts goes away with it, even on failure.
    unshare --mount --propagation private \
        debootstrap --variant=minbase --components=main "$RUNTIME_SUITE" "$base.partial" "$mirror" \
        >"$cache/debootstrap.log" 2>&1 || { tail -n 20 "$cache/debootstrap.log" >&2; fail "debootstrap failed (log: $cache/debootstrap.log)"; }
    # What debian:<release>-slim adds on top (debuerreotype): the image's apt sources, apt
    # removing downloaded packages after installing them (docker-clean), and no documentation,
    # manual pages or locales (slimify).
    rm -f "$base.partial/etc/apt/sources.list"
    cat >"$base.partial/etc/apt/sources.list.d/debian.sources" <<EOF
Types: deb
URIs: $mirror
Suites: $RUNTIME_SUITE $RUNTIME_SUITE-updates
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg

Types: deb
URIs: $security_mirror
Suites: $RUNTIME_SUITE-security
Components: main
Signed-By: /usr/share/keyrings/debian-archive-keyring.gpg
EOF
    cat >"$base.partial/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
    cat >"$base.partial/etc/apt/apt.conf.d/docker-no-languages" <<'EOF'
Acquire::Languages "none";
EOF
    cat >"$base.partial/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-exclude /usr/share/groff/*
path-exclude /usr/share/lintian/*
EOF
    find "$base.partial/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete
    rm -rf "$base.partial/usr/share/man/"* "$base.partial/usr/share/info/"* "$base.partial/usr/share/locale/"*
    rm -rf "$base.partial/var/lib/apt/lists/"* "$base.partial/var/cache/apt/archives/"*.deb "$base.partial/var/cache/apt/"*.bin
    mv "$base.partial" "$base"
    touch "$base/.container-check-complete"
fi
log "base root filesystem: $base ($(du -sh --exclude=proc "$base" 2>/dev/null | cut -f1))"

build_script="$(python3 "$helpers/dockerfile.py" build-script "$dockerfile_path")"
image_key="$(printf '%s\n%s\n%s\n' "$RUNTIME_BASE" "$mirror" "$build_script" | sha256sum | cut -c1-16)"
image="$cache/image-$image_key"
if [[ ! -f "$image/.container-check-complete" ]]; then
    log "runtime stage RUN steps in a copy of the base (image $image_key)"
    find "$cache" -maxdepth 1 -name 'image-*' -exec rm -rf {} +
    cp -a "$base" "$image.partial"
    printf '%s' "$build_script" >"$image.partial/container-check-build.sh"
    "$helpers/run-in-root.sh" --root "$image.partial" --network host -- /bin/sh /container-check-build.sh \
        </dev/null >"$cache/image-build.log" 2>&1 \
        || { tail -n 30 "$cache/image-build.log" >&2; fail "the runtime stage's RUN steps failed (log: $cache/image-build.log)"; }
    rm -f "$image.partial/container-check-build.sh" "$image.partial/.container-check-complete"
    mv "$image.partial" "$image"
    touch "$image/.container-check-complete"
fi
image_kib=$(($(du -sk --exclude=proc "$image" | cut -f1) + $(du -k "$binary" | cut -f1)))
log "image: $((image_kib / 1024)) MiB uncompressed with the binary"
for package in "${RUNTIME_APT_PACKAGES[@]}"; do
    # shellcheck disable=SC2016  # ${Version} is dpkg-query's field, not a shell variable
    version="$(chroot "$image" dpkg-query -W -f='${Version}' "$package" 2>/dev/null)" \
        || fail "$package is listed in the runtime stage but not installed in the image"
    log "image has $package $version"
done

# --- 4. containers -------------------------------------------------------------------------------
# Leftovers of a run that was killed before its cleanup: overlay mounts and their directories.
awk -v prefix="$cache/run." 'index($2, prefix) == 1 { print $2 }' /proc/self/mounts | sort -r | while read -r stale; do
    umount -l "$stale" || true
done
rm -rf "$cache"/run.*
runs="$(mktemp -d "$cache/run.XXXXXX")"
mounts=() processes=()
cleanup() {
    local pid mount
    for pid in "${processes[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
    for pid in "${processes[@]}"; do wait "$pid" 2>/dev/null || true; done
    for ((index = ${#mounts[@]} - 1; index >= 0; index--)); do
        mount="${mounts[$index]}"
        umount -l "$mount" 2>/dev/null || true
    done
    if [[ $keep -eq 1 ]]; then echo "kept: $runs"; else rm -rf "$runs"; fi
}
trap cleanup EXIT

# new_container NAME: an overlay on the image with the binary copied in and a fresh volume
# initialised from the image's directory (as Docker does for a new named volume). Sets
# container_root and container_volume.
new_container() {
    local directory="$runs/$1"
    mkdir -p "$directory/upper" "$directory/work" "$directory/root" "$directory/volume"
    if mount -t overlay overlay -o "lowerdir=$image,upperdir=$directory/upper,workdir=$directory/work" "$directory/root" 2>/dev/null; then
        mounts+=("$directory/root")
    else
        rmdir "$directory/root"
        cp -a "$image" "$directory/root"
    fi
    install -D -m 0755 -o root -g root "$binary" "$directory/root${RUNTIME_COPY_DESTINATIONS[0]}"
    # This machine reaches PyPI through a TLS-intercepting proxy whose CA is in its local trust
    # store; the container gets the same local CAs through the image's own ca-certificates
    # (update-ca-certificates), as a `docker build` behind such a proxy would.
    if [[ ${#local_cas[@]} -gt 0 ]]; then
        install -m 0644 "${local_cas[@]}" "$directory/root/usr/local/share/ca-certificates/"
        "$helpers/run-in-root.sh" --root "$directory/root" --network none -- update-ca-certificates \
            >"$directory/update-ca-certificates.log" 2>&1 \
            || { cat "$directory/update-ca-certificates.log" >&2; fail "update-ca-certificates failed in the image"; }
    fi
    if [[ ${#RUNTIME_VOLUMES[@]} -eq 1 ]]; then
        local inside="$directory/root${RUNTIME_VOLUMES[0]}"
        [[ -d "$inside" ]] || mkdir -p "$inside"
        cp -a "$inside/." "$directory/volume/"
        chown --reference="$inside" "$directory/volume"
        chmod --reference="$inside" "$directory/volume"
    fi
    container_root="$directory/root" container_volume="$directory/volume"
}

local_cas=()
for certificate in /usr/local/share/ca-certificates/*.crt; do
    [[ -f "$certificate" ]] && local_cas+=("$certificate")
done
[[ ${#local_cas[@]} -eq 0 ]] || log "this machine's local CA certificates go into each container: ${local_cas[*]}"

# container_command ROOT VOLUME NETWORK: sets `command` to the `docker run` of the image (append
# the process to run). The root filesystem is read-only, as deploy/kubernetes runs it.
container_command() {
    command=("$helpers/run-in-root.sh" --root "$1" --user "$RUNTIME_USER" --workdir "$RUNTIME_WORKDIR" --network "$3" --read-only)
    local item
    for item in "${RUNTIME_ENV[@]}"; do command+=(--env "$item"); done
    [[ ${#RUNTIME_VOLUMES[@]} -eq 1 ]] && command+=(--volume "$2:${RUNTIME_VOLUMES[0]}")
    command+=(--)
}

# exec_command PID: sets `command` to a `docker exec` into the container whose PID 1 is PID (as
# the image's user, with the image's environment; append the process to run).
exec_command() {
    command=(env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "${RUNTIME_ENV[@]}"
        nsenter --target "$1" --mount --uts --ipc --net --pid --root --wd
        --setuid "${RUNTIME_USER%%:*}" --setgid "${RUNTIME_USER#*:}" --)
}

# The series the autoscaler scales on (deploy/kubernetes/prometheus-adapter/values.yaml): the
# running image must export them.
mapfile -t scaling_metrics < <(grep -o 'seriesQuery:.*' "$repo/deploy/kubernetes/prometheus-adapter/values.yaml" \
    | grep -o 'entropyinfer:[a-z0-9_]*' | sort -u)
[[ ${#scaling_metrics[@]} -gt 0 ]] || fail "deploy/kubernetes/prometheus-adapter/values.yaml names no entropyinfer: series"

# run_image LABEL ROOT VOLUME: the whole run; returns 0 when every step passed, else prints the
# failing step in `step_failed` and returns 1.
step_failed=""
run_image() {
    local label="$1" root="$2" volume="$3" logs="$runs/$1"
    step_failed=""

    log "$label: ${RUNTIME_ENTRYPOINT[*]} pull $model"
    container_command "$root" "$volume" host
    if ! timeout 900 "${command[@]}" "${RUNTIME_ENTRYPOINT[@]}" pull --quiet "$model" </dev/null >"$logs/pull.log" 2>&1; then
        step_failed="pull: $(grep -m1 -i -e error -e 'cannot' "$logs/pull.log" || tail -n 1 "$logs/pull.log")"
        return 1
    fi
    log "$label: pulled to $(tail -n 1 "$logs/pull.log") ($(du -sh "$volume" | cut -f1) in the volume)"

    log "$label: starting [${RUNTIME_ENTRYPOINT[*]} ${RUNTIME_CMD[*]}] in its own network namespace"
    container_command "$root" "$volume" none
    "${command[@]}" "${RUNTIME_ENTRYPOINT[@]}" "${RUNTIME_CMD[@]}" </dev/null >"$logs/serve.log" 2>&1 &
    local runner=$! server=""
    processes+=("$runner")
    local deadline=$((SECONDS + 20))
    while [[ -z "$server" && $SECONDS -lt $deadline ]]; do
        server="$(pgrep -P "$runner" | head -n 1 || true)"
        kill -0 "$runner" 2>/dev/null || break
        [[ -n "$server" ]] || sleep 0.1
    done
    if [[ -z "$server" ]]; then
        wait "$runner" 2>/dev/null || true
        step_failed="serve: did not start: $(grep -m1 -i error "$logs/serve.log" || tail -n 1 "$logs/serve.log")"
        return 1
    fi

    # HEALTHCHECK: retried every second (docker: --start-interval) until the start period ends.
    local healthy=0
    deadline=$((SECONDS + ${RUNTIME_HEALTHCHECK_START_PERIOD%.*} + ${RUNTIME_HEALTHCHECK_TIMEOUT%.*}))
    local health_started=$SECONDS
    while [[ $SECONDS -lt $deadline ]]; do
        if ! kill -0 "$server" 2>/dev/null; then
            wait "$runner" 2>/dev/null || true
            step_failed="serve: exited before it was healthy: $(grep -m1 -i error "$logs/serve.log" || tail -n 1 "$logs/serve.log")"
            return 1
        fi
        exec_command "$server"
        if timeout "${RUNTIME_HEALTHCHECK_TIMEOUT%.*}" "${command[@]}" "${RUNTIME_HEALTHCHECK[@]}" >>"$logs/health.log" 2>&1; then
            healthy=1
            break
        fi
        sleep 1
    done
    if [[ $healthy -ne 1 ]]; then
        step_failed="healthcheck: [${RUNTIME_HEALTHCHECK[*]}] never passed: $(tail -n 1 "$logs/health.log")"
        return 1
    fi
    log "$label: healthcheck passed after $((SECONDS - health_started)) s: $(tail -n 1 "$logs/health.log")"

    # One chat completion to the container's own address (eth0, set up by run-in-root.sh), with
    # the host's curl: what arrives through a published port.
    local request='{"model": "'"$model"'", "messages": [{"role": "user", "content": "Name three colors."}], "max_tokens": 24, "temperature": 0}'
    if ! nsenter --target "$server" --net -- curl -sS --max-time 300 -H 'Content-Type: application/json' \
        -d "$request" "http://$container_address:$port/v1/chat/completions" >"$logs/chat.json" 2>"$logs/chat.err"; then
        step_failed="chat completion: $(cat "$logs/chat.err")"
        return 1
    fi
    local answer
    if ! answer="$(python3 - "$logs/chat.json" <<'EOF'
import json, sys
reply = json.load(open(sys.argv[1]))
choice = reply["choices"][0]
content = choice["message"]["content"]
assert choice["message"]["role"] == "assistant", reply
assert content.strip(), "empty answer"
assert choice["finish_reason"] in ("stop", "length"), reply
assert reply["usage"]["completion_tokens"] > 0, reply
print(f'{reply["usage"]["prompt_tokens"]} prompt + {reply["usage"]["completion_tokens"]} completion tokens, '
      f'finish_reason {choice["finish_reason"]}: {content!r}')
EOF
    )"; then
        step_failed="chat completion: unexpected answer: $(head -c 400 "$logs/chat.json")"
        return 1
    fi
    log "$label: chat completion: $answer"

    if ! nsenter --target "$server" --net -- curl -sS --max-time 30 "http://$container_address:$port/metrics" >"$logs/metrics.txt"; then
        step_failed="metrics: GET /metrics failed"
        return 1
    fi
    local metric
    for metric in "${scaling_metrics[@]}"; do
        if ! grep -q "^${metric}[{ ]" "$logs/metrics.txt"; then
            step_failed="metrics: /metrics has no $metric, which the autoscaler scales on"
            return 1
        fi
    done
    log "$label: /metrics exports ${scaling_metrics[*]}"
    local rss hwm threads
    rss="$(awk '/^VmRSS/ { print $2 }' "/proc/$server/status")"
    hwm="$(awk '/^VmHWM/ { print $2 }' "/proc/$server/status")"
    threads="$(awk '/^Threads/ { print $2 }' "/proc/$server/status")"
    log "$label: server memory after one request: RSS $((rss / 1024)) MiB, peak $((hwm / 1024)) MiB, $threads threads"

    log "$label: stopping with $RUNTIME_STOPSIGNAL"
    kill -s "${RUNTIME_STOPSIGNAL#SIG}" "$server"
    local status=0 waited=$SECONDS
    timeout 120 tail --pid="$server" -f /dev/null || true
    wait "$runner" || status=$?
    if [[ $status -ne 0 ]]; then
        step_failed="stop: the server exited with status $status after $RUNTIME_STOPSIGNAL: $(tail -n 2 "$logs/serve.log" | tr '\n' ' ')"
        return 1
    fi
    log "$label: exited 0 after $((SECONDS - waited)) s: $(tail -n 1 "$logs/serve.log")"
    return 0
}

log "model: $model (the server's default)"
new_container positive
mkdir -p "$runs/positive"
if ! run_image positive "$container_root" "$container_volume"; then
    log "server log (last lines):"
    tail -n 15 "$runs/positive/serve.log" 2>/dev/null || true
    fail "the image does not work: $step_failed"
fi
log "positive run passed"

# --- 5. negative controls ------------------------------------------------------------------------
case "$negative" in
    none) controls=() ;;
    all) controls=("${RUNTIME_APT_PACKAGES[@]}") ;;
    *) controls=("$negative") ;;
esac
for package in "${controls[@]}"; do
    label="without-$package"
    new_container "$label"
    mkdir -p "$runs/$label"
    "$helpers/run-in-root.sh" --root "$container_root" --network none -- \
        dpkg --purge --force-depends --force-remove-essential "$package" >"$runs/$label/purge.log" 2>&1 \
        || { cat "$runs/$label/purge.log" >&2; fail "negative control: cannot purge $package"; }
    if run_image "$label" "$container_root" "$container_volume"; then
        fail "negative control: the run passed without $package, so the check cannot see a missing runtime package"
    fi
    # A package of shared libraries must fail for the right reason: the loader names one of them.
    mapfile -t sonames < <(chroot "$image" dpkg -L "$package" | grep -o '[^/]*\.so\.[0-9][^/]*$' | sort -u)
    if [[ ${#sonames[@]} -gt 0 ]]; then
        named=0
        for soname in "${sonames[@]}"; do [[ "$step_failed" == *"$soname"* ]] && named=1; done
        [[ $named -eq 1 ]] || fail "negative control without $package failed, but not for a missing ${sonames[*]}: $step_failed"
    fi
    log "negative control without $package failed as expected at $step_failed"
done

log "passed: the image pulls, serves, passes its HEALTHCHECK, answers a chat completion and stops with status 0;" \
    "${#controls[@]} negative control(s) failed as expected (total $((SECONDS - started)) s)"

#!/usr/bin/env bash
# Optional local check of the CPU image (containers/cpu/Dockerfile), for machines that cannot
# pull base images from a registry: podman builds it FROM a local Debian bookworm made with
# debootstrap, then runs `crossreg --version` and `crossreg simulate --preset tiny` in it
# (as an unprivileged uid, as Nextflow's `-u` does) and prints PASS or FAIL.
#
#   bash scripts/build_container.sh            # `make container`
#
# What it does, in order:
#   1. needs podman, runc and debootstrap (installed with apt-get when run as root);
#   2. writes a private containers.conf (runc, cgroupfs, ulimits) under $WORK and points
#      CONTAINERS_CONF at it; the system's files are left alone;
#   3. debootstraps Debian bookworm (minbase) from the Debian mirror apt already uses
#      (/etc/apt/sources.list*; DEBIAN_MIRROR overrides) and imports it as $BASE_IMAGE, once;
#      this base has no Python, so the Dockerfile installs Debian's python3 (3.11.2) from apt
#      instead of the python:3.11.13-slim image's own;
#   4. hands pip in the build the host's pip configuration (`pip config list`, which includes
#      the PIP_* environment variables) as the build secret `pipconf`, read at build time and
#      never committed; local paths it names (file:// indexes, find-links, cert) are mounted
#      read-only into the build's RUN steps under /mnt/host-pip, and the pip.conf rewritten to match;
#   5. builds from a clean copy of the checkout (git's tracked and not-ignored files, so no
#      .venv, build/ or compiled kernels get in) with --build-arg BASE=$BASE_IMAGE.
#
# Environment: CROSSREG_CONTAINER_WORK (default .cache/container), CROSSREG_IMAGE (default
# localhost/crossreg:0.1.0-local), DEBIAN_MIRROR, PIP (the pip whose configuration is passed;
# default .venv/bin/python -m pip, else python3 -m pip).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
WORK="${CROSSREG_CONTAINER_WORK:-$ROOT/.cache/container}"
IMAGE="${CROSSREG_IMAGE:-localhost/crossreg:0.1.0-local}"
SUITE=bookworm
BASE_IMAGE="localhost/crossreg-base:debian-$SUITE"
START=$SECONDS

log() { printf '[build_container] %s\n' "$*" >&2; }
elapsed() { local s=$((SECONDS - START)); printf '%dm%02ds' $((s / 60)) $((s % 60)); }
fail() {
    log "$*"
    echo "FAIL: container check ($(elapsed))"
    exit 1
}
trap 'fail "command failed at line $LINENO (logs under $WORK)"' ERR

mkdir -p "$WORK"

# 1. tools --------------------------------------------------------------------------------
missing=()
for tool in podman runc debootstrap; do
    command -v "$tool" >/dev/null 2>&1 || missing+=("$tool")
done
if ((${#missing[@]})); then
    [[ $(id -u) == 0 ]] || fail "missing ${missing[*]}: install podman runc debootstrap (root is needed for debootstrap)"
    log "installing ${missing[*]} (apt-get)"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman runc debootstrap uidmap >"$WORK/apt.log" 2>&1
fi
[[ $(id -u) == 0 ]] || fail "debootstrap and podman import of a root file system need root"

# 2. private podman configuration ---------------------------------------------------------
cat >"$WORK/containers.conf" <<'EOF'
# written by scripts/build_container.sh for its own podman runs (CONTAINERS_CONF)
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]

[engine]
runtime = "runc"
cgroup_manager = "cgroupfs"
EOF
export CONTAINERS_CONF="$WORK/containers.conf"

# 3. local Debian base ----------------------------------------------------------------------
debian_mirror() {
    # the first URI that apt uses for the plain "$SUITE" suite (deb822 .sources, then one-line lists)
    local f
    for f in /etc/apt/sources.list.d/*.sources; do
        [[ -r $f ]] || continue
        awk -v suite="$SUITE" '
            /^[[:space:]]*$/ { if (uri != "" && has) exit; uri = ""; has = 0; next }
            /^URIs:/   { uri = $2 }
            /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == suite) has = 1 }
            END        { if (uri != "" && has) print uri }' "$f"
    done
    for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
        [[ -r $f ]] || continue
        sed -E 's/\[[^]]*\]//' "$f" | awk -v suite="$SUITE" '$1 == "deb" && $3 == suite { print $2 }'
    done
}
if podman image exists "$BASE_IMAGE"; then
    log "base $BASE_IMAGE exists"
else
    MIRROR="${DEBIAN_MIRROR:-$(debian_mirror | sed -n 1p)}"
    MIRROR="${MIRROR:-http://deb.debian.org/debian}"
    if [[ ! -f "$WORK/rootfs.ok" ]]; then
        log "debootstrap $SUITE from $MIRROR (log: $WORK/debootstrap.log)"
        rm -rf "$WORK/rootfs"
        debootstrap --variant=minbase "$SUITE" "$WORK/rootfs" "$MIRROR" >"$WORK/debootstrap.log" 2>&1
        touch "$WORK/rootfs.ok"
    fi
    log "importing the root file system as $BASE_IMAGE"
    tar --numeric-owner -C "$WORK/rootfs" -c . | podman import --change 'CMD ["bash"]' - "$BASE_IMAGE" >/dev/null
fi

# 4. the host's pip configuration -----------------------------------------------------------
if [[ -n ${PIP:-} ]]; then
    read -r -a pip_cmd <<<"$PIP"
elif [[ -x $ROOT/.venv/bin/python ]]; then
    pip_cmd=("$ROOT/.venv/bin/python" -m pip)
else
    pip_cmd=(python3 -m pip)
fi
PIPCONF="$WORK/pip.conf"
mounts=()
"${pip_cmd[@]}" config list >"$WORK/pip-config.txt" 2>/dev/null || : >"$WORK/pip-config.txt"
python3 - "$WORK/pip-config.txt" "$PIPCONF" "$WORK/pip-mounts.txt" <<'EOF'
"""`pip config list` lines (scope.key='value') -> a pip.conf for the build, plus the local paths
it names (file:// indexes, find-links, cert). Those are mounted under /mnt/host-pip (not at their
own paths, where they could hide the image's files, e.g. /etc/ssl/certs) and rewritten to match."""
import configparser, os, shlex, sys

src, conf_path, mounts_path = sys.argv[1:]
PREFIX = "/mnt/host-pip"
skip = {"config-file", "cache-dir", "no-cache-dir", "user", "target", "prefix", "root", "src"}
conf = configparser.ConfigParser(interpolation=None)
mounts = {}


def relocate(name, token):
    scheme = "file://" if token.startswith("file://") else ""
    path = token[len(scheme):]
    if not path.startswith("/") or not os.path.exists(path):
        return token
    mount = path.rstrip("/") or "/"
    # a file:// index links to its files relative to itself (../../files/...): mount its parent
    if name.endswith("index-url") and os.path.basename(mount) == "simple":
        mount = os.path.dirname(mount)
    mounts[os.path.realpath(mount)] = PREFIX + mount
    return scheme + PREFIX + path


for line in open(src):
    key, sep, value = line.rstrip("\n").partition("=")
    if not sep:
        continue
    scope, _, name = key.rpartition(".")
    section = "global" if scope in {"global", "user", "site", ""} or scope.startswith(":") else scope
    if name in skip:
        continue
    tokens = shlex.split(value)
    if name in {"index-url", "extra-index-url", "find-links", "cert", "client-cert"}:
        tokens = [relocate(name, t) for t in " ".join(tokens).split()]
    if not conf.has_section(section):
        conf.add_section(section)
    conf.set(section, name, " ".join(tokens))
with open(conf_path, "w") as out:
    conf.write(out)
with open(mounts_path, "w") as out:
    out.write("".join(f"{host}:{inside}\n" for host, inside in mounts.items()))
EOF
while IFS=: read -r host inside; do
    [[ -n $host ]] && mounts+=(--volume "$host:$inside:ro")
done <"$WORK/pip-mounts.txt"
log "pip configuration for the build: $(grep -c = "$PIPCONF" || true) settings, $((${#mounts[@]} / 2)) local path(s) mounted"

# 5. build from a clean copy of the checkout ----------------------------------------------
CTX="$WORK/context"
rm -rf "$CTX"
mkdir -p "$CTX"
if git -C "$ROOT" rev-parse --is-inside-work-tree >/dev/null 2>&1; then
    (cd "$ROOT" && git ls-files -z --cached --others --exclude-standard \
        | while IFS= read -r -d '' f; do [[ -e $f ]] && printf '%s\0' "$f"; done \
        | tar --null -T - -cf -) | tar -C "$CTX" -xf -
else
    tar -C "$ROOT" --exclude='*.so' --exclude=__pycache__ --exclude='*.egg-info' --exclude=csrc/_native.c \
        -cf - pyproject.toml setup.py README.md csrc pycore containers | tar -C "$CTX" -xf -
fi

log "building $IMAGE from $BASE_IMAGE (log: $WORK/build.log)"
build_start=$SECONDS
podman build \
    --network host \
    --build-arg "BASE=$BASE_IMAGE" \
    --secret "id=pipconf,src=$PIPCONF" \
    "${mounts[@]}" \
    -f "$CTX/containers/cpu/Dockerfile" \
    -t "$IMAGE" \
    "$CTX" >"$WORK/build.log" 2>&1 || { tail -n 30 "$WORK/build.log" >&2; fail "podman build failed"; }
log "built in $(((SECONDS - build_start) / 60))m$(((SECONDS - build_start) % 60))s"

# 6. checks inside the image -----------------------------------------------------------------
version="$(podman run --rm --network none "$IMAGE" crossreg --version 2>&1)" || fail "crossreg --version: $version"
log "crossreg --version: $version"
[[ $version == "crossreg 0.1.0" ]] || fail "unexpected version output: $version"
podman run --rm --network none -u 1000:1000 "$IMAGE" bash -c '
    set -euo pipefail
    command -v ps >/dev/null
    crossreg simulate --preset tiny --out /tmp/x >/tmp/simulate.log
    test -n "$(ls -A /tmp/x)"
    python -c "import crossreg._native, keras; print(\"keras backend:\", keras.backend.backend())"
    echo "simulate wrote $(find /tmp/x -type f | wc -l) files"
' >"$WORK/run.log" 2>&1 || { cat "$WORK/run.log" >&2; fail "crossreg simulate --preset tiny failed in the image"; }
sed 's/^/[build_container] /' "$WORK/run.log" >&2
size="$(podman image inspect --format '{{.Size}}' "$IMAGE")"
log "image $IMAGE: $((size / 1024 / 1024)) MiB"
echo "PASS: container check ($(elapsed))"

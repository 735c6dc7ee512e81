# Shared set-up steps for scripts/run and scripts/test (sourced, not run).
# Works on a fresh Debian machine with Python 3.11: installs what is missing, reuses what is there.

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="$ROOT/.venv"
# Another apt or dpkg (unattended-upgrades, a second terminal) holds the lock for a while: wait for it.
APT_LOCK_WAIT=600

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi
}

# Debian packages, installed without starting their system services: the tests
# start their own instances on loopback.
apt_install() {
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    echo "routewatch: installing Debian packages: ${missing[*]}" >&2
    local policy=/usr/sbin/policy-rc.d created=0
    if [ ! -e "$policy" ]; then
        printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
        as_root chmod +x "$policy"
        created=1
    fi
    local wait=(-o "DPkg::Lock::Timeout=$APT_LOCK_WAIT")
    as_root apt-get "${wait[@]}" update -qq
    DEBIAN_FRONTEND=noninteractive as_root apt-get "${wait[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
    [ "$created" = 1 ] && as_root rm -f "$policy"
    return 0
}

# The venv, with routewatch installed editable. pip runs only when pyproject.toml or the
# extras asked for changed since the last install: the code itself is read in place.
python_env() {
    local extras="$1"
    if ! python3 -m venv --help >/dev/null 2>&1 || ! python3 -c 'import ensurepip' 2>/dev/null; then
        apt_install python3-venv python3-pip
    fi
    if [ ! -x "$VENV/bin/python" ]; then
        python3 -m venv "$VENV"
    fi
    local stamp="$VENV/routewatch-installed-${extras//,/-}" want
    want="$(sha256sum <"$ROOT/pyproject.toml" | cut -d' ' -f1)"
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && [ -x "$VENV/bin/routewatch" ]; then
        return 0
    fi
    local log="$VENV/pip-install.log"
    if ! { "$VENV/bin/python" -m pip install -q --upgrade pip && "$VENV/bin/python" -m pip install -q -e "$ROOT[$extras]"; } \
        >"$log" 2>&1; then
        grep -v "^WARNING: Location" "$log" >&2
        echo "routewatch: Python install failed (log: $log)" >&2
        exit 1
    fi
    echo "$want" >"$stamp"
}

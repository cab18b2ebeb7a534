# Shared by the HTTP benchmark scripts (sourced, not run): messages and the wrk install.

log() { printf '>> %s\n' "$*" >&2; }
die() {
    printf 'error: %s\n' "$*" >&2
    exit 1
}

# Installs wrk with apt-get when it is missing.
ensure_wrk() {
    command -v wrk >/dev/null && return 0
    log "installing wrk"
    local sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    $sudo apt-get install -y wrk >/dev/null 2>&1 ||
        { $sudo apt-get update >/dev/null && $sudo apt-get install -y wrk >/dev/null; } ||
        die "could not install wrk (apt-get install -y wrk)"
}

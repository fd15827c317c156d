# shellcheck shell=bash
# Debian's Chromium for the browser test (tests/it/browser.rs).
#
# Source this file, then call `chromium_install`. When no `chromium` binary is
# found (on PATH or at /usr/bin/chromium) it installs Debian's chromium
# package, as root with apt-get or otherwise through sudo, the same way pg.sh
# installs postgresql. The test fails with a pointer here when the browser is
# missing; it never skips.

chromium_log() { printf '[chromium] %s\n' "$*" >&2; }

chromium_bin() {
  command -v chromium 2>/dev/null || { [ -x /usr/bin/chromium ] && printf '%s' /usr/bin/chromium; }
}

chromium_install() {
  if [ -n "$(chromium_bin)" ]; then return 0; fi
  chromium_log "chromium not found; installing Debian's chromium package for the browser test"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { chromium_log "need root or sudo to install chromium"; return 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq chromium >/dev/null
  [ -n "$(chromium_bin)" ] || { chromium_log "chromium installed but no chromium binary found"; return 1; }
}

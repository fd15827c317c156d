# shellcheck shell=bash
# Debian's DejaVu fonts, which the cards' pictures are drawn with (src/render).
#
# Source this file, then call `fonts_install`. When DejaVuSans.ttf,
# DejaVuSans-Bold.ttf or DejaVuSansMono.ttf is missing from
# ${PICTURE_FONT_DIR:-/usr/share/fonts/truetype/dejavu} it installs Debian's
# fonts-dejavu-core package, as root with apt-get or otherwise through sudo,
# the way chromium.sh installs chromium. Without the fonts the bot still
# works (cards go out without pictures), but the picture tests fail.

fonts_log() { printf '[fonts] %s\n' "$*" >&2; }

fonts_present() {
  local dir="${PICTURE_FONT_DIR:-/usr/share/fonts/truetype/dejavu}" file
  for file in DejaVuSans.ttf DejaVuSans-Bold.ttf DejaVuSansMono.ttf; do
    [ -f "$dir/$file" ] || return 1
  done
}

fonts_install() {
  if fonts_present; then return 0; fi
  fonts_log "DejaVu fonts not found; installing Debian's fonts-dejavu-core for the pictures"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then
    command -v sudo >/dev/null 2>&1 || { fonts_log "need root or sudo to install fonts-dejavu-core"; return 1; }
    sudo="sudo"
  fi
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq >/dev/null
  $sudo apt-get install -y -qq fonts-dejavu-core >/dev/null
  fonts_present || { fonts_log "fonts-dejavu-core installed but the fonts are not in ${PICTURE_FONT_DIR:-/usr/share/fonts/truetype/dejavu}"; return 1; }
}

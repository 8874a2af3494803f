#!/usr/bin/env sh
# Install a built Locas Reader folder for the current user: the app under ~/.local/opt, the two
# commands on ~/.local/bin, the menu entry and the icon. Run after `python packaging/build.py`:
#     packaging/linux/install.sh [dist/locas-reader]
# Uninstall: remove ~/.local/opt/locas-reader, ~/.local/bin/locas{,-reader},
# ~/.local/share/applications/locas-reader.desktop and the icon named below.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
src=${1:-"$here/../../dist/locas-reader"}
if [ ! -x "$src/locas-reader" ]; then
    echo "No built app at $src: build it first with 'python packaging/build.py'." >&2
    exit 1
fi
data=${XDG_DATA_HOME:-"$HOME/.local/share"}
dest="$HOME/.local/opt/locas-reader"
mkdir -p "$HOME/.local/opt" "$HOME/.local/bin" "$data/applications" "$data/icons/hicolor/scalable/apps"
rm -rf "$dest"
cp -a "$src" "$dest"
ln -sf "$dest/locas-reader" "$HOME/.local/bin/locas-reader"
ln -sf "$dest/locas" "$HOME/.local/bin/locas"
cp "$dest/_internal/assets/icons/app.svg" "$data/icons/hicolor/scalable/apps/locas-reader.svg"
sed "s|^Exec=.*|Exec=$dest/locas-reader|; s|^TryExec=.*|TryExec=$dest/locas-reader|" \
    "$here/locas-reader.desktop" > "$data/applications/locas-reader.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
echo "Installed into $dest; 'locas-reader' and 'locas' are on ~/.local/bin, and the menu has Locas Reader."

#!/usr/bin/env bash
# scripts/vendor_assets.sh [DEST] — refresh the vendored front-end files in static/vendor.
# Nothing is fetched at run time: the app works on a closed network. Licences are kept.
set -euo pipefail
DEST=${1:-static/vendor}
WORK=$(mktemp -d); trap 'rm -rf "$WORK"' EXIT
PKGS="bootstrap@5.3.9 chart.js@4.6.1"
( cd "$WORK" && npm pack --silent $PKGS >/dev/null && for t in *.tgz; do mkdir "${t%.tgz}" && tar xzf "$t" -C "${t%.tgz}"; done )
mkdir -p "$DEST"/{chartjs,bootstrap/css,bootstrap/js}
cp "$WORK"/chart.js-*/package/dist/chart.umd.min.js            "$DEST/chartjs/"
cp "$WORK"/chart.js-*/package/LICENSE.md                       "$DEST/chartjs/"
cp "$WORK"/bootstrap-*/package/dist/css/bootstrap.min.css      "$DEST/bootstrap/css/"
cp "$WORK"/bootstrap-*/package/dist/js/bootstrap.bundle.min.js "$DEST/bootstrap/js/"
cp "$WORK"/bootstrap-*/package/LICENSE                         "$DEST/bootstrap/"
# The .map files are not vendored, so drop their references: the manifest static storage
# fails in collectstatic on a missing map.
find "$DEST" \( -name '*.js' -o -name '*.css' \) -exec sed -i -E '\%^(//|/\*)# sourceMappingURL=[^ ]*( \*/)?$%d' {} +
echo "$PKGS" | tr ' ' '\n' > "$DEST/VERSIONS.txt"
( cd "$DEST" && find . -type f ! -name SHA256SUMS | sort | xargs sha256sum > SHA256SUMS )

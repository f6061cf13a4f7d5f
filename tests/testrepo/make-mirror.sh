#!/usr/bin/env bash
# Rebuild the source mirror (mirror/<name>/<name>-<version>.tar.gz) from src/ byte-identically,
# checking each sha256 against repo/packages/<name>/package.py. Only needed after editing src/.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/src"
for d in */; do
  d=${d%/}; name=${d%-*}
  mkdir -p "$here/mirror/$name"
  out=$here/mirror/$name/$d.tar.gz
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode='u=rwX,go=rX' --format=gnu \
      -cf - "$d" | gzip -9 -n >"$out"
  sha=$(sha256sum "$out" | cut -d' ' -f1)
  grep -q "$sha" "$here/repo/packages/$name/package.py" ||
    { echo "sha256 of $out is $sha: update repo/packages/$name/package.py" >&2; exit 1; }
done

#!/usr/bin/env bash
# Rebuild the source mirror from src/ byte-identically, checking each sha256 against
# spack_repo/wizardtest/packages/<name>/package.py. Only needed after editing src/.
# Two layouts, as `spack mirror create` writes them: Spack 1.x looks only at
# _source-cache/archive/<sha[:2]>/<sha256>.tar.gz, Spack 0.2x also at <name>/<name>-<version>.tar.gz
# (here a relative symlink to the first).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
cd "$here/src"
for d in */; do
  d=${d%/}; name=${d%-*}
  tmp=$(mktemp)
  tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner --mode='u=rwX,go=rX' --format=gnu \
      -cf - "$d" | gzip -9 -n >"$tmp"
  sha=$(sha256sum "$tmp" | cut -d' ' -f1)
  grep -q "$sha" "$here/spack_repo/wizardtest/packages/$name/package.py" ||
    { echo "sha256 of $d is $sha: update spack_repo/wizardtest/packages/$name/package.py" >&2; rm -f "$tmp"; exit 1; }
  archive=$here/mirror/_source-cache/archive/${sha:0:2}/$sha.tar.gz
  mkdir -p "$(dirname "$archive")" "$here/mirror/$name"
  mv "$tmp" "$archive"
  chmod 0644 "$archive"
  ln -sfn "../_source-cache/archive/${sha:0:2}/$sha.tar.gz" "$here/mirror/$name/$d.tar.gz"
done

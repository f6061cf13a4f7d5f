# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Concretize every domain pack (or the named ones) with the real Spack, one at a time.

Prints one line per pack -- ok / failure kind, seconds, number of concrete specs -- and totals,
and writes the details (including Spack's error output) to benchmarks/results/concretize-packs.json.

    .venv/bin/python benchmarks/concretize_packs.py [--timeout 600] [--target x86_64_v3] [PACK ...]

Environment: SPACK_ROOT (default /opt/spack), SPACK_PYTHON, SPACK_DISABLE_LOCAL_CONFIG are
passed on to Spack. Each pack gets a fresh environment directory under a temporary directory;
Spack's site configuration is read, never changed; its mirrors are
replaced by the pack's own source mirrors (``mirrors::``) unless --keep-mirrors is given, so an
unreachable binary mirror configured on the machine does not fail every pack. Runs under `nice` because concretizations
are CPU-bound and the machine may be shared.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, ".collections"))

from ansible_collections.research.wizard.plugins.module_utils._spack_parse import error_summary  # noqa: E402
from ansible_collections.research.wizard.plugins.plugin_utils.pack_resolve import (  # noqa: E402
    concretize_status, resolve_pack, spack_yaml)
from ansible_collections.research.wizard.plugins.plugin_utils.pack_validate import available_domains  # noqa: E402


def concretize(resolved, spack, timeout, workdir, target=None, isolate_mirrors=True):
    env_dir = os.path.join(workdir, resolved["name"])
    os.makedirs(env_dir)
    manifest = spack_yaml(resolved, target)
    if isolate_mirrors:
        # "mirrors::" replaces the mirrors of every lower scope: an unreachable S3 mirror in the
        # site or user configuration makes every concretization fail before solving.
        manifest["spack"]["mirrors:"] = manifest["spack"].pop("mirrors", {})
    with open(os.path.join(env_dir, "spack.yaml"), "w") as f:
        yaml.safe_dump(manifest, f, default_flow_style=False)
    cmd = ["nice", spack, "-e", env_dir, "concretize", "--force"]
    start = time.monotonic()
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)
        rc, out, err, timed_out = proc.returncode, proc.stdout, proc.stderr, False
    except subprocess.TimeoutExpired as e:
        rc, timed_out = None, True
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        err = e.stderr.decode() if isinstance(e.stderr, bytes) else (e.stderr or "")
    seconds = time.monotonic() - start
    result = {"pack": resolved["name"], "roots": len(resolved["specs"]), "seconds": round(seconds, 1),
              "rc": rc, "command": " ".join(cmd)}
    if rc == 0:
        lock = os.path.join(env_dir, "spack.lock")
        with open(lock) as f:
            result["concrete_specs"] = len(json.load(f).get("concrete_specs", {}))
        result.update(status="ok", detail="")
    else:
        summary = {"kind": None, "detail": "concretization did not finish in time"} if timed_out else error_summary(err, out)
        result.update(status="timeout" if timed_out else concretize_status(summary["kind"]), detail=summary["detail"],
                      stderr=err[-4000:])
    return result


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("packs", nargs="*", help="pack names (default: all)")
    ap.add_argument("--timeout", type=int, default=600, help="seconds per pack (default 600)")
    ap.add_argument("--target", help="override every pack's target (default: the pack's own)")
    ap.add_argument("--domains-dir", default=os.path.join(ROOT, "domains"))
    ap.add_argument("--keep-mirrors", action="store_true",
                    help="use the mirrors of Spack's configuration (default: only the pack's source mirrors)")
    ap.add_argument("--output", default=os.path.join(ROOT, "benchmarks", "results", "concretize-packs.json"))
    args = ap.parse_args(argv)

    spack_root = os.environ.setdefault("SPACK_ROOT", "/opt/spack")
    os.environ.setdefault("SPACK_DISABLE_LOCAL_CONFIG", "1")
    spack = os.path.join(spack_root, "bin", "spack")
    if not os.access(spack, os.X_OK):
        sys.exit("no Spack at %s (set SPACK_ROOT)" % spack)
    names = args.packs or available_domains(args.domains_dir)
    workdir = tempfile.mkdtemp(prefix="wizard-concretize-")
    results = []
    print("%-28s %-17s %8s %6s  %s" % ("pack", "status", "seconds", "specs", "detail"), flush=True)
    try:
        for name in names:
            resolved = resolve_pack(name, domains_dir=args.domains_dir)
            r = concretize(resolved, spack, args.timeout, workdir, args.target, not args.keep_mirrors)
            results.append(r)
            print("%-28s %-17s %8.1f %6s  %s" % (name, r["status"], r["seconds"], r.get("concrete_specs", "-"),
                                                 r["detail"][:120]), flush=True)
            os.makedirs(os.path.dirname(args.output), exist_ok=True)
            with open(args.output, "w") as f:
                json.dump(results, f, indent=2)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    ok = [r for r in results if r["status"] == "ok"]
    total = sum(r["seconds"] for r in results)
    print("total: %d/%d packs concretize, %d root specs, %.0f s (%.1f min)"
          % (len(ok), len(results), sum(r["roots"] for r in results), total, total / 60))
    for r in results:
        if r["status"] != "ok":
            print("FAILED %s: %s: %s" % (r["pack"], r["status"], r["detail"]))
    return 0 if len(ok) == len(results) else 1


if __name__ == "__main__":
    sys.exit(main())

# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Run with `spack python spack_check_specs.py SPECS.json`: checks spec strings against the real Spack.

For every spec (and every ^dependency in it): Spack parses it, the package exists, every variant
named exists on that package, and a version range matches at least one known version.
Prints one JSON object: {"checked": N, "problems": ["spec: problem", ...]}.
Used by test_packs_spack.py; not collected by pytest.
"""
import json
import sys

import spack.repo
import spack.spec
import spack.version

problems = []
specs = json.load(open(sys.argv[1]))
for text in specs:
    try:
        parsed = spack.spec.Spec(text)
    except Exception as e:  # any parse error is a problem to report
        problems.append("%s: Spack cannot parse it: %s" % (text, e))
        continue
    for node in parsed.traverse():
        if not spack.repo.PATH.exists(node.name):
            problems.append("%s: no package '%s'" % (text, node.name))
            continue
        cls = spack.repo.PATH.get_pkg_class(node.name)
        variants = getattr(cls, "variants", {})
        names = set(variants)
        for when_variants in (variants.values() if variants and isinstance(next(iter(variants.values())), dict) else []):
            names.update(when_variants)  # newer Spack: {when: {name: variant}}
        for v in node.variants:
            if v not in names and v not in ("patches", "dev_path"):
                problems.append("%s: package '%s' has no variant '%s'" % (text, node.name, v))
        if str(node.versions) != ":":
            known = spack.version.VersionList(list(cls.versions))
            if not node.versions.intersects(known):
                problems.append("%s: no version of '%s' matches %s" % (text, node.name, node.versions))
print(json.dumps({"checked": len(specs), "problems": problems}))

# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The skeleton of every spack_* module: common arguments, one Spack, version checks, errors.

Like community.docker's AnsibleDockerClient: a module declares only its own arguments and a main
function; the Spack is found and checked once, and a SpackError becomes fail_json with cmd/rc/stderr
instead of a traceback.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.research.wizard.plugins.module_utils._spack import (
    SPACK_COMMON_ARGS, Spack, SpackError, fail)


class SpackModule(object):
    """An AnsibleModule with the research.wizard.spack common options and its Spack.

    min_spack: a (major, minor) the module needs; older Spacks fail with a message that says so.
    """

    def __init__(self, argument_spec, min_spack=None, needs_yaml=True, **kwargs):
        spec = dict(SPACK_COMMON_ARGS)
        spec.update(argument_spec)
        kwargs.setdefault('supports_check_mode', True)
        self.module = AnsibleModule(argument_spec=spec, **kwargs)
        self.params = self.module.params
        self.min_spack = min_spack
        self.needs_yaml = needs_yaml
        self._spack = None

    @property
    def check_mode(self):
        return self.module.check_mode

    @property
    def spack(self):
        """The checked Spack: raises SpackError before anything runs when it is missing or unsupported."""
        if self._spack is None:
            spack = Spack(self.module)
            if self.needs_yaml:
                spack.require_yaml()
            version = spack.version
            if self.min_spack and version[:len(self.min_spack)] < tuple(self.min_spack):
                raise SpackError('%s needs Spack >= %s; the Spack at %s is %s.' % (
                    self.module._name, '.'.join(str(v) for v in self.min_spack), spack.root,
                    spack.version_string))
            self._spack = spack
        return self._spack

    def fail(self, msg, **result):
        self.module.fail_json(msg=msg, **result)

    def run(self, main):
        """exit_json with what main(self) returns (a dict with changed); fail_json on a SpackError."""
        try:
            result = main(self)
        except SpackError as e:
            fail(self.module, e)
        if self._spack is not None:
            result.setdefault('spack_version', self._spack.version_string)
        self.module.exit_json(**result)

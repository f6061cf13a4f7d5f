# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of research.wizard.deployment_stamp and deployment_stamp_info (documented in
plugins/modules/): the digest of everything a deployment is made from, which only the controller can see."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import json
import os

import yaml

from ansible.plugins.action import ActionBase

from ansible_collections.research.wizard.plugins.module_utils._digest import tree_digest
from ansible_collections.research.wizard.plugins.plugin_utils.pack_errors import DomainPackError
from ansible_collections.research.wizard.plugins.plugin_utils.pack_resolve import resolve_pack

COLLECTION = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
ROLES = ('spack', 'binary_cache', 'domain_pack')
# Play-level variables the role defaults are templated from (see playbooks/deploy.yml).
ROOT_VARIABLES = ('domain', 'size', 'cache', 'target', 'wizard_overrides', 'wizard_cache_url', 'wizard_hosts')
CODE_DIRS = ('roles', 'plugins', 'playbooks')
PACK_ARGS = ('domain', 'size', 'overrides', 'domains_dir')


def input_variables(collection=COLLECTION):
    """Names of the deployment's input variables: every role default of the deploy roles, and their roots.

    Raw (untemplated) values are compared, so values set at run time (reachability, registered
    results) cannot make two runs with the same inputs look different.
    """
    names = set(ROOT_VARIABLES)
    for role in ROLES:
        with open(os.path.join(collection, 'roles', role, 'defaults', 'main.yml')) as f:
            names.update((yaml.safe_load(f) or {}).keys())
    return sorted(names)


def code_digest(collection=COLLECTION):
    """sha256 of the collection's roles, plugins and playbooks (bytecode caches left out)."""
    return tree_digest([os.path.join(collection, top) for top in CODE_DIRS])


def inputs_digest(task_vars, pack_args, collection=COLLECTION):
    values = dict((n, task_vars[n]) for n in input_variables(collection) if n in task_vars)
    try:
        pack = resolve_pack(pack_args.get('domain'), size=pack_args.get('size') or None,
                            overrides=pack_args.get('overrides') or {}, domains_dir=pack_args.get('domains_dir') or None)
    except DomainPackError as e:
        # Never current: the full run reports the error.
        pack = {'error': str(e)}
    blob = json.dumps({'variables': values, 'pack': pack, 'code': code_digest(collection)},
                      sort_keys=True, default=str)
    return hashlib.sha256(blob.encode('utf-8')).hexdigest()


class ActionModule(ActionBase):

    TRANSFERS_FILES = False

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        args = dict(self._task.args)
        pack_args = dict((k, args.pop(k, None)) for k in PACK_ARGS)
        if not args.get('inputs_digest'):
            if not pack_args['domain']:
                result.update(failed=True, msg='%s needs domain (or inputs_digest)' % self._task.action)
                return result
            args['inputs_digest'] = inputs_digest(task_vars or {}, pack_args)
        result.update(self._execute_module(module_args=args, task_vars=task_vars))
        return result

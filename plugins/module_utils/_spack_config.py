# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""One section of one Spack configuration scope, compared key by key with what a module wants.

`spack config add -f FILE` merges FILE into the scope as Spack's merge_yaml does: mappings recursively,
lists concatenated, other values replaced. So only the keys that differ are written, a list that
differs is removed first (else it would grow), and values travel in a private file, never in argv.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import copy

MISSING = object()


def leaves(settings, prefix=()):
    """(path, value) of every leaf of SETTINGS: a value that is not a non-empty mapping."""
    for key, value in settings.items():
        path = prefix + (str(key),)
        if isinstance(value, dict) and value:
            yield from leaves(value, path)
        else:
            yield path, value


def get_path(data, path):
    for key in path:
        if not isinstance(data, dict) or key not in data:
            return MISSING
        data = data[key]
    return data


def _set_path(data, path, value):
    for key in path[:-1]:
        if not isinstance(data.get(key), dict):
            data[key] = {}
        data = data[key]
    data[path[-1]] = value


def _drop_path(data, path):
    parent = get_path(data, path[:-1])
    if isinstance(parent, dict):
        parent.pop(path[-1], None)


def plan_present(current, settings):
    """(what to add as a mapping, paths of lists to remove first, the section afterwards)."""
    add, replace, after = {}, [], copy.deepcopy(current)
    for path, value in leaves(settings):
        have = get_path(current, path)
        if have == value:
            continue
        if isinstance(have, list):
            replace.append(path)
        _set_path(add, path, value)
        _set_path(after, path, value)
    return add, replace, after


def plan_absent(current, settings):
    """(paths to remove, the section afterwards): every leaf key SETTINGS names that the scope has."""
    remove, after = [], copy.deepcopy(current)
    for path, dummy in leaves(settings):
        if get_path(current, path) is not MISSING:
            remove.append(path)
            _drop_path(after, path)
    return remove, after


def plan_list(current, values, present):
    """A list section (repos on Spack 0.2x): (values to add, values to remove, the section afterwards)."""
    if present:
        add = [v for v in values if v not in current]
        return add, [], add + list(current)
    remove = [v for v in values if v in current]
    return [], remove, [v for v in current if v not in remove]

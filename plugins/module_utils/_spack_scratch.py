# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Scratch files and environment for one Spack command: private, and gone afterwards."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import contextlib
import os
import shutil
import tempfile


@contextlib.contextmanager
def scratch_dir(prefix='wizard-'):
    path = tempfile.mkdtemp(prefix=prefix)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


@contextlib.contextmanager
def private_file(text, name):
    """A file only its owner can read (it may hold a secret), in a fresh directory, removed afterwards."""
    with scratch_dir() as scratch:
        path = os.path.join(scratch, name)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        yield path


@contextlib.contextmanager
def env_override(spack, **values):
    """Spack's environment with VALUES for the commands run inside the block, restored afterwards."""
    saved = dict((k, spack.env_vars.get(k)) for k in values)
    spack.env_vars.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                spack.env_vars.pop(key, None)
            else:
                spack.env_vars[key] = value

# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The collection's one digest of files and file trees (sha256).

Used on the controller (a pack's repositories and source mirrors, the collection's code) and on hosts
(the deployment stamp's configuration files, package repositories outside git), so it lives in
module_utils and needs only the standard library.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import hashlib
import os

BLOCK = 1 << 20


def _update_with_file(h, path):
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(BLOCK), b''):
            h.update(block)


def file_digest(path):
    """sha256 of a file's content, or None when it cannot be read (missing)."""
    h = hashlib.sha256()
    try:
        _update_with_file(h, path)
    except (IOError, OSError):
        return None
    return h.hexdigest()


def tree_files(top):
    """Every file under TOP in a stable order; bytecode caches and hidden directories left out
    (Python writes them as it imports a recipe, git keeps its objects there: neither is content)."""
    for directory, dirs, files in os.walk(top):
        dirs[:] = sorted(d for d in dirs if d != '__pycache__' and not d.startswith('.'))
        for name in sorted(f for f in files if not f.endswith('.pyc')):
            yield os.path.join(directory, name)


def tree_digest(paths, stat_only=False):
    """sha256 over every file under PATHS (one directory or a list of them), in order.

    Each top directory counts by its base name, each file by its path relative to its top and its
    content; with STAT_ONLY by its size and modification time instead (cheap enough to run on every
    deploy over package recipes whose content nobody else tracks). A file that vanishes while the tree
    is read is left out.
    """
    h = hashlib.sha256()
    for top in [paths] if isinstance(paths, str) else paths:
        h.update(b'\0top\0' + os.path.basename(os.path.normpath(top)).encode('utf-8'))
        for path in tree_files(top):
            h.update(b'\0file\0' + os.path.relpath(path, top).encode('utf-8') + b'\0')
            try:
                if stat_only:
                    st = os.stat(path)
                    h.update(('%d\0%d' % (st.st_size, st.st_mtime_ns)).encode('utf-8'))
                else:
                    _update_with_file(h, path)
            except (IOError, OSError):
                continue
    return h.hexdigest()

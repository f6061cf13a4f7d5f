# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The build-time history: source build and cache install times per package, for the ETA."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import json

from ansible_collections.research.wizard.plugins.plugin_utils.progress_history import BuildHistory


def report(*packages):
    return {'packages': [dict(zip(('package', 'version', 'origin', 'seconds'), p), state='installed')
                         for p in packages]}


def test_records_source_and_cache_times(tmp_path):
    path = tmp_path / 'h.json'
    history = BuildHistory(str(path))
    history.record_builds([report(('cmake', '3.27', 'cache', 2.0), ('tinyapp', '1.0', 'source', 40.0),
                                  ('zlib', '1.3', 'external', 0.0))])
    history.save()
    again = BuildHistory(str(path))
    assert again.lookup('tinyapp', '1.0') == 40.0 and again.lookup('cmake', '3.27') is None
    assert again.lookup_cache('cmake', '3.27') == 2.0 and again.lookup_cache('tinyapp', '1.0') is None
    assert again.estimate('tinyapp', '1.0', 'source') == 40.0
    assert again.estimate('cmake', '9.9', 'cache') == 2.0        # another version: the newest of any
    assert again.estimate('cmake', '3.27', None) is None         # origin not known yet
    assert again.cache_mean() == 2.0
    assert 'zlib@1.3' not in again.entries
    # a later source build of cmake keeps its cache time: both in one entry
    again.record('cmake', '3.27', 90.0, origin='source')
    assert again.lookup('cmake', '3.27') == 90.0 and again.lookup_cache('cmake', '3.27') == 2.0


def test_running_means_and_old_files(tmp_path):
    path = tmp_path / 'h.json'
    # a file of an earlier release: source times only
    path.write_text(json.dumps({'format': 1, 'packages': {'a@1': {'seconds': 10.0, 'samples': 1, 'updated': 1},
                                                          'bad@1': {'seconds': True}}}))
    history = BuildHistory(str(path))
    assert history.lookup('a', '1') == 10.0 and 'bad@1' not in history.entries
    assert history.cache_mean() is None
    history.record('a', '1', 1.0, origin='cache')
    history.record('a', '1', 3.0, origin='cache')
    assert history.lookup_cache('a', '1') == 2.0 and history.entries['a@1']['cache_samples'] == 2
    assert history.lookup('a', '1') == 10.0 and history.cache_mean() == 2.0

# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The HTTP side of the mirror probe (_spack_mirror.http_status) scripted from a YAML case's `http`."""
import contextlib
from unittest import mock

HTTP_STATUS = 'ansible_collections.research.wizard.plugins.module_utils._spack_mirror.http_status'


@contextlib.contextmanager
def scripted_http(case, tmp_path):
    """Yield the list of URLs probed; each answers as the case's `http` says ({tmp} filled in)."""
    answers = dict((url.replace('{tmp}', str(tmp_path)), tuple(answer)) for url, answer in (case.get('http') or {}).items())
    asked = []

    def status(url, timeout, environ=None, method='HEAD'):
        assert url in answers, 'unexpected HTTP probe of %s (method %s)' % (url, method)
        assert 0 < timeout <= 60, 'a probe waits a bounded time: %r' % timeout
        asked.append(url)
        return answers[url]

    with mock.patch(HTTP_STATUS, side_effect=status):
        yield asked

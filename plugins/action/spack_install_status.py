# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of research.wizard.spack_install_status (documented in plugins/modules/).

An ``until`` loop evaluates the task arguments once, so a module alone cannot know what the poll
before it returned. This action carries the position (``next_since``) from one retry to the next,
which is what lets a long poll (``wait``) return as soon as there is something new - and only that.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import getpass
import os
import socket
import time

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.vars import merge_hash

# Starts of two polls of one loop are at least this far apart, so that `retries` can be sized from
# the async limit (retries = 2 x async with delay 0) even when every poll returns at once.
MIN_POLL_INTERVAL = 0.5

# (host, task, progress_file, jid) -> {'since', 'started', 'at'}. A worker process runs one task
# on one host (all its retries), so this lives exactly as long as one polling loop; the task's uuid
# in the key keeps it correct even if a process ever served more.
_CURSORS = {}


class ActionModule(ActionBase):

    TRANSFERS_FILES = False
    _supports_check_mode = True
    _supports_async = True

    def run(self, tmp=None, task_vars=None):
        result = super(ActionModule, self).run(tmp, task_vars)
        del tmp
        task_vars = task_vars or {}
        args = dict(self._task.args)
        # job_id: the deprecated alias of jid (the module warns about it).
        key = (task_vars.get('inventory_hostname'), self._task._uuid, args.get('progress_file'),
               args.get('jid', args.get('job_id')))
        if boolean(args.get('heartbeat', False), strict=False) and not args.get('owner'):
            # Who polls the run, for the heartbeat: the message of a deploy that finds the run in
            # its way names the controller and the playbook (the worker's parent process).
            args['owner'] = {'controller': socket.gethostname(), 'playbook_pid': os.getppid(),
                             'user': getpass.getuser()}
        cursor = _CURSORS.get(key)
        if cursor is not None:
            hold = cursor['at'] + MIN_POLL_INTERVAL - time.time()
            if hold > 0:
                time.sleep(hold)
            args['since'] = cursor['since']
        wrap_async = self._task.async_val and not self._connection.has_native_async
        poll_start = time.time()
        polled = self._execute_module(module_args=args, task_vars=task_vars, wrap_async=wrap_async)
        if (not wrap_async and cursor is not None and cursor['started'] is not None and not polled.get('rotated')
                and polled.get('started') not in (None, cursor['started'])):
            # Another run replaced the file between two polls and is already longer than the
            # position: its first events are before it. Read that run from its beginning.
            args.pop('since', None)
            args['wait'] = 0
            polled = self._execute_module(module_args=args, task_vars=task_vars)
        if not wrap_async:
            self._remove_tmp_path(self._connection._shell.tmpdir)
        if isinstance(polled.get('next_since'), int):
            _CURSORS[key] = {'since': polled['next_since'], 'started': polled.get('started'), 'at': poll_start}
        return merge_hash(result, polled)

# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Controller side of research.wizard.deployment_stamp_info: the same inputs digest as the stamp's
record, so what is checked is exactly what was recorded."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

from ansible_collections.research.wizard.plugins.action.deployment_stamp import ActionModule as StampAction


class ActionModule(StampAction):
    """Runs the module the task names (deployment_stamp_info) with the digest filled in."""

# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""The errors of domain packs (controller side); ``str()`` of each is the message for the user.

Private to the collection: the interface may change without notice.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class DomainPackError(Exception):
    """Any problem with a pack or its overrides; ``str()`` is the message for the user."""


class UnknownDomainError(DomainPackError):
    def __init__(self, name, available, nearest):
        self.name = name
        self.available = available
        self.nearest = nearest
        hint = "did you mean '%s'? " % nearest if nearest else ""
        super(UnknownDomainError, self).__init__(
            "unknown domain '%s'; %savailable: %s" % (name, hint, ", ".join(available) or "(none)"))


class PackValidationError(DomainPackError):
    """Schema or rule violations; ``problems`` is a list of (key_path, message)."""

    def __init__(self, path, problems):
        self.path = path
        self.problems = problems
        lines = ["%s: %s" % (key, msg) for key, msg in problems]
        super(PackValidationError, self).__init__(
            "%s is not a valid domain pack:\n  - %s" % (path, "\n  - ".join(lines)))


class SpecSyntaxError(DomainPackError):
    def __init__(self, spec, pos, message):
        self.spec = spec
        self.pos = pos
        self.reason = message
        pointer = " " * pos + "^"
        super(SpecSyntaxError, self).__init__(
            "invalid spec '%s': %s (at column %d)\n    %s\n    %s" % (spec, message, pos + 1, spec, pointer))

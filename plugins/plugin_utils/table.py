# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

"""The collection's one plain-text table formatter (controller side).

Used by the domain-pack catalogue and by the progress callback's summary. Private to the
collection: the API may change freely.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

LEFT = 'left'
RIGHT = 'right'


def format_cell(value):
    """A float with at most four decimals and no trailing zeros (2.1168, 0.5, 3); anything else str()."""
    if isinstance(value, float):
        return ('%.4f' % value).rstrip('0').rstrip('.')
    return str(value)


def format_table(rows, columns, rule=True):
    """The lines of a plain-text table, columns two spaces apart, trailing blanks removed.

    ``rows``: mappings (or sequences) indexed by each column's key. ``columns``: ``(key, header)``
    or ``(key, header, align)`` with ``align`` ``'left'`` (the default) or ``'right'``.
    ``rule``: a line of dashes under the header.
    """
    aligns = [column[2] if len(column) > 2 else LEFT for column in columns]
    cells = [[column[1] for column in columns]]
    cells.extend([format_cell(row[column[0]]) for column in columns] for row in rows)
    widths = [max(len(line[i]) for line in cells) for i in range(len(columns))]
    lines = []
    for number, line in enumerate(cells):
        lines.append('  '.join(cell.rjust(width) if align == RIGHT else cell.ljust(width)
                               for cell, width, align in zip(line, widths, aligns)).rstrip())
        if number == 0 and rule:
            lines.append('  '.join('-' * width for width in widths))
    return lines

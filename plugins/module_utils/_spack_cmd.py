# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""Every Spack command line of the collection, declared once.

In the style of community.general's CmdRunner (not imported: it is another collection's private
module_utils): ARG_FORMATS says how each named argument becomes words on the command line, COMMANDS
says which words and arguments, in which order, make up each Spack command. Modules ask for a command
by name with values (``spack_args('install', jobs=4, specs=['zlib'])``); nothing else builds argv.
"""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type


class Fmt(object):
    """Argument formats: each returns a function value -> list of command-line words."""

    @staticmethod
    def as_bool(flag, flag_false=None):
        return lambda value: [flag] if value else ([flag_false] if flag_false else [])

    @staticmethod
    def as_bool_not(flag):
        """`flag` only for an explicit False (None leaves Spack's default)."""
        return lambda value: [flag] if value is False else []

    @staticmethod
    def as_opt_val(flag):
        """`flag VALUE`, nothing when the value is None or empty."""
        return lambda value: [] if value in (None, '', [], ()) else [flag, str(value)]

    @staticmethod
    def as_repeat(flag):
        """`flag V` for each value of a list."""
        return lambda values: [w for v in (values or ()) for w in (flag, str(v))]

    @staticmethod
    def as_value():
        """One positional word; nothing when None."""
        return lambda value: [] if value in (None, '') else [str(value)]

    @staticmethod
    def as_list():
        """Positional words, one per element."""
        return lambda values: [str(v) for v in (values or ())]

    @staticmethod
    def as_map(mapping, default=()):
        """Words chosen by the value (a choices option)."""
        return lambda value: list(mapping.get(value, default))

    @staticmethod
    def as_func(func):
        return lambda value: list(func(value))


fmt = Fmt

ARG_FORMATS = dict(
    # Global options (before the command word).
    debug=fmt.as_bool('-d'),
    # Shared by several commands.
    scope=fmt.as_opt_val('--scope'),
    specs=fmt.as_list(),
    name=fmt.as_value(),
    path=fmt.as_value(),
    section=fmt.as_value(),
    value=fmt.as_value(),
    assume_yes=fmt.as_bool('-y'),
    force=fmt.as_bool('--force'),
    jobs=fmt.as_opt_val('-j'),
    # install
    use_buildcache=fmt.as_func(lambda v: [] if v in (None, 'auto') else ['--use-buildcache', v]),
    fail_fast=fmt.as_bool('--fail-fast'),
    check_signature=fmt.as_bool_not('--no-check-signature'),
    # find / spec
    json=fmt.as_bool('--json'),
    format=fmt.as_opt_val('--format'),
    install_status=fmt.as_bool('-I'),
    long=fmt.as_bool('-l'),
    # env
    manifest=fmt.as_value(),
    location_env=fmt.as_opt_val('--env'),
    # config
    file=fmt.as_opt_val('-f'),
    # mirrors
    mirror=fmt.as_value(),
    url=fmt.as_value(),
    mirror_type=fmt.as_repeat('--type'),
    signed=fmt.as_map({True: ['--signed'], False: ['--unsigned']}),
    autopush=fmt.as_bool('--autopush'),
    # Credentials only by the name of the variable holding them (Spack 1.x): `ps` shows every argument to
    # every local user, so --s3-access-key-id, --oci-username and the 0.2x secret flags have no format.
    s3_access_key_id_variable=fmt.as_opt_val('--s3-access-key-id-variable'),
    s3_access_key_secret_variable=fmt.as_opt_val('--s3-access-key-secret-variable'),
    s3_access_token_variable=fmt.as_opt_val('--s3-access-token-variable'),
    s3_profile=fmt.as_opt_val('--s3-profile'),
    s3_endpoint_url=fmt.as_opt_val('--s3-endpoint-url'),
    oci_username_variable=fmt.as_opt_val('--oci-username-variable'),
    oci_password_variable=fmt.as_opt_val('--oci-password-variable'),
    # build caches
    allarch=fmt.as_bool('--allarch'),
    key=fmt.as_opt_val('--key'),
    update_index=fmt.as_bool('--update-index'),
    only=fmt.as_opt_val('--only'),
    with_keys=fmt.as_bool('--keys'),
    install_keys=fmt.as_bool('--install'),
    trust=fmt.as_bool('--trust'),
    # gpg
    gpg_which=fmt.as_map({'trusted': ['--trusted'], 'signing': ['--signing']}),
    email=fmt.as_value(),
    fingerprints=fmt.as_list(),
    publish_mirror=fmt.as_opt_val('--mirror-name'),
    publish_mirror_url=fmt.as_opt_val('--mirror-url'),
    rebuild_index=fmt.as_bool('--rebuild-index'),
    # detection
    not_buildable=fmt.as_bool('--not-buildable'),
    packages=fmt.as_list(),
    # module files
    module_type=fmt.as_value(),
)

# name: (words before the arguments, argument names in command-line order). Global options listed
# first (before the command's words) are those in GLOBAL_ARGS.
GLOBAL_ARGS = ('debug',)
COMMANDS = dict(
    version=(('--version',), ()),
    install=(('install',), ('use_buildcache', 'jobs', 'fail_fast', 'check_signature', 'specs')),
    find=(('find',), ('json', 'format', 'specs')),
    spec=(('spec',), ('install_status', 'long', 'specs')),
    add=(('add',), ('specs',)),
    uninstall=(('uninstall',), ('assume_yes', 'specs')),
    concretize=(('concretize',), ('force',)),
    env_create=(('env', 'create'), ('name', 'manifest')),
    env_remove=(('env', 'remove', '-y'), ('name',)),
    env_list=(('env', 'list'), ()),
    location=(('location',), ('location_env',)),
    config_get=(('config',), ('scope', 'get', 'section')),
    config_print_file=(('config',), ('scope', 'edit', '--print-file', 'section')),
    config_add=(('config',), ('scope', 'add', 'file', 'value')),
    config_remove=(('config',), ('scope', 'remove', 'path')),
    mirror_add=(('mirror', 'add'), (
        'scope', 'mirror_type', 'signed', 'autopush', 's3_profile', 's3_endpoint_url',
        's3_access_key_id_variable', 's3_access_key_secret_variable', 's3_access_token_variable',
        'oci_username_variable', 'oci_password_variable', 'name', 'url')),
    mirror_remove=(('mirror', 'remove'), ('scope', 'name')),
    buildcache_list=(('buildcache', 'list'), ('allarch', 'long')),
    buildcache_push=(('buildcache', 'push'), ('signed', 'key', 'force', 'update_index', 'only', 'jobs', 'mirror',
                                              'specs')),
    buildcache_update_index=(('buildcache', 'update-index'), ('with_keys', 'mirror')),
    buildcache_keys=(('buildcache', 'keys'), ('install_keys', 'trust', 'force')),
    gpg_list=(('gpg', 'list'), ('gpg_which',)),
    gpg_create=(('gpg', 'create'), ('name', 'email')),
    gpg_export=(('gpg', 'export'), ('path', 'fingerprints')),
    gpg_publish=(('gpg', 'publish'), ('publish_mirror', 'publish_mirror_url', 'rebuild_index', 'fingerprints')),
    gpg_trust=(('gpg', 'trust'), ('path',)),
    compiler_find=(('compiler', 'find'), ('scope',)),
    compiler_list=(('compiler', 'list'), ('scope',)),
    external_find=(('external', 'find'), ('scope', 'not_buildable', 'packages')),
    module_refresh=(('module',), ('module_type', 'refresh', 'assume_yes')),
)


def spack_args(command, **values):
    """The argument list (after `spack` and its global flags) of COMMAND with VALUES.

    A word of a command's argument list that is not a known argument name is fixed text (e.g. `get`
    after `--scope S` in `config --scope S get mirrors`). Unknown value names are refused, so a typo
    cannot silently drop a flag.
    """
    try:
        words, order = COMMANDS[command]
    except KeyError:
        raise ValueError('unknown Spack command %r (known: %s)' % (command, ', '.join(sorted(COMMANDS))))
    unknown = set(values) - set(order) - set(GLOBAL_ARGS)
    if unknown:
        raise ValueError('spack %s takes no %s' % (command, ', '.join(sorted(unknown))))
    args = []
    for name in GLOBAL_ARGS:
        args += ARG_FORMATS[name](values.get(name))
    args += list(words)
    for name in order:
        if name in ARG_FORMATS:
            args += ARG_FORMATS[name](values.get(name))
        else:
            args.append(name)
    return args

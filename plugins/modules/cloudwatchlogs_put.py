#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

DOCUMENTATION = r'''
module: cloudwatchlogs_put
short_description: Send messages and files to new CloudWatch Logs streams, once
version_added: 0.1.0
description:
  - Writes each entry of O(streams) to its own log stream in the existing log group O(log_group_name);
    it creates the stream, then puts its events (one per message, or one per line of a file).
  - A stream that already exists is left as it is and nothing is sent to it, so running the module
    again with the same stream names sends nothing. Name each stream after what it holds (for example
    instance, run and file), so that new content gets a new stream.
  - Uses only C(logs:DescribeLogStreams), C(logs:CreateLogStream) and C(logs:PutLogEvents) on the
    log group; it never reads events back, so an instance role needs no more than that.
  - Files are read on the host the module runs on, which needs boto3 there. Files ending in C(.gz) are
    decompressed. Only the last O(max_bytes) of a file are sent, preceded by an event saying so.
  - Events longer than CloudWatch's limit (256 KiB) are split; empty lines are left out (CloudWatch
    rejects empty events); events are sent in batches of at most 1 MiB and 10,000 events.
  - amazon.aws has no module that puts log events; this one uses amazon.aws's connection handling, so it
    takes the same credentials, O(region) and O(endpoint_url) options.
author:
  - research.wizard developers (@research-wizard)
extends_documentation_fragment:
  - amazon.aws.common.modules
  - amazon.aws.region.modules
  - amazon.aws.boto3
attributes:
  check_mode:
    description: Can run in check_mode and return changed status prediction without modifying target.
    support: full
    details: Reads the files and looks up the streams, and reports what would be sent.
  diff_mode:
    description: Will return details on what has changed (or possibly needs changing in check_mode), when in diff mode.
    support: full
    details: The names of the wanted streams that exist before and after.
  idempotent:
    description: When run twice in a row with the same arguments, the second run reports no change.
    support: full
  platform:
    description: Target OS/families that can be operated against.
    support: N/A
    platforms: posix
options:
  log_group_name:
    description: The log group; it must exist (for example made by M(amazon.aws.cloudwatchlogs_log_group)).
    type: str
    required: true
  streams:
    description: The streams to write, each with exactly one of O(streams[].messages) or O(streams[].path).
    type: list
    elements: dict
    required: true
    suboptions:
      name:
        description: Log stream name (at most 512 characters, no C(:) or C(*)).
        type: str
        required: true
      messages:
        description: Events, in order (empty ones are left out).
        type: list
        elements: str
      path:
        description:
          - A file on the host to send line by line. When several paths are given, the first one that
            exists is sent (for example a log that may or may not be compressed).
        type: list
        elements: path
  timestamp:
    description:
      - When the events happened, as ISO 8601 (V(2025-05-01T12:00:00+00:00); no zone means UTC) or as
        milliseconds since the epoch. Every event gets this time, so their order is the order sent.
      - Defaults to now. CloudWatch rejects events older than 14 days or than the group's retention,
        and the module then fails.
    type: str
  max_bytes:
    description: Send at most the last this many bytes of each file (after decompression).
    type: int
    default: 1048576
  missing:
    description: What to do when none of a stream's O(streams[].path) exists - V(fail), or V(skip) the stream.
    type: str
    choices: [fail, skip]
    default: fail
requirements:
  - boto3 and botocore on the host the module runs on.
seealso:
  - module: amazon.aws.cloudwatchlogs_log_group
  - name: CloudWatch Logs quotas
    description: Event and batch size limits.
    link: https://docs.aws.amazon.com/AmazonCloudWatch/latest/logs/cloudwatch_limits_cwl.html
'''

EXAMPLES = r'''
- name: Send a deployment summary and a build log, once
  research.wizard.cloudwatchlogs_put:
    region: eu-west-1
    log_group_name: /research-wizard/chemistry-alice
    timestamp: "{{ domain_pack_summary.finished_at }}"
    streams:
      - name: i-0123456789abcdef0/chemistry/20250501T120000Z/summary
        messages:
          - "{{ domain_pack_summary | dict2items | rejectattr('key', 'equalto', 'packages') | items2dict | to_json }}"
      - name: i-0123456789abcdef0/chemistry/20250501T120000Z/spack/openmpi@5.0.5-abcdefg
        path:
          - /opt/spack/opt/openmpi-5.0.5-abcdefg/.spack/spack-build-out.txt.gz
          - /opt/spack/opt/openmpi-5.0.5-abcdefg/.spack/spack-build-out.txt
    missing: skip

- name: One message to an emulator (moto)
  research.wizard.cloudwatchlogs_put:
    region: us-east-1
    endpoint_url: http://127.0.0.1:5000
    log_group_name: /test
    streams:
      - name: hello
        messages: [hello world]
'''

RETURN = r'''
log_group_name:
  description: The log group written to.
  returned: always
  type: str
  sample: /research-wizard/chemistry-alice
streams:
  description: What happened to each stream, in the order given.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: Stream name.
      type: str
    status:
      description:
        - V(created) - the stream was created and its events sent (in check mode - would be).
        - V(exists) - the stream already existed; nothing was sent.
        - V(missing) - none of its paths exists and O(missing=skip).
      type: str
    events:
      description: Events sent (or that would be sent).
      type: int
    bytes:
      description: Bytes of message text sent (or that would be sent).
      type: int
    path:
      description: The file that was read, for a stream given by O(streams[].path).
      type: str
    truncated:
      description: Whether only the last O(max_bytes) of the file were sent.
      type: bool
  sample: [{"name": "i-0abc/chemistry/20250501T120000Z/summary", "status": "created", "events": 12,
            "bytes": 4210, "path": null, "truncated": false}]
sent_events:
  description: Events sent by this run, over all streams (in check mode - that would be sent).
  returned: always
  type: int
  sample: 12
'''

import datetime
import gzip
import io
import os

try:
    import botocore
except ImportError:
    pass  # AnsibleAWSModule reports a missing botocore

from ansible.module_utils.basic import missing_required_lib

from ansible_collections.amazon.aws.plugins.module_utils.botocore import HAS_BOTO3, is_boto3_error_code
from ansible_collections.amazon.aws.plugins.module_utils.modules import AnsibleAWSModule
from ansible_collections.amazon.aws.plugins.module_utils.retries import AWSRetry

# CloudWatch Logs quotas: each event costs 26 bytes besides its message.
EVENT_OVERHEAD = 26
MAX_EVENT_BYTES = 262144 - EVENT_OVERHEAD
MAX_BATCH_BYTES = 1048576
MAX_BATCH_EVENTS = 10000
MAX_STREAM_NAME = 512


def parse_timestamp(value, now=None):
    """Milliseconds since the epoch from ISO 8601 or a millisecond count; None means now."""
    if value is None or value == '':
        moment = now or datetime.datetime.now(datetime.timezone.utc)
        return int(moment.timestamp() * 1000)
    text = str(value).strip()
    if text.isdigit():
        return int(text)
    # Python < 3.11 does not read a trailing Z.
    if text.endswith(('Z', 'z')):
        text = text[:-1] + '+00:00'
    moment = datetime.datetime.fromisoformat(text)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp() * 1000)


def split_message(text):
    """One message as CloudWatch events: split where it exceeds the event size, never inside a character."""
    data = text.encode('utf-8')
    if len(data) <= MAX_EVENT_BYTES:
        return [text]
    parts = []
    while data:
        piece = data[:MAX_EVENT_BYTES].decode('utf-8', errors='ignore')
        parts.append(piece)
        data = data[len(piece.encode('utf-8')):]
    return parts


def read_tail(path, max_bytes):
    """(text, truncated, skipped_bytes): the last max_bytes of a file, whole lines only when cut."""
    if path.endswith('.gz'):
        tail = bytearray()
        total = 0
        with gzip.open(path, 'rb') as f:
            for chunk in iter(lambda: f.read(io.DEFAULT_BUFFER_SIZE * 16), b''):
                total += len(chunk)
                tail.extend(chunk)
                if len(tail) > max_bytes:
                    del tail[:len(tail) - max_bytes]
        data = bytes(tail)
    else:
        with open(path, 'rb') as f:
            f.seek(0, os.SEEK_END)
            total = f.tell()
            f.seek(max(0, total - max_bytes))
            data = f.read()
    truncated = total > len(data)
    if truncated and b'\n' in data:
        data = data[data.index(b'\n') + 1:]
    return data.decode('utf-8', errors='replace'), truncated, total - len(data)


def file_events(path, max_bytes):
    text, truncated, skipped = read_tail(path, max_bytes)
    events = []
    if truncated:
        events.append('[the first %d bytes of %s are left out; the last %d follow]' % (skipped, path, max_bytes))
    for line in text.splitlines():
        if line.strip():
            events.extend(split_message(line))
    if not events:
        events.append('[%s is empty]' % path)
    return events, truncated


def batches(events):
    """Lists of events within PutLogEvents' size and count limits."""
    batch, size = [], 0
    for message in events:
        cost = len(message.encode('utf-8')) + EVENT_OVERHEAD
        if batch and (size + cost > MAX_BATCH_BYTES or len(batch) >= MAX_BATCH_EVENTS):
            yield batch
            batch, size = [], 0
        batch.append(message)
        size += cost
    if batch:
        yield batch


class LogStreams(object):

    def __init__(self, module, client):
        self.module = module
        self.client = client
        self.group = module.params['log_group_name']

    def existing(self, names):
        """The subset of names that exist, from one listing of their common prefix."""
        params = {'logGroupName': self.group}
        prefix = os.path.commonprefix(list(names))
        if prefix:
            params['logStreamNamePrefix'] = prefix
        try:
            listed = self._describe(**params)
        except is_boto3_error_code('ResourceNotFoundException'):
            self.module.fail_json(msg='Log group %s does not exist in %s; create it first (research.wizard.monitoring '
                                      'or amazon.aws.cloudwatchlogs_log_group).' % (self.group, self.module.region))
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg='Could not list the streams of log group %s (needs logs:DescribeLogStreams)'
                                      % self.group)
        return set(s['logStreamName'] for s in listed.get('logStreams', [])) & set(names)

    @AWSRetry.jittered_backoff()
    def _describe(self, **params):
        return self.client.get_paginator('describe_log_streams').paginate(**params).build_full_result()

    def create(self, name):
        """Create the stream; False when it appeared since it was looked up (someone else wrote it)."""
        try:
            self.client.create_log_stream(logGroupName=self.group, logStreamName=name, aws_retry=True)
        except is_boto3_error_code('ResourceAlreadyExistsException'):
            return False
        except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:  # pylint: disable=duplicate-except
            self.module.fail_json_aws(e, msg='Could not create log stream %s in %s (needs logs:CreateLogStream)'
                                      % (name, self.group))
        return True

    def put(self, name, events, timestamp):
        for batch in batches(events):
            try:
                response = self.client.put_log_events(
                    logGroupName=self.group, logStreamName=name, aws_retry=True,
                    logEvents=[{'timestamp': timestamp, 'message': m} for m in batch])
            except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
                self.module.fail_json_aws(e, msg='Could not put events into %s/%s (needs logs:PutLogEvents)'
                                          % (self.group, name))
            rejected = response.get('rejectedLogEventsInfo')
            if rejected:
                self.module.fail_json(
                    msg='CloudWatch rejected events of %s/%s: %s. Events older than 14 days or than the group\'s '
                        'retention, or more than 2 hours in the future, are not accepted; check timestamp.'
                        % (self.group, name, ', '.join('%s=%s' % kv for kv in sorted(rejected.items()))),
                    rejected_log_events_info=rejected)


def stream_events(module, stream):
    """(events, path, truncated), or None when no path exists and missing=skip."""
    if stream.get('messages') is not None:
        # Empty messages are left out: CloudWatch rejects empty events.
        return [part for message in stream['messages'] if message for part in split_message(message)], None, False
    path = next((p for p in stream['path'] if os.path.isfile(p)), None)
    if path is None:
        if module.params['missing'] == 'skip':
            return None
        module.fail_json(msg='Stream %s: none of these files exists: %s' % (stream['name'], ', '.join(stream['path'])))
    try:
        events, truncated = file_events(path, module.params['max_bytes'])
    except (IOError, OSError) as e:
        module.fail_json(msg='Stream %s: cannot read %s: %s' % (stream['name'], path, e))
    return events, path, truncated


def check_streams(module):
    names = [s['name'] for s in module.params['streams']]
    bad = [n for n in names if not n or len(n) > MAX_STREAM_NAME or ':' in n or '*' in n]
    if bad:
        module.fail_json(msg='Invalid log stream names (1 to 512 characters, no ":" or "*"): %s' % ', '.join(bad))
    duplicates = sorted(set(n for n in names if names.count(n) > 1))
    if duplicates:
        module.fail_json(msg='Stream names given more than once: %s' % ', '.join(duplicates))
    if module.params['max_bytes'] < 1:
        module.fail_json(msg='max_bytes must be at least 1')
    for stream in module.params['streams']:
        if stream.get('messages') is not None and not any(stream['messages']):
            module.fail_json(msg='Stream %s: messages holds no non-empty message' % stream['name'])


def main():
    argument_spec = dict(
        log_group_name=dict(type='str', required=True),
        streams=dict(
            type='list', elements='dict', required=True,
            options=dict(
                name=dict(type='str', required=True),
                messages=dict(type='list', elements='str'),
                path=dict(type='list', elements='path'),
            ),
            mutually_exclusive=[('messages', 'path')],
            required_one_of=[('messages', 'path')],
        ),
        timestamp=dict(type='str'),
        max_bytes=dict(type='int', default=1048576),
        missing=dict(type='str', choices=['fail', 'skip'], default='fail'),
    )
    # This runs on deployed hosts, often in a venv without `packaging`, which amazon.aws's SDK version
    # check needs (it warns on every run without it); the three calls used here are in every botocore.
    module = AnsibleAWSModule(argument_spec=argument_spec, supports_check_mode=True, check_boto3=False)
    if not HAS_BOTO3:
        module.fail_json(msg=missing_required_lib('boto3 and botocore'))
    check_streams(module)
    try:
        timestamp = parse_timestamp(module.params['timestamp'])
    except ValueError:
        module.fail_json(msg='timestamp %r is neither ISO 8601 nor milliseconds since the epoch'
                             % module.params['timestamp'])

    try:
        client = module.client('logs', retry_decorator=AWSRetry.jittered_backoff())
    except (botocore.exceptions.ClientError, botocore.exceptions.BotoCoreError) as e:
        module.fail_json_aws(e, msg='Failed to connect to AWS')
    logs = LogStreams(module, client)
    existing = logs.existing([s['name'] for s in module.params['streams']])

    results = []
    for stream in module.params['streams']:
        result = dict(name=stream['name'], status='exists', events=0, bytes=0, path=None, truncated=False)
        results.append(result)
        if stream['name'] in existing:
            continue
        content = stream_events(module, stream)
        if content is None:
            result['status'] = 'missing'
            continue
        events, result['path'], result['truncated'] = content
        if not module.check_mode and not logs.create(stream['name']):
            continue
        if not module.check_mode:
            logs.put(stream['name'], events, timestamp)
        result.update(status='created', events=len(events), bytes=sum(len(m.encode('utf-8')) for m in events))

    created = [r['name'] for r in results if r['status'] == 'created']
    output = dict(changed=bool(created), log_group_name=logs.group, streams=results,
                  sent_events=sum(r['events'] for r in results))
    if module._diff:
        before = sorted(existing)
        output['diff'] = dict(before=dict(streams=before), after=dict(streams=sorted(before + created)))
    module.exit_json(**output)


if __name__ == '__main__':
    main()

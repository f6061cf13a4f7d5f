# -*- coding: utf-8 -*-
# Copyright (c) research.wizard contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
# SPDX-License-Identifier: GPL-3.0-or-later
"""cloudwatchlogs_put against moto in-process: check mode, apply, idempotent re-run, files (plain,
gzip, cut to max_bytes), limits, errors, and only the three API calls the instance role allows."""

from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import datetime
import gzip
import json

import boto3
import botocore.client
import pytest

from ansible.module_utils.testing import patch_module_args

from ansible_collections.research.wizard.plugins.modules import cloudwatchlogs_put as put

moto = pytest.importorskip("moto")

GROUP = "/research-wizard/chem-dev"
# CloudWatch (and moto) reject events older than 14 days.
_HOUR_AGO = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=250000) - datetime.timedelta(hours=1)
WHEN = _HOUR_AGO.isoformat()
WHEN_MS = int(_HOUR_AGO.timestamp()) * 1000 + 250
ALLOWED_CALLS = {"DescribeLogStreams", "CreateLogStream", "PutLogEvents"}


@pytest.fixture(autouse=True)
def aws(monkeypatch):
    for var in ("AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_URL", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    with moto.mock_aws():
        logs = boto3.client("logs", region_name="us-east-1")
        logs.create_log_group(logGroupName=GROUP)
        yield logs


@pytest.fixture
def api_calls(aws, monkeypatch):
    """Every AWS operation the module calls, by name (not the test's own reads)."""
    calls = []
    real = botocore.client.BaseClient._make_api_call

    def record(self, operation, params):
        if self is not aws:
            calls.append(operation)
        return real(self, operation, params)
    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", record)
    return calls


def run(capsys, check_mode=False, diff=False, **args):
    args = dict({"log_group_name": GROUP, "region": "us-east-1"}, **args)
    if check_mode:
        args["_ansible_check_mode"] = True
    if diff:
        args["_ansible_diff"] = True
    with patch_module_args(args), pytest.raises(SystemExit) as exc:
        put.main()
    return exc.value.code, json.loads(capsys.readouterr().out)


def events_of(logs, stream):
    out = logs.get_log_events(logGroupName=GROUP, logStreamName=stream, startFromHead=True)["events"]
    return [(e["timestamp"], e["message"]) for e in out]


def messages_of(logs, stream):
    return [event[1] for event in events_of(logs, stream)]


def streams_of(logs):
    return sorted(s["logStreamName"] for s in logs.describe_log_streams(logGroupName=GROUP)["logStreams"])


def test_check_apply_and_idempotent_rerun(aws, capsys, tmp_path, api_calls):
    build_log = tmp_path / "spack-build-out.txt"
    build_log.write_text("==> configure\n\n  checking for gcc... gcc\nmake: *** [all] Error 1\n")
    summary = json.dumps({"env": "chemistry", "counts": {"source": 1}})
    streams = [{"name": "i-0abc/chemistry/run1/summary", "messages": [summary, "", '{"name": "zlib"}']},
               {"name": "i-0abc/chemistry/run1/spack/zlib", "path": [str(tmp_path / "absent.gz"), str(build_log)]}]

    # Check mode: what would be sent, nothing created.
    rc, result = run(capsys, check_mode=True, diff=True, streams=streams, timestamp=WHEN)
    assert rc == 0 and result["changed"]
    assert [(s["status"], s["events"]) for s in result["streams"]] == [("created", 2), ("created", 3)]
    assert result["streams"][1]["path"] == str(build_log)
    assert result["diff"] == {"before": {"streams": []},
                              "after": {"streams": ["i-0abc/chemistry/run1/spack/zlib", "i-0abc/chemistry/run1/summary"]}}
    assert streams_of(aws) == []

    rc, result = run(capsys, streams=streams, timestamp=WHEN)
    assert rc == 0 and result["changed"] and result["sent_events"] == 5
    assert events_of(aws, "i-0abc/chemistry/run1/summary") == [(WHEN_MS, summary), (WHEN_MS, '{"name": "zlib"}')]
    # One event per non-empty line, in order.
    assert messages_of(aws, "i-0abc/chemistry/run1/spack/zlib") == [
        "==> configure", "  checking for gcc... gcc", "make: *** [all] Error 1"]

    # Again, and in check mode: the streams exist, nothing is sent.
    for check_mode in (True, False):
        rc, result = run(capsys, check_mode=check_mode, streams=streams, timestamp=WHEN)
        assert rc == 0 and not result["changed"] and result["sent_events"] == 0
        assert [s["status"] for s in result["streams"]] == ["exists", "exists"]
    assert len(events_of(aws, "i-0abc/chemistry/run1/summary")) == 2
    # What the instance role allows is all the module needs.
    assert set(api_calls) == ALLOWED_CALLS


def test_gzip_file_cut_to_max_bytes(aws, capsys, tmp_path):
    lines = ["line %04d %s" % (i, "x" * 40) for i in range(1000)]
    log = tmp_path / "spack-build-out.txt.gz"
    with gzip.open(str(log), "wt") as f:
        f.write("\n".join(lines) + "\n")
    rc, result = run(capsys, streams=[{"name": "gz", "path": [str(log)]}], max_bytes=500)
    assert rc == 0 and result["streams"][0]["truncated"]
    sent = messages_of(aws, "gz")
    assert sent[0].startswith("[the first ") and str(log) in sent[0] and "the last 500 follow" in sent[0]
    # Whole lines only, the file's last ones, at most max_bytes of them.
    assert sent[1:] == lines[-len(sent) + 1:]
    assert sum(len(m) + 1 for m in sent[1:]) <= 500


def test_long_message_split_and_batches(aws, capsys):
    long_line = u"é" * (put.MAX_EVENT_BYTES // 2 + 10)  # two bytes each: just over one event
    rc, result = run(capsys, streams=[{"name": "long", "messages": [long_line]}])
    sent = messages_of(aws, "long")
    assert len(sent) == 2 and "".join(sent) == long_line
    assert all(len(m.encode("utf-8")) <= put.MAX_EVENT_BYTES for m in sent)

    many = ["m%d" % i for i in range(put.MAX_BATCH_EVENTS + 5)]
    assert [len(b) for b in put.batches(many)] == [put.MAX_BATCH_EVENTS, 5]
    big = ["y" * 200000] * 6
    assert all(sum(len(m) + put.EVENT_OVERHEAD for m in b) <= put.MAX_BATCH_BYTES for b in put.batches(big))
    assert sum(len(b) for b in put.batches(big)) == 6


def test_missing_file_skip_or_fail(aws, capsys, tmp_path):
    stream = {"name": "gone", "path": [str(tmp_path / "nope.txt")]}
    rc, result = run(capsys, streams=[stream], missing="skip")
    assert rc == 0 and not result["changed"] and result["streams"][0]["status"] == "missing"
    rc, result = run(capsys, streams=[stream])
    assert rc == 1 and "none of these files exists" in result["msg"]
    assert streams_of(aws) == []


def test_errors(aws, capsys):
    rc, result = run(capsys, log_group_name="/no/such/group", streams=[{"name": "s", "messages": ["m"]}])
    assert rc == 1 and "Log group /no/such/group does not exist" in result["msg"]

    rc, result = run(capsys, streams=[{"name": "a:b", "messages": ["m"]}, {"name": "x", "messages": ["m"]},
                                      {"name": "x", "messages": ["n"]}])
    assert rc == 1 and "a:b" in result["msg"]
    rc, result = run(capsys, streams=[{"name": "x", "messages": ["m"]}, {"name": "x", "messages": ["n"]}])
    assert rc == 1 and "more than once: x" in result["msg"]
    rc, result = run(capsys, streams=[{"name": "x", "messages": ["m"], "path": ["/etc/hostname"]}])
    assert rc == 1 and "mutually exclusive" in result["msg"]
    rc, result = run(capsys, streams=[{"name": "x", "messages": ["", ""]}])
    assert rc == 1 and "no non-empty message" in result["msg"]
    rc, result = run(capsys, streams=[{"name": "x", "messages": ["m"]}], timestamp="yesterday")
    assert rc == 1 and "neither ISO 8601" in result["msg"]
    assert streams_of(aws) == []


def test_rejected_events_fail(aws, capsys):
    rc, result = run(capsys, streams=[{"name": "old", "messages": ["m"]}], timestamp="2001-01-01T00:00:00Z")
    assert rc == 1 and "rejected events of %s/old" % GROUP in result["msg"]


def test_parse_timestamp():
    assert put.parse_timestamp(WHEN) == WHEN_MS
    assert put.parse_timestamp("2025-05-01T12:00:00.25Z") == 1746100800250
    assert put.parse_timestamp("2025-05-01T14:00:00.25+02:00") == 1746100800250
    assert put.parse_timestamp("2025-05-01T12:00:00.250") == 1746100800250  # no zone: UTC
    assert put.parse_timestamp("1746100800250") == 1746100800250
    assert abs(put.parse_timestamp(None) - put.parse_timestamp("")) < 5000

# -*- coding: utf-8 -*-
# GNU General Public License v3.0+ (see https://www.gnu.org/licenses/gpl-3.0.txt)
"""deploy.yml -e target=aws sizes the instance from the domain pack and provisions it (moto);
teardown.yml -e target=aws removes it. The host play is pointed at no host: moto has no SSH."""
from __future__ import (absolute_import, division, print_function)
__metaclass__ = type

import pytest

from helpers.moto import moto_server
from integration.aws.test_aws_roles import NOTHING, base_vars, leftovers, live_instances, ok, playbook


@pytest.fixture
def endpoint():
    with moto_server() as url:
        yield url


def test_deploy_and_teardown_with_target_aws(tmp_path, endpoint):
    values = base_vars(tmp_path, 'selftest-it', domain='selftest', target='aws', size='medium',
                       wizard_hosts='wizard_no_such_group')
    for key in ('wizard_instance_type', 'wizard_root_volume_gb', 'wizard_root_volume_type', 'wizard_architecture',
                'wizard_size', 'wizard_cost_per_hour'):
        del values[key]          # they must come from the pack's size
    ok(playbook('deploy.yml', endpoint, values))
    instances = live_instances(endpoint)
    assert len(instances) == 1
    # domains/selftest.yml, size medium
    assert instances[0]['InstanceType'] == 'c7i.large'
    tags = dict((t['Key'], t['Value']) for t in instances[0]['Tags'])
    assert tags['research-wizard:domain'] == 'selftest' and tags['research-wizard:size'] == 'medium'

    ok(playbook('teardown.yml', endpoint, dict(values, wizard_teardown_bucket=True, wizard_teardown_bucket_force=True)))
    assert leftovers(endpoint) == NOTHING

# The two commands of the README. Both create the virtualenv on first use (scripts/setup).
domain ?= selftest
EXTRA ?=

.PHONY: setup deploy test
setup:
	@bash scripts/setup

deploy: setup
	.venv/bin/ansible-playbook playbooks/deploy.yml -e domain=$(domain) $(EXTRA)

test: setup
	bash scripts/test

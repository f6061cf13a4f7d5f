"""Open a local HTML file in headless Chromium and report what the browser saw.

Talks the DevTools protocol over `--remote-debugging-pipe` (file descriptors 3 and 4, messages
separated by NUL bytes), so it needs nothing beyond the standard library and Debian's `chromium`.
Collected while the page loads: console API calls (`console.error` ...), uncaught exceptions, the
browser log (failed loads, blocked content) and every request the page made; then any JavaScript
expressions are evaluated in the rendered page.
"""
import json
import os
import select
import shutil
import subprocess
import tempfile
import time


def chromium_path():
    for name in ('chromium', 'chromium-browser'):
        path = shutil.which(name)
        if path:
            return path
    return None


class DevToolsPipe(object):
    def __init__(self, proc, commands, answers):
        self.proc = proc
        self.commands = commands
        self.answers = answers
        self.buffer = b''
        self.last_id = 0
        self.events = []

    def send(self, method, params=None, session=None):
        self.last_id += 1
        message = {'id': self.last_id, 'method': method, 'params': params or {}}
        if session:
            message['sessionId'] = session
        os.write(self.commands, json.dumps(message).encode('utf-8') + b'\0')
        return self.last_id

    def wait_for(self, predicate, deadline):
        while True:
            while b'\0' in self.buffer:
                raw, self.buffer = self.buffer.split(b'\0', 1)
                message = json.loads(raw.decode('utf-8'))
                self.events.append(message)
                if predicate(message):
                    return message
            left = deadline - time.time()
            if left <= 0:
                raise TimeoutError('no answer from chromium in time')
            ready, _w, _x = select.select([self.answers], [], [], left)
            if ready:
                chunk = os.read(self.answers, 1 << 16)
                if not chunk:
                    raise EOFError('chromium closed the DevTools pipe')
                self.buffer += chunk

    def call(self, method, params=None, session=None, deadline=None):
        number = self.send(method, params, session)
        answer = self.wait_for(lambda m: m.get('id') == number, deadline)
        if 'error' in answer:
            raise RuntimeError('%s: %s' % (method, answer['error']))
        return answer.get('result', {})


def open_page(path, expressions=(), timeout=60):
    """Load `path` and evaluate `expressions` (name -> JavaScript) in the page.

    Returns {'console': [...], 'exceptions': [...], 'log': [...], 'requests': [urls], 'values': {name: value}}.
    """
    binary = chromium_path()
    profile = tempfile.mkdtemp(prefix='wizard-chromium-')
    commands_read, commands_write = os.pipe()
    answers_read, answers_write = os.pipe()

    def child_fds():
        os.dup2(commands_read, 3)
        os.dup2(answers_write, 4)

    # --no-sandbox: the tests may run as root, which Chromium's sandbox refuses.
    proc = subprocess.Popen(
        [binary, '--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--remote-debugging-pipe',
         '--user-data-dir=%s' % profile, 'about:blank'],
        preexec_fn=child_fds, pass_fds=(3, 4), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL)
    os.close(commands_read)
    os.close(answers_write)
    pipe = DevToolsPipe(proc, commands_write, answers_read)
    deadline = time.time() + timeout
    try:
        target = pipe.call('Target.createTarget', {'url': 'about:blank'}, deadline=deadline)['targetId']
        session = pipe.call('Target.attachToTarget', {'targetId': target, 'flatten': True},
                            deadline=deadline)['sessionId']
        for domain in ('Runtime', 'Log', 'Page', 'Network'):
            pipe.call(domain + '.enable', session=session, deadline=deadline)
        pipe.send('Page.navigate', {'url': 'file://' + os.path.abspath(path)}, session)
        pipe.wait_for(lambda m: m.get('method') == 'Page.loadEventFired', deadline)
        values = {}
        for name, expression in dict(expressions).items():
            answer = pipe.call('Runtime.evaluate', {'expression': expression, 'returnByValue': True},
                               session=session, deadline=deadline)
            if 'exceptionDetails' in answer:
                raise RuntimeError('%s: %s' % (name, answer['exceptionDetails']))
            values[name] = answer['result'].get('value')
        try:
            pipe.call('Browser.close', deadline=time.time() + 10)
        except (EOFError, TimeoutError):
            pass
    finally:
        os.close(commands_write)
        os.close(answers_read)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        shutil.rmtree(profile, ignore_errors=True)
    seen = {'console': [], 'exceptions': [], 'log': [], 'requests': [], 'values': values}
    for event in pipe.events:
        method, params = event.get('method'), event.get('params', {})
        if method == 'Runtime.consoleAPICalled':
            seen['console'].append((params.get('type'), ' '.join(
                str(arg.get('value', arg.get('description'))) for arg in params.get('args', []))))
        elif method == 'Runtime.exceptionThrown':
            details = params.get('exceptionDetails', {})
            seen['exceptions'].append(details.get('exception', {}).get('description') or details.get('text'))
        elif method == 'Log.entryAdded':
            entry = params.get('entry', {})
            seen['log'].append((entry.get('level'), entry.get('text'), entry.get('url')))
        elif method == 'Network.requestWillBeSent':
            seen['requests'].append(params.get('request', {}).get('url'))
    return seen

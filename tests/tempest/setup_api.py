"""What the tempest/*_setup.py scripts share: JSON calls to a fresh node's APIs, waiting for a service, the admin's token."""
import json
import sys
import time
import urllib.error
import urllib.request


def call(method, url, body=None, token=None, raw=None, content_type="application/json"):
    data = raw if raw is not None else (json.dumps(body).encode() if body is not None else None)
    req = urllib.request.Request(url, data=data, method=method)
    req.add_header("Content-Type", content_type)
    if token:
        req.add_header("X-Auth-Token", token)
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read()
        return r.headers, (json.loads(text) if text else None)


def wait(script, what, probe, seconds=120, interval=0.5):
    """Retries probe() until it is true, while the service does not answer; exits naming it after `seconds`."""
    deadline = time.time() + seconds
    while True:
        try:
            if probe():
                return
        except (urllib.error.URLError, OSError):
            pass
        if time.time() > deadline:
            sys.exit(f"{script}: {what} not ready after {seconds} s")
        time.sleep(interval)


def answers(url):
    """The service at url answers HTTP at all (a versions document's 300 included)."""
    try:
        call("GET", url)
    except urllib.error.HTTPError:
        pass
    return True


def admin_token(addr, password):
    headers, _ = call("POST", f"http://{addr}:5000/v3/auth/tokens", {"auth": {
        "identity": {"methods": ["password"], "password": {"user": {"name": "admin", "domain": {"name": "Default"}, "password": password}}},
        "scope": {"project": {"name": "admin", "domain": {"name": "Default"}}}}})
    return headers["X-Subject-Token"]

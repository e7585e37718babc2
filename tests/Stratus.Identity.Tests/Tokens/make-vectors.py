#!/usr/bin/python3
"""Test vectors from the REAL Keystone for Stratus's Fernet tokens.

    /usr/bin/python3 make-vectors.py [OUTPUT]        # default: keystone-vectors.json beside this file
    /usr/bin/python3 make-vectors.py verify FILE     # check tokens made by Stratus with Keystone's formatter

Generation uses Keystone's own code end to end: keystone-manage's key repository setup and rotation
(FernetUtils), its TokenFormatter.create_token / validate_token with the payload classes Keystone's
fernet provider picks, and Python's msgpack and cryptography. The JSON holds the key files, the
tokens, the plaintext payloads and what Keystone decodes from each token, plus raw Fernet and
msgpack vectors. Run it with the Debian python (/usr/bin/python3) where keystone is installed.

`verify` reads {"keys": {name: text}, "tokens": [{"name", "token", "expected": {...}}]} (the same
shape as the vectors), builds the key repository, validates every token with Keystone and compares
the fields; it exits non-zero on any mismatch.
"""

import base64
import hashlib
import json
import os
import shutil
import struct
import sys
import tempfile

import msgpack
from cryptography import fernet

import keystone.conf
from keystone.common import fernet_utils
from keystone.token import token_formatters as tf

CONF = keystone.conf.CONF

# Fixed field values (Keystone-style ids are uuid4().hex).
USER = "0c7e3a9d5f1b4e2a8d6c4b2a1f0e9d8c"
USER_UPPER = "0C7E3A9D5F1B4E2A8D6C4B2A1F0E9D8C"
USER_FEDERATED = "4b3e8e3f1c6a2d9b7e5f0a1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e"  # 64 hex: not a UUID
PROJECT = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"
DOMAIN = "1a2b3c4d5e6f708192a3b4c5d6e7f809"
APP_CRED = "aabbccddeeff00112233445566778899"
TRUST = "00112233445566778899aabbccddeeff"
ACCESS_TOKEN = "ffeeddccbbaa99887766554433221100"
AUDIT_1 = "Qm9uam91ciBsZXMgYW1pcw"
AUDIT_2 = "_-8AAQIDBAUGBwgJCgsMDQ"
EXPIRES = "2030-01-02T03:04:05.000000Z"
EXPIRES_MICRO = "2030-06-07T08:09:10.654321Z"


def configure(key_repository):
    keystone.conf.configure()
    CONF(args=[], project="keystone", default_config_files=[])
    CONF.set_override("key_repository", key_repository, group="fernet_tokens")
    CONF.set_override("max_active_keys", 3, group="fernet_tokens")


def read_keys(directory):
    keys = {}
    for name in sorted(os.listdir(directory)):
        with open(os.path.join(directory, name)) as f:
            keys[name] = f.read()
    return keys


def decoded(formatter, token):
    (user_id, methods, audit_ids, system, domain_id, project_id, trust_id, _groups, _idp, _protocol,
     access_token_id, app_cred_id, issued_at, expires_at) = formatter.validate_token(token)
    return {
        "user_id": user_id,
        "methods": methods,
        "audit_ids": audit_ids,
        "system": system,
        "domain_id": domain_id,
        "project_id": project_id,
        "trust_id": trust_id,
        "app_cred_id": app_cred_id,
        "access_token_id": access_token_id,
        "issued_at": issued_at,
        "expires_at": expires_at,
    }


# (name, payload class, create_token keyword arguments)
CASES = [
    ("unscoped", tf.UnscopedPayload,
     dict(user_id=USER, methods=["password"], audit_ids=[AUDIT_1], expires_at=EXPIRES)),
    ("unscoped-rescoped-chain", tf.UnscopedPayload,
     dict(user_id=USER_FEDERATED, methods=["password", "token"], audit_ids=[AUDIT_1, AUDIT_2], expires_at=EXPIRES)),
    ("unscoped-uppercase-uuid-user", tf.UnscopedPayload,
     dict(user_id=USER_UPPER, methods=["external"], audit_ids=[AUDIT_2], expires_at=EXPIRES)),
    ("project", tf.ProjectScopedPayload,
     dict(user_id=USER, methods=["password"], project_id=PROJECT, audit_ids=[AUDIT_1], expires_at=EXPIRES)),
    ("project-text-ids-microseconds", tf.ProjectScopedPayload,
     dict(user_id="admin", methods=["token", "password"], project_id="my-project", audit_ids=[AUDIT_1, AUDIT_2],
          expires_at=EXPIRES_MICRO)),
    ("project-ec2credential", tf.ProjectScopedPayload,
     dict(user_id=USER, methods=["ec2credential"], project_id=PROJECT, audit_ids=[AUDIT_2], expires_at=EXPIRES)),
    ("project-all-methods", tf.ProjectScopedPayload,
     dict(user_id=USER, methods=["external", "password", "token", "oauth1", "mapped", "application_credential",
                                 "ec2credential", "oauth2_credential"],
          project_id=PROJECT, audit_ids=[AUDIT_1], expires_at=EXPIRES)),
    ("domain", tf.DomainScopedPayload,
     dict(user_id=USER, methods=["password"], domain_id=DOMAIN, audit_ids=[AUDIT_1], expires_at=EXPIRES)),
    ("domain-default", tf.DomainScopedPayload,
     dict(user_id=USER, methods=["password"], domain_id="default", audit_ids=[AUDIT_1], expires_at=EXPIRES)),
    ("system", tf.SystemScopedPayload,
     dict(user_id=USER, methods=["password", "token"], system="all", audit_ids=[AUDIT_1, AUDIT_2], expires_at=EXPIRES)),
    ("application-credential", tf.ApplicationCredentialScopedPayload,
     dict(user_id=USER, methods=["application_credential"], project_id=PROJECT, app_cred_id=APP_CRED,
          audit_ids=[AUDIT_1], expires_at=EXPIRES)),
    ("application-credential-text-id", tf.ApplicationCredentialScopedPayload,
     dict(user_id=USER, methods=["application_credential"], project_id=PROJECT, app_cred_id="my-app-cred",
          audit_ids=[AUDIT_1], expires_at=EXPIRES)),
    ("trust", tf.TrustScopedPayload,
     dict(user_id=USER, methods=["token"], project_id=PROJECT, trust_id=TRUST, audit_ids=[AUDIT_1],
          expires_at=EXPIRES)),
    ("oauth1", tf.OauthScopedPayload,
     dict(user_id=USER, methods=["oauth1"], project_id=PROJECT, access_token_id=ACCESS_TOKEN, audit_ids=[AUDIT_1],
          expires_at=EXPIRES)),
]


def token_vectors(directory):
    futils = fernet_utils.FernetUtils(directory, CONF.fernet_tokens.max_active_keys, "fernet_tokens")
    futils.create_key_directory()
    futils.initialize_key_repository()  # keystone-manage fernet_setup: keys 0 and 1
    formatter = tf.TokenFormatter()
    vectors = []

    def make(name, payload_class, kwargs, primary):
        args = dict(kwargs)
        token = formatter.create_token(args.pop("user_id"), args.pop("expires_at"), args.pop("audit_ids"),
                                       payload_class, **args)
        vectors.append({
            "name": name,
            "version": payload_class.version,
            "primary_key": primary,
            "token": token,
            "payload": formatter.unpack(token).hex(),
            "input": kwargs,
            "expected": decoded(formatter, token),
        })

    # Two tokens under primary key 1, then keystone-manage fernet_rotate (key 2 primary, 1 secondary).
    make("old-primary-unscoped", tf.UnscopedPayload, CASES[0][2], "1")
    make("old-primary-project", tf.ProjectScopedPayload, CASES[3][2], "1")
    futils.rotate_keys()
    for name, payload_class, kwargs in CASES:
        make(name, payload_class, kwargs, "2")
    for v in vectors:  # still valid after the rotation
        assert decoded(formatter, v["token"]) == v["expected"], v["name"]
    return vectors


def fernet_vectors():
    out = []
    cases = [
        (bytes(range(32)), bytes(range(16)), 499162800, b"hello"),
        (bytes(range(32, 64)), bytes(16), 1700000000, b""),
        (bytes(range(64, 96)), b"\xff" * 16, 1, bytes(range(256)) * 5),
        (bytes(range(96, 128)), bytes(range(100, 116)), 4102444800, b"0123456789abcdef"),
    ]
    for key, iv, ts, plaintext in cases:
        f = fernet.Fernet(base64.urlsafe_b64encode(key))
        token = f._encrypt_from_parts(plaintext, ts, iv).decode()
        assert f.decrypt(token) == plaintext
        assert struct.unpack(">Q", base64.urlsafe_b64decode(token)[1:9])[0] == ts
        out.append({"key": base64.urlsafe_b64encode(key).decode(), "iv": iv.hex(), "timestamp": ts,
                    "plaintext": plaintext.hex(), "token": token})
    return out


def build(spec):
    """A Python value from a JSON spec (so C# can build the same one)."""
    (kind, v), = spec.items()
    if kind == "nil":
        return None
    if kind == "bool":
        return v
    if kind == "int":
        return int(v)
    if kind in ("float", "float32"):
        return float(v)
    if kind == "str":
        return v
    if kind == "bin":
        return bytes.fromhex(v)
    if kind == "str_repeat":
        return v[0] * v[1]
    if kind == "bin_repeat":
        return bytes.fromhex(v[0]) * v[1]
    if kind == "array":
        return [build(x) for x in v]
    if kind == "array_repeat":
        return [build(v[0])] * v[1]
    raise ValueError(kind)


def msgpack_vectors():
    ints = [0, 1, 127, 128, 255, 256, 65535, 65536, 2**32 - 1, 2**32, 2**33 + 2, 2**63 - 1,
            -1, -32, -33, -128, -129, -32768, -32769, -2**31, -2**31 - 1, -2**63]
    specs = [{"nil": True}, {"bool": True}, {"bool": False}]
    specs += [{"int": str(i)} for i in ints]
    specs += [{"float": 0.0}, {"float": 1.5}, {"float": -2.25}, {"float": 1893553445.654321}, {"float32": 1.5}]
    specs += [{"str": ""}, {"str": "a"}, {"str": "caf\u00e9 \u2603 \U0001f600"}, {"str_repeat": ["x", 31]},
              {"str_repeat": ["x", 32]}, {"str_repeat": ["x", 255]}, {"str_repeat": ["x", 256]},
              {"str_repeat": ["y", 65535]}, {"str_repeat": ["y", 65536]}]
    specs += [{"bin": ""}, {"bin": "00ff10"}, {"bin_repeat": ["ab", 255]}, {"bin_repeat": ["ab", 256]},
              {"bin_repeat": ["cd", 65535]}, {"bin_repeat": ["cd", 65536]}]
    specs += [{"array": []}, {"array_repeat": [{"int": "1"}, 15]}, {"array_repeat": [{"int": "1"}, 16]},
              {"array_repeat": [{"nil": True}, 65535]}, {"array_repeat": [{"nil": True}, 65536]},
              {"array": [{"int": "2"}, {"array": [{"bool": True}, {"bin": "0011"}]}, {"str": "s"},
                         {"float": 0.5}, {"array": [{"array": []}]}]}]
    out = []
    for spec in specs:
        value = build(spec)
        packed = msgpack.packb(value, use_single_float="float32" in spec)
        assert msgpack.unpackb(packed) == value
        entry = {"value": spec, "length": len(packed), "sha256": hashlib.sha256(packed).hexdigest()}
        if len(packed) <= 300:
            entry["hex"] = packed.hex()
        else:
            entry["prefix"] = packed[:8].hex()
        out.append(entry)
    return out


def generate(output):
    directory = os.path.join(tempfile.mkdtemp(prefix="stratus-vectors-"), "fernet-keys")
    try:
        configure(directory)
        tokens = token_vectors(directory)
        result = {
            "generator": "tests/Stratus.Identity.Tests/Tokens/make-vectors.py",
            "keystone": keystone_version(),
            "msgpack": ".".join(map(str, msgpack.version)),
            "max_active_keys": CONF.fernet_tokens.max_active_keys,
            "default_domain_id": CONF.identity.default_domain_id,
            "auth_methods": list(CONF.auth.methods),
            "keys": read_keys(directory),
            "key_modes": {n: oct(os.stat(os.path.join(directory, n)).st_mode & 0o777) for n in os.listdir(directory)},
            "directory_mode": oct(os.stat(directory).st_mode & 0o777),
            "tokens": tokens,
            "fernet": fernet_vectors(),
            "msgpack_vectors": msgpack_vectors(),
        }
    finally:
        shutil.rmtree(os.path.dirname(directory), ignore_errors=True)
    with open(output, "w") as f:
        json.dump(result, f, indent=1, sort_keys=False)
        f.write("\n")
    print(f"wrote {len(result['tokens'])} tokens, {len(result['fernet'])} Fernet and "
          f"{len(result['msgpack_vectors'])} msgpack vectors to {output}")


def keystone_version():
    try:
        from importlib.metadata import version
        return version("keystone")
    except Exception:  # noqa
        return "unknown"


def verify(path):
    with open(path) as f:
        data = json.load(f)
    directory = os.path.join(tempfile.mkdtemp(prefix="stratus-verify-"), "fernet-keys")
    os.makedirs(directory, 0o700)
    failures = 0
    try:
        for name, text in data["keys"].items():
            with open(os.path.join(directory, name), "w") as f:
                f.write(text)
        configure(directory)
        formatter = tf.TokenFormatter()
        for v in data["tokens"]:
            try:
                got = decoded(formatter, v["token"])
            except Exception as e:  # noqa
                print(f"FAIL {v['name']}: Keystone rejected the token: {e!r}")
                failures += 1
                continue
            bad = {k: (got.get(k), want) for k, want in v["expected"].items() if got.get(k) != want}
            if "payload" in v and formatter.unpack(v["token"]).hex() != v["payload"]:
                bad["payload"] = (formatter.unpack(v["token"]).hex(), v["payload"])
            if bad:
                print(f"FAIL {v['name']}: {bad}")
                failures += 1
            else:
                print(f"ok   {v['name']}: {got}")
    finally:
        shutil.rmtree(os.path.dirname(directory), ignore_errors=True)
    print(f"{len(data['tokens']) - failures}/{len(data['tokens'])} tokens accepted by Keystone with every field as expected")
    return 1 if failures else 0


if __name__ == "__main__":
    if len(sys.argv) >= 2 and sys.argv[1] == "verify":
        sys.exit(verify(sys.argv[2]))
    here = os.path.dirname(os.path.abspath(__file__))
    generate(sys.argv[1] if len(sys.argv) > 1 else os.path.join(here, "keystone-vectors.json"))

#!/usr/bin/python3
"""Requests signed with an EC2 credential, as the services in front of Keystone hand them over.

    aws_sign.py ec2 v2|v4 ACCESS SECRET HOST [MINUTES_AGO]   # the body of POST /v3/ec2tokens, signed by keystoneclient's Ec2Signer
    aws_sign.py s3 v2|v4 ACCESS SECRET         # the body of POST /v3/s3tokens, as Swift's s3token middleware sends it

Prints the JSON body. The signatures come from keystoneclient (Ec2Signer) and Python's hmac, not
from the code under test.
"""
import base64
import datetime
import hashlib
import hmac
import json
import sys

from keystoneclient.contrib.ec2.utils import Ec2Signer


def ec2(version, access, secret, host, minutes_ago="0"):
    now = datetime.datetime.utcnow() - datetime.timedelta(minutes=int(minutes_ago))
    if version == "v2":
        params = {"Action": "DescribeInstances", "AWSAccessKeyId": access, "SignatureMethod": "HmacSHA256",
                  "SignatureVersion": "2", "Timestamp": now.strftime("%Y-%m-%dT%H:%M:%SZ"), "Version": "2013-10-15",
                  "Filter.1.Name": "instance-state-name", "Filter.1.Value.1": "running & stopped"}
        creds = {"access": access, "host": host, "verb": "GET", "path": "/", "params": params, "headers": {}}
    else:
        amz_date = now.strftime("%Y%m%dT%H%M%SZ")
        scope = "%s/RegionOne/ec2/aws4_request" % now.strftime("%Y%m%d")
        headers = {"Host": host, "X-Amz-Date": amz_date,
                   "Authorization": "AWS4-HMAC-SHA256 Credential=%s/%s, SignedHeaders=host;x-amz-date, Signature=x" % (access, scope)}
        params = {"Action": "DescribeRegions", "Version": "2013-10-15"}
        creds = {"access": access, "host": host, "verb": "GET", "path": "/", "params": params, "headers": headers,
                 "body_hash": hashlib.sha256(b"").hexdigest()}
    creds["signature"] = Ec2Signer(secret).generate(json.loads(json.dumps(creds)))
    return {"credentials": creds}


def s3(version, access, secret):
    now = datetime.datetime.utcnow()
    if version == "v2":
        string_to_sign = ("GET\n\n\n%s\n/bucket/object" % now.strftime("%a, %d %b %Y %H:%M:%S GMT")).encode()
        signature = base64.b64encode(hmac.new(secret.encode(), string_to_sign, hashlib.sha1).digest()).decode()
    else:
        date = now.strftime("%Y%m%d")
        scope = "%s/RegionOne/s3/aws4_request" % date
        request = "GET\n/bucket/object\n\nhost:swift\n\nhost\n" + hashlib.sha256(b"").hexdigest()
        string_to_sign = "\n".join(["AWS4-HMAC-SHA256", now.strftime("%Y%m%dT%H%M%SZ"), scope,
                                    hashlib.sha256(request.encode()).hexdigest()]).encode()
        key = ("AWS4" + secret).encode()
        for part in (date, "RegionOne", "s3", "aws4_request"):
            key = hmac.new(key, part.encode(), hashlib.sha256).digest()
        signature = hmac.new(key, string_to_sign, hashlib.sha256).hexdigest()
    return {"credentials": {"access": access, "token": base64.urlsafe_b64encode(string_to_sign).decode(), "signature": signature}}


if __name__ == "__main__":
    kind, version = sys.argv[1], sys.argv[2]
    body = ec2(version, *sys.argv[3:7]) if kind == "ec2" else s3(version, *sys.argv[3:5])
    print(json.dumps(body))

#!/usr/bin/python3
"""An OAuth1 consumer of Keystone, with the clients OpenStack ships (keystoneclient, keystoneauth1, oauthlib).

    oauth1_client.py flow AUTH_URL ADMIN_PASSWORD PROJECT_ID ROLE_ID
        as the admin: a consumer, a request token for the project, authorized with the role, an access
        token, then a token from it (keystoneauth's OAuth1 plugin). Prints what each step gave, as JSON.
    oauth1_client.py sign URL CONSUMER_KEY CONSUMER_SECRET [TOKEN_KEY TOKEN_SECRET [VERIFIER]]
        the Authorization header oauthlib signs for a POST to URL (with callback "oob" without a token).
"""
import json
import sys

from oauthlib import oauth1


def flow(auth_url, password, project_id, role_id):
    from keystoneauth1 import session
    from keystoneauth1.extras.oauth1 import v3 as oauth1_auth
    from keystoneauth1.identity import v3
    from keystoneclient.v3 import client

    admin = session.Session(auth=v3.Password(auth_url=auth_url, username="admin", password=password, user_domain_id="default",
                                             project_name="admin", project_domain_id="default"))
    ks = client.Client(session=admin)
    consumer = ks.oauth1.consumers.create(description="stratus test consumer")
    request_token = ks.oauth1.request_tokens.create(consumer.id, consumer.secret, project_id)
    verifier = ks.oauth1.request_tokens.authorize(request_token.key, [role_id]).oauth_verifier
    access_token = ks.oauth1.access_tokens.create(consumer.id, consumer.secret, request_token.key, request_token.secret, verifier)
    auth = oauth1_auth.OAuth1(auth_url=auth_url, consumer_key=consumer.id, consumer_secret=consumer.secret,
                              access_key=access_token.key, access_secret=access_token.secret)
    token = session.Session(auth=auth)
    access = auth.get_access(token)
    print(json.dumps({
        "consumer_id": consumer.id, "consumer_secret": consumer.secret,
        "request_token": request_token.key, "verifier": verifier,
        "access_token": access_token.key, "access_secret": access_token.secret,
        "token": token.get_token(), "user_id": access.user_id, "project_id": access.project_id,
        "roles": sorted(access.role_names),
    }))


def sign(url, consumer_key, consumer_secret, token_key=None, token_secret=None, verifier=None):
    c = oauth1.Client(consumer_key, client_secret=consumer_secret, resource_owner_key=token_key, resource_owner_secret=token_secret,
                      verifier=verifier, signature_method=oauth1.SIGNATURE_HMAC, callback_uri=None if token_key else "oob")
    _, headers, _ = c.sign(url, http_method="POST")
    print(headers["Authorization"])


if __name__ == "__main__":
    {"flow": flow, "sign": sign}[sys.argv[1]](*sys.argv[2:])

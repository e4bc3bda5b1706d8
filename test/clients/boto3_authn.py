# boto3 against a node with auth.enabled (run.sh, section authn): the JWT goes in as the session token,
# which botocore signs with the request as X-Amz-Security-Token; without it the node answers AccessDenied.
#   python3 boto3_authn.py ENDPOINT TOKEN
import hashlib
import sys

import boto3
from botocore.exceptions import ClientError

ep, token = sys.argv[1], sys.argv[2]


def client(tok):
    extra = {"aws_session_token": tok} if tok else {}
    return boto3.client("s3", endpoint_url=ep, aws_access_key_id="K", aws_secret_access_key="S", region_name="us-east-1", **extra)


s3 = client(token)
body = bytes(range(256)) * 4096
s3.put_object(Bucket="authb", Key="boto3/obj", Body=body)
got = s3.get_object(Bucket="authb", Key="boto3/obj")["Body"].read()
assert hashlib.md5(got).hexdigest() == hashlib.md5(body).hexdigest(), "bytes differ"
try:
    client(None).get_object(Bucket="authb", Key="boto3/obj")
    raise SystemExit("GET without a token succeeded")
except ClientError as e:
    assert e.response["Error"]["Code"] == "AccessDenied", e.response["Error"]
print("boto3 authn ok")

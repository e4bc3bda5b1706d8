# boto3 against a node serving HTTPS (run.sh, section tls): trusted with verify=<the CA file>, refused
# with the system's CAs.
#   python3 boto3_tls.py ENDPOINT CA_FILE
import hashlib
import sys

import boto3
from botocore.exceptions import SSLError

ep, ca = sys.argv[1], sys.argv[2]


def client(verify):
    return boto3.client("s3", endpoint_url=ep, aws_access_key_id="K", aws_secret_access_key="S", region_name="us-east-1", verify=verify)


s3 = client(ca)
body = bytes(range(256)) * 8192
s3.put_object(Bucket="tlsb", Key="boto3/obj", Body=body)
got = s3.get_object(Bucket="tlsb", Key="boto3/obj")["Body"].read()
assert hashlib.md5(got).hexdigest() == hashlib.md5(body).hexdigest(), "bytes differ"
try:
    client(True).get_object(Bucket="tlsb", Key="boto3/obj")
    raise SystemExit("GET with an untrusted certificate succeeded")
except SSLError:
    pass
print("boto3 tls ok")

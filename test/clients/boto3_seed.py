#!/usr/bin/env python3
"""The seed's "Boto3 Examples" against a tais node, with unpatched boto3 (no aistore import).

usage: boto3_seed.py LABEL ENDPOINT BUCKET BIGFILE
Prints one line per check, `ok: LABEL CHECK` or `FAIL: LABEL CHECK: why`, for run.sh to count.
Keeps going after a failure; exits 0 even when checks fail (run.sh counts the FAIL lines).
"""
import hashlib
import os
import sys
import tempfile

from checklib import Checks, expect

LABEL, ENDPOINT, BUCKET, BIGFILE = sys.argv[1:5]


CHECKS = Checks(LABEL)
ok, fail, check = CHECKS.ok, CHECKS.fail, CHECKS.check


import boto3  # noqa: E402
import botocore  # noqa: E402

print(f"# {LABEL}: boto3 {boto3.__version__} botocore {botocore.__version__} python {sys.version.split()[0]} ({sys.executable})", flush=True)

client = boto3.client(
    "s3",
    region_name="us-east-1",
    endpoint_url=ENDPOINT,
    aws_access_key_id="FAKEKEY",
    aws_secret_access_key="FAKESECRET",
)

TEXT = "Hello, AIStore!"
text_md5 = hashlib.md5(TEXT.encode()).hexdigest()


def create_bucket():
    client.create_bucket(Bucket=BUCKET)


def list_buckets():
    response = client.list_buckets()
    names = [b["Name"] for b in response["Buckets"]]
    expect(BUCKET in names, f"{BUCKET} not in {names}")


def put_object():
    r = client.put_object(Bucket=BUCKET, Key="sample.txt", Body=TEXT)
    expect(r.get("ETag") == f'"{text_md5}"', f"ETag {r.get('ETag')!r}, want md5 \"{text_md5}\"")


def get_object():
    r = client.get_object(Bucket=BUCKET, Key="sample.txt")
    content = r["Body"].read().decode("utf-8")
    expect(content == TEXT, f"content {content!r}")


def head_object():
    r = client.head_object(Bucket=BUCKET, Key="sample.txt")
    expect(r.get("ContentLength") == len(TEXT), f"ContentLength {r.get('ContentLength')}")
    expect(r.get("ETag") == f'"{text_md5}"', f"ETag {r.get('ETag')!r}")
    expect(r.get("AcceptRanges") == "bytes", f"AcceptRanges {r.get('AcceptRanges')!r}")


with open(BIGFILE, "rb") as f:
    big = f.read()
big_md5 = hashlib.md5(big).hexdigest()
big_sha = hashlib.sha256(big).hexdigest()


def put_big():
    r = client.put_object(Bucket=BUCKET, Key="big.bin", Body=big)
    expect(r.get("ETag") == f'"{big_md5}"', f"ETag {r.get('ETag')!r}, want \"{big_md5}\"")


def get_range():
    r = client.get_object(Bucket=BUCKET, Key="big.bin", Range="bytes=0-99")
    body = r["Body"].read()
    expect(len(body) == 100 and body == big[:100], f"got {len(body)} bytes, first 100 equal: {body == big[:100]}")
    expect(r.get("ContentRange") == f"bytes 0-99/{len(big)}", f"ContentRange {r.get('ContentRange')!r}")
    expect(r.get("ContentLength") == 100, f"ContentLength {r.get('ContentLength')}")


def head_range():
    # S3: "If the Range is satisfiable, only the ContentLength is affected in the response."
    r = client.head_object(Bucket=BUCKET, Key="big.bin", Range="bytes=0-99")
    expect(r.get("ContentLength") == 100, f"ContentLength {r.get('ContentLength')} (ContentRange {r.get('ContentRange')!r}, status {r['ResponseMetadata']['HTTPStatusCode']})")


def upload_download_file():
    # s3transfer (upload_file/download_file), what most boto3 applications use; 7 MiB stays below the
    # 8 MiB multipart threshold.
    client.upload_file(BIGFILE, BUCKET, "big-file.bin")
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.bin")
        client.download_file(BUCKET, "big-file.bin", out)
        with open(out, "rb") as f:
            got = hashlib.sha256(f.read()).hexdigest()
    expect(got == big_sha, f"sha256 {got} != {big_sha}")


def list_objects():
    r = client.list_objects_v2(Bucket=BUCKET)
    keys = sorted(o["Key"] for o in r.get("Contents", []))
    expect(keys == ["big-file.bin", "big.bin", "sample.txt"], f"keys {keys}")


def delete_object():
    client.delete_object(Bucket=BUCKET, Key="sample.txt")
    try:
        client.head_object(Bucket=BUCKET, Key="sample.txt")
    except botocore.exceptions.ClientError as e:
        code = e.response["Error"]["Code"]
        expect(code in ("404", "NoSuchKey"), f"head after delete: {code}")
        return
    raise AssertionError("object still there after delete_object")


def delete_missing():
    client.delete_object(Bucket=BUCKET, Key="no-such-key")


def delete_bucket():
    for key in ("big.bin", "big-file.bin"):
        client.delete_object(Bucket=BUCKET, Key=key)
    client.delete_bucket(Bucket=BUCKET)
    names = [b["Name"] for b in client.list_buckets()["Buckets"]]
    expect(BUCKET not in names, f"{BUCKET} still listed: {names}")


check("create_bucket", create_bucket)
check("list_buckets", list_buckets)
check("put_object", put_object)
check("get_object", get_object)
check("head_object", head_object)
check("put_object 7MiB", put_big)
check("get_object Range=bytes=0-99", get_range)
check("head_object Range=bytes=0-99", head_range)
check("upload_file/download_file 7MiB", upload_download_file)
check("list_objects_v2", list_objects)
check("delete_object", delete_object)
check("delete_object missing key", delete_missing)
check("delete_bucket", delete_bucket)

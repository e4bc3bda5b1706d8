#!/usr/bin/env python3
"""boto3's managed transfers against a tais node: upload_file / download_file (and the fileobj forms)
with a TransferConfig that uses threads, as applications that move large files do.

usage: boto3_transfer.py LABEL ENDPOINT BUCKET FILE
FILE should be well above the 8 MiB multipart threshold (run.sh passes 40 MiB): the upload goes in
8 MiB parts, 8 threads at a time, and the download in concurrent ranged GETs.
Prints `ok: LABEL CHECK` or `FAIL: LABEL CHECK: why` per check, for run.sh to count; exits 0.
"""
import hashlib
import io
import os
import sys
import tempfile

from checklib import Checks, expect

LABEL, ENDPOINT, BUCKET, FILE = sys.argv[1:5]
MiB = 1024 * 1024


CHECKS = Checks(LABEL)
ok, fail, check = CHECKS.ok, CHECKS.fail, CHECKS.check


import boto3  # noqa: E402
import botocore  # noqa: E402
from boto3.s3.transfer import TransferConfig  # noqa: E402

print(f"# {LABEL}: boto3 {boto3.__version__} botocore {botocore.__version__} ({sys.executable})", flush=True)

client = boto3.client("s3", region_name="us-east-1", endpoint_url=ENDPOINT, aws_access_key_id="FAKEKEY", aws_secret_access_key="FAKESECRET")
config = TransferConfig(multipart_threshold=8 * MiB, multipart_chunksize=8 * MiB, max_concurrency=8, use_threads=True)

with open(FILE, "rb") as f:
    data = f.read()
want_sha = hashlib.sha256(data).hexdigest()
n_parts = -(-len(data) // (8 * MiB))


def sha_file(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def create_bucket():
    client.create_bucket(Bucket=BUCKET)


def upload_file():
    client.upload_file(FILE, BUCKET, "threads/file.bin", Config=config)
    h = client.head_object(Bucket=BUCKET, Key="threads/file.bin")
    expect(h["ContentLength"] == len(data), f"ContentLength {h['ContentLength']}, want {len(data)}")
    expect(h["ETag"].endswith(f'-{n_parts}"'), f"ETag {h['ETag']}, want a multipart ETag of {n_parts} parts")


def download_file():
    with tempfile.TemporaryDirectory() as d:
        out = os.path.join(d, "out.bin")
        client.download_file(BUCKET, "threads/file.bin", out, Config=config)
        got = sha_file(out)
    expect(got == want_sha, f"sha256 {got} != {want_sha}")


def fileobj_round_trip():
    client.upload_fileobj(io.BytesIO(data), BUCKET, "threads/fileobj.bin", Config=config)
    buf = io.BytesIO()
    client.download_fileobj(BUCKET, "threads/fileobj.bin", buf, Config=config)
    got = hashlib.sha256(buf.getvalue()).hexdigest()
    expect(got == want_sha, f"sha256 {got} != {want_sha}")


def no_uploads_left():
    r = client.list_multipart_uploads(Bucket=BUCKET)
    expect(not r.get("Uploads"), f"uploads left: {r.get('Uploads')}")


def delete_all():
    for key in ("threads/file.bin", "threads/fileobj.bin"):
        client.delete_object(Bucket=BUCKET, Key=key)
    client.delete_bucket(Bucket=BUCKET)


check("create_bucket", create_bucket)
check(f"upload_file {len(data) // MiB}MiB, 8 threads", upload_file)
check(f"download_file {len(data) // MiB}MiB, 8 threads", download_file)
check("upload_fileobj/download_fileobj, 8 threads", fileobj_round_trip)
check("no multipart uploads left", no_uploads_left)
check("delete objects and bucket", delete_all)

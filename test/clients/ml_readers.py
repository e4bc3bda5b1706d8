#!/usr/bin/env python3
"""What ML engineers read data with, unmodified, against a tais gateway's /s3 endpoint: smart_open and a
PyTorch DataLoader over boto3 (both from Debian: python3-smart-open, python3-torch), and pyarrow's and
polars' S3 file systems (not in Debian: checked when this python has them).

usage: ml_readers.py LABEL ENDPOINT BUCKET [smart_open,torch,pyarrow,polars]
ENDPOINT is the gateway's S3 URL (http://HOST:PORT/s3); BUCKET is created. The last argument names the
libraries to check (default: all four); one that is named but not importable is a failed check.
Prints `ok: LABEL CHECK` or `FAIL: LABEL CHECK: why` per check, for run.sh to count; exits 0.
"""
import gzip
import hashlib
import io
import sys
import tarfile
from urllib.parse import urlparse

from checklib import Checks, expect

LABEL, ENDPOINT, BUCKET = sys.argv[1:4]
WANT = (sys.argv[4] if len(sys.argv) > 4 else "smart_open,torch,pyarrow,polars").split(",")
MiB = 1024 * 1024
KEY, SECRET, REGION = "FAKEKEY", "FAKESECRET", "us-east-1"


CHECKS = Checks(LABEL)
ok, fail, check = CHECKS.ok, CHECKS.fail, CHECKS.check


def sha(b):
    return hashlib.sha256(b).hexdigest()


def blob(seed, n):
    """n deterministic bytes, different per seed (no two samples alike)."""
    out = bytearray()
    h = hashlib.sha256(str(seed).encode()).digest()
    while len(out) < n:
        h = hashlib.sha256(h).digest()
        out += h
    return bytes(out[:n])


import boto3  # noqa: E402
from botocore.exceptions import ClientError  # noqa: E402


def s3client():
    return boto3.client("s3", region_name=REGION, endpoint_url=ENDPOINT, aws_access_key_id=KEY, aws_secret_access_key=SECRET)


client = s3client()
print(f"# {LABEL}: {sys.executable}, boto3 {boto3.__version__}", flush=True)
check("create bucket", lambda: client.create_bucket(Bucket=BUCKET))


def get(key, **kw):
    return client.get_object(Bucket=BUCKET, Key=key, **kw)["Body"].read()


# ------------------------------------------------------------------ smart_open


def smart_open_checks():
    import smart_open

    print(f"# {LABEL}: smart_open {smart_open.__version__}", flush=True)
    tp = {"client": client}
    data = blob("smart", 12 * MiB + 12345)

    def write_multipart():
        # min_part_size 5 MiB: three parts (the last one short), i.e. a real multipart upload.
        with smart_open.open(f"s3://{BUCKET}/smart/big.bin", "wb", transport_params={**tp, "min_part_size": 5 * MiB}) as f:
            for off in range(0, len(data), 1 * MiB):
                f.write(data[off : off + MiB])
        head = client.head_object(Bucket=BUCKET, Key="smart/big.bin")
        expect(head["ContentLength"] == len(data), f"size {head['ContentLength']}")
        expect(head["ETag"].strip('"').endswith("-3"), f"ETag {head['ETag']} is not a 3-part multipart ETag")
        expect(sha(get("smart/big.bin")) == sha(data), "bytes differ (read back with boto3)")

    def read_whole():
        with smart_open.open(f"s3://{BUCKET}/smart/big.bin", "rb", transport_params=tp) as f:
            expect(sha(f.read()) == sha(data), "bytes differ")

    def seek_and_read():
        with smart_open.open(f"s3://{BUCKET}/smart/big.bin", "rb", transport_params=tp) as f:
            for off, n in ((7 * MiB + 3, 100_000), (17, 5), (len(data) - 10, 10), (1 * MiB, 2 * MiB)):
                f.seek(off)
                got = f.read(n)
                expect(got == data[off : off + n], f"read {n} at {off}: {len(got)} bytes, differ")
            f.seek(0, io.SEEK_END)
            expect(f.tell() == len(data), f"SEEK_END at {f.tell()}")

    lines = [f"record {i}: {'x' * (i % 50)}" for i in range(5000)]

    def gzip_lines():
        # smart_open compresses and decompresses by the key's extension.
        with smart_open.open(f"s3://{BUCKET}/smart/lines.txt.gz", "w", transport_params=tp) as f:
            for line in lines:
                f.write(line + "\n")
        raw = get("smart/lines.txt.gz")
        expect(gzip.decompress(raw).decode().splitlines() == lines, "stored object is not the gzip of the lines")
        with smart_open.open(f"s3://{BUCKET}/smart/lines.txt.gz", "r", transport_params=tp) as f:
            got = [line.rstrip("\n") for line in f]
        expect(got == lines, f"{len(got)} lines read back, differ")

    def small_put():
        # Nothing written: smart_open aborts its multipart upload and PUTs an empty object.
        with smart_open.open(f"s3://{BUCKET}/smart/empty", "wb", transport_params=tp):
            pass
        expect(client.head_object(Bucket=BUCKET, Key="smart/empty")["ContentLength"] == 0, "not empty")
        uploads = client.list_multipart_uploads(Bucket=BUCKET).get("Uploads", [])
        expect(not [u for u in uploads if u["Key"].startswith("smart/")], f"uploads left behind: {uploads}")

    def missing_key():
        try:
            with smart_open.open(f"s3://{BUCKET}/smart/no-such-key", "rb", transport_params=tp) as f:
                f.read()
        except (IOError, OSError, ValueError, ClientError) as e:
            expect("NoSuchKey" in str(e) or "404" in str(e) or "does not exist" in str(e), f"unexpected error: {e}")
            return
        raise AssertionError("reading a missing key did not fail")

    check("smart_open: multipart write (3 parts, 12 MiB)", write_multipart)
    check("smart_open: read whole", read_whole)
    check("smart_open: seek + read (range GETs)", seek_and_read)
    check("smart_open: gzip text by extension, both ways", gzip_lines)
    check("smart_open: empty object, no upload left", small_put)
    check("smart_open: missing key is an error", missing_key)


# ------------------------------------------------------------------ PyTorch


def torch_checks():
    import torch
    from torch.utils.data import DataLoader, Dataset, IterableDataset, get_worker_info

    print(f"# {LABEL}: torch {torch.__version__}", flush=True)
    n = 300
    samples = {f"torch/samples/{i:04d}.bin": blob(f"s{i}", 1000 + 37 * i) for i in range(n)}

    def upload():
        for k, v in samples.items():
            client.put_object(Bucket=BUCKET, Key=k, Body=v)

    class S3Samples(Dataset):
        """Map-style: keys listed up front (list_objects_v2, pages of 100), one GET per item; each
        DataLoader worker process makes its own boto3 client (clients do not survive a fork)."""

        def __init__(self, prefix):
            pages = s3client().get_paginator("list_objects_v2").paginate(Bucket=BUCKET, Prefix=prefix, PaginationConfig={"PageSize": 100})
            self.keys = [o["Key"] for p in pages for o in p.get("Contents", [])]
            self.c = None

        def __len__(self):
            return len(self.keys)

        def __getitem__(self, i):
            if self.c is None:
                self.c = s3client()
            body = self.c.get_object(Bucket=BUCKET, Key=self.keys[i])["Body"].read()
            return self.keys[i], torch.frombuffer(bytearray(body), dtype=torch.uint8)

    def collate(batch):
        return [k for k, _ in batch], [t for _, t in batch]

    def map_style():
        ds = S3Samples("torch/samples/")
        expect(len(ds) == n, f"listed {len(ds)} of {n}")
        seen = 0
        for keys, tensors in DataLoader(ds, batch_size=16, shuffle=True, num_workers=2, collate_fn=collate):
            for k, t in zip(keys, tensors):
                expect(sha(t.numpy().tobytes()) == sha(samples[k]), f"{k}: bytes differ")
                seen += 1
        expect(seen == n, f"{seen} samples of {n}")

    # Tar shards, as WebDataset lays them out: each worker streams its own shards with one GET each.
    shards = {}
    for s in range(4):
        buf = io.BytesIO()
        with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
            for j in range(25):
                for ext, payload in (("jpg", blob(f"img{s}.{j}", 3000 + j)), ("cls", str((s * 25 + j) % 10).encode())):
                    info = tarfile.TarInfo(f"sample{s:02d}{j:03d}.{ext}")
                    info.size = len(payload)
                    tar.addfile(info, io.BytesIO(payload))
        shards[f"torch/shards/shard-{s:04d}.tar"] = buf.getvalue()

    def upload_shards():
        for k, v in shards.items():
            client.put_object(Bucket=BUCKET, Key=k, Body=v)

    class Shards(IterableDataset):
        def __iter__(self):
            info = get_worker_info()
            mine = sorted(shards)[info.id :: info.num_workers] if info else sorted(shards)
            c = s3client()
            for key in mine:
                body = c.get_object(Bucket=BUCKET, Key=key)["Body"]
                with tarfile.open(fileobj=body, mode="r|") as tar:  # a stream: no seeks
                    for m in tar:
                        yield m.name, tar.extractfile(m).read()

    def shard_stream():
        got = {}
        for names, payloads in DataLoader(Shards(), batch_size=10, num_workers=2, collate_fn=lambda b: ([x for x, _ in b], [y for _, y in b])):
            got.update(zip(names, payloads))
        want = {}
        for v in shards.values():
            with tarfile.open(fileobj=io.BytesIO(v)) as tar:
                for m in tar:
                    want[m.name] = tar.extractfile(m).read()
        expect(len(got) == len(want) == 200, f"{len(got)} files of {len(want)}")
        expect(all(got[k] == v for k, v in want.items()), "a file's bytes differ")

    def shard_ranges():
        # Random access into a shard: one ranged GET per member, at the offsets tarfile's index gives.
        key = sorted(shards)[2]
        with tarfile.open(fileobj=io.BytesIO(shards[key])) as tar:
            members = [m for m in tar if m.name.endswith(".jpg")]
        for m in members[::5]:
            got = get(key, Range=f"bytes={m.offset_data}-{m.offset_data + m.size - 1}")
            expect(got == shards[key][m.offset_data : m.offset_data + m.size], f"{m.name}: bytes differ")

    check("torch: upload 300 samples", upload)
    check("torch: DataLoader (2 worker processes, shuffled) over boto3 GETs", map_style)
    check("torch: upload 4 tar shards", upload_shards)
    check("torch: IterableDataset streaming tar shards (2 workers)", shard_stream)
    check("torch: ranged GETs of shard members", shard_ranges)


# ------------------------------------------------------------------ pyarrow


def pyarrow_checks():
    import pyarrow as pa
    import pyarrow.dataset as ds
    import pyarrow.fs as pafs
    import pyarrow.parquet as pq

    print(f"# {LABEL}: pyarrow {pa.__version__}", flush=True)
    u = urlparse(ENDPOINT)
    # endpoint_override takes host:port and the path the S3 API is at (/s3).
    s3 = pafs.S3FileSystem(access_key=KEY, secret_key=SECRET, region=REGION, scheme=u.scheme, endpoint_override=u.netloc + u.path)
    table = pa.table({"id": list(range(100_000)), "name": [f"row {i}" for i in range(100_000)]})
    big = blob("arrow", 23 * MiB)

    def parquet_roundtrip():
        pq.write_table(table, f"{BUCKET}/arrow/t.parquet", filesystem=s3)
        expect(pq.read_table(f"{BUCKET}/arrow/t.parquet", filesystem=s3).equals(table), "table differs")
        # Column projection and row-group reads are ranged GETs.
        expect(pq.read_table(f"{BUCKET}/arrow/t.parquet", filesystem=s3, columns=["name"]).column(0).equals(table.column(1)), "column differs")

    def partitioned_dataset():
        t = pa.table({"year": [2023, 2024] * 500, "v": list(range(1000))})
        ds.write_dataset(t, f"{BUCKET}/arrow/ds", format="parquet", partitioning=["year"], filesystem=s3)
        d = ds.dataset(f"{BUCKET}/arrow/ds", format="parquet", partitioning=["year"], filesystem=s3)
        expect(sorted(d.files) == [f"{BUCKET}/arrow/ds/2023/part-0.parquet", f"{BUCKET}/arrow/ds/2024/part-0.parquet"], f"files {d.files}")
        expect(d.to_table(filter=ds.field("year") == 2024).num_rows == 500, "filtered rows")

    def streams():
        with s3.open_output_stream(f"{BUCKET}/arrow/big.bin") as f:  # multipart above 10 MiB
            for off in range(0, len(big), 3 * MiB):
                f.write(big[off : off + 3 * MiB])
        expect(sha(get("arrow/big.bin")) == sha(big), "bytes differ (read back with boto3)")
        etag = client.head_object(Bucket=BUCKET, Key="arrow/big.bin")["ETag"].strip('"')
        expect(etag.endswith("-3"), f"ETag {etag}: not the 3-part upload pyarrow makes of 23 MiB")
        with s3.open_input_file(f"{BUCKET}/arrow/big.bin") as f:
            expect(f.size() == len(big), f"size {f.size()}")
            f.seek(11 * MiB + 7)
            expect(f.read(100_000) == big[11 * MiB + 7 : 11 * MiB + 7 + 100_000], "seek + read differs")
            expect(f.read_at(10, len(big) - 10) == big[-10:], "read_at differs")

    def file_info_and_dirs():
        s3.create_dir(f"{BUCKET}/arrow/empty/dir")
        expect(s3.get_file_info(f"{BUCKET}/arrow/empty/dir").type == pafs.FileType.Directory, "created dir")
        expect(s3.get_file_info(f"{BUCKET}/arrow/t.parquet").type == pafs.FileType.File, "file")
        expect(s3.get_file_info(f"{BUCKET}/arrow/none").type == pafs.FileType.NotFound, "missing")
        infos = s3.get_file_info(pafs.FileSelector(f"{BUCKET}/arrow", recursive=True))
        paths = {i.path for i in infos}
        for p in ("arrow/t.parquet", "arrow/ds/2023", "arrow/ds/2024/part-0.parquet", "arrow/big.bin", "arrow/empty/dir"):
            expect(f"{BUCKET}/{p}" in paths, f"{p} not listed: {sorted(paths)}")
        sizes = {i.path: i.size for i in infos if i.type == pafs.FileType.File}
        expect(sizes[f"{BUCKET}/arrow/big.bin"] == len(big), "listed size")

    def move_copy_delete():
        s3.copy_file(f"{BUCKET}/arrow/big.bin", f"{BUCKET}/arrow/copy.bin")
        s3.move(f"{BUCKET}/arrow/copy.bin", f"{BUCKET}/arrow/moved.bin")
        expect(s3.get_file_info(f"{BUCKET}/arrow/copy.bin").type == pafs.FileType.NotFound, "moved source still there")
        expect(sha(get("arrow/moved.bin")) == sha(big), "moved bytes differ")
        s3.delete_dir(f"{BUCKET}/arrow/ds")
        left = [i.path for i in s3.get_file_info(pafs.FileSelector(f"{BUCKET}/arrow", recursive=True))]
        expect(not [p for p in left if "/ds" in p], f"left after delete_dir: {left}")

    check("pyarrow: parquet write/read, column projection", parquet_roundtrip)
    check("pyarrow: partitioned dataset, filter", partitioned_dataset)
    check("pyarrow: output stream (multipart) and input file (seek, read_at)", streams)
    check("pyarrow: file info, directories, recursive listing", file_info_and_dirs)
    check("pyarrow: copy, move, delete_dir", move_copy_delete)


# ------------------------------------------------------------------ polars


def polars_checks():
    import polars as pl

    print(f"# {LABEL}: polars {pl.__version__}", flush=True)
    so = {"aws_access_key_id": KEY, "aws_secret_access_key": SECRET, "aws_region": REGION, "aws_endpoint_url": ENDPOINT, "aws_allow_http": "true"}
    df = pl.DataFrame({"a": list(range(200_000)), "b": [f"r{i % 977}" for i in range(200_000)]})

    def parquet():
        df.write_parquet(f"s3://{BUCKET}/polars/one.parquet", storage_options=so)
        expect(pl.read_parquet(f"s3://{BUCKET}/polars/one.parquet", storage_options=so).equals(df), "frame differs")
        got = pl.scan_parquet(f"s3://{BUCKET}/polars/one.parquet", storage_options=so).filter(pl.col("a") >= 199_990).select(pl.col("a").sum()).collect()
        expect(got.item() == sum(range(199_990, 200_000)), f"lazy filter sum {got.item()}")

    def glob_scan():
        for i in range(3):
            df.slice(i * 1000, 1000).write_parquet(f"s3://{BUCKET}/polars/parts/p{i}.parquet", storage_options=so)
        n = pl.scan_parquet(f"s3://{BUCKET}/polars/parts/*.parquet", storage_options=so).select(pl.len()).collect().item()
        expect(n == 3000, f"{n} rows over the glob")

    def csv():
        df.head(5000).write_csv(f"s3://{BUCKET}/polars/one.csv", storage_options=so)
        expect(pl.scan_csv(f"s3://{BUCKET}/polars/one.csv", storage_options=so).collect().equals(df.head(5000)), "frame differs")

    check("polars: parquet write, read, lazy scan with a filter", parquet)
    check("polars: scan_parquet over a glob", glob_scan)
    check("polars: csv write and scan", csv)


RUN = {"smart_open": smart_open_checks, "torch": torch_checks, "pyarrow": pyarrow_checks, "polars": polars_checks}
for name in WANT:
    if name not in RUN:
        fail(name, f"unknown library (one of {', '.join(RUN)})")
        continue
    try:
        RUN[name]()
    except ImportError as e:
        fail(f"{name} installed", f"{e} ({sys.executable})")

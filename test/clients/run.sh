#!/usr/bin/env bash
# Real S3 clients against a real tais node: the commands of the seed document our users follow
# (shared/seed/aistore-s3-compatibility.md: Quick Start, the s3cmd one-liner and .s3cfg, PUT/GET/HEAD,
# Range reads, the Boto3 examples) run with aws CLI, s3cmd, rclone and boto3, checking exit codes and
# bytes; and the large transfers (issue 4): `aws s3 cp` of 200 MiB both ways (aws v2), multipart by
# hand with `aws s3api` (upload-part-copy too), boto3's threaded upload_file/download_file (boto3_transfer.py),
# rclone copy / sync / check of a tree of 300 files; what ML engineers read data with (ml_readers.py: smart_open,
# a PyTorch DataLoader, pyarrow, polars); an s3:// bucket whose remote is another node (section remote: cold
# GET, copies and moves with the aws CLI, checked on the remote). Needs a build (`npm run build`) and the clients (.ci/run installs them from Debian).
#
#   bash test/clients/run.sh            # every client
#   CLIENTS=aws,s3cmd bash test/clients/run.sh
#   ML_PYTHON=/path/to/venv/bin/python CLIENTS=ml ...   # a python with pyarrow and polars (not in Debian)
#   CLIENTS_DEBUG=1 ...                 # clients' --debug output and the node's debug log, shown on failures
#   CLIENTS_KEEP=1 ...                  # keep the temp dir (node log, every command's output)
#   CLIENTS_TOPOLOGY=node ...           # one aisnode (target + its gateway) instead of the playground
#
# By default the clients run against the playground users get from `npm start` (1 proxy + 3 targets,
# 2 mountpaths each) on free ports, so every request crosses the gateway to its HRW owner.
#
# Prints `ok: <client> <check>` or `FAIL: <client> <check>: why` per check, then
# `clients: N passed, M failed`; exits 1 when M > 0.
# Check predicates are single-quoted on purpose (evaluated later, in check); locals they use look unused.
# shellcheck disable=SC2016,SC2034
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
HERE="$ROOT/test/clients"
AISNODE="$ROOT/dist/src/cmd/aisnode.js"
PLAYGROUND="$ROOT/dist/src/cmd/playground.js"
TOPOLOGY=${CLIENTS_TOPOLOGY:-playground}
CLIENTS=${CLIENTS:-aws,s3cmd,rclone,boto3,ml,authn,tls,etl,remote}
DEBUG=${CLIENTS_DEBUG:-}

if [[ ! -f $AISNODE ]]; then
  echo "run.sh: $AISNODE is missing: run 'npm run build' first" >&2
  echo "clients: 0 passed, 1 failed"
  exit 1
fi

W=$(mktemp -d "${TMPDIR:-/tmp}/tais-clients.XXXXXX")
NODE_PID=
cleanup() {
  local rc=$?
  if [[ -n $NODE_PID ]] && kill -0 "$NODE_PID" 2>/dev/null; then
    kill "$NODE_PID" 2>/dev/null || true
    # the playground stops its nodes (targets, then proxies) before it exits
    for _ in $(seq 150); do kill -0 "$NODE_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$NODE_PID" 2>/dev/null || true
    wait "$NODE_PID" 2>/dev/null || true
  fi
  if [[ -n ${CLIENTS_KEEP:-} ]]; then echo "# kept $W" >&2; else rm -rf "$W"; fi
  exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- counting and running

PASS=0
FAIL=0
SEQ=0
OUT='' ERR='' RC=0 LASTCMD=''

ok() {
  PASS=$((PASS + 1))
  echo "ok: $1"
}

# fail CHECK WHY [show]: counts a failure; with show, prints the last command and its output.
fail() {
  FAIL=$((FAIL + 1))
  echo "FAIL: $1: $2"
  if [[ ${3:-} == show ]]; then
    echo "    \$ ${LASTCMD}"
    echo "    exit status $RC"
    if [[ -s $OUT ]]; then echo "    stdout:"; tail -n 25 "$OUT" | sed 's/^/    | /'; fi
    if [[ -s $ERR ]]; then echo "    stderr:"; tail -n "$([[ -n $DEBUG ]] && echo 200 || echo 25)" "$ERR" | sed 's/^/    | /'; fi
  fi
}

# runc CMD...: runs CMD with its stdout in $OUT and stderr in $ERR and its status in $RC.
runc() {
  SEQ=$((SEQ + 1))
  OUT="$W/log/$SEQ.out"
  ERR="$W/log/$SEQ.err"
  LASTCMD="$*"
  RC=0
  "$@" >"$OUT" 2>"$ERR" </dev/null || RC=$?
  { echo "\$ $*"; echo "exit $RC"; } >"$W/log/$SEQ.cmd"
}

# check NAME PRED CMD...: runs CMD; passes when it exits 0 and PRED (a shell snippet, evaluated after
# the command with $OUT/$ERR set; '' for none) prints nothing. PRED prints why it is unhappy.
check() {
  local name=$1 pred=$2 why=''
  shift 2
  runc "$@"
  if ((RC != 0)); then
    why="exit status $RC"
  elif [[ -n $pred ]]; then
    why=$(eval "$pred" 2>&1) || true
    why=${why//$'\n'/; }
  fi
  if [[ -z $why ]]; then ok "$name"; else fail "$name" "$why" show; fi
}

# Predicates: print a reason when unhappy.
has() { grep -Eq -- "$2" "$1" || echo "no line matching /$2/ in $(basename "$1")"; }
hasnt() { ! grep -Eq -- "$2" "$1" || echo "unexpected line matching /$2/: $(grep -E -m1 -- "$2" "$1")"; }
same() { # same FILE WANT_FILE: sha256 of both
  [[ -f $1 ]] || { echo "$1 was not written"; return; }
  local a b
  a=$(sha256sum <"$1" | cut -d' ' -f1)
  b=$(sha256sum <"$2" | cut -d' ' -f1)
  [[ $a == "$b" ]] || echo "sha256 of $(basename "$1") ($(stat -c %s "$1") bytes) $a != source's $b ($(stat -c %s "$2") bytes)"
}
# jget FILE FIELD: a field of a JSON document (a.b for nested ones), "<absent>" if missing.
jget() {
  node -e '
    const fs = require("fs");
    let o;
    try { o = JSON.parse(fs.readFileSync(process.argv[1], "utf8")); } catch { process.stdout.write("<not json>"); process.exit(0); }
    let v = o;
    for (const k of process.argv[2].split(".")) v = v === undefined || v === null ? undefined : v[k];
    process.stdout.write(v === undefined ? "<absent>" : typeof v === "object" ? JSON.stringify(v) : String(v));
  ' "$1" "$2"
}
jeq() { # jeq FILE FIELD WANT...
  local f=$1 k=$2 got
  shift 2
  got=$(jget "$f" "$k")
  [[ $got == "$*" ]] || echo "$k is '$got', want '$*'"
}
jnonempty() {
  local got
  got=$(jget "$1" "$2")
  [[ -n $got && $got != '<absent>' && $got != '<not json>' ]] || echo "$2 is '$got', want a value"
}
# etag_parts FILE FIELD N: FIELD is a multipart ETag of N parts ("<32 hex>-N", quotes included).
etag_parts() {
  local got
  got=$(jget "$1" "$2")
  [[ $got =~ ^\"[0-9a-f]{32}-$3\"$ ]] || echo "$2 is '$got', want a multipart ETag of $3 parts"
}
# parts_are FILE ETAG...: the list-parts output names parts 1..n with these ETags, in order.
parts_are() {
  local f=$1
  shift
  node -e '
    const o = JSON.parse(require("fs").readFileSync(process.argv[1], "utf8"));
    const got = (o.Parts || []).map((p) => `${p.PartNumber}:${p.ETag}`).join(" ");
    const want = process.argv.slice(2).map((e, i) => `${i + 1}:${e}`).join(" ");
    if (got !== want) console.log(`parts ${got}, want ${want}`);
  ' "$f" "$@"
}
md5of() { md5sum <"$1" | cut -d' ' -f1; }
sizeof() { stat -c %s "$1"; }

# ---------------------------------------------------------------- the node

# listen_port PID: the TCP port PID listens on (from /proc, so no log format is relied upon).
listen_port() {
  local inodes hex
  inodes=" $(for f in /proc/"$1"/fd/*; do readlink "$f" 2>/dev/null || true; done | sed -n 's/^socket:\[\([0-9]*\)\]$/\1/p' | tr '\n' ' ') "
  [[ $inodes != "  " ]] || return 1
  hex=$(awk -v inodes="$inodes" '$4 == "0A" && index(inodes, " " $10 " ") { split($2, a, ":"); print a[2]; exit }' /proc/net/tcp /proc/net/tcp6 2>/dev/null)
  [[ -n $hex ]] || return 1
  echo $((16#$hex))
}

start_node() {
  mkdir -p "$W/log"
  case $TOPOLOGY in
    node) start_single ;;
    playground) start_playground ;;
    *) echo "run.sh: CLIENTS_TOPOLOGY=$TOPOLOGY: node or playground" >&2; echo "clients: 0 passed, 1 failed"; exit 1 ;;
  esac
  # Listening is not serving yet on every server: wait for the health endpoint too.
  for _ in $(seq 100); do
    node -e 'require("http").get(process.argv[1], (r) => process.exit(r.statusCode === 200 ? 0 : 1)).on("error", () => process.exit(1))' \
      "http://127.0.0.1:$PORT/v1/health" && break
    sleep 0.1
  done
}

start_failed() {
  echo "run.sh: the $TOPOLOGY did not start; its log:" >&2
  cat "$W/node.log" >&2
  echo "clients: 0 passed, 1 failed"
  exit 1
}

start_single() {
  mkdir -p "$W/node"
  local env=()
  [[ -n $DEBUG ]] && env=(TAIS_LOG=debug)
  # --port 0: the kernel picks a free port. uWS listens with SO_REUSEPORT, so a port that merely
  # looked free could end up shared with someone else's node; a kernel-assigned one cannot.
  env "${env[@]}" node "$AISNODE" --host 127.0.0.1 --port 0 --confdir "$W/node/conf" \
    --mountpath "$W/node/mp1" --mountpath "$W/node/mp2" >"$W/node.log" 2>&1 &
  NODE_PID=$!
  PORT=
  for _ in $(seq 200); do
    kill -0 "$NODE_PID" 2>/dev/null || break
    PORT=$(listen_port "$NODE_PID") && break
    sleep 0.1
  done
  [[ -n $PORT ]] || start_failed
  echo "# tais node pid $NODE_PID on 127.0.0.1:$PORT, data in $W/node"
}

# free_ports N: the first port of N consecutive ports nobody listens on (the playground takes
# TAIS_PORT for its proxy and the next ones for its targets).
free_ports() {
  node -e '
    const net = require("net"); const n = Number(process.argv[1]);
    const free = (p) => new Promise((ok) => { const s = net.createServer(); s.once("error", () => ok(false));
      s.listen(p, "0.0.0.0", () => s.close(() => ok(true))); });
    (async () => { for (let t = 0; t < 200; t++) { const base = 20000 + Math.floor(Math.random() * 30000);
      let all = true; for (let i = 0; i < n && all; i++) all = await free(base + i);
      if (all) { console.log(base); return; } } process.exit(1); })();' "$1"
}

start_playground() {
  local base env=()
  [[ -n $DEBUG ]] && env=(TAIS_LOG=debug)
  base=$(free_ports 4) || { echo "run.sh: no 4 free consecutive ports" >&2; start_failed; }
  env "${env[@]}" TAIS_DATA="$W/playground" TAIS_PORT="$base" node "$PLAYGROUND" >"$W/node.log" 2>&1 &
  NODE_PID=$!
  PORT=
  for _ in $(seq 600); do
    kill -0 "$NODE_PID" 2>/dev/null || break
    if grep -q '^tais playground ready' "$W/node.log"; then PORT=$base; break; fi
    sleep 0.1
  done
  [[ -n $PORT ]] || start_failed
  echo "# tais playground (1 proxy + 3 targets) pid $NODE_PID, proxy on 127.0.0.1:$PORT, data in $W/playground"
}

# ---------------------------------------------------------------- test data

make_data() {
  D="$W/data"
  mkdir -p "$D" "$W/dl"
  # README.md: text of the seed's size (10493 bytes); file.txt: 1 KiB; big7.bin: 7 MiB, below every
  # client's multipart threshold (aws 8 MiB, s3cmd 15 MiB, rclone 200 MiB, boto3 8 MiB).
  head -c 7869 /dev/urandom | base64 -w 76 | head -c 10493 >"$D/README.md"
  head -c 768 /dev/urandom | base64 -w 64 | head -c 1024 >"$D/file.txt"
  head -c $((7 * 1024 * 1024)) /dev/urandom >"$D/big7.bin"
  # large.bin: 40 MiB, above the aws CLI's 8 MiB multipart threshold (the seed's s3cmd multipart example).
  head -c $((40 * 1024 * 1024 + 12345)) /dev/urandom >"$D/large.bin"
  # huge.bin: 200 MiB, what `aws s3 cp` uploads in 8 MiB parts, 10 at a time.
  head -c $((200 * 1024 * 1024 + 7)) /dev/urandom >"$D/huge.bin"
  # tree300: 300 files in 15 folders (sizes 0 B .. ~2 MiB, 17 MiB in all) for rclone copy / sync / check.
  local i
  for ((i = 0; i < 300; i++)); do
    mkdir -p "$D/tree300/d$((i % 15))/e$((i % 4))"
    head -c $(((i * 7919) % 40000 + (i % 50 == 0 ? 2 * 1024 * 1024 : 0))) /dev/urandom >"$D/tree300/d$((i % 15))/e$((i % 4))/f$i.bin"
  done
  # a tree for rclone
  mkdir -p "$D/tree/sub/deeper"
  cp "$D/README.md" "$D/tree/"
  echo "a small file" >"$D/tree/a.txt"
  head -c 1048577 /dev/urandom >"$D/tree/sub/b.bin"
  : >"$D/tree/sub/empty.txt"
  head -c 5000 /dev/urandom | base64 >"$D/tree/sub/deeper/c.txt"
}

# ---------------------------------------------------------------- aws CLI

aws_commands() {
  # "path|label" of each aws CLI: Debian's v2 first, then whatever else is first in PATH (pyenv's v1).
  local seen=() p v
  for p in /usr/bin/aws "$(command -v aws 2>/dev/null || true)"; do
    [[ -n $p && -x $p ]] || continue
    local real
    real=$(readlink -f "$p")
    [[ " ${seen[*]-} " == *" $real "* ]] && continue
    v=$("$p" --version 2>&1 </dev/null | head -n1 | sed -n 's|^aws-cli/\([^ ]*\).*|\1|p') || true
    [[ -n $v ]] || continue
    seen+=("$real")
    echo "$p|aws-$v"
  done
}

AWSCMD=
EP=
awsx() { "$AWSCMD" --endpoint-url "$EP" ${DEBUG:+--debug} "$@"; }

run_aws() { # run_aws AWS LABEL HOST BUCKET [hand|huge]: multipart by hand too; "huge": and 200 MiB both ways
  AWSCMD=$1
  local L="$2@$3" B=$4 H=$3 large=${5:-}
  EP="http://$H:$PORT/s3"
  local dl="$W/dl/$L" size md5
  mkdir -p "$dl"
  echo "== $L: $AWSCMD --endpoint-url $EP, bucket $B"
  cd "$D"
  # Quick Start
  check "$L s3 mb" 'has "$OUT" "^make_bucket: $B\$"' awsx s3 mb "s3://$B"
  check "$L s3 cp README.md" 'has "$OUT" "upload: \./README\.md to s3://$B/README\.md"' awsx s3 cp README.md "s3://$B/"
  check "$L s3 cp 7MiB" 'has "$OUT" "upload: \./big7\.bin to s3://$B/big7\.bin"' awsx s3 cp big7.bin "s3://$B/big7.bin"
  check "$L s3 cp to a nested key" '' awsx s3 cp file.txt "s3://$B/dir/file.txt"
  check "$L s3 cp 40MiB (multipart)" 'has "$OUT" "upload: \./large\.bin to s3://$B/large\.bin"' awsx s3 cp large.bin "s3://$B/large.bin"
  check "$L s3api head-object 40MiB: multipart ETag" 'jeq "$OUT" ContentLength 41955385; grep -Eq "\"ETag\": \"\\\\\"[0-9a-f]{32}-[0-9]+\\\\\"\"" "$OUT" || echo "ETag not in multipart form: $(grep ETag "$OUT")"' \
    awsx s3api head-object --bucket "$B" --key large.bin
  check "$L s3 ls (buckets)" 'has "$OUT" " $B\$"' awsx s3 ls
  check "$L s3 ls s3://$B" 'has "$OUT" "[0-9:] +10493 README\.md\$"; has "$OUT" " 7340032 big7\.bin\$"; has "$OUT" "PRE dir/\$"; hasnt "$OUT" "file\.txt"' \
    awsx s3 ls "s3://$B"
  check "$L s3 ls --recursive" 'has "$OUT" " 10493 README\.md\$"; has "$OUT" " 7340032 big7\.bin\$"; has "$OUT" " 1024 dir/file\.txt\$"' \
    awsx s3 ls --recursive "s3://$B"
  check "$L s3 cp download README.md" 'same "$dl/README.md" "$D/README.md"' awsx s3 cp "s3://$B/README.md" "$dl/README.md"
  check "$L s3 cp download 7MiB" 'same "$dl/big7.bin" "$D/big7.bin"' awsx s3 cp "s3://$B/big7.bin" "$dl/big7.bin"
  check "$L s3 cp download 40MiB" 'same "$dl/large.bin" "$D/large.bin"' awsx s3 cp "s3://$B/large.bin" "$dl/large.bin"
  if [[ $large == huge ]]; then aws_huge "$L" "$B" "$dl"; fi
  if [[ -n $large ]]; then aws_by_hand "$L" "$B" "$dl"; fi

  # PUT / GET / HEAD
  md5=$(md5of file.txt)
  size=$(sizeof file.txt)
  check "$L s3api put-object" 'jeq "$OUT" ETag "\"$md5\""' awsx s3api put-object --bucket "$B" --key obj --body file.txt
  check "$L s3api get-object" 'same "$dl/output.txt" "$D/file.txt"; jeq "$OUT" ContentLength "$size"; jeq "$OUT" ETag "\"$md5\""' \
    awsx s3api get-object --bucket "$B" --key obj "$dl/output.txt"
  check "$L s3api head-object" 'jeq "$OUT" AcceptRanges bytes; jeq "$OUT" ContentLength "$size"; jeq "$OUT" ETag "\"$md5\""; jnonempty "$OUT" ContentType; jnonempty "$OUT" LastModified' \
    awsx s3api head-object --bucket "$B" --key obj
  check "$L s3api head-object ContentType of s3 cp'd .txt" 'jeq "$OUT" ContentType text/plain; jeq "$OUT" ContentLength 1024' \
    awsx s3api head-object --bucket "$B" --key dir/file.txt

  # Range reads (the seed's argument order)
  check "$L s3api get-object --range bytes=0-99" \
    'jeq "$OUT" ContentRange "bytes 0-99/10493"; jeq "$OUT" ContentLength 100; jeq "$OUT" AcceptRanges bytes; head -c 100 "$D/README.md" >"$dl/want-part.txt"; same "$dl/part.txt" "$dl/want-part.txt"' \
    "$AWSCMD" s3api get-object --range bytes=0-99 --bucket "$B" --key README.md "$dl/part.txt" --endpoint-url "$EP" ${DEBUG:+--debug}

  # delete
  check "$L s3api delete-object (missing key)" '' awsx s3api delete-object --bucket "$B" --key no-such-key
  check "$L s3 rm" 'has "$OUT" "^delete: s3://$B/README\.md\$"' awsx s3 rm "s3://$B/README.md"
  check "$L s3 rm --recursive" 'has "$OUT" "delete: s3://$B/big7\.bin"; has "$OUT" "delete: s3://$B/dir/file\.txt"; has "$OUT" "delete: s3://$B/obj"' \
    awsx s3 rm --recursive "s3://$B/"
  check "$L s3 ls (emptied bucket)" '[[ ! -s $OUT ]] || echo "bucket not empty: $(head -c 300 "$OUT")"' awsx s3 ls "s3://$B"
  check "$L s3 rb" 'has "$OUT" "^remove_bucket: $B\$"' awsx s3 rb "s3://$B"
  check "$L s3 ls (bucket gone)" 'hasnt "$OUT" " $B\$"' awsx s3 ls
  cd "$ROOT"
}

# aws_huge LABEL BUCKET DLDIR: 200 MiB through `aws s3 cp` (auto multipart: 8 MiB parts, 10 at a time) and back.
aws_huge() {
  local L=$1 B=$2 dl=$3
  check "$L s3 cp 200MiB (multipart)" 'has "$OUT" "upload: \./huge\.bin to s3://$B/huge\.bin"' awsx s3 cp huge.bin "s3://$B/huge.bin"
  check "$L s3api head-object 200MiB: 26 parts" 'jeq "$OUT" ContentLength 209715207; etag_parts "$OUT" ETag 26' \
    awsx s3api head-object --bucket "$B" --key huge.bin
  check "$L s3 cp download 200MiB" 'cmp -s "$dl/huge.bin" "$D/huge.bin" || echo "downloaded huge.bin differs (cmp)"' awsx s3 cp "s3://$B/huge.bin" "$dl/huge.bin"
  rm -f "$dl/huge.bin"
}

# aws_by_hand LABEL BUCKET DLDIR: a multipart upload by hand with s3api, as AIStore's docs do it, with
# parts uploaded and copied (upload-part-copy, whole and ranged), listed, completed, and the object
# compared with the parts it was made of.
aws_by_hand() {
  local L=$1 B=$2 dl=$3 uid e1 e2 e3 e4
  head -c $((6 * 1024 * 1024)) "$D/large.bin" >"$dl/p1"
  check "$L s3api create-multipart-upload" 'jnonempty "$OUT" UploadId; jeq "$OUT" Key hand.bin' \
    awsx s3api create-multipart-upload --bucket "$B" --key hand.bin --content-type application/x-by-hand
  uid=$(jget "$OUT" UploadId)
  check "$L s3api upload-part 1" 'jnonempty "$OUT" ETag' awsx s3api upload-part --bucket "$B" --key hand.bin --upload-id "$uid" --part-number 1 --body "$dl/p1"
  e1=$(jget "$OUT" ETag)
  check "$L s3api upload-part-copy 2 (whole 7MiB object)" 'jeq "$OUT" CopyPartResult.ETag "\"$(md5of "$D/big7.bin")\""' \
    awsx s3api upload-part-copy --bucket "$B" --key hand.bin --upload-id "$uid" --part-number 2 --copy-source "$B/big7.bin"
  e2=$(jget "$OUT" CopyPartResult.ETag)
  dd if="$D/large.bin" of="$dl/p3" bs=1024 skip=1 count=5120 status=none # bytes 1024 .. 1024+5MiB-1
  check "$L s3api upload-part-copy 3 (--copy-source-range)" 'jeq "$OUT" CopyPartResult.ETag "\"$(md5of "$dl/p3")\""' \
    awsx s3api upload-part-copy --bucket "$B" --key hand.bin --upload-id "$uid" --part-number 3 --copy-source "$B/large.bin" --copy-source-range "bytes=1024-$((1024 + 5 * 1024 * 1024 - 1))"
  e3=$(jget "$OUT" CopyPartResult.ETag)
  check "$L s3api upload-part 4 (short last part)" 'jnonempty "$OUT" ETag' awsx s3api upload-part --bucket "$B" --key hand.bin --upload-id "$uid" --part-number 4 --body "$D/file.txt"
  e4=$(jget "$OUT" ETag)
  check "$L s3api list-parts" 'parts_are "$OUT" "$e1" "$e2" "$e3" "$e4"' \
    awsx s3api list-parts --bucket "$B" --key hand.bin --upload-id "$uid"
  printf '{"Parts":[{"PartNumber":1,"ETag":%s},{"PartNumber":2,"ETag":%s},{"PartNumber":3,"ETag":%s},{"PartNumber":4,"ETag":%s}]}' \
    "$(node -p 'JSON.stringify(process.argv[1])' "$e1")" "$(node -p 'JSON.stringify(process.argv[1])' "$e2")" \
    "$(node -p 'JSON.stringify(process.argv[1])' "$e3")" "$(node -p 'JSON.stringify(process.argv[1])' "$e4")" >"$dl/parts.json"
  check "$L s3api complete-multipart-upload" 'etag_parts "$OUT" ETag 4' \
    awsx s3api complete-multipart-upload --bucket "$B" --key hand.bin --upload-id "$uid" --multipart-upload "file://$dl/parts.json"
  cat "$dl/p1" "$D/big7.bin" "$dl/p3" "$D/file.txt" >"$dl/want-hand.bin"
  check "$L s3api get-object (assembled by hand)" 'same "$dl/hand.bin" "$dl/want-hand.bin"; jeq "$OUT" ContentType application/x-by-hand' \
    awsx s3api get-object --bucket "$B" --key hand.bin "$dl/hand.bin"
  check "$L s3api list-multipart-uploads (none left)" 'hasnt "$OUT" "$uid"' awsx s3api list-multipart-uploads --bucket "$B"
  rm -f "$dl/hand.bin" "$dl/want-hand.bin" "$dl/p1" "$dl/p3"
}

section_aws() {
  local cmds line path label n=0
  cmds=$(aws_commands)
  if [[ -z $cmds ]]; then
    fail "aws installed" "no aws CLI (Debian: apt-get install awscli)"
    return
  fi
  [[ -x /usr/bin/aws ]] || fail "aws Debian awscli (v2) installed" "/usr/bin/aws is missing (apt-get install awscli)"
  while IFS= read -r line; do
    path=${line%%|*}
    label=${line#*|}
    n=$((n + 1))
    # The first run uses the seed's own bucket name.
    # Multipart by hand once per CLI; 200 MiB with the first (Debian's v2): it takes most of the time.
    if ((n == 1)); then run_aws "$path" "$label" 127.0.0.1 demo huge; else run_aws "$path" "$label" 127.0.0.1 "demo-aws$n-ip" hand; fi
    run_aws "$path" "$label" localhost "demo-aws$n-lh"
  done <<<"$cmds"
}

# ---------------------------------------------------------------- s3cmd

S3CMD_ARGS=()
s3c() { s3cmd "${S3CMD_ARGS[@]}" ${DEBUG:+--debug} "$@"; }

run_s3cmd() { # run_s3cmd LABEL BUCKET ARGS... (host and auth options)
  local L=$1 B=$2
  shift 2
  S3CMD_ARGS=("$@")
  local dl="$W/dl/$L" errs0=$SEQ i
  mkdir -p "$dl"
  echo "== $L: s3cmd ${S3CMD_ARGS[*]}, bucket $B"
  cd "$D"
  check "$L mb" 'has "$OUT" "Bucket .s3://$B/. created"' s3c mb "s3://$B"
  # the seed's one-liner: s3cmd put README.md s3://demo --no-ssl --host=... --host-bucket=...
  check "$L put README.md" 'has "$OUT" "upload: .README\.md. -> .s3://$B/README\.md."' s3c put README.md "s3://$B"
  check "$L put 7MiB" 'has "$OUT" "upload: .big7\.bin. -> .s3://$B/big7\.bin."' s3c put big7.bin "s3://$B/big7.bin"
  check "$L ls (buckets)" 'has "$OUT" " s3://$B\$"' s3c ls
  check "$L ls s3://$B" 'has "$OUT" " 10493 +s3://$B/README\.md\$"; has "$OUT" " 7340032 +s3://$B/big7\.bin\$"' s3c ls "s3://$B"
  check "$L get README.md" 'same "$dl/README.md" "$D/README.md"' s3c get --force "s3://$B/README.md" "$dl/README.md"
  check "$L get 7MiB" 'same "$dl/big7.bin" "$D/big7.bin"' s3c get --force "s3://$B/big7.bin" "$dl/big7.bin"
  # the seed's multipart example: s3cmd put ./large.bin s3://demo --multipart-chunk-size-mb=8
  check "$L put 40MiB --multipart-chunk-size-mb=8" 'has "$OUT" "large\.bin"' s3c put ./large.bin "s3://$B" --multipart-chunk-size-mb=8
  check "$L get 40MiB (multipart object)" 'same "$dl/large.bin" "$D/large.bin"' s3c get --force "s3://$B/large.bin" "$dl/large.bin"
  check "$L del 40MiB" '' s3c del "s3://$B/large.bin"
  local md5
  md5=$(md5of README.md)
  check "$L info" 'has "$OUT" "File size: +10493\$"; has "$OUT" "MD5 sum: +$md5\$"' s3c info "s3://$B/README.md"
  check "$L del" 'has "$OUT" "delete: .s3://$B/README\.md."' s3c del "s3://$B/README.md"
  check "$L del 7MiB" '' s3c del "s3://$B/big7.bin"
  check "$L rb" 'has "$OUT" "Bucket .s3://$B/. removed"' s3c rb "s3://$B"
  check "$L ls (bucket gone)" 'hasnt "$OUT" " s3://$B\$"' s3c ls
  # No "MD5 sum mismatch" (or any other) warning on stderr in the whole run.
  local warn="$W/log/$L.warnings"
  : >"$warn"
  for ((i = errs0 + 1; i <= SEQ; i++)); do grep -h '^WARNING' "$W/log/$i.err" >>"$warn" || true; done
  if grep -qi 'md5' "$warn"; then
    fail "$L no MD5 mismatch warnings" "$(grep -i -m3 md5 "$warn" | tr '\n' ' ')"
  else
    ok "$L no MD5 mismatch warnings"
  fi
  if [[ -s $warn ]]; then
    fail "$L no WARNING on stderr" "$(sort "$warn" | uniq -c | sort -rn | head -5 | sed 's/^ *//' | tr '\n' ';')"
  else
    ok "$L no WARNING on stderr"
  fi
  cd "$ROOT"
}

section_s3cmd() {
  if ! command -v s3cmd >/dev/null; then
    fail "s3cmd installed" "no s3cmd (Debian: apt-get install s3cmd)"
    return
  fi
  echo "# $(s3cmd --version)"
  local keys=(--access_key=FAKEKEY --secret_key=FAKESECRET)
  # HOME without a .s3cfg so that a user's own config cannot interfere with the one-liner.
  mkdir -p "$W/home"
  # The seed's one-liner (localhost, as in the seed), signature v4 (s3cmd's default).
  HOME="$W/home" run_s3cmd "s3cmd-v4@localhost" demo --no-ssl --host="localhost:$PORT/s3" --host-bucket="localhost:$PORT/s3/%(bucket)" "${keys[@]}"
  # The same with signature v2.
  HOME="$W/home" run_s3cmd "s3cmd-v2@127.0.0.1" demo-s3cmd-v2 --no-ssl --host="127.0.0.1:$PORT/s3" --host-bucket="127.0.0.1:$PORT/s3/%(bucket)" "${keys[@]}" --signature-v2
  # The seed's "Example .s3cfg".
  cat >"$W/s3cfg" <<EOF
[default]
host_base = 127.0.0.1:$PORT/s3
host_bucket = 127.0.0.1:$PORT/s3/%(bucket)
access_key = FAKEKEY
secret_key = FAKESECRET
signature_v2 = False
use_https = False
EOF
  HOME="$W/home" run_s3cmd "s3cmd-s3cfg@127.0.0.1" demo-s3cmd-cfg -c "$W/s3cfg"
}

# ---------------------------------------------------------------- rclone

rcl() { rclone --config "$W/rclone.conf" ${DEBUG:+-vv --dump headers} "$@"; }

run_rclone() { # run_rclone REMOTE HOST BUCKET
  local R=$1 H=$2 B=$3 L="rclone@$2"
  local dl="$W/dl/$L"
  echo "== $L: remote $R (endpoint http://$H:$PORT/s3), bucket $B"
  check "$L mkdir" '' rcl mkdir "$R:$B"
  check "$L lsd (buckets)" 'has "$OUT" " $B\$"' rcl lsd "$R:"
  check "$L copy a directory" '' rcl copy "$D/tree" "$R:$B/tree"
  check "$L ls" 'has "$OUT" "^ +10493 tree/README\.md\$"; has "$OUT" "^ +13 tree/a\.txt\$"; has "$OUT" "^ +1048577 tree/sub/b\.bin\$"; has "$OUT" "^ +0 tree/sub/empty\.txt\$"; has "$OUT" " tree/sub/deeper/c\.txt\$"' \
    rcl ls "$R:$B"
  check "$L lsjson -R --hash" 'node "$HERE/lsjson-check.js" "$OUT" "$D/tree"' rcl lsjson -R --hash --files-only "$R:$B/tree"
  check "$L cat" 'cmp -s "$OUT" "$D/tree/a.txt" || echo "cat output differs from a.txt"' rcl cat "$R:$B/tree/a.txt"
  check "$L cat 1MiB" 'same "$OUT" "$D/tree/sub/b.bin"' rcl cat "$R:$B/tree/sub/b.bin"
  # check compares sizes and MD5s (the ETag); it must have compared every hash.
  check "$L check (MD5)" 'has "$ERR" "0 differences found"; has "$ERR" "5 matching files"; hasnt "$ERR" "hashes could not be checked|hash(es)? (is|are) missing|no hashes in common"' \
    rcl check "$D/tree" "$R:$B/tree"
  check "$L copy back" 'diff -r "$D/tree" "$dl" >/dev/null || echo "downloaded tree differs: $(diff -rq "$D/tree" "$dl" 2>&1 | head -3 | tr "\n" " ")"' \
    rcl copy "$R:$B/tree" "$dl"
  check "$L delete" '' rcl delete "$R:$B"
  check "$L ls after delete" '[[ ! -s $OUT ]] || echo "still listed: $(head -c 300 "$OUT")"' rcl ls "$R:$B"
  check "$L rmdir" '' rcl rmdir "$R:$B"
  check "$L lsd (bucket gone)" 'hasnt "$OUT" " $B\$"' rcl lsd "$R:"
}

# rclone_tree REMOTE BUCKET: copy, check, sync after local changes (edits, deletions, additions),
# check again, and copy back — 300 files, every one compared by size and MD5.
rclone_tree() {
  local R=$1 B=$2 L="rclone-tree300"
  local src="$W/tree300" dl="$W/dl/$L" i
  echo "== $L: remote $R, bucket $B"
  rm -rf "$src"
  cp -r "$D/tree300" "$src"
  check "$L mkdir" '' rcl mkdir "$R:$B"
  check "$L copy (300 files)" '' rcl copy --transfers 8 "$src" "$R:$B/t"
  check "$L check" 'has "$ERR" "0 differences found"; has "$ERR" " 300 matching files"; hasnt "$ERR" "hashes could not be checked|hash(es)? (is|are) missing"' \
    rcl check "$src" "$R:$B/t"
  # Local changes: 10 files rewritten (same size, new bytes), 7 deleted, 5 new in a new folder.
  for ((i = 0; i < 10; i++)); do head -c "$(stat -c %s "$src/d$((i % 15))/e$((i % 4))/f$i.bin")" /dev/urandom >"$src/d$((i % 15))/e$((i % 4))/f$i.bin.new"; mv "$src/d$((i % 15))/e$((i % 4))/f$i.bin.new" "$src/d$((i % 15))/e$((i % 4))/f$i.bin"; done
  for ((i = 100; i < 107; i++)); do rm "$src/d$((i % 15))/e$((i % 4))/f$i.bin"; done
  mkdir -p "$src/new/deeper"
  for ((i = 0; i < 5; i++)); do head -c $((i * 3000 + 1)) /dev/urandom >"$src/new/deeper/n$i.txt"; done
  check "$L check sees the changes" 'has "$ERR" " 22 differences found"' bash -c 'rclone --config "$1" check "$2" "$3" || true' _ "$W/rclone.conf" "$src" "$R:$B/t"
  check "$L sync" '' rcl sync --transfers 8 "$src" "$R:$B/t"
  check "$L check after sync" 'has "$ERR" "0 differences found"; has "$ERR" " 298 matching files"' rcl check "$src" "$R:$B/t"
  check "$L ls count" '[[ $(wc -l <"$OUT") == 298 ]] || echo "$(wc -l <"$OUT") objects listed, want 298"' rcl ls "$R:$B/t"
  check "$L copy back" 'diff -r "$src" "$dl" >/dev/null || echo "downloaded tree differs: $(diff -rq "$src" "$dl" 2>&1 | head -3 | tr "\n" " ")"' \
    rcl copy --transfers 8 "$R:$B/t" "$dl"
  check "$L purge" '' rcl purge "$R:$B"
  check "$L lsd (bucket gone)" 'hasnt "$OUT" " $B\$"' rcl lsd "$R:"
  rm -rf "$src" "$dl"
}

section_rclone() {
  if ! command -v rclone >/dev/null; then
    fail "rclone installed" "no rclone (Debian: apt-get install rclone)"
    return
  fi
  echo "# $(rclone version 2>/dev/null | head -n1)"
  local h
  : >"$W/rclone.conf"
  for h in 127.0.0.1 localhost; do
    cat >>"$W/rclone.conf" <<EOF
[tais-$h]
type = s3
provider = Other
endpoint = http://$h:$PORT/s3
access_key_id = FAKEKEY
secret_access_key = FAKESECRET
force_path_style = true

EOF
  done
  run_rclone tais-127.0.0.1 127.0.0.1 rclone-ip
  run_rclone tais-localhost localhost rclone-lh
  rclone_tree tais-127.0.0.1 rclone-tree
}

# ---------------------------------------------------------------- boto3

run_boto3() { # run_boto3 PYTHON LABEL HOST BUCKET
  local L="$2@$3"
  echo "== $L: $1 test/clients/boto3_seed.py, endpoint http://$3:$PORT/s3, bucket $4"
  runc "$1" "$HERE/boto3_seed.py" "$L" "http://$3:$PORT/s3" "$4" "$D/big7.bin"
  local n_ok n_fail
  n_ok=$(grep -c '^ok: ' "$OUT" || true)
  n_fail=$(grep -c '^FAIL: ' "$OUT" || true)
  cat "$OUT"
  PASS=$((PASS + n_ok))
  FAIL=$((FAIL + n_fail))
  if ((RC != 0)) || ((n_ok + n_fail == 0)); then
    fail "$L script" "boto3_seed.py exited $RC after $n_ok ok, $n_fail failed" show
  elif [[ -n $DEBUG ]] && ((n_fail > 0)); then
    tail -n 100 "$ERR" | sed 's/^/    | /'
  fi
}

run_boto3_transfer() { # run_boto3_transfer PYTHON LABEL HOST BUCKET: threaded managed transfers of 40 MiB
  local L="$2-transfer@$3"
  echo "== $L: $1 test/clients/boto3_transfer.py, endpoint http://$3:$PORT/s3, bucket $4"
  runc "$1" "$HERE/boto3_transfer.py" "$L" "http://$3:$PORT/s3" "$4" "$D/large.bin"
  local n_ok n_fail
  n_ok=$(grep -c '^ok: ' "$OUT" || true)
  n_fail=$(grep -c '^FAIL: ' "$OUT" || true)
  cat "$OUT"
  PASS=$((PASS + n_ok))
  FAIL=$((FAIL + n_fail))
  if ((RC != 0)) || ((n_ok + n_fail == 0)); then fail "$L script" "boto3_transfer.py exited $RC after $n_ok ok, $n_fail failed" show; fi
}

section_boto3() {
  # Every distinct python3 that has boto3: the one first in PATH (pyenv's, boto3 1.43) and Debian's
  # (python3-boto3).
  local seen=() p real n=0 v
  for p in "$(command -v python3 2>/dev/null || true)" /usr/bin/python3; do
    [[ -n $p && -x $p ]] || continue
    real=$(readlink -f "$p")
    [[ " ${seen[*]-} " == *" $real "* ]] && continue
    seen+=("$real")
    v=$("$p" -c 'import boto3; print(boto3.__version__)' 2>/dev/null </dev/null) || continue
    n=$((n + 1))
    run_boto3 "$p" "boto3-$v" 127.0.0.1 "boto3-$n-ip"
    run_boto3 "$p" "boto3-$v" localhost "boto3-$n-lh"
    run_boto3_transfer "$p" "boto3-$v" 127.0.0.1 "boto3-$n-threads"
  done
  ((n > 0)) || fail "boto3 installed" "no python3 with boto3 (Debian: apt-get install python3-boto3)"
}

# ---------------------------------------------------------------- JWT tokens (auth.enabled)

# start_side_node NAME [AISNODE ARGS...]: a one-node cluster of a section's own under $W/NAME (free
# port, log $W/NAME.log). Sets SIDE_PID, and SIDE_PORT once the node says it listens (it prints that
# when it is ready); counts a failure and returns 1 if it does not come up.
start_side_node() {
  local name=$1 d="$W/$1"
  shift
  mkdir -p "$d"
  node "$AISNODE" --host 127.0.0.1 --port 0 --confdir "$d/conf" --mountpath "$d/mp1" "$@" >"$W/$name.log" 2>&1 &
  SIDE_PID=$!
  SIDE_PORT=
  for _ in $(seq 200); do
    kill -0 "$SIDE_PID" 2>/dev/null || break
    SIDE_PORT=$(grep -oE 'listening on https?://127\.0\.0\.1:[0-9]+' "$W/$name.log" | grep -oE '[0-9]+$') && break
    sleep 0.1
  done
  [[ -n $SIDE_PORT ]] && return 0
  fail "$name node starts" "$(tail -n 5 "$W/$name.log" | tr '\n' ' ')"
  return 1
}

stop_side_node() {
  kill "$SIDE_PID" 2>/dev/null || true
  wait "$SIDE_PID" 2>/dev/null || true
}

# A second node with auth on: the S3 clients pass the token as their session token (aws CLI:
# AWS_SESSION_TOKEN, boto3: aws_session_token, s3cmd: access_token) and sign it with the request,
# unmodified; without it they get AccessDenied, with a reader's token a PUT is refused.
section_authn() {
  local secret=clients-authn-secret a="$W/authn" port ep admin reader
  mkdir -p "$a"
  echo '{"auth":{"enabled":true,"secret":"'"$secret"'"}}' >"$a/config.json"
  start_side_node authn --config "$a/config.json" || return
  port=$SIDE_PORT
  ep="http://127.0.0.1:$port/s3"
  admin=$(node "$ROOT/dist/src/cmd/ais.js" auth token ci-admin --admin --secret "$secret")
  reader=$(node "$ROOT/dist/src/cmd/ais.js" auth token ci-reader --bucket authb:ro --secret "$secret")
  if command -v aws >/dev/null; then
    check "authn aws: no token is AccessDenied" 'has "$ERR" AccessDenied' bash -c '! aws --endpoint-url "$1" s3 mb s3://authb' _ "$ep"
    check "authn aws: mb with the token" '' env AWS_SESSION_TOKEN="$admin" aws --endpoint-url "$ep" s3 mb s3://authb
    check "authn aws: cp up" '' env AWS_SESSION_TOKEN="$admin" aws --endpoint-url "$ep" s3 cp "$W/data/big7.bin" s3://authb/big7.bin
    check "authn aws: cp up, multipart" '' env AWS_SESSION_TOKEN="$admin" aws --endpoint-url "$ep" s3 cp "$W/data/large.bin" s3://authb/large.bin
    check "authn aws: cp down (reader)" 'same "$W/authn/large.bin" "$W/data/large.bin"' env AWS_SESSION_TOKEN="$reader" aws --endpoint-url "$ep" s3 cp s3://authb/large.bin "$W/authn/large.bin"
    check "authn aws: reader's cp up is AccessDenied" 'has "$ERR" AccessDenied' bash -c '! AWS_SESSION_TOKEN="$2" aws --endpoint-url "$1" s3 cp "$3" s3://authb/by-reader' _ "$ep" "$reader" "$W/data/big7.bin"
  else
    fail "authn aws installed" "no aws CLI"
  fi
  if command -v s3cmd >/dev/null; then
    printf '[default]\nhost_base = 127.0.0.1:%s/s3\nhost_bucket = 127.0.0.1:%s/s3/%%(bucket)\naccess_key = K\nsecret_key = S\naccess_token = %s\nuse_https = False\n' "$port" "$port" "$reader" >"$a/s3cfg"
    check "authn s3cmd: get with access_token (reader)" 'same "$W/authn/s3cmd-big7" "$W/data/big7.bin"' env HOME="$a" s3cmd -c "$a/s3cfg" get s3://authb/big7.bin "$W/authn/s3cmd-big7"
    check "authn s3cmd: put with a reader's token is refused" 'has "$ERR" "AccessDenied|403"' bash -c '! HOME="$1" s3cmd -c "$1/s3cfg" put "$2" s3://authb/by-reader-s3cmd' _ "$a" "$W/data/big7.bin"
  fi
  local py
  py=$(command -v python3 || true)
  if [[ -n $py ]] && "$py" -c 'import boto3' 2>/dev/null; then
    check "authn boto3: put/get with aws_session_token, AccessDenied without" 'has "$OUT" "^boto3 authn ok$"' "$py" "$HERE/boto3_authn.py" "$ep" "$admin"
  fi
  stop_side_node
}

# A remote s3:// bucket: a second node with S3 keys plays the remote (the cluster's nodes reach it with
# the keys in their environment, FAKEKEY), attached with `ais bucket create s3://B --props
# extra.aws.endpoint=...`. The aws CLI, unmodified, reads it cold through the cluster and copies and
# moves within it (CopyObject below its 8 MiB multipart threshold, UploadPartCopy above); every
# result is checked on the remote itself.
section_remote() {
  local r="$W/remote" ep rep
  mkdir -p "$r"
  echo '{"auth":{"s3":{"keys":{"FAKEKEY":"FAKESECRET"},"max_skew_s":900}}}' >"$r/config.json"
  start_side_node remote --config "$r/config.json" || return
  if ! command -v aws >/dev/null; then
    fail "remote aws installed" "no aws CLI"
    stop_side_node
    return
  fi
  rep="http://127.0.0.1:$SIDE_PORT/s3"
  ep="http://127.0.0.1:$PORT/s3"
  check "remote: a bucket and objects on the remote" '' bash -c 'aws --endpoint-url "$1" s3 mb s3://rmt && aws --endpoint-url "$1" s3 cp "$2/big7.bin" s3://rmt/src/big7.bin && aws --endpoint-url "$1" s3 cp "$2/large.bin" s3://rmt/src/large.bin' _ "$rep" "$D"
  check "remote: ais bucket create s3://rmt (attach)" 'has "$OUT" "bucket added"' env AIS_ENDPOINT="http://127.0.0.1:$PORT" node "$ROOT/dist/src/cmd/ais.js" bucket create s3://rmt --props "extra.aws.endpoint=$rep"
  check "remote aws: s3 ls through the cluster" 'has "$OUT" " 7340032 big7\.bin\$"; has "$OUT" " 41955385 large\.bin\$"' aws --endpoint-url "$ep" s3 ls s3://rmt/src/
  check "remote aws: cp down (cold GET)" 'same "$W/remote/dl-big7.bin" "$D/big7.bin"' aws --endpoint-url "$ep" s3 cp s3://rmt/src/big7.bin "$r/dl-big7.bin"
  check "remote aws: s3 cp between keys, 7 MiB (CopyObject, written through)" '' aws --endpoint-url "$ep" s3 cp s3://rmt/src/big7.bin s3://rmt/copy/big7.bin
  check "remote aws: s3 cp between keys, 40 MiB (UploadPartCopy from an uncached source)" '' aws --endpoint-url "$ep" s3 cp s3://rmt/src/large.bin s3://rmt/copy/large.bin
  check "remote aws: s3 mv (copy, then delete)" '' aws --endpoint-url "$ep" s3 mv s3://rmt/copy/big7.bin s3://rmt/moved/big7.bin
  check "remote: the remote has the copies and the move" 'has "$OUT" " 7340032 moved/big7\.bin\$"; has "$OUT" " 41955385 copy/large\.bin\$"; hasnt "$OUT" "copy/big7\.bin"' \
    aws --endpoint-url "$rep" s3 ls --recursive s3://rmt
  check "remote: moved bytes on the remote" 'same "$W/remote/moved.bin" "$D/big7.bin"' aws --endpoint-url "$rep" s3 cp s3://rmt/moved/big7.bin "$r/moved.bin"
  check "remote: copied 40 MiB on the remote" 'same "$W/remote/copied.bin" "$D/large.bin"' aws --endpoint-url "$rep" s3 cp s3://rmt/copy/large.bin "$r/copied.bin"
  stop_side_node
}

# A node serving HTTPS (aisnode --tls-cert/--tls-key, a certificate made with openssl): the clients
# trust it with their own options (aws --ca-bundle, s3cmd --ca-certs, boto3 verify=).
section_tls() {
  local a="$W/tls" port ep
  mkdir -p "$a"
  if ! openssl req -x509 -newkey rsa:2048 -nodes -keyout "$a/key.pem" -out "$a/cert.pem" -days 2 -subj /CN=tais-clients \
    -addext 'subjectAltName=IP:127.0.0.1,DNS:localhost' >"$W/tls-openssl.log" 2>&1; then
    fail "tls certificate (openssl)" "$(tail -n 3 "$W/tls-openssl.log" | tr '\n' ' ')"
    return
  fi
  start_side_node tls --tls-cert "$a/cert.pem" --tls-key "$a/key.pem" || return
  port=$SIDE_PORT
  ep="https://127.0.0.1:$port/s3"
  if command -v aws >/dev/null; then
    check "tls aws: untrusted certificate refused" 'has "$ERR" "SSL|certificate"' bash -c '! aws --endpoint-url "$1" s3 ls' _ "$ep"
    check "tls aws: mb" '' aws --ca-bundle "$a/cert.pem" --endpoint-url "$ep" s3 mb s3://tlsb
    check "tls aws: cp up, multipart" '' aws --ca-bundle "$a/cert.pem" --endpoint-url "$ep" s3 cp "$W/data/large.bin" s3://tlsb/large.bin
    check "tls aws: cp down" 'same "$a/large.bin" "$W/data/large.bin"' aws --ca-bundle "$a/cert.pem" --endpoint-url "$ep" s3 cp s3://tlsb/large.bin "$a/large.bin"
    check "tls aws: ls" 'has "$OUT" large.bin' aws --ca-bundle "$a/cert.pem" --endpoint-url "$ep" s3 ls s3://tlsb
  else
    fail "tls aws installed" "no aws CLI"
  fi
  if command -v s3cmd >/dev/null; then
    printf '[default]\nhost_base = 127.0.0.1:%s/s3\nhost_bucket = 127.0.0.1:%s/s3/%%(bucket)\naccess_key = K\nsecret_key = S\nuse_https = True\nca_certs_file = %s\ncheck_ssl_certificate = True\n' "$port" "$port" "$a/cert.pem" >"$a/s3cfg"
    check "tls s3cmd: put" '' env HOME="$a" s3cmd -c "$a/s3cfg" put "$W/data/big7.bin" s3://tlsb/big7.bin
    check "tls s3cmd: get" 'same "$a/s3cmd-big7" "$W/data/big7.bin"' env HOME="$a" s3cmd -c "$a/s3cfg" get s3://tlsb/big7.bin "$a/s3cmd-big7"
  fi
  local py
  py=$(command -v python3 || true)
  if [[ -n $py ]] && "$py" -c 'import boto3' 2>/dev/null; then
    check "tls boto3: put/get with verify=CA, refused without it" 'has "$OUT" "^boto3 tls ok$"' "$py" "$HERE/boto3_tls.py" "$ep" "$a/cert.pem"
  fi
  stop_side_node
}

# ETL with a transformer in Python (test/clients/etl_transformer.py, python3-websockets from Debian)
# that every target of the cluster starts: inline through `ais etl object`, bucket to bucket with
# `ais etl bucket`, and the result read back with the aws CLI.
section_etl() {
  local py=/usr/bin/python3 e="$W/etl" ais="$ROOT/dist/src/cmd/ais.js" i
  if ! "$py" -c 'import websockets' 2>/dev/null; then
    fail "etl python3-websockets installed" "no websockets module for $py (Debian: apt-get install python3-websockets)"
    return
  fi
  mkdir -p "$e/in"
  printf 'hello from python\n' >"$e/in/hello.txt"
  for i in $(seq 20); do printf 'line %s of many\n' "$i" >"$e/in/f$i.txt"; done
  export AIS_ENDPOINT="http://127.0.0.1:$PORT"
  check "etl: source bucket" '' node "$ais" bucket create ais://etlsrc
  check "etl: put a tree" '' node "$ais" put "$e/in" ais://etlsrc/ -r
  check "etl: init a Python transformer on every target" '' node "$ais" etl init --name py-upper -- "$py" "$HERE/etl_transformer.py"
  check "etl: running on every target" 'has "$OUT" "^py-upper +Running"' node "$ais" etl show
  check "etl: inline GET" 'has "$OUT" "^HELLO FROM PYTHON$"' node "$ais" etl object py-upper ais://etlsrc/hello.txt -
  check "etl: inline GET with etl_args" 'has "$OUT" "^v1:HELLO FROM PYTHON$"' node "$ais" etl object py-upper ais://etlsrc/hello.txt - --args v1
  check "etl: bucket to bucket" 'has "$OUT" "Total: 21 objects"' node "$ais" etl bucket py-upper ais://etlsrc ais://etldst --wait
  if command -v aws >/dev/null; then
    check "etl: the result through S3 (aws)" 'has "$OUT" "^LINE 7 OF MANY$"' aws --endpoint-url "http://127.0.0.1:$PORT/s3" s3 cp s3://etldst/f7.txt -
  fi
  check "etl: rm" '' node "$ais" etl rm py-upper
  # argument "fqn": the Python transformer reads the object's file itself.
  check "etl: init with --arg-type fqn" '' node "$ais" etl init --name py-upper-fqn --arg-type fqn -- "$py" "$HERE/etl_transformer.py"
  check "etl: inline GET, the transformer reading the file" 'has "$OUT" "^v2:HELLO FROM PYTHON$"' node "$ais" etl object py-upper-fqn ais://etlsrc/hello.txt - --args v2
  check "etl: rm (fqn)" '' node "$ais" etl rm py-upper-fqn
  unset AIS_ENDPOINT
}

# ---------------------------------------------------------------- what ML engineers read data with

# test/clients/ml_readers.py: smart_open and a PyTorch DataLoader over boto3 with Debian's python3
# (python3-smart-open, python3-torch), and pyarrow's and polars' S3 file systems with the first python
# that has them ($ML_PYTHON, then python3 in PATH): they are not in Debian, so CI does not have them
# and they are only reported missing, not counted.
run_ml() { # run_ml PYTHON LABEL BUCKET LIBS
  echo "== $2: $1 test/clients/ml_readers.py $4, endpoint http://127.0.0.1:$PORT/s3, bucket $3"
  runc "$1" "$HERE/ml_readers.py" "$2" "http://127.0.0.1:$PORT/s3" "$3" "$4"
  local n_ok n_fail
  n_ok=$(grep -c '^ok: ' "$OUT" || true)
  n_fail=$(grep -c '^FAIL: ' "$OUT" || true)
  grep -E '^(ok|FAIL): |^# ' "$OUT" || true
  PASS=$((PASS + n_ok))
  FAIL=$((FAIL + n_fail))
  if ((RC != 0)) || ((n_ok + n_fail == 0)); then fail "$2 script" "ml_readers.py exited $RC after $n_ok ok, $n_fail failed" show; fi
}

section_ml() {
  run_ml /usr/bin/python3 ml-debian ml-debian smart_open,torch
  local p found=
  for p in ${ML_PYTHON:-} "$(command -v python3 2>/dev/null || true)"; do
    [[ -n $p && -x $p ]] || continue
    if "$p" -c 'import boto3, pyarrow, polars' 2>/dev/null </dev/null; then found=$p; break; fi
  done
  if [[ -n $found ]]; then
    run_ml "$found" ml-arrow ml-arrow pyarrow,polars
  else
    echo "# ml: no python with boto3, pyarrow and polars (not in Debian; ML_PYTHON=PATH names one): not checked"
  fi
}

# ---------------------------------------------------------------- main

# The playground's targets start ETL transformer commands (section etl); off by default in aisnode.
export AIS_ETL_COMMANDS=true
export AWS_ACCESS_KEY_ID=FAKEKEY AWS_SECRET_ACCESS_KEY=FAKESECRET
export AWS_DEFAULT_REGION=us-east-1 AWS_REGION=us-east-1
export AWS_CONFIG_FILE="$W/aws-config" AWS_SHARED_CREDENTIALS_FILE="$W/aws-credentials"
export AWS_PAGER='' AWS_DEFAULT_OUTPUT=json AWS_EC2_METADATA_DISABLED=true
# Plain HTTP: no CA bundle. (This image exports AWS_CA_BUNDLE, which rclone's S3 SDK cannot load
# into its own transport: "LoadCustomCABundleError ... unsupported transport", every command fails.)
unset AWS_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_S3 AWS_USE_FIPS_ENDPOINT AWS_CA_BUNDLE 2>/dev/null || true
: >"$AWS_CONFIG_FILE"
: >"$AWS_SHARED_CREDENTIALS_FILE"

start_node
make_data
T0=$SECONDS
for c in ${CLIENTS//,/ }; do
  t=$SECONDS
  case $c in
    aws) section_aws ;;
    s3cmd) section_s3cmd ;;
    rclone) section_rclone ;;
    boto3) section_boto3 ;;
    authn) section_authn ;;
    tls) section_tls ;;
    etl) section_etl ;;
    remote) section_remote ;;
    ml) section_ml ;;
    *) fail "client $c" "unknown client (aws, s3cmd, rclone, boto3, ml, authn, tls, etl, remote)" ;;
  esac
  echo "# $c: $((SECONDS - t)) s"
done

if ! kill -0 "$NODE_PID" 2>/dev/null; then
  fail "$TOPOLOGY alive after the clients" "the tais $TOPOLOGY exited; its log ends with: $(tail -n 5 "$W/node.log" | tr '\n' ' ')"
fi
if grep -Eq '^[^ ]+ [EW] ' "$W/node.log"; then
  echo "# node log errors and warnings:"
  grep -E '^[^ ]+ [EW] ' "$W/node.log" | head -n 20 | sed 's/^/#   /'
fi
echo "# clients took $((SECONDS - T0)) s"
echo "clients: $PASS passed, $FAIL failed"
((FAIL == 0))

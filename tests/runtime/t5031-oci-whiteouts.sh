#!/bin/sh
# tests/runtime/t5031-oci-whiteouts.sh: oci() on a layout made by hand: gzip, zstd and plain
# layers; ".wh.NAME" and ".wh..wh..opq" remove only what earlier layers made (an entry of
# the same layer stays, even when listed before the whiteout); a nested index picks this
# machine's platform; directories a layer changes without listing keep their mtime.
# Malformed layouts are refused before anything is written: a digest that is a path
# ("sha256:../.."), a blob larger than its descriptor, a config whose digest does not
# match, a config whose diff_ids do not match the layers.
. "$(dirname "$0")/../lib/test-lib.sh"
. "$TOP/tests/runtime/lib-base.sh"
need python3

cat >gen.py <<'EOF'
import gzip, hashlib, io, json, os, platform, shutil, subprocess, sys, tarfile

out, variant = sys.argv[1], sys.argv[2]
os.makedirs(out + "/blobs/sha256")

def blob(data):
    d = hashlib.sha256(data).hexdigest()
    with open(f"{out}/blobs/sha256/{d}", "wb") as f:
        f.write(data)
    return "sha256:" + d

def tar(entries):
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.PAX_FORMAT) as t:
        for name in entries:
            ti = tarfile.TarInfo(name.rstrip("/"))
            ti.mtime = 1700000000
            data = None
            if name.endswith("/"):
                ti.type, ti.mode = tarfile.DIRTYPE, 0o755
            elif "->" in name:
                ti.name, target = name.split("->")
                ti.type, ti.linkname = tarfile.SYMTYPE, target
            else:
                data = name.encode() + b"\n"
                ti.size, ti.mode = len(data), 0o644
            t.addfile(ti, io.BytesIO(data) if data else None)
    return buf.getvalue()

MT = "application/vnd.oci.image.layer.v1.tar"
l1 = tar(["d/", "d/a", "d/b", "d/sub/", "d/sub/c", "e/", "e/x", "e/y", "f", "g/", "g/keep",
          "h", "link->d"])
l2 = tar(["d/", "d/new", "d/.wh..wh..opq", ".wh.f", "e/.wh.x", "n", ".wh.n", ".wh.missing",
          ".wh..wh.plnk"])
l3 = tar(["g/.wh..wh..opq", ".wh.h", ".wh.link"])
layers = [(gzip.compress(l1, mtime=0), MT + "+gzip", l1)]
if shutil.which("zstd"):
    z = subprocess.run(["zstd", "-q", "-c"], input=l2, stdout=subprocess.PIPE, check=True).stdout
    layers.append((z, MT + "+zstd", l2))
else:
    layers.append((gzip.compress(l2, mtime=0), MT + "+gzip", l2))
layers.append((l3, MT, l3))

arch = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
diff_ids = ["sha256:" + hashlib.sha256(raw).hexdigest() for _, _, raw in layers]
if variant == "diffids":
    diff_ids = diff_ids[:1]
config = json.dumps({"architecture": arch, "os": "linux",
                     "rootfs": {"type": "layers", "diff_ids": diff_ids}}).encode()
cfg = {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": blob(config),
       "size": len(config)}
if variant == "config":
    with open(f"{out}/blobs/sha256/{cfg['digest'][7:]}", "wb") as f:
        f.write(config.replace(b"linux", b"LINUX"))
descs = []
for data, mt, _ in layers:
    descs.append({"mediaType": mt, "digest": blob(data), "size": len(data)})
if variant == "size":
    descs[1]["size"] -= 1
manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                       "config": cfg, "layers": descs}).encode()
mdesc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(manifest),
         "size": len(manifest), "platform": {"os": "linux", "architecture": arch}}
# Another platform's image, whose layer is missing: choosing it would fail.
other = json.dumps({"schemaVersion": 2, "config": cfg, "layers": [
    {"mediaType": MT, "digest": "sha256:" + "0" * 64, "size": 1}]}).encode()
odesc = {"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": blob(other),
         "size": len(other), "platform": {"os": "linux", "architecture": "mips64le"}}
nested = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.index.v1+json",
                     "manifests": [odesc, mdesc]}).encode()
top = {"mediaType": "application/vnd.oci.image.index.v1+json", "digest": blob(nested),
       "size": len(nested), "annotations": {"org.opencontainers.image.ref.name": "hand:1"}}
if variant == "traversal":
    top["digest"] = "sha256:../../../../../../../../etc/passwd"
with open(out + "/index.json", "w") as f:
    json.dump({"schemaVersion": 2, "manifests": [top]}, f)
with open(out + "/oci-layout", "w") as f:
    json.dump({"imageLayoutVersion": "1.0.0"}, f)
EOF

python3 gen.py "$TMP/good" good
D=$TMP/dest
create "{\"base\": \"oci\", \"args\": {\"path\": \"$TMP/good\", \"tag\": \"hand:1\"}}" "$D"
expect_rc 0
(cd "$D" && find . | sort) >got
cat >want <<'EOF'
.
./d
./d/new
./e
./e/y
./g
./n
EOF
diff -u want got >diff || fail "the layers did not apply as the image spec says:
$(cat diff)"
[ "$(cat "$D/d/new")" = d/new ] || fail "d/new has the wrong content"
# Directories a layer changes without listing them keep their time (the tree depends on
# the layers, not on when they were applied): e (a whiteout in it), g (made opaque).
[ "$(stat -c %Y "$D/e")" = 1700000000 ] && [ "$(stat -c %Y "$D/g")" = 1700000000 ] ||
	fail "the mtimes of e and g changed: $(stat -c %Y "$D/e") $(stat -c %Y "$D/g")"
expect_match err "layer 1/3: 13 entries, 0 whiteouts"
expect_match err "layer 2/3: 3 entries, 5 whiteouts"
expect_match err "layer 3/3: 0 entries, 3 whiteouts"

# Malformed layouts: refused before anything is written.
bad()
{
	python3 gen.py "$TMP/$1" "$1"
	create "{\"base\": \"oci\", \"args\": {\"path\": \"$TMP/$1\", \"tag\": \"hand:1\"}}" "$D"
	expect_refused "$2"
	[ -z "$(ls -A "$D")" ] || fail "$1: the refused image left files"
	expect_no_match err "^progress: oci: layer"
}
bad traversal "the manifest has an unsupported or malformed digest 'sha256:\\.\\./\\.\\./"
bad size "the layer 2 \\(sha256:[0-9a-f]{12}\\.\\.\\.\\) is larger than its descriptor says: refused, nothing written"
bad config "the config \\(sha256:[0-9a-f]{12}\\.\\.\\.\\) does not match its digest"
bad diffids "the config lists 1 layers, the manifest 3"

#!/bin/sh
# kiln graph prints the build as a Graphviz digraph: each image from its base or its parent,
# its stages in a cluster in order, its outputs after the last stage (after the image when
# it has no stage), host groups with their children, and each apply block to its group.
. "$(dirname "$0")/../lib/test-lib.sh"

cat >g.img <<'IMG'
hosts web { "a.example.com" }
hosts all { web }
image base from busybox() {
  stage tools { file "/etc/motd" { content = "hi\n" } }
  stage more { file "/etc/a" { content = "a\n" } }
}
image app from base {
  stage s { file "/etc/b" { content = "b\n" } }
  output oci "out/app" { tag = "app:1" }
  output tar "out/app.tar" {}
}
image bare from scratch() {
  output tar "out/bare.tar" {}
}
apply all { file "/etc/c" { content = "c\n" } }
IMG

cat >expected <<'DOT'
digraph kiln {
	rankdir=LR;
	node [shape=box, fontname="sans-serif"];
	"base busybox" [shape=ellipse];
	"base busybox" -> "image base";
	subgraph "cluster_base" {
		label="base";
		"image base" [style=bold];
		"base/tools" [label="stage tools\n1 task", shape=box, style=rounded];
		"image base" -> "base/tools";
		"base/more" [label="stage more\n1 task", shape=box, style=rounded];
		"base/tools" -> "base/more";
	}
	"image base" -> "image app";
	subgraph "cluster_app" {
		label="app";
		"image app" [style=bold];
		"app/s" [label="stage s\n1 task", shape=box, style=rounded];
		"image app" -> "app/s";
		"app output 0" [shape=note, label="oci out/app"];
		"app/s" -> "app output 0";
		"app output 1" [shape=note, label="tar out/app.tar"];
		"app/s" -> "app output 1";
	}
	"base scratch" [shape=ellipse];
	"base scratch" -> "image bare";
	subgraph "cluster_bare" {
		label="bare";
		"image bare" [style=bold];
		"bare output 0" [shape=note, label="tar out/bare.tar"];
		"image bare" -> "bare output 0";
	}
	"hosts web" [shape=folder];
	"hosts all" [shape=folder];
	"hosts all" -> "hosts web" [style=dashed];
	"apply 0" [shape=cds, label="apply (1 task)"];
	"apply 0" -> "hosts all";
}
DOT

run_kiln graph g.img
expect_rc 0
diff -u expected "$TMP/out" >diff.txt || fail "kiln graph g.img printed another graph: $(cat diff.txt)"

# the same lines from the compiled plan (which lists the host groups by name)
run_kiln compile -o plan.json g.img
expect_rc 0
run_kiln graph plan.json
expect_rc 0
sort expected >expected.sorted
sort "$TMP/out" >out.sorted
diff -u expected.sorted out.sorted >diff.txt ||
	fail "kiln graph plan.json printed other lines: $(cat diff.txt)"

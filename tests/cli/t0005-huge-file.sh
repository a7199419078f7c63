#!/bin/sh
# A valid 100 MB file lints within a generous bound, exit 0, no output.
# ctest-timeout: 1500
. "$(dirname "$0")/../lib/test-lib.sh"

size_mb=${KILN_HUGE_MB:-100}
# Params, lets, a role, and images whose stages hold tasks with loops, heredocs, maps.
awk -v target=$((size_mb * 1024 * 1024)) 'BEGIN {
	bytes = 0
	s = "param http_port: int = 8080\nrole common(packages: list<string> = [\"htop\"]) {\n" \
	    "  apt \"install\" {\n    for p in packages\n    name = p\n    state = present\n  }\n}\n"
	printf "%s", s; bytes += length(s)
	for (i = 0; bytes < target; i++) {
		s = sprintf("# image %d, with a comment of some length to look like a real file\n" \
		    "let root_%d = \"/srv/app-%d\"\n" \
		    "let ports_%d: list<int> = [80, 443, %d, 0x1F, 0644]\n" \
		    "image img_%d from debian(\"bookworm\", variant = \"minbase\") {\n" \
		    "  description = \"image number %d on ${root_%d}\"\n" \
		    "  stage s {\n" \
		    "    use common(packages = [\"vim\", \"curl\"])\n" \
		    "    file \"/etc/app-%d.conf\" {\n" \
		    "      content = <<-EOT\n        port = ${http_port + %d}\n        name = app-%d\n        EOT\n" \
		    "      mode = 0644\n" \
		    "      notify = [restart]\n" \
		    "    }\n" \
		    "    user \"users\" {\n" \
		    "      for u in [{ name = \"u%d\", groups = [\"wheel\"] }]\n" \
		    "      when facts.os.family == \"debian\" && %d %% 2 == 0 || !false\n" \
		    "      name = u.name, groups = u.groups\n" \
		    "    }\n" \
		    "  }\n" \
		    "  handler restart { service { name = \"app\", state = restarted } }\n" \
		    "  config { env = { APP = \"x\", \"k-%d\": \"1\" }, expose = [ports_%d[0]] }\n" \
		    "}\n", i, i, i, i, i, i, i, i, i, i, i, i, i, i, i)
		printf "%s", s
		bytes += length(s)
	}
}' >huge.img
actual=$(wc -c <huge.img)
[ "$actual" -ge $((size_mb * 1024 * 1024)) ] || fail "generated only $actual bytes"

KILN_TEST_TIMEOUT=${KILN_HUGE_TIMEOUT:-1200}
start=$(date +%s)
run_kiln lint huge.img
end=$(date +%s)
say "linted $actual bytes in $((end - start)) s"
expect_rc 0
expect_empty err
expect_empty out

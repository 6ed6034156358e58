#!/usr/bin/env bash
#
# cache-tests.sh: run the public HTTP cache test suite "cache-tests"
# (npm http-cache-tests, https://github.com/http-tests/cache-tests) through
# Portico and summarise the results.  Not part of `make check`.
#
#   t/bench/cache-tests.sh [-b PORTICO_BINARY] [-o RESULTS.json] [-k] [-n] [-i TEST_ID]
#
#   -b  the portico binary (default ./portico, built by `make` at the top)
#   -o  where to save the suite's raw JSON results (default DIR/results.json)
#   -k  keep the temporary directory DIR (config, logs, cache file, results)
#   -n  no Portico: run the suite straight against its origin (a no-cache
#       baseline, to tell "Portico broke it" from "nothing cached it")
#   -i  run one test only, with the suite's dump of every request and
#       response on both sides (for debugging a failure); no summary
#
# The suite is installed once with npm under $CACHE_TESTS_DIR (default
# ${XDG_CACHE_HOME:-$HOME/.cache}/portico-cache-tests).  Its origin server
# and Portico listen on free ports of 127.0.0.1 only; both are stopped by
# PID on exit.  Every wait is bounded.  Exit status: 0 when the suite ran to
# the end (whatever its results), 1 when it could not be run.

set -u

bin=./portico out='' keep='' direct='' only=''
pkgroot=${CACHE_TESTS_DIR:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/portico-cache-tests}
pkg=$pkgroot/node_modules/http-cache-tests
dir='' origin_pid='' portico_pid='' child=''
suite_timeout=900	# seconds for the whole suite (it takes about 20)

die() { echo "cache-tests: $*" >&2; exit 1; }
usage() { sed -n 's/^#   \(t\/bench.*\)/usage: \1/p' "$0" >&2; exit 1; }

# stop PID (TERM, then KILL after 5 s) and reap it
stop() {
	local pid=$1 i
	[ -n "$pid" ] && kill -TERM "$pid" 2>/dev/null || return 0
	for ((i = 0; i < 50; i++)); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	((i < 50)) || kill -KILL "$pid" 2>/dev/null
	wait "$pid" 2>/dev/null
}

# run a command in the background and wait for it: bash would hold a
# signal's trap until a foreground command ends; cleanup() stops it
run() {
	"$@" &
	child=$!
	wait "$child"
	set -- $?	# its exit status
	child=
	return "$1"
}

cleanup() {
	stop "$child"
	stop "$portico_pid"
	stop "$origin_pid"
	[ -z "$dir" ] && return
	if [ -n "$keep" ]; then echo "cache-tests: kept $dir" >&2; else rm -rf "$dir"; fi
}

# install the suite with npm unless it is already there
install_suite() {
	[ -f "$pkg/cli.mjs" ] && return
	echo "cache-tests: installing http-cache-tests into $pkgroot" >&2
	mkdir -p "$pkgroot" || die "cannot create $pkgroot"
	run timeout 300 npm install --prefix "$pkgroot" --no-audit --no-fund \
	    http-cache-tests </dev/null >&2 && [ -f "$pkg/cli.mjs" ] ||
	    die "npm install http-cache-tests failed"
}

# wait at most 10 s for 127.0.0.1:PORT to accept while PID lives
wait_port() {
	local port=$1 pid=$2 i
	for ((i = 0; i < 100; i++)); do
		kill -0 "$pid" 2>/dev/null || return 1
		(exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	return 1
}

# start the suite's origin server (server/server.mjs, what `npm run server`
# runs) on a free port; its server.listen(port) binds every address, so a
# preloaded shim makes it bind 127.0.0.1.  Sets origin_port.
start_origin() {
	local i
	cat >"$dir/loopback.cjs" <<-'EOF'
	const net = require('net'), listen = net.Server.prototype.listen
	net.Server.prototype.listen = function (port, ...rest) {
		if (rest.length === 0 && /^\d+$/.test(String(port)))
			return listen.call(this, Number(port), '127.0.0.1')
		return listen.call(this, port, ...rest)
	}
	EOF
	(cd "$pkg" && exec env npm_config_protocol=http npm_config_port=0 \
	    npm_config_pidfile="$dir/origin.pid" \
	    node --require "$dir/loopback.cjs" server/server.mjs) \
	    </dev/null >"$dir/origin.log" 2>&1 &
	origin_pid=$!
	for ((i = 0; i < 100; i++)); do
		origin_port=$(sed -n 's|^Listening on http://127\.0\.0\.1:\([0-9]*\)/$|\1|p' "$dir/origin.log")
		[ -n "$origin_port" ] && return
		kill -0 "$origin_pid" 2>/dev/null || break
		sleep 0.1
	done
	cat "$dir/origin.log" >&2
	die "the suite's origin server did not start"
}

# a free TCP port on 127.0.0.1 (the kernel's pick, released at once)
free_port() {
	node -e 'const s = require("net").createServer().listen(0, "127.0.0.1",
	    () => { console.log(s.address().port); s.close() })'
}

# write DIR/portico.conf and start portico -F on a free port; sets proxy_port
start_portico() {
	proxy_port=$(free_port) || die "no free port"
	cat >"$dir/portico.conf" <<-EOF
	workers = 2;
	pid_file = "$dir/portico.pid";
	error_log = "$dir/error.log";
	access_log = { path = "$dir/access.log"; };
	cache = { path = "$dir/cache.db"; size = "64M"; };
	listeners = ( { address = "127.0.0.1:$proxy_port"; } );
	upstreams = ( { name = "origin"; servers = ( { address = "127.0.0.1:$origin_port"; } ); } );
	sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "origin"; cache = true; } ); } );
	EOF
	"$bin" -t -c "$dir/portico.conf" </dev/null >"$dir/portico.out" 2>&1 ||
	    { cat "$dir/portico.out" >&2; die "portico refused $dir/portico.conf"; }
	"$bin" -F -c "$dir/portico.conf" </dev/null >"$dir/portico.out" 2>&1 &
	portico_pid=$!
	wait_port "$proxy_port" "$portico_pid" && return
	cat "$dir/portico.out" "$dir/error.log" >&2 2>/dev/null
	die "portico did not listen on 127.0.0.1:$proxy_port"
}

# run the suite's CLI (cli.mjs, what `npm run cli --base=URL` runs) against
# BASE; it runs the tests 100 at a time and prints JSON at the very end.
# It reads npm's environment: an id of '' (not unset) means every test.
# Only through run(), whose background subshell this exec replaces.
suite() {
	cd "$pkg" && exec env npm_config_base="$1" npm_config_id="$only" \
	    npm_package_config_id="$only" \
	    timeout "$suite_timeout" node --no-warnings cli.mjs </dev/null
}

# print counts, a per-kind breakdown and every failure from RESULTS.json,
# classifying each result with the suite's own determineTestResult()
summarize() {
	(cd "$pkg" && node --input-type=module - "$1") <<-'EOF'
	import fs from 'fs'
	import * as display from './lib/display.mjs'
	import tests from './tests/index.mjs'
	import surrogate from './tests/surrogate-control.mjs'
	tests.push(surrogate) // as cli.mjs does
	const results = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
	const names = { '✅': 'pass', Y: 'check yes', N: 'check no', '⛔️': 'FAILED (required)',
		'⚠️': 'not optimal', '🔹': 'setup fail', '↻': 'retry', '⁉️': 'harness fail',
		'⚪️': 'dependency fail', '-': 'untested' }
	const byClass = {}, kinds = { required: [0, 0], optimal: [0, 0], check: [0, 0] }
	const n = { tests: 0, passed: 0, failed: 0, 'setup failures': 0, retries: 0, 'other errors': 0 }
	for (const cls of Object.values(names)) byClass[cls] = []
	for (const suite of tests) for (const test of suite.tests) {
		const r = results[test.id]
		if (r === undefined) continue // browser_only tests are not run by the CLI
		byClass[names[display.determineTestResult(tests, test.id, results)[2]]].push(test)
		const k = kinds[test.kind || 'required'] // no kind means required
		k[1]++; n.tests++
		if (r === true) { k[0]++; n.passed++ } else if (r[0] === 'Assertion') n.failed++
		else if (r[0] === 'Setup') n[r[1] === 'retry' ? 'retries' : 'setup failures']++
		else n['other errors']++
	}
	console.log(Object.entries(n).map(([w, c]) => `${c} ${w}`).join(', '))
	for (const [k, [p, t]] of Object.entries(kinds)) console.log(`  ${k.padEnd(9)} ${p}/${t} passed`)
	console.log('as the suite shows them (a failed dependency hides a result):\n  ' +
		Object.entries(byClass).filter(([c, l]) => l.length).map(([c, l]) => `${c} ${l.length}`).join(', '))
	const line = (r) => r === true ? 'passed' : `${r[0]}: ${String(r[1]).split('\n')[0]}`.slice(0, 200)
	for (const [cls, list] of Object.entries(byClass).slice(3)) { // all but pass, yes, no
		if (list.length) console.log(`\n${cls}:`)
		for (const t of list) {
			const dep = t.depends_on && cls === 'dependency fail' ? ` [on ${t.depends_on.join(' ')}]` : ''
			console.log(`  ${t.id}${dep}: ${line(results[t.id])}`)
		}
	}
	EOF
}

while getopts b:o:kni: opt; do
	case $opt in
	b) bin=$OPTARG ;;
	o) out=$OPTARG ;;
	k) keep=1 ;;
	n) direct=1 ;;
	i) only=$OPTARG ;;
	*) usage ;;
	esac
done
shift $((OPTIND - 1))
[ $# -eq 0 ] || usage
command -v node >/dev/null || die "node not found"
[ -n "$direct" ] || [ -x "$bin" ] || die "no portico binary at $bin (run make)"

trap cleanup EXIT
trap 'exit 130' INT TERM HUP
dir=$(mktemp -d "${TMPDIR:-/tmp}/portico-cache-tests.XXXXXX") || die "mktemp failed"
out=${out:-$dir/results.json}
[ "${out#/}" = "$out" ] && out=$PWD/$out	# summarize() runs elsewhere
install_suite
start_origin
if [ -n "$direct" ]; then
	base=http://127.0.0.1:$origin_port target="the origin directly (no cache)"
else
	start_portico
	base=http://127.0.0.1:$proxy_port target="portico ($bin)"
fi
if [ -n "$only" ]; then	# the client's side, then the origin's
	run suite "$base"
	cat "$dir/origin.log"
	exit 0
fi

echo "cache-tests $(node -p "require('$pkg/package.json').version") against $target at $base" >&2
start=$SECONDS
run suite "$base" >"$out" || die "the suite failed or timed out (${suite_timeout}s); see $out"
echo "suite ran in $((SECONDS - start))s; raw results in $out"
summarize "$out" || die "no JSON results in $out"

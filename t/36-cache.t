#!/usr/bin/perl
# 36-cache.t: the HTTP cache (RFC 9111) seen from a client: Cache-Status
# (RFC 9211), freshness (max-age, s-maxage, Expires, Age, heuristic, the
# route's default_ttl), what is not stored (no-store, private, Set-Cookie,
# Authorization, Vary: *, max_object, statuses), request directives,
# Vary variants, revalidation and the 304 update, conditional, HEAD and
# range requests answered from the store, invalidation by unsafe methods,
# stale-while-revalidate and stale-if-error, PURGE, the cache key, hits
# shared by both workers, and collapsed misses.  The origin is
# t/lib/cache-origin.pl: it answers what the query string asks and logs
# every request, so each check counts what reached it.  Each topic uses
# paths of its own.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(wait_until);
use File::Spec;
use IO::Socket::INET;
use POSIX qw(WNOHANG);

my $t = Test::Portico->new;
my $d = $t->testdir;
my $ORIGIN = File::Spec->rel2abs('t/lib/cache-origin.pl');

# --- the origins -------------------------------------------------------
# Each runs in a process group of its own (it forks one child per
# connection), stopped as a group by its PID: PORT_1 answers the routes,
# PORT_2 the /down/ route, stopped in the middle to play a dead origin.
my %group;
sub start_origin {
	my ($port, $log) = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		setpgrp(0, 0);
		open STDOUT, '>>', "$d/origin-$port.out";
		open STDERR, '>&', \*STDOUT;
		{ no warnings 'exec'; exec $^X, $ORIGIN, $port, $log; }
		POSIX::_exit(127);
	}
	$group{$pid} = 1;
	wait_until(sub { IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Timeout => 1) }, timeout => 10)
	    or die "cache-origin.pl did not listen on $port";
	return $pid;
}
sub stop_origin {
	my ($pid) = @_;
	return unless delete $group{$pid};
	kill 'TERM', -$pid;
	wait_until(sub { waitpid($pid, WNOHANG) != 0 }, timeout => 3)
	    or do { kill 'KILL', -$pid; waitpid($pid, 0) };
}
END { my $st = $?; stop_origin($_) for keys %group; $? = $st; }

my ($log, $down_log) = ("$d/origin.log", "$d/down.log");
start_origin($t->port(1), $log);
my $down_pid = start_origin($t->port(2), $down_log);

my $conf = <<'EOF';
workers = 2;
pid_file = "%%TESTDIR%%/portico.pid";
error_log = "%%TESTDIR%%/error.log";
cache = { path = "%%TESTDIR%%/cache.db"; size = "64M"; lock_timeout = "5s";
    buffers = "64M"; purge_allow = [ "%%ALLOW%%" ]; };
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
admin = { address = "127.0.0.1:%%PORT_3%%"; };
upstreams = ( { name = "o"; servers = ( { address = "127.0.0.1:%%PORT_1%%"; } ); },
    { name = "d"; servers = ( { address = "127.0.0.1:%%PORT_2%%"; } ); } );
sites = ( { hosts = [ "*" ];
  routes = ( { path = "/nocache/"; upstream = "o"; },
    { path = "/ttl/"; upstream = "o"; cache = { default_ttl = "60s"; }; },
    { path = "/keyed/"; upstream = "o";
      cache = { key = [ "host", "path", "header:X-Tenant" ]; }; },
    { path = "/cookie/"; upstream = "o"; cache = { set_cookie = "strip"; }; },
    { path = "/small/"; upstream = "o";
      cache = { max_object = "1K"; statuses = [ 200 ]; }; },
    { path = "/pathkey/"; upstream = "o"; cache = { key = [ "host", "path" ]; }; },
    { path = "/down/"; upstream = "d"; cache = { key = [ "host", "path" ]; }; },
    { path = "/"; upstream = "o"; cache = true; } ); } );
EOF
(my $main_conf = $conf) =~ s/%%ALLOW%%/127.0.0.1/;
$t->port(3);
$t->write_config($main_conf)->run->plan(23);

# --- helpers -----------------------------------------------------------

# url(PATH, KEY => VALUE, ...): PATH with the query cache-origin.pl reads,
# each value URL-encoded; e.g. url('/a', h => 'ETag:"1"', b => 'x').
sub url {
	my ($path, @q) = @_;
	my @p;
	while (my ($k, $v) = splice @q, 0, 2) {
		$v =~ s/([^A-Za-z0-9_.~-])/sprintf '%%%02X', ord $1/ge;
		push @p, "$k=$v";
	}
	return @p ? "$path?" . join('&', @p) : $path;
}

# req(METHOD, TARGET, 'Name: value', ...): one request, the parsed
# response.  The requests go one after the other on one keep-alive
# connection (a new one when portico closed it): a worker stores, and
# invalidates, only after the client has the last byte, so a request on
# another connection may come before that.
my $conn;
sub req {
	my ($method, $target, @h) = @_;
	$conn->read_more(0) if $conn;
	$conn = $t->connect if !$conn || $conn->{eof};
	my $r = $conn->request($method, $target,
	    headers => [ map { [ split /:\s*/, $_, 2 ] } @h ]);
	$conn = undef if !$r || ($r->{headers}{connection} // '') =~ /close/i;
	return $r // { status => 0, headers => {}, body => '' };
}
sub get { req('GET', @_) }

sub cs { $_[0]{headers}{'cache-status'} // '(none)' }
sub hdr { $_[0]{headers}{lc $_[1]} }

# The origin's log: the requests for PATH (the query left out), each
# { method, target, inm, ims, range }; n(PATH): how many.
sub seen {
	my ($path, $file) = @_;
	open my $fh, '<', $file // $log or return ();
	my @r;
	while (<$fh>) {
		next unless /^(\S+) (\Q$path\E(?:\?\S*)?) inm=(.*) ims=(.*) range=(.*) pid=\d+$/;
		push @r, { method => $1, target => $2, inm => $3, ims => $4,
		    range => $5 };
	}
	return @r;
}
sub n { scalar(my @r = seen(@_)) }
# logged(PATH, I): the I-th request for PATH ({} when there is none).
sub logged { (seen($_[0]))[$_[1]] // {} }

# body(PATH, N): what the origin sends as the N-th answer for PATH.
sub body { "body of $_[0] #$_[1]\n" }

# An IMF-fixdate of time T (not strftime: it follows the locale).
sub date {
	my @g = gmtime $_[0];
	return sprintf '%s, %02d %s %d %02d:%02d:%02d GMT',
	    (qw(Sun Mon Tue Wed Thu Fri Sat))[$g[6]], $g[3],
	    (qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec))[$g[4]],
	    $g[5] + 1900, @g[2, 1, 0];
}

my $HIT = qr/^portico; hit; ttl=-?\d+$/;
my $STORED = 'portico; fwd=uri-miss; fwd-status=200; stored';

# hit_ok(RESPONSE, BODY, NAME): a 200 hit with that body.
sub hit_ok {
	my ($r, $body, $name) = @_;
	subtest $name => sub {
		plan tests => 3;
		is($r->{status}, 200, 'status 200');
		like(cs($r), $HIT, 'Cache-Status: hit');
		is($r->{body}, $body, 'the stored body');
	};
}

# ===========================================================================
subtest 'Cache-Status, a miss then hits' => sub {
	my $u = url('/basic', h => 'Cache-Control:max-age=60');
	my $r = get($u);
	is($r->{status}, 200, 'miss: 200');
	is(cs($r), $STORED, 'miss: Cache-Status uri-miss, stored');
	is($r->{body}, body('/basic', 1), 'miss: the origin body');
	$r = get($u);
	hit_ok($r, body('/basic', 1), 'second GET: hit');
	like(cs($r), qr/; ttl=(5[89]|60)$/, 'hit: ttl counts down from max-age');
	like(hdr($r, 'age'), qr/^[0-2]$/, 'hit: a small Age');
	is(hdr($r, 'content-length'), length body('/basic', 1),
	    'hit: Content-Length');
	is(hdr($r, 'cache-control'), 'max-age=60', 'hit: the stored headers');
	is(n('/basic'), 1, 'origin asked once');

	$u = url('/nocache/x', h => 'Cache-Control:max-age=60');
	$r = get($u);
	$r = get($u);
	is(cs($r), '(none)', 'route without cache: no Cache-Status');
	is(n('/nocache/x'), 2, 'route without cache: origin asked each time');

	$r = req('POST', url('/basic-post'));
	is(cs($r), 'portico; fwd=method; fwd-status=200',
	    'POST: Cache-Status fwd=method');
	$r = get(url('/basic-404', s => 404));
	is(cs($r), 'portico; fwd=uri-miss; fwd-status=404; stored',
	    '404 (cacheable by default): fwd-status=404, stored');
};

subtest 'hits are shared by both workers' => sub {
	my $u = url('/shared', h => 'Cache-Control:max-age=60');
	get($u);
	# A new connection may reach the other worker before the first one
	# has stored: it waits for that one ("collapsed").
	my @hits = grep { cs($_) =~ /^portico; hit; ttl=\d+(; collapsed)?$/ &&
	    $_->{body} eq body('/shared', 1) } map { $t->get($u) } 1 .. 20;
	is(scalar @hits, 20, '20 requests on new connections: 20 hits');
	is(n('/shared'), 1, 'origin asked once');
};

subtest 'freshness from the response' => sub {
	my $now = time;
	# [ name, path under /fresh/, query, a hit the second time? ]
	my @cases = (
	    [ 's-maxage wins over max-age', 'smax',
		[ h => 'Cache-Control:max-age=0, s-maxage=60' ], 1 ],
	    [ 's-maxage=0 wins over max-age', 'smax0',
		[ h => 'Cache-Control:max-age=60, s-maxage=0' ], 0 ],
	    [ 'Expires with Date', 'exp',
		[ h => 'Date:' . date($now), h => 'Expires:' . date($now + 60) ], 1 ],
	    [ 'Expires in the past', 'exppast',
		[ h => 'Date:' . date($now), h => 'Expires:' . date($now - 60) ], 0 ],
	    [ 'an invalid Expires is stale', 'expbad', [ h => 'Expires:0' ], 0 ],
	    [ 'max-age wins over Expires', 'maxexp',
		[ h => 'Cache-Control:max-age=60', h => 'Expires:0' ], 1 ],
	    [ 'no-store', 'nostore', [ h => 'Cache-Control:no-store, max-age=60' ], 0 ],
	    [ 'private', 'private', [ h => 'Cache-Control:private, max-age=60' ], 0 ],
	    [ 'heuristic: Last-Modified 10 days ago', 'lm',
		[ h => 'Last-Modified:' . date($now - 10 * 86400) ], 1 ],
	    [ 'no freshness information', 'none', [], 0 ],
	    [ 'Age 100 > max-age 60: never fresh', 'age100',
		[ h => 'Cache-Control:max-age=60', h => 'Age:100' ], 0 ],
	);
	for my $c (@cases) {
		my ($name, $p, $q, $fresh) = @$c;
		my $u = url("/fresh/$p", @$q);
		get($u);
		my $r = get($u);
		if ($fresh) {
			hit_ok($r, body("/fresh/$p", 1), "$name: hit");
		} else {
			is($r->{body}, body("/fresh/$p", 2), "$name: from the origin again");
		}
	}
	my $r = get(url('/fresh/nostore', h => 'Cache-Control:no-store, max-age=60'));
	is(cs($r), 'portico; fwd=uri-miss; fwd-status=200', 'no-store: not "stored"');
	$r = get(url('/fresh/lm', h => 'Last-Modified:' . date($now - 10 * 86400)));
	like(cs($r), qr/; ttl=86\d\d\d$/, 'heuristic: ttl about 10% of 10 days');

	my $u = url('/ttl/x');
	get($u);
	$r = get($u);
	hit_ok($r, body('/ttl/x', 1), 'default_ttl route: hit without freshness');
	like(cs($r), qr/; ttl=(5[89]|60)$/, 'default_ttl route: ttl from default_ttl');
	$u = url('/fresh/nottl');
	get($u);
	is(get($u)->{body}, body('/fresh/nottl', 2), 'without default_ttl: origin again');
};

# Ages are whole seconds, and the fetch itself may count for one: the
# margins below leave a second either way.
subtest 'Age, and fresh until it is stale' => sub {
	my $u = url('/age/grow', h => 'Cache-Control:max-age=5');
	my $u37 = url('/age/origin', h => 'Cache-Control:max-age=40', h => 'Age:37');
	get($u);
	get($u37);
	my $r = get($u37);
	hit_ok($r, body('/age/origin', 1), 'Age 37 of max-age 40: hit');
	cmp_ok(hdr($r, 'age'), '>=', 37, 'the origin\'s Age counts');
	sleep 2;
	$r = get($u);
	hit_ok($r, body('/age/grow', 1), 'max-age=5, 2 s later: hit');
	cmp_ok(hdr($r, 'age') // 0, '>=', 2, 'Age grew to 2 s or more');
	sleep 3;
	$r = get($u);
	is($r->{body}, body('/age/grow', 2), 'max-age=5, 5 s later: from the origin');
	is(cs($r), 'portico; fwd=stale; fwd-status=200; stored',
	    'Cache-Status fwd=stale (no validator: a full fetch)');
	$r = get($u37);
	is($r->{body}, body('/age/origin', 2), 'Age 37 of 40, 5 s later: stale');
};

subtest 'request directives' => sub {
	my $u = url('/req/a', h => 'Cache-Control:max-age=60');
	get($u);
	my $r = get($u, 'Cache-Control: no-cache');
	is($r->{body}, body('/req/a', 2), 'no-cache: to the origin');
	is(cs($r), 'portico; fwd=request; fwd-status=200; stored',
	    'no-cache: Cache-Status fwd=request');
	$r = get($u, 'Pragma: no-cache');
	is($r->{body}, body('/req/a', 3), 'Pragma: no-cache: to the origin');
	$r = get($u, 'Pragma: no-cache', 'Cache-Control: max-stale=10');
	like(cs($r), $HIT, 'Pragma ignored beside a Cache-Control');
	sleep 1;
	$r = get($u, 'Cache-Control: max-age=0');
	is($r->{body}, body('/req/a', 4), 'max-age=0: to the origin');
	$r = get($u, 'Cache-Control: max-age=30');
	like(cs($r), $HIT, 'max-age=30 on a young response: hit');
	$r = get($u, 'Cache-Control: min-fresh=120');
	is($r->{body}, body('/req/a', 5), 'min-fresh=120 of 60: to the origin');
	$r = get($u, 'Cache-Control: min-fresh=10');
	like(cs($r), $HIT, 'min-fresh=10: hit');

	my $o = url('/req/oic', h => 'Cache-Control:max-age=60');
	$r = get($o, 'Cache-Control: only-if-cached');
	is($r->{status}, 504, 'only-if-cached, not stored: 504');
	is(n('/req/oic'), 0, 'only-if-cached: origin not asked');
	get($o);
	$r = get($o, 'Cache-Control: only-if-cached');
	hit_ok($r, body('/req/oic', 1), 'only-if-cached, stored: hit');

	# no-cache on a fresh response with a validator: revalidated.
	my $v = url('/req/nc304', h => 'Cache-Control:max-age=60', h => 'ETag:"r1"', v304 => 1);
	get($v);
	$r = get($v, 'Cache-Control: no-cache');
	is(logged('/req/nc304', 1)->{inm}, '"r1"', 'no-cache, stored ETag: If-None-Match');
	is($r->{body}, body('/req/nc304', 1), 'no-cache, origin 304: the stored body');
	like(cs($r), qr/^portico; fwd=request; fwd-status=304/,
	    'no-cache, origin 304: Cache-Status fwd=request');

	my $ns = url('/req/nostore', h => 'Cache-Control:max-age=60');
	$r = get($ns, 'Cache-Control: no-store');
	is(cs($r), 'portico; fwd=uri-miss; fwd-status=200', 'request no-store: not stored');
	$r = get($ns);
	is($r->{body}, body('/req/nostore', 2), 'after a no-store request: a miss');
};

subtest 'stale responses: max-stale, must-revalidate, no-cache' => sub {
	my $s = url('/stale/plain', h => 'Cache-Control:max-age=1');
	my $m = url('/stale/mr', h => 'Cache-Control:max-age=1, must-revalidate');
	my $nc = url('/stale/nc', h => 'Cache-Control:no-cache', h => 'ETag:"nc1"',
	    v304 => 1);
	get($_) for $s, $m, $nc;
	sleep 2;
	my $r = get($s, 'Cache-Control: max-stale=60');
	is($r->{body}, body('/stale/plain', 1), 'max-stale=60: the stale one');
	like(cs($r), qr/^portico; hit; ttl=-\d+$/, 'max-stale: a hit, negative ttl');
	$r = get($s, 'Cache-Control: max-stale');
	is($r->{body}, body('/stale/plain', 1), 'max-stale without a value: the stale one');
	$r = get($s, 'Cache-Control: max-stale=0');
	is($r->{body}, body('/stale/plain', 2), 'max-stale=0: to the origin');
	$r = get($m, 'Cache-Control: max-stale=60');
	is($r->{body}, body('/stale/mr', 2), 'must-revalidate: never served stale');

	$r = get($nc);
	is(n('/stale/nc'), 2, 'no-cache response: asked again');
	is(logged('/stale/nc', 1)->{inm}, '"nc1"', 'no-cache: revalidated with If-None-Match');
	is($r->{body}, body('/stale/nc', 1), 'no-cache: stored body after the 304');
	like(cs($r), qr/^portico; fwd=stale; fwd-status=304/,
	    'no-cache: fwd=stale; fwd-status=304');
};

subtest 'Authorization' => sub {
	my %cases = (plain => [ 'max-age=60', 2 ], public => [ 'public, max-age=60', 1 ],
	    smax => [ 's-maxage=60', 1 ], mr => [ 'max-age=60, must-revalidate', 1 ]);
	for my $p (sort keys %cases) {
		my ($cc, $want) = @{$cases{$p}};
		my $u = url("/auth/$p", h => "Cache-Control:$cc");
		get($u, 'Authorization: Basic dTpw') for 1 .. 2;
		is(n("/auth/$p"), $want, "Authorization, $cc: origin asked $want time(s)");
	}
};

subtest 'Vary' => sub {
	my $u = url('/vary/lang', h => 'Cache-Control:max-age=60', h => 'Vary:Accept-Language');
	my $r = get($u, 'Accept-Language: en');
	is(cs($r), $STORED, 'en: uri-miss');
	$r = get($u, 'Accept-Language: fr');
	is(cs($r), 'portico; fwd=vary-miss; fwd-status=200; stored', 'fr: vary-miss');
	hit_ok(get($u, 'Accept-Language: en'), body('/vary/lang', 1), 'en again: its variant');
	hit_ok(get($u, 'Accept-Language: fr'), body('/vary/lang', 2), 'fr again: its variant');
	$r = get($u);
	is($r->{body}, body('/vary/lang', 3), 'no Accept-Language: a variant of its own');
	hit_ok(get($u), body('/vary/lang', 3), 'no Accept-Language again: hit');
	get($u, 'Accept-Language: de, en');
	hit_ok(get($u, 'Accept-Language: de,en'), body('/vary/lang', 4),
	    'spaces after commas do not make another variant');
	is(n('/vary/lang'), 4, 'origin asked once per variant');

	# More members than are sorted (32): the header as sent is the key,
	# all of it.
	my $many = url('/vary/many', h => 'Cache-Control:max-age=60', h => 'Vary:Accept-Language');
	my $langs = join ', ', map { "l$_" } 1 .. 32;
	get($many, "Accept-Language: $langs, x1");
	$r = get($many, "Accept-Language: $langs, x2");
	is($r->{body}, body('/vary/many', 2), '33 members, the last differs: '
	    . 'another variant');
	hit_ok(get($many, "Accept-Language: $langs, x1"), body('/vary/many', 1),
	    '33 members, the same: its variant');

	my $star = url('/vary/star', h => 'Cache-Control:max-age=60', h => 'Vary:*');
	get($star) for 1 .. 2;
	is(n('/vary/star'), 2, 'Vary: * is not stored');
};

subtest 'revalidation and the 304 update' => sub {
	my $lm = date(time - 3600);
	my $e = url('/reval/etag', h => 'Cache-Control:max-age=1', h => 'ETag:"v1"', v304 => 1);
	my $l = url('/reval/lm', h => 'Cache-Control:max-age=1', h => "Last-Modified:$lm",
	    v304 => 1);
	my @v = (h => 'Cache-Control:max-age=1', h => 'ETag:"u1"', v304 => 1);
	get($_) for $e, $l, url('/pathkey/upd', @v, h => 'X-Version:1');
	my $n = url('/reval/none', h => 'Cache-Control:max-age=1');
	get($n);
	sleep 2;

	my $r = get($e);
	is(logged('/reval/etag', 1)->{inm}, '"v1"', 'ETag: the origin got If-None-Match');
	is($r->{status}, 200, 'ETag: the client gets 200');
	is($r->{body}, body('/reval/etag', 1), 'ETag: with the stored body');
	like(cs($r), qr/^portico; fwd=stale; fwd-status=304; ttl=-?\d+$/,
	    'Cache-Status fwd=stale; fwd-status=304');

	$r = get($l);
	is(logged('/reval/lm', 1)->{ims}, $lm,
	    'Last-Modified: the origin got If-Modified-Since');
	is($r->{body}, body('/reval/lm', 1), 'Last-Modified: the stored body after 304');

	$r = get($n);
	is(logged('/reval/none', 1)->{inm}, '-', 'no validator: no If-None-Match');
	is($r->{body}, body('/reval/none', 2), 'no validator: a full response');

	# The 304 brings X-Version: 2 and a longer max-age (the key of
	# /pathkey/ leaves the query out, so the query can change them).
	$r = get(url('/pathkey/upd', @v[2 .. 5], h => 'X-Version:2',
	    h => 'Cache-Control:max-age=60'));
	is(logged('/pathkey/upd', 1)->{inm}, '"u1"', '304 update: revalidated');
	is(hdr($r, 'x-version'), '2', '304 update: the new header at once');
	is(hdr($r, 'cache-control'), 'max-age=60',
	    '304 update: Cache-Control replaced, not added');
	$r = get(url('/pathkey/upd', x => 'other'));
	hit_ok($r, body('/pathkey/upd', 1), '304 update: then a hit (fresh for 60 s)');
	is(hdr($r, 'x-version'), '2', '304 update: the hit has the new header');
	is(n('/pathkey/upd'), 2, '304 update: origin asked twice');
};

# The stored response updated by a 304 is a response like another: one
# that may not be stored now (private, Set-Cookie, a request with
# Authorization) is not, the stored one is dropped, and the client gets
# a full response, asked for again without validators.  (The key of
# /pathkey/ leaves the query out: the query changes what the 304 says.)
subtest 'a 304 that makes the stored response unstorable' => sub {
	my %case = (
	    private => [ [ h => 'Cache-Control:private, max-age=60' ], [] ],
	    cookie => [ [ h => 'Cache-Control:max-age=60', h => 'Set-Cookie:s=2' ], [] ],
	    auth => [ [ h => 'Cache-Control:max-age=60' ],
		[ 'Authorization: Basic dTpw' ] ],
	);
	for my $c (sort keys %case) {
		get(url("/pathkey/u304$c", h => 'Cache-Control:max-age=1',
		    h => 'ETag:"w1"', v304 => 1));
	}
	sleep 2;
	for my $c (sort keys %case) {
		my ($q, $h) = @{$case{$c}};
		my $p = "/pathkey/u304$c";
		my $r = get(url($p, @$q, h => 'ETag:"w1"', v304 => 1), @$h);
		is(logged($p, 1)->{inm}, '"w1"', "$c: revalidated");
		is(logged($p, 2)->{inm}, '-', "$c: then asked again without "
		    . 'validators');
		is($r->{status}, 200, "$c: the client gets 200");
		is($r->{body}, body($p, 3), "$c: the full response");
		is(hdr($r, 'set-cookie'), 's=2', "$c: with its Set-Cookie")
		    if $c eq 'cookie';
		is(hdr($r, 'cache-control'), 'private, max-age=60',
		    "$c: with its Cache-Control") if $c eq 'private';
		$r = get(url($p, h => 'Cache-Control:max-age=60'));
		is($r->{body}, body($p, 4), "$c: the stored response was dropped");
	}
};

# Surrogate-Control says how long to keep a response, not who may see
# it: private and Authorization count as without it.
subtest 'Surrogate-Control and privacy' => sub {
	my $u = url('/sc/private', h => 'Cache-Control:private',
	    h => 'Surrogate-Control:max-age=60');
	get($u) for 1 .. 2;
	is(n('/sc/private'), 2, 'private with Surrogate-Control: not stored');
	$u = url('/sc/auth', h => 'Surrogate-Control:max-age=60');
	get($u, 'Authorization: Basic dTpw') for 1 .. 2;
	is(n('/sc/auth'), 2, 'Authorization with Surrogate-Control: not stored');
	$u = url('/sc/plain', h => 'Surrogate-Control:max-age=60');
	get($u) for 1 .. 2;
	is(n('/sc/plain'), 1, 'Surrogate-Control alone: stored');
};

# cache-origin.pl sends no Date.  A cache gives a message without one
# the time it came (RFC 9110 6.6.1), so after a 304 the stored response
# is as young as the 304 (RFC 9111 4.3.4: its headers replace them).
subtest 'a 304 without Date restarts the age' => sub {
	my $u = url('/reval/age', h => 'Cache-Control:max-age=3', h => 'ETag:"a1"', v304 => 1);
	get($u);
	sleep 4;
	my $r = get($u);
	like(cs($r), qr/^portico; fwd=stale; fwd-status=304/, 'stale: revalidated');
	$r = get($u);
	like(cs($r), $HIT, 'just revalidated with max-age=3: a hit');
	cmp_ok(hdr($r, 'age') // 99, '<=', 2, 'Age counted from the 304');
};

subtest 'conditional requests answered from the cache' => sub {
	my $lm = date(time - 3600);
	my $u = url('/cond/a', h => 'Cache-Control:max-age=60', h => 'ETag:"c1"',
	    h => "Last-Modified:$lm");
	get($u);
	my $r = get($u, 'If-None-Match: "c1"');
	is($r->{status}, 304, 'If-None-Match matching: 304');
	is($r->{body}, '', '304: no body');
	is(hdr($r, 'etag'), '"c1"', '304: the ETag');
	is(get($u, 'If-None-Match: "x", W/"c1"')->{status}, 304,
	    'If-None-Match, a list with the weak tag: 304');
	$r = get($u, 'If-None-Match: "c2"');
	is($r->{status}, 200, 'If-None-Match not matching: 200');
	is($r->{body}, body('/cond/a', 1), 'If-None-Match not matching: the body');
	is(get($u, "If-Modified-Since: $lm")->{status}, 304, 'If-Modified-Since: 304');
	is(get($u, 'If-Modified-Since: ' . date(time - 7200))->{status}, 200,
	    'If-Modified-Since before Last-Modified: 200');
	is(n('/cond/a'), 1, 'origin asked once');
};

subtest 'HEAD' => sub {
	my $u = url('/head/a', h => 'Cache-Control:max-age=60');
	get($u);
	my $r = req('HEAD', $u);
	is($r->{status}, 200, 'HEAD of a stored GET: 200');
	like(cs($r), $HIT, 'HEAD of a stored GET: hit');
	is(hdr($r, 'content-length'), length body('/head/a', 1),
	    'HEAD: the GET\'s Content-Length');
	is($r->{body}, '', 'HEAD: no body');
	is(n('/head/a'), 1, 'HEAD: origin not asked');

	my $m = url('/head/miss', h => 'Cache-Control:max-age=60');
	$r = req('HEAD', $m);
	is($r->{status}, 200, 'HEAD miss: 200');
	is(logged('/head/miss', 0)->{method}, 'HEAD', 'HEAD miss: forwarded as HEAD');
	$r = get($m);
	is($r->{body}, body('/head/miss', 2),
	    'HEAD miss: nothing stored, GET goes to the origin');
};

subtest 'range requests' => sub {
	my $u = url('/range/a', h => 'Cache-Control:max-age=60', n => 26);
	my $r = get($u, 'Range: bytes=0-1');
	is(logged('/range/a', 0)->{range}, '-', 'miss: the origin gets no Range');
	$r = get($u, 'Range: bytes=2-5');
	is($r->{status}, 206, 'bytes=2-5: 206');
	is(hdr($r, 'content-range'), 'bytes 2-5/26', 'bytes=2-5: Content-Range');
	is($r->{body}, 'cdef', 'bytes=2-5: those bytes');
	$r = get($u, 'Range: bytes=-3');
	is(hdr($r, 'content-range'), 'bytes 23-25/26', 'bytes=-3: Content-Range');
	is($r->{body}, 'xyz', 'bytes=-3: the last 3');
	$r = get($u, 'Range: bytes=20-');
	is($r->{body}, 'uvwxyz', 'bytes=20-: to the end');
	is(get($u, 'Range: bytes=30-40')->{status}, 416, 'bytes=30-40: 416');
	is(n('/range/a'), 1, 'origin asked once');

	# An empty body has no range: all of it (nothing), 200.
	my $e = url('/range/empty', h => 'Cache-Control:max-age=60', n => 0);
	get($e);
	$r = get($e, 'Range: bytes=-5');
	is($r->{status}, 200, 'an empty body, bytes=-5: 200');
	is(hdr($r, 'content-length'), '0', '... Content-Length: 0');
	# A stored 204 has no Content-Length (RFC 9110 8.6).
	my $nc = url('/range/204', s => 204, h => 'Cache-Control:max-age=60');
	get($nc);
	$r = get($nc);
	ok($r->{status} == 204 && cs($r) =~ $HIT, 'a 204 is a hit');
	ok(!defined hdr($r, 'content-length'), '... without Content-Length');
};

subtest 'chunked origin responses' => sub {
	my $u = url('/chunked/a', h => 'Cache-Control:max-age=60', chunked => 1);
	my $r = get($u);
	is($r->{body}, body('/chunked/a', 1), 'miss: the body');
	is(cs($r), $STORED, 'miss: stored');
	$r = get($u);
	hit_ok($r, body('/chunked/a', 1), 'hit: the same body');
	is(hdr($r, 'content-length'), length body('/chunked/a', 1), 'hit: Content-Length');
	ok(!$r->{chunked}, 'hit: not chunked');
};

subtest 'invalidation by unsafe methods' => sub {
	my $cc = 'Cache-Control:max-age=60';
	for my $m (qw(POST PUT DELETE)) {
		my $u = url("/inv/$m", h => $cc);
		get($u);
		my $r = req($m, $u);
		is(cs($r), "portico; fwd=method; fwd-status=200", "$m: fwd=method");
		is(get($u)->{body}, body("/inv/$m", 3), "$m: the next GET is a miss");
	}
	my $c = url('/inv/c', h => $cc);
	my $cl = url('/inv/cl', h => $cc);
	my $abs = url('/inv/abs', h => $cc);
	my $other = url('/inv/other', h => $cc);
	get($_) for $c, $cl, $abs, $other;
	req('POST', url('/inv/b', s => 201, h => "Location:$c", h => "Content-Location:$cl"));
	is(get($c)->{body}, body('/inv/c', 2), 'Location: invalidated');
	is(get($cl)->{body}, body('/inv/cl', 2), 'Content-Location: invalidated');
	req('POST', url('/inv/b', s => 303, h => "Location:http://localhost$abs"));
	is(get($abs)->{body}, body('/inv/abs', 2),
	    'absolute Location on the same host: invalidated');
	req('POST', url('/inv/b', s => 303, h => "Location:http://elsewhere.test$other"));
	hit_ok(get($other), body('/inv/other', 1), 'Location on another host: kept');

	# /pathkey/ keys leave the query out: the POST's query sets its status.
	my $k = url('/pathkey/inv', h => $cc);
	get($k);
	req('POST', url('/pathkey/inv', s => 404));
	req('DELETE', url('/pathkey/inv', s => 500));
	hit_ok(get($k), body('/pathkey/inv', 1), '404 and 500 answers: nothing invalidated');
	req('POST', url('/pathkey/inv', s => 204));
	is(get($k)->{body}, body('/pathkey/inv', 5), '204 answer: invalidated');
};

subtest 'Set-Cookie, max_object, statuses' => sub {
	my $u = url('/sc/a', h => 'Cache-Control:max-age=60', h => 'Set-Cookie:id=1');
	my $r = get($u);
	$r = get($u);
	is(n('/sc/a'), 2, 'default route: a response with Set-Cookie is not stored');
	is(hdr($r, 'set-cookie'), 'id=1', 'default route: the cookie relayed');
	$u = url('/cookie/a', h => 'Cache-Control:max-age=60', h => 'Set-Cookie:id=1');
	is(hdr(get($u), 'set-cookie'), 'id=1', 'strip: the miss has the cookie');
	$r = get($u);
	hit_ok($r, body('/cookie/a', 1), 'strip: stored');
	ok(!defined hdr($r, 'set-cookie'), 'strip: the hit has no Set-Cookie');

	for my $case ([ big => 2000, 2 ], [ bigchunked => 2000, 2, chunked => 1 ],
	    [ fits => 500, 1 ]) {
		my ($p, $len, $want, @more) = @$case;
		$u = url("/small/$p", h => 'Cache-Control:max-age=60', n => $len, @more);
		$r = get($u) for 1 .. 2;
		is(length $r->{body}, $len, "max_object 1K, $p: the whole body");
		is(n("/small/$p"), $want, "max_object 1K, $p ($len bytes): origin asked $want time(s)");
	}
	$u = url('/small/404', s => 404, h => 'Cache-Control:max-age=60');
	get($u) for 1 .. 2;
	is(n('/small/404'), 2, 'statuses [200]: a 404 is not stored');
	$u = url('/st/404', s => 404, h => 'Cache-Control:max-age=60');
	get($u);
	$r = get($u);
	is($r->{status}, 404, 'default statuses: a 404 hit');
	like(cs($r), $HIT, 'default statuses: 404 stored');
	$u = url('/st/500', s => 500);
	get($u) for 1 .. 2;
	is(n('/st/500'), 2, 'a 500 without max-age or Expires is not stored');
};

subtest 'the cache key' => sub {
	my $cc = 'Cache-Control:max-age=60';
	get(url('/key/q', a => 1, h => $cc));
	is(get(url('/key/q', a => 2, h => $cc))->{body}, body('/key/q', 2),
	    'another query: another object');
	hit_ok(get(url('/key/q', a => 1, h => $cc)), body('/key/q', 1), 'same query: hit');
	my $u = url('/keyed/t', h => $cc);
	get($u, 'X-Tenant: a');
	is(get($u, 'X-Tenant: b')->{body}, body('/keyed/t', 2), 'X-Tenant b: another object');
	hit_ok(get($u, 'X-Tenant: a'), body('/keyed/t', 1), 'X-Tenant a: its own hit');
	hit_ok(get($u, 'X-Tenant: b'), body('/keyed/t', 2), 'X-Tenant b: its own hit');
	is(get(url('/keyed/t', x => 1), 'X-Tenant: a')->{body}, body('/keyed/t', 1),
	    'key without the query: another query hits');
	hit_ok(get($u, 'X-Tenant: a', 'Host: LOCALHOST'), body('/keyed/t', 1),
	    'the host is compared without case');
};

subtest 'stale-while-revalidate and stale-if-error' => sub {
	# The refresh repeats the request that found it stale: its query (not
	# in the /pathkey/ key) asks for a max-age that outlasts the checks.
	my $swr = url('/pathkey/swr', h => 'Cache-Control:max-age=1, stale-while-revalidate=60');
	my $swr2 = url('/pathkey/swr', h => 'Cache-Control:max-age=60');
	my $sie = 'Cache-Control:max-age=1, stale-if-error=60';
	get($swr);
	get(url('/pathkey/sie', h => $sie));
	get(url('/pathkey/nosie', h => 'Cache-Control:max-age=1'));
	get(url('/down/sie', h => $sie));
	# stale for 40 s already: past any grace for an unreachable origin
	get(url('/down/nosie', h => 'Cache-Control:max-age=60', h => 'Age:100'));
	stop_origin($down_pid);
	sleep 2;

	my $r = get($swr2);
	is($r->{body}, body('/pathkey/swr', 1), 'stale-while-revalidate: the stale one at once');
	like(cs($r), qr/^portico; hit; ttl=-\d+$/, 'stale-while-revalidate: a hit, negative ttl');
	ok(wait_until(sub { n('/pathkey/swr') == 2 }, timeout => 5), 'refreshed in the background');
	wait_until(sub { get($swr2)->{body} eq body('/pathkey/swr', 2) }, timeout => 3);
	hit_ok(get($swr2), body('/pathkey/swr', 2), 'then the refreshed one is a hit');
	is(n('/pathkey/swr'), 2, 'refreshed once');

	$r = get(url('/pathkey/sie', s => 500));
	is($r->{status}, 200, 'stale-if-error, origin 500: 200');
	is($r->{body}, body('/pathkey/sie', 1), 'stale-if-error, origin 500: the stale body');
	like(cs($r), qr/^portico; fwd=stale; fwd-status=500/,
	    'Cache-Status fwd=stale; fwd-status=500');
	is(get(url('/pathkey/nosie', s => 500))->{status}, 500, 'without stale-if-error: 500');

	$r = get(url('/down/sie'));
	is($r->{status}, 200, 'stale-if-error, origin down: 200');
	is($r->{body}, body('/down/sie', 1), 'stale-if-error, origin down: the stale body');
	like(cs($r), qr/^portico; fwd=stale; fwd-status=5\d\d/, 'origin down: fwd=stale');
	is(get(url('/down/nosie'))->{status}, 502,
	    'long stale, no stale-if-error, origin down: 502');
};

subtest 'PURGE' => sub {
	my $cc = 'Cache-Control:max-age=60';
	my $u = url('/purge/a', h => $cc);
	get($u);
	my $r = req('PURGE', $u);
	is($r->{status}, 200, 'PURGE a stored URL: 200');
	is($r->{body}, "purged 1\n", 'PURGE: "purged 1"');
	is(cs(get($u)), $STORED, 'after PURGE: a miss');
	is(req('PURGE', url('/purge/none'))->{status}, 404, 'PURGE of nothing: 404');

	my @pre = map { url("/pre/$_", h => $cc) } qw(a b);
	my $other = url('/other/x', h => $cc);
	get($_) for @pre, $other;
	$r = req('PURGE', '/pre/*');
	is($r->{body}, "purged 2\n", 'PURGE /pre/*: both');
	is(get($pre[0])->{body}, body('/pre/a', 2), 'PURGE /pre/*: /pre/a gone');
	is(get($pre[1])->{body}, body('/pre/b', 2), 'PURGE /pre/*: /pre/b gone');
	like(cs(get($other)), $HIT, 'PURGE /pre/*: /other/x kept');

	my $v = url('/purge/vary', h => $cc, h => 'Vary:Accept-Language');
	get($v, "Accept-Language: $_") for qw(en fr);
	$r = req('PURGE', $v);
	is($r->{status}, 200, 'PURGE a Vary URL: 200');
	is(cs(get($v, 'Accept-Language: en')), $STORED, 'PURGE: variant en gone');
	is(get($v, 'Accept-Language: fr')->{body}, body('/purge/vary', 4),
	    'PURGE: variant fr gone');

	# proxyctl purge: the cache file itself, keys as the default key
	# writes them (the test client sends Host: localhost).
	my @ctl = map { url("/ctl/$_", h => $cc) } qw(a b);
	get($_) for @ctl;
	my ($rc, $out) = $t->ctl("purge 'http://LOCALHOST$ctl[0]'");
	is($rc, 0, 'proxyctl purge URL: exit 0');
	is($out, "purged 1\n", 'proxyctl purge URL: "purged 1" (host in any case)');
	is(cs(get($ctl[0])), $STORED, 'proxyctl purge URL: then a miss');
	like(cs(get($ctl[1])), $HIT, 'proxyctl purge URL: another URL kept');
	($rc, $out) = $t->ctl("purge 'http://localhost/ctl/*'");
	is($out, "purged 2\n", 'proxyctl purge PREFIX*: both');
	($rc, $out) = $t->ctl('purge /ctl/a');
	isnt($rc, 0, 'proxyctl purge without a URL: refused');
	like($out, qr/purge wants a URL/, '... saying what it wants');

	# Another instance whose purge_allow leaves 127.0.0.1 out.
	my $t2 = Test::Portico->new;
	(my $c2 = $conf) =~ s/%%ALLOW%%/10.0.0.0\/8/;
	$c2 =~ s/%%PORT_([12])%%/$t->port($1)/ge;
	$t2->write_config($c2)->run;
	$r = $t2->http('PURGE', $other);
	is($r->{status}, 403, 'PURGE from an address not allowed: 403');
	$t2->stop;
};

# Concurrent misses of one URL reach the origin once: a request that
# comes while another's miss is on its way waits for that response, and
# takes it when its own directives allow.
subtest 'collapsed misses' => sub {
	my $collapse = sub {		# (URL, the waiting request's headers)
		my ($u, @h) = @_;
		my $first = $t->connect;
		$first->send(Test::Portico::http_request('GET', $u, close => 1));
		select undef, undef, undef, 0.2;
		my $r = $t->get($u, headers => [ map { [ split /:\s*/, $_, 2 ] } @h ]);
		return ($first->read_response // {}, $r);
	};
	my $u = url('/collapse/a', h => 'Cache-Control:max-age=60', delay => 800);
	my ($r1, $r2) = $collapse->($u);
	is($r1->{body}, body('/collapse/a', 1), 'the first: from the origin');
	is($r2->{body}, body('/collapse/a', 1), 'the second: the same response');
	like(cs($r2), qr/^portico; hit; ttl=\d+; collapsed$/, 'the second: hit; collapsed');
	is(n('/collapse/a'), 1, 'origin asked once');

	$u = url('/collapse/mf', h => 'Cache-Control:max-age=60', delay => 800);
	($r1, $r2) = $collapse->($u, 'Cache-Control: min-fresh=120');
	is($r1->{body}, body('/collapse/mf', 1),
	    'min-fresh=120 waiting: the first from the origin');
	unlike(cs($r2), qr/^portico; hit/, 'min-fresh=120: not given one fresh for 60 s');
	is(n('/collapse/mf'), 2, 'min-fresh=120: to the origin itself');

	# A waiting request is sent the response as it comes: its head
	# arrives while the origin still holds the body back (1.5 s).
	my $big = 300000;
	my $abc = substr('abcdefghijklmnopqrstuvwxyz' x ($big / 26 + 1), 0, $big);
	$u = url('/collapse/stream', h => 'Cache-Control:max-age=60', n => $big,
	    bodydelay => 1500);
	my $first = $t->connect;
	$first->send(Test::Portico::http_request('GET', $u, close => 1));
	select undef, undef, undef, 0.3;
	my $second = $t->connect;
	$second->send(Test::Portico::http_request('GET', $u, close => 1));
	$second->read_more(0.8);
	like($second->{buf}, qr/^HTTP\/1\.1 200 .*\r\nCache-Status: portico; hit; ttl=\d+; collapsed\r\n/s,
	    'a waiting request: the head comes before the body reached portico');
	$r2 = $second->read_response(timeout => 10) // {};
	is(length($r2->{body} // ''), $big, '... then the whole body');
	ok(($r2->{body} // '') eq $abc, '... the right bytes');
	is(($first->read_response(timeout => 10) // {})->{body}, $abc,
	    '... as the first request got');
	is(n('/collapse/stream'), 1, '... the origin asked once');

	# The first client goes away before the body: the response is read
	# and stored all the same, and the waiting one gets all of it.
	$u = url('/collapse/gone', h => 'Cache-Control:max-age=60', n => $big,
	    bodydelay => 1200);
	$first = $t->connect;
	$first->send(Test::Portico::http_request('GET', $u, close => 1));
	select undef, undef, undef, 0.3;
	$second = $t->connect;
	$second->send(Test::Portico::http_request('GET', $u, close => 1));
	select undef, undef, undef, 0.2;
	$first->close;
	$r2 = $second->read_response(timeout => 10) // {};
	ok(($r2->{body} // '') eq $abc, 'the first client gone: the waiting one '
	    . 'still gets the whole body');
	like(cs(get($u)), $HIT, '... and the response was stored');
	is(n('/collapse/gone'), 1, '... from one request to the origin');
};

# What the cache did, as /metrics, /status and proxyctl status tell it
# (the checker counts the file once a second).
subtest 'figures' => sub {
	sleep 2;
	my $m = $t->http('GET', '/metrics', port => $t->port(3));
	is($m->{status}, 200, '/metrics: 200');
	my %v = $m->{body} =~ /^portico_cache_(\w+) (\d+)$/mg;
	cmp_ok($v{$_} // 0, '>', 0, "portico_cache_$_ > 0")
	    for qw(objects bytes size_bytes hits_total misses_total
	    stored_total stale_total revalidated_total collapsed_total
	    purged_total);
	is($v{size_bytes}, 64 * 1024 * 1024, 'size_bytes: cache.size');
	cmp_ok($v{bytes}, '<=', $v{size_bytes}, 'bytes within the size');
	my $s = $t->http('GET', '/status', port => $t->port(3));
	like($s->{body}, qr/"cache":\{"objects":$v{objects},/,
	    '/status: the same objects');
	my ($rc, $out) = $t->ctl('status');
	like($out, qr/^cache: \d+ objects, \d+ bytes of 67108864, evictions \d+$/m,
	    'proxyctl status: the cache line');
};

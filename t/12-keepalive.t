#!/usr/bin/perl
# 12-keepalive.t: client keep-alive (HTTP/1.1 and 1.0), pipelining,
# Connection: close, the upstream connection pool (reuse, a stale pooled
# connection, the retry of idempotent requests), keepalive_timeout and
# keepalive_requests.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use Test::Portico qw(pattern http_request);

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(53);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
keepalive_timeout = "1s";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app"; keepalive = 32;
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/"; upstream = "app"; } ); } );
EOF
my $o = $t->origin(0);
my $op = $o->port;

# --- several requests on one client connection ------------------------------
my $c = $t->connect;
my @conns;
for my $i (1 .. 3) {
	my $r = $c->request('GET', "/k$i");
	is($r && $r->{body}, "origin $op /k$i", "keep-alive: request $i");
	push @conns, $r ? $r->{headers}{'x-origin-conn'} // '' : '';
}
ok(!$c->{eof}, 'keep-alive: the connection is still open');
my %distinct = map { $_ => 1 } @conns;
is(scalar(keys %distinct), 1,
    'upstream pool: the three requests used one origin connection');
$c->close;

# a new client connection reuses the pooled origin connection
my $r = $t->get('/k4');
is($r->{headers}{'x-origin-conn'}, $conns[0],
    'upstream pool: a new client reuses the pooled origin connection');
my @seen = grep { $_->{target} =~ m{^/k\d$} } $o->requests;
is(join(' ', map { $_->{conn} } @seen), join(' ', ($conns[0]) x 4),
    'upstream pool: the origin saw one connection');
is(join(' ', map { $_->{seq} } @seen), '1 2 3 4',
    'upstream pool: four requests on it in order');

# --- pipelining ---------------------------------------------------------
$c = $t->connect;
$c->send(http_request('GET', '/size/10') .
    http_request('GET', '/chunked/1000/3') .
    http_request('HEAD', '/size/50') .
    http_request('POST', '/echo', body => 'pipelined body') .
    http_request('GET', '/p5'));
my @r = map { $c->read_response(method => $_) } qw(GET GET HEAD POST GET);
is($r[0] && $r[0]{body}, 'x' x 10, 'pipelining: response 1');
ok($r[1] && $r[1]{body} eq pattern(1000), 'pipelining: response 2 (chunked)');
is($r[2] && $r[2]{headers}{'content-length'}, 50,
    'pipelining: response 3 (HEAD)');
like($r[3] && $r[3]{body}, qr{^POST /echo .*pipelined body\z}s,
    'pipelining: response 4 (POST)');
is($r[4] && $r[4]{body}, "origin $op /p5", 'pipelining: response 5');
ok(!$c->{eof}, 'pipelining: the connection stays open');
is($c->{buf}, '', 'pipelining: nothing more was sent');
$c->close;

# pipelined requests sent byte by byte
$c = $t->connect;
my $two = http_request('GET', '/b1') . http_request('GET', '/b2');
for my $ch (split //, $two) {
	$c->send($ch);
}
@r = map { $c->read_response } 1 .. 2;
is(join(' ', map { $_ ? $_->{body} : 'none' } @r),
    "origin $op /b1 origin $op /b2", 'pipelining: byte by byte');
$c->close;

# --- Connection: close -------------------------------------------------
$o->clear;
$c = $t->connect;
$c->send(http_request('GET', '/c1', headers => [['Connection', 'close']]) .
    http_request('GET', '/c2'));
$r = $c->read_response;
is($r && $r->{status}, 200, 'Connection: close: answered');
like($r && $r->{headers}{connection} // '', qr/\bclose\b/i,
    'Connection: close: the proxy says close');
ok($c->closed(3), 'Connection: close: the proxy closes');
is($c->{buf}, '', 'Connection: close: the request after it is not answered');
is(join(' ', map { $_->{target} } $o->requests), '/c1',
    'Connection: close: the request after it never reaches the origin');

# --- HTTP/1.0 ------------------------------------------------------------
$c = $t->connect;
$r = $c->request('GET', '/old', version => '1.0');
is($r && $r->{body}, "origin $op /old", 'HTTP/1.0: answered');
ok($c->closed(3), 'HTTP/1.0: closed without keep-alive');

$c = $t->connect;
$r = $c->request('GET', '/old1', version => '1.0',
    headers => [['Connection', 'keep-alive']]);
is($r && $r->{body}, "origin $op /old1", 'HTTP/1.0 keep-alive: answered');
like($r && $r->{headers}{connection} // '', qr/keep-alive/i,
    'HTTP/1.0 keep-alive: the proxy says keep-alive');
ok(!$c->closed(0.3), 'HTTP/1.0 keep-alive: the connection stays open');
$r = $c->request('GET', '/chunked/1000/4', version => '1.0',
    headers => [['Connection', 'keep-alive']]);
ok($r && $r->{body} eq pattern(1000),
    'HTTP/1.0 keep-alive: a chunked origin response arrives whole');
ok($r && !$r->{chunked}, 'HTTP/1.0: never chunked to a 1.0 client');
ok($r && ($r->{close_delimited} ? $c->closed(3) : 1),
    'HTTP/1.0: a response without length ends with the close');
$c->close;

# --- a stale pooled connection ---------------------------------------------
# /quietclose: the origin answers keep-alive and then closes; the next
# request must still succeed.
$r = $t->get('/quietclose');
is($r->{status}, 200, 'stale pool: /quietclose answered');
$r = $t->get('/after-quietclose');
is($r->{status}, 200, 'stale pool: the next request succeeds');
is($r->{body}, "origin $op /after-quietclose", 'stale pool: right body');

# /dropnext: the origin answers, then reads the next request on that
# connection and closes without a byte: a GET is retried on a fresh one.
$o->clear;
$r = $t->get('/dropnext');
my $pooled = $r->{headers}{'x-origin-conn'} // '';
is($r->{status}, 200, 'retry: /dropnext answered');
$r = $t->get('/retried');
is($r->{status}, 200, 'retry: the GET on the stale connection succeeds');
is($r->{body}, "origin $op /retried", 'retry: right body');
@seen = grep { $_->{target} eq '/retried' } $o->requests;
is(scalar @seen, 2, 'retry: the origin got the GET twice');
ok(@seen == 2 && $seen[0]{conn} eq $pooled && $seen[1]{conn} ne $pooled,
    'retry: first on the pooled connection, then on a fresh one');

# a POST (not idempotent) is not retried
$o->clear;
$r = $t->get('/dropnext');
is($r->{status}, 200, 'no retry: /dropnext answered');
$r = $t->post('/posted', 'data');
is($r->{status}, 502, 'no retry: the POST fails with 502');
@seen = grep { $_->{target} eq '/posted' } $o->requests;
is(scalar @seen, 1, 'no retry: the origin got the POST once');
$r = $t->get('/after-post');
is($r->{status}, 200, 'no retry: the next request succeeds');

# --- keepalive_timeout ----------------------------------------------------
$c = $t->connect;
$r = $c->request('GET', '/idle');
is($r && $r->{status}, 200, 'keepalive_timeout: answered');
my $start = time;
my $closed = $c->closed(5);
my $idle = time - $start;
ok($closed, 'keepalive_timeout: an idle client is closed');
ok($idle > 0.7, sprintf('keepalive_timeout: not before 1s (%.2fs)', $idle));
ok($idle < 3.5, sprintf('keepalive_timeout: soon after 1s (%.2fs)', $idle));
is($c->{buf}, '', 'keepalive_timeout: closed without a response');

# a client that keeps talking is not closed by keepalive_timeout
$c = $t->connect;
my $ok = 1;
for my $i (1 .. 4) {
	$r = $c->request('GET', "/busy$i");
	$ok &&= $r && $r->{status} == 200;
	select undef, undef, undef, 0.5;
}
ok($ok, 'keepalive_timeout: counts from the last request');
$c->close;

# --- keepalive_requests -----------------------------------------------------
my $t2 = Test::Portico->new->write_config(<<'EOF')->run;
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
keepalive_requests = 2;
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app";
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/"; upstream = "app"; } ); } );
EOF
$c = $t2->connect;
$r = $c->request('GET', '/r1');
is($r && $r->{status}, 200, 'keepalive_requests: request 1');
ok(!$c->closed(0.2), 'keepalive_requests: open after request 1');
$r = $c->request('GET', '/r2');
is($r && $r->{status}, 200, 'keepalive_requests: request 2');
like($r && $r->{headers}{connection} // '', qr/close/i,
    'keepalive_requests: the last response says close');
ok($c->closed(3), 'keepalive_requests: closed after request 2');

# upstream keepalive = 0: no pool, a connection per request
my $t3 = Test::Portico->new->write_config(<<'EOF')->run;
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app"; keepalive = 0;
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/"; upstream = "app"; } ); } );
EOF
$c = $t3->connect;
my @oc = map { my $x = $c->request('GET', "/np$_");
    $x ? $x->{headers}{'x-origin-conn'} // '' : '' } 1 .. 2;
ok($oc[0] && $oc[1] && $oc[0] ne $oc[1],
    'keepalive = 0: each request on a new origin connection');
$c->close;

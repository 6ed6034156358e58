#!/usr/bin/perl
# 13-bodies.t: request bodies (Content-Length, chunked, large), Expect:
# 100-continue, max_body_size, and a slow client reading a large response.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use Test::Portico qw(pattern http_request req_header);

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(39);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app"; keepalive = 32;
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/"; upstream = "app"; } ); } );
EOF
my $o = $t->origin(0);

# --- Content-Length -------------------------------------------------------
my $r = $t->post('/echo', "hello world");
is($r->{status}, 200, 'CL POST: 200');
like($r->{body}, qr/\r\n\r\nhello world\z/, 'CL POST: echoed');
my $q = $o->last_request;
is($q->{method}, 'POST', 'CL POST: origin method');
is($q->{raw_body}, 'hello world', 'CL POST: origin body exact');
is(req_header($q, 'Content-Length'), 11, 'CL POST: origin Content-Length');
is(req_header($q, 'Transfer-Encoding'), undef,
    'CL POST: origin no Transfer-Encoding');

$r = $t->post('/empty', '');
is($r->{status}, 200, 'empty POST: 200');
is($o->last_request->{body}, '', 'empty POST: origin body empty');

my $bin = join '', map { chr } 0 .. 255;
$r = $t->http('PUT', '/bin', body => $bin x 4);
is($r->{status}, 200, 'binary PUT: 200');
ok($o->last_request->{body} eq $bin x 4, 'binary PUT: every byte value');

# --- chunked -------------------------------------------------------------
my $chunks = "5\r\nhello\r\n1\r\n \r\n5\r\nworld\r\n0\r\n\r\n";
$r = $t->http('POST', '/chunked-up', body => $chunks,
    headers => [['Transfer-Encoding', 'chunked']]);
is($r->{status}, 200, 'chunked POST: 200');
$q = $o->last_request;
is($q->{body}, 'hello world', 'chunked POST: origin body decoded');
is($q->{raw_body}, $chunks, 'chunked POST: forwarded unchanged');
like(req_header($q, 'Transfer-Encoding') // '', qr/^chunked$/i,
    'chunked POST: origin sees Transfer-Encoding: chunked');
is(req_header($q, 'Content-Length'), undef,
    'chunked POST: no Content-Length added');

# chunk extensions, hex in both cases, a trailer
$chunks = "A;name=value\r\n0123456789\r\nb\r\nabcdefghijk\r\n0\r\n" .
    "X-Trailer: t\r\n\r\n";
$r = $t->http('POST', '/chunked-ext', body => $chunks,
    headers => [['Transfer-Encoding', 'chunked']]);
is($r->{status}, 200, 'chunked with ext and trailer: 200');
$q = $o->last_request;
is($q->{body}, '0123456789abcdefghijk', 'chunked with ext: body decoded');
is($q->{raw_body}, $chunks, 'chunked with ext and trailer: unchanged');

# chunked body sent in small pieces over time
$o->clear;
my $c = $t->connect;
$c->send("POST /trickle HTTP/1.1\r\nHost: a\r\nTransfer-Encoding: chunked" .
    "\r\n\r\n");
for my $i (1 .. 5) {
	select undef, undef, undef, 0.1;
	$c->send("3\r\nab$i\r\n");
}
$c->send("0\r\n\r\n");
$r = $c->read_response;
is($r && $r->{status}, 200, 'trickled chunked POST: 200');
is($o->last_request->{body}, join('', map { "ab$_" } 1 .. 5),
    'trickled chunked POST: body');
$c->close;

# --- large uploads -----------------------------------------------------------
my $big = pattern(5 * 1024 * 1024);
$c = $t->connect(timeout => 30);
$c->send(http_request('POST', '/upload', body => $big, close => 1),
    timeout => 30);
$r = $c->read_response(timeout => 30);
is($r && $r->{status}, 200, '5 MB upload: 200');
$q = $o->last_request;
is(length $q->{body}, length $big, '5 MB upload: length at the origin');
ok($q->{body} eq $big, '5 MB upload: body exact');
$c->close;

my $cbig = pattern(2 * 1024 * 1024);
my $enc = '';
for (my $i = 0; $i < length $cbig; $i += 65536) {
	my $piece = substr($cbig, $i, 65536);
	$enc .= sprintf("%x\r\n", length $piece) . "$piece\r\n";
}
$enc .= "0\r\n\r\n";
$c = $t->connect(timeout => 30);
$c->send(http_request('POST', '/upload-chunked', body => $enc, close => 1,
    headers => [['Transfer-Encoding', 'chunked']]), timeout => 30);
$r = $c->read_response(timeout => 30);
is($r && $r->{status}, 200, '2 MB chunked upload: 200');
ok($o->last_request->{body} eq $cbig, '2 MB chunked upload: body exact');
$c->close;

# --- Expect: 100-continue ---------------------------------------------------
$c = $t->connect;
$c->send("POST /100 HTTP/1.1\r\nHost: a\r\nContent-Length: 7\r\n" .
    "Expect: 100-continue\r\n\r\n");
$r = $c->read_response(timeout => 3);
is($r && $r->{status}, 100, 'Expect: the client gets 100 Continue first');
$c->send('payload');
$r = $c->read_response(timeout => 3);
is($r && $r->{status}, 200, 'Expect: then 200');
is($r && $r->{body}, 'payload', 'Expect: body echoed');
is($o->last_request->{body}, 'payload', 'Expect: origin got the body');
$c->close;

# --- slow client reading a big response (backpressure) ---------------------
my $n = 8 * 1024 * 1024;
$c = $t->connect(timeout => 30);
$c->send(http_request('GET', "/pattern/$n"));
select undef, undef, undef, 1.5;	# let every buffer on the way fill up
my $start = time;
my $got = 0;
for my $i (1 .. 100000) {
	last if time - $start > 60;
	my $k = $c->read_more(5, 16384);
	last unless $k;
	select undef, undef, undef, 0.005;
	last if length $c->{buf} > $n && $c->{buf} =~ /\r\n\r\n/ &&
	    length($c->{buf}) - $+[0] >= $n;
}
$r = $c->read_response(timeout => 10);
is($r && length $r->{body}, $n, 'slow client: length');
ok($r && $r->{body} eq pattern($n), 'slow client: body exact');
ok(!$c->{eof}, 'slow client: still keep-alive');
$r = $c->request('GET', '/after-slow');
is($r && $r->{status}, 200, 'slow client: next request on the connection');
$c->close;

# --- max_body_size -----------------------------------------------------------
my $t2 = Test::Portico->new->write_config(<<'EOF')->run;
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
max_body_size = "1K";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app";
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/"; upstream = "app"; } ); } );
EOF
my $o2 = $t2->origin(0);
$r = $t2->post('/limit', 'y' x 1024);
is($r->{status}, 200, 'max_body_size: a body of exactly the limit passes');
$o2->clear;
$c = $t2->connect;
my $lport = $c->local_port;
$c->send(http_request('POST', '/over', body => 'y' x 1025, close => 1));
$r = $c->read_response;
is($r && $r->{status}, 413, 'max_body_size: one byte over: 413');
is($o2->count, 0, 'max_body_size: the origin saw nothing');
ok(scalar $t2->wait_for_error_log(qr/127\.0\.0\.1:$lport\b/),
    'max_body_size: error log names the client');

$o2->clear;
$enc = join('', map { "100\r\n" . ('z' x 256) . "\r\n" } 1 .. 8) .
    "0\r\n\r\n";
my ($raw, $closed) = $t2->raw(http_request('POST', '/over-chunked',
    body => $enc, headers => [['Transfer-Encoding', 'chunked']]));
my ($first) = Test::Portico::parse_responses($raw);
ok(($first && $first->{status} == 413) || ($raw eq '' && $closed),
    'max_body_size: chunked body over the limit: 413');
is(scalar(grep { $_->{flags} eq '-' } $o2->requests), 0,
    'max_body_size: chunked: the origin got no complete request');

#!/usr/bin/perl
# 10-proxy.t: the basic exchange through the proxy: what the client gets,
# and what the origin receives (forwarded headers, hop-by-hop headers
# stripped both ways), HEAD, 204/304, chunked, close-delimited and large
# responses.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(pattern http_request req_header);

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(64);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
access_log = { path = "%%TESTDIR%%/access.log"; };
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app"; keepalive = 32;
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/"; upstream = "app"; } ); } );
EOF

my $o = $t->origin(0);
my $op = $o->port;

# --- a plain GET ----------------------------------------------------------
my $r = $t->get('/x');
is($r->{status}, 200, 'GET: 200');
is($r->{body}, "origin $op /x", 'GET: body from the origin');
is($r->{headers}{'x-origin'}, $op, 'GET: origin header relayed');
is($o->count, 1, 'GET: origin got exactly one request');
my $q = $o->last_request;
is($q->{method}, 'GET', 'origin: method');
is($q->{target}, '/x', 'origin: target');
is($q->{version}, 'HTTP/1.1', 'origin: HTTP/1.1');

# --- forwarded headers -----------------------------------------------------
$o->clear;
$r = $t->get('/a/b?c=d&e=%20f;g', host => 'Example.ORG:8080',
    headers => [['X-End', 'kept'], ['User-Agent', 'test/1.0']]);
is($r->{status}, 200, 'forward: 200');
$q = $o->last_request;
is($q->{target}, '/a/b?c=d&e=%20f;g', 'forward: target unchanged');
is(req_header($q, 'Host'), 'Example.ORG:8080', 'forward: Host unchanged');
my @hosts = req_header($q, 'Host');
is(scalar @hosts, 1, 'forward: one Host');
is(req_header($q, 'X-Forwarded-For'), '127.0.0.1', 'forward: X-Forwarded-For');
is(req_header($q, 'X-Forwarded-Proto'), 'http', 'forward: X-Forwarded-Proto');
is(req_header($q, 'X-Forwarded-Host'), 'Example.ORG:8080',
    'forward: X-Forwarded-Host');
like(req_header($q, 'Via') // '', qr/^1\.1 portico\b/, 'forward: Via');
is(req_header($q, 'X-End'), 'kept', 'forward: end-to-end header kept');
is(req_header($q, 'User-Agent'), 'test/1.0', 'forward: User-Agent kept');

# existing values: XFF appended, proto and host replaced, Via appended
$o->clear;
$r = $t->get('/xff', host => 'a.test', headers => [
    ['X-Forwarded-For', '10.0.0.1'], ['X-Forwarded-Proto', 'https'],
    ['X-Forwarded-Host', 'evil.test'], ['Via', '1.0 fred']]);
$q = $o->last_request;
is(req_header($q, 'X-Forwarded-For'), '10.0.0.1, 127.0.0.1',
    'forward: XFF appended');
is(req_header($q, 'X-Forwarded-Proto'), 'http', 'forward: proto replaced');
is(req_header($q, 'X-Forwarded-Host'), 'a.test', 'forward: host replaced');
like(req_header($q, 'Via') // '', qr/^1\.0 fred,\s*1\.1 portico\b/,
    'forward: Via appended');

# hop-by-hop request headers are stripped
$o->clear;
$r = $t->raw(http_request('GET', '/hop', headers => [
    ['Connection', 'X-Bar, close'], ['X-Bar', 'secret'],
    ['Keep-Alive', 'timeout=300'], ['TE', 'trailers'],
    ['Trailer', 'X-Trail'], ['Upgrade', 'foo/1'],
    ['Proxy-Connection', 'keep-alive'],
    ['Proxy-Authorization', 'Basic Zm9vOmJhcg=='], ['X-End', '1']]));
like($r, qr{^HTTP/1\.1 200 }, 'hop-by-hop: 200');
$q = $o->last_request;
my @seen = map { lc $_->[0] } @{$q->{headers} // []};
my @bad = grep { /^(x-bar|keep-alive|te|trailer|upgrade|proxy-.*)$/ } @seen;
is("@bad", '', 'hop-by-hop: none reach the origin');
unlike(req_header($q, 'Connection') // '', qr/x-bar/i,
    'hop-by-hop: Connection does not name X-Bar');
is(req_header($q, 'X-End'), '1', 'hop-by-hop: end-to-end header kept');

# an HTTP/1.0 client: forwarded as HTTP/1.1
$o->clear;
$r = $t->raw("GET /old HTTP/1.0\r\nHost: localhost\r\n\r\n");
like($r, qr{^HTTP/1\.[01] 200 }, 'HTTP/1.0 client: 200');
$q = $o->last_request;
is($q->{version}, 'HTTP/1.1', 'HTTP/1.0 client: origin gets HTTP/1.1');

# hop-by-hop response headers are stripped
$r = $t->get('/headers');
is($r->{status}, 200, 'response hop-by-hop: 200');
is($r->{body}, "headers\n", 'response hop-by-hop: body');
is($r->{headers}{'x-keep'}, 'yes', 'response: end-to-end header kept');
@bad = grep { exists $r->{headers}{$_} }
    qw(x-foo keep-alive proxy-connection trailer upgrade te);
is("@bad", '', 'response: hop-by-hop headers stripped');
unlike($r->{headers}{connection} // '', qr/x-foo/i,
    'response: Connection does not name X-Foo');

# --- HEAD, 204, 304: no body ----------------------------------------------
my $c = $t->connect;
$r = $c->request('HEAD', '/size/100');
is($r && $r->{status}, 200, 'HEAD: 200');
is($r && $r->{headers}{'content-length'}, 100, 'HEAD: Content-Length kept');
$r = $c->request('GET', '/size/3');
is($r && $r->{body}, 'xxx', 'HEAD: no body bytes (next response parses)');
$r = $c->request('GET', '/status/204');
is($r && $r->{status}, 204, '204 relayed');
$r = $c->request('GET', '/status/304');
is($r && $r->{status}, 304, '304 relayed');
$r = $c->request('GET', '/size/4');
is($r && $r->{body}, 'xxxx', '204/304: no body bytes (next parses)');
$c->close;

my ($raw) = $t->raw("HEAD /size/100 HTTP/1.1\r\nHost: a\r\n" .
    "Connection: close\r\n\r\n");
like($raw, qr{\r\n\r\n\z}, 'HEAD: nothing after the head');
($raw) = $t->raw("GET /status/204 HTTP/1.1\r\nHost: a\r\n" .
    "Connection: close\r\n\r\n");
like($raw, qr{^HTTP/1\.1 204 .*\r\n\r\n\z}s, '204: nothing after the head');
unlike($raw, qr/^transfer-encoding:/im, '204: no Transfer-Encoding');
($raw) = $t->raw("GET /status/304 HTTP/1.1\r\nHost: a\r\n" .
    "Connection: close\r\n\r\n");
like($raw, qr{^HTTP/1\.1 304 .*\r\n\r\n\z}s, '304: nothing after the head');

# an origin error status is relayed, not replaced
$r = $t->get('/status/404');
is($r->{status}, 404, 'origin 404 relayed');
is($r->{body}, "status 404\n", 'origin 404 body relayed');
is($r->{headers}{'x-origin'}, $op, 'origin 404 comes from the origin');

# --- chunked response -------------------------------------------------------
$r = $t->get('/chunked/10000/7');
is($r->{status}, 200, 'chunked: 200');
is(length $r->{body}, 10000, 'chunked: length');
ok($r->{body} eq pattern(10000), 'chunked: body exact');
ok(!$r->{error}, 'chunked: framing valid') or diag($r->{error});
$r = $t->get('/chunked/1/1');
is($r->{body}, pattern(1), 'chunked: one byte');

# --- close-delimited response ----------------------------------------------
$c = $t->connect;
$r = $c->request('GET', '/close/5000', timeout => 5);
ok($r && $r->{body} eq pattern(5000), 'close-delimited: body exact');
ok($r && ($r->{chunked} || $r->{close_delimited} ||
    defined $r->{headers}{'content-length'}), 'close-delimited: framed');
ok(!$r || !$r->{close_delimited} || $c->closed(2),
    'close-delimited: without length the client connection closes');
$c->close;
($raw) = $t->raw("GET /close/3000 HTTP/1.0\r\nHost: a\r\n\r\n");
my @rs = Test::Portico::parse_responses($raw);
ok(@rs && $rs[0]{body} eq pattern(3000),
    'close-delimited: HTTP/1.0 client body exact');

# --- big responses ----------------------------------------------------------
$r = $t->get('/pattern/1048576', timeout => 20);
is(length $r->{body}, 1048576, '1 MiB: length');
ok($r->{body} eq pattern(1048576), '1 MiB: body exact');
$r = $t->get('/chunked/1048576/64', timeout => 20);
ok($r->{body} eq pattern(1048576), '1 MiB chunked: body exact');
$r = $t->get('/size/1048576', timeout => 20);
ok($r->{body} eq 'x' x 1048576, '1 MiB of x: body exact');

# --- proxy_headers switched off --------------------------------------------
my $t2 = Test::Portico->new->write_config(<<'EOF')->run;
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
proxy_headers = { x_forwarded_for = false; x_forwarded_proto = false;
    x_forwarded_host = false; via = false; };
upstreams = ( { name = "app";
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/"; upstream = "app"; } ); } );
EOF
$r = $t2->get('/off', host => 'b.test');
is($r->{status}, 200, 'proxy_headers off: 200');
$q = $t2->origin(0)->last_request;
is(req_header($q, 'X-Forwarded-For'), undef, 'off: no X-Forwarded-For');
is(req_header($q, 'X-Forwarded-Proto'), undef, 'off: no X-Forwarded-Proto');
is(req_header($q, 'X-Forwarded-Host'), undef, 'off: no X-Forwarded-Host');
is(req_header($q, 'Via'), undef, 'off: no Via');
$r = $t2->get('/off2', headers => [['X-Forwarded-For', '10.9.9.9']]);
$q = $t2->origin(0)->last_request;
is(req_header($q, 'X-Forwarded-For'), '10.9.9.9',
    'off: a client X-Forwarded-For passes unchanged');

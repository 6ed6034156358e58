#!/usr/bin/perl
# 16-routes.t: picking a site by Host (exact, *.wildcard, *) and a route by
# path prefix (first match wins), return routes, and 404 when nothing
# matches.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico;

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(43);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = (
  { name = "a"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); },
  { name = "b"; servers = ( { address = "127.0.0.1:%%ORIGIN_1%%"; } ); } );
sites = (
  { hosts = [ "exact.test", "other.test" ];
    routes = ( { path = "/"; upstream = "a"; } ); },
  { hosts = [ "*.wild.test" ];
    routes = ( { path = "/"; upstream = "b"; } ); },
  { hosts = [ "routes.test" ];
    routes = (
      { path = "/api/v1/"; upstream = "b"; },
      { path = "/api/"; upstream = "a"; },
      { path = "/api/v1/shadowed"; upstream = "a"; },
      { path = "/hello"; return = { status = 200; body = "hello world\n";
                                    content_type = "text/html"; }; },
      { path = "/moved"; return = { status = 301;
                                    location = "http://routes.test/new"; }; },
      { path = "/gone"; return = { status = 410; body = "gone\n"; }; } ); }
);
EOF
my ($a, $b) = map { $t->origin($_)->port } 0, 1;

# where(HOST, PATH): which origin answered ('a', 'b'), or the status.
sub where {
	my ($host, $path) = @_;
	my $r = $t->get($path, host => $host);
	my $o = $r->{headers}{'x-origin'} // '';
	return $o eq $a ? 'a' : $o eq $b ? 'b' : $r->{status};
}

# --- sites ------------------------------------------------------------------
is(where('exact.test', '/'), 'a', 'exact host');
is(where('other.test', '/x'), 'a', 'second host of a site');
is(where('EXACT.Test', '/'), 'a', 'host match ignores case');
is(where('exact.test:8080', '/'), 'a', 'host match ignores the port');
is(where('www.exact.test', '/'), 404, 'exact host does not match a subdomain');
is(where('a.wild.test', '/'), 'b', 'wildcard host');
is(where('x-y.wild.test:81', '/'), 'b', 'wildcard host with a port');
is(where('A.WILD.TEST', '/'), 'b', 'wildcard host ignores case');
is(where('wild.test', '/'), 404, 'wildcard does not match the bare domain');
is(where('awild.test', '/'), 404, 'wildcard needs the dot');
is(where('unknown.test', '/'), 404, 'no site: 404');
is(where('127.0.0.1', '/'), 404, 'an IP address host: no site');

my $r = $t->get('/', host => 'unknown.test');
is($r->{status}, 404, 'no site: status');
is($r->{headers}{'x-origin'}, undef, 'no site: answered by the proxy');
like($r->{body}, qr/404/, 'no site: body says 404');

# --- routes -----------------------------------------------------------------
is(where('routes.test', '/api/v1/x'), 'b', 'longer prefix listed first');
is(where('routes.test', '/api/x'), 'a', 'shorter prefix');
is(where('routes.test', '/api/v1/shadowed'), 'b', 'first match wins');
is(where('routes.test', '/api/v1/'), 'b', 'prefix equal to the path');
is(where('routes.test', '/api/v1?q=1'), 'a', 'query is not part of the path');
is(where('routes.test', '/api'), 404, 'prefix longer than the path: no route');
is(where('routes.test', '/apix'), 404, 'no route: 404');
is(where('routes.test', '/'), 404, 'no route for /: 404');
$r = $t->get('/apix', host => 'routes.test');
is($r->{headers}{'x-origin'}, undef, 'no route: answered by the proxy');

# --- return routes ----------------------------------------------------------
my $before = $t->origin(0)->count + $t->origin(1)->count;
$r = $t->get('/hello', host => 'routes.test');
is($r->{status}, 200, 'return: status');
is($r->{body}, "hello world\n", 'return: body');
like($r->{headers}{'content-type'} // '', qr{^text/html\b}, 'return: type');
is($r->{headers}{'content-length'}, 12, 'return: Content-Length');
$r = $t->get('/hello/and/more?x=1', host => 'routes.test');
is($r->{body}, "hello world\n", 'return: matched by prefix');
$r = $t->head('/hello', host => 'routes.test');
is($r->{status}, 200, 'return: HEAD status');
is($r->{body}, '', 'return: HEAD has no body');

$r = $t->get('/moved', host => 'routes.test');
is($r->{status}, 301, 'return: redirect status');
is($r->{headers}{location}, 'http://routes.test/new', 'return: Location');

$r = $t->get('/gone', host => 'routes.test');
is($r->{status}, 410, 'return: 410');
is($r->{body}, "gone\n", 'return: 410 body');
like($r->{headers}{'content-type'} // '', qr{^text/plain\b},
    'return: default content type text/plain');
is($t->origin(0)->count + $t->origin(1)->count, $before,
    'return routes never reach an origin');

# keep-alive across routes and sites on one connection
my $c = $t->connect;
my @got = map {
	my $x = $c->request('GET', $_->[1], host => $_->[0]);
	$x ? ($x->{headers}{'x-origin'} // $x->{status}) : 'none'
} (['exact.test', '/1'], ['a.wild.test', '/2'], ['routes.test', '/hello'],
   ['exact.test', '/3']);
is("@got", "$a $b 200 $a", 'one connection, several sites and routes');
$c->close;

# a 404 of the proxy's own is an answer, not an error: keep-alive goes on
$c = $t->connect;
@got = map {
	my $x = $c->request('GET', $_->[1], host => $_->[0]);
	$x ? ($x->{headers}{'x-origin'} // $x->{status}) : 'none'
} (['nosuch.test', '/'], ['routes.test', '/nope'], ['exact.test', '/4']);
is("@got", "404 404 $a", 'a 404 does not close a keep-alive connection');
$c->close;

# --- a catch-all site -------------------------------------------------------
my $t2 = Test::Portico->new->write_config(<<'EOF')->run;
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = (
  { name = "a"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); },
  { name = "b"; servers = ( { address = "127.0.0.1:%%ORIGIN_1%%"; } ); } );
sites = (
  { hosts = [ "exact.test" ]; routes = ( { path = "/"; upstream = "a"; } ); },
  { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "b"; } ); }
);
EOF
my ($a2, $b2) = map { $t2->origin($_)->port } 0, 1;
$r = $t2->get('/', host => 'exact.test');
is($r->{headers}{'x-origin'}, $a2, 'star: an exact site still wins');
$r = $t2->get('/', host => 'anything.test');
is($r->{headers}{'x-origin'}, $b2, 'star: any other host');
$r = $t2->get('/', host => '127.0.0.1:' . $t2->port(0));
is($r->{headers}{'x-origin'}, $b2, 'star: an IP host');
$r = $t2->get('/', version => '1.0', host => undef);
is($r->{headers}{'x-origin'}, $b2, 'star: HTTP/1.0 without Host');

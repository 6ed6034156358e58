#!/usr/bin/perl
# 20-upstream-limits.t: the bounds on the upstream side of a worker:
# servers.max_conns and max_upstream_connections.  A request that would
# need a connection past either bound gets 503 at once, with an error-log
# line; when a connection frees up, requests are served again.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(http_request);

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(8);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
max_upstream_connections = 2;
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "one"; keepalive = 0;
                servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; max_conns = 1; } ); },
              { name = "two"; keepalive = 0;
                servers = ( { address = "127.0.0.1:%%ORIGIN_1%%"; } ); } );
sites = ( { hosts = [ "one" ]; routes = ( { path = "/"; upstream = "one"; } ); },
          { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "two"; } ); } );
EOF

# max_conns = 1: a second request while the first is in flight
my $a = $t->connect;
$a->send(http_request('GET', '/slow/1500', host => 'one'));
select undef, undef, undef, 0.3;
my $r = $t->get('/now', host => 'one');
is($r->{status}, 503, 'max_conns: the second concurrent request gets 503');
ok($t->wait_for_error_log(qr/max_conns reached/),
    'max_conns: error log says why');
$r = $a->read_response(timeout => 5);
is($r && $r->{status}, 200, 'max_conns: the first request is served');
$r = $t->get('/after', host => 'one');
is($r->{status}, 200, 'max_conns: served again once the first is done');

# max_upstream_connections = 2: two slow requests hold both
my @c = map { $t->connect } 1 .. 2;
$_->send(http_request('GET', '/slow/1500', host => 'x')) for @c;
select undef, undef, undef, 0.3;
$r = $t->get('/third', host => 'x');
is($r->{status}, 503, 'max_upstream_connections: the third gets 503');
ok($t->wait_for_error_log(qr/max_upstream_connections reached/),
    'max_upstream_connections: error log says why');
my @got = map { my $x = $_->read_response(timeout => 5); $x && $x->{status} } @c;
is("@got", '200 200', 'max_upstream_connections: the two are served');
$r = $t->get('/later', host => 'x');
is($r->{status}, 200, 'max_upstream_connections: served again after');

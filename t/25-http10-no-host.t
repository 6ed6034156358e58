#!/usr/bin/perl
# An HTTP/1.0 request without Host is forwarded as HTTP/1.1 without Host:
# a request every conforming origin must answer 400 (RFC 9112 3.2).
use strict; use warnings; use lib 't/lib';
use Test::More; use Test::Portico;
my $t = Test::Portico->new->write_config(<<'EOF2')->run->plan(1);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "app"; } ); } );
EOF2
$t->raw("GET /x HTTP/1.0\r\n\r\n");
my $req = $t->origin(0)->last_request;
like($req->{head}, qr/^GET \/x HTTP\/1\.1\r\n.*^Host: /ms,
    'the HTTP/1.1 request sent upstream has a Host') or diag($req->{head});

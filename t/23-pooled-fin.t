#!/usr/bin/perl
# The origin answers keep-alive and closes at once: its FIN comes in the
# same event as the response (rdhup set), response_done() still pools the
# connection, no new edge ever comes, and the next non-idempotent request
# is sent on it and fails with 502.
use strict; use warnings; use lib 't/lib';
use Test::More; use Test::Portico;
my $t = Test::Portico->new->write_config(<<'EOF2')->run->plan(20);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "app"; } ); } );
EOF2
for my $i (1 .. 10) {
	my $r = $t->get('/quietclose');
	is($r->{status}, 200, "$i: /quietclose");
	select undef, undef, undef, 0.2;	# the origin is long gone
	$r = $t->post('/echo', 'data');
	is($r->{status}, 200, "$i: POST after it");
}
diag(join "\n", grep { /upstream/ } split /\n/, $t->error_log);

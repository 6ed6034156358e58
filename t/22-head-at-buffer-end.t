#!/usr/bin/perl
# A pipelined request whose head ends exactly at the end of the client
# buffer (64K): read_request_body() reads into buf_room(in) == 0 bytes,
# read() returns 0 and the request is dropped as "client closed".
use strict; use warnings; use lib 't/lib';
use Test::More; use Test::Portico qw(http_request);
my $t = Test::Portico->new->write_config(<<'EOF2')->run->plan(4);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "app"; } ); } );
EOF2
for my $slack (0, 100) {
	my $a = http_request('POST', '/echo', body => 'a' x 40000);
	my $bhead = http_request('POST', '/echo', headers => [['Content-Length', 5], ['X-Pad', '']]);
	my $pad = 65536 - $slack - length($a) - length($bhead);
	# $pad value bytes to spread over X-Pad headers of <= 4000 bytes each
	my @pads = (['X-Pad', '']);
	while ($pad > 4000) { $pads[-1][1] = 'p' x 4000; $pad -= 4000; push @pads, ['X-Pad', '']; $pad -= 9 }
	$pads[-1][1] = 'p' x $pad;
	$bhead = http_request('POST', '/echo', headers => [['Content-Length', 5], @pads]);
	die unless length($a) + length($bhead) == 65536 - $slack;
	my $c = $t->connect;
	$c->send($a . $bhead);
	my $r1 = $c->read_response;
	ok($r1 && $r1->{status} == 200, "slack $slack: first request answered");
	select undef, undef, undef, 0.3;
	$c->send('hello');
	my $r2 = $c->read_response(timeout => 3);
	ok($r2 && $r2->{status} == 200 && $r2->{body} =~ /hello\z/,
	    "slack $slack: second request (head ends at buffer end - $slack) answered");
	$c->close;
}
diag(join "\n", grep { /closed the connection/ } split /\n/, $t->error_log);

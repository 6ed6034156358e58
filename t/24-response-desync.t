#!/usr/bin/perl
# An origin that answers HEAD with a body larger than one read (a common
# framework bug).  scan_response_body() drops what it read past the head,
# response_done() pools the connection anyway with the rest of the body
# still in the socket (and up->readable still set, so no new edge is
# needed), and the next request on that connection reads those bytes as
# its response: a response desync.
use strict; use warnings; use lib 't/lib';
use Test::More; use Test::Portico qw(http_request);
use IO::Socket::INET; use POSIX ();
my $t = Test::Portico->new;
my $op = $t->port(1);
my $pid = fork;
if ($pid == 0) {
	my $l = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $op,
	    Listen => 16, ReuseAddr => 1) or die;
	alarm 30;
	while (my $c = $l->accept) {
		next if fork;
		my $buf = '';
		while (1) {
			while ($buf !~ /\r\n\r\n/) { sysread($c, $buf, 65536, length $buf) or POSIX::_exit(0) }
			$buf =~ s/^(\S+) (\S+)[^\n]*\n.*?\r\n\r\n//s;
			my ($m, $p) = ($1, $2);
			if ($m eq 'HEAD') {
				my $fake = "HTTP/1.1 200 OK\r\nContent-Length: 8\r\n\r\nSMUGGLED";
				my $body = ("x" x 22) . $fake x 8000;
				syswrite($c, "HTTP/1.1 200 OK\r\nContent-Length: " . length($body) . "\r\n\r\n" . $body);
			} else {
				syswrite($c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
			}
		}
	}
	POSIX::_exit(0);
}
$t->write_config(<<'EOF2')->run->plan(10);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app"; servers = ( { address = "127.0.0.1:%%PORT_1%%"; } ); } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "app"; } ); } );
EOF2
for my $i (1 .. 5) {
	my $c = $t->connect;
	$c->send(http_request('HEAD', '/big') . http_request('GET', '/y'));
	my $r1 = $c->read_response(method => 'HEAD');
	my $r2 = $c->read_response;
	is($r1 && $r1->{status}, 200, "$i: HEAD answered");
	is($r2 && "$r2->{status} $r2->{body}", '200 ok',
	    "$i: the GET after it gets its own response");
	$c->close;
}
kill 'TERM', $pid; waitpid $pid, 0;
diag(join "\n", grep { /upstream/ } split /\n/, $t->error_log);

#!/usr/bin/perl
# Pipelined requests answered locally recurse client_done -> read_head ->
# start_request -> respond_local -> write_local -> client_done ... without
# unwinding: enough of them overflow the worker's stack.
use strict; use warnings; use lib 't/lib';
use Test::More; use Test::Portico;
use IO::Socket::INET; use POSIX ();
my $t = Test::Portico->new->write_config(<<'EOF2')->run->plan(2);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
keepalive_requests = 0;
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/"; return = { status = 200; body = "k"; }; } ); } );
EOF2
my $N = 2000000;
my $req = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port(0)) or die;
my $pid = fork;
if ($pid == 0) { my $all = $req x $N; my $off = 0;
	while ($off < length $all) { my $n = syswrite($s, $all, 1 << 20, $off); last unless $n; $off += $n }
	POSIX::_exit(0); }
my ($buf, $bytes, $one) = ('', 0, 0);
while (1) { my $n = sysread($s, $buf, 1 << 22); last unless $n;
	$one ||= index($buf, "k") + 1; $bytes += $n; last if $one && $bytes >= $N * $one }
my $got = $one ? int($bytes / $one) : 0;
waitpid $pid, 0;
is($got, $N, "all $N pipelined responses arrived (got $got)");
unlike($t->error_log, qr/killed by signal/, 'worker did not crash');
diag(join "\n", grep { /signal|restart/ } split /\n/, $t->error_log);

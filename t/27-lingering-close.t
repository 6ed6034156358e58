#!/usr/bin/perl
# 27-lingering-close.t: when Portico answers a request without reading
# its body (a return route, 413) and closes, it first drains what the
# client still sends, so that the kernel does not answer those bytes with
# a reset that destroys the response before the client has read it.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(parse_responses);
use IO::Socket::INET;

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(4);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
max_body_size = "2M";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/static"; return = { status = 200; body = "here\n"; }; },
               { path = "/"; upstream = "app"; } ); } );
EOF

# send HEAD, then BODY in pieces with pauses, whatever happens; then read
sub exchange {
	my ($head, $body) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1:' . $t->port(0))
	    or die "connect: $!";
	$s->autoflush(1);
	local $SIG{PIPE} = 'IGNORE';
	syswrite($s, $head);
	select undef, undef, undef, 0.2;	# the answer is sent by now
	for (my $off = 0; $off < length $body; $off += 65536) {
		last unless defined syswrite($s, substr($body, $off, 65536));
		select undef, undef, undef, 0.01;
	}
	my $got = '';
	my $end = time + 5;
	while (time < $end) {
		my $k = sysread($s, $got, 65536, length $got);
		last unless $k;
	}
	return (parse_responses($got))[0];
}

my $body = 'b' x (1024 * 1024);
my $r = exchange("POST /static HTTP/1.1\r\nHost: a\r\nConnection: close\r\n" .
    "Content-Length: " . length($body) . "\r\n\r\n", $body);
is($r && $r->{status}, 200, 'return route, unread 1 MB body: answer arrives');
is($r && $r->{body}, "here\n", 'return route: body intact');

$body = 'c' x (3 * 1024 * 1024);
$r = exchange("POST /up HTTP/1.1\r\nHost: a\r\n" .
    "Content-Length: " . length($body) . "\r\n\r\n", $body);
is($r && $r->{status}, 413, 'body over max_body_size: the 413 arrives');
is($t->origin(0)->count, 0, '413: the origin saw nothing');

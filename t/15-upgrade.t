#!/usr/bin/perl
# 15-upgrade.t: Connection: Upgrade (websocket) through the proxy: the
# request forwarded with its Upgrade headers, the 101, then a two-way
# tunnel closed after tunnel_timeout idle.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use IO::Select;
use Test::Portico qw(http_request req_header);

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(23);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
tunnel_timeout = "1500ms";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app"; keepalive = 32;
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/"; upstream = "app"; } ); } );
EOF
my $o = $t->origin(0);

my @ws = (['Connection', 'Upgrade'], ['Upgrade', 'websocket'],
    ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='],
    ['Sec-WebSocket-Version', '13']);

# exchange(C, BYTES): send BYTES through the tunnel and read them back,
# writing and reading at the same time (bounded: 10 s).
sub exchange {
	my ($c, $bytes) = @_;
	$c->{buf} = '';
	my $sock = $c->sock or return '';
	my $off = 0;
	my $deadline = time + 10;
	while (length $c->{buf} < length $bytes && !$c->{eof}) {
		my $left = $deadline - time;
		last if $left <= 0;
		my $w = $off < length $bytes ? IO::Select->new($sock) : undef;
		my ($r, $wr) = IO::Select->select(IO::Select->new($sock), $w,
		    undef, $left);
		if ($wr && @$wr) {
			my $n = syswrite($sock, $bytes, 65536, $off);
			$off += $n if $n;
		}
		$c->read_more(0) if $r && @$r;
	}
	return $c->{buf};
}

my $c = $t->connect;
my $r = $c->request('GET', '/ws', headers => \@ws);
is($r && $r->{status}, 101, 'upgrade: 101 from the origin');
like($r && $r->{headers}{upgrade} // '', qr/^websocket$/i,
    'upgrade: Upgrade: websocket in the 101');
like($r && $r->{headers}{connection} // '', qr/upgrade/i,
    'upgrade: Connection: upgrade in the 101');
my $q = $o->last_request;
like(req_header($q, 'Upgrade') // '', qr/^websocket$/i,
    'upgrade: the origin got Upgrade: websocket');
like(req_header($q, 'Connection') // '', qr/upgrade/i,
    'upgrade: the origin got Connection: upgrade');
is(req_header($q, 'Sec-WebSocket-Key'), 'dGhlIHNhbXBsZSBub25jZQ==',
    'upgrade: the origin got the websocket key');

is(exchange($c, "hello"), "hello", 'tunnel: client -> origin -> client');
is(exchange($c, "\x81\x05world"), "\x81\x05world", 'tunnel: binary frame');
my $all = join '', map { chr } 0 .. 255;
is(exchange($c, $all), $all, 'tunnel: every byte value');
my $big = join '', map { sprintf "%015d\n", $_ } 0 .. 65535;	# 1 MiB
ok(exchange($c, $big) eq $big, 'tunnel: 1 MiB both ways exact');
is(exchange($c, "GET /not-http HTTP/1.1\r\nHost: a\r\n\r\n"),
    "GET /not-http HTTP/1.1\r\nHost: a\r\n\r\n",
    'tunnel: bytes that look like HTTP are just bytes');
ok(!grep({ $_->{target} eq '/not-http' } $o->requests),
    'tunnel: the origin did not parse tunnel bytes as a request');

# tunnel_timeout: an idle tunnel is closed
my $start = time;
my $closed = $c->closed(6);
my $idle = time - $start;
ok($closed, 'tunnel_timeout: the idle tunnel is closed');
ok($idle > 1.2 && $idle < 4.5,
    sprintf('tunnel_timeout: after about 1500ms (%.2fs)', $idle));
$c->close;

# activity keeps the tunnel open past tunnel_timeout
$c = $t->connect;
$r = $c->request('GET', '/ws', headers => \@ws);
my $ok = $r && $r->{status} == 101;
for my $i (1 .. 4) {
	select undef, undef, undef, 0.6;
	$ok &&= exchange($c, "ping$i") eq "ping$i";
}
ok($ok, 'tunnel_timeout: counts from the last byte (2.4s of pings)');
$c->close;

# Upgrade without "Connection: upgrade" is a hop-by-hop header: stripped
$c = $t->connect;
$r = $c->request('GET', '/ws', headers => [['Upgrade', 'websocket']]);
is($r && $r->{status}, 426, 'Upgrade without Connection: not upgraded');
is(req_header($o->last_request, 'Upgrade'), undef,
    'Upgrade without Connection: stripped');
$r = $c->request('GET', '/plain');
is($r && $r->{status}, 200,
    'Upgrade without Connection: the connection stays HTTP');
$c->close;

# an origin that refuses the upgrade: plain HTTP goes on
$c = $t->connect;
$r = $c->request('GET', '/no-upgrade-here', headers => \@ws);
is($r && $r->{status}, 200, 'upgrade refused by the origin: 200');
is($r && $r->{body}, 'origin ' . $o->port . ' /no-upgrade-here',
    'upgrade refused: body');
$r = $c->request('GET', '/then');
is($r && $r->{status}, 200, 'upgrade refused: the connection stays HTTP');
$c->close;

# two tunnels at once do not mix
my $c1 = $t->connect;
my $c2 = $t->connect;
$c1->request('GET', '/ws', headers => \@ws);
$c2->request('GET', '/ws', headers => \@ws);
my $a = exchange($c1, 'one');
my $b = exchange($c2, 'two');
is("$a $b", 'one two', 'two tunnels at once');
ok($t->alive, 'portico is still running');

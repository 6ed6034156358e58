#!/usr/bin/perl
# 33-passive.t: upstreams without active checks.  max_fails failures
# take a server out; after fail_timeout one request tries it again and
# its success brings it back; with no server left the answer is 503 with
# Retry-After; random_two spreads over the servers; the admin listener
# refuses an address outside admin.allow.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(wait_until);

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(12);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
admin = { address = "127.0.0.1:%%PORT_8%%"; allow = [ "10.0.0.0/8", "::1" ]; };
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = (
  { name = "p"; max_fails = 1; fail_timeout = "1s"; tries = 1;
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; },
                { address = "127.0.0.1:%%ORIGIN_1%%"; } ); },
  { name = "slow"; max_fails = 1; fail_timeout = "500ms"; tries = 1;
    servers = ( { address = "127.0.0.1:%%ORIGIN_5%%"; weight = 20; slow_start = "3s"; },
                { address = "127.0.0.1:%%ORIGIN_6%%"; weight = 20; } ); },
  { name = "two"; balance = "random_two";
    servers = ( { address = "127.0.0.1:%%ORIGIN_2%%"; },
                { address = "127.0.0.1:%%ORIGIN_3%%"; },
                { address = "127.0.0.1:%%ORIGIN_4%%"; } ); } );
sites = ( { hosts = [ "*" ];
            routes = ( { path = "/p/"; upstream = "p"; },
                       { path = "/slow/"; upstream = "slow"; },
                       { path = "/two/"; upstream = "two"; } ); } );
EOF

sub origin_of { $_[0]{headers}{'x-origin'} // 0 }
sub state_of {
	my ($n) = @_;
	my $st = $t->status // return '';
	return $st->{servers}{'p 127.0.0.1:' . $t->origin_port($n)}{state} // '';
}

# Origin 0 dies; tries = 1, so a client sees the failure that takes it
# out, and none after.
$t->stop_origin(0);
my @st = map { $t->get('/p/x')->{status} } 1 .. 6;
is(scalar(grep { $_ == 502 } @st), 1,
    'max_fails = 1: one failed request, then the server is out');
is(state_of(0), 'down', 'status: down');

# Both dead: 503 with Retry-After (fail_timeout, in seconds).
$t->stop_origin(1);
$t->get('/p/x') for 1 .. 2;
my $r = $t->get('/p/x');
is($r->{status}, 503, 'no server left: 503');
is($r->{headers}{'retry-after'}, '1', '... with Retry-After: 1');
like($t->error_log, qr/no server available/, '... and an error-log line');

# Origin 0 comes back: after fail_timeout one request tries it.
delete $t->{origins}{$_} for 0, 1;
$t->start_origin(0);
$t->start_origin(1);
my $back = wait_until(sub {
	my $x = $t->get('/p/x');
	$x->{status} == 200 && origin_of($x) == $t->origin_port(0);
}, timeout => 5, interval => 0.2);
ok($back, 'after fail_timeout, a request tries the server again');
is(state_of(0), 'up', '... and its success brings it back');
like($t->error_log, qr/server 127\.0\.0\.1:\d+ is up again/,
    '... which is logged');

# random_two spreads.
my %n;
my $c = $t->connect;
$n{origin_of($c->request('GET', '/two/x'))}++ for 1 .. 300;
ok((grep { $_ > 30 } values %n) == 3, 'random_two uses all three servers: '
    . join(' ', sort { $a <=> $b } values %n));

# The admin listener refuses 127.0.0.1 when allow does not name it.
is($t->get('/status', port => $t->port(8))->{status}, 403,
    'admin: an address outside admin.allow gets 403');

# slow_start: back from down, origin 5 first gets a small share.
$t->stop_origin(5);
$t->get('/slow/x') for 1 .. 4;
delete $t->{origins}{5};
$t->start_origin(5);
ok(wait_until(sub { origin_of($t->get('/slow/x')) == $t->origin_port(5) },
    timeout => 5, interval => 0.1), 'origin 5 is back');
my $share = 0;
$c = $t->connect;
for (1 .. 200) {
	$share++ if origin_of($c->request('GET', '/slow/x')) ==
	    $t->origin_port(5);
}
cmp_ok($share, '<', 70, "slow_start: just back, it gets less than its half "
    . "of 200 requests ($share)");

#!/usr/bin/perl
# 14-errors.t: the errors the proxy answers itself when the origin fails
# (502 unreachable, garbage, dropped; 504 read_timeout) or the client is
# too slow (408), each with a short HTML body and an error-log line naming
# the client address and the reason.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use Test::Portico qw(http_request);

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(47);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
client_header_timeout = "1s";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = (
  { name = "app"; read_timeout = "1s"; connect_timeout = "1s";
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); },
  { name = "dead"; connect_timeout = "1s";
    servers = ( { address = "127.0.0.1:%%PORT_1%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/dead/"; upstream = "dead"; },
               { path = "/"; upstream = "app"; } ); } );
EOF
my $op = $t->origin(0)->port;
my $dead = $t->port(1);

# error_case(NAME, TARGET, STATUS, REASON_RE, UPSTREAM_PORT): one request
# on its own connection; checks the status, the HTML body and the error
# log line (client address and port, reason, upstream).  Returns the time
# the answer took.
sub error_case {
	my ($name, $target, $status, $reason, $upport) = @_;
	my $c = $t->connect;
	my $lport = $c->local_port;
	my $start = time;
	$c->send(http_request('GET', $target));
	my $r = $c->read_response(timeout => 6);
	my $took = time - $start;
	is($r && $r->{status}, $status, "$name: $status");
	like($r && $r->{headers}{'content-type'} // '', qr{^text/html},
	    "$name: HTML body");
	like($r && $r->{body} // '', qr/\b$status\b/,
	    "$name: the body says $status");
	is($r && $r->{headers}{'x-origin'}, undef,
	    "$name: nothing of the origin's reply leaks");
	my $line = $t->wait_for_error_log(qr/127\.0\.0\.1:$lport\b/);
	ok($line, "$name: error log names the client 127.0.0.1:$lport")
	    or diag($t->error_log);
	like($line // '', $reason, "$name: error log gives the reason");
	like($line // '', qr/:$upport\b/, "$name: error log names the upstream")
	    if $upport;
	$c->close;
	return $took;
}

error_case('unreachable', '/dead/x', 502, qr/refused|connect/i, $dead);
error_case('garbage', '/garbage', 502, qr/invalid|malformed|bad|pars/i, $op);
error_case('drop', '/drop', 502,
    qr/clos|reset|eof|prematur|no response|without/i, $op);
my $took = error_case('hang', '/hang', 504, qr/tim/i, $op);
ok($took > 0.8 && $took < 4,
    sprintf('hang: 504 after about read_timeout (%.2fs)', $took));

# read_timeout is between two reads, not for the whole response
my $r = $t->get('/slow/300');
is($r->{status}, 200, 'a slow (300ms) origin within read_timeout: 200');
$r = $t->get('/slowbody/10/300', timeout => 10);
is($r->{status}, 200, 'a body trickling for 3s, 300ms gaps: 200');
is($r->{body}, 'x' x 10, 'trickling body exact');

# a response that stalls after it started cannot become a 504: the client
# connection is closed and the response left incomplete
my $c = $t->connect;
$c->send(http_request('GET', '/slowbody/10/1500'));
$r = $c->read_response(timeout => 8);
ok(!$r || $r->{status} != 200, 'stalled body: never a complete 200');
ok(($r && $r->{status} == 504) ||
    (!$r && $c->{eof} && $c->{buf} =~ m{^HTTP/1\.1 200 }),
    'stalled body: 504, or the started response cut by a close');
$c->close;

# --- client_header_timeout: 408 -------------------------------------------
$c = $t->connect;
my $lport = $c->local_port;
my $start = time;
$c->send("GET /half HTTP/1.1\r\nHost: a\r\n");
$r = $c->read_response(timeout => 5);
$took = time - $start;
is($r && $r->{status}, 408, 'half a head: 408');
ok($took > 0.8 && $took < 4,
    sprintf('half a head: after about client_header_timeout (%.2fs)', $took));
ok($c->closed(2), 'half a head: connection closed');
my $line = $t->wait_for_error_log(qr/127\.0\.0\.1:$lport\b/);
ok($line, '408: error log names the client') or diag($t->error_log);
like($line // '', qr/tim/i, '408: error log says timed out');
$c->close;

# a client that sends a byte every 200ms never completes its head in time
$c = $t->connect;
$start = time;
my $head = "GET /slowloris HTTP/1.1\r\nHost: a\r\nX-Long: " . ('a' x 40);
for my $ch (split //, $head) {
	last unless $c->send($ch);
	last if time - $start > 6;
	last if $c->read_more(0.2) || $c->{eof};
}
$r = $c->read_response(timeout => 3);
$took = time - $start;
ok(($r && $r->{status} == 408) || ($c->{eof} && $c->{buf} eq ''),
    'trickled head: 408 (or closed)');
ok($took < 4.5,
    sprintf('trickled head: client_header_timeout is for the whole head ' .
    '(%.2fs)', $took));
$c->close;

# a connection that sends nothing is closed too
$c = $t->connect;
$start = time;
ok($c->closed(5), 'silent connection: closed');
$took = time - $start;
ok($took < 4, sprintf('silent connection: closed in time (%.2fs)', $took));
like($c->{buf}, qr{^(|HTTP/1\.1 408 .*)$}s, 'silent connection: nothing or 408');
$c->close;

# --- after all that ---------------------------------------------------------
is(scalar(grep { $_->{target} eq '/half' || $_->{target} eq '/slowloris' }
    $t->origin(0)->requests), 0, 'incomplete heads never reach the origin');
$r = $t->get('/fine');
is($r->{status}, 200, 'the proxy still serves');
ok($t->alive, 'portico is still running');

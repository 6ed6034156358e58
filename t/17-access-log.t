#!/usr/bin/perl
# 17-access-log.t: one access-log line per request, in the combined format
# plus the upstream address, the upstream time and the total time:
#   127.0.0.1 - - [28/Nov/2026:10:00:00 +0000] "GET /x HTTP/1.1" 200 123
#   "referer" "user-agent" 127.0.0.1:8000 0.001 0.002
# written in blocks, flushed at least every second and at exit.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use Time::Local qw(timegm);
use Test::Portico;

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(39);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
access_log = { path = "%%TESTDIR%%/access.log"; };
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app";
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/ret"; return = { status = 200; body = "ret\n"; }; },
               { path = "/log/"; upstream = "app"; },
               { path = "/slow/"; upstream = "app"; } ); } );
EOF
my $op = $t->origin(0)->port;
my %mon;
@mon{qw(Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec)} = 0 .. 11;
my $q = qr/"((?:[^"\\]|\\.)*)"/;
my $format = qr{^(\S+) - - \[(\d\d)/(\w\w\w)/(\d{4}):(\d\d):(\d\d):(\d\d) } .
    qr{([-+]\d{4})\] $q (\d{3}) (\d+) $q $q (\S+) (\d+\.\d{3}|-) } .
    qr{(\d+\.\d{3})$};

# entry(PATH): wait for the line of the request for PATH and parse it.
sub entry {
	my ($path) = @_;
	my $line = $t->wait_for_access_log(qr/"\S+ \Q$path\E /, timeout => 4);
	return undef unless defined $line;
	my @f = $line =~ $format or return { line => $line };
	my %e;
	@e{qw(client day mon year h m s tz request status bytes referer agent
	    upstream utime time)} = @f;
	$e{line} = $line;
	my $off = ($e{tz} =~ /^([-+])(\d\d)(\d\d)$/) ?
	    ($1 eq '-' ? -1 : 1) * ($2 * 3600 + $3 * 60) : 0;
	$e{epoch} = exists $mon{$e{mon}} ? timegm($e{s}, $e{m}, $e{h},
	    $e{day}, $mon{$e{mon}}, $e{year}) - $off : 0;
	return \%e;
}

# --- a proxied request with every field -------------------------------------
my $start = time;
my $r = $t->get('/log/a', headers => [['Referer', 'http://ref.test/page'],
    ['User-Agent', 'agent/1.0 (test)']]);
is($r->{status}, 200, 'request answered');
my $e = entry('/log/a');
ok($e, 'a line for the request') or diag($t->access_log);
ok($e && $e->{request}, 'the line has the combined format')
    or diag($e && $e->{line});
$e //= {};
ok(time - $start < 4, 'the line is written within the flush interval');
is($e->{client}, '127.0.0.1', 'client address');
ok(abs(($e->{epoch} // 0) - time) < 120, 'timestamp is now')
    or diag($e->{line});
is($e->{request}, 'GET /log/a HTTP/1.1', 'request line');
is($e->{status}, 200, 'status');
is($e->{bytes}, length("origin $op /log/a"), 'body bytes sent');
is($e->{referer}, 'http://ref.test/page', 'referer');
is($e->{agent}, 'agent/1.0 (test)', 'user agent');
is($e->{upstream}, "127.0.0.1:$op", 'upstream address');
like($e->{utime} // '', qr/^\d+\.\d{3}$/, 'upstream time in seconds.ms');
like($e->{time} // '', qr/^\d+\.\d{3}$/, 'total time in seconds.ms');
ok(($e->{time} // 0) >= (($e->{utime} // '') eq '-' ? 0 : $e->{utime} // 0),
    'total time >= upstream time');

# --- no referer, no user agent ------------------------------------------------
$t->get('/log/b');
$e = entry('/log/b') // {};
is($e->{referer}, '-', 'no referer: -');
is($e->{agent}, '-', 'no user agent: -');

# --- HEAD: no body bytes -------------------------------------------------------
$t->head('/log/head');
$e = entry('/log/head') // {};
is($e->{request}, 'HEAD /log/head HTTP/1.1', 'HEAD: request line');
is($e->{bytes}, 0, 'HEAD: 0 body bytes');

# --- a return route and a 404: no upstream ---------------------------------------
$t->get('/ret');
$e = entry('/ret') // {};
is($e->{status}, 200, 'return route: status');
is($e->{bytes}, 4, 'return route: body bytes');
is($e->{upstream}, '-', 'return route: upstream -');

$t->get('/nowhere');
$e = entry('/nowhere') // {};
is($e->{status}, 404, 'no route: 404');
is($e->{upstream}, '-', 'no route: upstream -');

# --- an HTTP/1.0 request and a larger body --------------------------------------
$t->get('/log/size', version => '1.0');
$e = entry('/log/size') // {};
is($e->{request}, 'GET /log/size HTTP/1.0', 'HTTP/1.0 request line');

# --- times -----------------------------------------------------------------------
$t->get('/slow/400');
$e = entry('/slow/400') // {};
ok(($e->{utime} // 0) ne '-' && ($e->{utime} // 0) >= 0.39,
    'slow origin: upstream time >= 0.4 (' . ($e->{utime} // '') . ')');
ok(($e->{time} // 0) >= 0.39, "slow origin: total time >= 0.4");
ok(($e->{time} // 9) < 3, 'slow origin: total time sane');

# --- quotes and odd bytes cannot break the line ----------------------------------
$t->get('/log/quote', headers => [['User-Agent', 'evil" 404 "x'],
    ['Referer', 'a\\"b']]);
$e = entry('/log/quote') // {};
ok($e->{request}, 'a quote in the user agent: the line still parses')
    or diag($e->{line});
is($e->{status}, 200, 'a quote in the user agent: status field intact');
unlike($e->{agent} // '', qr/(?<!\\)"/, 'the quote is escaped');

# --- one line per request -----------------------------------------------------
my $c = $t->connect;
$c->request('GET', "/log/k$_") for 1 .. 3;
$c->close;
my @k = $t->wait_for_access_log(qr{"GET /log/k\d HTTP}, count => 3,
    timeout => 4);
is(scalar @k, 3, 'three requests on one connection: three lines');
like(join("\n", @k), qr{/log/k1 .*\n.*/log/k2 .*\n.*/log/k3 }, 'in order');
my @all = split /\n/, $t->access_log;
is(scalar(grep { m{/log/a } } @all), 1, 'each request logged once');
is(scalar(grep { !/^\S+ - - \[/ } @all), 0, 'every line in the format');

# --- errors are logged too ---------------------------------------------------
$t->raw("GET /log/bad HTTP/1.1\r\nHost: a\r\nX: a\0b\r\n\r\n");
my $bad = $t->wait_for_access_log(qr/ 400 /, timeout => 4);
ok($bad, 'a 400 gets a line') or diag($t->access_log);

# --- the buffer is flushed at exit ----------------------------------------------
$t->get('/log/last');
$t->stop;
like($t->access_log, qr{"GET /log/last HTTP/1\.1" 200 }, 'flushed at exit');
my @lines = split /\n/, $t->access_log;
ok(@lines >= 12, 'all the lines are there at exit');
unlike($t->access_log, qr/[^\n]\z/, 'the file ends with a whole line');

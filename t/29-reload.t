#!/usr/bin/perl
# 29-reload.t: reload through proxyctl and SIGHUP.  An accepted config
# starts a new generation that serves it; a refused one leaves the
# running generation untouched and says why (proxyctl, error log,
# status); a keep-alive connection of the old generation gets its next
# answer with Connection: close; an in-flight response finishes;
# listeners are added and removed; a down server stays down across a
# reload; and keep-alive clients see no failure while reloads happen.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(wait_until);
use IO::Socket::INET;
use POSIX qw(WNOHANG);

my $conf = <<'EOF';
workers = 2;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
shutdown_timeout = "10s";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } LISTENER1 );
upstreams = ( { name = "app"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); },
              { name = "checked";
                servers = ( { address = "127.0.0.1:%%ORIGIN_1%%"; }, { address = "127.0.0.1:%%PORT_9%%"; } );
                health = { path = "/"; interval = "200ms"; timeout = "200ms"; rise = 1; fall = 1; }; } );
sites = ( { hosts = [ "*" ];
            routes = ( { path = "/app/"; upstream = "app"; },
                       { path = "/checked/"; upstream = "checked"; },
                       { path = "/"; return = { status = 200; body = "BODY\n"; }; } ); } );
EOF

sub config {
	my ($body, %o) = @_;
	my $c = $conf;
	$c =~ s/BODY/$body/;
	my $l1 = $o{listener1} ? ', { address = "127.0.0.1:%%PORT_1%%"; }' : '';
	$c =~ s/LISTENER1/$l1/;
	$c .= $o{extra} // '';
	return $c;
}

my $t = Test::Portico->new->write_config(config('one'))->run->plan(38);

sub body_at {
	my ($port) = @_;
	my $r = $t->http('GET', '/', port => $port // $t->port(0));
	return $r ? $r->{body} : '';
}

my $st = $t->status;
is($st->{generation}, 1, 'status: generation 1');
is(scalar $t->serving_workers(1), 2, 'status: 2 workers of generation 1 serve');
is($st->{reload}, 'none yet', 'status: no reload yet');
is(body_at(), "one\n", 'generation 1 serves its config');
my %gen1 = map { $_->{pid} => 1 } @{$st->{workers}};

# A keep-alive connection of generation 1, and a slow response in flight.
my $ka = $t->connect;
my $r = $ka->request('GET', '/');
is($r->{body}, "one\n", 'keep-alive connection answered by generation 1');
my $slow = $t->connect;
$slow->send("GET /app/slow/1500 HTTP/1.1\r\nHost: a\r\n\r\n");
$t->origin(0)->wait_requests(1);

# An accepted reload.
$t->write_config(config('two', listener1 => 1));
my ($rc, $out) = $t->ctl('reload');
is($rc, 0, 'reload: exit 0') or diag($out);
like($out, qr/^portico reloaded: generation 2 serving$/m, 'reload: says so');
is(body_at(), "two\n", 'generation 2 serves the new config');
is(body_at($t->port(1)), "two\n", 'a listener added by the reload serves');
$st = $t->status;
is($st->{generation}, 2, 'status: generation 2');
is($st->{reload}, 'accepted, generation 2', 'status: the reload was accepted');
ok(!grep({ $gen1{$_->{pid}} } $t->serving_workers(2)),
    'generation 2 runs new worker processes');

$r = $ka->request('GET', '/');
is($r && $r->{body}, "one\n",
    'the old keep-alive connection gets its next answer from generation 1');
like($r && $r->{headers}{connection} // '', qr/close/,
    '... with Connection: close');
ok($ka->closed(3), '... and is closed after it');
$r = $slow->read_response(timeout => 5);
is($r && $r->{status}, 200, 'a response in flight during the reload finishes');
$slow->close;
ok(wait_until(sub { !grep { kill 0, $_ } keys %gen1 }, timeout => 10),
    'the workers of generation 1 leave once done');
$t->wait_for_error_log(qr/generation 1 has left/);
like($t->error_log, qr/generation 1 has left/, 'the master logs that it left');

# A refused reload: generation 2 goes on.
$t->write_config(config('three', listener1 => 1, extra => "bogus = 1;\n"));
($rc, $out) = $t->ctl('reload');
is($rc, 1, 'refused reload: exit 1');
like($out, qr/^proxyctl: reload refused: \S+portico\.conf:\d+: unknown setting 'bogus'$/m,
    'refused reload: proxyctl says why, with file:line');
like($t->error_log, qr/reload refused: \S+:\d+: unknown setting 'bogus'/,
    'refused reload: the error log says why');
is(body_at(), "two\n", 'refused reload: generation 2 still serves');
$st = $t->status;
is($st->{generation}, 2, 'refused reload: status says generation 2');
like($st->{reload}, qr/^refused: .*unknown setting 'bogus'/,
    'refused reload: status says it was refused, and why');
is(scalar $t->serving_workers(2), 2, 'refused reload: its workers untouched');

# A refused reload: a new listener that cannot be bound.
my $squatter = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
    LocalPort => $t->port(2), Listen => 1, ReuseAddr => 0) or die "bind: $!";
my $c3 = config('three', listener1 => 1);
$c3 =~ s/(%%PORT_1%%"; \})/$1, { address = "127.0.0.1:%%PORT_2%%"; }/;
$t->write_config($c3);
($rc, $out) = $t->ctl('reload');
is($rc, 1, 'a listener that cannot be bound refuses the reload');
like($out, qr/reload refused: \S+:\d+: cannot listen on 127\.0\.0\.1:\d+: Address already in use/,
    '... and says which and why');
is(body_at(), "two\n", '... while generation 2 serves on');
close $squatter;

# The checked upstream: the server on PORT_9 is down (nothing listens);
# a reload keeps its slot, so it is down from the first moment.
$t->write_config(config('three', listener1 => 1));
ok(wait_until(sub {
	my $s = $t->status;
	$s && ($s->{servers}{"checked 127.0.0.1:" . $t->port(9)}{state} // '') eq 'down';
}, timeout => 5), 'the checker marks the server without a listener down');
is($t->http('GET', '/checked/a')->{status}, 200, 'the other one serves');

# Remove listener 1 with SIGHUP, as an init system would.
$t->write_config(config('four'));
$t->signal('HUP');
ok(wait_until(sub { ($t->status // {})->{generation} == 3 }, timeout => 10),
    'SIGHUP reloads too: generation 3');
$st = $t->status;
is($st->{servers}{"checked 127.0.0.1:" . $t->port(9)}{state}, 'down',
    'a down server is still down in the next generation');
ok($st->{servers}{"checked 127.0.0.1:" . $t->port(9)}{for} >= 0 &&
    $st->{servers}{"checked 127.0.0.1:" . $t->port(9)}{checks} > 0,
    '... with its history (checks counted before the reload)');
is(body_at(), "four\n", 'generation 3 serves its config');
ok(wait_until(sub {
	!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port(1))
}, timeout => 10), 'a listener removed by the reload is closed');

# Keep-alive clients while reloads happen: no failure.
my $clients = 6;
my $dir = $t->testdir;
my @kids;
for my $k (1 .. $clients) {
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		my ($ok, $fail, $c) = (0, 0, undef);
		my $end = time + 4;
		while (time < $end) {
			$c //= $t->connect;
			unless ($c) { $fail++; next }
			my $x = $c->request('GET', '/app/load', timeout => 5);
			if (!$x || $x->{status} != 200) {
				$fail++;
				$c = undef;
				next;
			}
			$ok++;
			$c = undef if ($x->{headers}{connection} // '') =~ /close/;
		}
		open my $f, '>', "$dir/load.$k" or die;
		print $f "$ok $fail\n";
		close $f;
		POSIX::_exit(0);
	}
	push @kids, $pid;
}
for my $n (1 .. 5) {
	select undef, undef, undef, 0.6;
	$t->write_config(config("load$n"));
	my ($rc) = $t->ctl('reload');
	die "reload $n failed" if $rc != 0;
}
waitpid($_, 0) for @kids;
my ($ok, $fail) = (0, 0);
for my $k (1 .. $clients) {
	open my $f, '<', "$dir/load.$k" or next;
	my ($o, $e) = split ' ', scalar <$f>;
	$ok += $o;
	$fail += $e;
}
is($fail, 0, "5 reloads under load: no failed request ($ok answered)");
cmp_ok($ok, '>', 100, '... and requests were answered all along');
is(($t->status // {})->{generation}, 8, '... generation 8 serves');

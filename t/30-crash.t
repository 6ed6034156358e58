#!/usr/bin/perl
# 30-crash.t: the life of the processes.  A worker or the checker killed
# with SIGKILL while requests flow is replaced promptly, and connections
# queued meanwhile are served; a child that dies right after each start
# is restarted with a growing back-off, loudly; SIGQUIT lets a slow
# response in flight finish, then refuses new connections; when the
# master dies, the workers finish what they serve and leave.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(wait_until);
use IO::Socket::INET;
use Time::HiRes qw(time sleep);

my $conf = <<'EOF';
workers = 2;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
shutdown_timeout = "10s";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; backlog = 128; } );
upstreams = ( { name = "app"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } );
                health = { path = "/health"; interval = "100ms"; timeout = "500ms"; }; } );
sites = ( { hosts = [ "*" ];
            routes = ( { path = "/slow/"; upstream = "app"; },
                       { path = "/"; return = { status = 200; body = "up\n"; }; } ); } );
EOF

my $t = Test::Portico->new->write_config($conf)->run->plan(23);

# running(PID): alive and not a zombie (an orphan may wait for a reaper).
sub running {
	my ($pid) = @_;
	open my $f, '<', "/proc/$pid/stat" or return 0;
	my $stat = <$f> // return 0;
	return $stat !~ /\)\s+Z\s/;
}

sub worker {
	my ($index) = @_;
	my ($w) = grep { $_->{index} == $index } $t->serving_workers;
	return $w;
}

# Replaced: a serving worker index with another pid, restarted once more.
sub replaced {
	my ($index, $old) = @_;
	return wait_until(sub {
		my $w = worker($index);
		$w && $w->{pid} != $old->{pid} &&
		    $w->{restarts} == $old->{restarts} + 1;
	}, timeout => 3, interval => 0.02);
}

ok(wait_until(sub { $t->serving_workers == 2 }, timeout => 5),
    'two workers serve');

# SIGKILL a worker while clients send requests, one per connection.
my $dir = $t->testdir;
my @kids;
for my $k (1 .. 4) {
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		my ($ok, $fail) = (0, 0);
		my $end = time + 2.5;
		while (time < $end) {
			my $r = $t->http('GET', '/slow/0', timeout => 3);
			$r->{status} == 200 ? $ok++ : $fail++;
		}
		open my $f, '>', "$dir/load.$k" or die;
		print $f "$ok $fail\n";
		close $f;
		POSIX::_exit(0);
	}
	push @kids, $pid;
}
sleep 0.8;
my $w0 = worker(0);
kill 'KILL', $w0->{pid};
my $killed = time;
ok(replaced(0, $w0), 'a worker killed by SIGKILL is replaced');
my $took = time - $killed;
cmp_ok($took, '<', 1.5, sprintf('... and serves again %.2f s later', $took));
waitpid($_, 0) for @kids;
my ($ok, $fail) = (0, 0);
for my $k (1 .. 4) {
	open my $f, '<', "$dir/load.$k" or next;
	my ($o, $e) = split ' ', scalar <$f>;
	$ok += $o;
	$fail += $e;
}
cmp_ok($fail, '<=', 4, "requests failed only where the killed worker held "
    . "them ($fail of 4 clients; $ok answered)");
cmp_ok($ok, '>', 50, '... and the others were answered');
like($t->error_log, qr/worker 0 killed by signal 9\b.*restarting it/,
    'the master logs the death and the restart');

# Kill every worker, then connect at once: the connection waits in the
# listening socket's queue, which the master keeps, and is served.
my @pids = map { $_->{pid} } $t->serving_workers;
kill 'KILL', @pids;
my $c = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
    PeerPort => $t->port(0));
ok($c, 'with no worker alive, a connection is still accepted by the kernel');
print $c "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" if $c;
my $got = '';
if ($c) {
	$c->blocking(1);
	local $SIG{ALRM} = sub { die "timeout\n" };
	alarm 5;
	eval { local $/; $got = <$c> // '' };
	alarm 0;
}
like($got, qr{\AHTTP/1\.1 200 .*\r\n\r\nup\n\z}s,
    '... and answered by a replacement');

# The checker.
my $st = $t->status;
my ($ck) = @{$st->{checkers}};
ok($ck && $ck->{state} eq 'serving', 'the checker runs');
my $checks = $st->{servers}{'app 127.0.0.1:' . $t->origin_port(0)}{checks};
kill 'KILL', $ck->{pid};
ok(wait_until(sub {
	my ($n) = @{($t->status // {})->{checkers} // []};
	$n && $n->{pid} != $ck->{pid} && $n->{state} eq 'serving' &&
	    $n->{restarts} == 1;
}, timeout => 3, interval => 0.02), 'a checker killed by SIGKILL is replaced');
ok(wait_until(sub {
	my $s = $t->status // return 0;
	$s->{servers}{'app 127.0.0.1:' . $t->origin_port(0)}{checks} > $checks + 2;
}, timeout => 3), '... and its replacement goes on checking');
is($t->status->{servers}{'app 127.0.0.1:' . $t->origin_port(0)}{state}, 'up',
    '... the server stays up');

# A crash loop: worker 1 dies right after each start.
my $w1 = worker(1);
my $loops = 0;
my %seen;
my $until = time + 6;
while ($loops < 4 && time < $until) {
	my $w = worker(1);
	if ($w && !$seen{$w->{pid}}++) {
		kill 'KILL', $w->{pid};
		$loops++;
		next;
	}
	sleep 0.01;
}
is($loops, 4, 'worker 1 was killed right after 4 starts');
my @backoff = map { /in (\d+) ms$/ ? $1 : () }
    $t->wait_for_error_log(qr/worker 1 killed by signal 9 \d+ ms after its start: crash loop\? restarting it in \d+ ms/,
    count => 3);
is("@backoff[0 .. 2]", '100 200 400',
    'the restarts back off: 100, 200, 400 ms');
ok(wait_until(sub { worker(1) }, timeout => 5),
    'after the loop, worker 1 serves again');

# SIGQUIT: a slow response in flight finishes, new connections are
# refused, the master leaves.
my $slow = $t->connect;
$slow->send("GET /slow/1500 HTTP/1.1\r\nHost: a\r\n\r\n");
ok(wait_until(sub { grep { $_->{target} eq '/slow/1500' }
    $t->origin(0)->requests }, timeout => 5), 'a slow request reached the origin');
my $master = $t->pid;
$t->signal('QUIT');
ok(wait_until(sub {
	!IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $t->port(0))
}, timeout => 3), 'after SIGQUIT, new connections are refused');
my $r = $slow->read_response(timeout => 5);
is($r && $r->{status}, 200, 'the response in flight finishes');
like($r && $r->{headers}{connection} // '', qr/close/,
    '... with Connection: close');
ok(wait_until(sub { !$t->alive }, timeout => 5),
    'then the master leaves');

# The master dies: the workers finish and leave; none serves on.
my $t2 = Test::Portico->new->write_config($conf)->run;
ok(wait_until(sub { $t2->serving_workers == 2 }, timeout => 5),
    'second instance: two workers serve');
my @w = map { $_->{pid} } $t2->serving_workers;
my $s2 = $t2->connect;
$s2->send("GET /slow/1000 HTTP/1.1\r\nHost: a\r\n\r\n");
wait_until(sub { grep { $_->{target} eq '/slow/1000' }
    $t2->origin(0)->requests }, timeout => 5);
kill 'KILL', $t2->pid;
$r = $s2->read_response(timeout => 5);
is($r && $r->{status}, 200,
    'after the master is killed, the response in flight finishes');
ok(wait_until(sub { !grep { running($_) } @w }, timeout => 5),
    'and the workers leave: no orphan serves an old config');

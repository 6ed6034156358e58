#!/usr/bin/perl
# 37-cache-store.t: the cache file's durability and safety (issue 7),
# through a real portico and real HTTP.  Objects are kept across reload
# and restart (Age goes on growing); a file of another size, truncated
# or with a broken header is made anew; bytes overwritten in the data
# area are dropped, never served; a worker killed while it stores a
# large object leaves no half-written hit and wedges nobody; eviction
# keeps the file at cache.size; concurrent misses reach the origin once,
# across workers, bounded by lock_timeout.
#
# The origin is t/lib/cache-origin.pl (answers what the query string
# asks, logs one line per request), on %%PORT_1%%.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(wait_until parse_response http_request);
use IO::Select;
use POSIX ();
use Socket qw(PF_INET SOCK_STREAM SOL_SOCKET SO_RCVBUF pack_sockaddr_in
    inet_aton);
use Time::HiRes qw(time sleep);

my $CACHE_ORIGIN = 't/lib/cache-origin.pl';
my $MAXAGE = 'h=Cache-Control:max-age=600';
my @ORIGIN_PIDS;

# conf(%o): a config with a cache and one cached route to the origin.
sub conf {
	my (%o) = @_;
	my $workers = $o{workers} // 2;
	my $size = $o{size} // '8M';
	my $lt = $o{lock_timeout} // '5s';
	my $route = $o{route} // 'true';
	return <<"EOF";
workers = $workers;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
shutdown_timeout = "20s";
cache = { path = "%%TESTDIR%%/cache.db"; size = "$size"; lock_timeout = "$lt"; };
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "o"; servers = ( { address = "127.0.0.1:%%PORT_1%%"; } ); } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "o"; cache = $route; } ); } );
EOF
}

# instance(%o): a new Test::Portico with the cache origin started and
# portico running conf(%o).
sub instance {
	my (%o) = @_;
	my $t = Test::Portico->new;
	my $port = $t->port(1);
	my $dir = $t->testdir;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open STDOUT, '>>', "$dir/cache-origin.out";
		open STDERR, '>&', \*STDOUT;
		{ no warnings 'exec';
		  exec $^X, $CACHE_ORIGIN, $port, "$dir/cache-origin.log"; }
		POSIX::_exit(127);
	}
	push @ORIGIN_PIDS, $pid;
	$t->{cache_origin} = $pid;
	wait_until(sub { Test::Portico::can_connect($port) }, timeout => 10)
	    or die "cache-origin.pl did not listen on $port";
	$t->write_config(conf(%o))->run;
	return $t;
}

# done(T): stop portico and its origin.
sub done {
	my ($t) = @_;
	$t->stop;
	my $pid = delete $t->{cache_origin};
	Test::Portico::stop_pid($pid, 3) if $pid;
	@ORIGIN_PIDS = grep { $_ != ($pid // 0) } @ORIGIN_PIDS;
}
END {
	my $st = $?;
	Test::Portico::stop_pid($_, 3) for @ORIGIN_PIDS;
	$? = $st;
}

# ocount(T, PATH): the requests the origin received for PATH.
sub ocount {
	my ($t, $path) = @_;
	open my $f, '<', $t->testdir . '/cache-origin.log' or return 0;
	return scalar grep { /^\S+ \Q$path\E(\?| )/ } <$f>;
}

# abc(N): the body of n=N.
sub abc { substr('abcdefghijklmnopqrstuvwxyz' x (int($_[0] / 26) + 1), 0,
    $_[0]) }

sub cs { $_[0]{headers}{'cache-status'} // '' }
sub hit { cs($_[0]) =~ /^portico; hit\b/ ? 1 : 0 }
sub get { my ($t, $target) = @_; $t->get($target, timeout => 10) }
sub cache_file { $_[0]->testdir . '/cache.db' }
sub crashed { $_[0]->error_log =~ /killed by signal|exited with status [1-9]/ }

# patch(T, OFFSET, BYTES): overwrite the cache file at OFFSET.
sub patch {
	my ($t, $off, $bytes) = @_;
	open my $f, '+<:raw', cache_file($t) or die "cache.db: $!";
	seek $f, $off, 0 or die;
	print $f $bytes or die;
	close $f or die;
}

sub randbytes { join '', map { chr int rand 256 } 1 .. $_[0] }

# burst(T, N, TARGET, conns => [..]): N connections opened first, then
# N requests sent back to back (or the rest of the requests that conns
# began, see split_conns), the answers read together (bounded); returns
# a list of { r => response or undef, took => seconds from the sending }.
sub burst {
	my ($t, $n, $target, %o) = @_;
	my @c = $o{conns} ? @{$o{conns}} :
	    map { $t->connect(timeout => 15) // die "connect: $!" } 1 .. $n;
	my $req = http_request('GET', $target, close => 1);
	$req =~ s/^.*?\r\n// if $o{conns};
	my $t0 = time;
	$_->send($req) for @c;
	my @res = map { { r => undef, took => undef } } @c;
	my %idx = map { fileno($c[$_]->sock) => $_ } 0 .. $#c;
	my $sel = IO::Select->new(map { $_->sock } @c);
	my $deadline = $t0 + ($o{timeout} // 15);
	while ($sel->count && time < $deadline) {
		for my $s ($sel->can_read($deadline - time)) {
			my $i = $idx{fileno $s};
			my $c = $c[$i];
			$c->read_more(0);
			my $r = parse_response(\$c->{buf}, eof => $c->{eof});
			next unless $r || $c->{eof};
			$res[$i] = { r => $r, took => time - $t0 };
			$sel->remove($s);
		}
	}
	$_->close for @c;
	return @res;
}

# worker_serving(T, CLIENT_PORT, [PIDS]): the PID of the worker (of
# PIDS, default the serving ones) that holds the accepted end of the
# client's connection (from /proc/net/tcp).
sub worker_serving {
	my ($t, $cport, @pids) = @_;
	@pids = map { $_->{pid} } $t->serving_workers unless @pids;
	my $rem = sprintf '0100007F:%04X', $cport;
	my $loc = sprintf '0100007F:%04X', $t->port(0);
	open my $f, '<', '/proc/net/tcp' or return undef;
	my ($inode) = map { (split)[9] }
	    grep { my @f = split; @f > 9 && $f[1] eq $loc && $f[2] eq $rem &&
	    $f[3] eq '01' } <$f>;	# ESTABLISHED
	return undef unless $inode;
	for my $w (@pids) {
		for my $fd (glob "/proc/$w/fd/*") {
			my $l = readlink($fd) // next;
			return $w if $l eq "socket:[$inode]";
		}
	}
	return undef;
}

# split_conns(T, N, TARGET): N connections that sent the first line of a
# GET of TARGET (the listener accepts on data: TCP_DEFER_ACCEPT), half
# accepted by each of the two workers: the kernel hands a connection to
# the first idle worker, so while one half is made the other worker is
# paused (SIGSTOP).  Returns (the connections, how many each holds).
sub split_conns {
	my ($t, $n, $target) = @_;
	my @w = map { $_->{pid} } $t->serving_workers;
	my (@c, %on);
	for my $i (0, 1) {
		kill 'STOP', $w[1 - $i];
		for (1 .. $n / 2) {
			my $c = $t->connect(timeout => 15) // die "connect: $!";
			$c->send("GET $target HTTP/1.1\r\n");
			my $pid;
			wait_until(sub { $pid = worker_serving($t, $c->local_port,
			    @w) }, timeout => 3, interval => 0.005);
			$on{$pid // 'none'}++;
			push @c, $c;
		}
		kill 'CONT', $w[1 - $i];
	}
	return (\@c, map { $on{$_} // 0 } @w);
}

# --------------------------------------------------------------------
subtest 'kept across reload and restart' => sub {
	my $t = instance();
	like($t->wait_for_error_log(qr/cache \S+ (opened|made anew)/) // '',
	    qr/cache \S+cache\.db (opened|made anew)/, 'the master opens the cache');
	my @paths = map { "/keep/$_" } 1 .. 5;
	for my $p (@paths) {
		my $r = get($t, "$p?b=kept&$MAXAGE");
		like(cs($r), qr/fwd=uri-miss; fwd-status=200; stored/,
		    "$p: a stored miss");
	}
	my $r = get($t, "$paths[0]?b=kept&$MAXAGE");
	ok(hit($r), 'then a hit') or diag(cs($r));
	sleep 1.1;

	my ($rc, $out) = $t->ctl('reload');
	is($rc, 0, 'proxyctl reload') or diag($out);
	$t->signal('HUP');
	ok(wait_until(sub { my $s = $t->status; $s && $s->{generation} == 3 &&
	    $t->serving_workers(3) == 2 }, timeout => 10),
	    '... and SIGHUP: generation 3 serves');
	for my $i (0 .. $#paths) {
		$r = get($t, "$paths[$i]?b=kept&$MAXAGE");
		ok(hit($r) && $r->{body} eq "kept #1\n",
		    "$paths[$i]: after two reloads a hit, the same body")
		    or diag(cs($r), ' ', $r->{body});
	}
	cmp_ok($r->{headers}{age} // -1, '>=', 1, 'Age grows');
	is(() = $t->error_log =~ /cache \S+ (?:opened|made anew)/g, 1,
	    'a reload with the same cache keeps the mapping (opened once)');

	$t->stop;
	sleep 1.1;
	$t->run;
	like($t->wait_for_error_log(qr/cache \S+ opened/) // '',
	    qr/cache \S+ opened/, 'restart: the file is opened, not made anew');
	unlike($t->error_log, qr/made anew: /, '... never made anew');
	my $age;
	for my $i (0 .. $#paths) {
		$r = get($t, "$paths[$i]?b=kept&$MAXAGE");
		ok(hit($r) && $r->{body} eq "kept #1\n",
		    "$paths[$i]: after a restart a hit, the same body")
		    or diag(cs($r), ' ', $r->{body});
		$age //= $r->{headers}{age};
	}
	cmp_ok($age // -1, '>=', 2, "Age goes on growing ($age)");
	is(ocount($t, $_), 1, "origin asked once for $_") for @paths[0, 4];
	ok(!crashed($t), 'no process died');
	done($t);
};

# --------------------------------------------------------------------
subtest 'another cache.size: made anew' => sub {
	my $t = instance(size => '8M');
	get($t, "/size/$_?b=s&$MAXAGE") for 1 .. 3;
	ok(hit(get($t, "/size/1?b=s&$MAXAGE")), 'stored');
	$t->stop;
	$t->write_config(conf(size => '4M'))->run;
	like($t->wait_for_error_log(qr/made anew/) // '',
	    qr/cache \S+cache\.db made anew: its size is not cache\.size/,
	    'restart with another size: made anew, and the log says why');
	is(-s cache_file($t), 4 * 1024 * 1024, 'the file has the new size');
	for my $i (1 .. 3) {
		my $r = get($t, "/size/$i?b=s&$MAXAGE");
		like(cs($r), qr/fwd=uri-miss.*stored/, "/size/$i: a miss");
		is($r->{body}, "s #2\n", '... from the origin');
	}
	ok(hit(get($t, "/size/1?b=s&$MAXAGE")), 'then stored again');
	done($t);
};

# --------------------------------------------------------------------
subtest 'a truncated file or a broken header: made anew' => sub {
	my $t = instance();
	get($t, "/trunc/$_?n=3000&$MAXAGE") for 1 .. 10;
	ok(hit(get($t, "/trunc/1?n=3000&$MAXAGE")), 'stored');
	for my $case (['truncated to half',
	    sub { truncate(cache_file($t), 4 * 1024 * 1024) or die "$!" },
	    qr/its size is not cache\.size/],
	    ['random bytes over the header', sub { patch($t, 0, randbytes(4096)) },
	    qr/it is not a cache file|another format|geometry/],
	    ['the head of the log not aligned', sub { patch($t, 48,
	    pack('Q<', 1000 * 64 + 13)) }, qr/the head of its log is broken/]) {
		my ($what, $damage, $why) = @$case;
		$t->stop;
		$damage->();
		open my $log, '>', $t->testdir . '/error.log';
		close $log;
		my $before = ocount($t, '/trunc/1');
		eval { $t->run };
		ok(!$@, "$what: portico starts") or diag($@);
		like($t->wait_for_error_log(qr/made anew/) // '', $why,
		    '... made anew, and the log says why');
		is(-s cache_file($t), 8 * 1024 * 1024, '... at the full size');
		my $r = get($t, "/trunc/1?n=3000&$MAXAGE");
		ok($r->{status} == 200 && !hit($r) && $r->{body} eq abc(3000),
		    '... a miss, answered by the origin') or diag(cs($r));
		is(ocount($t, '/trunc/1'), $before + 1, '... which was asked');
		$r = get($t, "/trunc/1?n=3000&$MAXAGE");
		ok(hit($r) && $r->{body} eq abc(3000), '... then stored again');
		ok(wait_until(sub { $t->serving_workers == 2 }, timeout => 3) &&
		    !crashed($t), '... and nothing crashed');
	}
	# The head moved back to the start: the log would write over the
	# objects it still indexes, so they are forgotten.
	get($t, "/trunc/$_?n=3000&$MAXAGE") for 2 .. 10;
	$t->stop;
	patch($t, 48, pack('Q<', 0));
	my $asked = sub { my $n = 0; $n += ocount($t, "/trunc/$_") for 2 .. 10; $n };
	my $before = $asked->();
	$t->run;
	my $hits = grep { hit(get($t, "/trunc/$_?n=3000&$MAXAGE")) } 2 .. 10;
	is($hits, 0, 'the head moved back: the objects past it are forgotten');
	is($asked->(), $before + 9, '... and asked for again');
	$hits = grep { hit(get($t, "/trunc/$_?n=3000&$MAXAGE")) } 2 .. 10;
	is($hits, 9, '... then stored again');
	done($t);
};

# --------------------------------------------------------------------
subtest 'bytes overwritten in the data area: dropped, never served' => sub {
	my $t = instance();
	my %n = map { $_ => 2000 + 37 * $_ } 0 .. 49;
	my $url = sub { "/dmg/$_[0]?n=$n{$_[0]}&$MAXAGE" };
	get($t, "/dmg/first?b=f&$MAXAGE");	# takes loc 0: see 'first object'
	get($t, $url->($_)) for 0 .. 49;
	is(scalar(grep { hit(get($t, $url->($_))) } 0 .. 49), 50,
	    '50 objects stored');
	is(ocount($t, '/dmg/0'), 1, 'origin asked once');
	$t->stop;

	# Find each object's body after its key in the file, and damage
	# the bodies of the even ones; then random bytes over 8 KiB where
	# objects 40-42 lie (headers included).
	open my $f, '<:raw', cache_file($t) or die;
	my $img = do { local $/; <$f> };
	close $f;
	my (%body_at, @damaged);
	for my $i (0 .. 49) {
		my $k = index($img, "/dmg/$i?n=");
		my $b = $k < 0 ? -1 : index($img, abc(52), $k);
		$body_at{$i} = $b if $b > 0 && substr($img, $b, $n{$i}) eq abc($n{$i});
	}
	is(scalar keys %body_at, 50, 'each body found in the file');
	for my $i (grep { $_ % 2 == 0 && $_ < 40 } 0 .. 49) {
		patch($t, $body_at{$i} + 1000, "\xff" x 64);
		push @damaged, $i;
	}
	patch($t, $body_at{40} - 256, randbytes(8192));
	push @damaged, 40, 41, 42;
	my %dmg = map { $_ => 1 } @damaged;

	# check(LIST, NAME): every answer is a miss or the exact body.
	my $check = sub {
		my ($list, $name) = @_;
		my ($wrong, $hits, $misses) = (0, 0, 0);
		for my $i (@$list) {
			my $before = ocount($t, "/dmg/$i");
			my $r = get($t, $url->($i));
			my $asked = ocount($t, "/dmg/$i") > $before;
			if ($r->{status} != 200 || $r->{body} ne abc($n{$i})) {
				$wrong++;
				diag("/dmg/$i: status $r->{status}, " .
				    cs($r) . ", wrong body") if $wrong < 4;
			} elsif (hit($r)) { $hits++ } elsif ($asked) { $misses++ }
		}
		is($wrong, 0, "$name: no wrong body ($hits hits, $misses misses)");
		return $hits;
	};
	my $t0 = time;
	$t->run;
	# Right after the start, before the checker's first pass.
	$check->([grep { $_ % 4 == 0 } @damaged],
	    sprintf('at once after the start (%.2f s)', time - $t0));
	my ($line) = $t->wait_for_error_log(qr/cache: \d+ damaged objects dropped/,
	    timeout => 6);
	like($line // '', qr/cache: \d+ damaged objects dropped/,
	    sprintf('the checker drops damaged objects (%.1f s after the '
	    . 'start)', time - $t0));
	my ($dropped) = ($line // '') =~ /cache: (\d+) damaged/;
	cmp_ok($dropped // 0, '>=', @damaged - (grep { $_ % 4 == 0 } @damaged),
	    "... at least the damaged ones not asked before ($dropped)");
	$check->([0 .. 49], 'after the check');
	my $kept = grep { hit(get($t, $url->($_))) } grep { !$dmg{$_} } 0 .. 49;
	cmp_ok($kept, '>=', 50 - @damaged - 4,
	    "undamaged objects are still hits ($kept)");
	$check->([0 .. 49], 'stored again');
	ok(!crashed($t), 'no process died');
	done($t);
};

# --------------------------------------------------------------------
subtest 'kill -9 of a worker storing a large object' => sub {
	my $t = instance(size => '32M', lock_timeout => '2s');
	my $big = "/big?n=2000000&bodydelay=3000&$MAXAGE";
	my $small = "/small?n=50000&$MAXAGE";
	get($t, "/first?b=f&$MAXAGE");	# takes loc 0: see 'first object'
	get($t, $small);
	ok(hit(get($t, $small)), 'a small object is stored');
	ok(wait_until(sub { $t->serving_workers == 2 }, timeout => 5),
	    'two workers serve');
	my @w = $t->serving_workers;

	# Readers fetch the small object until told to stop (not flat out:
	# the test must get its turn on the CPUs).
	my $dir = $t->testdir;
	my @kids;
	for my $k (1 .. 3) {
		my $pid = fork // die "fork: $!";
		if ($pid == 0) {
			my %n = (ok => 0, err => 0, bad => 0);
			my $end = time + 15;
			while (time < $end && !-e "$dir/stop") {
				my $r = $t->http('GET', $small, timeout => 5);
				if ($r->{status} == 0) { $n{err}++ }
				elsif ($r->{status} == 200 &&
				    $r->{body} eq abc(50000)) { $n{ok}++ }
				else { $n{bad}++ }
				sleep 0.005;
			}
			open my $f, '>', "$dir/reader.$k" or die;
			print $f "$n{ok} $n{err} $n{bad}\n";
			close $f;
			POSIX::_exit(0);
		}
		push @kids, $pid;
	}

	my $c = $t->connect(timeout => 10);
	$c->send(http_request('GET', $big));
	ok(wait_until(sub { ocount($t, '/big') == 1 }, timeout => 5),
	    'the large object is asked of the origin');
	ok(wait_until(sub { $c->read_more(0.05); index($c->{buf}, "\r\n\r\n") > 0 },
	    timeout => 3), '... its head arrived (the body comes in 3 s)');
	my $head = time;
	my $victim = worker_serving($t, $c->local_port, map { $_->{pid} } @w);
	ok($victim, "the worker storing it is found (pid " . ($victim // '?') . ')');
	my ($w) = grep { $_->{pid} == ($victim // 0) } @w;
	kill 'KILL', $victim if $victim;
	note(sprintf 'killed %.2f s after the head', time - $head);
	$c->read_until_close(5);
	cmp_ok(length $c->{buf}, '<', 2_000_000,
	    'the client of the killed worker gets a cut response');
	ok($w && wait_until(sub {
		my ($n) = grep { $_->{index} == $w->{index} } $t->serving_workers;
		$n && $n->{pid} != $w->{pid};
	}, timeout => 5), 'the master restarts the worker');

	my $t1 = time;
	my $r = get($t, $big);
	my $took = time - $t1;
	ok($r->{status} == 200 && !hit($r), 'then the large object is a miss, '
	    . 'not a half-written hit') or diag(cs($r));
	like(cs($r), qr/fwd-status=200; stored/, '... stored this time');
	is(ocount($t, '/big'), 2, '... from the origin');
	ok($r->{body} eq abc(2_000_000), '... 2,000,000 correct bytes');
	cmp_ok($took, '<', 2 + 3 + 2, sprintf('... in %.1f s: the dead '
	    . 'worker\'s claim ends with lock_timeout', $took));
	$r = get($t, $big);
	ok(hit($r), 'next: a hit');
	is(length $r->{body}, 2_000_000, '... of 2,000,000 bytes');
	ok($r->{body} eq abc(2_000_000), '... all correct');
	is(ocount($t, '/big'), 2, '... the origin not asked again');

	open my $s, '>', "$dir/stop";
	close $s;
	waitpid($_, 0) for @kids;
	my ($ok, $err, $bad) = (0, 0, 0);
	for my $k (1 .. 3) {
		open my $f, '<', "$dir/reader.$k" or next;
		my @n = split ' ', scalar <$f>;
		$ok += $n[0]; $err += $n[1]; $bad += $n[2];
	}
	is($bad, 0, "readers: no wrong or broken answer ($ok right, $err "
	    . 'connection errors)');
	cmp_ok($ok, '>', 20, '... they were served throughout');
	is(ocount($t, '/small'), 1, '... all from the cache');
	done($t);
};

# --------------------------------------------------------------------
subtest 'eviction within cache.size' => sub {
	my $t = instance(size => '4M');
	my $size = 4 * 1024 * 1024;
	my %n = map { $_ => 100_000 + 7 * $_ } 1 .. 120;
	my $url = sub { "/ev/$_[0]?n=$n{$_[0]}&$MAXAGE" };
	is(-s cache_file($t), $size, 'the file is allocated at cache.size');
	my ($stored, $sizes_ok) = (0, 1);
	for my $i (1 .. 120) {
		my $r = get($t, $url->($i));
		$stored++ if cs($r) =~ /stored/ && $r->{body} eq abc($n{$i});
		$sizes_ok = 0 if -s cache_file($t) != $size;
	}
	is($stored, 120, '120 objects of ~100 KB (3x the file) stored');
	ok($sizes_ok, 'the file size never changed');
	my @late = grep { my $r = get($t, $url->($_));
	    hit($r) && $r->{body} eq abc($n{$_}) } 91 .. 120;
	is(scalar @late, 30, 'the last 30 are hits with their bodies');
	my $before = ocount($t, '/ev/1');
	my @early = grep { !hit(get($t, $url->($_))) } 1 .. 30;
	is(scalar @early, 30, 'the first 30 were evicted: misses');
	is(ocount($t, '/ev/1'), $before + 1, '... the origin asked again');
	my $wrong = grep { my $r = get($t, $url->($_));
	    $r->{status} != 200 || $r->{body} ne abc($n{$_}) } 1 .. 120;
	is($wrong, 0, 'every answer, hit or miss, has its own body');
	is(-s cache_file($t), $size, 'the file is still cache.size');
	my $st = $t->status;
	SKIP: {
		skip 'no cache line in proxyctl status', 1
		    unless $st && $st->{text} =~ /^cache: /m;
		ok(wait_until(sub { ($t->status // {})->{text} =~
		    /^cache: \d+ objects, (\d+) bytes of (\d+), evictions ([1-9]\d*)$/m
		    && $1 <= $2 }, timeout => 3),
		    'proxyctl status counts evictions') or diag($st->{text});
	}
	done($t);
};

# --------------------------------------------------------------------
subtest 'concurrent misses collapse across workers' => sub {
	my $t = instance(lock_timeout => '5s');
	ok(wait_until(sub { $t->serving_workers == 2 }, timeout => 5),
	    'two workers serve');
	my $u = "/col?b=col&delay=500&h=Cache-Control:max-age=60";
	my ($conns, @on) = split_conns($t, 50, $u);
	is("@on", '25 25', 'each worker accepted 25 connections');
	my @res = burst($t, 50, $u, conns => $conns);
	my @ok = grep { $_->{r} && $_->{r}{status} == 200 } @res;
	is(scalar @ok, 50, '50 concurrent misses: all answered 200');
	is(ocount($t, '/col'), 1, '... the origin was asked once');
	is(scalar(grep { $_->{r}{body} eq "col #1\n" } @ok), 50,
	    '... all got the same body');
	my $col = grep { cs($_->{r}) =~ /collapsed/ } @ok;
	cmp_ok($col, '>=', 1, "... $col of them say collapsed");
	my ($max) = sort { $b <=> $a } map { $_->{took} } @ok;
	cmp_ok($max, '<', 2.5, sprintf('... the slowest in %.2f s', $max));

	# Not storable: no-store.  All succeed, none waits past lock_timeout.
	@res = burst($t, 10, '/nostore?b=ns&delay=500&h=Cache-Control:no-store',
	    timeout => 20);
	@ok = grep { $_->{r} && $_->{r}{status} == 200 } @res;
	is(scalar @ok, 10, 'no-store: 10 concurrent requests all answered');
	my $asked = ocount($t, '/nostore');
	ok($asked >= 1 && $asked <= 10, "... origin asked $asked times");
	($max) = sort { $b <=> $a } map { $_->{took} // 99 } @res;
	cmp_ok($max, '<', 5 + 0.5 + 1, sprintf('... none waited past '
	    . 'lock_timeout (slowest %.2f s)', $max));
	cmp_ok($max, '<', 2 * 0.5 + 0.7, '... they are not serialized');
	done($t);
};

# --------------------------------------------------------------------
subtest 'lock_timeout bounds the wait' => sub {
	my $t = instance(lock_timeout => '1s');
	my $u = "/lt?b=lt&delay=3000&h=Cache-Control:max-age=60";
	my $c1 = $t->connect(timeout => 10);
	$c1->send(http_request('GET', $u, close => 1));
	wait_until(sub { ocount($t, '/lt') == 1 }, timeout => 3);
	my $c2 = $t->connect(timeout => 10);
	my $t1 = time;
	$c2->send(http_request('GET', $u, close => 1));
	wait_until(sub { ocount($t, '/lt') == 2 }, timeout => 4,
	    interval => 0.02);
	my $waited = time - $t1;
	is(ocount($t, '/lt'), 2, 'the second request went to the origin itself');
	ok($waited > 0.8 && $waited < 1.6,
	    sprintf('... after %.2f s (lock_timeout 1s)', $waited));
	my $ra = $c1->read_response(timeout => 6);
	my $rb = $c2->read_response(timeout => 6);
	ok($ra && $ra->{status} == 200 && $ra->{body} eq "lt #1\n",
	    'the first is answered');
	ok($rb && $rb->{status} == 200 && $rb->{body} eq "lt #2\n",
	    sprintf('the second too, after %.2f s', time - $t1));
	done($t);
};

# --------------------------------------------------------------------
subtest 'a late holder keeps its claim' => sub {
	# The first request's body comes 2.5 s after its head; lock_timeout
	# is 1 s.  A request that waits for it gets the head at once and
	# the body when it comes, even though the claim lapsed meanwhile;
	# one that comes after the lapse goes to the origin itself and
	# takes nothing from the first.
	my $t = instance(lock_timeout => '1s', workers => 1);
	my $u = "/late?b=late&bodydelay=2500&$MAXAGE";
	my $c1 = $t->connect(timeout => 10);
	$c1->send(http_request('GET', $u, close => 1));
	wait_until(sub { ocount($t, '/late') == 1 }, timeout => 3);
	sleep 0.2;
	my $c2 = $t->connect(timeout => 10);
	$c2->send(http_request('GET', $u, close => 1));
	sleep 1.2;
	my $c3 = $t->connect(timeout => 10);
	my $t3 = time;
	$c3->send(http_request('GET', $u, close => 1));
	wait_until(sub { ocount($t, '/late') == 2 }, timeout => 2,
	    interval => 0.02);
	cmp_ok(time - $t3, '<', 0.5, 'after the lapse, a request goes to the '
	    . 'origin at once');
	my ($r1, $r2, $r3) = map { $_->read_response(timeout => 8) }
	    $c1, $c2, $c3;
	is($r1 && $r1->{body}, "late #1\n", 'the holder\'s client gets its '
	    . 'response');
	is($r2 && $r2->{body}, "late #1\n", 'the one that waited gets it whole');
	like($r2 ? cs($r2) : '', qr/collapsed/, '... as a collapsed request');
	is($r3 && $r3->{body}, "late #2\n", 'the one after the lapse gets its own');
	my $r = get($t, $u);
	ok(hit($r) && $r->{body} =~ /^late #[12]\n\z/, 'then a hit, whole');
	is(ocount($t, '/late'), 2, 'the origin was asked twice');
	done($t);
};

# --------------------------------------------------------------------
subtest 'a stored response lost while it is revalidated' => sub {
	# The 304 comes 1.5 s late; meanwhile the ring goes round past the
	# stored response.  The 304 cannot answer a request that had no
	# validators: the request goes again, without them.
	my $t = instance(size => '1M', workers => 1,
	    route => '{ key = [ "host", "path" ]; }');
	my $v = 'h=ETag:%22r1%22&v304=1';
	get($t, "/rv?b=rv&h=Cache-Control:max-age=1&$v");
	sleep 1.2;
	my $c = $t->connect(timeout => 10);
	$c->send(http_request('GET', "/rv?b=rv&delay=1500&$MAXAGE&$v",
	    close => 1));
	wait_until(sub { ocount($t, '/rv') == 2 }, timeout => 3);
	get($t, "/rvlap/$_?n=100000&$MAXAGE") for 1 .. 12;
	my $r = $c->read_response(timeout => 8);
	is($r && $r->{status}, 200, 'the client gets 200, not the 304');
	is($r && $r->{body}, "rv #3\n", '... the response to the request sent '
	    . 'again');
	open my $f, '<', $t->testdir . '/cache-origin.log' or die;
	my @inm = map { /inm=(\S+)/ } grep { /^GET \/rv\?/ } <$f>;
	is("@inm", '- "r1" -', '... which had no If-None-Match');
	done($t);
};

# --------------------------------------------------------------------
subtest 'a hit near its end in the ring' => sub {
	# 1M: a ring of ~1 MB.  After 7 more objects of 100 KB, the first
	# is within the last quarter of the ring: it is sent copied and
	# checked, and is still whole.
	my $t = instance(size => '1M', workers => 1);
	my $first = "/near/0?n=100000&$MAXAGE";
	get($t, $first);
	get($t, "/near/$_?n=100000&$MAXAGE") for 1 .. 7;
	my $r = get($t, $first);
	ok(hit($r), 'the first object is still a hit');
	ok($r->{body} eq abc(100000), '... with its body whole');
	done($t);
};

# --------------------------------------------------------------------
subtest 'first object: not evicted while its bucket has room' => sub {
	# A 1M file has 32 buckets of 8 slots; of 100 more small objects,
	# some share the first object's bucket, none fills it.
	my $t = instance(size => '1M', workers => 1);
	my $first = "/first?b=first&$MAXAGE";
	get($t, $first);
	my $stored = grep { cs(get($t, "/fill/$_?b=f&$MAXAGE")) =~ /stored/ }
	    1 .. 100;
	is($stored, 100, '100 small objects stored after the first');
	is(scalar(grep { hit(get($t, "/fill/$_?b=f&$MAXAGE")) } 1 .. 100), 100,
	    '... all hits');
	ok(hit(get($t, $first)), 'the first object stored is still a hit');
	done($t);
};

# --------------------------------------------------------------------
subtest 'a writer lapped by the ring damages nothing' => sub {
	# 1M: a ring of ~1 MB, objects up to ~127 KB.  A slow object is
	# reserved when its head comes; while its body waits, 12 objects
	# of ~100 KB go round the ring past it; then its body arrives.
	my $t = instance(size => '1M', workers => 1);
	my $slow = "/lap/slow?n=120000&bodydelay=1500&$MAXAGE";
	my %n = map { $_ => 100_000 + 11 * $_ } 1 .. 12;
	my $url = sub { "/lap/$_[0]?n=$n{$_[0]}&$MAXAGE" };
	my $c = $t->connect(timeout => 10);
	$c->send(http_request('GET', $slow, close => 1));
	wait_until(sub { $c->read_more(0.05); index($c->{buf}, "\r\n\r\n") > 0 },
	    timeout => 3);
	my $t0 = time;
	get($t, $url->($_)) for 1 .. 12;
	cmp_ok(time - $t0, '<', 1.4, 'the ring went round while the slow '
	    . 'body waited');
	my $r = $c->read_response(timeout => 5);
	ok($r && $r->{body} eq abc(120000), 'the slow object is relayed whole');
	# Newest first: a hit writes nothing, a miss pushes out the oldest.
	my (@wrong, $hits);
	for my $i (reverse 1 .. 12) {
		$r = get($t, $url->($i));
		$hits += hit($r);
		push @wrong, $i if $r->{status} != 200 ||
		    $r->{body} ne abc($n{$i});
	}
	cmp_ok($hits, '>=', 6, "the newest objects are hits ($hits of 12)");
	is("@wrong", '', 'the objects stored meanwhile keep their bodies');
	done($t);
};

# --------------------------------------------------------------------
subtest 'a reload to another cache.size while a hit is sent' => sub {
	my $t = instance(size => '64M', workers => 1);
	my $n = 7_000_000;
	my $u = "/huge?n=$n&$MAXAGE";
	ok(get($t, $u)->{body} eq abc($n), 'a 7 MB object is stored');
	# A client with a small receive buffer reads the hit slowly.
	socket(my $s, PF_INET, SOCK_STREAM, 0) or die "socket: $!";
	setsockopt($s, SOL_SOCKET, SO_RCVBUF, 16384);
	connect($s, pack_sockaddr_in($t->port(0), inet_aton('127.0.0.1')))
	    or die "connect: $!";
	binmode $s;
	syswrite $s, http_request('GET', $u, close => 1);
	my $got = '';
	my $sel = IO::Select->new($s);
	while (length $got < 100_000 && $sel->can_read(5)) {
		sysread($s, $got, 65536, length $got) or last;
	}
	$t->write_config(conf(size => '96M', workers => 1));
	my ($rc, $out) = $t->ctl('reload');
	is($rc, 0, 'reload with another cache.size') or diag($out);
	like($t->wait_for_error_log(qr/made anew/) // '', qr/made anew/,
	    '... the file is made anew');
	my $deadline = time + 20;
	while (time < $deadline && $sel->can_read($deadline - time)) {
		sysread($s, $got, 65536, length $got) or last;
	}
	close $s;
	my $r = parse_response(\$got, eof => 1);
	ok($r && $r->{status} == 200 && hit($r), 'the hit was under way');
	ok($r && (length $r->{body} < $n || $r->{body} eq abc($n)),
	    '... its client gets the right bytes or a cut response')
	    or diag('the first wrong byte at ', $r && ($r->{body} ^ abc($n)) =~
	    /[^\0]/ ? $-[0] : '?');
	done($t);
};

done_testing();

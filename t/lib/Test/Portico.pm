package Test::Portico;

# Test::Portico: the harness of the integration tests (t/*.t), shaped like
# nginx's Test::Nginx.
#
#   use lib 't/lib';
#   use Test::More;
#   use Test::Portico;
#
#   my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(2);
#   workers = 1;
#   error_log = "%%TESTDIR%%/error.log";
#   pid_file = "%%TESTDIR%%/portico.pid";
#   listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
#   upstreams = ( { name = "app";
#       servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
#   sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "app"; } ); } );
#   EOF
#   my $r = $t->get('/x');
#   is($r->{status}, 200, 'status');
#   is(($t->origin(0)->requests)[0]{target}, '/x', 'origin saw /x');
#
# Placeholders in the config: %%TESTDIR%% (a temporary directory, kept
# when TEST_PORTICO_LEAVE is set), %%PORT_N%% (a free port on 127.0.0.1,
# the same N the same port; PORT_0 is the listener the clients use),
# %%ORIGIN_N%% (the port of test origin N, t/lib/origin.pl, started by
# run() for every N the config names).  The binary is
# $ENV{TEST_PORTICO_BINARY} or ./portico (tests run from the top of the
# tree); new() skips the whole file when it is missing.
#
# Everything started (portico, the origins) is stopped by PID when the
# object goes away or at END: SIGTERM, a bounded wait, then SIGKILL.
#
# Methods (each documented above its code):
#   setup    new, write_config(TEXT), origin_options(N, idle_timeout => MS),
#            run(wait_ports => [..]), plan(N), stop, signal('HUP'), alive,
#            pid, testdir, port(N), origin_port(N), start_origin(N),
#            stop_origin(N)
#   control  ctl(ARGS): proxyctl -c CONF ARGS -> (exit, output);
#            status(): proxyctl status parsed; serving_workers(GEN)
#   clients  get/head(TARGET, %o), post(TARGET, BODY, %o), http(METHOD,
#            TARGET, host =>, headers => [[n, v]..], body =>, version =>,
#            timeout =>): a parsed response { status, headers => {lc name},
#            header_list, body, chunked, close_delimited, ... };
#            raw(BYTES, timeout => S): all bytes read until close/timeout
#            (list context: also whether the peer closed); connect(): a
#            Test::Portico::Conn with send(BYTES), request(METHOD, TARGET,
#            %o), read_response(method =>, timeout =>, skip_1xx =>),
#            read_more(S), closed(S), local_port, buf
#   origins  origin(N): requests (list of { method, target, version,
#            headers => [[n, v]..], body, raw_body, head, conn, seq, flags }),
#            last_request, count, wait_requests(N), clear, port
#   logs     error_log, access_log, read_file(NAME),
#            wait_for_error_log(QR, timeout =>, count =>),
#            wait_for_access_log(QR, ...)
#   helpers  (exported on request) pattern(N), http_request(METHOD, TARGET,
#            %o), parse_response(\$BUF, method =>, eof =>),
#            parse_responses(BYTES), wait_until(CODE, timeout =>),
#            req_header(REQ, NAME)

use strict;
use warnings;

use Exporter 'import';
use File::Temp ();
use File::Spec;
use File::Basename qw(dirname);
use IO::Socket::INET;
use IO::Select;
use POSIX qw(:sys_wait_h);
use Fcntl qw(:flock);
use Time::HiRes qw(time);
use Errno qw(EINTR EAGAIN EWOULDBLOCK);
use Test::More ();
use Scalar::Util ();

our @EXPORT_OK = qw(pattern parse_response parse_responses http_request
    wait_until req_header shq sh write_file);

my $ORIGIN_PL = File::Spec->rel2abs(dirname(__FILE__) . '/../origin.pl');
my @INSTANCES;

$SIG{PIPE} = 'IGNORE';

# shq(S): S quoted for sh(1).  sh(CMD, ARG...): run it, return what it
# printed (stdout and stderr); die, with that, when it fails.
# write_file(PATH, TEXT): PATH holds TEXT.
sub shq { my ($s) = @_; return $s if $s =~ m{^[\w/.:=,+@%-]+$}; $s =~ s/'/'\\''/g; "'$s'" }
sub sh {
	my $cmd = join ' ', map { shq($_) } @_;
	my $out = `$cmd 2>&1`;
	die "failed: $cmd\n$out" if $?;
	return $out;
}
sub write_file { my ($p, $s) = @_; open my $f, '>', $p or die "$p: $!"; print $f $s; close $f or die }

# pattern(N): the bytes origin.pl sends for /pattern/N, /chunked/N/K and
# /close/N: 16-byte lines "%015d\n" numbered from 0, cut at N bytes.
sub pattern {
	my ($n) = @_;
	my $lines = int(($n + 15) / 16);
	my $s = join '', map { sprintf "%015d\n", $_ } 0 .. $lines - 1;
	return substr($s, 0, $n);
}

# wait_until(CODE, timeout => S, interval => S): call CODE until it
# returns true or the time runs out; returns its last result.
sub wait_until {
	my ($code, %o) = @_;
	my $deadline = time + ($o{timeout} // 5);
	my $interval = $o{interval} // 0.05;
	while (1) {
		my $r = $code->();
		return $r if $r;
		return $r if time >= $deadline;
		select undef, undef, undef, $interval;
	}
}

sub new {
	my ($class, %o) = @_;
	my $bin = $ENV{TEST_PORTICO_BINARY} // './portico';
	unless (-f $bin && -x _) {
		Test::More::plan(skip_all =>
		    "no portico binary at $bin (build it: ./configure && make)");
	}
	my $leave = $ENV{TEST_PORTICO_LEAVE};
	my $dir = File::Temp::tempdir('portico-test-XXXXXX', TMPDIR => 1,
	    CLEANUP => !$leave);
	my $self = bless {
		bin	=> File::Spec->rel2abs($bin),
		dir	=> $dir,
		ports	=> {},
		origins	=> {},
		origin_opts => {},
		owner	=> $$,
		conf	=> undef,
		pid	=> undef,
	}, $class;
	Test::More::diag("test directory $dir") if $leave;
	push @INSTANCES, $self;
	Scalar::Util::weaken($INSTANCES[-1]);
	return $self;
}

# testdir(): the temporary directory.
sub testdir { $_[0]{dir} }

# port(N): the port of %%PORT_N%% (picked on first use).
sub port {
	my ($self, $n) = @_;
	$n //= 0;
	$self->{ports}{"PORT_$n"} //= free_port($self);
	return $self->{ports}{"PORT_$n"};
}

# origin_port(N): the port of origin N.
sub origin_port {
	my ($self, $n) = @_;
	$self->{ports}{"ORIGIN_$n"} //= free_port($self);
	return $self->{ports}{"ORIGIN_$n"};
}

# free_port(): a port nothing listens on, found by binding to port 0;
# never one already handed out by this object.
sub free_port {
	my ($self) = @_;
	my %used = map { $_ => 1 } grep { defined } values %{$self->{ports}};
	for my $try (1 .. 50) {
		my $s = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
		    LocalPort => 0, Proto => 'tcp', Listen => 1)
		    or die "cannot bind 127.0.0.1:0: $!";
		my $p = $s->sockport;
		close $s;
		return $p unless $used{$p};
	}
	die "no free port found";
}

# origin_options(N, idle_timeout => MS): options for origin N, before run().
sub origin_options {
	my ($self, $n, %o) = @_;
	$self->{origin_opts}{$n} = \%o;
	return $self;
}

# write_config(TEXT, [NAME]): fill the placeholders and write
# TESTDIR/NAME (default portico.conf); returns $self.
sub write_config {
	my ($self, $text, $name) = @_;
	$name //= 'portico.conf';
	$text = $self->expand($text);
	my $path = "$self->{dir}/$name";
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh;
	$self->{conf} = $path if $name eq 'portico.conf' || !$self->{conf};
	$self->{conf_text} = $text;
	return $self;
}

# expand(TEXT): TEXT with the placeholders filled in.
sub expand {
	my ($self, $text) = @_;
	$text =~ s/%%TESTDIR%%/$self->{dir}/g;
	$text =~ s/%%PORT_(\d+)%%/$self->port($1)/ge;
	$text =~ s/%%ORIGIN_(\d+)%%/$self->want_origin($1)/ge;
	return $text;
}

sub want_origin {
	my ($self, $n) = @_;
	$self->{want_origins}{$n} = 1;
	return $self->origin_port($n);
}

# start_origin(N): start origin N now (run() starts the ones the config
# names); returns its Test::Portico::Origin.
sub start_origin {
	my ($self, $n) = @_;
	return $self->{origins}{$n} if $self->{origins}{$n};
	my $port = $self->origin_port($n);
	my $log = "$self->{dir}/origin$n.log";
	open my $touch, '>>', $log or die "$log: $!";
	close $touch;
	my %o = %{$self->{origin_opts}{$n} // {}};
	my @opts = map { "$_=$o{$_}" } sort keys %o;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open STDOUT, '>>', "$self->{dir}/origin$n.out";
		open STDERR, '>&', \*STDOUT;
		{ no warnings 'exec'; exec $^X, $ORIGIN_PL, $port, $log, @opts; }
		POSIX::_exit(127);
	}
	my $origin = Test::Portico::Origin->new(port => $port, log => $log,
	    pid => $pid, n => $n);
	$self->{origins}{$n} = $origin;
	my $up = wait_until(sub {
		return 0 if waitpid($pid, WNOHANG) == $pid;
		return can_connect($port);
	}, timeout => 10);
	die "origin $n did not start on 127.0.0.1:$port: " .
	    slurp("$self->{dir}/origin$n.out") unless $up;
	return $origin;
}

# origin(N): the Test::Portico::Origin of origin N.
sub origin {
	my ($self, $n) = @_;
	$n //= 0;
	return $self->{origins}{$n} // die "origin $n was not started";
}

# stop_origin(N): stop origin N (its port then refuses connections).
sub stop_origin {
	my ($self, $n) = @_;
	my $o = $self->{origins}{$n} or return $self;
	$o->stop;
	return $self;
}

sub can_connect {
	my ($port) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $port, Proto => 'tcp', Timeout => 1);
	return 0 unless $s;
	close $s;
	return 1;
}

# run(): start the origins the config names, then ./portico -F -c CONF,
# and wait (bounded) until PORT_0 accepts.  Dies with portico's output
# when it exits or does not listen in time.  Returns $self.
sub run {
	my ($self, %o) = @_;
	die "write_config() before run()" unless $self->{conf};
	$self->start_origin($_) for sort keys %{$self->{want_origins} // {}};
	my $out = "$self->{dir}/stderr.log";
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open STDIN, '<', '/dev/null';
		open STDOUT, '>>', $out;
		open STDERR, '>&', \*STDOUT;
		{ no warnings 'exec'; exec $self->{bin}, '-F', '-c', $self->{conf}; }
		POSIX::_exit(127);
	}
	$self->{pid} = $pid;
	my @wait = @{$o{wait_ports} // [$self->port(0)]};
	my $exited;
	my $up = wait_until(sub {
		if (waitpid($pid, WNOHANG) == $pid) {
			$exited = $?;
			return 1;
		}
		for my $p (@wait) {
			return 0 unless can_connect($p);
		}
		return 1;
	}, timeout => $o{timeout} // 10);
	if (defined $exited || !$up) {
		my $why = defined $exited ?
		    "portico exited (status $exited)" :
		    "portico did not listen on @wait in time";
		$self->{pid} = undef if defined $exited;
		die "$why\n--- output:\n" . slurp($out) .
		    "--- error log:\n" . $self->error_log . "---\n";
	}
	return $self;
}

# plan(N): Test::More's plan(tests => N); returns $self.
sub plan {
	my ($self, $n) = @_;
	Test::More::plan(tests => $n);
	return $self;
}

# pid(): the PID of portico's master, or undef.
sub pid { $_[0]{pid} }

# children(PID): the PIDs whose parent is PID (from /proc).
sub children {
	my ($ppid) = @_;
	my @kids;
	opendir my $d, '/proc' or return ();
	for my $p (grep { /^\d+$/ } readdir $d) {
		open my $fh, '<', "/proc/$p/stat" or next;
		my $stat = <$fh> // next;
		close $fh;
		# pid (comm) state ppid ...: comm may hold spaces
		push @kids, $p if $stat =~ /\)\s+\S+\s+(\d+)/ && $1 == $ppid;
	}
	closedir $d;
	return @kids;
}

# stop_pid(PID, timeout): SIGTERM, wait up to timeout, SIGKILL the
# process and the children it left.
sub stop_pid {
	my ($pid, $timeout) = @_;
	return unless $pid;
	my @kids = children($pid);
	kill 'TERM', $pid;
	my $gone = wait_until(sub { waitpid($pid, WNOHANG) != 0 },
	    timeout => $timeout // 5);
	if (!$gone) {
		@kids = (@kids, children($pid));
		kill 'KILL', $pid;
		waitpid($pid, 0);
	}
	# children that outlived their parent: bounded wait, then KILL
	for my $k (@kids) {
		next unless kill 0, $k;
		wait_until(sub { !kill 0, $k }, timeout => 2)
		    or kill 'KILL', $k;
	}
	return $?;
}

# stop(): stop portico (SIGTERM, then SIGKILL after 5 s); returns its
# wait status.
sub stop {
	my ($self) = @_;
	return unless $self->{owner} == $$;
	my $pid = delete $self->{pid} or return;
	return stop_pid($pid, 5);
}

# signal(NAME): send a signal to portico's master.
sub signal {
	my ($self, $sig) = @_;
	kill $sig, $self->{pid} if $self->{pid};
	return $self;
}

# alive(): whether the master is still running.
sub alive {
	my ($self) = @_;
	return 0 unless $self->{pid};
	return waitpid($self->{pid}, WNOHANG) == 0;
}

# ctl(ARGS): run proxyctl (beside the portico binary) with -c CONF and
# ARGS; returns (exit status, output: stdout and stderr).
sub ctl {
	my ($self, @args) = @_;
	(my $ctl = $self->{bin}) =~ s{portico$}{proxyctl};
	my $out = `$ctl -c $self->{conf} @args 2>&1`;
	return ($? >> 8, $out);
}

# status(): `proxyctl status` parsed: { generation, master_pid, reload,
# workers => [ { index, pid, generation, state, restarts, requests } ],
# checkers => [ { pid, generation, state, restarts } ], servers =>
# { "UPSTREAM ADDRESS" => { state, checks, last } }, text }; undef when
# proxyctl fails.
sub status {
	my ($self) = @_;
	my ($rc, $out) = $self->ctl('status');
	return undef if $rc != 0;
	my %st = (text => $out, workers => [], checkers => [], servers => {});
	for (split /\n/, $out) {
		$st{master_pid} = $1 if /^master: pid (\d+)$/;
		$st{generation} = $1 if /^master: generation (\d+)$/;
		$st{reload} = $1 if /^reload: (.*)$/;
		if (/^worker (\d+): pid (\d+), generation (\d+), ([^,]+), uptime (\d+) s, restarts (\d+), connections (\d+), requests (\d+)$/) {
			push @{$st{workers}}, { index => $1, pid => $2,
			    generation => $3, state => $4, uptime => $5,
			    restarts => $6, connections => $7,
			    requests => $8 };
		}
		if (/^checker: pid (\d+), generation (\d+), ([^,]+), uptime (\d+) s, restarts (\d+)$/) {
			push @{$st{checkers}}, { pid => $1, generation => $2,
			    state => $3, uptime => $4, restarts => $5 };
		}
		if (/^server (\S+) (\S+): (up|down) for (\d+) s, active (\d+), requests (\d+), failures (\d+), avg (\d+) ms, checks (\d+), last: (.*)$/) {
			$st{servers}{"$1 $2"} = { state => $3, for => $4,
			    active => $5, requests => $6, failures => $7,
			    avg => $8, checks => $9, last => $10 };
		}
	}
	return \%st;
}

# serving_workers(GEN): the status entries of generation GEN's workers
# that serve (GEN: the current one).
sub serving_workers {
	my ($self, $gen) = @_;
	my $st = $self->status or return ();
	$gen //= $st->{generation};
	return grep { $_->{generation} == $gen && $_->{state} eq 'serving' }
	    @{$st->{workers}};
}

sub cleanup {
	my ($self) = @_;
	return unless $self->{owner} == $$;
	$self->stop;
	$_->stop for grep { defined } values %{$self->{origins} // {}};
}

sub DESTROY { $_[0]->cleanup }
END {
	my $status = $?;
	$_->cleanup for grep { defined } @INSTANCES;
	$? = $status;
}

sub slurp {
	my ($path) = @_;
	open my $fh, '<', $path or return '';
	binmode $fh;
	local $/;
	my $s = <$fh>;
	return $s // '';
}

# read_file(NAME): a file of the test directory ('' when missing).
sub read_file { slurp("$_[0]{dir}/$_[1]") }

# error_log(): the error log (TESTDIR/error.log) as one string.
sub error_log { $_[0]->read_file('error.log') }

# access_log(): the access log (TESTDIR/access.log) as one string.
sub access_log { $_[0]->read_file('access.log') }

# wait_for_file(NAME, QR, timeout => S): the lines of file NAME matching
# QR, waiting (bounded, default 5 s) until there is at least count =>
# N (default 1) of them; returns the lines found (maybe fewer).
sub wait_for_file {
	my ($self, $name, $re, %o) = @_;
	my $count = $o{count} // 1;
	my @lines;
	wait_until(sub {
		@lines = grep { $_ =~ $re } split /\n/, $self->read_file($name);
		return @lines >= $count;
	}, timeout => $o{timeout} // 5);
	return wantarray ? @lines : $lines[0];
}

sub wait_for_error_log { my $s = shift; $s->wait_for_file('error.log', @_) }
sub wait_for_access_log { my $s = shift; $s->wait_for_file('access.log', @_) }

# req_header(REQ, NAME): a header of a request the origin logged (see
# Test::Portico::Origin::header).
sub req_header { Test::Portico::Origin::header(@_) }

# ---------------------------------------------------------------------------
# Clients.

# connect(port => P, timeout => S): a Test::Portico::Conn to portico
# (PORT_0 unless port is given); undef when the connection fails.
sub connect {
	my ($self, %o) = @_;
	return Test::Portico::Conn->new(port => $o{port} // $self->port(0),
	    timeout => $o{timeout} // 5);
}

# raw(BYTES, timeout => S, port => P, pieces => [..], delay => S):
# connect, send BYTES (or each piece of pieces, delay seconds apart), and
# return everything read until the peer closes or timeout seconds
# (default 3) pass without the connection closing.  In list context also
# returns whether the peer closed.
sub raw {
	my ($self, $bytes, %o) = @_;
	my $c = $self->connect(%o) or return wantarray ? ('', 0) : '';
	my @pieces = $o{pieces} ? @{$o{pieces}} : ($bytes);
	for my $i (0 .. $#pieces) {
		select undef, undef, undef, $o{delay} if $i && $o{delay};
		$c->send($pieces[$i]) or last;
	}
	my $closed = $c->read_until_close($o{timeout} // 3);
	my $got = $c->{buf};
	$c->close;
	return wantarray ? ($got, $closed) : $got;
}

# http_request(METHOD, TARGET, host => H, headers => [[N,V]...],
# body => B, version => '1.1', close => 1): the bytes of a request.  A
# body gets a Content-Length unless the headers frame it; close => 1 adds
# "Connection: close" unless the headers have a Connection.
sub http_request {
	my ($method, $target, %o) = @_;
	my $version = $o{version} // '1.1';
	my @h = @{$o{headers} // []};
	my %has = map { lc $_->[0] => 1 } @h;
	my $req = "$method $target HTTP/$version\r\n";
	$req .= "Host: " . ($o{host} // 'localhost') . "\r\n"
	    unless $has{host} || exists $o{host} && !defined $o{host};
	$req .= "$_->[0]: $_->[1]\r\n" for @h;
	if (defined $o{body} && !$has{'content-length'} &&
	    !$has{'transfer-encoding'}) {
		$req .= "Content-Length: " . length($o{body}) . "\r\n";
	}
	$req .= "Connection: close\r\n" if $o{close} && !$has{connection};
	$req .= "\r\n";
	$req .= $o{body} if defined $o{body};
	return $req;
}

# http(METHOD, TARGET, %opts): one request on a new connection, with
# "Connection: close" (see http_request for the options, plus timeout =>
# S); returns the parsed response (see parse_response), or a response with
# status 0 and error set when none came.
sub http {
	my ($self, $method, $target, %o) = @_;
	my $c = $self->connect(%o)
	    or return { status => 0, error => "connect: $!", headers => {},
		body => '' };
	$c->send(http_request($method, $target, close => 1, %o));
	my $r = $c->read_response(method => $method,
	    timeout => $o{timeout} // 5, skip_1xx => 1);
	$c->close;
	return $r // { status => 0, error => 'no response',
	    headers => {}, body => '', raw => $c->{buf} };
}

sub get { my ($s, $t, %o) = @_; $s->http('GET', $t, %o) }
sub head { my ($s, $t, %o) = @_; $s->http('HEAD', $t, %o) }
sub post {
	my ($s, $t, $body, %o) = @_;
	$s->http('POST', $t, body => $body, %o);
}

# parse_response(\$BUF, method => M, eof => 1): parse one response from
# the start of $BUF and remove it.  Returns undef when incomplete (with
# eof, a body delimited by the close is complete).  A response is
# { status, reason, version, headers => { lc name => values joined by
# ", " }, header_list => [[name, value]...], body, raw_head, chunked,
# trailers => [[name, value]...], close_delimited }.
sub parse_response {
	my ($bufref, %o) = @_;
	my $method = $o{method} // 'GET';
	my $end = index($$bufref, "\r\n\r\n");
	return undef if $end < 0;
	my $head = substr($$bufref, 0, $end + 4);
	my @lines = split /\r\n/, substr($head, 0, $end);
	my $sl = shift @lines;
	my %r = (raw_head => $head, header_list => [], headers => {},
	    trailers => [], body => '', chunked => 0, close_delimited => 0);
	if ($sl =~ m{^HTTP/(\d\.\d) (\d{3})(?: (.*))?$}) {
		@r{qw(version status reason)} = ($1, $2, $3 // '');
	} else {
		@r{qw(version status reason)} = ('', -1, $sl);
	}
	for my $l (@lines) {
		my ($n, $v) = split /:/, $l, 2;
		$v //= '';
		$v =~ s/^[ \t]+|[ \t]+$//g;
		push @{$r{header_list}}, [$n, $v];
		my $k = lc $n;
		$r{headers}{$k} = exists $r{headers}{$k} ?
		    "$r{headers}{$k}, $v" : $v;
	}
	my $pos = $end + 4;
	my $st = $r{status};
	my $te = $r{headers}{'transfer-encoding'};
	my $cl = $r{headers}{'content-length'};
	if (($st >= 100 && $st < 200) || $st == 204 || $st == 304 ||
	    $method eq 'HEAD') {
		# no body
	} elsif (defined $te && $te =~ /chunked/i) {
		$r{chunked} = 1;
		while (1) {
			my $le = index($$bufref, "\r\n", $pos);
			return undef if $le < 0;
			my $line = substr($$bufref, $pos, $le - $pos);
			my ($size) = $line =~ /^([0-9a-fA-F]+)/;
			if (!defined $size) {
				$r{error} = "bad chunk size line '$line'";
				$pos = length $$bufref;
				last;
			}
			$size = hex $size;
			$pos = $le + 2;
			if ($size == 0) {
				while (1) {
					my $te2 = index($$bufref, "\r\n", $pos);
					return undef if $te2 < 0;
					my $tl = substr($$bufref, $pos,
					    $te2 - $pos);
					$pos = $te2 + 2;
					last if $tl eq '';
					my ($n, $v) = split /:\s*/, $tl, 2;
					push @{$r{trailers}}, [$n, $v];
				}
				last;
			}
			return undef if length($$bufref) < $pos + $size + 2;
			$r{body} .= substr($$bufref, $pos, $size);
			$r{error} = 'no CRLF after chunk data'
			    if substr($$bufref, $pos + $size, 2) ne "\r\n";
			$pos += $size + 2;
		}
	} elsif (defined $cl) {
		($cl) = $cl =~ /^(\d+)/;
		$cl //= 0;
		return undef if length($$bufref) < $pos + $cl;
		$r{body} = substr($$bufref, $pos, $cl);
		$pos += $cl;
	} else {
		return undef unless $o{eof};
		$r{close_delimited} = 1;
		$r{body} = substr($$bufref, $pos);
		$pos = length $$bufref;
	}
	substr($$bufref, 0, $pos, '');
	return \%r;
}

# parse_responses(BYTES, method => M): every response in BYTES (read until
# the close), in order; whatever could not be parsed is left off.
sub parse_responses {
	my ($bytes, %o) = @_;
	my @r;
	for my $i (1 .. 1000) {
		last unless length $bytes;
		my $m = ref $o{method} ? $o{method}[@r] : $o{method};
		my $r = parse_response(\$bytes, method => $m, eof => 1)
		    or last;
		push @r, $r;
	}
	return @r;
}

# ---------------------------------------------------------------------------
package Test::Portico::Conn;

# A client connection: send bytes, read responses one at a time (the
# bytes read and not yet parsed stay in $c->{buf}), see when it closes.

use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);
use Errno qw(EINTR EAGAIN EWOULDBLOCK);

sub new {
	my ($class, %o) = @_;
	my $s = IO::Socket::INET->new(PeerAddr => '127.0.0.1',
	    PeerPort => $o{port}, Proto => 'tcp', Timeout => $o{timeout} // 5)
	    or return undef;
	binmode $s;
	$s->blocking(0);
	return bless { sock => $s, buf => '', eof => 0,
	    timeout => $o{timeout} // 5 }, $class;
}

sub sock { $_[0]{sock} }

# local_port(): the client's own port (as the proxy sees it).
sub local_port { $_[0]{sock}->sockport }

# send(BYTES, timeout => S): write all of BYTES; 0 when the peer closed or
# the time ran out.
sub send {
	my ($self, $data, %o) = @_;
	my $deadline = time + ($o{timeout} // $self->{timeout});
	my $off = 0;
	my $sel = IO::Select->new($self->{sock});
	while ($off < length $data) {
		my $left = $deadline - time;
		return 0 if $left <= 0;
		next unless $sel->can_write($left);
		my $n = syswrite($self->{sock}, $data, length($data) - $off,
		    $off);
		if (!defined $n) {
			next if $! == EINTR || $! == EAGAIN ||
			    $! == EWOULDBLOCK;
			return 0;
		}
		$off += $n;
	}
	return 1;
}

# read_more(TIMEOUT, [MAX]): read what arrives within TIMEOUT seconds
# into buf (at most MAX bytes); returns the count, 0 on EOF (sets eof),
# undef on timeout.
sub read_more {
	my ($self, $timeout, $max) = @_;
	return 0 if $self->{eof};
	my $deadline = time + $timeout;
	my $sel = IO::Select->new($self->{sock});
	my $first = 1;
	while (1) {
		my $left = $deadline - time;
		return undef if $left <= 0 && !$first;
		$first = 0;
		next unless $sel->can_read($left > 0 ? $left : 0);
		my $n = sysread($self->{sock}, $self->{buf}, $max // 65536,
		    length $self->{buf});
		if (!defined $n) {
			next if $! == EINTR || $! == EAGAIN ||
			    $! == EWOULDBLOCK;
			$self->{eof} = 1;	# reset counts as closed
			$self->{reset} = 1;
			return 0;
		}
		if ($n == 0) {
			$self->{eof} = 1;
			return 0;
		}
		return $n;
	}
}

# read_response(method => M, timeout => S, skip_1xx => 1): the next
# response (Test::Portico::parse_response), or undef when none came in
# time or the connection closed first.  Interim 1xx responses are
# returned one by one unless skip_1xx.
sub read_response {
	my ($self, %o) = @_;
	my $deadline = time + ($o{timeout} // $self->{timeout});
	while (1) {
		my $r = Test::Portico::parse_response(\$self->{buf},
		    method => $o{method}, eof => $self->{eof});
		if ($r) {
			next if $o{skip_1xx} && $r->{status} >= 100 &&
			    $r->{status} < 200 && $r->{status} != 101;
			return $r;
		}
		return undef if $self->{eof};
		my $left = $deadline - time;
		return undef if $left <= 0;
		my $n = $self->read_more($left);
		return undef if !defined $n && time >= $deadline;
	}
}

# request(METHOD, TARGET, %opts): send a request (keep-alive unless the
# options say close => 1) and read its response (skipping 1xx).
sub request {
	my ($self, $method, $target, %o) = @_;
	$self->send(Test::Portico::http_request($method, $target, %o))
	    or return undef;
	return $self->read_response(method => $method, skip_1xx => 1,
	    timeout => $o{timeout});
}

# read_until_close(TIMEOUT): read until EOF or TIMEOUT seconds; returns
# whether the peer closed.
sub read_until_close {
	my ($self, $timeout) = @_;
	my $deadline = time + $timeout;
	while (!$self->{eof}) {
		my $left = $deadline - time;
		last if $left <= 0;
		$self->read_more($left);
	}
	return $self->{eof};
}

# closed(TIMEOUT): whether the peer closes the connection within TIMEOUT
# seconds (bytes that arrive meanwhile are kept in buf).
sub closed {
	my ($self, $timeout) = @_;
	return $self->read_until_close($timeout // 1);
}

# shutdown_write(): half-close (send FIN) and keep reading.
sub shutdown_write { shutdown($_[0]{sock}, 1) }

sub close {
	my ($self) = @_;
	close $self->{sock} if $self->{sock};
	$self->{sock} = undef;
}

sub DESTROY { $_[0]->close }

# ---------------------------------------------------------------------------
package Test::Portico::Origin;

# A running t/lib/origin.pl and the log of what it received.

use strict;
use warnings;
use Fcntl qw(:flock);

sub new {
	my ($class, %o) = @_;
	return bless { %o, owner => $$ }, $class;
}

sub port { $_[0]{port} }
sub pid { $_[0]{pid} }

# requests(): what the origin received so far, in order: a list of
# { method, target, version, headers => [[name, value]...], body (decoded),
# raw_body (as received), head (as received), conn (the peer port: one
# per connection), seq (number on that connection), flags ("-", "bad",
# "incomplete") }.
sub requests {
	my ($self) = @_;
	open my $fh, '<', $self->{log} or return ();
	binmode $fh;
	flock($fh, LOCK_SH);
	local $/;
	my $data = <$fh> // '';
	flock($fh, LOCK_UN);
	close $fh;
	my @r;
	my $pos = 0;
	while ($pos < length $data) {
		my $le = index($data, "\n", $pos);
		last if $le < 0;
		my $line = substr($data, $pos, $le - $pos);
		my %f = $line =~ /(\w+)=(\S+)/g;
		last unless $line =~ /^#REQ / && defined $f{body};
		$pos = $le + 1;
		my $head = substr($data, $pos, $f{head});
		$pos += $f{head};
		my $raw = substr($data, $pos, $f{raw});
		$pos += $f{raw};
		my $body = substr($data, $pos, $f{body});
		$pos += $f{body} + 1;
		my @lines = split /\r?\n/, $head;
		my ($m, $t, $v) = split / /, (shift(@lines) // ''), 3;
		my @h;
		for my $l (@lines) {
			my ($n, $val) = split /:/, $l, 2;
			next unless defined $val;
			$val =~ s/^[ \t]+|[ \t]+$//g;
			push @h, [$n, $val];
		}
		push @r, { method => $m, target => $t, version => $v,
		    headers => \@h, body => $body, raw_body => $raw,
		    head => $head, conn => $f{conn}, seq => $f{seq},
		    flags => $f{flags}, time => $f{time} };
	}
	return @r;
}

# count(): how many requests it received.
sub count { scalar(my @r = $_[0]->requests) }

# last_request(): the last one received, or undef.
sub last_request { my @r = $_[0]->requests; $r[-1] }

# wait_requests(N, timeout => S): wait until at least N requests are
# logged; returns them.
sub wait_requests {
	my ($self, $n, %o) = @_;
	my @r;
	Test::Portico::wait_until(sub { (@r = $self->requests) >= $n },
	    timeout => $o{timeout} // 5);
	return @r;
}

# header(REQ, NAME): the values of NAME in a logged request, joined by
# ", " (undef when absent); in list context the list of values.
sub header {
	my ($req, $name) = @_;
	$req = $_[1], $name = $_[2] if ref $req ne 'HASH';
	my @v = map { $_->[1] } grep { lc $_->[0] eq lc $name }
	    @{$req->{headers}};
	return @v if wantarray;
	return @v ? join(', ', @v) : undef;
}

# clear(): forget the requests logged so far.
sub clear {
	my ($self) = @_;
	open my $fh, '+<', $self->{log} or return $self;
	flock($fh, LOCK_EX);
	truncate $fh, 0;
	flock($fh, LOCK_UN);
	close $fh;
	return $self;
}

sub stop {
	my ($self) = @_;
	return unless $self->{owner} == $$;
	my $pid = delete $self->{pid} or return;
	Test::Portico::stop_pid($pid, 3);
}

sub DESTROY { $_[0]->stop }

1;

#!/usr/bin/perl
#
# origin.pl: the test origin server behind portico in the integration tests.
#
#   perl t/lib/origin.pl PORT LOGFILE [idle_timeout=MS] [max_life=S]
#
# An HTTP/1.1 server on 127.0.0.1:PORT, one forked process per connection,
# with keep-alive, pipelining and request bodies (Content-Length or chunked).
# Every request it receives is appended to LOGFILE (one record per request,
# written under flock in a single write) so that the tests can assert what
# the origin received; Test::Portico::Origin->requests reads it back.
#
# Record format (lengths in bytes):
#   #REQ conn=PEERPORT seq=N time=EPOCH flags=F head=H raw=R body=B\n
#   <H bytes: the head as received><R bytes: the body as received>
#   <B bytes: the body decoded (chunked removed)>\n
# flags: "-", or a comma list of "bad" (not a parsable request head),
# "incomplete" (the connection closed before the body was complete).
#
# Behaviour by request path (the query string is ignored for matching):
#   /echo            200, body = the request head as received + body
#   /size/N          200, N bytes of 'x', Content-Length
#   /pattern/N       200, N bytes of pattern(N) (see below), Content-Length
#   /chunked/N/K     200, N bytes of pattern(N) in K chunks, chunked
#   /close/N         200, N bytes of pattern(N), no Content-Length, close
#   /slow/MS         waits MS ms, then answers as the default
#   /slowbody/N/MS   Content-Length N, then the N bytes of 'x' in 10 pieces
#                    (fewer when N < 10) with MS ms before each piece
#   /status/NNN      status NNN; 204 and 304 without body, others
#                    "status NNN\n"
#   /garbage         answers bytes that are not HTTP, then closes
#   /hang            reads the request and never answers (waits for close)
#   /drop            reads the request and closes without answering
#   /dropnext        answers as the default; the NEXT request on this
#                    connection is read, logged, and the connection closed
#                    without an answer (a pooled connection gone stale)
#   /quietclose      answers as the default (keep-alive, no
#                    "Connection: close") and then closes the connection
#   /headers         200 with hop-by-hop headers the proxy must strip
#                    (Connection: X-Foo, X-Foo, Keep-Alive, Proxy-Connection,
#                    Proxy-Authenticate, Trailer, Upgrade, TE) and end-to-end
#                    ones it must keep (X-Keep: yes)
#   /ws              a request with "Upgrade: websocket": 101, then echoes
#                    every byte it receives until the peer closes; without
#                    Upgrade: 426
#   /100             sends "HTTP/1.1 100 Continue" before reading the body,
#                    then 200 with the body echoed
#   /resp?...        a response built from the query: status=NNN,
#                    body=TEXT, len=N (N bytes of 'x'), h=Name:Value
#                    (repeatable); values %-encoded
#   anything else    200, body "origin PORT TARGET"
# Every response carries X-Origin: PORT, X-Origin-Conn: PEERPORT (the
# connection id) and X-Origin-Seq: N (the request's number on that
# connection, from 1).  A HEAD request gets the head without the body.
#
# pattern(N): N bytes of 16-byte lines "%015d\n" numbering the lines from 0,
# cut at N, so that a lost, doubled or reordered piece shows.
#
# Bounded: a connection idle for idle_timeout ms (default 30000) is closed,
# every process exits after max_life seconds (default 600) or when the
# process that started it goes away; SIGTERM stops the server and the
# connection processes it forked (by their PIDs).
use strict;
use warnings;
use IO::Socket::INET;
use IO::Select;
use POSIX qw(:sys_wait_h);
use Fcntl qw(:flock SEEK_END O_WRONLY O_APPEND O_CREAT);
use Socket qw(IPPROTO_TCP TCP_NODELAY);
use Time::HiRes qw(time);
use Errno qw(EINTR EAGAIN);

my ($port, $logfile, @opts) = @ARGV;
die "usage: origin.pl PORT LOGFILE [idle_timeout=MS] [max_life=S]\n"
    unless defined $logfile && $port =~ /^\d+$/;
my %opt = map { /^(\w+)=(.*)$/ ? ($1, $2) : die "bad option $_\n" } @opts;
my $idle_ms  = $opt{idle_timeout} // 30000;
my $max_life = $opt{max_life} // 600;
my $started  = time;
my $parent   = getppid();

$SIG{PIPE} = 'IGNORE';

my $listen = IO::Socket::INET->new(
	LocalAddr => '127.0.0.1', LocalPort => $port, Proto => 'tcp',
	Listen => 128, ReuseAddr => 1)
    or die "origin.pl: cannot listen on 127.0.0.1:$port: $!\n";

my %kids;
my $stop = 0;
my ($conn_id, $seq, $sock, $buf, $eof);	# the connection being served
$SIG{TERM} = $SIG{INT} = sub { $stop = 1 };

sub pattern {
	my ($n) = @_;
	my $lines = int(($n + 15) / 16);
	my $s = join '', map { sprintf "%015d\n", $_ } 0 .. $lines - 1;
	return substr($s, 0, $n);
}

sub alive {
	return 0 if time - $started > $max_life;
	return 0 if getppid() != $parent;
	return 1;
}

# The accept loop: bounded by max_life and by the parent's life.
my $sel = IO::Select->new($listen);
while (!$stop && alive()) {
	my @ready = $sel->can_read(0.5);
	while ((my $pid = waitpid(-1, WNOHANG)) > 0) {
		delete $kids{$pid};
	}
	next unless @ready;
	my $c = $listen->accept or next;
	my $pid = fork;
	if (!defined $pid) {
		close $c;
		next;
	}
	if ($pid == 0) {
		$SIG{TERM} = $SIG{INT} = 'DEFAULT';
		close $listen;
		$parent = getppid();
		serve($c);
		POSIX::_exit(0);
	}
	$kids{$pid} = 1;
	close $c;
}
kill 'TERM', keys %kids if %kids;
for my $i (1 .. 20) {
	last unless %kids;
	while ((my $pid = waitpid(-1, WNOHANG)) > 0) {
		delete $kids{$pid};
	}
	select undef, undef, undef, 0.05 if %kids;
}
kill 'KILL', keys %kids if %kids;
exit 0;

# ---------------------------------------------------------------------------
# One connection.

# fill(): read more bytes into $buf; 0 on EOF, error or idle timeout.
sub fill {
	my ($timeout_ms) = @_;
	$timeout_ms //= $idle_ms;
	my $deadline = time + $timeout_ms / 1000;
	return 0 if $eof;
	my $s = IO::Select->new($sock);
	while (1) {
		return 0 unless alive();
		my $left = $deadline - time;
		return 0 if $left <= 0;
		my @r = $s->can_read($left < 1 ? $left : 1);
		next unless @r;
		my $n = sysread($sock, $buf, 65536, length $buf);
		next if !defined $n && ($! == EINTR || $! == EAGAIN);
		if (!$n) {
			$eof = 1;
			return 0;
		}
		return 1;
	}
}

sub send_all {
	my ($data) = @_;
	my $off = 0;
	while ($off < length $data) {
		my $n = syswrite($sock, $data, length($data) - $off, $off);
		if (!defined $n) {
			next if $! == EINTR || $! == EAGAIN;
			return 0;
		}
		$off += $n;
	}
	return 1;
}

sub log_request {
	my ($head, $raw, $body, @flags) = @_;
	my $flags = @flags ? join(',', @flags) : '-';
	my $rec = sprintf("#REQ conn=%d seq=%d time=%.3f flags=%s head=%d " .
	    "raw=%d body=%d\n", $conn_id, $seq, time, $flags, length $head,
	    length $raw, length $body) . $head . $raw . $body . "\n";
	sysopen(my $fh, $logfile, O_WRONLY | O_APPEND | O_CREAT)
	    or die "origin.pl: $logfile: $!\n";
	binmode $fh;
	flock($fh, LOCK_EX);
	syswrite($fh, $rec);
	flock($fh, LOCK_UN);
	close $fh;
}

sub sleep_ms {
	my ($ms) = @_;
	my $end = time + $ms / 1000;
	while ((my $left = $end - time) > 0) {
		return unless alive();
		select undef, undef, undef, ($left > 0.2 ? 0.2 : $left);
	}
}

sub response {
	my ($status, $headers, $body, $req) = @_;
	my %reason = (100 => 'Continue', 101 => 'Switching Protocols',
	    200 => 'OK', 201 => 'Created', 204 => 'No Content',
	    206 => 'Partial Content', 301 => 'Moved Permanently',
	    302 => 'Found', 304 => 'Not Modified', 400 => 'Bad Request',
	    403 => 'Forbidden', 404 => 'Not Found', 426 => 'Upgrade Required',
	    500 => 'Internal Server Error', 502 => 'Bad Gateway',
	    503 => 'Service Unavailable');
	my $h = "HTTP/1.1 $status " . ($reason{$status} // 'Status') . "\r\n" .
	    "X-Origin: $port\r\nX-Origin-Conn: $conn_id\r\n" .
	    "X-Origin-Seq: $seq\r\n";
	for my $kv (@$headers) {
		$h .= "$kv->[0]: $kv->[1]\r\n";
	}
	return $h . "\r\n";
}

sub header_value {
	my ($req, $name) = @_;
	my @v = map { $_->[1] } grep { lc $_->[0] eq lc $name }
	    @{$req->{headers}};
	return @v ? join(', ', @v) : undef;
}

# read_head(): the next request head from $buf, or undef.
sub read_head {
	while (1) {
		if ($buf =~ /\r?\n\r?\n/) {
			my $end = $+[0];
			my $head = substr($buf, 0, $end, '');
			return $head;
		}
		if (length $buf > 1024 * 1024) {
			return undef;
		}
		fill() or return undef;
	}
}

sub parse_head {
	my ($head) = @_;
	my @lines = split /\r?\n/, $head;
	my $rl = shift @lines // '';
	my ($method, $target, $version) = split / /, $rl, 3;
	my %req = (method => $method, target => $target,
	    version => $version, headers => []);
	for my $l (@lines) {
		my ($n, $v) = split /:/, $l, 2;
		next unless defined $v;
		$v =~ s/^[ \t]+|[ \t]+$//g;
		push @{$req{headers}}, [$n, $v];
	}
	return \%req;
}

# read_body(): the request body, (raw, decoded, complete).
sub read_body {
	my ($req) = @_;
	my $te = header_value($req, 'Transfer-Encoding');
	my $cl = header_value($req, 'Content-Length');
	if (defined $te && $te =~ /chunked\s*$/i) {
		my ($raw, $body) = ('', '');
		my $pos = 0;
		while (1) {
			# size line
			while ($buf !~ /\n/) {
				fill() or return ($raw . $buf, $body, 0);
			}
			$buf =~ s/^([^\n]*\n)// or return ($raw, $body, 0);
			my $line = $1;
			$raw .= $line;
			my ($size) = $line =~ /^\s*([0-9a-fA-F]+)/;
			return ($raw, $body, 0) unless defined $size;
			$size = hex $size;
			if ($size == 0) {
				# trailer section up to the empty line
				while (1) {
					while ($buf !~ /\n/) {
						fill() or return ($raw . $buf,
						    $body, 0);
					}
					$buf =~ s/^([^\n]*\n)//;
					$raw .= $1;
					return ($raw, $body, 1)
					    if $1 =~ /^\r?\n$/;
				}
			}
			while (length $buf < $size + 2) {
				fill() or return ($raw . $buf, $body, 0);
			}
			$body .= substr($buf, 0, $size);
			$raw .= substr($buf, 0, $size + 2, '');
		}
	}
	if (defined $cl && $cl =~ /^\s*(\d+)/) {
		my $n = $1;
		while (length $buf < $n) {
			if (!fill()) {
				my $got = $buf;
				$buf = '';
				return ($got, $got, 0);
			}
		}
		my $body = substr($buf, 0, $n, '');
		return ($body, $body, 1);
	}
	return ('', '', 1);
}

sub serve {
	($sock) = @_;
	$conn_id = $sock->peerport;
	$seq = 0;
	$buf = '';
	$eof = 0;
	binmode $sock;
	setsockopt($sock, IPPROTO_TCP, TCP_NODELAY, 1);
	my $drop_next = 0;
	while (alive()) {
		my $head = read_head();
		if (!defined $head) {
			if (length $buf) {
				$seq++;
				log_request($buf, '', '', 'bad');
			}
			last;
		}
		$seq++;
		my $req = parse_head($head);
		if (!defined $req->{target} || !defined $req->{version} ||
		    $req->{version} !~ m{^HTTP/1\.[01]$}) {
			log_request($head, '', '', 'bad');
			send_all(response(400, [['Content-Length', 12],
			    ['Connection', 'close']]) . "bad request\n");
			last;
		}
		my $target = $req->{target};
		(my $path = $target) =~ s{^https?://[^/]*}{}i;
		my $query = $path =~ s/\?(.*)$// ? $1 : '';
		if ($path eq '/100') {
			send_all("HTTP/1.1 100 Continue\r\n\r\n");
		}
		my ($raw, $body, $complete) = read_body($req);
		log_request($head, $raw, $body, $complete ? () : 'incomplete');
		last unless $complete;
		last if $drop_next;
		my $head_only = $req->{method} eq 'HEAD';
		my $conn_h = header_value($req, 'Connection') // '';
		my $close = $conn_h =~ /\bclose\b/i ||
		    ($req->{version} eq 'HTTP/1.0' &&
		     $conn_h !~ /\bkeep-alive\b/i);
		my @h;
		push @h, ['Connection', 'close'] if $close;
		my $ok = handle($req, $path, $query, $head, $body, $head_only,
		    \@h, \$drop_next);
		last if !$ok || $close;
	}
	close $sock;
}

# handle(): answer one request; returns 0 when the connection must close.
sub handle {
	my ($req, $path, $query, $head, $body, $head_only, $h, $drop_next) =
	    @_;
	my $send = sub {
		my ($status, $hdrs, $b) = @_;
		my $data = response($status, [@$hdrs, @$h]);
		$data .= $b unless $head_only;
		return send_all($data);
	};
	my $cl = sub { ['Content-Length', length $_[0]] };

	if ($path eq '/echo' || $path eq '/100') {
		my $b = $path eq '/echo' ? $head . $body : $body;
		return $send->(200, [['Content-Type', 'text/plain'],
		    $cl->($b)], $b);
	}
	if ($path =~ m{^/size/(\d+)$}) {
		my $b = 'x' x $1;
		return $send->(200, [$cl->($b)], $b);
	}
	if ($path =~ m{^/pattern/(\d+)$}) {
		my $b = pattern($1);
		return $send->(200, [$cl->($b)], $b);
	}
	if ($path =~ m{^/chunked/(\d+)/(\d+)$}) {
		my ($n, $k) = ($1, $2 || 1);
		my $b = pattern($n);
		my $per = int($n / $k) || 1;
		my $out = '';
		while (length $b) {
			my $take = (length($b) > $per && --$k > 0) ?
			    $per : length($b);
			my $piece = substr($b, 0, $take, '');
			$out .= sprintf("%x\r\n", length $piece) .
			    "$piece\r\n";
		}
		$out .= "0\r\n\r\n";
		return $send->(200, [['Transfer-Encoding', 'chunked']], $out);
	}
	if ($path =~ m{^/close/(\d+)$}) {
		$send->(200, [['Connection', 'close']], pattern($1));
		return 0;
	}
	if ($path =~ m{^/slow/(\d+)$}) {
		sleep_ms($1);
		my $b = "origin $port $req->{target}";
		return $send->(200, [$cl->($b)], $b);
	}
	if ($path =~ m{^/slowbody/(\d+)/(\d+)$}) {
		my ($n, $ms) = ($1, $2);
		send_all(response(200, [['Content-Length', $n], @$h]))
		    or return 0;
		return 1 if $head_only;
		my $pieces = $n < 10 ? $n : 10;
		my $left = $n;
		for my $i (1 .. $pieces) {
			my $len = $i == $pieces ? $left : int($n / $pieces);
			sleep_ms($ms);
			send_all('x' x $len) or return 0;
			$left -= $len;
		}
		return 1;
	}
	if ($path =~ m{^/status/(\d{3})$}) {
		my $st = $1;
		if ($st == 204 || $st == 304) {
			return $send->($st, [], '');
		}
		my $b = "status $st\n";
		return $send->($st, [$cl->($b)], $b);
	}
	if ($path eq '/garbage') {
		send_all("SSH-2.0-garbage \x00\x01\x02 this is not HTTP\r\n" .
		    "\r\n\xff\xfe junk\r\n\r\n");
		return 0;
	}
	if ($path eq '/hang') {
		# never answer: wait for the peer to close (bounded by idle)
		while (fill()) {
			$buf = '';
		}
		return 0;
	}
	if ($path eq '/drop') {
		return 0;
	}
	if ($path eq '/dropnext') {
		$$drop_next = 1;
	}
	if ($path eq '/headers') {
		my $b = "headers\n";
		return $send->(200, [['Connection', 'X-Foo'], ['X-Foo', 'bar'],
		    ['Keep-Alive', 'timeout=5, max=100'],
		    ['Proxy-Connection', 'keep-alive'],
		    ['Proxy-Authenticate', 'Basic realm="x"'],
		    ['Trailer', 'X-Trailer'], ['Upgrade', 'h2c'],
		    ['TE', 'trailers'], ['X-Keep', 'yes'], $cl->($b)], $b);
	}
	if ($path eq '/ws') {
		my $up = header_value($req, 'Upgrade') // '';
		if ($up !~ /websocket/i) {
			my $b = "upgrade required\n";
			return $send->(426, [$cl->($b)], $b);
		}
		send_all(response(101, [['Upgrade', 'websocket'],
		    ['Connection', 'Upgrade']])) or return 0;
		# the tunnel: echo everything until the peer closes
		while (1) {
			if (length $buf) {
				send_all($buf) or return 0;
				$buf = '';
			}
			fill() or last;
		}
		return 0;
	}
	if ($path eq '/resp') {
		my ($st, $b, @rh) = (200, undef);
		for my $kv (split /&/, $query) {
			my ($k, $v) = split /=/, $kv, 2;
			$v //= '';
			$v =~ tr/+/ /;
			$v =~ s/%([0-9a-fA-F]{2})/chr hex $1/ge;
			if ($k eq 'status') { $st = $v }
			elsif ($k eq 'body') { $b = $v }
			elsif ($k eq 'len') { $b = 'x' x $v }
			elsif ($k eq 'h' && $v =~ /^([^:]+):\s*(.*)$/) {
				push @rh, [$1, $2];
			}
		}
		$b //= "origin $port $req->{target}";
		my $nobody = $st == 204 || $st == 304;
		return $send->($st, [@rh, $nobody ? () : $cl->($b)],
		    $nobody ? '' : $b);
	}
	my $b = "origin $port $req->{target}";
	my $ok = $send->(200, [$cl->($b)], $b);
	return 0 if $path eq '/quietclose';
	return $ok;
}

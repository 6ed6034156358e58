#!/usr/bin/perl
#
# tls-origin.pl: an HTTPS origin for the integration tests of TLS to
# upstream servers (t/35-upstream-tls.t).
#
#   perl t/lib/tls-origin.pl PORT cert=FILE key=FILE [client_ca=FILE]
#       [idle_timeout=MS] [max_life=S]
#
# Listens on 127.0.0.1:PORT, forks one process per connection, does the
# TLS handshake there (the TLS context, and so the session ticket keys, are
# made once in the parent: a session from one connection resumes on the
# next), and answers every request with 200 and the body
# "tls origin PORT TARGET", keep-alive (unless the request says
# "Connection: close").  With client_ca=FILE a client certificate signed by
# that CA is required: without one the handshake fails.  Logs nothing.
#
# Every response carries what the tests check:
#   X-Origin: PORT
#   X-Origin-Conn: PEERPORT       one value per connection
#   X-Origin-Seq: N               the request's number on the connection
#   X-Session-Reused: 0|1         whether the TLS session was resumed
#   X-TLS-Version: TLSv1.3 ...
#   X-SNI: NAME                   the server name the client sent, or "-"
#   X-Client-Cert: SUBJECT        the client certificate's subject, or "-"
#
# Bounded like origin.pl: an idle connection closes after idle_timeout ms
# (default 30000), every process exits after max_life seconds (default
# 600) or when the process that started it goes away; SIGTERM stops the
# server and its children.
use strict;
use warnings;
use IO::Socket::INET;
use IO::Socket::SSL;
use IO::Select;
use POSIX qw(:sys_wait_h);
use Socket qw(IPPROTO_TCP TCP_NODELAY SOL_SOCKET SO_RCVTIMEO);
use Time::HiRes qw(time);
use Errno qw(EINTR EAGAIN EWOULDBLOCK);

my ($port, @opts) = @ARGV;
die "usage: tls-origin.pl PORT cert=FILE key=FILE [client_ca=FILE]\n"
    unless defined $port && $port =~ /^\d+$/;
my %opt = map { /^(\w+)=(.*)$/ ? ($1, $2) : die "bad option $_\n" } @opts;
die "tls-origin.pl: cert= and key= are needed\n"
    unless $opt{cert} && $opt{key};
my $idle_ms  = $opt{idle_timeout} // 30000;
my $max_life = $opt{max_life} // 600;
my $started  = time;
my $parent   = getppid();

$SIG{PIPE} = 'IGNORE';

my %ctx_args = (SSL_server => 1, SSL_cert_file => $opt{cert},
    SSL_key_file => $opt{key}, SSL_session_id_context => "tls-origin",
    SSL_verify_mode => SSL_VERIFY_NONE);
if ($opt{client_ca}) {
	$ctx_args{SSL_ca_file} = $opt{client_ca};
	$ctx_args{SSL_verify_mode} = SSL_VERIFY_PEER |
	    SSL_VERIFY_FAIL_IF_NO_PEER_CERT;
}
my $ctx = IO::Socket::SSL::SSL_Context->new(%ctx_args)
    or die "tls-origin.pl: TLS context: $SSL_ERROR\n";

my $listen = IO::Socket::INET->new(LocalAddr => '127.0.0.1',
    LocalPort => $port, Proto => 'tcp', Listen => 128, ReuseAddr => 1)
    or die "tls-origin.pl: cannot listen on 127.0.0.1:$port: $!\n";

sub alive {
	return 0 if time - $started > $max_life;
	return 0 if getppid() != $parent;
	return 1;
}

my %kids;
my $stop = 0;
$SIG{TERM} = $SIG{INT} = sub { $stop = 1 };
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

sub serve {
	my ($c) = @_;
	my $conn_id = $c->peerport;
	setsockopt($c, IPPROTO_TCP, TCP_NODELAY, 1);
	# a blocking read never waits more than a second
	setsockopt($c, SOL_SOCKET, SO_RCVTIMEO, pack('l!l!', 1, 0));
	my $s = IO::Socket::SSL->start_SSL($c, SSL_server => 1,
	    SSL_reuse_ctx => $ctx, Timeout => 5) or return;
	my $reused = $s->get_session_reused ? 1 : 0;
	my $sni = $s->get_servername;
	$sni = '-' unless defined $sni && length $sni;
	my $version = $s->get_sslversion // '-';
	my $subject = $s->peer_certificate('subject');
	$subject = '-' unless defined $subject && length $subject;
	my $buf = '';
	my $seq = 0;
	my $deadline = time + $idle_ms / 1000;
	my $fill = sub {
		while (alive() && time < $deadline) {
			my $n = sysread($s, $buf, 65536, length $buf);
			return 1 if $n;
			return 0 if defined $n;		# EOF
			next if $! == EINTR || $! == EAGAIN ||
			    $! == EWOULDBLOCK;		# SO_RCVTIMEO
			return 0;
		}
		return 0;
	};
	while (alive()) {
		my $end;
		while (($end = index($buf, "\r\n\r\n")) < 0) {
			$fill->() or last;
		}
		last if $end < 0;
		my $head = substr($buf, 0, $end + 4, '');
		$seq++;
		my ($rl, @lines) = split /\r\n/, $head;
		my ($method, $target) = split / /, $rl // '';
		my %h;
		for (@lines) {
			my ($n, $v) = split /:\s*/, $_, 2;
			$h{lc $n} = $v // '' if defined $n;
		}
		if (($h{'transfer-encoding'} // '') =~ /chunked/i) {
			# skip the chunks up to the last one and its CRLF
			while ($buf !~ /(?:^|\r\n)0\r\n\r\n/) {
				$fill->() or last;
			}
			$buf =~ s/^.*?(?:^|\r\n)0\r\n\r\n//s;
		} elsif (($h{'content-length'} // 0) =~ /^(\d+)$/ && $1) {
			my $n = $1;
			while (length $buf < $n) {
				$fill->() or last;
			}
			substr($buf, 0, $n, '');
		}
		my $close = ($h{connection} // '') =~ /close/i;
		my $body = "tls origin $port " . ($target // '');
		my $resp = "HTTP/1.1 200 OK\r\nX-Origin: $port\r\n" .
		    "X-Origin-Conn: $conn_id\r\nX-Origin-Seq: $seq\r\n" .
		    "X-Session-Reused: $reused\r\nX-TLS-Version: $version\r\n" .
		    "X-SNI: $sni\r\nX-Client-Cert: $subject\r\n" .
		    "Content-Type: text/plain\r\n" .
		    "Content-Length: " . length($body) . "\r\n" .
		    ($close ? "Connection: close\r\n" : '') . "\r\n";
		$resp .= $body unless ($method // '') eq 'HEAD';
		my $off = 0;
		while ($off < length $resp) {
			my $n = syswrite($s, $resp, length($resp) - $off, $off);
			last unless $n;
			$off += $n;
		}
		last if $off < length $resp;
		$deadline = time + $idle_ms / 1000;
		last if $close;
	}
	$s->close(SSL_fast_shutdown => 1);
}

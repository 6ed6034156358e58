#!/usr/bin/perl
#
# cache-origin.pl: an origin for the cache tests that answers what the
# query string asks, and counts what it receives.
#
#   perl t/lib/cache-origin.pl PORT LOGFILE
#
# An HTTP/1.1 server on 127.0.0.1:PORT, one forked process per
# connection, keep-alive.  Every request is appended to LOGFILE as one
# line, under flock:
#   METHOD TARGET inm=<If-None-Match or -> ims=<If-Modified-Since or ->
#     range=<Range or -> pid=<process>
# The answer, by query parameter (each may repeat where it makes sense):
#   s=NNN        the status (default 200); 304 and 204 have no body
#   h=Name:Value a response header (URL-encoded; repeat for more)
#   b=TEXT       the body text (default "body of PATH"), followed by
#                " #N\n" where N counts the requests for PATH so far
#   n=N          instead a body of N bytes ('a'..'z' repeated)
#   chunked=1    the body in chunked coding (3 chunks), else Content-Length
#   delay=MS     wait MS ms before answering
#   bodydelay=MS send the head, wait MS ms, then the body
#   v304=1       answer 304 (with the h= headers) when the request carries
#                If-None-Match or If-Modified-Since
#   close=1      no Content-Length: the body ends with the close
# The path /count?p=PATH answers the number of requests logged for PATH
# (not counted itself).
use strict;
use warnings;
use IO::Socket::INET;
use Fcntl qw(:flock SEEK_END);
use Time::HiRes qw(usleep);
use POSIX ();

my ($port, $log) = @ARGV;
die "usage: cache-origin.pl PORT LOGFILE\n" unless $port && $log;
$SIG{CHLD} = 'IGNORE';
my $srv = IO::Socket::INET->new(LocalAddr => '127.0.0.1', LocalPort => $port,
    Listen => 128, ReuseAddr => 1) or die "listen $port: $!\n";

sub unescape { my $s = shift; $s =~ tr/+/ /; $s =~ s/%([0-9A-Fa-f]{2})/chr hex $1/ge; $s }

# Append a line, and return how many lines name this path.
sub record {
	my ($line, $path) = @_;
	open my $fh, '+>>', $log or die "$log: $!";
	flock $fh, LOCK_EX;
	seek $fh, 0, SEEK_END;
	print $fh $line;
	$fh->flush;
	seek $fh, 0, 0;
	my $n = 0;
	while (<$fh>) { $n++ if /^\S+ \Q$path\E(\?| )/ }
	close $fh;
	return $n;
}

sub count {
	my $path = shift;
	open my $fh, '<', $log or return 0;
	flock $fh, LOCK_SH;
	my $n = 0;
	while (<$fh>) { $n++ if /^\S+ \Q$path\E(\?| )/ }
	close $fh;
	return $n;
}

sub serve {
	my $c = shift;
	my $buf = '';
	for (;;) {
		while ($buf !~ /\r\n\r\n/) {
			my $r = sysread $c, $buf, 65536, length $buf;
			return unless $r;
		}
		$buf =~ s/^(.*?)\r\n\r\n//s;
		my $head = $1;
		my ($method, $target) = $head =~ /^(\S+) (\S+)/;
		my %h;
		for (split /\r\n/, $head) {
			$h{lc $1} = $2 if /^([^:]+):\s*(.*)$/;
		}
		my $len = $h{'content-length'} // 0;
		while (length $buf < $len) {
			my $r = sysread $c, $buf, 65536, length $buf;
			return unless $r;
		}
		substr($buf, 0, $len) = '';
		my ($path, $query) = split /\?/, $target, 2;
		my (@hdrs, %q);
		for (split /&/, $query // '') {
			my ($k, $v) = split /=/, $_, 2;
			$v = unescape($v // '');
			if ($k eq 'h') { push @hdrs, $v } else { $q{$k} = $v }
		}
		if ($path eq '/count') {
			my $n = count($q{p}) . "\n";
			print $c "HTTP/1.1 200 OK\r\nContent-Length: " .
			    length($n) . "\r\n\r\n$n";
			next;
		}
		my $n = record(sprintf("%s %s inm=%s ims=%s range=%s pid=%d\n",
		    $method, $target, $h{'if-none-match'} // '-',
		    $h{'if-modified-since'} // '-', $h{range} // '-', $$),
		    $path);
		usleep($q{delay} * 1000) if $q{delay};
		my $status = $q{s} // 200;
		$status = 304 if $q{v304} &&
		    ($h{'if-none-match'} || $h{'if-modified-since'});
		my $body = defined $q{n} ?
		    substr(('abcdefghijklmnopqrstuvwxyz' x (int($q{n} / 26) + 1)),
		    0, $q{n}) : ($q{b} // "body of $path") . " #$n\n";
		$body = '' if $status == 304 || $status == 204 ||
		    $method eq 'HEAD';
		my $out = "HTTP/1.1 $status X\r\n";
		$out .= "$_\r\n" for @hdrs;
		my $nobody = $status == 304 || $status == 204;
		if ($nobody) {
			$out .= "\r\n";
		} elsif ($q{chunked}) {
			$out .= "Transfer-Encoding: chunked\r\n\r\n";
		} elsif ($q{close}) {
			$out .= "Connection: close\r\n\r\n";
		} else {
			$out .= "Content-Length: " . length($body) . "\r\n\r\n";
		}
		if ($q{bodydelay}) {
			print $c $out;
			$c->flush;
			$out = '';
			usleep($q{bodydelay} * 1000);
		}
		if (!$nobody && $q{chunked}) {
			my $third = int(length($body) / 3) || 1;
			while (length $body) {
				my $part = substr($body, 0, $third, '');
				$out .= sprintf("%x\r\n%s\r\n", length $part, $part);
			}
			$out .= "0\r\n\r\n";
		} else {
			$out .= $body;
		}
		print $c $out;
		$c->flush;
		return if $q{close};
	}
}

while (my $c = $srv->accept) {
	my $pid = fork;
	if (defined $pid && $pid == 0) {
		$c->autoflush(1);
		serve($c);
		POSIX::_exit(0);
	}
	close $c;
}

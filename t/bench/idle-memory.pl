#!/usr/bin/perl
# idle-memory.pl PORT N WORKER_PID: the worker's resident memory per idle
# keep-alive client connection.  Opens N connections to 127.0.0.1:PORT,
# each makes one GET / and stays open; prints the RSS growth of WORKER_PID
# divided by N.  A benchmark, not a test: run it by hand against a worker
# that proxies / (see the closing notes of issue 3).  Needs N + 100 open
# files (ulimit -n).
use strict;
use warnings;
use IO::Socket::INET;

my ($port, $n, $pid) = @ARGV;
die "usage: $0 PORT N WORKER_PID\n" unless $pid;

sub rss {
	open my $fh, '<', "/proc/$pid/status" or die "no process $pid\n";
	while (<$fh>) { return $1 if /^VmRSS:\s+(\d+)/ }
	die "no VmRSS\n";
}

# one(): a connection that has made one request and read its answer
sub one {
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port")
	    or die "connect: $!\n";
	print $s "GET / HTTP/1.1\r\nHost: bench\r\n\r\n";
	my $buf = '';
	while (1) {
		my $k = sysread($s, $buf, 65536, length $buf);
		die "closed before the answer\n" unless $k;
		next unless $buf =~ /\r\n\r\n/;
		my $head = substr($buf, 0, $+[0]);
		my ($len) = $head =~ /content-length:\s*(\d+)/i;
		die "no Content-Length\n" unless defined $len;
		last if length($buf) - $+[0] >= $len;
	}
	return $s;
}

my @keep = map { one() } 1 .. 100;	# buffers and pools warm
select undef, undef, undef, 0.5;
my $before = rss();
push @keep, one() for 1 .. $n;
select undef, undef, undef, 1;
my $after = rss();
printf "RSS %d KiB -> %d KiB: %.0f bytes per idle connection\n",
    $before, $after, ($after - $before) * 1024 / $n;

#!/usr/bin/perl
# 28-proxyctl.t: proxyctl start (over a stale pid file), a second start
# refused, reopen, configtest, stop, and stop and status when nothing
# runs, against a daemonized portico (proxyctl runs the portico beside
# it).
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;

my $ctl = './proxyctl';
plan skip_all => 'no ./proxyctl or ./portico' unless -x $ctl && -x './portico';
plan tests => 16;

my $dir = tempdir(CLEANUP => 1);
my $port = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1:0')
    ->sockport;	# free now; portico binds it below
open my $fh, '>', "$dir/p.conf" or die;
print $fh <<"EOF";
workers = 2;
pid_file = "$dir/p.pid";
error_log = "$dir/error.log";
listeners = ( { address = "127.0.0.1:$port"; } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; return = { status = 200; body = "up\\n"; }; } ); } );
EOF
close $fh;

sub ctl { my $out = `$ctl -c $dir/p.conf @_ 2>&1`; return ($? >> 8, $out) }
sub pid { open my $f, '<', "$dir/p.pid" or return; my $p = <$f>; chomp $p; $p }
my ($rc, $out) = ctl('configtest');
is($rc, 0, 'configtest: valid');
# A pid file left by a crash, naming a pid another program has now.
open my $stale, '>', "$dir/p.pid" or die;
print $stale "$$\n";
close $stale;
($rc, $out) = ctl('start');
is($rc, 0, 'start: exit 0') or diag($out);
like($out, qr/^portico started: pid \d+$/m, 'start: says the pid');
my $pid = pid();
ok($pid && kill(0, $pid), 'start: the pid file names a live master');
# Started as root, the master keeps only what a reload needs.
SKIP: {
	skip 'not root', 1 if $> != 0;
	open my $st, '<', "/proc/$pid/status" or die;
	my ($eff) = map { /^CapEff:\s+([0-9a-f]+)/ ? hex $1 : () } <$st>;
	my $allowed = 0;
	$allowed |= 1 << $_ for 0, 1, 5, 6, 7, 10, 24;	# CHOWN DAC_OVERRIDE
				# KILL SETGID SETUID NET_BIND_SERVICE SYS_RESOURCE
	is($eff & ~$allowed, 0, sprintf('the master runs with capabilities '
	    . '%#x only', $eff));
}
my $s = IO::Socket::INET->new("127.0.0.1:$port");
print $s "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n" if $s;
my $resp = $s ? do { local $/; <$s> } : '';
like($resp, qr/\A HTTP\/1\.1\ 200.*\r\n\r\nup\n\z/sx, 'start: it serves');
($rc, $out) = ctl('start');
is($rc, 1, 'a second start is refused');
like($out, qr/already running as pid $pid/, 'and says so');
($rc, $out) = ctl('reopen');
is($rc, 0, 'reopen: exit 0');
($rc, $out) = ctl('stop');
is($rc, 0, 'stop: exit 0') or diag($out);
ok(!kill(0, $pid), 'stop: the master is gone');
ok(!-e "$dir/p.pid", 'stop: the pid file is removed');
($rc, $out) = ctl('stop');
is($rc, 3, 'stop when nothing runs: exit 3');
like($out, qr/not running/, 'and says so');
ok(!-e "/dev/shm/portico.$pid", 'stop: the shared memory is removed');
($rc, $out) = ctl('status');
is($rc, 3, 'status when nothing runs: exit 3');

END { kill 'KILL', $pid if $pid && kill(0, $pid) }

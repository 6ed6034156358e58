#!/usr/bin/perl
# 31-install.t: make install DESTDIR=..., as a packager runs it: the
# programs, man pages, sample portico.conf and var directories where
# config.mk says; a second install keeps an edited portico.conf; the
# installed proxyctl starts the installed portico and drives it (status,
# reload accepted and refused, reopen, stop); make uninstall removes the
# programs and man pages and keeps portico.conf.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use IO::Socket::INET;
use IO::Select;
use Time::HiRes qw(time);

plan skip_all => 'no config.mk, ./portico or ./proxyctl (./configure && make)'
    unless -f 'config.mk' && -x './portico' && -x './proxyctl';

# The directories, as configure wrote them.
my %mk;
open my $mk, '<', 'config.mk' or die "config.mk: $!";
while (<$mk>) {
	$mk{$1} = $2 if /^(\w+)\s*=\s*(.*?)\s*$/;
}
close $mk;
for (qw(prefix sbindir sysconfdir localstatedir man5dir man8dir)) {
	die "config.mk has no $_\n" unless defined $mk{$_};
}

plan tests => 45;

my $tmp = tempdir('portico-install-XXXXXX', TMPDIR => 1, CLEANUP => 1);
my $make = $ENV{MAKE} // 'make';
my $sbin = "$tmp$mk{sbindir}";
my $conf_installed = "$tmp$mk{sysconfdir}/portico.conf";
my @man = ("$tmp$mk{man5dir}/portico.conf.5", "$tmp$mk{man8dir}/portico.8",
    "$tmp$mk{man8dir}/proxyctl.8");
my @var = map { "$tmp$mk{localstatedir}/$_" } qw(log/portico run
    cache/portico);
my @pids;	# started here, killed at END if still there

# make TARGET DESTDIR=$tmp -> (exit, output).  Not a sub-make of the
# make check running us: its -j and jobserver are not ours.
sub make {
	my ($target) = @_;
	delete local @ENV{qw(MAKEFLAGS MFLAGS MAKELEVEL)};
	my $out = `$make -s $target DESTDIR=$tmp 2>&1`;
	return ($? >> 8, $out);
}

# wait_for(CODE): CODE true within 10 s, polled every 0.05 s.
sub wait_for {
	my ($code) = @_;
	my $deadline = time + 10;
	until ($code->()) {
		return 0 if time >= $deadline;
		select undef, undef, undef, 0.05;
	}
	return 1;
}

sub slurp { open my $f, '<', $_[0] or return ''; local $/; <$f> }

# rel(PATH): PATH as installed, without $tmp, for the test names.
sub rel { my ($p) = @_; $p =~ s/^\Q$tmp\E//; $p }

# --- make install --------------------------------------------------------

my ($rc, $out) = make('install');
is($rc, 0, 'make install: exit 0') or diag($out);
ok(-f "$sbin/portico" && -x _, "portico installed in $mk{sbindir}");
ok(-f "$sbin/proxyctl" && -x _, "proxyctl installed in $mk{sbindir}");
ok(-f $_, 'man page ' . rel($_)) for @man;
is(slurp($conf_installed), slurp('etc/portico.conf'),
    "the sample portico.conf installed in $mk{sysconfdir}");
ok(-d $_, 'directory ' . rel($_) . ' made') for @var;

# An edited portico.conf survives the next install.
open my $fh, '>>', $conf_installed or die "$conf_installed: $!";
print $fh "# edited after install\n";
close $fh;
($rc, $out) = make('install');
is($rc, 0, 'make install again: exit 0') or diag($out);
like(slurp($conf_installed), qr/^# edited after install$/m,
    'make install again: the edited portico.conf is kept');

# --- the installed proxyctl and portico ----------------------------------

my $port = IO::Socket::INET->new(Listen => 1, LocalAddr => '127.0.0.1:0')
    ->sockport;	# free now; portico binds it below
my $conf = "$tmp/p.conf";
my $pid_file = "$tmp/p.pid";

sub write_conf {
	my ($body, $extra) = @_;
	open my $f, '>', $conf or die "$conf: $!";
	print $f <<"EOF";
workers = 2;
pid_file = "$pid_file";
error_log = "$tmp/error.log";
listeners = ( { address = "127.0.0.1:$port"; } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; return = { status = 200; body = "$body\\n"; }; } ); } );
EOF
	print $f $extra if defined $extra;
	close $f;
}

sub ctl {
	my $out = `$sbin/proxyctl -c $conf @_ 2>&1`;
	return ($? >> 8, $out);
}

# get(): the body of GET /, read until the server closes (10 s at most).
sub get {
	my $s = IO::Socket::INET->new(PeerAddr => "127.0.0.1:$port",
	    Timeout => 5) or return '';
	print $s "GET / HTTP/1.1\r\nHost: a\r\nConnection: close\r\n\r\n";
	my $sel = IO::Select->new($s);
	my $buf = '';
	my $deadline = time + 10;
	while (time < $deadline && $sel->can_read($deadline - time)) {
		last unless sysread $s, $buf, 4096, length $buf;
	}
	return $buf =~ /\A HTTP\/1\.1\ 200 .*?\r\n\r\n(.*)\z/sx ? $1 : '';
}

# workers(STATUS, GEN): the pids of the workers of generation GEN serving.
sub workers {
	my ($st, $gen) = @_;
	return $st =~ /^worker \d+: pid (\d+), generation $gen, serving/mg;
}

write_conf('one');
($rc, $out) = ctl('start');
is($rc, 0, 'start: exit 0') or diag($out);
like($out, qr/^portico started: pid (\d+)$/m, 'start: says the pid');
my ($pid) = $out =~ /^portico started: pid (\d+)$/m;
$pid //= 0;
push @pids, $pid if $pid;
is(readlink("/proc/$pid/exe"), "$sbin/portico",
    'the installed proxyctl ran the installed portico');
is(get(), "one\n", 'start: it serves');

($rc, $out) = ctl('status');
is($rc, 0, 'status: exit 0') or diag($out);
like($out, qr/^master: pid $pid$/m, 'status: the master pid');
like($out, qr/^master: generation 1$/m, 'status: generation 1');
my @w1 = workers($out, 1);
is(scalar @w1, 2, 'status: two workers of generation 1 serve');
push @pids, @w1;

write_conf('two');
($rc, $out) = ctl('reload');
is($rc, 0, 'reload: exit 0') or diag($out);
like($out, qr/^portico reloaded: generation 2 serving$/m, 'reload: says so');
is(get(), "two\n", 'reload: the new config serves');
($rc, $out) = ctl('status');
like($out, qr/^master: generation 2$/m, 'status: generation 2');
my @w2 = workers($out, 2);
is(scalar @w2, 2, 'status: two workers of generation 2 serve');
push @pids, @w2;

($rc, $out) = ctl('reopen');
is($rc, 0, 'reopen: exit 0') or diag($out);

write_conf('three', "bogus = 1;\n");
($rc, $out) = ctl('reload');
is($rc, 1, 'a broken config: reload exits 1');
like($out, qr/reload refused: \S+:\d+: unknown setting 'bogus'/,
    'a broken config: reload says why');
is(get(), "two\n", 'a broken config: the running one still serves');

($rc, $out) = ctl('stop');
is($rc, 0, 'stop: exit 0') or diag($out);
ok(wait_for(sub { !kill 0, $pid }), 'stop: the master is gone');
ok(wait_for(sub { !grep { kill 0, $_ } @w1, @w2 }),
    'stop: the workers are gone');
@pids = grep { kill 0, $_ } @pids;
ok(!-e $pid_file, 'stop: the pid file is removed');
($rc, $out) = ctl('status');
is($rc, 3, 'status after stop: exit 3');
like($out, qr/not running/, 'status after stop: says so');

# --- make uninstall ------------------------------------------------------

($rc, $out) = make('uninstall');
is($rc, 0, 'make uninstall: exit 0') or diag($out);
ok(!-e "$sbin/portico", 'make uninstall: portico removed');
ok(!-e "$sbin/proxyctl", 'make uninstall: proxyctl removed');
ok(!-e $_, 'make uninstall: ' . rel($_) . ' removed') for @man;
like(slurp($conf_installed), qr/^# edited after install$/m,
    'make uninstall: portico.conf is kept');
ok(-d $_, 'make uninstall: ' . rel($_) . ' kept') for @var;

# Whatever a failure left running: by PID, TERM then KILL, bounded.
END {
	my @left = grep { kill 0, $_ } @pids;
	kill 'TERM', @left if @left;
	wait_for(sub { !grep { kill 0, $_ } @left }) if @left;
	@left = grep { kill 0, $_ } @left;
	kill 'KILL', @left if @left;
}

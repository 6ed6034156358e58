#!/usr/bin/perl
# 35-upstream-tls.t: TLS to upstream servers.  The origin
# (t/lib/tls-origin.pl) has a certificate for origin.test signed by a test
# CA.  Verified against that CA and name: 200, with the name sent as SNI
# (or not, sni = false); a wrong name or the system's CAs: 502 and the
# error log says the verification failed; verify = false: 200 whatever the
# name.  An origin that requires a client certificate: 502 without one or
# with one of another CA, 200 with the configured one.  Pooled connections
# are reused; without the pool (keepalive = 0) the TLS session is resumed
# on each new connection.  Bad upstream tls settings: file:line.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(wait_until shq sh write_file);
use File::Spec;
use IO::Socket::INET;
use POSIX qw(WNOHANG);
use Time::HiRes qw(time);

plan skip_all => 'openssl(1) missing' unless `openssl version 2>&1` =~ /^OpenSSL 3/;

my $t = Test::Portico->new;
my $d = $t->testdir;
my $bin = $ENV{TEST_PORTICO_BINARY} // './portico';
my $TLS_ORIGIN = File::Spec->rel2abs('t/lib/tls-origin.pl');


# cert(NAME, SUBJECT, issuer => CA, serial => N, ext => TEXT): TESTDIR/NAME.pem
# and NAME.key (ECDSA P-256); without issuer a self-signed CA.
sub cert {
	my ($name, $subj, %o) = @_;
	my $p = "$d/$name";
	my @key = ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes',
	    '-keyout', "$p.key", '-subj', $subj);
	if (!$o{issuer}) {
		sh('openssl', 'req', '-x509', @key, '-out', "$p.pem", '-days', 2,
		    '-addext', 'basicConstraints=critical,CA:TRUE',
		    '-addext', 'keyUsage=critical,keyCertSign,cRLSign');
		return;
	}
	sh('openssl', 'req', '-new', @key, '-out', "$p.csr");
	write_file("$p.ext", $o{ext});
	sh('openssl', 'x509', '-req', '-in', "$p.csr", '-CA', "$d/$o{issuer}.pem",
	    '-CAkey', "$d/$o{issuer}.key", '-set_serial', $o{serial}, '-days', 2,
	    '-extfile', "$p.ext", '-out', "$p.pem");
}
my $client_ext = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n";
cert('ca', '/O=Portico Test/CN=Portico Test CA');
cert('other-ca', '/O=Elsewhere/CN=Other CA');
cert('origin', '/O=Portico Origin/CN=origin.test', issuer => 'ca', serial => '0x3001',
    ext => "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=DNS:origin.test\n");
cert('client', '/O=Portico/CN=portico-client', issuer => 'ca', serial => '0x3002', ext => $client_ext);
cert('intruder', '/O=Elsewhere/CN=intruder', issuer => 'other-ca', serial => '0x3003', ext => $client_ext);

# The TLS origins: PORT_1 plain TLS, PORT_2 requires a client certificate
# of the CA.  Stopped by PID at the end (and they leave when we do).
my %origin_pids;
sub start_tls_origin {
	my ($port, @opts) = @_;
	my $pid = fork // die "fork: $!";
	if ($pid == 0) {
		open STDOUT, '>>', "$d/tls-origin-$port.out";
		open STDERR, '>&', \*STDOUT;
		{ no warnings 'exec'; exec $^X, $TLS_ORIGIN, $port, "cert=$d/origin.pem", "key=$d/origin.key",
		    'max_life=300', @opts; }
		POSIX::_exit(127);
	}
	$origin_pids{$pid} = 1;
	wait_until(sub { waitpid($pid, WNOHANG) == $pid ? die "tls-origin.pl on $port exited\n"
	    : IO::Socket::INET->new(PeerAddr => '127.0.0.1', PeerPort => $port, Timeout => 1) }, timeout => 10)
	    or die "tls-origin.pl did not listen on $port";
}
END {
	my $status = $?;
	for my $pid (keys %origin_pids) {
		kill 'TERM', $pid;
		wait_until(sub { waitpid($pid, WNOHANG) != 0 }, timeout => 3) or do { kill 'KILL', $pid; waitpid($pid, 0) };
	}
	$? = $status;
}
my ($p1, $p2) = ($t->port(1), $t->port(2));
start_tls_origin($p1);
start_tls_origin($p2, "client_ca=$d/ca.pem");

my %up = (
	good => [$p1, qq|ca = "$d/ca.pem"; name = "origin.test";|],
	wrongname => [$p1, qq|ca = "$d/ca.pem"; name = "wrong.test";|],
	noverify => [$p1, qq|verify = false; name = "wrong.test";|],
	systemca => [$p1, qq|name = "origin.test";|],
	nosni => [$p1, qq|ca = "$d/ca.pem"; name = "origin.test"; sni = false;|],
	nocert => [$p2, qq|ca = "$d/ca.pem"; name = "origin.test";|],
	withcert => [$p2, qq|ca = "$d/ca.pem"; name = "origin.test"; certificate = "$d/client.pem"; key = "$d/client.key";|],
	othercert => [$p2, qq|ca = "$d/ca.pem"; name = "origin.test"; certificate = "$d/intruder.pem"; key = "$d/intruder.key";|],
	nopool => [$p1, qq|ca = "$d/ca.pem"; name = "origin.test";|, 'keepalive = 0;'],
	checked => [$p1, qq|ca = "$d/ca.pem"; name = "origin.test";|,
	    'health = { path = "/health"; interval = "200ms"; rise = 1; fall = 1; };'],
	checkbad => [$p1, qq|ca = "$d/ca.pem"; name = "wrong.test";|,
	    'health = { path = "/health"; interval = "200ms"; rise = 1; fall = 1; };'],
);
my $ups = join ",\n", map { my ($port, $tls, $x) = @{$up{$_}};
    qq|  { name = "$_"; ${\($x // '')} tls = { $tls };\n    servers = ( { address = "127.0.0.1:$port"; } ); }| }
    sort keys %up;
my $routes = join ",\n", map { qq|      { path = "/$_/"; upstream = "$_"; }| } sort keys %up;
my $conf = <<"EOF";
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = (
$ups );
sites = ( { hosts = [ "*" ]; routes = (
$routes ); } );
EOF
my $started = eval { $t->write_config($conf)->run; 1 };
my $why = $@;
plan tests => 25;
ok($started, 'portico starts with TLS upstreams') or diag($why);
SKIP: {
skip 'portico did not start', 20 unless $started;

# log_since(OFFSET): the error log from OFFSET on.
sub log_since { substr($t->error_log, $_[0]) }

my $r = $t->get('/good/x');
is("$r->{status} $r->{body}", "200 tls origin $p1 /good/x", 'verified against the CA, name origin.test: 200')
    or diag($t->error_log);
is($r->{headers}{'x-sni'}, 'origin.test', '... with the name sent as SNI');
is($t->get('/nosni/x')->{headers}{'x-sni'}, '-', 'sni = false: no SNI sent, still verified: 200');

my $off = length $t->error_log;
$r = $t->get('/wrongname/x');
is($r->{status}, 502, 'name = "wrong.test" against a certificate for origin.test: 502');
$t->wait_for_error_log(qr/verif/i);
like(log_since($off), qr/verif/i, '... and the error log says the verification failed') or diag(log_since($off));
$off = length $t->error_log;
$r = $t->get('/systemca/x');
is($r->{status}, 502, 'the system CAs (no ca): the test CA is unknown: 502');
wait_until(sub { log_since($off) =~ /verif/i }, timeout => 3);
like(log_since($off), qr/verif/i, '... and the error log says so') or diag(log_since($off));
$r = $t->get('/noverify/x');
is("$r->{status} $r->{body}", "200 tls origin $p1 /noverify/x", 'verify = false with a wrong name: 200');

# Client certificates.
is($t->get('/nocert/x')->{status}, 502, 'an origin requiring a client certificate, none configured: 502');
$r = $t->get('/withcert/x');
is($r->{status}, 200, '... with certificate and key of the CA configured: 200');
like($r->{headers}{'x-client-cert'} // '', qr/CN=portico-client/, '... the origin saw that certificate');
is($t->get('/othercert/x')->{status}, 502, '... with a certificate of another CA: 502');

# The pool: 20 requests in a row share the origin connection.
my $c = $t->connect;
my (%conns, $bad);
for my $i (1 .. 20) {
	my $x = $c && $c->request('GET', "/good/pool$i");
	$bad++, next unless $x && $x->{status} == 200;
	$conns{$x->{headers}{'x-origin-conn'} // '?'}++;
}
ok(!$bad, '20 keep-alive requests through the pool: all 200');
ok(keys %conns >= 1 && keys %conns <= 2, '... over ' . scalar(keys %conns) . ' TLS connection(s) to the origin (1 or 2, not 20)');

# Without the pool: a new connection each time, the session resumed.
my (@reused, %nconn);
for my $i (1 .. 5) {
	my $x = $t->get("/nopool/s$i");
	push @reused, $x->{status} == 200 ? $x->{headers}{'x-session-reused'} // '?' : "status $x->{status}";
	$nconn{$x->{headers}{'x-origin-conn'} // '?'}++;
}
is(scalar keys %nconn, 5, 'keepalive = 0: each request on its own origin connection');
is("@reused[1..4]", '1 1 1 1', '... and the 2nd and later resume the TLS session (first: ' . $reused[0] . ')');
# Health checks of a TLS upstream go over TLS, verified as requests are.
my $st;
wait_until(sub { $st = $t->status; $st && ($st->{servers}{"checked 127.0.0.1:$p1"}{checks} // 0) >= 2
    && ($st->{servers}{"checkbad 127.0.0.1:$p1"}{checks} // 0) >= 2 }, timeout => 5);
my $ck = $st->{servers}{"checked 127.0.0.1:$p1"} // {};
is("$ck->{state}: $ck->{last}" =~ s/ in \d+ ms//r, 'up: HTTP 200',
    'an http health check of a TLS upstream is made over TLS: up, HTTP 200') or diag($st->{text});
$ck = $st->{servers}{"checkbad 127.0.0.1:$p1"} // {};
like("$ck->{state}: $ck->{last}", qr/^down: TLS handshake: .*verif/i,
    '... and with the wrong name, down: the handshake fails verification') or diag($st->{text});
ok(kill(0, $t->pid), 'portico is still running');
my $m = $t->get('/good/last');
is($m->{status}, 200, '... and serves');
}

# Bad upstream tls settings: portico -t -c FILE says FILE:LINE: (the
# setting's line or its tls group's) and why.
my $n = 0;
for my $case (['a missing ca file', qq|ca = "$d/missing-ca.pem"; #HERE|, qr/missing-ca\.pem|No such file/],
    ['a certificate without its key', qq|certificate = "$d/client.pem"; #HERE|, qr/key/],
    ['a key that is not the certificate\'s', qq|certificate = "$d/client.pem"; key = "$d/intruder.key"; #HERE|,
	qr/key values mismatch/],
    ['an unknown key exchange group', qq|groups = "X25519:nosuch"; #HERE|, qr/groups 'X25519:nosuch'/]) {
	my ($what, $tls, $re) = @$case;
	my $text = <<"EOF";
workers = 1;
listeners = ( { address = "127.0.0.1:1"; } );
upstreams = ( { name = "app";
    tls = { name = "origin.test";
            $tls
    };
    servers = ( { address = "127.0.0.1:2"; } ); } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "app"; } ); } );
EOF
	my $line = 1 + (() = substr($text, 0, index($text, '#HERE')) =~ /\n/g);
	my $group = 1 + (() = substr($text, 0, index($text, 'tls = {')) =~ /\n/g);
	my $f = "$d/bad" . ++$n . '.conf';
	write_file($f, $text);
	my $out = `$bin -t -c $f 2>&1`;
	my $rc = $? >> 8;
	ok($rc != 0 && $out =~ /^\Q$f\E:(?:$line|$group): .*$re/m,
	    "$what: exit $rc, $f:$line: (or $group:, the tls group) and the reason")
	    or diag("got: $out");
}

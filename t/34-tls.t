#!/usr/bin/perl
# 34-tls.t: TLS on the client side.  The certificate is picked by SNI
# (exact names before wildcards, CN without SAN, the first one by
# default), RSA and ECDSA side by side by what the client supports, the
# chain after the leaf is sent; protocols, ciphers, suites and groups;
# ALPN says http/1.1; sessions resume on any of 2 workers (shared ticket
# keys); X-Forwarded-Proto: https; client certificates (required,
# optional) and the X-Client-* headers, never taken from the client;
# plain HTTP on a TLS port gets 400; an idle client is closed; TLS 1.2
# renegotiation is refused; OCSP stapling follows its file; config errors
# with file:line; a reload swaps the certificate while an open keep-alive
# connection still gets its answer; redirect_https and hsts.
#
# Keys and certificates are made with openssl(1) in the test directory;
# s_client, curl and IO::Socket::SSL are the clients.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(wait_until parse_response http_request req_header shq sh
    write_file);
use IO::Socket::SSL;
use Socket qw(SOL_SOCKET SO_RCVTIMEO);
use Errno qw(EINTR EAGAIN EWOULDBLOCK);
use File::Copy qw(copy);
use Time::HiRes qw(time sleep);
use POSIX ();

plan skip_all => 'openssl(1) or curl(1) missing'
    unless `openssl version 2>&1` =~ /^OpenSSL 3/ && `curl --version 2>&1` =~ /^curl/;

my $t = Test::Portico->new;
my $d = $t->testdir;
my $bin = $ENV{TEST_PORTICO_BINARY} // './portico';

sub slurp { my ($p) = @_; open my $f, '<', $p or return ''; local $/; <$f> // '' }

# cert(NAME, SUBJECT, issuer => CA, type => ec|rsa, serial => N, ext => TEXT):
# TESTDIR/NAME.pem and NAME.key; without issuer a self-signed CA.
sub cert {
	my ($name, $subj, %o) = @_;
	my $p = "$d/$name";
	my @key = ($o{type} // 'ec') eq 'rsa' ? ('-newkey', 'rsa:2048') :
	    ('-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256');
	if (!$o{issuer}) {
		sh('openssl', 'req', '-x509', @key, '-nodes', '-keyout', "$p.key",
		    '-out', "$p.pem", '-days', 2, '-subj', $subj, '-addext',
		    'basicConstraints=critical,CA:TRUE', '-addext',
		    'keyUsage=critical,keyCertSign,cRLSign');
		return;
	}
	sh('openssl', 'req', '-new', @key, '-nodes', '-keyout', "$p.key",
	    '-out', "$p.csr", '-subj', $subj);
	write_file("$p.ext", $o{ext} // "basicConstraints=CA:FALSE\n");
	sh('openssl', 'x509', '-req', '-in', "$p.csr", '-CA', "$d/$o{issuer}.pem",
	    '-CAkey', "$d/$o{issuer}.key", '-set_serial', $o{serial}, '-days', 2,
	    '-extfile', "$p.ext", '-out', "$p.pem");
}
sub server_ext { "basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\n" .
    (@_ ? 'subjectAltName=' . join(',', map { "DNS:$_" } @_) . "\n" : '') }
my $client_ext = "basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n";

cert('ca', '/O=Portico Test/CN=Portico Test CA');
cert('other-ca', '/O=Elsewhere/CN=Other CA');
cert('inter', '/O=Portico Test/CN=Portico Test Intermediate', issuer => 'ca',
    serial => '0x100', ext => "basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\n");
cert('a-ec', '/O=Portico EC/CN=a.test', issuer => 'ca', serial => '0x1001', ext => server_ext('a.test'));
cert('a-rsa', '/O=Portico RSA/CN=a.test', issuer => 'ca', serial => '0x1002', type => 'rsa', ext => server_ext('a.test'));
cert('wild', '/O=Portico Wild/CN=*.wild.test', issuer => 'inter', serial => '0x1003', ext => server_ext('*.wild.test'));
write_file("$d/wild.pem", slurp("$d/wild.pem") . slurp("$d/inter.pem"));	# leaf, then chain
cert('b', '/O=Portico B/CN=b.test', issuer => 'ca', serial => '0x1004', ext => server_ext('b.test', 'exact.wild.test'));
cert('cn', '/O=Portico CN/CN=cn.test', issuer => 'ca', serial => '0x1005', ext => server_ext());
cert('a2', '/O=Portico A2/CN=a.test', issuer => 'ca', serial => '0x1006', ext => server_ext('a.test'));
cert('client', '/O=Portico Client/CN=client.test', issuer => 'ca', serial => '0x2001', ext => $client_ext);
cert('intruder', '/O=Elsewhere/CN=intruder.test', issuer => 'other-ca', serial => '0x2002', ext => $client_ext);

# ocsp(FILE, DAYS): a "good" OCSP response for a-ec.pem, signed by the CA.
my $exp = POSIX::strftime('%y%m%d%H%M%SZ', gmtime(time + 2 * 86400));
write_file("$d/index.txt", "V\t$exp\t\t1001\tunknown\t/O=Portico EC/CN=a.test\n");
sub ocsp {
	my ($file, $days) = @_;
	sh('openssl', 'ocsp', '-index', "$d/index.txt", '-rsigner', "$d/ca.pem",
	    '-rkey', "$d/ca.key", '-CA', "$d/ca.pem", '-issuer', "$d/ca.pem",
	    '-cert', "$d/a-ec.pem", '-respout', $file, '-ndays', $days);
}
ocsp("$d/a.ocsp.der", 1);

# s_client(port => P, sni => NAME (undef: none), args => [..], request =>
# BYTES): run openssl s_client (bounded) and parse what it printed.
my $nreq = 0;
sub s_client {
	my (%o) = @_;
	my @cmd = ('timeout', $o{timeout} // 10, 'openssl', 's_client', '-connect',
	    "127.0.0.1:$o{port}", '-CAfile', "$d/ca.pem",
	    defined $o{sni} ? ('-servername', $o{sni}) : '-noservername', @{$o{args} // []});
	my $in = '/dev/null';
	if (defined $o{request}) {
		$in = "$d/req." . ++$nreq;
		write_file($in, $o{request});
		push @cmd, '-ign_eof';
	}
	my $out = `@{[ join ' ', map { shq($_) } @cmd ]} <$in 2>&1`;
	my %r = (out => $out, rc => $? >> 8);
	@r{qw(session proto cipher)} = $out =~ /^(New|Reused), (\S+), Cipher is (\S+)/m;
	($r{subject}) = $out =~ /^subject=(.*)$/m;
	($r{alpn}) = $out =~ /^ALPN protocol: (\S+)/m;
	($r{verify}) = $out =~ /Verify return code: (\d+)/;
	($r{ocsp}) = $out =~ /OCSP Response Status: (\w+)/;
	($r{next_update}) = $out =~ /Next Update: (.*)/;
	($r{tempkey}) = $out =~ /^Server Temp Key: (.*)$/m;
	($r{pem}) = $out =~ /(-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----\n)/s;
	my $i = index($out, 'HTTP/1.');
	if ($i >= 0) {
		my $b = substr($out, $i);
		$r{http} = parse_response(\$b, eof => 1);
	}
	$r{$_} //= '' for qw(session proto cipher subject alpn verify ocsp next_update tempkey pem);
	return \%r;
}
sub req { my ($path, $host) = @_; http_request('GET', $path, host => $host // 'a.test', close => 1) }
sub http_status { my ($r) = @_; $r->{http} ? $r->{http}{status} : 'none' }
sub serial_of {
	my ($pem) = @_;
	return '' unless $pem;
	write_file("$d/peer.pem", $pem);
	my ($s) = sh('openssl', 'x509', '-in', "$d/peer.pem", '-noout', '-serial') =~ /serial=(\w+)/;
	return $s // '';
}

# tls_connect(port => P, sni => NAME, cert => NAME): an IO::Socket::SSL
# client (verifying against the CA), or undef; tls_request(C, BYTES):
# send, then one parsed response or undef.
sub tls_connect {
	my (%o) = @_;
	my $name = $o{sni} // 'a.test';
	my $s = IO::Socket::SSL->new(PeerHost => '127.0.0.1', PeerPort => $o{port},
	    Timeout => 5, SSL_hostname => $name, SSL_verifycn_name => $name,
	    SSL_verifycn_scheme => 'http', SSL_ca_file => "$d/ca.pem",
	    SSL_verify_mode => SSL_VERIFY_PEER,
	    $o{cert} ? (SSL_cert_file => "$d/$o{cert}.pem", SSL_key_file => "$d/$o{cert}.key") : ())
	    or return undef;
	setsockopt($s, SOL_SOCKET, SO_RCVTIMEO, pack('l!l!', 0, 200000));
	return { sock => $s, buf => '', eof => 0 };
}
sub tls_request {
	my ($c, $bytes, $timeout) = @_;
	my $off = 0;
	while ($off < length $bytes) {
		my $n = syswrite($c->{sock}, $bytes, length($bytes) - $off, $off) or return undef;
		$off += $n;
	}
	my $deadline = time + ($timeout // 5);
	for (1 .. 10000) {
		my $r = parse_response(\$c->{buf}, eof => $c->{eof});
		return $r if $r;
		return undef if $c->{eof} || time > $deadline;
		my $n = sysread($c->{sock}, $c->{buf}, 65536, length $c->{buf});
		next if !defined $n && ($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR);
		$c->{eof} = 1 unless $n;
	}
	return undef;
}
sub tls_get {
	my ($port, $path, %o) = @_;
	my $c = tls_connect(port => $port, %o)
	    or return { status => 0, error => "handshake: $SSL_ERROR", headers => {} };
	my $r = tls_request($c, http_request('GET', $path, host => $o{host} // 'a.test',
	    headers => $o{headers} // [], close => 1));
	$c->{sock}->close(SSL_no_shutdown => 1);
	return $r // { status => 0, error => 'no response', headers => {} };
}
# origin_req(T, TARGET): the request the origin got for TARGET, or {}.
sub origin_req { my ($i, $target) = @_; (grep { $_->{target} eq $target } $i->origin(0)->requests)[0] // { headers => [] } }

# start(T, CONFIG): write and run, as a test; false (with the output as
# diagnostics) when portico does not start.
sub start {
	my ($i, $conf, $what) = @_;
	my $ok = eval { $i->write_config($conf)->run; 1 };
	ok($ok, "portico starts with $what") or diag($@);
	return $ok;
}

my $hsts = 'max-age=31536000; includeSubDomains';
my $certs = join ",\n", map { my ($n, $x) = @$_;
    qq|    { certificate = "$d/$n.pem"; key = "$d/$n.key";$x }| }
    ['a-ec', qq| ocsp = "$d/a.ocsp.der";|], ['a-rsa', ''], ['wild', ''], ['b', ''], ['cn', ''];
my $main_ok = start($t, <<"EOF", 'SNI certificates, OCSP, hsts and redirects (2 workers)');
workers = 2;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
ticket_key_lifetime = "1h";
listeners = ( { address = "127.0.0.1:%%PORT_0%%";
                tls = { certificates = (
$certs ); }; },
              { address = "127.0.0.1:%%PORT_1%%"; } );
upstreams = ( { name = "app"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "a.test" ]; redirect_https = true; hsts = "$hsts";
            routes = ( { path = "/"; upstream = "app"; } ); },
          { hosts = [ "b.test" ]; redirect_https = true; https_port = 8443;
            routes = ( { path = "/"; upstream = "app"; } ); },
          { hosts = [ "*" ]; hsts = "$hsts";
            routes = ( { path = "/"; upstream = "app"; } ); } );
EOF
my ($tls, $plain) = ($t->port(0), $t->port(1));

subtest 'certificates by SNI, key type, chain, ALPN' => sub {
	plan skip_all => 'portico did not start' unless $main_ok;
	my %want = ('a.test' => 'Portico EC', 'A.TEST' => 'Portico EC',
	    'x.wild.test' => 'Portico Wild', 'exact.wild.test' => 'Portico B',
	    'b.test' => 'Portico B', 'cn.test' => 'Portico CN',
	    'unknown.test' => 'Portico EC', 'y.x.wild.test' => 'Portico EC');
	for my $sni (sort keys %want) {
		like(s_client(port => $tls, sni => $sni)->{subject}, qr/O = \Q$want{$sni}\E,/,
		    "SNI $sni: the certificate of $want{$sni}");
	}
	like(s_client(port => $tls)->{subject}, qr/O = Portico EC,/, 'no SNI: the first certificate');
	my $r = s_client(port => $tls, sni => 'x.wild.test', args => ['-showcerts']);
	is($r->{verify}, '0', 'the chain after the leaf is sent: it verifies up to the root')
	    or diag($r->{out});
	like($r->{out}, qr/^ 1 s:.*Portico Test Intermediate/m, '... the intermediate is the 2nd certificate');
	$r = s_client(port => $tls, sni => 'a.test', args => ['-tls1_3', '-sigalgs', 'rsa_pss_rsae_sha256:rsa_pkcs1_sha256']);
	like($r->{subject}, qr/O = Portico RSA,/, 'a TLS 1.3 client with RSA signatures only gets the RSA certificate')
	    or diag($r->{out});
	$r = s_client(port => $tls, sni => 'a.test', args => ['-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']);
	like($r->{subject}, qr/O = Portico RSA,/, 'a TLS 1.2 client with an RSA cipher only gets the RSA certificate');
	is($r->{cipher}, 'ECDHE-RSA-AES128-GCM-SHA256', '... and that cipher');
	$r = s_client(port => $tls, sni => 'a.test', args => ['-tls1_2']);
	is("$r->{proto} $r->{subject}", 'TLSv1.2 O = Portico EC, CN = a.test',
	    'a TLS 1.2 client with everything gets the ECDSA certificate (both protocols by default)');
	$r = s_client(port => $tls, sni => 'a.test', args => ['-tls1_3']);
	is("$r->{proto} $r->{verify}", 'TLSv1.3 0', 'TLS 1.3 by default, verified');
	is(s_client(port => $tls, sni => 'a.test', args => ['-alpn', 'h2,http/1.1'])->{alpn}, 'http/1.1',
	    'ALPN h2,http/1.1: http/1.1');
	unlike(s_client(port => $tls, sni => 'a.test', args => ['-alpn', 'h2'])->{out},
	    qr/^ALPN protocol: h2/m, 'ALPN h2 alone: not h2');
};

subtest 'proxying over TLS, plain HTTP on the TLS port, hsts, redirect_https' => sub {
	plan skip_all => 'portico did not start' unless $main_ok;
	my $out = `curl -sS -i --max-time 10 --cacert $d/ca.pem --resolve a.test:$tls:127.0.0.1 https://a.test:$tls/xfp 2>&1`;
	my $r = parse_response(\$out, eof => 1) // { status => 0, headers => {} };
	is($r->{status}, 200, 'curl over TLS, verifying a.test: 200') or diag($out);
	is($r->{body}, 'origin ' . $t->origin_port(0) . ' /xfp', '... the origin answered');
	is(req_header(origin_req($t, '/xfp'), 'X-Forwarded-Proto'), 'https', '... with X-Forwarded-Proto: https');
	is($r->{headers}{'strict-transport-security'}, $hsts, 'hsts: Strict-Transport-Security over TLS');
	$r = $t->get('/plain', host => 'plain.test', port => $plain);
	is($r->{status}, 200, 'the plain listener of the same site: 200');
	ok(!exists $r->{headers}{'strict-transport-security'}, '... without Strict-Transport-Security');
	is(req_header(origin_req($t, '/plain'), 'X-Forwarded-Proto'), 'http', '... X-Forwarded-Proto: http');

	for my $case (['GET', 'a.test', '/r?x=1', 301, 'https://a.test/r?x=1'],
	    ['HEAD', 'a.test', '/h', 301, 'https://a.test/h'],
	    ['POST', 'a.test', '/p', 308, 'https://a.test/p'],
	    ['GET', 'b.test', '/', 301, 'https://b.test:8443/']) {
		my ($m, $host, $path, $st, $loc) = @$case;
		$r = $t->http($m, $path, host => $host, port => $plain, $m eq 'POST' ? (body => 'x=1') : ());
		is("$r->{status} " . ($r->{headers}{location} // '-') .
		    ($r->{headers}{'strict-transport-security'} ? ' +hsts' : ''), "$st $loc",
		    "redirect_https: $m $host$path on the plain listener: $st to $loc, no hsts");
	}
	ok(!grep({ $_->{target} =~ m{^/(r\?|h$|p$)} } $t->origin(0)->requests), '... none reached the origin');
	$r = tls_get($tls, '/over-tls', host => 'a.test');
	is($r->{status}, 200, 'redirect_https does not apply over TLS: proxied');
	is($r->{headers}{'strict-transport-security'}, $hsts, '... with Strict-Transport-Security');

	my ($got, $closed) = $t->raw("GET / HTTP/1.1\r\nHost: x\r\n\r\n", port => $tls, timeout => 3);
	like($got, qr{^HTTP/1\.1 400 }, 'plain HTTP on the TLS port: 400') or diag("got: $got");
	ok($closed, '... and the connection is closed');

	my @spoof = (['X-Client-Verify', 'SUCCESS'], ['X-Client-Subject', 'CN=evil']);
	tls_get($tls, '/spoof-tls', headers => \@spoof);
	$t->get('/spoof-plain', port => $plain, host => 'plain.test', headers => \@spoof);
	for my $p ('/spoof-tls', '/spoof-plain') {
		my $o = origin_req($t, $p);
		ok($o->{target} && (req_header($o, 'X-Client-Verify') // '') ne 'SUCCESS'
		    && (req_header($o, 'X-Client-Subject') // '') !~ /evil/,
		    "$p: the client's own X-Client-Verify/X-Client-Subject do not reach the origin");
	}
};

# only_on(T, PID, CODE): run CODE while the other workers of T are stopped
# (SIGSTOP, then SIGCONT), so that every new connection goes to worker PID.
sub only_on {
	my ($i, $pid, $code) = @_;
	my @others = grep { $_ != $pid } map { $_->{pid} } $i->serving_workers;
	kill 'STOP', @others;
	my @r = eval { $code->() };
	kill 'CONT', @others;
	die $@ if $@;
	return wantarray ? @r : $r[0];
}

subtest 'session resumption across 2 workers' => sub {
	plan skip_all => 'portico did not start' unless $main_ok;
	my @w = map { $_->{pid} } $t->serving_workers;
	is(scalar @w, 2, 'two workers serve');
	for my $v ('1_2', '1_3') {
		my $sess = "$d/sess.$v";
		# the session is made on worker 0, and resumed on both
		my $r = only_on($t, $w[0], sub { s_client(port => $tls, sni => 'a.test',
		    args => ["-tls$v", '-sess_out', $sess], request => req("/resume-$v")) });
		is("$r->{session} " . http_status($r), 'New 200', "TLS $v: a full handshake on worker 0, 200")
		    or diag($r->{out});
		my @bad;
		for my $n (1 .. 10) {
			$r = only_on($t, $w[$n % 2], sub { s_client(port => $tls, sni => 'a.test',
			    args => ["-tls$v", '-sess_in', $sess], request => req("/resume-$v-$n")) });
			push @bad, "$n (worker " . ($n % 2) . "): $r->{session} $r->{proto} " . http_status($r)
			    unless $r->{session} eq 'Reused' && http_status($r) == 200;
		}
		is(join('; ', @bad), '', "TLS $v: 10 reconnects, 5 on each worker, all resumed the session and got 200");
	}
	my %req = map { $_->{pid} => $_->{requests} } @{$t->status->{workers}};
	ok($req{$w[0]} >= 11 && $req{$w[1]} >= 10, "... the workers did serve them ($req{$w[0]}, $req{$w[1]} requests)");
};

subtest 'OCSP stapling' => sub {
	plan skip_all => 'portico did not start' unless $main_ok;
	my $want = sh('openssl', 'ocsp', '-respin', "$d/a.ocsp.der", '-resp_text', '-noverify') =~ /Next Update: (.*)/ ? $1 : 'x';
	my $r = s_client(port => $tls, sni => 'a.test', args => ['-status']);
	is($r->{ocsp}, 'successful', 'the ECDSA certificate has its OCSP response stapled') or diag($r->{out});
	is($r->{next_update}, $want, '... the one of the file');
	$r = s_client(port => $tls, sni => 'a.test', args => ['-status', '-tls1_2', '-cipher', 'ECDHE-RSA-AES128-GCM-SHA256']);
	like($r->{out}, qr/OCSP response: no response sent/, 'the RSA certificate has none');
	sleep 1.1;
	ocsp("$d/a.ocsp.new", 2);
	my $want2 = sh('openssl', 'ocsp', '-respin', "$d/a.ocsp.new", '-resp_text', '-noverify') =~ /Next Update: (.*)/ ? $1 : 'y';
	rename "$d/a.ocsp.new", "$d/a.ocsp.der" or die;
	my $t0 = time;
	for my $w (map { $_->{pid} } $t->serving_workers) {
		my $seen = only_on($t, $w, sub { wait_until(sub {
			s_client(port => $tls, sni => 'a.test', args => ['-status'])->{next_update} eq $want2
		}, timeout => 4, interval => 0.2) });
		ok($seen, sprintf('worker %d staples the new response of the file within 4 s (%.1f s since the change)',
		    $w, time - $t0));
	}
};

subtest 'TLS 1.2 renegotiation is refused' => sub {
	plan skip_all => 'portico did not start' unless $main_ok;
	my $reneg = sub {
		my ($cmd, $path) = @_;
		write_file("$d/reneg.req", req($path));
		return scalar `( sleep 1; $cmd sleep 1; cat $d/reneg.req; sleep 2 ) 2>/dev/null | timeout 8 openssl s_client -connect 127.0.0.1:$tls -servername a.test -CAfile $d/ca.pem -tls1_2 2>&1`;
	};
	my $out = $reneg->('', '/no-reneg');
	like($out, qr{^HTTP/1\.1 200 }m, 'without "R" the request after 2 s is answered (the method works)');
	$out = $reneg->('echo R;', '/reneg');
	like($out, qr/^RENEGOTIATING$/m, 's_client asked to renegotiate');
	unlike($out, qr{^HTTP/1\.1 }m, '... and the request after it gets no answer (refused)') or diag($out);
	ok(!grep({ $_->{target} eq '/reneg' } $t->origin(0)->requests), '... nor reaches the origin');
	is(tls_get($tls, '/after-reneg')->{status}, 200, 'a new connection is served afterwards');
};

# Config errors: portico -t -c FILE.
subtest 'config errors with file:line' => sub {
	my $n = 0;
	my $bad = sub {
		my ($what, $tlsconf, $re) = @_;
		my $f = "$d/bad" . ++$n . '.conf';
		my $text = <<"EOF";
workers = 1;
listeners = ( { address = "127.0.0.1:1";
    tls = {
$tlsconf
    }; } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; return = { status = 200; }; } ); } );
EOF
		my $line = 1 + (() = substr($text, 0, index($text, '#HERE')) =~ /\n/g);
		write_file($f, $text);
		my $out = `$bin -t -c $f 2>&1`;
		my $rc = $? >> 8;
		ok($rc != 0 && $out =~ /^\Q$f\E:$line: .*$re/m, "$what: exit $rc, $f:$line: and the reason")
		    or diag("got: $out");
	};
	my $ok1 = qq|    certificates = ( { certificate = "$d/a-ec.pem"; key = "$d/a-ec.key"; }|;
	write_file("$d/garbage.pem", "-----BEGIN CERTIFICATE-----\nThis is not base64!\n-----END CERTIFICATE-----\n");
	$bad->('a missing certificate file', qq|$ok1,\n      { certificate = "$d/missing.pem"; key = "$d/b.key"; } ); #HERE|,
	    qr/missing\.pem|No such file/);
	$bad->('a key that is not the certificate\'s', qq|$ok1,\n      { certificate = "$d/b.pem"; key = "$d/cn.key"; } ); #HERE|,
	    qr/key values mismatch/);
	$bad->('a garbage PEM', qq|$ok1,\n      { certificate = "$d/garbage.pem"; key = "$d/b.key"; } ); #HERE|,
	    qr/base64|no start line|PEM|unsupported/i);
	$bad->('client_verify required without client_ca', qq|$ok1 );\n    client_verify = "required"; #HERE|,
	    qr/client_ca/);
	$bad->('an unknown protocol', qq|$ok1 );\n    protocols = [ "TLSv1.2", "SSLv3" ]; #HERE|, qr/SSLv3/);
	$bad->('an unknown client_verify', qq|$ok1 );\n    client_verify = "sometimes"; #HERE|, qr/client_verify/);
	my $out = `$bin -t -c $d/portico.conf 2>&1`;
	is($? >> 8, 0, 'the config of this test passes -t') or diag($out);
};

# Client certificates, protocols, ciphers; client_header_timeout 1s.
my $m = Test::Portico->new;
my $ec = qq|certificates = ( { certificate = "$d/a-ec.pem"; key = "$d/a-ec.key"; } );|;
my $m_ok = start($m, <<"EOF", 'client_verify, protocols, ciphers, groups');
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
client_header_timeout = "1s";
listeners = (
  { address = "127.0.0.1:%%PORT_0%%"; tls = { $ec client_verify = "required"; client_ca = "$d/ca.pem"; }; },
  { address = "127.0.0.1:%%PORT_1%%"; tls = { $ec client_verify = "optional"; client_ca = "$d/ca.pem"; }; },
  { address = "127.0.0.1:%%PORT_2%%"; tls = { $ec protocols = [ "TLSv1.3" ];
      ciphersuites = "TLS_CHACHA20_POLY1305_SHA256"; groups = "P-256"; }; },
  { address = "127.0.0.1:%%PORT_3%%"; tls = { $ec protocols = [ "TLSv1.2" ];
      ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256"; }; } );
upstreams = ( { name = "app"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "app"; } ); } );
EOF

subtest 'client certificates' => sub {
	plan skip_all => 'portico did not start' unless $m_ok;
	my ($req, $opt) = ($m->port(0), $m->port(1));
	my $r = s_client(port => $req, sni => 'a.test', request => req('/no-cert'));
	is(http_status($r), 'none', 'required, no client certificate: no HTTP response') or diag($r->{out});
	$r = s_client(port => $req, sni => 'a.test', request => req('/intruder'),
	    args => ['-cert', "$d/intruder.pem", '-key', "$d/intruder.key"]);
	is(http_status($r), 'none', 'required, a certificate of another CA: no HTTP response') or diag($r->{out});
	$r = s_client(port => $req, sni => 'a.test', request => req('/client'),
	    args => ['-cert', "$d/client.pem", '-key', "$d/client.key"]);
	is(http_status($r), 200, 'required, a certificate of the CA: 200') or diag($r->{out});
	my $o = origin_req($m, '/client');
	is(req_header($o, 'X-Client-Verify'), 'SUCCESS', '... the origin sees X-Client-Verify: SUCCESS');
	like(req_header($o, 'X-Client-Subject') // '', qr/CN=client\.test/, '... and X-Client-Subject with CN=client.test');
	ok(!grep({ $_->{target} =~ m{^/(no-cert|intruder)$} } $m->origin(0)->requests),
	    'the refused ones never reached the origin');
	$r = tls_get($req, '/spoof1', cert => 'client',
	    headers => [['X-Client-Verify', 'NONE'], ['X-Client-Subject', 'CN=evil']]);
	$o = origin_req($m, '/spoof1');
	is(join('|', req_header($o, 'X-Client-Verify'), req_header($o, 'X-Client-Subject') // ''),
	    join('|', 'SUCCESS', req_header(origin_req($m, '/client'), 'X-Client-Subject') // 'x'),
	    'headers sent by the client are replaced by the real values');
	$r = tls_get($opt, '/optional');
	is($r->{status}, 200, 'optional, no client certificate: 200');
	is(req_header(origin_req($m, '/optional'), 'X-Client-Verify'), 'NONE', '... X-Client-Verify: NONE');
	tls_get($opt, '/spoof2', headers => [['X-Client-Verify', 'SUCCESS'], ['X-Client-Subject', 'CN=admin']]);
	$o = origin_req($m, '/spoof2');
	ok($o->{target} && req_header($o, 'X-Client-Verify') eq 'NONE'
	    && (req_header($o, 'X-Client-Subject') // '') !~ /admin/,
	    '... and a client claiming SUCCESS and a subject gets NONE and no subject through');
	$r = tls_get($opt, '/optional-cert', cert => 'client');
	is(req_header(origin_req($m, '/optional-cert'), 'X-Client-Verify'), 'SUCCESS',
	    'optional, with a certificate of the CA: SUCCESS');
	tls_get($opt, '/spoof3', headers => [['X_Client_Verify', 'SUCCESS'], ['x_client_subject', 'CN=admin']]);
	$o = origin_req($m, '/spoof3');
	ok($o->{target} && !grep({ $_->[0] =~ /^x.client.(verify|subject)$/i && $_->[1] ne 'NONE' } @{$o->{headers}}),
	    '... look-alikes with underscores (X_Client_Verify) do not reach the origin either');

	# The ticket keys are shared by all listeners: a session made where
	# no certificate was asked for must not resume where one is required.
	for my $v ('-tls1_3', '-tls1_2') {
		my $sess = "$d/opt$v.sess";
		$r = s_client(port => $opt, sni => 'a.test', request => req("/sess$v"),
		    args => [$v, '-sess_out', $sess]);
		is(http_status($r), 200, "$v: a session saved on the optional listener, without a certificate");
		$r = s_client(port => $req, sni => 'a.test', request => req("/resume$v"), args => [$v, '-sess_in', $sess]);
		ok($r->{session} ne 'Reused' && http_status($r) eq 'none',
		    "... is not resumed on the listener that requires one: no HTTP response") or diag($r->{out});
	}
};

subtest 'protocols, ciphers, groups, idle clients' => sub {
	plan skip_all => 'portico did not start' unless $m_ok;
	my $r = s_client(port => $m->port(2), sni => 'a.test', args => ['-tls1_2']);
	is($r->{proto}, '(NONE)', 'protocols TLSv1.3: a TLS 1.2 client is refused') or diag($r->{out});
	$r = s_client(port => $m->port(2), sni => 'a.test', request => req('/13'));
	is(join(' ', $r->{proto}, $r->{cipher}, http_status($r)), 'TLSv1.3 TLS_CHACHA20_POLY1305_SHA256 200',
	    '... TLS 1.3 with the configured suite, 200');
	like($r->{tempkey}, qr/prime256v1|P-256/, '... and the configured group') or diag($r->{out});
	$r = s_client(port => $m->port(3), sni => 'a.test', args => ['-tls1_3']);
	is($r->{proto}, '(NONE)', 'protocols TLSv1.2: a TLS 1.3 client is refused');
	$r = s_client(port => $m->port(3), sni => 'a.test');
	is("$r->{proto} $r->{cipher}", 'TLSv1.2 ECDHE-ECDSA-AES128-GCM-SHA256', '... TLS 1.2 with the configured cipher');
	my $c = $m->connect(port => $m->port(1));
	my $t0 = time;
	my $closed = $c->closed(3);
	my $el = time - $t0;
	ok($closed && $el > 0.5, sprintf('a client that sends nothing is closed after client_header_timeout (%.1f s)', $el));
	$c = tls_connect(port => $m->port(1));
	$t0 = time;
	my $gone = $c && wait_until(sub {
		my $n = sysread($c->{sock}, my $x, 10);
		return defined $n ? $n == 0 : !($! == EAGAIN || $! == EWOULDBLOCK || $! == EINTR);
	}, timeout => 3, interval => 0.01);
	$el = time - $t0;
	ok($gone && $el > 0.5, sprintf('... also after the handshake (%.1f s)', $el));
};

# Reload: new certificate files, the open connection still answered.
my $rl = Test::Portico->new;
copy("$d/a-ec.pem", "$d/r.pem") and copy("$d/a-ec.key", "$d/r.key") or die;
my $rl_ok = start($rl, <<"EOF", 'one certificate, for the reload');
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%";
  tls = { certificates = ( { certificate = "$d/r.pem"; key = "$d/r.key"; } ); }; } );
upstreams = ( { name = "app"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "app"; } ); } );
EOF

subtest 'reload with new certificate files' => sub {
	plan skip_all => 'portico did not start' unless $rl_ok;
	my $p = $rl->port(0);
	is(serial_of(s_client(port => $p, sni => 'a.test')->{pem}), '1001', 'before: certificate A (serial 1001)');
	my $ka = tls_connect(port => $p);
	my $r = $ka && tls_request($ka, http_request('GET', '/ka1', host => 'a.test'));
	is($r && $r->{status}, 200, 'a keep-alive TLS connection is answered');
	for my $x ('key', 'pem') {
		copy("$d/a2.$x", "$d/r.$x.new") or die;
		rename "$d/r.$x.new", "$d/r.$x" or die;
	}
	my ($rc, $out) = $rl->ctl('reload');
	is($rc, 0, 'reload with certificate A2 in the files') or diag($out);
	my $serial = '';
	wait_until(sub { ($serial = serial_of(s_client(port => $p, sni => 'a.test')->{pem})) eq '1006' }, timeout => 5);
	is($serial, '1006', 'new connections get A2 (serial 1006)');
	$r = $ka && tls_request($ka, http_request('GET', '/ka2', host => 'a.test'));
	is($r && $r->{status}, 200, 'the keep-alive connection opened before the reload gets its response');
	copy("$d/garbage.pem", "$d/r.pem") or die;
	($rc, $out) = $rl->ctl('reload');
	is($rc, 1, 'a reload with a garbage certificate is refused');
	like($out, qr{reload refused: \Q${\ $rl->testdir}\E/portico\.conf:5: .*r\.pem}, '... with file:line and the file') or diag($out);
	is(serial_of(s_client(port => $p, sni => 'a.test')->{pem}), '1006', '... and A2 is still served');
};

done_testing();

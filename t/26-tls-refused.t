#!/usr/bin/perl
# 26-tls-refused.t: TLS termination is not built yet.  A listener with a
# tls group passes the config check, but portico refuses to start with it
# (file:line: message, exit 1) rather than serve plain HTTP on that port.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);

my $bin = $ENV{TEST_PORTICO_BINARY} // './portico';
plan skip_all => "no $bin" unless -x $bin;
plan tests => 4;

my $dir = tempdir(CLEANUP => 1);
open my $fh, '>', "$dir/c.pem" or die; print $fh "x\n"; close $fh;
open $fh, '>', "$dir/p.conf" or die;
print $fh <<"EOF";
workers = 1;
pid_file = "$dir/p.pid";
error_log = "$dir/error.log";
listeners = ( { address = "127.0.0.1:1"; },
  { address = "127.0.0.1:2";
    tls = { certificates = ( { certificate = "$dir/c.pem"; key = "$dir/c.pem"; } ); }; } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; return = { status = 200; }; } ); } );
EOF
close $fh;

my $out = `$bin -t -c $dir/p.conf 2>&1`;
is($? >> 8, 0, 'the config check accepts a tls group');
$out = `$bin -F -c $dir/p.conf 2>&1`;
is($? >> 8, 1, 'start is refused');
like($out, qr{^\Q$dir\E/p\.conf:5: listener 127\.0\.0\.1:2: TLS is not available},
    'with file:line and the listener');
ok(!-e "$dir/p.pid", 'nothing started');

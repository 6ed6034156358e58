#!/usr/bin/perl
# 32-balance.t: upstream groups.  Weighted round robin spreads by weight;
# the hash ring keeps every key on its server when another is removed;
# a killed origin costs idempotent requests nothing (retried elsewhere)
# and is taken out after max_fails, and back after rise good checks;
# backups stand in only for the others; the sticky cookie pins a client
# and moves it when its server goes; a 503 named in next_upstream is
# tried on another server, never the same twice; the admin listener's
# /status and /metrics, and its allow list; nonsense is refused.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(wait_until);
use JSON::PP;

my $t = Test::Portico->new;
my $conf = <<'EOF';
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
admin = { address = "127.0.0.1:%%PORT_8%%"; };
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = (
  { name = "rr";
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; weight = 3; },
                { address = "127.0.0.1:%%ORIGIN_1%%"; },
                { address = "127.0.0.1:%%ORIGIN_2%%"; } ); },
  { name = "hash"; balance = "hash"; hash_key = "header:X-Key";
    servers = ( HASHSERVERS ); },
  { name = "failover"; max_fails = 2; next_upstream = [ "error", "timeout", "503" ];
    servers = ( { address = "127.0.0.1:%%ORIGIN_3%%"; },
                { address = "127.0.0.1:%%ORIGIN_4%%"; } );
    health = { path = "/health"; interval = "200ms"; timeout = "200ms"; rise = 2; fall = 100; }; },
  { name = "backup";
    servers = ( { address = "127.0.0.1:%%ORIGIN_5%%"; },
                { address = "127.0.0.1:%%ORIGIN_6%%"; backup = true; } );
    health = { type = "tcp"; interval = "200ms"; timeout = "200ms"; rise = 1; fall = 1; }; },
  { name = "sticky"; sticky_cookie = "srv";
    servers = ( { address = "127.0.0.1:%%ORIGIN_1%%"; },
                { address = "127.0.0.1:%%ORIGIN_2%%"; } ); } );
sites = ( { hosts = [ "*" ];
            routes = ( { path = "/rr/"; upstream = "rr"; },
                       { path = "/hash/"; upstream = "hash"; },
                       { path = "/f/"; upstream = "failover"; },
                       { path = "/status/"; upstream = "failover"; },
                       { path = "/b/"; upstream = "backup"; },
                       { path = "/s/"; upstream = "sticky"; } ); } );
EOF
my $three = join ', ', map { "{ address = \"127.0.0.1:%%ORIGIN_$_%%\"; }" } 0 .. 2;
my $two = join ', ', map { "{ address = \"127.0.0.1:%%ORIGIN_$_%%\"; }" } 0 .. 1;
(my $c1 = $conf) =~ s/HASHSERVERS/$three/;
$t->write_config($c1)->run->plan(28);

sub origin_of { my ($r) = @_; $r->{headers}{'x-origin'} // 0 }
my %port_of = map { $t->origin_port($_) => $_ } 0 .. 6;

# Round robin, weights 3:1:1, one keep-alive connection.
my $c = $t->connect;
my %n;
for (1 .. 3000) {
	my $r = $c->request('GET', '/rr/x');
	$n{$port_of{origin_of($r)} // 'none'}++;
}
my $ok = abs(($n{0} // 0) - 1800) <= 90 && abs(($n{1} // 0) - 600) <= 30 &&
    abs(($n{2} // 0) - 600) <= 30;
ok($ok, "round robin 3:1:1 over 3000 requests within 5%: "
    . join(' ', map { "$_=" . ($n{$_} // 0) } 0 .. 2));

# The hash ring: where 300 keys go, then the same with origin 2 removed.
sub key_map {
	my %m;
	my $conn = $t->connect;
	for my $k (1 .. 300) {
		my $r = $conn->request('GET', '/hash/x',
		    headers => [ [ 'X-Key', "user$k" ] ]);
		$m{$k} = $port_of{origin_of($r)};
	}
	return \%m;
}
my $before = key_map();
my %share;
$share{$before->{$_}}++ for keys %$before;
ok((grep { ($share{$_} // 0) > 40 } 0 .. 2) == 3,
    'hash: every server gets a share of 300 keys: '
    . join(' ', map { "$_=" . ($share{$_} // 0) } 0 .. 2));
(my $c2 = $conf) =~ s/HASHSERVERS/$two/;
$t->write_config($c2);
my ($rc, $out) = $t->ctl('reload');
is($rc, 0, 'reload without origin 2 in the hash group') or diag($out);
my $after = key_map();
my @stayed = grep { $before->{$_} != 2 } keys %$before;
my @moved = grep { $before->{$_} != $after->{$_} } keys %$before;
is(scalar(grep { $before->{$_} == $after->{$_} } @stayed), scalar @stayed,
    'hash: no key of a remaining server moves');
is(scalar @moved, $share{2} // 0,
    'hash: only the keys of the removed server move (' . scalar(@moved)
    . ' of 300, about 1/3)');

# Failover: origin 3 killed while requests flow.
$t->stop_origin(3);
my $fails = 0;
for (1 .. 20) {
	my $r = $t->get('/f/x');
	$fails++ unless $r->{status} == 200 && $port_of{origin_of($r)} == 4;
}
is($fails, 0, 'origin 3 dead: 20 GETs answered by origin 4, none failed');
my $st;
ok(wait_until(sub {
	$st = $t->status;
	($st->{servers}{'failover 127.0.0.1:' . $t->origin_port(3)}{state} // '')
	    eq 'down';
}, timeout => 3), 'origin 3 is taken out after max_fails failures');
like($t->error_log, qr/upstream failover: server 127\.0\.0\.1:\d+ is down after 2 failed requests: connect failed: Connection refused/,
    '... and the error log says why');
my $before_reqs = $st->{servers}{'failover 127.0.0.1:' . $t->origin_port(3)}{requests};
$t->get('/f/x') for 1 .. 5;
$st = $t->status;
is($st->{servers}{'failover 127.0.0.1:' . $t->origin_port(3)}{requests},
    $before_reqs, '... and gets no request while down');
delete $t->{origins}{3};
$t->start_origin(3);
ok(wait_until(sub {
	($t->status->{servers}{'failover 127.0.0.1:' . $t->origin_port(3)}{state}
	    // '') eq 'up';
}, timeout => 5), 'origin 3 back: up again after rise good checks');
my %seen;
$seen{$port_of{origin_of($t->get('/f/x'))}}++ for 1 .. 10;
ok($seen{3} && $seen{4}, 'both serve again');

# A 503 named in next_upstream: tried on the other server, not twice.
my $n3 = $t->origin(3)->count;
my $n4 = $t->origin(4)->count;
my $r = $t->get('/status/503');
is($r->{status}, 503, 'a 503 from both servers: the client gets 503');
my @got = map { scalar grep { $_->{target} eq '/status/503' }
    $t->origin($_)->requests } 3, 4;
is("@got", '1 1', '... after one try on each, never the same twice');

# Backups: only when the primary is down.
$seen{$_} = 0 for keys %seen;
%seen = ();
$seen{$port_of{origin_of($t->get('/b/x'))}}++ for 1 .. 6;
is($seen{5} // 0, 6, 'backup: the primary takes everything while up');
$t->stop_origin(5);
ok(wait_until(sub {
	($t->status->{servers}{'backup 127.0.0.1:' . $t->origin_port(5)}{state}
	    // '') eq 'down';
}, timeout => 3), 'the tcp check takes the primary out');
%seen = ();
$seen{$port_of{origin_of($t->get('/b/x'))}}++ for 1 .. 6;
is($seen{6} // 0, 6, 'backup: it serves once no primary is up');

# Sticky cookie.
$r = $t->get('/s/x');
my ($cookie) = ($r->{headers}{'set-cookie'} // '') =~ /^(srv=[0-9a-f]{16});/;
ok($cookie, 'sticky: the first answer sets the cookie');
my $first = origin_of($r);
my $same = 0;
for (1 .. 10) {
	my $s = $t->get('/s/x', headers => [ [ 'Cookie', "a=b; $cookie" ] ]);
	$same++ if origin_of($s) == $first && !$s->{headers}{'set-cookie'};
}
is($same, 10, 'sticky: 10 requests with the cookie go to the same server');
$t->stop_origin($port_of{$first});
$r = $t->get('/s/x', headers => [ [ 'Cookie', $cookie ] ]);
ok($r->{status} == 200 && origin_of($r) != $first,
    'sticky: its server gone, the client goes to another');
like($r->{headers}{'set-cookie'} // '', qr/^srv=[0-9a-f]{16}; Path=\/; HttpOnly$/,
    '... which sets its own cookie');

# The admin listener.
$r = $t->get('/status', port => $t->port(8));
is($r->{status}, 200, 'admin: /status');
my $j = eval { decode_json($r->{body}) } // {};
is($j->{master}{generation}, 2, 'admin: /status is JSON with the generation');
my ($srv) = grep { $_->{upstream} eq 'failover' &&
    $_->{address} eq '127.0.0.1:' . $t->origin_port(4) } @{$j->{servers} // []};
ok($srv && $srv->{requests} > 20 && $srv->{state} eq 'up',
    'admin: /status has each server, its state and requests');
$r = $t->get('/metrics', port => $t->port(8));
like($r->{body}, qr/^portico_server_up\{upstream="backup",server="127\.0\.0\.1:\d+"\} 0$/m,
    'admin: /metrics has portico_server_up');
like($r->{body}, qr/^portico_responses_total\{worker="0",generation="2",class="2xx"\} \d+$/m,
    'admin: /metrics has the responses by class');

# Nonsense refused, with file:line.
my $bad = $t->testdir . '/bad.conf';
open my $fh, '>', $bad or die;
print $fh <<'EOF';
listeners = ( { address = "127.0.0.1:1"; } );
upstreams = ( { name = "a"; balance = "hash";
                servers = ( { address = "127.0.0.1:2"; weight = 0; } ); },
              { name = "b"; servers = ( { address = "127.0.0.1:3"; backup = true; } ); } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "a"; } ); } );
EOF
close $fh;
$out = `./portico -t -c $bad 2>&1`;
like($out, qr/bad\.conf:\d+: .*weight.*\n(?s:.*)bad\.conf:\d+: upstream 'a': balance "hash" needs a hash_key\n(?s:.*)bad\.conf:\d+: upstream 'b': every server is a backup/,
    'a weight of 0, a hash without a key, a backup-only group: refused');

# least_conn counts over all workers: with requests held on one server
# (pinned there by the sticky cookie), new ones in any worker go to the
# other.
my $t2 = Test::Portico->new->write_config(<<'EOF2')->run;
workers = 2;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "lc"; balance = "least_conn"; sticky_cookie = "s";
                servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; },
                            { address = "127.0.0.1:%%ORIGIN_1%%"; } ); } );
sites = ( { hosts = [ "*" ]; routes = ( { path = "/"; upstream = "lc"; } ); } );
EOF2
my $pin;
for (1 .. 4) {
	my $x = $t2->get('/x');
	$pin = $1 if $t2->origin_port(0) == origin_of($x) &&
	    ($x->{headers}{'set-cookie'} // '') =~ /^(s=[0-9a-f]{16})/;
	last if $pin;
}
my @slow = map {
	my $s = $t2->connect;
	$s->send("GET /slow/2000 HTTP/1.1\r\nHost: a\r\nCookie: $pin\r\n\r\n");
	$s;
} 1 .. 4;
wait_until(sub { (grep { $_->{target} eq '/slow/2000' }
    $t2->origin(0)->requests) == 4 }, timeout => 3);
my $other = 0;
for (1 .. 10) {
	$other++ if origin_of($t2->get('/fast')) == $t2->origin_port(1);
}
is($other, 10, 'least_conn: with 4 requests held on one server, 10 new '
    . 'ones (both workers) go to the other');
is($_->read_response(timeout => 5)->{status}, 200, '... and the held ones finish')
    for $slow[0];

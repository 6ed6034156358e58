#!/usr/bin/perl
# 18-limits.t: max_request_line (414), max_header_size and max_headers
# (431), max_connections.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Time::HiRes qw(time);
use Test::Portico qw(parse_responses);

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(33);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
max_request_line = "1K";
max_header_size = "4K";
max_headers = 20;
max_connections = 3;
keepalive_timeout = "30s";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app";
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/"; upstream = "app"; } ); } );
EOF
my $o = $t->origin(0);

# limit_case(NAME, BYTES, STATUS): the error, the close, the HTML body,
# the error log line, and nothing at the origin.
sub limit_case {
	my ($name, $bytes, $status) = @_;
	$o->clear;
	my $c = $t->connect;
	my $lport = $c->local_port;
	$c->send($bytes);
	my $closed = $c->read_until_close(4);
	my ($r) = parse_responses($c->{buf});
	is($r && $r->{status}, $status, "$name: $status");
	ok($closed, "$name: connection closed");
	like($r && $r->{body} // '', qr/\b$status\b/, "$name: body says $status");
	is($o->count, 0, "$name: the origin saw nothing");
	ok(scalar $t->wait_for_error_log(qr/127\.0\.0\.1:$lport\b/),
	    "$name: error log names the client");
	$c->close;
}

# request(TARGET, N_EXTRA_HEADER_LINES, VALUE_LEN): a request with Host,
# Connection: close and N more header lines.
sub request {
	my ($target, $n, $len) = @_;
	return "GET $target HTTP/1.1\r\nHost: localhost\r\n" .
	    "Connection: close\r\n" .
	    join('', map { sprintf("X-H%02d: %s\r\n", $_, 'v' x $len) } 1 .. $n) .
	    "\r\n";
}

sub ok_case {
	my ($name, $bytes) = @_;
	my ($r) = parse_responses(scalar $t->raw($bytes));
	is($r && $r->{status}, 200, $name);
}

# --- request line ---------------------------------------------------------
limit_case('request line of 2000 bytes', request('/' . ('a' x 2000), 0, 0),
    414);
ok_case('request line of 900 bytes passes', request('/' . ('a' x 900), 0, 0));
limit_case('request line of 64K without CRLF', 'GET /' . ('a' x 65536), 414);

# --- header size -------------------------------------------------------------
limit_case('one header line of 5000 bytes', request('/h', 1, 5000), 431);
limit_case('ten header lines of 500 bytes', request('/h', 10, 500), 431);
ok_case('a head of 3000 bytes passes', request('/h', 5, 500));

# --- header count ------------------------------------------------------------
ok_case('exactly max_headers (20) header lines pass', request('/n', 18, 5));
limit_case('21 header lines', request('/n', 19, 5), 431);

# --- max_connections -------------------------------------------------------
my @c = map { $t->connect } 1 .. 3;
my @s = map { my $r = $_->request('GET', '/held'); $r ? $r->{status} : 0 } @c;
is("@s", '200 200 200', 'max_connections: three clients served');
my $c4 = $t->connect;
$c4->send("GET /fourth HTTP/1.1\r\nHost: localhost\r\n\r\n") if $c4;
my $r4 = $c4 && $c4->read_response(timeout => 1.5);
ok(!$r4 || $r4->{status} != 200,
    'max_connections: the fourth is not served while three are open');
my $refused = !$c4 || $c4->{eof} || ($r4 && $r4->{status} != 200);
$c[0]->close;
my $ok;
if (!$refused) {
	# the fourth waited: it is served once a slot frees
	$r4 = $c4->read_response(timeout => 5);
	$ok = $r4 && $r4->{status} == 200;
} else {
	# the fourth was refused: a new connection is served
	my $r = $t->get('/fifth', timeout => 5);
	$ok = $r->{status} == 200;
}
ok($ok, 'max_connections: service resumes when one closes');
$_->close for @c[1, 2];
$c4->close if $c4;

# slots are given back: three new connections at once are all served
select undef, undef, undef, 0.3;
@c = map { $t->connect } 1 .. 3;
@s = map { my $r = $_->request('GET', '/again'); $r ? $r->{status} : 0 } @c;
is("@s", '200 200 200', 'max_connections: slots are given back');
$_->close for @c;
ok($t->alive, 'portico is still running');

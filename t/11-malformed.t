#!/usr/bin/perl
# 11-malformed.t: malformed and request-smuggling requests.  Each is sent on
# a fresh connection; the proxy must answer it with an error status (or
# just close) and close the connection, and the origin must never see it.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(parse_responses);

# [ name, bytes, expected status (regexp; undef: any 4xx/5xx), flags ]
# flags: body => 1: the head is valid and the error is in the body, so the
# proxy may have started forwarding the head; the origin must then never
# get a complete request (nor the bytes after the error).
my $H = "Host: localhost\r\n";
my @cases = (
	# --- Content-Length and Transfer-Encoding together or repeated --------
	['CL and TE', "POST /m HTTP/1.1\r\n${H}Content-Length: 4\r\n" .
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", qr/400/],
	['TE and CL', "POST /m HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n" .
	    "Content-Length: 4\r\n\r\n0\r\n\r\n", qr/400/],
	['CL+TE hiding a request in the body', "POST /m HTTP/1.1\r\n$H" .
	    "Transfer-Encoding: chunked\r\nContent-Length: 38\r\n\r\n" .
	    "0\r\n\r\nGET /inside HTTP/1.1\r\n${H}\r\n", qr/400/],
	['differing CL', "POST /m HTTP/1.1\r\n${H}Content-Length: 4\r\n" .
	    "Content-Length: 5\r\n\r\nabcde", qr/400/],
	['CL list of differing values', "POST /m HTTP/1.1\r\n$H" .
	    "Content-Length: 4, 5\r\n\r\nabcde", qr/400/],
	['CL with plus sign', "POST /m HTTP/1.1\r\n${H}Content-Length: +4\r\n" .
	    "\r\nabcd", qr/400/],
	['CL negative', "POST /m HTTP/1.1\r\n${H}Content-Length: -1\r\n\r\n",
	    qr/400/],
	['CL with inner space', "POST /m HTTP/1.1\r\n${H}Content-Length: 1 0\r\n" .
	    "\r\n0123456789", qr/400/],
	['CL hex', "POST /m HTTP/1.1\r\n${H}Content-Length: 0x4\r\n\r\nabcd",
	    qr/400/],
	['CL empty', "POST /m HTTP/1.1\r\n${H}Content-Length: \r\n\r\n",
	    qr/400/],
	['CL not a number', "POST /m HTTP/1.1\r\n${H}Content-Length: abc\r\n" .
	    "\r\n", qr/400/],
	['CL overflowing 64 bits', "POST /m HTTP/1.1\r\n$H" .
	    "Content-Length: 99999999999999999999999\r\n\r\nabcd", qr/400|413/],
	['CL with vertical tab', "POST /m HTTP/1.1\r\n$H" .
	    "Content-Length: \x0b4\r\n\r\nabcd", qr/400/],
	['TE chunked twice in one field', "POST /m HTTP/1.1\r\n$H" .
	    "Transfer-Encoding: chunked, chunked\r\n\r\n0\r\n\r\n", qr/400|501/],
	['TE chunked twice in two fields', "POST /m HTTP/1.1\r\n$H" .
	    "Transfer-Encoding: chunked\r\nTransfer-Encoding: chunked\r\n\r\n" .
	    "0\r\n\r\n", qr/400|501/],
	['TE unknown', "POST /m HTTP/1.1\r\n${H}Transfer-Encoding: foo\r\n\r\n",
	    qr/501/],
	['TE identity', "POST /m HTTP/1.1\r\n$H" .
	    "Transfer-Encoding: identity\r\nContent-Length: 4\r\n\r\nabcd",
	    qr/400|501/],
	['TE chunked not last', "POST /m HTTP/1.1\r\n$H" .
	    "Transfer-Encoding: chunked, gzip\r\n\r\n0\r\n\r\n", qr/400|501/],
	['TE xchunked', "POST /m HTTP/1.1\r\n${H}Transfer-Encoding: xchunked" .
	    "\r\n\r\n0\r\n\r\n", qr/400|501/],
	['TE on HTTP/1.0', "POST /m HTTP/1.0\r\n${H}Transfer-Encoding: chunked" .
	    "\r\n\r\n0\r\n\r\n", qr/400/],
	['TE with space before colon', "POST /m HTTP/1.1\r\n$H" .
	    "Transfer-Encoding : chunked\r\n\r\n0\r\n\r\n", qr/400/],
	['TE folded onto a second line', "POST /m HTTP/1.1\r\n$H" .
	    "Transfer-Encoding: identity\r\n chunked\r\n\r\n0\r\n\r\n", qr/400/],

	# --- header syntax ------------------------------------------------------
	['obs-fold', "GET /m HTTP/1.1\r\n${H}X-A: a\r\n b\r\n\r\n", qr/400/],
	['obs-fold with tab', "GET /m HTTP/1.1\r\n${H}X-A: a\r\n\tb\r\n\r\n",
	    qr/400/],
	['space before colon', "GET /m HTTP/1.1\r\nHost : localhost\r\n\r\n",
	    qr/400/],
	['tab before colon', "GET /m HTTP/1.1\r\n${H}X-A\t: 1\r\n\r\n", qr/400/],
	['bare LF line ends', "GET /m HTTP/1.1\nHost: localhost\n\n",
	    qr/400/],
	['bare LF in one header line', "GET /m HTTP/1.1\r\nHost: localhost\n" .
	    "X-A: 1\r\n\r\n", qr/400/],
	['bare CR in a value', "GET /m HTTP/1.1\r\n${H}X-A: a\rb\r\n\r\n",
	    qr/400/],
	['bare CR at line end', "GET /m HTTP/1.1\r\n${H}X-A: a\r\r\n\r\n",
	    qr/400/],
	['NUL in a value', "GET /m HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n", qr/400/],
	['NUL in a name', "GET /m HTTP/1.1\r\n${H}X-\0A: 1\r\n\r\n", qr/400/],
	['control char in a value', "GET /m HTTP/1.1\r\n${H}X-A: a\x01b\r\n\r\n",
	    qr/400/],
	['escape in a value', "GET /m HTTP/1.1\r\n${H}X-A: a\x1b[0mb\r\n\r\n",
	    qr/400/],
	['DEL in a value', "GET /m HTTP/1.1\r\n${H}X-A: a\x7fb\r\n\r\n",
	    qr/400/],
	['DEL in a name', "GET /m HTTP/1.1\r\n${H}X-\x7fA: 1\r\n\r\n", qr/400/],
	['empty name', "GET /m HTTP/1.1\r\n$H: value\r\n\r\n", qr/400/],
	['space in a name', "GET /m HTTP/1.1\r\n${H}X A: 1\r\n\r\n", qr/400/],
	['parenthesis in a name', "GET /m HTTP/1.1\r\n${H}X(A): 1\r\n\r\n",
	    qr/400/],
	['line without colon', "GET /m HTTP/1.1\r\n${H}NoColonHere\r\n\r\n",
	    qr/400/],
	['header line starting with space', "GET /m HTTP/1.1\r\n X-A: 1\r\n" .
	    "$H\r\n", qr/400/],

	# --- Host ---------------------------------------------------------------
	['missing Host in HTTP/1.1', "GET /m HTTP/1.1\r\nX-A: 1\r\n\r\n",
	    qr/400/],
	['double Host', "GET /m HTTP/1.1\r\n${H}Host: other\r\n\r\n", qr/400/],
	['double Host, same value', "GET /m HTTP/1.1\r\n$H$H\r\n", qr/400/],
	['Host with a space', "GET /m HTTP/1.1\r\nHost: a b\r\n\r\n", qr/400/],
	['Host with a slash', "GET /m HTTP/1.1\r\nHost: a/b\r\n\r\n", qr/400/],
	['Host with userinfo', "GET /m HTTP/1.1\r\nHost: u\@a\r\n\r\n",
	    qr/400/],
	['Host with a bad port', "GET /m HTTP/1.1\r\nHost: a:8x\r\n\r\n",
	    qr/400/],

	# --- request line -------------------------------------------------------
	['HTTP/1.2', "GET /m HTTP/1.2\r\n$H\r\n", qr/505/],
	['HTTP/2.0', "GET /m HTTP/2.0\r\n$H\r\n", qr/505/],
	['HTTP/0.9 line', "GET /m\r\n\r\n", qr/400/],
	['lowercase http', "GET /m http/1.1\r\n$H\r\n", qr/400|505/],
	['version HTTP/1.10', "GET /m HTTP/1.10\r\n$H\r\n", qr/400|505/],
	['version HTTP/01.1', "GET /m HTTP/01.1\r\n$H\r\n", qr/400|505/],
	['space after version', "GET /m HTTP/1.1 \r\n$H\r\n", qr/400|505/],
	['double space after method', "GET  /m HTTP/1.1\r\n$H\r\n", qr/400/],
	['double space before version', "GET /m  HTTP/1.1\r\n$H\r\n",
	    qr/400|505/],
	['tab separators', "GET\t/m\tHTTP/1.1\r\n$H\r\n", qr/400|505/],
	['space in target', "GET /m x HTTP/1.1\r\n$H\r\n", qr/400|505/],
	['control char in target', "GET /m\x01x HTTP/1.1\r\n$H\r\n", qr/400/],
	['NUL in target', "GET /m\0x HTTP/1.1\r\n$H\r\n", qr/400/],
	['relative target', "GET m/x HTTP/1.1\r\n$H\r\n", qr/400/],
	['empty method', " /m HTTP/1.1\r\n$H\r\n", qr/400/],
	['method with bad char', "G(T /m HTTP/1.1\r\n$H\r\n", qr/400/],
	['method with NUL', "GE\0T /m HTTP/1.1\r\n$H\r\n", qr/400/],
	['not HTTP at all', "\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" .
	    ("\xaa" x 40) . "\r\n\r\n", qr/400/],

	# --- chunked bodies ---------------------------------------------------
	['chunk size not hex', chunked_req("zz\r\nhello\r\n0\r\n\r\n"),
	    qr/400/, body => 1],
	['chunk size 0x prefix', chunked_req("0x5\r\nhello\r\n0\r\n\r\n"),
	    qr/400/, body => 1],
	['chunk size negative', chunked_req("-5\r\nhello\r\n0\r\n\r\n"),
	    qr/400/, body => 1],
	['chunk size empty', chunked_req("\r\nhello\r\n0\r\n\r\n"),
	    qr/400/, body => 1],
	['chunk size with inner space', chunked_req("5 5\r\nhello\r\n0\r\n\r\n"),
	    qr/400/, body => 1],
	['chunk size overflow', chunked_req("ffffffffffffffffffff\r\nhello" .
	    "\r\n0\r\n\r\n"), qr/400|413/, body => 1],
	['chunk size 2^64', chunked_req("10000000000000000\r\nhello\r\n" .
	    "0\r\n\r\n"), qr/400|413/, body => 1],
	['chunk data without CRLF', chunked_req("5\r\nhelloXX0\r\n\r\n"),
	    qr/400/, body => 1],
	['chunk data too long', chunked_req("3\r\nhello\r\n0\r\n\r\n"),
	    qr/400/, body => 1],
	['chunk-ext with control char', chunked_req("5;a=\x01\r\nhello\r\n" .
	    "0\r\n\r\n"), qr/400/, body => 1],
	['chunk size line with bare LF', chunked_req("5\nhello\r\n0\r\n\r\n"),
	    qr/400/, body => 1],
	['trailer with control char', chunked_req("5\r\nhello\r\n0\r\n" .
	    "X-T: a\x01\r\n\r\n"), qr/400/, body => 1],
	['trailer folded', chunked_req("5\r\nhello\r\n0\r\nX-T: a\r\n b\r\n\r\n"),
	    qr/400/, body => 1],
);

sub chunked_req {
	my ($body) = @_;
	return "POST /m HTTP/1.1\r\n${H}Transfer-Encoding: chunked\r\n\r\n" .
	    $body;
}

# Requests that follow a rejected one in the same write must never reach
# the origin: the proxy closes after a 400.
my @pipelined = (
	['valid request after a malformed one',
	    "GET /m HTTP/1.1\r\n${H}X-A: a\0b\r\n\r\n" .
	    "GET /leak HTTP/1.1\r\n$H\r\n", qr/400/],
	['valid request after CL+TE',
	    "POST /m HTTP/1.1\r\n${H}Content-Length: 5\r\n" .
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n" .
	    "GET /leak HTTP/1.1\r\n$H\r\n", qr/400/],
	['valid request after a bad chunk',
	    chunked_req("zz\r\nhello\r\n0\r\n\r\n") .
	    "GET /leak HTTP/1.1\r\n$H\r\n", qr/400/, body => 1],
);

my $t = Test::Portico->new->write_config(<<'EOF')->run;
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
client_header_timeout = "3s";
client_body_timeout = "3s";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "app"; keepalive = 32;
    servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); } );
sites = ( { hosts = [ "*" ];
    routes = ( { path = "/"; upstream = "app"; } ); } );
EOF
$t->plan(2 * (@cases + @pipelined) + 17);
my $o = $t->origin(0);

# check(): one case on a fresh connection.
sub check {
	my ($name, $bytes, $want, %f) = @_;
	$o->clear;
	my ($raw, $closed) = $t->raw($bytes, timeout => 4);
	my ($r) = parse_responses($raw);
	my $status = $r ? $r->{status} : (length $raw ? 'garbage' : 'none');
	my $ok = $closed && ($status eq 'none' ||
	    ($status =~ /^[45]\d\d$/ && (!$want || $status =~ /^(?:$want)$/)));
	ok($ok, "$name: answered $status, " . ($closed ? 'closed' : 'open'))
	    or diag(explain($raw));
	my @seen = $o->requests;
	if ($f{body}) {
		# the head may have been forwarded; never a complete request
		my @complete = grep { $_->{flags} eq '-' } @seen;
		ok(!@complete && !grep({ ($_->{target} // '') =~ /leak/ } @seen),
		    "$name: no complete request reached the origin")
		    or diag(explain(\@seen));
	} else {
		ok(!@seen, "$name: the origin saw nothing")
		    or diag(explain([map { $_->{head} } @seen]));
	}
}

check(@$_) for @cases, @pipelined;

# --- smuggling attempts that are valid HTTP and must stay unambiguous ------

# A request inside a Content-Length body is body, not a request.
my $inner = "GET /inside HTTP/1.1\r\n$H\r\n";
$o->clear;
my ($raw, $closed) = $t->raw("POST /cl HTTP/1.1\r\n$H" .
    "Content-Length: " . length($inner) . "\r\nConnection: close\r\n\r\n" .
    $inner);
my @r = parse_responses($raw);
is(scalar @r, 1, 'request in a CL body: one response');
is($r[0] && $r[0]{status}, 200, 'request in a CL body: 200');
my @seen = $o->requests;
is(join(' ', map { $_->{target} } @seen), '/cl',
    'request in a CL body: the origin saw only /cl');
is($seen[0] && $seen[0]{body}, $inner, 'request in a CL body: as the body');

# The same inside a chunked body.
$o->clear;
($raw, $closed) = $t->raw("POST /ch HTTP/1.1\r\n$H" .
    "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" .
    sprintf("%x\r\n", length $inner) . "$inner\r\n0\r\n\r\n");
@r = parse_responses($raw);
is($r[0] && $r[0]{status}, 200, 'request in a chunked body: 200');
@seen = $o->requests;
is(join(' ', map { $_->{target} } @seen), '/ch',
    'request in a chunked body: the origin saw only /ch');
is($seen[0] && $seen[0]{body}, $inner,
    'request in a chunked body: as the body');

# Content-Length shorter than what follows: the rest is a new request,
# here a malformed one, answered on its own; the origin gets only "hello".
$o->clear;
($raw, $closed) = $t->raw("POST /short HTTP/1.1\r\n${H}Content-Length: 5" .
    "\r\n\r\nhello world\r\nX-Smuggled: 1\r\n\r\n");
@r = parse_responses($raw);
is($r[0] && $r[0]{status}, 200, 'short CL: the first request answered');
ok(@r < 2 || $r[1]{status} =~ /^4\d\d$/,
    'short CL: the rest is a malformed request') or diag(explain($raw));
ok($closed, 'short CL: connection closed after the malformed rest');
@seen = $o->requests;
is(join(' ', map { $_->{target} } @seen), '/short',
    'short CL: the origin saw one request');
is($seen[0] && $seen[0]{body}, 'hello', 'short CL: with a 5-byte body');
unlike(join('', map { $_->{head} . $_->{raw_body} } @seen), qr/world|Smuggled/,
    'short CL: the bytes after the body never reached the origin');

# Content-Length shorter than what follows, and the rest a valid request:
# two requests, answered in order, each on its own at the origin.
$o->clear;
($raw, $closed) = $t->raw("POST /first HTTP/1.1\r\n${H}Content-Length: 5" .
    "\r\n\r\nhelloGET /second HTTP/1.1\r\n${H}Connection: close\r\n\r\n");
@r = parse_responses($raw);
is(join(' ', map { $_->{status} } @r), '200 200',
    'short CL + request: two responses');
@seen = $o->requests;
is(join(' ', map { $_->{target} } @seen), '/first /second',
    'short CL + request: two separate requests at the origin');
is($seen[0] && $seen[0]{body}, 'hello', 'short CL + request: first body');

# After all that the proxy still serves.
my $ok = $t->get('/still-alive');
is($ok->{status}, 200, 'proxy still serves after the corpus');

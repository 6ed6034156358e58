#!/usr/bin/perl
# 19-forms.t: request-target forms and framing headers as the origin sees
# them: an absolute-form target routes by its own authority, replaces Host
# (RFC 9112 3.2.2) and reaches the origin in origin-form; a Content-Length
# list of equal values reaches the origin as one clean value.
use strict;
use warnings;
use lib 't/lib';
use Test::More;
use Test::Portico qw(req_header parse_responses);

my $t = Test::Portico->new->write_config(<<'EOF')->run->plan(12);
workers = 1;
error_log = "%%TESTDIR%%/error.log";
pid_file = "%%TESTDIR%%/portico.pid";
listeners = ( { address = "127.0.0.1:%%PORT_0%%"; } );
upstreams = ( { name = "good"; servers = ( { address = "127.0.0.1:%%ORIGIN_0%%"; } ); },
              { name = "evil"; servers = ( { address = "127.0.0.1:%%ORIGIN_1%%"; } ); } );
sites = ( { hosts = [ "good.test" ]; routes = ( { path = "/"; upstream = "good"; } ); },
          { hosts = [ "evil.test" ]; routes = ( { path = "/"; upstream = "evil"; } ); } );
EOF
my ($good, $evil) = ($t->origin(0), $t->origin(1));

# absolute-form: the authority of the target wins over Host
my ($raw) = $t->raw("GET http://evil.test/abs?q=1 HTTP/1.1\r\n" .
    "Host: good.test\r\nConnection: close\r\n\r\n");
my @rs = parse_responses($raw);
is($rs[0] && $rs[0]{status}, 200, 'absolute-form: 200');
is($evil->count, 1, 'absolute-form: routed by the target authority');
is($good->count, 0, 'absolute-form: not by the Host header');
my $q = $evil->last_request;
is($q->{target}, '/abs?q=1', 'absolute-form: origin gets origin-form');
is(req_header($q, 'Host'), 'evil.test', 'absolute-form: Host replaced');
is(req_header($q, 'X-Forwarded-Host'), 'evil.test',
    'absolute-form: X-Forwarded-Host is the authority');

# absolute-form without a path: "/"
($raw) = $t->raw("GET http://good.test HTTP/1.1\r\nHost: x\r\n" .
    "Connection: close\r\n\r\n");
@rs = parse_responses($raw);
is($rs[0] && $rs[0]{status}, 200, 'absolute-form without path: 200');
is($good->last_request && $good->last_request->{target}, '/',
    'absolute-form without path: /');

# Content-Length: a list of equal values goes on as one value
($raw) = $t->raw("POST /cl HTTP/1.1\r\nHost: good.test\r\n" .
    "Content-Length: 5, 5\r\nConnection: close\r\n\r\nhello");
@rs = parse_responses($raw);
is($rs[0] && $rs[0]{status}, 200, 'CL list: 200');
$q = $good->last_request;
my @cl = grep { lc $_->[0] eq 'content-length' } @{$q->{headers}};
is(scalar @cl, 1, 'CL list: one Content-Length at the origin');
is($cl[0] && $cl[0][1], '5', 'CL list: the clean value');
is($q->{body}, 'hello', 'CL list: body exact');

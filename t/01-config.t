#!/usr/bin/perl
# 01-config.t: "portico -t -c FILE" on good and bad configuration files.
#
# A good file: exit 0 and "portico: configuration file FILE test is
# successful".  A bad one: exit 1 and each error as "FILE:LINE: message"
# on stderr, every error of the file at once.  Runs ./portico, or
# $TEST_PORTICO_BINARY; keeps its files when TEST_PORTICO_LEAVE is set.
use strict;
use warnings;
use Test::More;
use File::Temp qw(tempdir);
use IPC::Open3 qw(open3);
use Symbol qw(gensym);

my $bin = $ENV{TEST_PORTICO_BINARY} // './portico';
plan skip_all => "$bin not built" unless -x $bin;
plan tests => 92;

my $dir = tempdir('portico-01-config.XXXXXX', TMPDIR => 1,
    CLEANUP => !$ENV{TEST_PORTICO_LEAVE});
diag("files in $dir") if $ENV{TEST_PORTICO_LEAVE};

# write_file(NAME, TEXT): a file in the temporary directory; %%DIR%% in
# TEXT is that directory.  Returns its path.
sub write_file {
	my ($name, $text) = @_;
	$text =~ s/%%DIR%%/$dir/g;
	my $path = "$dir/$name";
	open my $fh, '>', $path or die "$path: $!";
	print $fh $text;
	close $fh or die "$path: $!";
	return $path;
}

# check(FILE): run "portico -t -c FILE"; returns (exit status, stderr).
sub check {
	my ($file) = @_;
	my $err = gensym;
	my $pid = open3(my $in, my $out, $err, $bin, '-t', '-c', $file);
	close $in;
	my $stderr = do { local $/; <$err> } // '';
	my $stdout = do { local $/; <$out> } // '';
	waitpid $pid, 0;
	return ($? >> 8, $stderr . $stdout);
}

sub good {
	my ($name, $file) = @_;
	my ($status, $err) = check($file);
	is($status, 0, "$name: exit 0");
	is($err, "portico: configuration file $file test is successful\n",
	    "$name: test is successful");
}

# bad(NAME, TEXT, WANT...): each WANT is "LINE: message"; they are the
# errors printed, in order, and nothing else looks like one.
sub bad {
	my ($name, $text, @want) = @_;
	my $file = write_file('bad.conf', $text);
	my ($status, $err) = check($file);
	my @got = grep { /^\Q$file\E:\d+: / } split /\n/, $err;
	is($status, 1, "$name: exit 1");
	is_deeply(\@got, [ map { "$file:$_" } @want ], "$name: message")
	    or diag($err);
}

my $listen = qq|listeners = ( { address = "127.0.0.1:8080"; } );\n|;
my $site = qq|sites = ( { hosts = [ "*" ];\n|
    . qq|  routes = ( { path = "/"; return = { status = 200; }; } ); } );\n|;
my $app = qq|upstreams = ( { name = "app";\n|
    . qq|  servers = ( { address = "127.0.0.1:8000"; } ); } );\n|;

# --- good files -----------------------------------------------------------

# A real pair: the config check loads it with OpenSSL.
system("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 "
    . "-nodes -keyout $dir/site.key -out $dir/site.pem -days 2 "
    . "-subj /CN=site.test 2>/dev/null") == 0 or die "openssl req failed";
system("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 "
    . "-out $dir/other.key 2>/dev/null") == 0 or die "openssl genpkey failed";
good('the example of DESIGN.md', write_file('design.conf', <<'EOF'));
workers = 2;                        # or "auto": one per CPU
user = "root";
pid_file = "%%DIR%%/portico.pid";
error_log = "%%DIR%%/error.log";   # or "stderr"
access_log = { path = "%%DIR%%/access.log"; format = "combined"; };
cache = { path = "%%DIR%%/cache.db"; size = "1G"; };

listeners = (
  { address = "0.0.0.0:80"; },
  { address = "[::]:443";
    tls = { certificates = ( { certificate = "%%DIR%%/site.pem";
                               key = "%%DIR%%/site.key"; } ); }; }
);

upstreams = (
  { name = "app";
    balance = "round_robin";          # least_conn, random_two, hash, ...
    keepalive = 32;                   # idle pooled connections per worker
    servers = ( { address = "10.0.0.1:8080"; weight = 2; },
                { address = "10.0.0.2:8080"; },
                { address = "10.0.0.3:8080"; backup = true; } );
    health = { path = "/healthz"; interval = "2s"; timeout = "1s";
               rise = 2; fall = 3; }; }
);

sites = (
  { hosts = [ "example.com", "*.example.com" ];     # "*" = any host
    routes = ( { path = "/static/"; upstream = "app"; cache = true; },
               { path = "/"; upstream = "app"; } ); },
  { hosts = [ "*" ];
    routes = ( { path = "/"; return = { status = 404; body = "no such site\n"; }; } ); }
);
EOF

good('the shipped etc/portico.conf', 'etc/portico.conf');

good('the smallest file', write_file('small.conf', $listen . $site));

# What ../shared/bench/peers.sh writes, with its empty line.
good('the benchmark file', write_file('bench.conf', <<'EOF'));
workers = 1;
pid_file = "%%DIR%%/portico.pid";
error_log = "%%DIR%%/error.log";

listeners = ( { address = "127.0.0.1:8080";  } );
upstreams = ( { name = "origin"; keepalive = 128;
                servers = ( { address = "127.0.0.1:8000"; } ); } );
sites = ( { hosts = [ "*" ];
            routes = ( { path = "/"; upstream = "origin";  } ); } );
EOF

good('every unit and every balance', write_file('units.conf', <<'EOF'));
workers = "auto";
error_log = "stderr";
shutdown_timeout = 0;
client_header_timeout = "500ms";
client_body_timeout = "1m30s";
keepalive_timeout = 0;
tunnel_timeout = "1d";
max_request_line = 512;
max_header_size = "1m";
max_body_size = "0";
buffer_size = "4K";
proxy_headers = { via = false; };
listeners = ( { address = "127.0.0.1:8080"; backlog = 1; },
              { address = "[::1]:8080"; } );
upstreams = (
  { name = "a"; balance = "least_conn";
    servers = ( { address = "unix:/tmp/a.sock"; max_conns = 4; } ); },
  { name = "b"; balance = "random_two";
    servers = ( { address = "[::1]:81"; weight = 256; } ); },
  { name = "c.d-e_f"; balance = "hash"; hash_key = "header:X-User";
    servers = ( { address = "10.0.0.1:82"; } ); } );
sites = (
  { hosts = "Example.ORG";
    routes = ( { path = "/a"; upstream = "a"; },
               { path = "/b"; upstream = "b"; },
               { path = "/"; upstream = "c.d-e_f"; } ); },
  { hosts = [ "*", "[::1]", "127.0.0.1" ];
    routes = ( { path = "/moved"; return = { status = 308;
                   location = "https://example.org/"; }; },
               { path = "/"; return = { status = 503; body = "later\n";
                   content_type = "text/plain; charset=utf-8"; }; } ); }
);
EOF

write_file('sites.inc', $site);
good('@include beside the file',
    write_file('include.conf', $listen . qq|\@include "sites.inc"\n|));

# --- bad files: one error each, with its line -----------------------------

bad('unknown setting, with a suggestion',
    "workers = 1;\nkeepalive_tiemout = \"10s\";\n" . $listen . $site,
    "2: unknown setting 'keepalive_tiemout' (did you mean "
    . "'keepalive_timeout'?)");

bad('unknown setting in a server',
    $listen . qq|upstreams = ( { name = "a";\n|
    . qq|  servers = ( { address = "1.2.3.4:80";\n wieght = 2; } ); } );\n|
    . $site,
    "4: unknown setting 'wieght' (did you mean 'weight'?)");

bad('workers of the wrong type', qq|workers = "many";\n| . $listen . $site,
    qq|1: 'workers' must be a number or "auto"|);

bad('workers out of range', "\n\nworkers = 1000;\n" . $listen . $site,
    "3: 'workers' must be between 1 and 256");

bad('upstream keepalive out of range',
    $listen . qq|upstreams = ( { name = "a";\n  keepalive = 5000;\n|
    . qq|  servers = ( { address = "1.2.3.4:80"; } ); } );\n| . $site,
    "3: 'keepalive' must be between 0 and 4096");

bad('bad duration', qq|send_timeout = "10 s";\n| . $listen . $site,
    qq|1: 'send_timeout': bad duration "10 s": unknown unit |
    . "(use ms, s, m, h or d)");

bad('negative duration', "keepalive_timeout = -1;\n" . $listen . $site,
    qq|1: 'keepalive_timeout': bad duration "-1": negative|);

bad('bad size', qq|max_body_size = "1.5G";\n| . $listen . $site,
    qq|1: 'max_body_size': bad size "1.5G": unknown unit |
    . "(use K, M, G or T)");

bad('size out of range', qq|max_header_size = "512";\n| . $listen . $site,
    "1: 'max_header_size' must be between 1K and 1M");

bad('boolean of the wrong type',
    qq|proxy_headers = {\n  via = "yes"; };\n| . $listen . $site,
    "2: 'via' must be true or false");

bad('listener without a port',
    qq|listeners = ( { address = "127.0.0.1"; } );\n| . $site,
    qq|1: bad address "127.0.0.1": missing port|);

bad('listener on a host name',
    qq|listeners = ( { address = "localhost:80"; } );\n| . $site,
    qq|1: bad address "localhost:80": not an IPv4 or IPv6 address |
    . "(host names are not resolved)");

bad('listener on a unix socket',
    qq|listeners = ( { address = "unix:/tmp/portico.sock"; } );\n| . $site,
    qq|1: bad address "unix:/tmp/portico.sock": unix sockets are not |
    . "allowed here");

bad('duplicate listener',
    qq|listeners = (\n  { address = "[::]:80"; },\n|
    . qq|  { address = "[0::0]:80"; } );\n| . $site,
    qq|3: duplicate listener address "[0::0]:80" (first at line 2)|);

bad('no listeners', $site, "1: no listeners: at least one is required");

bad('no sites', $listen, "1: no sites: at least one is required");

bad('unreadable certificate',
    qq|listeners = ( { address = "127.0.0.1:443";\n|
    . qq|  tls = { certificates = ( { certificate = "/x.pem";\n|
    . qq|    key = "%%DIR%%/site.key"; } ); }; } );\n| . $site,
    "2: cannot read certificate '/x.pem': No such file or directory");
bad('a key that is not the certificate\'s',
    qq|listeners = ( { address = "127.0.0.1:8443";\n|
    . qq|  tls = { certificates = ( { certificate = "%%DIR%%/site.pem";\n|
    . qq|    key = "%%DIR%%/other.key"; } ); }; } );\n| . $site,
    "2: key '$dir/other.key' does not match certificate "
    . "'$dir/site.pem': key values mismatch");
bad('a certificate file that holds none',
    qq|listeners = ( { address = "127.0.0.1:8443";\n|
    . qq|  tls = { certificates = ( { certificate = "%%DIR%%/site.key";\n|
    . qq|    key = "%%DIR%%/site.key"; } ); }; } );\n| . $site,
    "2: certificate '$dir/site.key': no certificate: no start line");

bad('duplicate upstream name',
    $listen . qq|upstreams = (\n|
    . qq|  { name = "app"; servers = ( { address = "1.2.3.4:80"; } ); },\n|
    . qq|  { name = "app"; servers = ( { address = "1.2.3.5:80"; } ); } );\n|
    . $site,
    "4: duplicate upstream name 'app' (first at line 3)");

bad('upstream with no servers',
    $listen . qq|upstreams = ( { name = "app"; } );\n| . $site,
    "2: upstream 'app': no servers");

bad('server on a host name',
    $listen . qq|upstreams = ( { name = "a";\n|
    . qq|  servers = ( { address = "app.internal:8080"; } ); } );\n| . $site,
    qq|3: bad address "app.internal:8080": not an IPv4 or IPv6 address |
    . "(host names are not resolved)");

bad('unknown balance',
    $listen . qq|upstreams = ( { name = "a"; balance = "least";\n|
    . qq|  servers = ( { address = "1.2.3.4:80"; } ); } );\n| . $site,
    "2: 'balance' must be one of round_robin, least_conn, random_two, hash");

bad('route to an unknown upstream',
    $listen . $app . qq|sites = ( { hosts = [ "*" ];\n|
    . qq|  routes = ( { path = "/x"; upstream = "ap"; } ); } );\n|,
    "5: route '/x': no upstream named 'ap' (did you mean 'app'?)");

bad('route with upstream and return',
    $listen . $app . qq|sites = ( { hosts = [ "*" ]; routes = (\n|
    . qq|  { path = "/"; upstream = "app"; return = { status = 200; }; }|
    . qq| ); } );\n|,
    "5: route '/': has both 'upstream' and 'return'");

bad('route with neither upstream nor return',
    $listen . qq|sites = ( { hosts = [ "*" ]; routes = (\n|
    . qq|  { path = "/"; cache = false; } ); } );\n|,
    "3: route '/': needs an 'upstream' or a 'return'");

bad('route path without a slash',
    $listen . $app . qq|sites = ( { hosts = [ "*" ]; routes = (\n|
    . qq|  { path = "static/"; upstream = "app"; } ); } );\n|,
    "5: route 'static/': 'path' must start with '/'");

bad('return status out of range',
    $listen . qq|sites = ( { hosts = [ "*" ]; routes = (\n|
    . qq|  { path = "/"; return = {\n status = 99; }; } ); } );\n|,
    "4: 'status' must be between 100 and 599");

bad('location without a 3xx status',
    $listen . qq|sites = ( { hosts = [ "*" ]; routes = (\n|
    . qq|  { path = "/"; return = { status = 200; location = "/y"; }; }|
    . qq| ); } );\n|,
    "3: return: 'location' needs a 3xx status, not 200");

bad('site without hosts',
    $listen . qq|sites = ( {\n  routes = (\n|
    . qq|  { path = "/"; return = { status = 200; }; } ); } );\n|,
    "2: site: no hosts");

bad('site without routes',
    $listen . qq|sites = (\n  { hosts = [ "a.example" ]; } );\n|,
    "3: site: no routes");

bad('invalid host pattern',
    $listen . qq|sites = ( { hosts = [ "www.*.example" ]; routes = (\n|
    . qq|  { path = "/"; return = { status = 200; }; } ); } );\n|,
    qq|2: invalid host pattern "www.*.example": use "*", "*.suffix" or |
    . "a plain name");

bad('unknown user', qq|user = "no-such-user-portico";\n| . $listen . $site,
    "1: unknown user 'no-such-user-portico'");

bad('unknown group', qq|group = "no-such-group-portico";\n| . $listen . $site,
    "1: unknown group 'no-such-group-portico'");

bad('access_log without path',
    qq|access_log = { flush = "2s"; };\n| . $listen . $site,
    "1: access_log: missing 'path'");

bad('listeners as a group',
    qq|listeners = { address = "127.0.0.1:80"; };\n| . $site,
    "1: 'listeners' must be a list of groups: ( { ... }, ... )");

bad('syntax error', qq|workers = 2;\nlisteners = ( { address = "x" } ;\n|,
    "2: syntax error");

# An error in an included file names that file.
my $inc = write_file('bad.inc', "\n" . $site . "frobnicate = 1;\n");
{
	my $file = write_file('inc.conf', $listen . qq|\@include "bad.inc"\n|);
	my ($status, $err) = check($file);
	is($status, 1, 'error in an included file: exit 1');
	like($err, qr/^\Q$inc\E:4: unknown setting 'frobnicate'$/m,
	    'error in an included file: names the included file')
	    or diag($err);
}

# Every error of the file, at once.
bad('seven errors at once', <<'EOF',
workers = 0;
max_headers = 0;
listeners = ( { address = "1.2.3.4"; },
  { address = "1.2.3.4:99999"; } );
upstreams = ( { name = "a"; } );
sites = ( { hosts = [ "*" ]; routes = (
  { path = "/"; upstream = "nope"; } ); } );
bogus = 1;
EOF
    "1: 'workers' must be between 1 and 256",
    "2: 'max_headers' must be between 1 and 1000",
    qq|3: bad address "1.2.3.4": missing port|,
    qq|4: bad address "1.2.3.4:99999": port out of range (1-65535)|,
    "5: upstream 'a': no servers",
    "8: unknown setting 'bogus'",
    "7: route '/': no upstream named 'nope'");

{
	my ($status, $err) = check("$dir/no-such.conf");
	is($status, 1, 'a missing file: exit 1');
	like($err, qr/\Q$dir\E\/no-such\.conf: .*No such file or directory/,
	    'a missing file: says so');
}

